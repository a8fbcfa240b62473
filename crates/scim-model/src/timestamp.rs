//! `meta.created` / `meta.lastModified` on the wire: RFC 3339 in UTC with a `Z`, and as
//! many fraction digits as the instant needs (none, 3, 6 or 9) — exactly what chrono's
//! own serialisation writes, without its general-purpose formatting machinery, which
//! was the costliest part of serialising a page of users. Instants chrono writes
//! differently (years outside 0000–9999, leap seconds) are left to chrono.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serializer;

/// The longest text written here: `YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ`.
const LONGEST: usize = 30;

/// Serialises an optional instant (`serialize_with` on the `meta` members).
pub(crate) fn serialize<S: Serializer>(
    value: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        None => serializer.serialize_none(),
        Some(at) => {
            let mut text = String::with_capacity(LONGEST);
            write(&mut text, at);
            serializer.serialize_str(&text)
        }
    }
}

/// Appends the instant as chrono's serialisation writes it.
pub(crate) fn write(out: &mut String, at: &DateTime<Utc>) {
    let year = at.year();
    let nanos = at.nanosecond();
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        // chrono serialises an instant as its Debug form.
        let _ = write!(out, "{at:?}");
        return;
    }
    let digits = |out: &mut String, value: u32, width: u32| {
        for place in (0..width).rev() {
            let digit = value / 10u32.pow(place) % 10;
            out.push(char::from(b'0' + u8::try_from(digit).unwrap_or(0)));
        }
    };
    digits(out, u32::try_from(year).unwrap_or(0), 4);
    out.push('-');
    digits(out, at.month(), 2);
    out.push('-');
    digits(out, at.day(), 2);
    out.push('T');
    digits(out, at.hour(), 2);
    out.push(':');
    digits(out, at.minute(), 2);
    out.push(':');
    digits(out, at.second(), 2);
    if nanos != 0 {
        out.push('.');
        if nanos.is_multiple_of(1_000_000) {
            digits(out, nanos / 1_000_000, 3);
        } else if nanos.is_multiple_of(1_000) {
            digits(out, nanos / 1_000, 6);
        } else {
            digits(out, nanos, 9);
        }
    }
    out.push('Z');
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn chrono_writes(at: &DateTime<Utc>) -> String {
        serde_json::to_value(at)
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn written(at: &DateTime<Utc>) -> String {
        let mut out = String::new();
        write(&mut out, at);
        out
    }

    #[test]
    fn writes_what_chrono_writes() {
        let base = Utc.with_ymd_and_hms(2026, 11, 30, 2, 46, 19).unwrap();
        let mut cases = vec![
            base,
            Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(-1, 1, 1, 0, 0, 0).unwrap(),
        ];
        for nanos in [
            1,
            10,
            999,
            1_000,
            960_665_000,
            120_000_000,
            5_000_000,
            999_999_999,
        ] {
            cases.push(base + chrono::Duration::nanoseconds(nanos));
        }
        // A sweep of instants across four centuries, with microsecond fractions.
        let mut at = Utc.with_ymd_and_hms(1900, 1, 1, 0, 0, 0).unwrap();
        while at.year() < 2300 {
            cases.push(at);
            at += chrono::Duration::microseconds(86_399_999_937);
        }
        for at in &cases {
            assert_eq!(written(at), chrono_writes(at), "{at:?}");
        }
    }

    #[test]
    fn leaves_leap_seconds_to_chrono() {
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .unwrap()
            .and_utc();
        assert_eq!(written(&leap), chrono_writes(&leap));
    }
}
