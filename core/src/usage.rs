//! Usage events and summaries over a window: "what did I spend, on what, this month?"

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};

use crate::budget::{Budget, BudgetStatus, Month};
use crate::cost::{BillableTokens, CostStatus, Usage};
use crate::provider::Provider;
use crate::routing::Payer;

/// One AI call's usage, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageEvent {
    /// When the call was made.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    #[serde(with = "crate::instant")]
    #[cfg_attr(feature = "ts", ts(type = "Instant"))]
    pub at: OffsetDateTime,
    /// The provider that served it.
    pub provider: Provider,
    /// The model, as the provider named it.
    pub model: String,
    /// The app feature that made it (`portfolio_chat`, …); empty when none was given.
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(optional, as = "Option<String>"))]
    pub feature: String,
    /// Who paid.
    pub payer: Payer,
    /// Tokens as the provider reported them.
    pub usage: Usage,
    /// Its exact cost; `None` when unpriced.
    #[cfg_attr(feature = "ts", ts(type = "Decimal | null"))]
    pub cost_usd: Option<Decimal>,
    /// How far the cost can be trusted.
    pub cost_status: CostStatus,
}

/// The header of a CSV export of usage events; [`UsageEvent::csv_row`] writes the rows.
pub const CSV_HEADER: &str = "at,provider,model,feature,payer,input_tokens,output_tokens,\
cached_input_tokens,cache_write_tokens,reasoning_tokens,cost_usd,cost_status";

impl UsageEvent {
    /// What the event adds to its user's own-key spending, the figure a budget limits: the
    /// cost of a call the user's key paid for, when it is priced (as [`Totals`] counts it).
    pub fn user_spend(&self) -> Option<Decimal> {
        match (self.payer, self.cost_usd) {
            (Payer::User, Some(c)) if self.cost_status != CostStatus::Unpriced => Some(c),
            _ => None,
        }
    }

    /// The event as a row of a CSV export (RFC 4180: a field with a comma, a quote or a line
    /// break is quoted), in [`CSV_HEADER`]'s order; money as its exact decimal, empty when
    /// unpriced.
    pub fn csv_row(&self) -> String {
        fn field(s: &str) -> std::borrow::Cow<'_, str> {
            if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\"")).into()
            } else {
                s.into()
            }
        }
        let u = &self.usage;
        let at = crate::instant::format(self.at).unwrap_or_default();
        let cost = self.cost_usd.map(|c| c.to_string()).unwrap_or_default();
        [
            field(&at),
            field(self.provider.as_str()),
            field(&self.model),
            field(&self.feature),
            field(self.payer.as_str()),
            u.input_tokens.to_string().into(),
            u.output_tokens.to_string().into(),
            u.cached_input_tokens.to_string().into(),
            u.cache_write_tokens.to_string().into(),
            u.reasoning_tokens.to_string().into(),
            cost.into(),
            field(self.cost_status.as_str()),
        ]
        .join(",")
    }
}

impl Usage {
    /// Input-side and output-side tokens of a call, whatever the provider's way of counting:
    /// the prompt with cached and cache-write tokens, and the output with reasoning tokens.
    /// The split is [`BillableTokens::clamped`]'s, the one place that knows each provider's
    /// way of counting.
    pub fn sent_and_received(&self, provider: Provider) -> (u64, u64) {
        let b = BillableTokens::clamped(provider, self);
        (b.prompt_tokens(), b.output_tokens())
    }

    /// Every token of the call, in and out: what the system key's monthly cap counts.
    pub fn total_tokens(&self, provider: Provider) -> u64 {
        let (i, o) = self.sent_and_received(provider);
        i.saturating_add(o)
    }
}

/// A summary window: `days` days ending at `end` (events with `end - days < at ≤ end`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Window {
    /// The last instant.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    #[serde(with = "crate::instant")]
    #[cfg_attr(feature = "ts", ts(type = "Instant"))]
    pub end: OffsetDateTime,
    /// Its length, 1 to 365 days.
    pub days: u16,
}

/// A window length outside 1–365 days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a usage window is 1 to 365 days, not {days}")]
pub struct WindowOutOfRange {
    /// The length asked for.
    pub days: i64,
}

impl Window {
    /// The `days` days up to `end`; 7, 30 and 90 are the usual ones.
    pub fn new(end: OffsetDateTime, days: i64) -> Result<Window, WindowOutOfRange> {
        match u16::try_from(days) {
            Ok(d @ 1..=365) => Ok(Window { end, days: d }),
            _ => Err(WindowOutOfRange { days }),
        }
    }

    /// The instant the window starts after.
    pub fn start(&self) -> OffsetDateTime {
        self.end - Duration::days(i64::from(self.days))
    }

    /// Whether an event at `at` is in the window.
    pub fn contains(&self, at: OffsetDateTime) -> bool {
        at > self.start() && at <= self.end
    }
}

/// Counts and cost of a set of calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Totals {
    /// Calls.
    pub requests: u64,
    /// Input-side tokens (prompt, cached and cache-write).
    pub input_tokens: u64,
    /// Output-side tokens (with reasoning).
    pub output_tokens: u64,
    /// `input_tokens + output_tokens`.
    pub total_tokens: u64,
    /// The exact sum of the priced calls' costs.
    #[cfg_attr(feature = "ts", ts(type = "Decimal"))]
    pub cost_usd: Decimal,
    /// Calls whose cost is unknown (not in `cost_usd`).
    pub unpriced_requests: u64,
    /// Calls whose cost was computed from estimated tokens (in `cost_usd`).
    pub estimated_requests: u64,
}

impl Totals {
    /// Adds one event. (PostgreSQL's `get_user_usage_summary`, in
    /// daemon/migrations/postgres/0002_usage_summary.sql, counts by the same rule in SQL; the
    /// daemon's tests hold the two equal.)
    pub fn add_event(&mut self, e: &UsageEvent) {
        let (input, output) = e.usage.sent_and_received(e.provider);
        self.requests += 1;
        self.input_tokens = self.input_tokens.saturating_add(input);
        self.output_tokens = self.output_tokens.saturating_add(output);
        self.total_tokens = self
            .total_tokens
            .saturating_add(input.saturating_add(output));
        match e.cost_usd {
            Some(c) if e.cost_status != CostStatus::Unpriced => {
                self.cost_usd += c;
                if e.cost_status == CostStatus::Estimated {
                    self.estimated_requests += 1;
                }
            }
            _ => self.unpriced_requests += 1,
        }
    }

    /// Takes away one event that [`Totals::add_event`] (or a day's totals holding it) added.
    pub fn remove_event(&mut self, e: &UsageEvent) {
        let (input, output) = e.usage.sent_and_received(e.provider);
        self.requests = self.requests.saturating_sub(1);
        self.input_tokens = self.input_tokens.saturating_sub(input);
        self.output_tokens = self.output_tokens.saturating_sub(output);
        self.total_tokens = self
            .total_tokens
            .saturating_sub(input.saturating_add(output));
        match e.cost_usd {
            Some(c) if e.cost_status != CostStatus::Unpriced => {
                self.cost_usd -= c;
                if e.cost_status == CostStatus::Estimated {
                    self.estimated_requests = self.estimated_requests.saturating_sub(1);
                }
            }
            _ => self.unpriced_requests = self.unpriced_requests.saturating_sub(1),
        }
    }

    /// Adds another set of totals.
    pub fn add(&mut self, o: &Totals) {
        self.requests += o.requests;
        self.input_tokens = self.input_tokens.saturating_add(o.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(o.output_tokens);
        self.total_tokens = self.total_tokens.saturating_add(o.total_tokens);
        self.cost_usd += o.cost_usd;
        self.unpriced_requests += o.unpriced_requests;
        self.estimated_requests += o.estimated_requests;
    }
}

/// One day of a summary (UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DayTotals {
    /// The day.
    #[cfg_attr(feature = "ts", ts(type = "Day"))]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    #[serde(with = "crate::day")]
    pub date: Date,
    /// Its totals.
    #[serde(flatten)]
    pub totals: Totals,
    /// Its totals per provider (only the providers called that day), adding up to `totals`
    /// exactly: the bars of a cost-per-day chart stacked by provider.
    #[serde(default)]
    pub by_provider: BTreeMap<Provider, Totals>,
}

/// The system key's monthly quota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuotaStatus {
    /// The month (that of the window's end).
    pub month: Month,
    /// Tokens used through the system key.
    pub used_tokens: u64,
    /// The cap.
    pub cap_tokens: u64,
    /// Left, never negative.
    pub left_tokens: u64,
}

/// Usage over a window, with breakdowns whose parts add up to the totals exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename_all = "camelCase"))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageSummary {
    /// The window.
    pub window: Window,
    /// Everything in the window.
    pub totals: Totals,
    /// Per provider.
    pub by_provider: BTreeMap<Provider, Totals>,
    /// Per feature (`""` for calls without one).
    pub by_feature: BTreeMap<String, Totals>,
    /// Per `provider/model`.
    pub by_model: BTreeMap<String, Totals>,
    /// Per payer.
    pub by_payer: BTreeMap<String, Totals>,
    /// Per UTC day from the window's first to its last, days without calls included.
    pub by_day: Vec<DayTotals>,
    /// The system key's quota in the month of the window's end, if a cap was given.
    pub system_quota: Option<QuotaStatus>,
    /// The budget in the month of the window's end (user-paid costs), if a budget was given.
    pub budget: Option<BudgetStatus>,
}

/// Summarizes `events` (any order, any span: those outside the window are skipped, but still
/// count toward this month's quota and budget) over `window`.
pub fn summarize(
    events: &[UsageEvent],
    window: Window,
    system_cap: Option<u64>,
    budget: Option<&Budget>,
) -> UsageSummary {
    let mut s = Summarizer::new(window);
    for e in events {
        s.add_event(e);
    }
    s.finish(system_cap, budget)
}

/// One day's totals of one (provider, payer, feature, model), as a store keeps them
/// pre-aggregated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayGroup {
    /// The UTC day.
    pub day: Date,
    /// Provider.
    pub provider: Provider,
    /// Payer.
    pub payer: Payer,
    /// Feature (`""` for none).
    pub feature: String,
    /// Model.
    pub model: String,
    /// The day's totals for them.
    pub totals: Totals,
}

/// A summary's group: provider, payer, day of the window, feature, model.
type GroupKey<'a> = (Provider, Payer, i64, &'a str, &'a str);

fn group_key<'a>(
    provider: Provider,
    payer: Payer,
    day: i64,
    feature: &'a str,
    model: &'a str,
) -> GroupKey<'a> {
    (provider, payer, day, feature, model)
}

/// Builds a [`UsageSummary`] from events and from whole days already added up.
///
/// A store that keeps daily totals gives the whole days with [`Summarizer::add_day`] and the
/// events of the two partial days at the window's edges (the days of its start and of its end)
/// with [`Summarizer::add_event`]; the result is the same as summarizing every event. Days in
/// the month of the window's end count toward its quota and budget even when they are before the
/// window.
///
/// Reading the edge days' events can be avoided: the first day's totals can come whole with
/// [`Summarizer::add_first_day`] and its events at or before the window's start be taken away
/// with [`Summarizer::remove_event`]; the last day's totals can come whole with
/// [`Summarizer::add_last_day`] when it has no event after the window's end.
pub struct Summarizer<'a> {
    window: Window,
    first_day: Date,
    days: usize,
    month_start: OffsetDateTime,
    start_ns: i128,
    end_ns: i128,
    month_start_ns: i128,
    first_day_s: i64,
    groups: HashMap<GroupKey<'a>, Totals, foldhash::fast::FixedState>,
    system_tokens: u64,
    user_spent: Decimal,
}

impl<'a> Summarizer<'a> {
    /// An empty summary of `window`.
    pub fn new(window: Window) -> Summarizer<'a> {
        let start = window.start();
        let first_day = (start + Duration::NANOSECOND).date();
        let month_start = Month::containing(window.end).start();
        Summarizer {
            window,
            first_day,
            days: (window.end.date() - first_day).whole_days() as usize + 1,
            month_start,
            start_ns: start.unix_timestamp_nanos(),
            end_ns: window.end.unix_timestamp_nanos(),
            month_start_ns: month_start.unix_timestamp_nanos(),
            first_day_s: first_day.midnight().assume_utc().unix_timestamp(),
            groups: HashMap::with_capacity_and_hasher(4096, Default::default()),
            system_tokens: 0,
            user_spent: Decimal::ZERO,
        }
    }

    /// Adds one event: to the window if it falls in it, to the month's quota and budget if it
    /// falls in the month of the window's end, up to the end.
    pub fn add_event(&mut self, e: &'a UsageEvent) {
        let at = e.at.unix_timestamp_nanos();
        if at >= self.month_start_ns && at <= self.end_ns {
            self.add_event_to_month(e);
        }
        self.add_window_event(e);
    }

    /// Adds one event to the window only, if it falls in it (not to the quota and budget): for
    /// the first day's events after the window's start when that day's share of the month came
    /// whole with [`Summarizer::add_day`].
    pub fn add_window_event(&mut self, e: &'a UsageEvent) {
        let at = e.at.unix_timestamp_nanos();
        if at <= self.start_ns || at > self.end_ns {
            return;
        }
        let day = (e.at.unix_timestamp() - self.first_day_s).div_euclid(86_400);
        self.groups
            .entry(group_key(e.provider, e.payer, day, &e.feature, &e.model))
            .or_default()
            .add_event(e);
    }

    fn add_event_to_month(&mut self, e: &UsageEvent) {
        match e.payer {
            Payer::System => {
                self.system_tokens = self
                    .system_tokens
                    .saturating_add(e.usage.total_tokens(e.provider))
            }
            Payer::User => self.user_spent += e.user_spend().unwrap_or_default(),
        }
    }

    /// Adds a whole day's totals. Only days strictly between the window's first and last day go
    /// to the window (the edge days must come as events); days of the month of the window's end,
    /// before its last day, go to the quota and budget.
    pub fn add_day(&mut self, g: &'a DayGroup) {
        if g.day >= self.window.end.date() {
            return;
        }
        self.add_to_month(g);
        if g.day > self.first_day {
            let day = (g.day - self.first_day).whole_days();
            self.group(g, day).add(&g.totals);
        }
    }

    /// The window's first day (that of its start, unless the start is the day's last instant).
    pub fn first_day(&self) -> Date {
        self.first_day
    }

    /// Adds a whole day's totals for the window's first day, to the window and (in the month of
    /// the window's end) to the quota and budget; its events at or before the window's start are
    /// then to be taken away with [`Summarizer::remove_event`]. Other days are ignored.
    pub fn add_first_day(&mut self, g: &'a DayGroup) {
        if g.day != self.first_day || g.day >= self.window.end.date() {
            return;
        }
        self.add_to_month(g);
        self.group(g, 0).add(&g.totals);
    }

    /// Adds a whole day's totals for the window's last day, to the window and to the quota and
    /// budget. Only for a day that has no event after the window's end: the caller checks.
    pub fn add_last_day(&mut self, g: &'a DayGroup) {
        if g.day != self.window.end.date() || g.day <= self.first_day {
            return;
        }
        self.add_to_month(g);
        let day = (g.day - self.first_day).whole_days();
        self.group(g, day).add(&g.totals);
    }

    /// Takes away an event of the window's first day at or before the window's start, which
    /// [`Summarizer::add_first_day`] counted in the window. Other events are ignored.
    pub fn remove_event(&mut self, e: &'a UsageEvent) {
        let at = e.at.unix_timestamp_nanos();
        if at > self.start_ns || e.at.date() != self.first_day {
            return;
        }
        let key = group_key(e.provider, e.payer, 0, &e.feature, &e.model);
        if let Some(t) = self.groups.get_mut(&key) {
            t.remove_event(e);
        }
    }

    fn add_to_month(&mut self, g: &DayGroup) {
        if g.day.midnight().assume_utc() >= self.month_start {
            match g.payer {
                Payer::System => {
                    self.system_tokens = self.system_tokens.saturating_add(g.totals.total_tokens)
                }
                Payer::User => self.user_spent += g.totals.cost_usd,
            }
        }
    }

    fn group(&mut self, g: &'a DayGroup, day: i64) -> &mut Totals {
        self.groups
            .entry(group_key(g.provider, g.payer, day, &g.feature, &g.model))
            .or_default()
    }

    /// The summary.
    pub fn finish(self, system_cap: Option<u64>, budget: Option<&Budget>) -> UsageSummary {
        let mut totals = Totals::default();
        let mut by_provider: BTreeMap<Provider, Totals> = BTreeMap::new();
        let mut by_feature: BTreeMap<String, Totals> = BTreeMap::new();
        let mut by_model: BTreeMap<String, Totals> = BTreeMap::new();
        let mut by_payer: BTreeMap<String, Totals> = BTreeMap::new();
        let first_day = self.first_day;
        let mut by_day: Vec<DayTotals> = (0..self.days)
            .map(|i| DayTotals {
                date: first_day + Duration::days(i as i64),
                totals: Totals::default(),
                by_provider: BTreeMap::new(),
            })
            .collect();
        for ((provider, payer, day, feature, model), t) in &self.groups {
            // A group whose events were all taken away again was never in the window.
            if t.requests == 0 {
                continue;
            }
            totals.add(t);
            by_provider.entry(*provider).or_default().add(t);
            by_feature.entry((*feature).to_owned()).or_default().add(t);
            by_model
                .entry(format!("{provider}/{model}"))
                .or_default()
                .add(t);
            let payer = match payer {
                Payer::User => "user",
                Payer::System => "system",
            };
            by_payer.entry(payer.to_owned()).or_default().add(t);
            if let Some(d) = usize::try_from(*day).ok().and_then(|i| by_day.get_mut(i)) {
                d.totals.add(t);
                d.by_provider.entry(*provider).or_default().add(t);
            }
        }
        // Costs written without trailing zeros, so that a summary reads the same however its
        // totals were added up (from events, or from daily totals stored normalized).
        let tidy = |t: &mut Totals| t.cost_usd = t.cost_usd.normalize();
        tidy(&mut totals);
        by_provider.values_mut().for_each(tidy);
        by_feature.values_mut().for_each(tidy);
        by_model.values_mut().for_each(tidy);
        by_payer.values_mut().for_each(tidy);
        by_day.iter_mut().for_each(|d| {
            tidy(&mut d.totals);
            d.by_provider.values_mut().for_each(tidy);
        });
        let month = Month::containing(self.window.end);
        UsageSummary {
            window: self.window,
            totals,
            by_provider,
            by_feature,
            by_model,
            by_payer,
            by_day,
            system_quota: system_cap.map(|cap| QuotaStatus {
                month,
                used_tokens: self.system_tokens,
                cap_tokens: cap,
                left_tokens: cap.saturating_sub(self.system_tokens),
            }),
            budget: budget.map(|b| b.status(month, self.user_spent)),
        }
    }
}
