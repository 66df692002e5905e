//! The `byokit` binary as a user runs it: outputs, JSON shapes, exit codes and every error path.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use assert_cmd::Command;
use serde_json::Value;

fn byokit() -> Command {
    let mut cmd = Command::cargo_bin("byokit").unwrap();
    cmd.env_remove("BYOKIT_CATALOG");
    cmd
}

fn json(args: &[&str]) -> Value {
    let out = byokit().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Runs a command that must fail; returns its stderr, checked to be one line.
fn fails(args: &[&str]) -> String {
    let out = byokit().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "args {args:?}");
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "one line: {err:?}");
    err.trim_end().to_owned()
}

fn temp_file(name: &str, text: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("byokit-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn gpt_4o_a_million_each_way_costs_12_50() {
    let v = json(&[
        "cost", "openai", "gpt-4o", "--input", "1000000", "--output", "1000000", "--json",
    ]);
    assert_eq!(v["cost_usd"], "12.5");
    assert_eq!(v["provider"], "openai");
    assert_eq!(v["model"], "gpt-4o");
    assert_eq!(v["status"], "exact");
    assert_eq!(v["breakdown"]["input"]["cost_usd"], "2.5");
    assert_eq!(v["breakdown"]["output"]["cost_usd"], "10");
    assert!(v["catalog_version"].as_str().unwrap().len() >= 4);
}

#[test]
fn claude_sonnet_4_alias_resolves_and_costs_0_018() {
    let out = byokit()
        .args([
            "cost",
            "anthropic",
            "claude-sonnet-4",
            "--input",
            "1000",
            "--output",
            "1000",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("anthropic/claude-sonnet-4-20250514 (claude-sonnet-4): $0.018\n"),
        "{text}"
    );
    let v = json(&[
        "cost",
        "anthropic",
        "claude-sonnet-4",
        "--input",
        "1000",
        "--output",
        "1000",
        "--json",
    ]);
    assert_eq!(v["model"], "claude-sonnet-4-20250514");
    assert_eq!(v["cost_usd"], "0.018");
}

#[test]
fn openai_cached_input_is_part_of_input() {
    let v = json(&[
        "cost",
        "openai",
        "gpt-4o",
        "--input",
        "2000",
        "--cached-input",
        "1536",
        "--output",
        "300",
        "--json",
    ]);
    assert_eq!(v["cost_usd"], "0.00608");
    assert_eq!(v["breakdown"]["input"]["tokens"], 464);
    assert_eq!(v["breakdown"]["cached_input"]["tokens"], 1536);
}

#[test]
fn human_output_is_a_breakdown_table() {
    let out = byokit()
        .args([
            "cost",
            "openai",
            "gpt-4o",
            "--input",
            "2000",
            "--cached-input",
            "1536",
            "--output",
            "300",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "openai/gpt-4o: $0.00608");
    assert!(
        lines[2]
            .split_whitespace()
            .eq(["input", "464", "$2.50", "$0.00116"]),
        "{text}"
    );
    assert!(
        lines[3]
            .split_whitespace()
            .eq(["cached", "input", "1,536", "$1.25", "$0.00192"]),
        "{text}"
    );
    assert!(
        lines[4]
            .split_whitespace()
            .eq(["output", "300", "$10.00", "$0.003"]),
        "{text}"
    );
    assert!(lines[5].contains("catalog "), "{text}");
}

#[test]
fn batch_and_history_flags() {
    let v = json(&[
        "cost", "openai", "gpt-4o", "--input", "1000000", "--output", "1000000", "--batch",
        "--json",
    ]);
    assert_eq!(v["cost_usd"], "6.25");
    assert_eq!(v["batch"], true);
    // gpt-4o launched at $5/$15 per million.
    let v = json(&[
        "cost",
        "openai",
        "gpt-4o",
        "--input",
        "1000000",
        "--output",
        "1000000",
        "--at",
        "2024-06-01",
        "--json",
    ]);
    assert_eq!(v["cost_usd"], "20");
}

#[test]
fn unknown_provider_fails_with_one_line_and_suggestions() {
    let err = fails(&["cost", "nosuch", "x", "--input", "1", "--output", "1"]);
    assert_eq!(
        err,
        "byokit: unknown provider `nosuch`; known providers: openai, anthropic, groq, gemini, mistral"
    );
    let err = fails(&[
        "cost",
        "antropic",
        "claude-sonnet-4",
        "--input",
        "1",
        "--output",
        "1",
    ]);
    assert!(err.contains("did you mean `anthropic`?"), "{err}");
    let err = fails(&["models", "--provider", "gemeni"]);
    assert!(err.contains("did you mean `gemini`?"), "{err}");
}

#[test]
fn unknown_model_fails_with_one_line_and_suggestions() {
    let err = fails(&[
        "cost",
        "openai",
        "gpt-4o-mni",
        "--input",
        "1",
        "--output",
        "1",
    ]);
    assert!(
        err.starts_with(
            "byokit: unknown model `gpt-4o-mni` for provider openai (did you mean `gpt-4o-mini`"
        ),
        "{err}"
    );
    let err = fails(&[
        "cost",
        "anthropic",
        "sonnet-4",
        "--input",
        "1",
        "--output",
        "1",
    ]);
    assert!(err.contains("claude-sonnet-4"), "{err}");
}

#[test]
fn contradictory_usage_fails() {
    let err = fails(&[
        "cost",
        "openai",
        "gpt-4o",
        "--input",
        "10",
        "--cached-input",
        "20",
        "--output",
        "1",
    ]);
    assert_eq!(
        err,
        "byokit: invalid usage for openai: cached input tokens (20) exceed input tokens (10); openai counts cached tokens as part of input"
    );
    let err = fails(&[
        "cost",
        "openai",
        "gpt-4o",
        "--input",
        "10",
        "--cache-write",
        "5",
        "--output",
        "1",
    ]);
    assert!(
        err.contains("does not bill cache writes separately"),
        "{err}"
    );
    let err = fails(&[
        "cost",
        "groq",
        "llama-3.3-70b-versatile",
        "--input",
        "1",
        "--output",
        "1",
        "--batch",
    ]);
    assert_eq!(
        err,
        "byokit: groq/llama-3.3-70b-versatile has no Batch API prices"
    );
}

#[test]
fn bad_arguments_are_usage_errors() {
    for args in [
        &["cost", "openai", "gpt-4o", "--output", "1"][..],
        &["cost", "openai", "gpt-4o", "--input", "-5", "--output", "1"],
        &[
            "cost", "openai", "gpt-4o", "--input", "many", "--output", "1",
        ],
        &[
            "cost",
            "openai",
            "gpt-4o",
            "--input",
            "1",
            "--output",
            "1",
            "--at",
            "yesterday",
        ],
        &["cost", "openai"],
        &["frobnicate"],
    ] {
        let out = byokit().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "args {args:?}");
        assert!(!out.stderr.is_empty());
    }
}

#[test]
fn models_lists_the_catalog() {
    let v = json(&["models", "--json"]);
    let models = v["models"].as_array().unwrap();
    assert!(models.len() >= 40, "{}", models.len());
    for p in ["openai", "anthropic", "groq", "gemini", "mistral"] {
        assert!(models.iter().any(|m| m["provider"] == p), "{p}");
    }
    let gpt = models.iter().find(|m| m["id"] == "gpt-4o").unwrap();
    assert!(gpt["aliases"]
        .as_array()
        .unwrap()
        .iter()
        .any(|a| a == "gpt-4o-2024-08-06"));
    let latest = gpt["prices"].as_array().unwrap().last().unwrap();
    assert_eq!(
        latest["input"].as_str().unwrap().parse::<f64>().unwrap(),
        2.5
    );
    assert!(latest["output"].is_string(), "prices are decimal strings");

    let v = json(&["models", "--provider", "groq", "--json"]);
    assert!(v["models"]
        .as_array()
        .unwrap()
        .iter()
        .all(|m| m["provider"] == "groq"));

    let out = byokit()
        .args(["models", "--provider", "anthropic"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("anthropic/claude-sonnet-4-20250514"),
        "{text}"
    );
    assert!(!text.contains("openai/"), "{text}");
}

#[test]
fn a_user_catalog_overrides_a_price_and_adds_a_model() {
    let path = temp_file(
        "acme.toml",
        r#"
version = "acme.1"
[[models]]
provider = "openai"
id = "gpt-4o"
[[models.prices]]
effective = "2099-01-01"
input = "1"
output = "2"

[[models]]
provider = "mistral"
id = "acme-finetune"
[[models.prices]]
effective = "2025-01-01"
input = "0.10"
output = "0.30"
"#,
    );
    let path = path.to_str().unwrap();
    let v = json(&[
        "--catalog",
        path,
        "cost",
        "openai",
        "gpt-4o",
        "--input",
        "1000000",
        "--output",
        "1000000",
        "--json",
    ]);
    assert_eq!(v["cost_usd"], "3");
    assert!(v["catalog_version"].as_str().unwrap().ends_with("+acme.1"));
    let v = json(&[
        "cost",
        "mistral",
        "acme-finetune",
        "--input",
        "1000000",
        "--output",
        "0",
        "--json",
        "--catalog",
        path,
    ]);
    assert_eq!(v["cost_usd"], "0.1");
    // The same file through the environment.
    let out = byokit()
        .env("BYOKIT_CATALOG", path)
        .args([
            "cost",
            "mistral",
            "acme-finetune",
            "--input",
            "1",
            "--output",
            "1",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
}

#[test]
fn a_bad_catalog_file_fails_naming_file_entry_and_field() {
    let path = temp_file(
        "broken.toml",
        "[[models]]\nprovider = \"openai\"\nid = \"gpt-x\"\n[[models.prices]]\neffective = \"2025-01-01\"\ninput = \"cheap\"\noutput = \"1\"\n",
    );
    let err = fails(&["--catalog", path.to_str().unwrap(), "models"]);
    assert_eq!(
        err,
        format!(
            "byokit: {}: entry `openai/gpt-x`, field `prices[0].input`: invalid price \"cheap\": expected a decimal such as \"2.50\"",
            path.display()
        )
    );
    let err = fails(&["--catalog", "/nonexistent/prices.toml", "models"]);
    assert!(
        err.starts_with("byokit: cannot read catalog /nonexistent/prices.toml: "),
        "{err}"
    );
}

#[test]
fn a_litellm_file_imports() {
    let path = temp_file(
        "litellm.json",
        r#"{
  "sample_spec": {"litellm_provider": "one of https://docs.litellm.ai/docs/providers", "mode": "one of: chat, embedding"},
  "my-model": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06, "max_input_tokens": 8192}
}"#,
    );
    let v = json(&[
        "--catalog",
        path.to_str().unwrap(),
        "cost",
        "openai",
        "my-model",
        "--input",
        "1000000",
        "--output",
        "1000000",
        "--json",
    ]);
    assert_eq!(v["cost_usd"], "3");
}
