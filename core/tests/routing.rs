//! Routing, the system key's cap, reservations, rotation and fallback, with their boundaries.

#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use byokit_core::ledger::DEFAULT_RESERVATION_TTL;
use byokit_core::routing::{FeatureModel, KeyLimits, SystemKeyPolicy, UserKey};
use byokit_core::{
    route, route_in_catalog, Catalog, KeyChoice, KeyStatus, Ledger, Month, Payer, Provider,
    RateLimits, RouteError, RouteRequest, RoutingConfig,
};
use proptest::prelude::*;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const NOW: OffsetDateTime = datetime!(2026-11-28 12:00 UTC);

fn key(id: &str, provider: Provider, saved_days_ago: i64) -> UserKey {
    UserKey {
        id: id.into(),
        provider,
        saved_at: NOW - Duration::days(saved_days_ago),
        last_used_at: None,
        status: KeyStatus::Ok,
        limits: KeyLimits::default(),
    }
}

fn system_only() -> RoutingConfig {
    RoutingConfig {
        system: Some(SystemKeyPolicy::default()),
        ..RoutingConfig::default()
    }
}

fn ask(tokens: u64) -> RouteRequest {
    RouteRequest {
        estimated_tokens: tokens,
        ..RouteRequest::default()
    }
}

#[test]
fn without_a_key_the_system_key_serves_the_spec_model() {
    let d = route(&system_only(), &Ledger::new(0), &ask(500), NOW).unwrap();
    assert_eq!(
        (d.provider, d.model.as_str()),
        (Provider::Anthropic, "claude-sonnet-4-20250514")
    );
    assert_eq!((d.key, d.payer), (KeyChoice::System, Payer::System));
    assert!(
        d.explanation.iter().any(|l| l.contains("system")),
        "{:?}",
        d.explanation
    );
}

#[test]
fn the_cap_allows_exactly_one_million_and_refuses_one_more() {
    let config = system_only();
    // Used 999,000; a call estimated at 1,000 reaches exactly 1,000,000: allowed.
    assert!(route(&config, &Ledger::new(999_000), &ask(1_000), NOW).is_ok());
    // At exactly 1,000,000 used, a call of unknown size (0 estimated) is still allowed, as the spec's
    // `total > 1000000` check does.
    assert!(route(&config, &Ledger::new(1_000_000), &ask(0), NOW).is_ok());
    // One more token is refused, with the spec's message.
    let err = route(&config, &Ledger::new(999_000), &ask(1_001), NOW).unwrap_err();
    assert!(matches!(
        err,
        RouteError::SystemCapReached {
            used: 999_000,
            cap: 1_000_000,
            ..
        }
    ));
    assert!(
        err.to_string()
            .ends_with("please add your own API key to continue"),
        "{err}"
    );
    assert!(route(&config, &Ledger::new(1_000_001), &ask(0), NOW).is_err());
    // Outstanding reservations count.
    let mut l = Ledger::new(998_000);
    l.reserve(
        "in-flight",
        1_500,
        Some(1_000_000),
        NOW,
        DEFAULT_RESERVATION_TTL,
    )
    .unwrap();
    assert!(route(&config, &l, &ask(501), NOW).is_err());
    assert!(route(&config, &l, &ask(500), NOW).is_ok());
}

#[test]
fn the_month_rolls_over_at_midnight_utc() {
    let last = datetime!(2026-11-30 23:59:59 UTC);
    let first = datetime!(2026-12-01 00:00:00 UTC);
    assert_ne!(Month::containing(last), Month::containing(first));
    // A full ledger for November; December starts a new one (the store keeps one per month).
    let november = Ledger::new(1_000_000);
    assert!(route(&system_only(), &november, &ask(1), last).is_err());
    let december = Ledger::new(0);
    assert!(route(&system_only(), &december, &ask(1), first).is_ok());
    let err = route(&system_only(), &november, &ask(1), last).unwrap_err();
    assert!(err.to_string().contains("(2026-11)"), "{err}");
}

#[test]
fn the_most_recently_saved_key_is_active() {
    let config = RoutingConfig {
        keys: vec![
            key("old", Provider::OpenAi, 10),
            key("new", Provider::Groq, 1),
        ],
        system: Some(SystemKeyPolicy::default()),
        ..RoutingConfig::default()
    };
    let d = route(&config, &Ledger::new(0), &ask(10), NOW).unwrap();
    assert_eq!(d.provider, Provider::Groq);
    assert_eq!(
        d.key,
        KeyChoice::User {
            key_id: "new".into()
        }
    );
    assert_eq!(d.payer, Payer::User);
    assert_eq!(d.model, "llama-3.3-70b-versatile");
    // The user's own key is used even when the system cap is spent: the cap counts system tokens only.
    assert!(route(&config, &Ledger::new(5_000_000), &ask(10), NOW).is_ok());
}

#[test]
fn a_bad_key_is_an_error_never_a_fallback() {
    let mut bad = key("k1", Provider::OpenAi, 1);
    bad.status = KeyStatus::Invalid {
        reason: "invalid_key: Incorrect API key provided".into(),
    };
    let config = RoutingConfig {
        keys: vec![bad, key("g", Provider::Groq, 5)],
        fallback_chain: vec![Provider::Groq],
        system: Some(SystemKeyPolicy::default()),
        ..RoutingConfig::default()
    };
    let err = route(&config, &Ledger::new(0), &ask(10), NOW).unwrap_err();
    assert!(
        matches!(
            err,
            RouteError::InvalidKey {
                provider: Provider::OpenAi,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("update it in your API settings"));
}

#[test]
fn rotation_skips_a_limited_key_and_prefers_the_least_recently_used() {
    let mut a = key("a", Provider::Groq, 3);
    a.last_used_at = Some(NOW - Duration::seconds(5));
    let mut b = key("b", Provider::Groq, 2);
    b.last_used_at = Some(NOW - Duration::seconds(50));
    let c = key("c", Provider::Groq, 1);
    let mut config = RoutingConfig {
        keys: vec![a, b, c],
        ..RoutingConfig::default()
    };
    // Never-used `c` goes first, then `b` (least recently used), then `a`.
    let d = route(&config, &Ledger::new(0), &ask(10), NOW).unwrap();
    assert_eq!(d.key, KeyChoice::User { key_id: "c".into() });
    assert_eq!(
        d.fallbacks
            .iter()
            .map(|f| f.key_id.as_str())
            .collect::<Vec<_>>(),
        ["b", "a"]
    );
    // `c` hits its free-tier limit of 60 requests a minute: skipped.
    config.keys[2].limits = KeyLimits::groq_free_tier();
    for i in 0..60 {
        config.keys[2].limits.record(
            NOW - Duration::seconds(59) + Duration::milliseconds(i * 10),
            100,
        );
    }
    let d = route(&config, &Ledger::new(0), &ask(10), NOW).unwrap();
    assert_eq!(d.key, KeyChoice::User { key_id: "b".into() });
    assert!(
        d.explanation
            .iter()
            .any(|l| l.starts_with("key c skipped: rate limited")),
        "{:?}",
        d.explanation
    );
}

#[test]
fn rate_limit_headers_hold_a_key_back_until_reset() {
    let mut k = key("o", Provider::OpenAi, 1);
    k.limits.snapshot = Some(RateLimits {
        requests_remaining: Some(0),
        requests_reset_at: Some(NOW + Duration::seconds(20)),
        ..RateLimits::default()
    });
    let config = RoutingConfig {
        keys: vec![k],
        ..RoutingConfig::default()
    };
    let err = route(&config, &Ledger::new(0), &ask(10), NOW).unwrap_err();
    assert_eq!(
        err,
        RouteError::RateLimited {
            retry_at: NOW + Duration::seconds(20)
        }
    );
    assert!(route(
        &config,
        &Ledger::new(0),
        &ask(10),
        NOW + Duration::seconds(20)
    )
    .is_ok());
}

#[test]
fn a_daily_limit_and_a_token_limit() {
    let mut limits = KeyLimits {
        requests_per_day: Some(3),
        tokens_per_minute: Some(1_000),
        ..KeyLimits::default()
    };
    limits.record(NOW - Duration::hours(23), 10);
    limits.record(NOW - Duration::hours(2), 10);
    assert_eq!(limits.wait_until(NOW, 10), None);
    limits.record(NOW - Duration::seconds(30), 900);
    // Three calls in the last day: the oldest must age out.
    assert_eq!(limits.wait_until(NOW, 10), Some(NOW + Duration::hours(1)));
    let tokens_only = KeyLimits {
        tokens_per_minute: Some(1_000),
        recent: limits.recent.clone(),
        ..KeyLimits::default()
    };
    assert_eq!(tokens_only.wait_until(NOW, 100), None);
    assert_eq!(
        tokens_only.wait_until(NOW, 101),
        Some(NOW + Duration::seconds(30))
    );
}

#[test]
fn the_fallback_chain_takes_over_when_the_active_provider_is_limited() {
    let mut active = key("o", Provider::OpenAi, 1);
    active.status = KeyStatus::Failing {
        until: NOW + Duration::minutes(2),
    };
    let config = RoutingConfig {
        keys: vec![active, key("m", Provider::Mistral, 5)],
        fallback_chain: vec![Provider::Gemini, Provider::Mistral],
        ..RoutingConfig::default()
    };
    let d = route(&config, &Ledger::new(0), &ask(10), NOW).unwrap();
    assert_eq!((d.provider, d.payer), (Provider::Mistral, Payer::User));
    assert!(
        d.explanation
            .iter()
            .any(|l| l == "openai unavailable: falling back to mistral"),
        "{:?}",
        d.explanation
    );
    // Without a chain: rate limited until the key recovers; never the system key.
    let config = RoutingConfig {
        fallback_chain: vec![],
        system: Some(SystemKeyPolicy::default()),
        ..config
    };
    let err = route(&config, &Ledger::new(0), &ask(10), NOW).unwrap_err();
    assert_eq!(
        err,
        RouteError::RateLimited {
            retry_at: NOW + Duration::minutes(2)
        }
    );
}

#[test]
fn model_selection_per_request_feature_and_provider() {
    let mut config = RoutingConfig {
        keys: vec![key("o", Provider::OpenAi, 1)],
        ..RoutingConfig::default()
    };
    config
        .models
        .by_provider
        .insert(Provider::OpenAi, "gpt-4.1-mini".into());
    config.models.by_feature.insert(
        "resume_generation".into(),
        FeatureModel {
            provider: Provider::OpenAi,
            model: "gpt-4o".into(),
        },
    );
    config.models.by_feature.insert(
        "job_matching".into(),
        FeatureModel {
            provider: Provider::Anthropic,
            model: "claude-3-haiku-20240307".into(),
        },
    );
    let with = |feature: Option<&str>, model: Option<&str>| {
        let r = RouteRequest {
            feature: feature.map(Into::into),
            model: model.map(Into::into),
            estimated_tokens: 0,
        };
        route(&config, &Ledger::new(0), &r, NOW).unwrap().model
    };
    assert_eq!(with(None, None), "gpt-4.1-mini");
    assert_eq!(with(Some("resume_generation"), None), "gpt-4o");
    // A feature model for another provider does not apply to this one.
    assert_eq!(with(Some("job_matching"), None), "gpt-4.1-mini");
    assert_eq!(with(Some("resume_generation"), Some("o3")), "o3");
}

#[test]
fn no_key_at_all() {
    assert_eq!(
        route(&RoutingConfig::default(), &Ledger::new(0), &ask(1), NOW),
        Err(RouteError::NoKey)
    );
}

#[derive(Debug, Clone)]
enum Op {
    Reserve(usize),
    Settle(usize),
    Advance(i64),
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Many callers reserve, settle and expire in any interleaving. Without expiry, the cap is
    /// never passed by more than the admitted calls' underestimates; with it, by no more than
    /// that plus the usage of calls settled after their reservation lapsed.
    #[test]
    fn the_cap_holds_under_any_interleaving(
        calls in prop::collection::vec((1u64..5_000, 0u64..8_000), 1..40),
        ops in prop::collection::vec(
            prop_oneof![
                (0usize..40).prop_map(Op::Reserve),
                (0usize..40).prop_map(Op::Settle),
                (0i64..300).prop_map(Op::Advance),
            ],
            1..200,
        ),
    ) {
        const CAP: u64 = 20_000;
        let ttl = Duration::minutes(10);
        let mut now = NOW;
        let mut ledger = Ledger::new(0u64);
        // Per call: reserved at, settled.
        let mut state: Vec<(Option<OffsetDateTime>, bool)> = vec![(None, false); calls.len()];
        let mut allowance = 0u64;
        for op in ops {
            match op {
                Op::Reserve(i) if i < calls.len() && state[i].0.is_none() => {
                    let (estimate, _) = calls[i];
                    if ledger.reserve(i.to_string(), estimate, Some(CAP), now, ttl).is_ok() {
                        state[i].0 = Some(now);
                    }
                }
                Op::Settle(i) if i < calls.len() && state[i].0.is_some() && !state[i].1 => {
                    let (estimate, actual) = calls[i];
                    let lapsed = state[i].0.is_some_and(|at| at + ttl <= now);
                    allowance += if lapsed { actual } else { actual.saturating_sub(estimate) };
                    ledger.settle(&i.to_string(), actual);
                    state[i].1 = true;
                }
                Op::Advance(s) => now += Duration::seconds(s),
                _ => {}
            }
            ledger.expire(now);
            prop_assert!(
                ledger.committed() <= CAP + allowance,
                "settled {} + reserved {} > {CAP} + {allowance}",
                ledger.settled(),
                ledger.reserved()
            );
        }
    }
}

#[test]
fn a_model_named_for_another_provider_is_not_sent_to_the_routed_one() {
    let config = RoutingConfig {
        keys: vec![key("a", Provider::Anthropic, 1)],
        ..RoutingConfig::default()
    };
    let asking = |model: &str| RouteRequest {
        model: Some(model.into()),
        ..ask(10)
    };
    let catalog = Catalog::embedded();
    // OpenAI's model, an Anthropic key: Anthropic's default model, and the reason why.
    let d = route_in_catalog(
        catalog,
        &config,
        &Ledger::new(0),
        &asking("gpt-4o-mini"),
        NOW,
    )
    .unwrap();
    assert_eq!(
        (d.provider, d.model.as_str()),
        (Provider::Anthropic, "claude-sonnet-4-20250514")
    );
    assert!(
        d.explanation.last().unwrap().contains("gpt-4o-mini"),
        "{:?}",
        d.explanation
    );
    // The routed provider's own model, by alias, and a name no catalog knows: as asked.
    for model in ["claude-3-5-haiku-latest", "ft:claude-acme-v2"] {
        let d = route_in_catalog(catalog, &config, &Ledger::new(0), &asking(model), NOW).unwrap();
        assert_eq!(d.model, model);
    }
    // Plain `route` does not look at the catalog.
    assert_eq!(
        route(&config, &Ledger::new(0), &asking("gpt-4o-mini"), NOW)
            .unwrap()
            .model,
        "gpt-4o-mini"
    );
}

#[test]
fn an_error_reply_teaches_what_it_says_about_the_key() {
    use byokit_core::routing::KEY_REST;
    use byokit_core::{ErrorKind, ProviderError};
    let error = |kind: ErrorKind, retry_after: Option<u64>| ProviderError {
        provider: Provider::OpenAi,
        kind,
        status: 400,
        retry_after: retry_after.map(std::time::Duration::from_secs),
        message: "the provider's words".into(),
        code: None,
    };
    let invalid = KeyStatus::Invalid {
        reason: "the provider's words".into(),
    };
    assert_eq!(
        KeyStatus::after_error(&error(ErrorKind::InvalidKey, None), NOW),
        Some(invalid.clone())
    );
    assert_eq!(
        KeyStatus::after_error(&error(ErrorKind::InsufficientCredit, None), NOW),
        Some(invalid)
    );
    assert_eq!(
        KeyStatus::after_error(&error(ErrorKind::RateLimited, Some(20)), NOW),
        Some(KeyStatus::Failing {
            until: NOW + Duration::seconds(20)
        })
    );
    assert_eq!(
        KeyStatus::after_error(&error(ErrorKind::Overloaded, None), NOW),
        Some(KeyStatus::Failing {
            until: NOW + KEY_REST
        })
    );
    assert_eq!(
        KeyStatus::after_error(&error(ErrorKind::BadRequest, None), NOW),
        None
    );
}

#[test]
fn a_key_status_reads_back_what_it_writes_and_names_what_is_missing() {
    let statuses = [
        KeyStatus::Ok,
        KeyStatus::Invalid {
            reason: "Incorrect API key provided".into(),
        },
        KeyStatus::Failing {
            until: datetime!(2026-11-29 06:00:30 UTC),
        },
    ];
    for status in statuses {
        let json = serde_json::to_string(&status).unwrap();
        assert_eq!(serde_json::from_str::<KeyStatus>(&json).unwrap(), status);
    }
    assert_eq!(
        serde_json::to_string(&KeyStatus::Failing {
            until: datetime!(2026-11-29 06:00:30 UTC)
        })
        .unwrap(),
        r#"{"state":"failing","until":"2026-11-29T06:00:30Z"}"#
    );
    let err = |json: &str| {
        serde_json::from_str::<KeyStatus>(json)
            .unwrap_err()
            .to_string()
    };
    assert!(err(r#"{"state":"failing"}"#).contains("missing field `until`"));
    assert!(err(r#"{"state":"invalid"}"#).contains("missing field `reason`"));
    assert!(err(r#"{"reason":"x"}"#).contains("missing field `state`"));
    assert!(err(r#"{"state":"gone"}"#).contains("unknown variant `gone`"));
    assert!(
        serde_json::from_str::<KeyStatus>(r#"{"state":"failing","until":"tomorrow"}"#).is_err()
    );
}
