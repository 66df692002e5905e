//! What would a month of an app's AI features cost on each provider?
//!
//! Run: `cargo run -p byokit-examples --example estimate_cost`
//!
//! Prices the product spec's "Portfolio Chat, 100 messages a month" on the models it recommends,
//! with exact decimals, and shows how a cached system prompt changes the bill.

use byokit_core::{Catalog, CostOptions, Decimal, Provider, Usage};

fn main() -> Result<(), byokit_core::CostError> {
    let catalog = Catalog::embedded();
    // One chat message: a 1,500-token prompt (system prompt, portfolio, history) and a
    // 400-token answer.
    let message = Usage {
        input_tokens: 1_500,
        output_tokens: 400,
        ..Usage::default()
    };
    let messages = Decimal::from(100);
    println!(
        "Portfolio chat, 100 messages/month (catalog {})",
        catalog.version()
    );
    for (provider, model) in [
        (Provider::Groq, "llama-3.3-70b-versatile"),
        (Provider::OpenAi, "gpt-4o-mini"),
        (Provider::Anthropic, "claude-3-haiku-20240307"),
        (Provider::Anthropic, "claude-sonnet-4"),
        (Provider::Gemini, "gemini-2.0-flash"),
        (Provider::Mistral, "mistral-small-latest"),
    ] {
        let cost = catalog.cost(provider, model, &message, &CostOptions::default())?;
        let month = cost.cost_usd.map(|c| (c * messages).normalize());
        println!(
            "  {:<44} ${} per message, ${} per month",
            format!("{provider}/{}", cost.model),
            cost.cost_usd.map_or("?".into(), |c| c.to_string()),
            month.map_or("?".into(), |c| c.to_string()),
        );
    }

    // With OpenAI, 1,024 of those prompt tokens served from the prompt cache: prompt_tokens still
    // counts them, and byokit bills them at the cached price, once.
    let cached = Usage {
        cached_input_tokens: 1_024,
        ..message
    };
    let plain = catalog.cost(
        Provider::OpenAi,
        "gpt-4o-mini",
        &message,
        &CostOptions::default(),
    )?;
    let with_cache = catalog.cost(
        Provider::OpenAi,
        "gpt-4o-mini",
        &cached,
        &CostOptions::default(),
    )?;
    if let (Some(a), Some(b)) = (plain.cost_usd, with_cache.cost_usd) {
        println!("  gpt-4o-mini with a cached system prompt: ${b} instead of ${a} per message");
    }
    Ok(())
}
