//! Replays the fuzz targets' inputs as ordinary tests: every committed crash input
//! (`core/fuzz/regressions/<target>/`), a seed built from each shared provider fixture and each
//! line of the JSON-RPC cases, so a fixed crash stays fixed without a fuzzer installed.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

#[path = "../fuzz/src/lib.rs"]
mod targets;

use std::path::Path;

/// A fuzz target: what it does with one input.
type Target = fn(&[u8]);

const TARGETS: [(&str, Target); 6] = [
    ("sse", targets::sse),
    ("stream", targets::stream),
    ("response", targets::response),
    ("error", targets::error),
    ("catalog", targets::catalog),
    ("jsonrpc", targets::jsonrpc),
];

#[test]
fn committed_crash_inputs_no_longer_crash() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut replayed = 0;
    for (name, target) in TARGETS {
        let Ok(entries) = std::fs::read_dir(root.join(name)) else {
            continue;
        };
        for entry in entries {
            let path = entry.unwrap().path();
            target(&std::fs::read(&path).unwrap());
            replayed += 1;
        }
    }
    println!("replayed {replayed} crash inputs");
}

#[test]
fn fixtures_as_seeds_run_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/providers");
    for (i, provider) in ["openai", "anthropic", "groq", "gemini", "mistral"]
        .into_iter()
        .enumerate()
    {
        for entry in std::fs::read_dir(dir.join(provider)).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            let mut seed = vec![i as u8];
            seed.extend_from_slice(&bytes);
            for (_, target) in TARGETS {
                target(&seed);
            }
        }
    }
    let catalog =
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("catalog/default.toml")).unwrap();
    targets::catalog(&[&[0u8][..], &catalog].concat());
    let jsonrpc =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/jsonrpc/cases.json");
    let cases: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(jsonrpc).unwrap()).unwrap();
    for case in cases["lines"].as_array().unwrap() {
        targets::jsonrpc(case["line"].as_str().unwrap().as_bytes());
    }
}
