//! Instants written in RFC 3339 (`2026-11-29T06:00:30.5Z`, `2026-11-29T07:00:30+01:00`), as
//! every byokit format writes them.
//!
//! Read and written here rather than through `time`'s well-known `Rfc3339` format, whose general
//! parser, formatter and their errors made 4.7 KB of the gzipped WebAssembly package
//! (`docs/benchmarks.md`). The day is read by [`crate::day::parse`]. Both
//! read and write the same text as `time`'s (a property test checks it), except that the date
//! and the time must be separated by `T`, `t` or a space, as RFC 3339 says, where `time` takes
//! any character.

use std::fmt;

use serde::{de, Deserialize, Deserializer, Serializer};
use time::{OffsetDateTime, Time, UtcOffset};

/// Reads an RFC 3339 instant; `None` for anything else, including a day or a time that does not
/// exist. A leap second (`23:59:60Z` on the last day of a month) is read as the nanosecond
/// before the next second, as `time` reads it.
pub fn parse(text: &str) -> Option<OffsetDateTime> {
    let b = text.as_bytes();
    let number = |from: usize, len: usize| {
        b.get(from..from + len)?.iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(matches!(b.get(10), Some(b'T' | b't' | b' ')) && at(13, b':') && at(16, b':')) {
        return None;
    }
    let date = crate::day::parse(text.get(..10)?)?;
    let (hour, minute) = (number(11, 2)?, number(14, 2)?);
    let mut second = number(17, 2)?;
    let mut rest = &b[19..];
    let mut nanosecond = 0;
    if let Some(fraction) = rest.strip_prefix(b".") {
        let len = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        // Digits past the ninth are below a nanosecond: they are dropped.
        nanosecond = fraction[..len]
            .iter()
            .chain(std::iter::repeat(&b'0'))
            .take(9)
            .fold(0, |n, c| n * 10 + u32::from(c - b'0'));
        rest = &fraction[len..];
    }
    let offset = match rest {
        [b'Z' | b'z'] => UtcOffset::UTC,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let two = |a: u8, b: u8| {
                (a.is_ascii_digit() && b.is_ascii_digit())
                    .then(|| i8::try_from((a - b'0') * 10 + (b - b'0')).ok())
                    .flatten()
            };
            let (hours, minutes) = (two(*h1, *h2)?, two(*m1, *m2)?);
            if hours > 23 {
                return None;
            }
            let sign = if *sign == b'-' { -1 } else { 1 };
            UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()?
        }
        _ => return None,
    };
    let leap_second = second == 60;
    if leap_second {
        (second, nanosecond) = (59, 999_999_999);
    }
    let time = Time::from_hms_nano(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
        nanosecond,
    )
    .ok()?;
    let instant = OffsetDateTime::new_in_offset(date, time, offset);
    if leap_second {
        // A leap second is only ever the last second of a month, in UTC.
        let utc = instant.checked_to_offset(UtcOffset::UTC)?;
        let last_of_month = utc.date().next_day().is_none_or(|next| next.day() == 1);
        if !(last_of_month && (utc.hour(), utc.minute()) == (23, 59)) {
            return None;
        }
    }
    Some(instant)
}

/// Writes `instant` in RFC 3339: UTC as `Z`, fractions of a second only when there are any,
/// without trailing zeros. `None` when RFC 3339 cannot write it: a year outside 0000–9999, an
/// offset of a day or more or with seconds.
pub fn format(instant: OffsetDateTime) -> Option<String> {
    let year = u16::try_from(instant.year()).ok().filter(|y| *y < 10_000)?;
    let (hours, minutes, seconds) = instant.offset().as_hms();
    if seconds != 0 || hours.unsigned_abs() > 23 {
        return None;
    }
    let mut out = String::with_capacity(35);
    let digits = |out: &mut String, n: u32, width: usize| {
        use fmt::Write as _;
        let _ = write!(out, "{n:0width$}");
    };
    digits(&mut out, u32::from(year), 4);
    for (separator, n) in [
        ('-', u8::from(instant.month())),
        ('-', instant.day()),
        ('T', instant.hour()),
        (':', instant.minute()),
        (':', instant.second()),
    ] {
        out.push(separator);
        digits(&mut out, u32::from(n), 2);
    }
    let nanosecond = instant.nanosecond();
    if nanosecond != 0 {
        out.push('.');
        digits(&mut out, nanosecond, 9);
        // Not past the point: the fraction has a digit other than 0.
        out.truncate(out.trim_end_matches('0').len());
    }
    if instant.offset().is_utc() {
        out.push('Z');
    } else {
        out.push(if instant.offset().is_negative() {
            '-'
        } else {
            '+'
        });
        digits(&mut out, u32::from(hours.unsigned_abs()), 2);
        out.push(':');
        digits(&mut out, u32::from(minutes.unsigned_abs()), 2);
    }
    Some(out)
}

/// Serializes an instant in RFC 3339 (for `#[serde(with = "crate::instant")]`).
pub fn serialize<S: Serializer>(
    instant: &OffsetDateTime,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match format(*instant) {
        Some(text) => serializer.serialize_str(&text),
        None => Err(serde::ser::Error::custom(format!(
            "{instant} cannot be written in RFC 3339"
        ))),
    }
}

/// Deserializes an RFC 3339 instant.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<OffsetDateTime, D::Error> {
    deserializer.deserialize_str(InstantVisitor)
}

struct InstantVisitor;

impl de::Visitor<'_> for InstantVisitor {
    type Value = OffsetDateTime;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an RFC 3339 date and time such as \"2026-11-29T06:00:00Z\"")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<OffsetDateTime, E> {
        parse(text).ok_or_else(|| E::invalid_value(de::Unexpected::Str(text), &self))
    }
}

/// An instant read through [`deserialize`], for `Option`.
struct Read(OffsetDateTime);

impl<'de> Deserialize<'de> for Read {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserialize(deserializer).map(Read)
    }
}

/// The same for an optional instant (`null` when absent).
pub mod option {
    use super::*;

    /// Serializes an optional instant in RFC 3339, or `null`.
    pub fn serialize<S: Serializer>(
        instant: &Option<OffsetDateTime>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match instant {
            Some(instant) => super::serialize(instant, serializer),
            None => serializer.serialize_none(),
        }
    }

    /// Deserializes an optional RFC 3339 instant.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<OffsetDateTime>, D::Error> {
        Ok(Option::<Read>::deserialize(deserializer)?.map(|r| r.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::format_description::well_known::Rfc3339;
    use time::macros::datetime;

    #[test]
    fn reads_and_writes_instants() {
        for (text, instant, written) in [
            (
                "2026-11-29T06:00:30Z",
                datetime!(2026-11-29 06:00:30 UTC),
                None,
            ),
            (
                "2026-11-29t06:00:30.5z",
                datetime!(2026-11-29 06:00:30.5 UTC),
                Some("2026-11-29T06:00:30.5Z"),
            ),
            (
                "2026-11-29 07:00:30.123456789+01:00",
                datetime!(2026-11-29 07:00:30.123456789 +01:00),
                Some("2026-11-29T07:00:30.123456789+01:00"),
            ),
            (
                "2026-11-29T06:00:30.1234567891234-00:00",
                datetime!(2026-11-29 06:00:30.123456789 UTC),
                Some("2026-11-29T06:00:30.123456789Z"),
            ),
            (
                "2016-12-31T23:59:60Z",
                datetime!(2016-12-31 23:59:59.999999999 UTC),
                Some("2016-12-31T23:59:59.999999999Z"),
            ),
            (
                "0999-01-01T00:00:00-09:30",
                datetime!(0999-01-01 00:00:00 -09:30),
                None,
            ),
        ] {
            assert_eq!(parse(text), Some(instant), "{text}");
            assert_eq!(format(instant).as_deref(), Some(written.unwrap_or(text)));
        }
        for bad in [
            "2026-11-29",
            "2026-11-29T06:00:30",
            "2026-11-29T06:00Z",
            "2026-02-30T06:00:30Z",
            "2026-11-29T24:00:00Z",
            "2026-11-29T06:00:30.Z",
            "2026-11-29T06:00:30+1:00",
            "2026-11-29T06:00:30+24:00",
            "2026-11-29T06:00:30+01:60",
            "2026-11-29T06:00:30Z ",
            "2026-11-29T23:59:60Z",
            "2026-11-29X06:00:30Z",
            "+2026-11-29T06:00:30Z",
            "２０２６-11-29T06:00:30Z",
            "",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        assert_eq!(format(datetime!(-0001-01-01 00:00 UTC)), None);
        assert_eq!(format(datetime!(2026-01-01 00:00 +01:00:30)), None);
    }

    #[test]
    fn round_trips_through_serde() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct T {
            #[serde(with = "crate::instant")]
            a: OffsetDateTime,
            #[serde(with = "crate::instant::option")]
            b: Option<OffsetDateTime>,
        }
        let t = T {
            a: datetime!(2026-11-29 06:00:30.25 UTC),
            b: Some(datetime!(2026-11-29 07:00:30 +01:00)),
        };
        let text = r#"{"a":"2026-11-29T06:00:30.25Z","b":"2026-11-29T07:00:30+01:00"}"#;
        assert_eq!(serde_json::to_string(&t).unwrap(), text);
        assert_eq!(serde_json::from_str::<T>(text).unwrap(), t);
        let none = r#"{"a":"2026-11-29T06:00:30Z","b":null}"#;
        assert_eq!(serde_json::from_str::<T>(none).unwrap().b, None);
        let escaped = r#"{"a":"2026-11-29T06:00:30\u005a","b":null}"#;
        assert!(serde_json::from_str::<T>(escaped).is_ok());
        let err = serde_json::from_str::<T>(r#"{"a":"tomorrow","b":null}"#).unwrap_err();
        assert!(
            err.to_string()
                .contains("expected an RFC 3339 date and time"),
            "{err}"
        );
    }

    fn instant_text() -> impl Strategy<Value = String> {
        (
            0..10_000u32,
            0..14u32,
            0..33u32,
            prop_oneof![Just("T"), Just("t"), Just(" ")],
            (0..25u32, 0..61u32, 0..62u32),
            proptest::option::of("[0-9]{0,12}"),
            prop_oneof![
                Just("Z".to_owned()),
                Just("z".to_owned()),
                (prop_oneof![Just('+'), Just('-')], 0..26u32, 0..61u32)
                    .prop_map(|(s, h, m)| format!("{s}{h:02}:{m:02}")),
            ],
        )
            .prop_map(|(y, mo, d, sep, (h, mi, s), fraction, offset)| {
                let fraction = fraction.map(|f| format!(".{f}")).unwrap_or_default();
                format!("{y:04}-{mo:02}-{d:02}{sep}{h:02}:{mi:02}:{s:02}{fraction}{offset}")
            })
    }

    proptest! {
        #[test]
        fn agrees_with_the_time_crate(text in instant_text()) {
            let theirs = OffsetDateTime::parse(&text, &Rfc3339).ok();
            prop_assert_eq!(parse(&text), theirs, "{}", text);
            if let Some(instant) = theirs {
                prop_assert_eq!(format(instant), instant.format(&Rfc3339).ok());
            }
        }

        #[test]
        fn writes_what_the_time_crate_writes(
            seconds in -62_000_000_000i64..253_402_300_800,
            nanos in prop_oneof![Just(0u32), 0..1_000_000_000u32, Just(500_000_000)],
            offset_minutes in -1439i32..1440,
        ) {
            let offset = UtcOffset::from_whole_seconds(offset_minutes * 60).unwrap();
            let instant = OffsetDateTime::from_unix_timestamp(seconds)
                .unwrap()
                .replace_nanosecond(nanos)
                .unwrap()
                .checked_to_offset(offset);
            prop_assume!(instant.is_some());
            let instant = instant.unwrap();
            prop_assert_eq!(format(instant), instant.format(&Rfc3339).ok());
            if let Some(text) = format(instant) {
                prop_assert_eq!(parse(&text), Some(instant));
            }
        }
    }
}
