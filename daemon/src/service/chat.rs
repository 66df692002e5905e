//! `chat`: an AI call made with the key routing picks, retried and fallen back as the gateway's
//! policy says, its usage recorded by byokd itself.

use std::time::Instant;

use byokit_core::adapters::{
    build_chat_request, parse_chat_response, AdapterError, RequestOptions, StreamAccumulator,
    StreamSummary, StreamUsage,
};
use byokit_core::gateway::{Attempt, Call, CallPolicy, Candidate, Next, ReplyEnd};
use byokit_core::protocol::{
    ChatParams, ChatResult, Error, ErrorKind, RouteParams, UsageRecordParams,
};
use byokit_core::{
    approximate_chat, classify_error, ApiKey, ChatRequest, ChatResponse, Decision, HttpRequest,
    KeyChoice, Usage,
};
use time::OffsetDateTime;

use super::{internal, invalid, Result, Service};
use crate::gateway::read_all;
use crate::store::{Commit, StoredConfig};

/// A random number for the backoff's jitter.
fn random() -> u64 {
    use chacha20poly1305::aead::rand_core::RngCore;
    chacha20poly1305::aead::OsRng.next_u64()
}

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
        // The routed key first, then the decision's fallbacks, each tried with retries as the
        // core's call policy says. Once a reply has started, it is not retried.
        let candidates = Candidate::all(&decision);
        let mut call = Call::new(candidates.len(), CallPolicy::default());
        let started = Instant::now();
        // The request being sent, with its key: every message built from the provider's reply
        // has that very key masked (a provider may quote it, whatever its shape).
        let mut sent: Option<(usize, HttpRequest, ApiKey)> = None;
        let (served, mut response) = loop {
            match call.poll() {
                Next::Send { index } => {
                    let c = &candidates[index];
                    if sent.as_ref().is_none_or(|(i, _, _)| *i != index) {
                        let (key, base_url) = self
                            .credentials(&p.user, &c.key, &routed.inputs.configs)
                            .await?;
                        request.model = c.model.clone();
                        let options = RequestOptions {
                            base_url,
                            browser: false,
                        };
                        let http = build_chat_request(c.provider, &request, &key, &options)
                            .map_err(|e| invalid(e.to_string()))?;
                        sent = Some((index, http, key));
                    }
                    let Some((_, http, key)) = &sent else {
                        continue;
                    };
                    let now = OffsetDateTime::now_utc();
                    let (learned, response) = match self.gateway.open(http).await {
                        Ok(response) if response.status().is_success() => (
                            call.report(Attempt::Answered, now, random()),
                            Some(response),
                        ),
                        Ok(response) => {
                            let (status, headers, body) = read_all(response).await;
                            let mut e = classify_error(c.provider, status, &headers, &body);
                            e.message = key.scrub(&e.message);
                            (call.report(Attempt::Refused(&e), now, random()), None)
                        }
                        Err(e) => {
                            let why = key.scrub(&format!("{} unreachable: {e}", c.provider));
                            (call.report(Attempt::Unreachable(&why), now, random()), None)
                        }
                    };
                    if let (KeyChoice::User { key_id }, Some(status)) = (&c.key, learned) {
                        self.learn(key_id, status);
                    }
                    if let Some(response) = response {
                        break (index, response);
                    }
                }
                Next::Sleep(wait) => tokio::time::sleep(wait).await,
                // Reported served only with the reply in hand, which breaks out above.
                Next::Served { .. } => return Err(internal("the gateway lost a served reply")),
                Next::Failed(e) => return Err(e),
            }
        };
        let Candidate {
            provider,
            model: routed_model,
            ..
        } = candidates[served].clone();
        let mut last_error = None;
        let key = sent.map(|(_, _, key)| key);
        let adapter_error = |e: &AdapterError| {
            let mut e = adapter_error(e);
            if let Some(key) = &key {
                e.message = key.scrub(&e.message);
            }
            e
        };
        let (reply, outcome) = match sink {
            None => {
                let (_, _, body) = read_all(response).await;
                let reply = parse_chat_response(provider, &body).map_err(|e| adapter_error(&e))?;
                (reply, ReplyEnd::Ok)
            }
            Some(sink) => {
                let mut acc = StreamAccumulator::new(provider);
                let mut outcome = ReplyEnd::Ok;
                'reading: loop {
                    match response.chunk().await {
                        Ok(Some(bytes)) => match acc.push(&bytes) {
                            Ok(deltas) => {
                                for delta in deltas {
                                    if sink.send(delta).await.is_err() {
                                        outcome = ReplyEnd::ClientDisconnected;
                                        break 'reading;
                                    }
                                }
                            }
                            Err(e) => {
                                // An error event mid-stream: what came before it is still
                                // recorded.
                                last_error = Some(adapter_error(&e));
                                outcome = ReplyEnd::ProviderError;
                                break 'reading;
                            }
                        },
                        Ok(None) => break,
                        Err(_) => {
                            outcome = ReplyEnd::StreamInterrupted;
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
            // Priced at `now`, as the reply below says.
            at: None,
            latency_ms: Some(u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)),
            outcome: Some(outcome.as_str().into()),
        };
        // The reply does not wait for the record's commit, which would make it wait for a disk
        // flush without keeping anything safer: a crash before the commit loses the record
        // whether the reply went out or not. The record commits within `store::LINGER`, sharing
        // the commit with the calls answered meanwhile. Reads of usage wait for it
        // (`Store::flush`), and the system key's hold, now of the call's actual tokens,
        // stays until it has committed: routing never misses the call (for a moment after the
        // commit it may count it twice, never less).
        let record = self.price(record, now);
        let (cost_usd, cost_status) = (record.cost_usd, record.cost_status);
        if let Some(hold) = &routed.system_hold {
            hold.settle(reply.usage.total_tokens(decision.provider));
        }
        let (usage_id, committed) = self.store.record(record, Commit::Soon).await?;
        // The store logs a failed commit; the hold, if any, waits for the commit's answer.
        if let Some(hold) = routed.system_hold {
            tokio::spawn(async move {
                let _ = committed.await;
                drop(hold);
            });
        }
        if let Some(e) = last_error {
            return Err(e);
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
                let key = self.open_key(user, c).await?;
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
