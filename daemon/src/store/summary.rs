//! How a store reads a summary: which daily totals and which events, and how they add up. One
//! plan for every backend, so that SQLite and PostgreSQL give the same figures; each backend
//! only runs the reads the plan names.
//!
//! A window is whole UTC days from the daily totals, plus the edge days. The edge days come
//! whole from the daily totals too, when that is exact: the first day's events at or before the
//! window's start are then taken away (fewer events are read than the whole day's), and the last
//! day comes whole when no event follows the window's end.

use byokit_core::budget::{Budget, Month};
use byokit_core::usage::{DayGroup, Summarizer};
use byokit_core::{UsageEvent, UsageSummary, Window};
use time::OffsetDateTime;

/// Days as stored: days since 1970-01-01, UTC.
pub fn day_number(at: OffsetDateTime) -> i64 {
    at.unix_timestamp().div_euclid(86_400)
}

/// A stored day number as a date.
pub fn day_date(n: i64) -> time::Date {
    (OffsetDateTime::UNIX_EPOCH + time::Duration::days(n)).date()
}

/// The first instant of a stored day.
pub fn day_start(n: i64) -> OffsetDateTime {
    day_date(n).midnight().assume_utc()
}

/// An instant after every instant a store holds: the end of "all of it".
pub fn far_future() -> OffsetDateTime {
    time::Date::MAX.midnight().assume_utc()
}

/// A range of instants, `from ≤ at < until`.
pub type Span = (OffsetDateTime, OffsetDateTime);

/// The reads a summary of one window needs.
#[derive(Debug, Clone, Copy)]
pub struct SummaryPlan {
    window: Window,
    first_day: i64,
    end_day: i64,
    month_day: i64,
    whole_edges: bool,
    start_late_in_day: bool,
}

impl SummaryPlan {
    /// The plan of `window`.
    pub fn new(window: Window) -> SummaryPlan {
        let first_day = day_number(Summarizer::new(window).first_day().midnight().assume_utc());
        let end_day = day_number(window.end);
        let whole_edges = first_day < end_day;
        SummaryPlan {
            window,
            first_day,
            end_day,
            month_day: day_number(Month::containing(window.end).start()),
            whole_edges,
            start_late_in_day: whole_edges
                && window.start() - day_start(first_day) > time::Duration::hours(12),
        }
    }

    /// The daily totals to read: days `from ..= to` (the window's, and its end's month).
    pub fn days(&self) -> (i64, i64) {
        (self.first_day.min(self.month_day), self.end_day)
    }

    /// Where an event after the window's end would make the last day's totals unusable whole;
    /// `None` when they are not used whole anyway.
    pub fn after_end(&self) -> Option<Span> {
        self.whole_edges
            .then(|| (self.window.end, day_start(self.end_day + 1)))
    }

    /// The events to read, given whether an event was found in [`SummaryPlan::after_end`]:
    /// those taken away from the first day, those added to it, and an edge day's.
    pub fn events(&self, after_end: bool) -> EventReads {
        let window = &self.window;
        let (early, after_start) = match (self.whole_edges, self.start_late_in_day) {
            (true, true) => (
                None,
                Some((
                    window.start() - time::Duration::MILLISECOND,
                    day_start(self.first_day + 1),
                )),
            ),
            (true, false) => (
                Some((
                    day_start(self.first_day),
                    window.start() + time::Duration::MILLISECOND,
                )),
                None,
            ),
            (false, _) => (None, None),
        };
        let one_day = |day: i64| Some((day_start(day), day_start(day + 1)));
        let edge = if !self.whole_edges {
            one_day(self.first_day)
        } else if !after_end {
            None
        } else {
            one_day(self.end_day)
        };
        EventReads {
            early,
            after_start,
            edge,
            last_day_whole: self.whole_edges && !after_end,
        }
    }

    /// The summary from what the reads returned: the daily groups, and the events of each of
    /// `reads`' spans (`early`, `after_start`, `edge`, in that order).
    pub fn finish(
        &self,
        groups: &[DayGroup],
        reads: &EventReads,
        [early, after_start, edge]: [&[UsageEvent]; 3],
        cap: Option<u64>,
        budget: Option<&Budget>,
    ) -> UsageSummary {
        let last_day_whole = reads.last_day_whole;
        let mut s = Summarizer::new(self.window);
        for g in groups {
            match day_number(g.day.midnight().assume_utc()) {
                d if self.start_late_in_day && d == self.first_day => s.add_day(g),
                d if self.whole_edges && d == self.first_day => s.add_first_day(g),
                d if d == self.first_day => {}
                d if d == self.end_day && last_day_whole => s.add_last_day(g),
                d if d == self.end_day => {}
                _ => s.add_day(g),
            }
        }
        for e in early {
            s.remove_event(e);
        }
        for e in after_start {
            s.add_window_event(e);
        }
        for e in edge {
            s.add_event(e);
        }
        s.finish(cap, budget)
    }
}

/// The events a summary reads, each a span of instants (or none).
#[derive(Debug, Clone, Copy)]
pub struct EventReads {
    /// The first day's events at or before the window's start, taken away from its totals.
    pub early: Option<Span>,
    /// The first day's events after the window's start, when they are fewer than the others.
    pub after_start: Option<Span>,
    /// A whole edge day's events, when its totals are not used.
    pub edge: Option<Span>,
    /// Whether the last day's totals are used whole (no event follows the window's end).
    last_day_whole: bool,
}
