//! `chat`: an AI call made with the key routing picks, retried and fallen back as the gateway's
//! policy says, its usage recorded by byokd itself.

use std::time::{Duration, Instant};

use byokit_core::adapters::{
    build_chat_request, parse_chat_response, AdapterError, RequestOptions, StreamAccumulator,
    StreamSummary, StreamUsage,
};
use byokit_core::protocol::{
    ChatParams, ChatResult, Error, ErrorKind, RouteParams, UsageRecordParams,
};
use byokit_core::{
    approximate_chat, classify_error, ApiKey, ChatRequest, ChatResponse, Decision, KeyChoice,
    KeyStatus, Usage,
};
use time::OffsetDateTime;

use super::{internal, invalid, Result, Service};
use crate::gateway::read_all;
use crate::store::{Commit, StoredConfig};

/// Retries of one key on a rate limit, an overload, a server error or a lost connection.
const MAX_RETRIES: u32 = 2;
/// The longest wait before a retry; a longer retry-after moves on to the next key or provider.
const MAX_WAIT: Duration = Duration::from_secs(20);

/// The wait before retry `attempt + 1`: jittered exponential backoff from 250 ms, at least the
/// provider's retry-after.
fn backoff(attempt: u32, retry_after: Option<Duration>) -> Duration {
    use chacha20poly1305::aead::rand_core::RngCore;
    let base = 250u64.saturating_mul(1 << attempt.min(10)).min(8_000);
    let jitter = chacha20poly1305::aead::OsRng.next_u64() % (base / 2 + 1);
    let backoff = Duration::from_millis(base / 2 + jitter);
    retry_after.map_or(backoff, |r| r.max(backoff))
}

/// How a call's reply ended, as its usage record says.
const OK: &str = "ok";
const CLIENT_DISCONNECTED: &str = "client_disconnected";
const PROVIDER_ERROR: &str = "provider_error";
const STREAM_INTERRUPTED: &str = "stream_interrupted";

/// A provider error reply, or a reply that could not be read.
fn adapter_error(e: &AdapterError) -> Error {
    match e {
        AdapterError::Provider(pe) => Error::from(pe),
        _ => Error::new(ErrorKind::MalformedReply, e.to_string()),
    }
}

impl Service {
    /// Makes an AI call for the user with the key routing picks, and records its usage. With a
    /// `sink`, the call streams: each text delta is sent to it as it comes, and if the receiver
    /// is gone (the client disconnected) the call stops and what was generated is still
    /// recorded, with the output estimated when the provider never said.
    pub async fn chat(
        &self,
        p: ChatParams,
        sink: Option<tokio::sync::mpsc::Sender<String>>,
    ) -> Result<ChatResult> {
        if p.messages.is_empty() {
            return Err(invalid("invalid params: `messages` is empty"));
        }
        let mut request = ChatRequest {
            model: p.model.clone().unwrap_or_default(),
            system: p.system,
            messages: p.messages,
            max_output_tokens: p.max_output_tokens,
            temperature: p.temperature,
            stop: p.stop,
            stream: sink.is_some(),
        };
        // Approximated: exact counts settle the reservation, and the tokenizer tables would
        // triple byokd's memory.
        let (prompt, output) = approximate_chat(&request, 1024);
        let route = RouteParams {
            user: p.user.clone(),
            feature: p.feature.clone(),
            model: p.model.clone(),
            estimated_tokens: prompt.tokens + output,
        };
        // Held until the call's usage has committed.
        let routed = self.decide(route, true).await?;
        let decision = routed.decision;
        // The routed key first, then the decision's fallbacks, each tried with retries. Once a
        // reply has started, it is not retried.
        let mut candidates = vec![(
            decision.provider,
            decision.model.clone(),
            decision.key.clone(),
        )];
        for f in &decision.fallbacks {
            candidates.push((
                f.provider,
                f.model.clone(),
                KeyChoice::User {
                    key_id: f.key_id.clone(),
                },
            ));
        }
        let started = Instant::now();
        let mut last_error = Error::new(ErrorKind::Unreachable, "no provider could be tried");
        let mut served = None;
        'candidates: for (provider, model, key_choice) in candidates {
            let (key, base_url) = self
                .credentials(&p.user, &key_choice, &routed.inputs.configs)
                .await?;
            let key_id = match &key_choice {
                KeyChoice::User { key_id } => Some(key_id.as_str()),
                KeyChoice::System => None,
            };
            let learn = |status| {
                if let Some(id) = key_id {
                    self.learn(id, status);
                }
            };
            request.model = model.clone();
            let http = build_chat_request(
                provider,
                &request,
                &key,
                &RequestOptions {
                    base_url,
                    browser: false,
                },
            )
            .map_err(|e| invalid(e.to_string()))?;
            for attempt in 0..=MAX_RETRIES {
                let wait = match self.gateway.open(&http).await {
                    Ok(response) if response.status().is_success() => {
                        learn(None);
                        served = Some((provider, model, response));
                        break 'candidates;
                    }
                    Ok(response) => {
                        let (status, headers, body) = read_all(response).await;
                        let e = classify_error(provider, status, &headers, &body);
                        last_error = Error::from(&e);
                        if let Some(status) = KeyStatus::after_error(&e, OffsetDateTime::now_utc())
                        {
                            learn(Some(status));
                        }
                        // A bad key or a bad request is never retried, nor sent elsewhere.
                        if !e.kind.is_retryable() {
                            return Err(last_error);
                        }
                        e.retry_after
                    }
                    Err(e) => {
                        last_error = Error::new(
                            ErrorKind::Unreachable,
                            format!("{provider} unreachable: {e}"),
                        );
                        None
                    }
                };
                let delay = backoff(attempt, wait);
                if attempt == MAX_RETRIES || delay > MAX_WAIT {
                    break; // on to the next key or provider
                }
                tokio::time::sleep(delay).await;
            }
        }
        let Some((provider, routed_model, mut response)) = served else {
            return Err(last_error);
        };
        let (reply, outcome) = match sink {
            None => {
                let (_, _, body) = read_all(response).await;
                let reply = parse_chat_response(provider, &body).map_err(|e| adapter_error(&e))?;
                (reply, OK)
            }
            Some(sink) => {
                let mut acc = StreamAccumulator::new(provider);
                let mut outcome = OK;
                'reading: loop {
                    match response.chunk().await {
                        Ok(Some(bytes)) => match acc.push(&bytes) {
                            Ok(deltas) => {
                                for delta in deltas {
                                    if sink.send(delta).await.is_err() {
                                        outcome = CLIENT_DISCONNECTED;
                                        break 'reading;
                                    }
                                }
                            }
                            Err(e) => {
                                // An error event mid-stream: what came before it is still
                                // recorded.
                                last_error = adapter_error(&e);
                                outcome = PROVIDER_ERROR;
                                break 'reading;
                            }
                        },
                        Ok(None) => break,
                        Err(_) => {
                            outcome = STREAM_INTERRUPTED;
                            break;
                        }
                    }
                }
                let text_so_far = acc.text().to_owned();
                let summary = acc.finish().unwrap_or(StreamSummary {
                    text: text_so_far,
                    finish_reason: None,
                    model: None,
                    usage: StreamUsage::Unknown {
                        estimate: Usage {
                            estimated: true,
                            ..Usage::default()
                        },
                    },
                });
                let usage = match summary.usage {
                    StreamUsage::Reported { usage } => usage,
                    // Never zero: the output from the text, the prompt from its estimate,
                    // labelled.
                    StreamUsage::Unknown { estimate } => Usage {
                        input_tokens: prompt.tokens,
                        ..estimate
                    },
                };
                let reply = ChatResponse {
                    text: summary.text,
                    finish_reason: summary.finish_reason,
                    model: summary.model.unwrap_or_default(),
                    usage,
                };
                (reply, outcome)
            }
        };
        let decision = Decision {
            provider,
            model: routed_model,
            ..decision
        };
        let model = if reply.model.is_empty() {
            decision.model.clone()
        } else {
            reply.model.clone()
        };
        let now = OffsetDateTime::now_utc();
        let record = UsageRecordParams {
            user: p.user,
            provider: decision.provider,
            model: model.clone(),
            feature: p.feature,
            usage: reply.usage,
            payer: decision.payer,
            idempotency_key: None,
            // Priced by the store on the `now` it is sent with: the same as the reply's below.
            at: None,
            latency_ms: Some(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)),
            outcome: Some(outcome.into()),
        };
        // The reply does not wait for the record's commit, which would make it wait for a disk
        // flush without keeping anything safer: a crash before the commit loses the record
        // whether the reply went out or not. The record commits within `store::LINGER`, sharing
        // the commit with the calls answered meanwhile. Reads of usage wait for it
        // (`StoreHandle::flush`), and the system key's hold, now of the call's actual tokens,
        // stays until it has committed: routing never misses the call (for a moment after the
        // commit it may count it twice, never less).
        let (cost_usd, cost_status) =
            self.catalog
                .recorded_cost(record.provider, &record.model, &record.usage, now.date());
        if let Some(hold) = &routed.system_hold {
            hold.hold_actual(reply.usage.total_tokens(decision.provider));
        }
        let (usage_id, committed) = self.store.send_record(record, now, Commit::Soon)?;
        // The store logs a failed commit; the hold, if any, waits for the commit's answer.
        if let Some(hold) = routed.system_hold {
            tokio::spawn(async move {
                let _ = committed.await;
                drop(hold);
            });
        }
        if outcome == PROVIDER_ERROR {
            return Err(last_error);
        }
        Ok(ChatResult {
            text: reply.text,
            finish_reason: reply.finish_reason,
            provider: decision.provider,
            model,
            payer: decision.payer,
            usage: reply.usage,
            usage_id,
            cost_usd,
            cost_status,
        })
    }

    /// The key and base URL of a routed choice.
    async fn credentials(
        &self,
        user: &str,
        choice: &KeyChoice,
        configs: &[StoredConfig],
    ) -> Result<(ApiKey, Option<String>)> {
        match choice {
            KeyChoice::User { key_id } => {
                let c = configs
                    .iter()
                    .find(|c| &c.view.key_id == key_id)
                    .ok_or_else(|| {
                        Error::new(ErrorKind::NotFound, "the routed configuration is gone")
                    })?;
                let key = self
                    .vault
                    .read()
                    .await
                    .open_key(user, c.view.provider, key_id, &c.sealed)
                    .map_err(|e| internal(e.to_string()))?;
                Ok((key, c.view.base_url.clone()))
            }
            KeyChoice::System => {
                let key = self
                    .system_key
                    .clone()
                    .ok_or_else(|| Error::new(ErrorKind::NoKey, "no system key"))?;
                Ok((key, self.options.system.base_url.clone()))
            }
        }
    }
}
