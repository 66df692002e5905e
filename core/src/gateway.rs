//! The gateway's call policy, sans-IO: in which order a call's candidates (the routed key, then
//! the decision's fallbacks) are tried, which failures are retried and after how long, when a
//! call moves on to the next candidate and when it gives up, and how a streamed reply ended.
//!
//! The driver (byokd) asks [`Call::poll`] what to do, does it (sends the request to a candidate,
//! sleeps), and tells [`Call::report`] what came back, with `now` and a random number for the
//! jitter: the policy itself reads no clock and draws no randomness, so its tests replay any
//! sequence of replies without a socket, as quinn-proto's are driven.

use std::time::Duration;

use time::OffsetDateTime;

use crate::error::ProviderError;
use crate::protocol::{Error, ErrorKind};
use crate::provider::Provider;
use crate::routing::{Decision, KeyChoice, KeyStatus};

/// One way to serve a call: a provider, its model and the key to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// The provider.
    pub provider: Provider,
    /// The model to ask it for.
    pub model: String,
    /// The key.
    pub key: KeyChoice,
}

impl Candidate {
    /// The routed choice first, then the decision's fallbacks, in order.
    pub fn all(decision: &Decision) -> Vec<Candidate> {
        let first = Candidate {
            provider: decision.provider,
            model: decision.model.clone(),
            key: decision.key.clone(),
        };
        std::iter::once(first)
            .chain(decision.fallbacks.iter().map(|f| Candidate {
                provider: f.provider,
                model: f.model.clone(),
                key: KeyChoice::User {
                    key_id: f.key_id.clone(),
                },
            }))
            .collect()
    }
}

/// How hard a call tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallPolicy {
    /// Retries of one candidate after a rate limit, an overload, a server error or a lost
    /// connection (so at most `max_retries + 1` attempts each).
    pub max_retries: u32,
    /// The longest wait before a retry; a longer retry-after moves on to the next candidate.
    pub max_wait: Duration,
    /// The first backoff; each retry doubles it.
    pub base_backoff: Duration,
    /// The largest backoff.
    pub max_backoff: Duration,
}

impl Default for CallPolicy {
    fn default() -> Self {
        CallPolicy {
            max_retries: 2,
            max_wait: Duration::from_secs(20),
            base_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(8),
        }
    }
}

impl CallPolicy {
    /// The wait before retry `attempt + 1`: exponential backoff with jitter (between half and
    /// all of it, by `random`), and at least the provider's retry-after.
    pub fn backoff(&self, attempt: u32, retry_after: Option<Duration>, random: u64) -> Duration {
        let full = self
            .base_backoff
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max_backoff);
        let half = full / 2;
        let span = u64::try_from((full - half).as_micros()).unwrap_or(u64::MAX);
        let jitter = Duration::from_micros(random % span.saturating_add(1));
        let backoff = half + jitter;
        retry_after.map_or(backoff, |r| r.max(backoff))
    }
}

/// What came of one attempt.
#[derive(Debug, Clone, Copy)]
pub enum Attempt<'a> {
    /// The provider answered with success: its reply is being read.
    Answered,
    /// The provider answered with an error, classified.
    Refused(&'a ProviderError),
    /// The provider could not be reached (the message says why, without the URL's secrets).
    Unreachable(&'a str),
}

/// What the driver should do now.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// Send the request to `candidates[index]`, then [`Call::report`] what came.
    Send {
        /// Which candidate.
        index: usize,
    },
    /// Wait this long, then ask again.
    Sleep(Duration),
    /// `candidates[index]` answered: read its reply. The call is over.
    Served {
        /// Which candidate.
        index: usize,
    },
    /// Every candidate failed, or the failure must not be retried: the call fails with this.
    Failed(Error),
}

/// One call's progress through its candidates.
#[derive(Debug, Clone)]
pub struct Call {
    policy: CallPolicy,
    candidates: usize,
    index: usize,
    attempt: u32,
    state: State,
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    Ready,
    Sent,
    Sleeping(Duration),
    Served,
    Failed(Error),
}

impl Call {
    /// A call over `candidates` candidates (at least one is routed, so at least one).
    pub fn new(candidates: usize, policy: CallPolicy) -> Call {
        Call {
            policy,
            candidates,
            index: 0,
            attempt: 0,
            state: if candidates == 0 {
                State::Failed(Error::new(
                    ErrorKind::Unreachable,
                    "no provider could be tried",
                ))
            } else {
                State::Ready
            },
        }
    }

    /// What to do now. After a [`Next::Sleep`], the next call sends again.
    pub fn poll(&mut self) -> Next {
        match &self.state {
            State::Ready | State::Sent => {
                self.state = State::Sent;
                Next::Send { index: self.index }
            }
            State::Sleeping(wait) => {
                let wait = *wait;
                self.state = State::Ready;
                Next::Sleep(wait)
            }
            State::Served => Next::Served { index: self.index },
            State::Failed(e) => Next::Failed(e.clone()),
        }
    }

    /// Reports what the last [`Next::Send`] came to, at `now`, with a random number for the
    /// backoff's jitter. Returns what the attempt taught about the candidate's key (a key the
    /// provider refused, one that rests), for routing to use next time.
    pub fn report(
        &mut self,
        attempt: Attempt<'_>,
        now: OffsetDateTime,
        random: u64,
    ) -> Option<KeyStatus> {
        let (error, retry_after, learned) = match attempt {
            Attempt::Answered => {
                self.state = State::Served;
                return Some(KeyStatus::Ok);
            }
            Attempt::Refused(e) => {
                let learned = KeyStatus::after_error(e, now);
                let error = Error::from(e);
                // A bad key or a bad request is never retried, nor sent elsewhere.
                if !e.kind.is_retryable() {
                    self.state = State::Failed(error);
                    return learned;
                }
                (error, e.retry_after, learned)
            }
            Attempt::Unreachable(why) => (Error::new(ErrorKind::Unreachable, why), None, None),
        };
        let wait = self.policy.backoff(self.attempt, retry_after, random);
        if self.attempt < self.policy.max_retries && wait <= self.policy.max_wait {
            self.attempt += 1;
            self.state = State::Sleeping(wait);
        } else if self.index + 1 < self.candidates {
            // On to the next key or provider, at once.
            self.index += 1;
            self.attempt = 0;
            self.state = State::Ready;
        } else {
            self.state = State::Failed(error);
        }
        learned
    }
}

/// How a call's reply ended, as its usage record says (`outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyEnd {
    /// The reply came whole.
    Ok,
    /// The client went away mid-stream: what was generated is still recorded.
    ClientDisconnected,
    /// The provider sent an error event mid-stream: what came before it is recorded.
    ProviderError,
    /// The provider's stream broke off.
    StreamInterrupted,
}

impl ReplyEnd {
    /// The name stored in the usage record's `outcome`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyEnd::Ok => "ok",
            ReplyEnd::ClientDisconnected => "client_disconnected",
            ReplyEnd::ProviderError => "provider_error",
            ReplyEnd::StreamInterrupted => "stream_interrupted",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind as Kind;

    const NOW: OffsetDateTime = OffsetDateTime::UNIX_EPOCH;

    fn refusal(kind: Kind, status: u16, retry_after: Option<u64>) -> ProviderError {
        ProviderError {
            provider: Provider::OpenAi,
            kind,
            status,
            retry_after: retry_after.map(Duration::from_secs),
            message: format!("{kind}"),
            code: None,
        }
    }

    /// Drives a call over `candidates` with scripted attempts; returns what the driver was told
    /// to do, in order.
    fn drive(candidates: usize, script: &[Attempt<'_>]) -> Vec<Next> {
        let mut call = Call::new(candidates, CallPolicy::default());
        let mut seen = Vec::new();
        let mut script = script.iter();
        loop {
            let next = call.poll();
            seen.push(next.clone());
            match next {
                Next::Send { .. } => {
                    let attempt = script.next().expect("the script covers every send");
                    call.report(*attempt, NOW, 0);
                }
                Next::Sleep(_) => {}
                Next::Served { .. } | Next::Failed(_) => return seen,
            }
        }
    }

    #[test]
    fn a_server_error_is_retried_with_backoff_then_the_next_candidate_serves() {
        let e = refusal(Kind::ServerError, 500, None);
        let seen = drive(
            2,
            &[
                Attempt::Refused(&e),
                Attempt::Refused(&e),
                Attempt::Refused(&e),
                Attempt::Answered,
            ],
        );
        assert_eq!(
            seen,
            [
                Next::Send { index: 0 },
                Next::Sleep(Duration::from_millis(125)),
                Next::Send { index: 0 },
                Next::Sleep(Duration::from_millis(250)),
                Next::Send { index: 0 },
                Next::Send { index: 1 },
                Next::Served { index: 1 },
            ]
        );
    }

    #[test]
    fn a_long_retry_after_moves_on_at_once_and_a_short_one_is_honoured() {
        let long = refusal(Kind::RateLimited, 429, Some(30));
        let seen = drive(2, &[Attempt::Refused(&long), Attempt::Answered]);
        assert_eq!(
            seen,
            [
                Next::Send { index: 0 },
                Next::Send { index: 1 },
                Next::Served { index: 1 }
            ]
        );
        let short = refusal(Kind::RateLimited, 429, Some(3));
        let seen = drive(1, &[Attempt::Refused(&short), Attempt::Answered]);
        assert_eq!(seen[1], Next::Sleep(Duration::from_secs(3)));
    }

    #[test]
    fn a_bad_key_or_request_is_never_retried_nor_sent_elsewhere() {
        for kind in [Kind::InvalidKey, Kind::BadRequest, Kind::InsufficientCredit] {
            let e = refusal(kind, 401, None);
            let seen = drive(3, &[Attempt::Refused(&e)]);
            assert_eq!(seen.len(), 2, "{kind}: {seen:?}");
            let Next::Failed(error) = &seen[1] else {
                panic!("{seen:?}")
            };
            assert_eq!(error.kind.as_str(), kind.as_str());
            assert_eq!(error.kind.status(), Some(401));
        }
    }

    #[test]
    fn when_every_candidate_fails_the_last_error_is_the_calls() {
        let e = refusal(Kind::Overloaded, 529, None);
        let seen = drive(
            2,
            &[
                Attempt::Unreachable("connection refused"),
                Attempt::Unreachable("connection refused"),
                Attempt::Unreachable("connection refused"),
                Attempt::Refused(&e),
                Attempt::Refused(&e),
                Attempt::Refused(&e),
            ],
        );
        let Some(Next::Failed(error)) = seen.last() else {
            panic!("{seen:?}")
        };
        assert_eq!(error.kind.as_str(), "overloaded");
        let sends = seen
            .iter()
            .filter(|n| matches!(n, Next::Send { .. }))
            .count();
        assert_eq!(sends, 6);
    }

    #[test]
    fn what_an_attempt_teaches_about_its_key() {
        let mut call = Call::new(2, CallPolicy::default());
        call.poll();
        let limited = refusal(Kind::RateLimited, 429, Some(30));
        let learned = call.report(Attempt::Refused(&limited), NOW, 0);
        assert_eq!(
            learned,
            Some(KeyStatus::Failing {
                until: NOW + Duration::from_secs(30)
            })
        );
        call.poll();
        assert_eq!(call.report(Attempt::Answered, NOW, 0), Some(KeyStatus::Ok));
        let bad = refusal(Kind::InvalidKey, 401, None);
        let mut call = Call::new(1, CallPolicy::default());
        call.poll();
        assert!(matches!(
            call.report(Attempt::Refused(&bad), NOW, 0),
            Some(KeyStatus::Invalid { .. })
        ));
        // A connection that failed says nothing about the key.
        let mut call = Call::new(1, CallPolicy::default());
        call.poll();
        assert_eq!(call.report(Attempt::Unreachable("reset"), NOW, 0), None);
    }

    #[test]
    fn backoff_doubles_is_jittered_and_capped() {
        let p = CallPolicy::default();
        assert_eq!(p.backoff(0, None, 0), Duration::from_millis(125));
        assert_eq!(
            p.backoff(0, None, u64::MAX),
            Duration::from_micros(125_000 + 44_115)
        );
        assert!(p.backoff(1, None, 7) >= Duration::from_millis(250));
        assert_eq!(p.backoff(30, None, 0), Duration::from_secs(4));
        assert!(p.backoff(30, None, u64::MAX) <= Duration::from_secs(8));
        assert_eq!(
            p.backoff(0, Some(Duration::from_secs(5)), 0),
            Duration::from_secs(5)
        );
    }
}
