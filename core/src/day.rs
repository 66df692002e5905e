//! Calendar days written `YYYY-MM-DD`, as every byokit format writes them.
//!
//! Read and written here rather than through `time`'s format descriptions: for this one fixed
//! format its general parser and formatter made about 20 KB of the WebAssembly package, 8.5 KB
//! gzipped (`docs/benchmarks.md`).

use serde::{de, Deserialize, Deserializer, Serializer};
use time::{Date, Month};

/// Reads a `YYYY-MM-DD` day; `None` for anything else, including a day that does not exist.
pub fn parse(text: &str) -> Option<Date> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number = |digits: &[u8]| {
        digits.iter().try_fold(0u16, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u16::from(c - b'0'))
        })
    };
    let (year, month, day) = (number(&b[..4])?, number(&b[5..7])?, number(&b[8..])?);
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(i32::from(year), month, u8::try_from(day).ok()?).ok()
}

/// Serializes a day as `YYYY-MM-DD` (for `#[serde(with = "crate::day")]`).
pub fn serialize<S: Serializer>(day: &Date, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(day)
}

/// Deserializes a `YYYY-MM-DD` day.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
    read(String::deserialize(deserializer)?)
}

/// `text` as a day, or the error that says what was expected.
fn read<E: de::Error>(text: String) -> Result<Date, E> {
    parse(&text).ok_or_else(|| E::custom(format!("invalid day {text:?}: expected YYYY-MM-DD")))
}

/// The same for an optional day (`null` when absent).
pub mod option {
    use super::*;

    /// Serializes an optional day as `YYYY-MM-DD` or `null`.
    pub fn serialize<S: Serializer>(day: &Option<Date>, serializer: S) -> Result<S::Ok, S::Error> {
        match day {
            Some(day) => serializer.collect_str(day),
            None => serializer.serialize_none(),
        }
    }

    /// Deserializes an optional `YYYY-MM-DD` day.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Date>, D::Error> {
        Option::<String>::deserialize(deserializer)?
            .map(read)
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn reads_and_writes_days() {
        assert_eq!(parse("2026-11-28"), Some(date!(2026 - 11 - 28)));
        assert_eq!(parse("0999-01-01"), Some(date!(0999 - 01 - 01)));
        assert_eq!(date!(2024 - 02 - 29).to_string(), "2024-02-29");
        assert_eq!(date!(0999 - 01 - 01).to_string(), "0999-01-01");
        for bad in [
            "2026-02-30",
            "2025-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "2026/11/28",
            "+2026-11-2",
            "2026-11-28T00:00:00Z",
            "",
            "２０２６-11-28",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn round_trips_through_serde() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct T {
            #[serde(with = "crate::day")]
            a: Date,
            #[serde(with = "crate::day::option")]
            b: Option<Date>,
        }
        let none = T {
            a: date!(2026 - 01 - 05),
            b: None,
        };
        let some = T {
            a: date!(2026 - 01 - 05),
            b: Some(date!(2024 - 02 - 29)),
        };
        for (t, text) in [
            (none, r#"{"a":"2026-01-05","b":null}"#),
            (some, r#"{"a":"2026-01-05","b":"2024-02-29"}"#),
        ] {
            assert_eq!(serde_json::to_string(&t).unwrap(), text);
            assert_eq!(serde_json::from_str::<T>(text).unwrap(), t);
        }
        for bad in [
            r#"{"a":"2026-02-30","b":null}"#,
            r#"{"a":"2026-01-05","b":"2026-02-30"}"#,
        ] {
            let err = serde_json::from_str::<T>(bad).unwrap_err();
            assert!(
                err.to_string().contains("invalid day \"2026-02-30\""),
                "{err}"
            );
        }
    }
}
