//! Routing decisions and usage summaries.
//!
//! Run: `cargo bench -p byokit-core --bench routing`. Figures are in `docs/benchmarks.md`.

// criterion_group! defines an undocumented function.
#![allow(missing_docs)]

use std::hint::black_box;

use byokit_core::routing::{KeyLimits, SystemKeyPolicy, UserKey};
use byokit_core::{
    route, summarize, Budget, CostStatus, Decimal, KeyStatus, Ledger, Payer, Provider,
    RouteRequest, RoutingConfig, Usage, UsageEvent, Window,
};
use criterion::{criterion_group, criterion_main, Criterion};
use time::macros::datetime;
use time::Duration;

fn benches(c: &mut Criterion) {
    let now = datetime!(2026-11-28 12:00 UTC);
    let request = RouteRequest {
        feature: Some("portfolio_chat".into()),
        model: None,
        estimated_tokens: 2_000,
    };

    let system = RoutingConfig {
        system: Some(SystemKeyPolicy::default()),
        ..RoutingConfig::default()
    };
    let ledger = Ledger::new(512_000u64);
    c.bench_function("route/system key under the cap", |b| {
        b.iter(|| {
            route(
                black_box(&system),
                black_box(&ledger),
                black_box(&request),
                now,
            )
        })
    });

    // Three Groq keys on the free tier, one of them busy with 60 calls in the last minute.
    let mut keys: Vec<UserKey> = (0..3)
        .map(|i| UserKey {
            id: format!("groq-{i}"),
            provider: Provider::Groq,
            saved_at: now - Duration::days(i),
            last_used_at: Some(now - Duration::seconds(i)),
            status: KeyStatus::Ok,
            limits: KeyLimits::groq_free_tier(),
        })
        .collect();
    for i in 0..60 {
        keys[0].limits.record(
            now - Duration::seconds(50) + Duration::milliseconds(i * 100),
            500,
        );
    }
    let user = RoutingConfig {
        keys,
        fallback_chain: vec![Provider::OpenAi],
        ..RoutingConfig::default()
    };
    c.bench_function("route/3 rotating keys, one rate limited", |b| {
        b.iter(|| {
            route(
                black_box(&user),
                black_box(&ledger),
                black_box(&request),
                now,
            )
        })
    });

    // One million events over 90 days: 5 providers, 6 features, 10 models, both payers.
    let models = [
        (Provider::OpenAi, "gpt-4o-2024-08-06"),
        (Provider::OpenAi, "gpt-4o-mini-2024-07-18"),
        (Provider::Anthropic, "claude-sonnet-4-20250514"),
        (Provider::Anthropic, "claude-3-haiku-20240307"),
        (Provider::Groq, "llama-3.3-70b-versatile"),
        (Provider::Groq, "openai/gpt-oss-120b"),
        (Provider::Gemini, "gemini-2.5-flash"),
        (Provider::Gemini, "gemini-2.5-pro"),
        (Provider::Mistral, "mistral-small-2603"),
        (Provider::Mistral, "mistral-large-2512"),
    ];
    let features = [
        "portfolio_chat",
        "resume_generation",
        "cover_letter",
        "ai_assistant",
        "job_matching",
        "",
    ];
    let events: Vec<UsageEvent> = (0..1_000_000u64)
        .map(|i| {
            let (provider, model) = models[(i % 10) as usize];
            UsageEvent {
                at: now - Duration::seconds((i * 7_776) as i64 / 1_000), // spread over 90 days
                provider,
                model: model.to_owned(),
                feature: features[(i % 6) as usize].to_owned(),
                payer: if i % 4 == 0 {
                    Payer::System
                } else {
                    Payer::User
                },
                usage: Usage {
                    input_tokens: 1_000 + i % 500,
                    output_tokens: 200 + i % 300,
                    ..Usage::default()
                },
                cost_usd: Some(Decimal::new(1_234 + (i % 1000) as i64, 7)),
                cost_status: CostStatus::Exact,
            }
        })
        .collect();
    let window = Window::new(now, 90).expect("90 days is a valid window");
    let budget = Budget::new(Decimal::from(100));
    let mut group = c.benchmark_group("summary");
    group.sample_size(10);
    group.bench_function("1,000,000 events over 90 days", |b| {
        b.iter(|| summarize(black_box(&events), window, Some(1_000_000), Some(&budget)))
    });
    group.finish();
}

criterion_group!(routing, benches);
criterion_main!(routing);
