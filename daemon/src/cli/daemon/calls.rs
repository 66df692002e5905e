//! `byokit route`, `byokit chat`, `byokit routing`: which key serves a call, a call, and the
//! settings that steer them.

use byokit_core::Provider;
use clap::{Args, Subcommand};
use serde_json::json;

use super::*;
use crate::cli::{write_json, CliError};
use byokit_core::protocol::{ChatResult, RoutingSettings};
use byokit_core::Decision;

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

pub(crate) fn route(
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
    let d: Decision = serde_json::from_value(v)?;
    writeln!(out, "{}/{} paid by {}", d.provider, d.model, d.payer)?;
    for line in &d.explanation {
        writeln!(out, "  {line}")?;
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

pub(crate) fn chat(t: &Target, a: ChatArgs, out: &mut dyn std::io::Write) -> Result<(), CliError> {
    let mut params = json!({"messages": [{"role": "user", "content": a.message}], "system": a.system, "model": a.model,
               "feature": a.feature, "max_output_tokens": a.max_tokens, "stream": a.stream && !a.json});
    params["user"] = json!(t.user);
    let mut streamed = false;
    let v = t.connect()?.chat_streaming(params, |delta| {
        let _ = write!(out, "{}", delta.text);
        let _ = out.flush();
        streamed = true;
    })?;
    if a.json {
        return write_json(out, &v);
    }
    let r: ChatResult = serde_json::from_value(v)?;
    if streamed {
        writeln!(out)?;
    } else {
        writeln!(out, "{}", r.text)?;
    }
    let cost = r
        .cost_usd
        .map_or("unpriced".to_owned(), |c| format!("${c}"));
    writeln!(
        out,
        "\n({}/{}, paid by {}, {} in / {} out tokens, {cost})",
        r.provider, r.model, r.payer, r.usage.input_tokens, r.usage.output_tokens
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

pub(crate) fn routing(
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
    let settings: RoutingSettings = serde_json::from_value(v)?;
    let chain: Vec<&str> = settings.fallback_chain.iter().map(|p| p.as_str()).collect();
    if chain.is_empty() {
        writeln!(out, "fallback providers: none")?;
    } else {
        writeln!(out, "fallback providers: {}", chain.join(", "))?;
    }
    for (feature, m) in &settings.feature_models {
        writeln!(out, "feature {feature}: {}/{}", m.provider, m.model)?;
    }
    Ok(())
}
