//! The commands that talk to byokd: config, usage, route, budget, alerts, daemon.

use std::io::Read;
use std::path::PathBuf;

use byokit_core::protocol::{HttpTokenInfo, HttpTokenResult};
use byokit_core::{Decimal, Payer, Provider, Usage};
use clap::{Args, Subcommand};
use serde_json::{json, Value};

use super::table::{tokens, usd, Table};
use super::{write_json, CliError};
use crate::client::Client;

/// Where byokd is, and who we act for.
pub(super) struct Target {
    pub socket: PathBuf,
    /// The data dir to start byokd on when none answers; `None` when the socket was named
    /// without one (it may be another data dir's daemon).
    pub start_in: Option<PathBuf>,
    pub user: String,
}

impl Target {
    /// Connects, starting byokd when none is running and its data dir is known.
    fn connect(&self) -> Result<Client, CliError> {
        match &self.start_in {
            Some(data_dir) => Ok(Client::connect_or_start(&self.socket, data_dir)?),
            None => Client::connect(&self.socket).map_err(|e| {
                CliError(format!(
                    "{e}; no byokd answers on {}, and without --data-dir (or $BYOKIT_DATA_DIR) \
                     byokit does not know which data dir to start one on",
                    self.socket.display()
                ))
            }),
        }
    }

    fn call(&self, method: &str, mut params: Value) -> Result<Value, CliError> {
        params["user"] = json!(self.user);
        Ok(self.connect()?.call(method, params)?)
    }
}

/// `--json` alone.
#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// `byokit config ...`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Show the configurations, keys masked.
    Get(JsonFlag),
    /// Save a key, read from standard input (never from the command line); it becomes active.
    Save {
        /// The provider: openai, anthropic, groq, gemini or mistral.
        #[arg(long)]
        provider: String,
        /// A base URL (a proxy, or a mock provider).
        #[arg(long)]
        base_url: Option<String>,
        /// The model to use with it.
        #[arg(long)]
        model: Option<String>,
        /// Keep the provider's other keys: calls rotate among them (without it, the new key
        /// replaces them).
        #[arg(long)]
        add: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Delete a provider's configuration (the active one by default). Usage history stays.
    Delete {
        /// The provider.
        #[arg(long)]
        provider: Option<String>,
        /// Only this key (its id is in `config get --json`).
        #[arg(long)]
        key_id: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Test a configuration with a cheap real request to the provider.
    Test {
        /// The provider (the active configuration's by default).
        #[arg(long)]
        provider: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn provider(name: &Option<String>) -> Result<Option<Provider>, CliError> {
    Ok(name.as_deref().map(str::parse).transpose()?)
}

pub(super) fn config(
    t: &Target,
    command: ConfigCommand,
    out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    match command {
        ConfigCommand::Get(f) => {
            let v = t.call("config.get", json!({}))?;
            if f.json {
                return write_json(out, &v);
            }
            let configs = v["configs"].as_array().cloned().unwrap_or_default();
            if configs.is_empty() {
                writeln!(
                    out,
                    "no API key configured for {}: the system key is used",
                    t.user
                )?;
            }
            for c in configs {
                writeln!(
                    out,
                    "{}{}  {}  saved {}{}{}",
                    if c["is_active"] == true { "* " } else { "  " },
                    c["provider"].as_str().unwrap_or_default(),
                    c["api_key"].as_str().unwrap_or_default(),
                    c["saved_at"].as_str().unwrap_or_default(),
                    c["model"]
                        .as_str()
                        .map(|m| format!("  model {m}"))
                        .unwrap_or_default(),
                    c["base_url"]
                        .as_str()
                        .map(|u| format!("  {u}"))
                        .unwrap_or_default(),
                )?;
            }
            Ok(())
        }
        ConfigCommand::Save {
            provider: p,
            base_url,
            model,
            add,
            json: as_json,
        } => {
            let p: Provider = p.parse()?;
            let mut key = String::new();
            std::io::stdin().read_to_string(&mut key)?;
            let key = key.trim_end_matches(['\n', '\r']);
            let v = t.call(
                "config.save",
                json!({"provider": p, "api_key": key, "base_url": base_url, "model": model, "add": add}),
            )?;
            if as_json {
                return write_json(out, &v);
            }
            writeln!(
                out,
                "saved {} key {} as the active configuration",
                p,
                v["api_key"].as_str().unwrap_or_default()
            )?;
            Ok(())
        }
        ConfigCommand::Delete {
            provider: p,
            key_id,
            json: as_json,
        } => {
            let v = t.call(
                "config.delete",
                json!({"provider": provider(&p)?, "key_id": key_id}),
            )?;
            if as_json {
                return write_json(out, &v);
            }
            writeln!(
                out,
                "deleted {} configuration(s); usage history is kept",
                v["deleted"]
            )?;
            Ok(())
        }
        ConfigCommand::Test {
            provider: p,
            json: as_json,
        } => {
            let v = t.call("config.test", json!({"provider": provider(&p)?}))?;
            if as_json {
                return write_json(out, &v);
            }
            let outcome = v["outcome"].as_str().unwrap_or_default();
            match outcome {
                "valid" => writeln!(
                    out,
                    "{}: the key works ({} models reachable)",
                    v["provider"].as_str().unwrap_or_default(),
                    v["models"].as_array().map_or(0, Vec::len)
                )?,
                _ => {
                    return Err(CliError(format!(
                        "{}: {}: {}",
                        v["provider"].as_str().unwrap_or_default(),
                        outcome.replace('_', " "),
                        v["message"].as_str().unwrap_or_default()
                    )))
                }
            }
            Ok(())
        }
    }
}

/// `byokit usage [--days N] [--json]`, or `byokit usage record ...`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct UsageArgs {
    /// The window, 1 to 365 days.
    #[arg(long, default_value_t = 30)]
    pub days: i64,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Record usage instead.
    #[command(subcommand)]
    pub record: Option<UsageCommand>,
}

/// `byokit usage record` and `byokit usage export`.
#[derive(Debug, Subcommand)]
pub enum UsageCommand {
    /// Every recorded call of the last N days, oldest first, as JSON Lines or CSV.
    Export {
        /// The window, 1 to 365 days.
        #[arg(long, default_value_t = 30)]
        days: i64,
        /// `jsonl` or `csv`.
        #[arg(long, default_value = "jsonl")]
        format: String,
    },
    /// Record one call's usage (token counts as the provider reported them).
    Record {
        /// The provider.
        #[arg(long)]
        provider: String,
        /// The model.
        #[arg(long)]
        model: String,
        /// The feature.
        #[arg(long)]
        feature: Option<String>,
        /// Input tokens as reported.
        #[arg(long)]
        input: u64,
        /// Output tokens as reported.
        #[arg(long)]
        output: u64,
        /// Cached input tokens.
        #[arg(long, default_value_t = 0)]
        cached_input: u64,
        /// Cache-write tokens.
        #[arg(long, default_value_t = 0)]
        cache_write: u64,
        /// Reasoning tokens.
        #[arg(long, default_value_t = 0)]
        reasoning: u64,
        /// The call went through the system key.
        #[arg(long)]
        system: bool,
        /// Makes a retried record count once.
        #[arg(long)]
        idempotency_key: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub(super) fn usage(
    t: &Target,
    args: UsageArgs,
    out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    if let Some(UsageCommand::Export { days, format }) = &args.record {
        return export(t, *days, format, out);
    }
    if let Some(UsageCommand::Record {
        provider: p,
        model,
        feature,
        input,
        output,
        cached_input,
        cache_write,
        reasoning,
        system,
        idempotency_key,
        json: as_json,
    }) = args.record
    {
        let p: Provider = p.parse()?;
        let usage = Usage {
            input_tokens: input,
            output_tokens: output,
            cached_input_tokens: cached_input,
            cache_write_tokens: cache_write,
            reasoning_tokens: reasoning,
            estimated: false,
        };
        let payer = if system { Payer::System } else { Payer::User };
        let v = t.call(
            "usage.record",
            json!({"provider": p, "model": model, "feature": feature, "usage": usage, "payer": payer, "idempotency_key": idempotency_key}),
        )?;
        if as_json {
            return write_json(out, &v);
        }
        let cost = v["cost_usd"]
            .as_str()
            .map_or("unpriced".to_owned(), |c| format!("${c}"));
        writeln!(
            out,
            "recorded #{}: {cost}{}",
            v["id"],
            if v["duplicate"] == true {
                " (already recorded)"
            } else {
                ""
            }
        )?;
        return Ok(());
    }
    let v = t.call("usage.summary", json!({"days": args.days}))?;
    if args.json {
        return write_json(out, &v);
    }
    write_summary(&v, args.days, out)
}

fn export(
    t: &Target,
    days: i64,
    format: &str,
    out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    if format != "jsonl" && format != "csv" {
        return Err(CliError(format!(
            "unknown export format `{format}`; use jsonl or csv"
        )));
    }
    let v = t.call("usage.export", json!({"days": days}))?;
    let events = v.as_array().cloned().unwrap_or_default();
    if format == "jsonl" {
        for e in events {
            writeln!(out, "{e}")?;
        }
        return Ok(());
    }
    writeln!(out, "at,provider,model,feature,payer,input_tokens,output_tokens,cached_input_tokens,cache_write_tokens,reasoning_tokens,cost_usd,cost_status")?;
    for e in events {
        let u = &e["usage"];
        let field = |v: &Value| {
            let s = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            let s = if v.is_null() { String::new() } else { s };
            if s.contains([',', '"', '\n']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s
            }
        };
        let row = [
            &e["at"],
            &e["provider"],
            &e["model"],
            &e["feature"],
            &e["payer"],
            &u["input_tokens"],
            &u["output_tokens"],
            &u["cached_input_tokens"],
            &u["cache_write_tokens"],
            &u["reasoning_tokens"],
            &e["cost_usd"],
            &e["cost_status"],
        ]
        .map(field)
        .join(",");
        writeln!(out, "{row}")?;
    }
    Ok(())
}

/// `byokit compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The window of your usage to re-price, 1 to 365 days.
    #[arg(long, default_value_t = 30)]
    pub days: i64,
    /// Show this many models (cheapest first).
    #[arg(long, default_value_t = 15)]
    pub top: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub(super) fn compare(
    t: &Target,
    a: CompareArgs,
    out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    let v = t.call("usage.compare", json!({"days": a.days}))?;
    if a.json {
        return write_json(out, &v);
    }
    writeln!(
        out,
        "Your last {} days of usage, re-priced on each model (cheapest first):",
        a.days
    )?;
    let mut table = Table::new(["model", "cost", ""]);
    for row in v.as_array().into_iter().flatten().take(a.top) {
        table.row([
            format!(
                "{}/{}",
                row["provider"].as_str().unwrap_or_default(),
                row["model"].as_str().unwrap_or_default()
            ),
            money(&row["cost_usd"]),
            if row["free_tier"] == true {
                "free tier".into()
            } else {
                String::new()
            },
        ]);
    }
    table.write(out, "  ")?;
    Ok(())
}

/// `byokit http ...`
#[derive(Debug, Subcommand)]
pub enum HttpCommand {
    /// The user's bearer token for the HTTP endpoint (created on first use, the same until
    /// revoked); `list` and `revoke` manage the user's tokens.
    Token(TokenArgs),
}

/// `byokit http token [--name NAME] [list | revoke NAME]`
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TokenArgs {
    /// The token's name (one per app or device).
    #[arg(long, default_value = "default")]
    pub name: String,
    /// List or revoke tokens instead of showing one.
    #[command(subcommand)]
    pub action: Option<TokenAction>,
}

/// `byokit http token list|revoke`
#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// The user's tokens: names and creation dates (never the tokens).
    List(JsonFlag),
    /// Revoke a token: it stops working at once.
    Revoke {
        /// The token's name.
        name: String,
    },
}

pub(super) fn http(
    t: &Target,
    c: HttpCommand,
    out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    let HttpCommand::Token(args) = c;
    match args.action {
        None => {
            let r: HttpTokenResult =
                serde_json::from_value(t.call("http.token", json!({"name": args.name}))?)?;
            writeln!(out, "{}", r.token)?;
        }
        Some(TokenAction::List(f)) => {
            let v = t.call("http.token.list", json!({}))?;
            if f.json {
                return write_json(out, &v);
            }
            let tokens: Vec<HttpTokenInfo> = serde_json::from_value(v)?;
            if tokens.is_empty() {
                writeln!(out, "no tokens; `byokit http token` makes one")?;
            }
            for token in tokens {
                writeln!(out, "{}  created {}", token.name, token.created_at.date())?;
            }
        }
        Some(TokenAction::Revoke { name }) => {
            t.call("http.token.revoke", json!({"name": name}))?;
            writeln!(out, "revoked the token {name:?}")?;
        }
    }
    Ok(())
}

/// `byokit vault ...`
#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// Re-encrypt every stored key under a new master key (crash-safe).
    Rotate,
}

pub(super) fn vault(
    t: &Target,
    c: VaultCommand,
    out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    match c {
        VaultCommand::Rotate => {
            let v = t.connect()?.call("vault.rotate", json!({}))?;
            writeln!(
                out,
                "master key rotated; {} stored key(s) re-encrypted",
                v["resealed"]
            )?;
            Ok(())
        }
    }
}

fn money(v: &Value) -> String {
    v.as_str()
        .and_then(|s| s.parse::<Decimal>().ok())
        .map_or("?".into(), usd)
}

fn count(v: &Value) -> String {
    tokens(v.as_u64().unwrap_or(0))
}

fn write_summary(v: &Value, days: i64, out: &mut dyn std::io::Write) -> Result<(), CliError> {
    let t = &v["totals"];
    writeln!(
        out,
        "Last {days} days: {} requests, {} tokens ({} in, {} out), {}",
        count(&t["requests"]),
        count(&t["total_tokens"]),
        count(&t["input_tokens"]),
        count(&t["output_tokens"]),
        money(&t["cost_usd"])
    )?;
    if t["unpriced_requests"].as_u64().unwrap_or(0) > 0 {
        writeln!(
            out,
            "({} requests could not be priced and are not in the cost)",
            count(&t["unpriced_requests"])
        )?;
    }
    for (title, key) in [
        ("provider", "by_provider"),
        ("feature", "by_feature"),
        ("model", "by_model"),
    ] {
        let Some(map) = v[key].as_object().filter(|m| !m.is_empty()) else {
            continue;
        };
        writeln!(out)?;
        let mut table = Table::new([title, "requests", "tokens", "cost"]);
        for (name, t) in map {
            let name = if name.is_empty() { "(none)" } else { name };
            table.row([
                name.to_owned(),
                count(&t["requests"]),
                count(&t["total_tokens"]),
                money(&t["cost_usd"]),
            ]);
        }
        table.write(out, "  ")?;
    }
    // A bar per day, scaled to the busiest day's cost (or tokens when nothing is priced).
    if let Some(days) = v["by_day"].as_array() {
        let cost = |d: &Value| {
            d["cost_usd"]
                .as_str()
                .and_then(|s| s.parse::<Decimal>().ok())
                .unwrap_or_default()
        };
        let max = days.iter().map(cost).max().unwrap_or_default();
        if !max.is_zero() {
            writeln!(out, "\n  cost per day")?;
            for d in days {
                let width = (cost(d) * Decimal::from(40) / max)
                    .round()
                    .try_into()
                    .unwrap_or(0usize);
                writeln!(
                    out,
                    "  {}  {:<40}  {}",
                    d["date"].as_str().unwrap_or_default(),
                    "█".repeat(width),
                    money(&d["cost_usd"])
                )?;
            }
        }
    }
    if let Some(q) = v["system_quota"].as_object() {
        writeln!(
            out,
            "\nSystem key: {} of {} tokens used this month, {} left",
            count(&q["used_tokens"]),
            count(&q["cap_tokens"]),
            count(&q["left_tokens"])
        )?;
    }
    if let Some(b) = v["budget"].as_object() {
        writeln!(
            out,
            "Budget: {} of {} spent this month ({}%)",
            money(&b["spent_usd"]),
            money(&b["limit_usd"]),
            b["percent_used"].as_str().unwrap_or("?")
        )?;
    }
    Ok(())
}

/// `byokit route`.
#[derive(Debug, Args)]
pub struct RouteArgs {
    /// The feature making the call.
    #[arg(long)]
    pub feature: Option<String>,
    /// A model the caller insists on.
    #[arg(long)]
    pub model: Option<String>,
    /// The call's estimated tokens.
    #[arg(long, default_value_t = 0)]
    pub tokens: u64,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub(super) fn route(
    t: &Target,
    a: RouteArgs,
    out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    let v = t.call(
        "route",
        json!({"feature": a.feature, "model": a.model, "estimated_tokens": a.tokens}),
    )?;
    if a.json {
        return write_json(out, &v);
    }
    writeln!(
        out,
        "{}/{} paid by {}",
        v["provider"].as_str().unwrap_or_default(),
        v["model"].as_str().unwrap_or_default(),
        v["payer"].as_str().unwrap_or_default()
    )?;
    for line in v["explanation"].as_array().into_iter().flatten() {
        writeln!(out, "  {}", line.as_str().unwrap_or_default())?;
    }
    Ok(())
}

/// `byokit chat`.
#[derive(Debug, Args)]
pub struct ChatArgs {
    /// The message.
    pub message: String,
    /// A system prompt.
    #[arg(long)]
    pub system: Option<String>,
    /// A model; else routing's choice.
    #[arg(long)]
    pub model: Option<String>,
    /// The feature to record the call under.
    #[arg(long)]
    pub feature: Option<String>,
    /// The most output tokens.
    #[arg(long)]
    pub max_tokens: Option<u32>,
    /// Print the reply as it is generated.
    #[arg(long)]
    pub stream: bool,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub(super) fn chat(t: &Target, a: ChatArgs, out: &mut dyn std::io::Write) -> Result<(), CliError> {
    let mut params = json!({"messages": [{"role": "user", "content": a.message}], "system": a.system, "model": a.model,
               "feature": a.feature, "max_output_tokens": a.max_tokens, "stream": a.stream && !a.json});
    params["user"] = json!(t.user);
    let mut streamed = false;
    let v = t
        .connect()?
        .call_with_notifications("chat", params, |note| {
            if let Some(text) = note["params"]["text"].as_str() {
                let _ = write!(out, "{text}");
                let _ = out.flush();
                streamed = true;
            }
        })?;
    if a.json {
        return write_json(out, &v);
    }
    if streamed {
        writeln!(out)?;
    } else {
        writeln!(out, "{}", v["text"].as_str().unwrap_or_default())?;
    }
    let cost = v["cost_usd"]
        .as_str()
        .map_or("unpriced".to_owned(), |c| format!("${c}"));
    writeln!(
        out,
        "\n({}/{}, paid by {}, {} in / {} out tokens, {cost})",
        v["provider"].as_str().unwrap_or_default(),
        v["model"].as_str().unwrap_or_default(),
        v["payer"].as_str().unwrap_or_default(),
        v["usage"]["input_tokens"],
        v["usage"]["output_tokens"]
    )?;
    Ok(())
}

/// `byokit routing ...`
#[derive(Debug, Subcommand)]
pub enum RoutingCommand {
    /// Show the fallback providers and per-feature models.
    Get(JsonFlag),
    /// Replace them.
    Set {
        /// Providers to try, in order, when the active one is rate limited or down, e.g.
        /// `anthropic,groq` (each needs a saved key).
        #[arg(long, value_delimiter = ',')]
        fallback: Vec<String>,
        /// A feature's provider and model, `FEATURE=PROVIDER/MODEL` (repeatable), e.g.
        /// `summaries=groq/llama-3.1-8b-instant`.
        #[arg(long = "feature-model", value_name = "FEATURE=PROVIDER/MODEL")]
        feature_models: Vec<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub(super) fn routing(
    t: &Target,
    c: RoutingCommand,
    out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    let (v, as_json) = match c {
        RoutingCommand::Get(f) => (t.call("routing.get", json!({}))?, f.json),
        RoutingCommand::Set {
            fallback,
            feature_models,
            json: as_json,
        } => {
            let chain = fallback
                .iter()
                .map(|p| p.trim().parse::<Provider>())
                .collect::<Result<Vec<_>, _>>()?;
            let mut models = serde_json::Map::new();
            for spec in &feature_models {
                let parsed = spec.split_once('=').and_then(|(feature, target)| {
                    let (provider, model) = target.split_once('/')?;
                    Some((feature, provider, model))
                });
                let Some((feature, provider, model)) = parsed else {
                    return Err(CliError(format!(
                        "--feature-model {spec}: expected FEATURE=PROVIDER/MODEL"
                    )));
                };
                let provider: Provider = provider.parse()?;
                models.insert(
                    feature.to_owned(),
                    json!({"provider": provider, "model": model}),
                );
            }
            let v = t.call(
                "routing.set",
                json!({"fallback_chain": chain, "feature_models": models}),
            )?;
            (v, as_json)
        }
    };
    if as_json {
        return write_json(out, &v);
    }
    let chain: Vec<&str> = v["fallback_chain"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if chain.is_empty() {
        writeln!(out, "fallback providers: none")?;
    } else {
        writeln!(out, "fallback providers: {}", chain.join(", "))?;
    }
    if let Some(models) = v["feature_models"].as_object() {
        for (feature, m) in models {
            writeln!(
                out,
                "feature {feature}: {}/{}",
                m["provider"].as_str().unwrap_or_default(),
                m["model"].as_str().unwrap_or_default()
            )?;
        }
    }
    Ok(())
}

/// `byokit budget ...`
#[derive(Debug, Subcommand)]
pub enum BudgetCommand {
    /// Show the budget and this month's spending.
    Get(JsonFlag),
    /// Set a monthly limit in USD.
    Set {
        /// The limit, e.g. 25 or 12.50.
        #[arg(long)]
        monthly_limit: Decimal,
        /// Only alert instead of blocking calls past the limit.
        #[arg(long)]
        allow_over: bool,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

pub(super) fn budget(
    t: &Target,
    c: BudgetCommand,
    out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    match c {
        BudgetCommand::Get(f) => {
            let v = t.call("budget.get", json!({}))?;
            if f.json {
                return write_json(out, &v);
            }
            if v.is_null() {
                writeln!(out, "no budget set")?;
            } else {
                let s = &v["status"];
                writeln!(
                    out,
                    "{} of {} spent in {} ({}%), policy {}",
                    money(&s["spent_usd"]),
                    money(&s["limit_usd"]),
                    s["month"]["year"]
                        .as_i64()
                        .map_or(String::new(), |y| format!(
                            "{y}-{:02}",
                            s["month"]["month"].as_i64().unwrap_or(0)
                        )),
                    s["percent_used"].as_str().unwrap_or("?"),
                    s["policy"].as_str().unwrap_or_default()
                )?;
            }
            Ok(())
        }
        BudgetCommand::Set {
            monthly_limit,
            allow_over,
            json: as_json,
        } => {
            let policy = if allow_over {
                "allow_and_alert"
            } else {
                "block"
            };
            let v = t.call(
                "budget.set",
                json!({"monthly_limit_usd": monthly_limit, "policy": policy}),
            )?;
            if as_json {
                return write_json(out, &v);
            }
            writeln!(
                out,
                "budget set: {} a month ({})",
                usd(monthly_limit),
                policy.replace('_', " ")
            )?;
            Ok(())
        }
    }
}

pub(super) fn alerts(
    t: &Target,
    f: JsonFlag,
    out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    let v = t.call("alerts.list", json!({}))?;
    if f.json {
        return write_json(out, &v);
    }
    let list = v.as_array().cloned().unwrap_or_default();
    if list.is_empty() {
        writeln!(out, "no alerts")?;
    }
    for a in list {
        writeln!(
            out,
            "{}%  of {}  reached with {}",
            a["threshold_percent"],
            money(&a["limit_usd"]),
            money(&a["spent_usd"])
        )?;
    }
    Ok(())
}

/// `byokit daemon ...`
#[derive(Debug, Subcommand)]
pub enum DaemonCommand {
    /// Show the running daemon (starting it if needed).
    Status(JsonFlag),
    /// Stop it.
    Stop,
}

pub(super) fn daemon(
    t: &Target,
    c: DaemonCommand,
    out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    match c {
        DaemonCommand::Status(f) => {
            let v = t.call("daemon.status", json!({}))?;
            if f.json {
                return write_json(out, &v);
            }
            writeln!(
                out,
                "byokd {} (pid {}), up {} s, socket {}, data {}, catalog {}",
                v["version"].as_str().unwrap_or_default(),
                v["pid"],
                v["uptime_seconds"],
                v["socket"].as_str().unwrap_or_default(),
                v["data_dir"].as_str().unwrap_or_default(),
                v["catalog_version"].as_str().unwrap_or_default()
            )?;
            Ok(())
        }
        DaemonCommand::Stop => {
            match Client::connect(&t.socket) {
                Ok(mut c) => {
                    c.call("daemon.stop", json!({}))?;
                    writeln!(out, "byokd stopped")?;
                }
                Err(_) => writeln!(out, "byokd is not running")?,
            }
            Ok(())
        }
    }
}
