//! Building provider requests; reading provider replies and streams.
//!
//! Run: `cargo bench -p byokit-core --bench providers`. Figures are in `docs/benchmarks.md`.

// criterion_group! defines an undocumented function.
#![allow(missing_docs)]

use std::hint::black_box;

use byokit_core::adapters::{build_chat_request, parse_chat_response, StreamAccumulator};
use byokit_core::{ApiKey, Catalog, ChatRequest, CostOptions, Message, Provider, RequestOptions};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const OPENAI_REPLY: &[u8] = include_bytes!("../../tests/fixtures/providers/openai/chat.json");
const ANTHROPIC_REPLY: &[u8] =
    include_bytes!("../../tests/fixtures/providers/anthropic/chat_cache.json");

/// An OpenAI-style stream of `deltas` text chunks, then the usage chunk and `[DONE]`.
fn openai_stream(deltas: usize) -> Vec<u8> {
    let mut s = String::new();
    for i in 0..deltas {
        s.push_str(&format!(
            "data: {{\"id\":\"chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-4o-2024-08-06\",\"system_fingerprint\":\"fp_eb9dce56a8\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\" token{i} café\"}},\"logprobs\":null,\"finish_reason\":null}}],\"usage\":null}}\n\n"
        ));
    }
    s.push_str("data: {\"id\":\"chatcmpl-x\",\"object\":\"chat.completion.chunk\",\"created\":1741569952,\"model\":\"gpt-4o-2024-08-06\",\"choices\":[],\"usage\":{\"prompt_tokens\":19,\"completion_tokens\":4000,\"total_tokens\":4019}}\n\ndata: [DONE]\n\n");
    s.into_bytes()
}

/// An Anthropic stream of `deltas` text deltas.
fn anthropic_stream(deltas: usize) -> Vec<u8> {
    let mut s = String::from("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-20250514\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n");
    for i in 0..deltas {
        s.push_str(&format!(
            "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\" token{i} café\"}}}}\n\n"
        ));
    }
    s.push_str("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":4000}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n");
    s.into_bytes()
}

fn benches(c: &mut Criterion) {
    let catalog = Catalog::embedded();
    let options = CostOptions::default();
    let request = ChatRequest {
        model: "gpt-4o-mini".into(),
        system: Some("You are a concise assistant for a travel app.".into()),
        messages: vec![
            Message::user("What is the capital of Australia?"),
            Message::assistant("Canberra."),
            Message::user("And how far is it from Sydney by road?"),
        ],
        max_output_tokens: Some(256),
        temperature: Some(0.2),
        stop: Vec::new(),
        stream: false,
    };
    let key =
        ApiKey::new("sk-proj-Bn1Ab2Cd3Ef4Gh5Ij6Kl7Mn8Op9Qr0St1Uv2Wx3Yz4Ab5Cd6Ef7Gh8Ij9Kl0Mn1Op2");
    for provider in [Provider::OpenAi, Provider::Anthropic, Provider::Gemini] {
        c.bench_function(&format!("request/{provider} build"), |b| {
            b.iter(|| {
                black_box(
                    build_chat_request(
                        provider,
                        black_box(&request),
                        &key,
                        &RequestOptions::default(),
                    )
                    .expect("builds"),
                )
            })
        });
    }
    c.bench_function(
        &format!("reply/openai parse {} B + cost", OPENAI_REPLY.len()),
        |b| {
            b.iter(|| {
                let reply =
                    parse_chat_response(Provider::OpenAi, black_box(OPENAI_REPLY)).expect("parses");
                let cost = catalog
                    .cost(Provider::OpenAi, &reply.model, &reply.usage, &options)
                    .expect("priced");
                black_box(cost.cost_usd);
            })
        },
    );
    c.bench_function(
        &format!("reply/anthropic parse {} B + cost", ANTHROPIC_REPLY.len()),
        |b| {
            b.iter(|| {
                let reply = parse_chat_response(Provider::Anthropic, black_box(ANTHROPIC_REPLY))
                    .expect("parses");
                let cost = catalog
                    .cost(Provider::Anthropic, &reply.model, &reply.usage, &options)
                    .expect("priced");
                black_box(cost.cost_usd);
            })
        },
    );

    let mut group = c.benchmark_group("stream");
    for (name, provider, bytes) in [
        ("openai", Provider::OpenAi, openai_stream(4000)),
        ("anthropic", Provider::Anthropic, anthropic_stream(4000)),
    ] {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(
            format!("{name} {} KiB in 1 KiB chunks", bytes.len() / 1024),
            |b| {
                b.iter(|| {
                    let mut acc = StreamAccumulator::new(provider);
                    for chunk in bytes.chunks(1024) {
                        black_box(acc.push(chunk).expect("reads"));
                    }
                    black_box(acc.finish().expect("ends"))
                })
            },
        );
    }
    group.finish();
}

criterion_group!(providers, benches);
criterion_main!(providers);
