//! Cost computation and catalog lookup speed.
//!
//! Run: `cargo bench -p byokit-core --bench cost`. Figures are in `docs/benchmarks.md`.

// criterion_group! defines an undocumented function.
#![allow(missing_docs)]

use std::hint::black_box;

use byokit_core::{Catalog, CatalogFile, CostOptions, Provider, Usage, DEFAULT_CATALOG_TOML};
use criterion::{criterion_group, criterion_main, Criterion};

fn benches(c: &mut Criterion) {
    let catalog = Catalog::embedded();
    let usage = Usage {
        input_tokens: 2000,
        cached_input_tokens: 1536,
        output_tokens: 300,
        reasoning_tokens: 0,
        ..Usage::default()
    };
    let options = CostOptions::default();
    let model = catalog
        .find(Provider::OpenAi, "gpt-4o")
        .expect("gpt-4o is in the catalog");

    c.bench_function("cost/compute (gpt-4o, cached input)", |b| {
        b.iter(|| {
            model.cost(
                black_box(catalog.version()),
                black_box(&usage),
                black_box(&options),
            )
        })
    });
    c.bench_function("cost/lookup alias + compute", |b| {
        b.iter(|| {
            catalog.cost(
                black_box(Provider::OpenAi),
                black_box("gpt-4o-2024-08-06"),
                black_box(&usage),
                black_box(&options),
            )
        })
    });
    c.bench_function("catalog/find by id", |b| {
        b.iter(|| {
            catalog.find(
                black_box(Provider::Anthropic),
                black_box("claude-sonnet-4-20250514"),
            )
        })
    });
    c.bench_function("catalog/find by alias", |b| {
        b.iter(|| catalog.find(black_box(Provider::Anthropic), black_box("claude-sonnet-4")))
    });
    c.bench_function("catalog/parse default catalog", |b| {
        b.iter(|| {
            CatalogFile::parse_byokit(black_box(DEFAULT_CATALOG_TOML), "default.toml")
                .and_then(Catalog::from_file)
        })
    });
}

criterion_group!(cost, benches);
criterion_main!(cost);
