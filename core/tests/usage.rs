//! Usage summaries and what-if pricing.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use byokit_core::usage::{DayGroup, Summarizer};
use byokit_core::{
    summarize, what_if, Budget, Catalog, CostOptions, CostStatus, Decimal, Payer, Provider, Totals,
    Usage, UsageEvent, Window, Workload,
};
use proptest::prelude::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const END: OffsetDateTime = datetime!(2026-11-28 12:00 UTC);

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn event(
    at: OffsetDateTime,
    provider: Provider,
    model: &str,
    feature: &str,
    payer: Payer,
    input: u64,
    output: u64,
) -> UsageEvent {
    let usage = Usage {
        input_tokens: input,
        output_tokens: output,
        ..Usage::default()
    };
    let cost = Catalog::embedded()
        .cost(provider, model, &usage, &CostOptions::default())
        .unwrap();
    UsageEvent {
        at,
        provider,
        model: cost.model.to_owned(),
        feature: feature.into(),
        payer,
        usage,
        cost_usd: cost.cost_usd,
        cost_status: cost.status,
    }
}

#[test]
fn windows_are_1_to_365_days() {
    for days in [1, 7, 30, 90, 365] {
        assert!(Window::new(END, days).is_ok());
    }
    for days in [0, -7, 366, 100_000] {
        let err = Window::new(END, days).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("a usage window is 1 to 365 days, not {days}")
        );
    }
}

#[test]
fn a_summary_with_its_breakdowns() {
    let events = vec![
        event(
            END - Duration::hours(1),
            Provider::OpenAi,
            "gpt-4o",
            "portfolio_chat",
            Payer::User,
            1_000_000,
            0,
        ),
        event(
            END - Duration::days(1),
            Provider::OpenAi,
            "gpt-4o-mini",
            "resume_generation",
            Payer::User,
            1000,
            1000,
        ),
        event(
            END - Duration::days(2),
            Provider::Anthropic,
            "claude-sonnet-4",
            "portfolio_chat",
            Payer::System,
            1000,
            1000,
        ),
        // Exactly at the window's start: outside. At its end: inside.
        event(
            END - Duration::days(7),
            Provider::Groq,
            "llama-3.3-70b-versatile",
            "",
            Payer::User,
            10,
            10,
        ),
        event(
            END,
            Provider::Groq,
            "llama-3.3-70b-versatile",
            "",
            Payer::User,
            10,
            10,
        ),
    ];
    let s = summarize(
        &events,
        Window::new(END, 7).unwrap(),
        Some(1_000_000),
        Some(&Budget::new(d("5"))),
    );
    assert_eq!(s.totals.requests, 4);
    assert_eq!(
        s.totals.cost_usd,
        d("2.5") + d("0.00075") + d("0.018") + d("0.0000138")
    );
    assert_eq!(s.by_provider[&Provider::OpenAi].requests, 2);
    assert_eq!(s.by_feature["portfolio_chat"].requests, 2);
    assert_eq!(s.by_feature[""].requests, 1);
    assert_eq!(
        s.by_model["anthropic/claude-sonnet-4-20250514"].cost_usd,
        d("0.018")
    );
    assert_eq!(s.by_payer["system"].total_tokens, 2000);
    // Eight UTC days touched by a 7-day window ending at noon, zero-filled.
    assert_eq!(s.by_day.len(), 8);
    assert_eq!(
        s.by_day.first().unwrap().date,
        (END - Duration::days(7)).date()
    );
    assert_eq!(s.by_day.iter().filter(|d| d.totals.requests > 0).count(), 3);
    // Each day's providers are those called that day in the window, and no others.
    let mut called: std::collections::BTreeMap<time::Date, Vec<Provider>> = Default::default();
    for e in events.iter().filter(|e| s.window.contains(e.at)) {
        called.entry(e.at.date()).or_default().push(e.provider);
    }
    for d in &s.by_day {
        let mut expected = called.get(&d.date).cloned().unwrap_or_default();
        expected.sort();
        expected.dedup();
        assert_eq!(
            d.by_provider.keys().copied().collect::<Vec<_>>(),
            expected,
            "{}",
            d.date
        );
    }
    assert_eq!(called.len(), 3, "three days with calls");
    let q = s.system_quota.unwrap();
    assert_eq!((q.used_tokens, q.left_tokens), (2000, 998_000));
    let b = s.budget.unwrap();
    assert_eq!(
        b.spent_usd,
        d("2.5") + d("0.00075") + d("0.0000138") * Decimal::TWO
    );
    assert_eq!(b.month.to_string(), "2026-11");
}

#[test]
fn the_quota_counts_the_month_of_the_window_end_only() {
    let events = vec![
        event(
            datetime!(2026-10-31 23:59:59 UTC),
            Provider::Anthropic,
            "claude-sonnet-4",
            "",
            Payer::System,
            500,
            0,
        ),
        event(
            datetime!(2026-11-01 00:00:00 UTC),
            Provider::Anthropic,
            "claude-sonnet-4",
            "",
            Payer::System,
            700,
            0,
        ),
    ];
    let s = summarize(
        &events,
        Window::new(datetime!(2026-11-02 00:00 UTC), 30).unwrap(),
        Some(1_000_000),
        None,
    );
    assert_eq!(s.totals.requests, 2, "both in the 30-day window");
    assert_eq!(
        s.system_quota.unwrap().used_tokens,
        700,
        "only November's in November's quota"
    );
}

#[test]
fn unpriced_calls_are_counted_not_zeroed() {
    let mut e = event(END, Provider::OpenAi, "gpt-4o", "", Payer::User, 10, 10);
    e.cost_usd = None;
    e.cost_status = CostStatus::Unpriced;
    let s = summarize(&[e], Window::new(END, 1).unwrap(), None, None);
    assert_eq!(
        (
            s.totals.requests,
            s.totals.unpriced_requests,
            s.totals.cost_usd
        ),
        (1, 1, Decimal::ZERO)
    );
}

fn sum<'a>(parts: impl Iterator<Item = &'a Totals>) -> Totals {
    parts.fold(Totals::default(), |mut acc, t| {
        acc.requests += t.requests;
        acc.input_tokens += t.input_tokens;
        acc.output_tokens += t.output_tokens;
        acc.total_tokens += t.total_tokens;
        acc.cost_usd += t.cost_usd;
        acc.unpriced_requests += t.unpriced_requests;
        acc.estimated_requests += t.estimated_requests;
        acc
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every breakdown adds up to the totals, to the last digit.
    #[test]
    fn parts_add_up_to_the_totals(
        raw in prop::collection::vec((0i64..100 * 24 * 60, 0usize..4, 0usize..3, 0u64..50_000, 0u64..5_000, any::<bool>()), 0..200),
        days in 1i64..=90,
    ) {
        let models = [
            (Provider::OpenAi, "gpt-4o"),
            (Provider::Anthropic, "claude-3-haiku-20240307"),
            (Provider::Gemini, "gemini-2.5-flash"),
            (Provider::Mistral, "mistral-small-latest"),
        ];
        let features = ["portfolio_chat", "cover_letter", ""];
        let events: Vec<UsageEvent> = raw
            .iter()
            .map(|&(minutes, m, f, i, o, system)| {
                let (p, model) = models[m];
                let payer = if system { Payer::System } else { Payer::User };
                event(END - Duration::minutes(minutes), p, model, features[f], payer, i, o)
            })
            .collect();
        let s = summarize(&events, Window::new(END, days).unwrap(), None, None);
        prop_assert_eq!(sum(s.by_provider.values()), s.totals);
        prop_assert_eq!(sum(s.by_feature.values()), s.totals);
        prop_assert_eq!(sum(s.by_model.values()), s.totals);
        prop_assert_eq!(sum(s.by_payer.values()), s.totals);
        prop_assert_eq!(sum(s.by_day.iter().map(|d| &d.totals)), s.totals);
        // Each day split by provider: the day's parts add up to the day, a provider's days to
        // the provider.
        for d in &s.by_day {
            prop_assert_eq!(sum(d.by_provider.values()), d.totals);
        }
        for (p, t) in &s.by_provider {
            prop_assert_eq!(&sum(s.by_day.iter().filter_map(|d| d.by_provider.get(p))), t);
        }
        prop_assert!(s.by_day.iter().all(|d| d.by_provider.values().all(|t| t.requests > 0)));
        let inside: Vec<&UsageEvent> = events.iter().filter(|e| s.window.contains(e.at)).collect();
        prop_assert_eq!(s.totals.requests, inside.len() as u64);
        prop_assert_eq!(s.totals.cost_usd, inside.iter().filter_map(|e| e.cost_usd).sum::<Decimal>());
    }
}

/// Events from a property test's raw tuples (minutes before `end`, model index, system-paid,
/// input and output tokens), across three providers' usage semantics.
fn generated_events(raw: &[(i64, usize, bool, u64, u64)], end: OffsetDateTime) -> Vec<UsageEvent> {
    let models = [
        (Provider::OpenAi, "gpt-4o"),
        (Provider::Groq, "openai/gpt-oss-120b"),
        (Provider::Anthropic, "claude-3-haiku-20240307"),
    ];
    raw.iter()
        .map(|&(minutes, m, system, i, o)| {
            let (p, model) = models[m];
            let payer = if system { Payer::System } else { Payer::User };
            let feature = if system { "a" } else { "b" };
            event(
                end - Duration::minutes(minutes),
                p,
                model,
                feature,
                payer,
                i,
                o,
            )
        })
        .collect()
}

/// Adds `e` to its day's group, as a store's daily totals do.
fn add_to_day(groups: &mut Vec<DayGroup>, e: &UsageEvent) {
    let mut one = Totals::default();
    one.add_event(e);
    let day = e.at.date();
    let same = |g: &&mut DayGroup| {
        g.day == day
            && g.provider == e.provider
            && g.payer == e.payer
            && g.feature == e.feature
            && g.model == e.model
    };
    match groups.iter_mut().find(same) {
        Some(g) => g.totals.add(&one),
        None => groups.push(DayGroup {
            day,
            provider: e.provider,
            payer: e.payer,
            feature: e.feature.clone(),
            model: e.model.clone(),
            totals: one,
        }),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A store's daily totals plus the edge days' events give the same summary as every event.
    #[test]
    fn daily_totals_and_edge_events_summarize_like_all_events(
        raw in prop::collection::vec((-2i64 * 24 * 60..120 * 24 * 60, 0usize..3, any::<bool>(), 0u64..9_000, 0u64..900), 0..150),
        days in 1i64..=60,
        end_minute in 0i64..1440,
    ) {
        let end = datetime!(2026-11-20 00:00 UTC) + Duration::minutes(end_minute);
        let events = generated_events(&raw, end);
        let window = Window::new(end, days).unwrap();
        let (start_day, end_day) = (window.start().date(), end.date());
        // What a store keeps: daily totals for every other day, raw events for the edge days.
        let mut groups: Vec<DayGroup> = Vec::new();
        let mut edge: Vec<&UsageEvent> = Vec::new();
        for e in &events {
            let day = e.at.date();
            if day == start_day || day == end_day {
                edge.push(e);
                continue;
            }
            add_to_day(&mut groups, e);
        }
        let mut s = Summarizer::new(window);
        for g in &groups {
            s.add_day(g);
        }
        for e in edge {
            s.add_event(e);
        }
        let budget = Budget::new(d("1"));
        prop_assert_eq!(s.finish(Some(1_000_000), Some(&budget)), summarize(&events, window, Some(1_000_000), Some(&budget)));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whole edge days minus the first day's events before the window (and the last day whole,
    /// when nothing follows the window's end) give the same summary as every event.
    #[test]
    fn whole_edge_days_minus_early_events_summarize_like_all_events(
        raw in prop::collection::vec((0i64..120 * 24 * 60, 0usize..3, any::<bool>(), 0u64..9_000, 0u64..900), 0..150),
        days in 1i64..=60,
        end_minute in 0i64..1440,
        read_after_start in any::<bool>(),
    ) {
        let end = datetime!(2026-11-20 00:00 UTC) + Duration::minutes(end_minute);
        // Nothing after the end: the last day may come whole. The first day comes whole minus
        // its events before the start, or (`read_after_start`) as its month share whole and its
        // events after the start one by one.
        let events = generated_events(&raw, end);
        let window = Window::new(end, days).unwrap();
        let mut groups: Vec<DayGroup> = Vec::new();
        for e in &events {
            add_to_day(&mut groups, e);
        }
        let mut s = Summarizer::new(window);
        let first = s.first_day();
        prop_assume!(first < end.date());
        for g in &groups {
            if g.day == first && !read_after_start {
                s.add_first_day(g);
            } else if g.day == end.date() {
                s.add_last_day(g);
            } else {
                s.add_day(g);
            }
        }
        for e in events.iter().filter(|e| e.at.date() == first) {
            if read_after_start {
                s.add_window_event(e);
            } else {
                s.remove_event(e);
            }
        }
        let budget = Budget::new(d("1"));
        let got = s.finish(Some(1_000_000), Some(&budget));
        let want = summarize(&events, window, Some(1_000_000), Some(&budget));
        prop_assert_eq!(&got, &want);
        // To the last digit as written, not only in value.
        prop_assert_eq!(serde_json::to_string(&got).unwrap(), serde_json::to_string(&want).unwrap());
    }
}

#[test]
fn what_if_prices_the_spec_cost_example() {
    // "Portfolio Chat (100 messages/month)": about 1,500 input and 400 output tokens each.
    let message = Workload {
        prompt_tokens: 1_500,
        cached_prompt_tokens: 0,
        output_tokens: 400,
    };
    let rows = what_if(Catalog::embedded(), &[(message, 100)], 30);
    let find = |p: Provider, m: &str| {
        rows.iter()
            .find(|r| r.provider == p && r.model == m)
            .unwrap()
    };
    // Groq's free tier covers 100 messages a month, on every Groq model.
    let groq: Vec<_> = rows
        .iter()
        .filter(|r| r.provider == Provider::Groq)
        .collect();
    assert!(!groq.is_empty());
    assert!(groq
        .iter()
        .all(|r| r.free_tier && r.cost_usd == Some(Decimal::ZERO)));
    // gpt-4o-mini: 100 × (1500 × $0.15 + 400 × $0.60) / 1M = $0.0465.
    assert_eq!(
        find(Provider::OpenAi, "gpt-4o-mini").cost_usd,
        Some(d("0.0465"))
    );
    // Cheapest first.
    let costs: Vec<Decimal> = rows.iter().filter_map(|r| r.cost_usd).collect();
    assert!(costs.windows(2).all(|w| w[0] <= w[1]));
    // 300,000 messages in a month is 10,000 a day: past Groq's free 7,000.
    let rows = what_if(Catalog::embedded(), &[(message, 300_000)], 30);
    let groq = rows.iter().find(|r| r.provider == Provider::Groq).unwrap();
    assert!(!groq.free_tier);
    assert!(groq.cost_usd.unwrap() > Decimal::ZERO);
}

#[test]
fn a_history_reprices_under_each_provider_semantics() {
    // An Anthropic call with cache reads: 100 fresh + 900 cached prompt tokens.
    let usage = Usage {
        input_tokens: 100,
        cached_input_tokens: 900,
        output_tokens: 50,
        ..Usage::default()
    };
    let e = UsageEvent {
        at: END,
        provider: Provider::Anthropic,
        model: "claude-sonnet-4-20250514".into(),
        feature: String::new(),
        payer: Payer::User,
        usage,
        cost_usd: None,
        cost_status: CostStatus::Unpriced,
    };
    let w = Workload::of(&e);
    assert_eq!(
        w,
        Workload {
            prompt_tokens: 1000,
            cached_prompt_tokens: 900,
            output_tokens: 50
        }
    );
    // OpenAI would report prompt_tokens 1000 with 900 cached.
    let o = w.usage_for(Provider::OpenAi);
    assert_eq!((o.input_tokens, o.cached_input_tokens), (1000, 900));
    let a = w.usage_for(Provider::Anthropic);
    assert_eq!((a.input_tokens, a.cached_input_tokens), (100, 900));
}

#[test]
fn a_users_own_key_spending_is_what_a_budget_counts() {
    let own = event(END, Provider::OpenAi, "gpt-4o", "", Payer::User, 1000, 0);
    assert_eq!(own.user_spend(), own.cost_usd);
    assert!(own.user_spend().is_some());
    let shared = event(END, Provider::OpenAi, "gpt-4o", "", Payer::System, 1000, 0);
    assert_eq!(
        shared.user_spend(),
        None,
        "the shared key's calls are the app's"
    );
    let unpriced = UsageEvent {
        cost_status: CostStatus::Unpriced,
        ..own.clone()
    };
    assert_eq!(unpriced.user_spend(), None, "as Totals counts it");
    // The summary's budget spends what the events add, as their totals do.
    let events = [own.clone(), shared, unpriced];
    let s = summarize(
        &events,
        Window::new(END, 1).unwrap(),
        None,
        Some(&Budget::new(d("5"))),
    );
    assert_eq!(s.budget.unwrap().spent_usd, s.by_payer["user"].cost_usd);
    assert_eq!(s.by_payer["user"].cost_usd, own.cost_usd.unwrap());
}
