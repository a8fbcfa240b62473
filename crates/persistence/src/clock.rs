//! Time as the database stores it: UTC, to the microsecond (PostgreSQL's precision), so a
//! value reads back exactly as written on both backends.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

/// Now, truncated to microseconds, as the naive UTC value the columns hold.
pub(crate) fn now() -> NaiveDateTime {
    stored(Utc::now())
}

/// A stored value as a UTC instant.
pub(crate) fn utc(value: NaiveDateTime) -> DateTime<Utc> {
    value.and_utc()
}

/// An instant as the columns hold it (UTC, microseconds).
pub(crate) fn stored(at: DateTime<Utc>) -> NaiveDateTime {
    at.naive_utc().trunc_subsecs(6)
}

/// A `TIMESTAMP` column read quickly: SQLite keeps instants as text, which diesel reads
/// by trying chrono's format strings in turn — a twentieth of the CPU a page of users
/// costs. The text this crate writes (`YYYY-MM-DD HH:MM:SS`, then `.` and 1–9 digits
/// unless whole) is read here by hand; any other text is left to diesel, as is
/// PostgreSQL's binary form. Rows use it with `#[diesel(deserialize_as = ReadInstant)]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, diesel::deserialize::FromSqlRow)]
pub(crate) struct ReadInstant(pub NaiveDateTime);

impl From<ReadInstant> for NaiveDateTime {
    fn from(value: ReadInstant) -> Self {
        value.0
    }
}

/// `text` if it is exactly what diesel writes for an instant and names a valid one.
fn parse_written_instant(text: &str) -> Option<NaiveDateTime> {
    let bytes = text.as_bytes();
    let digits = |from: usize, count: usize| -> Option<u32> {
        bytes
            .get(from..from + count)?
            .iter()
            .try_fold(0u32, |n, &b| {
                b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
            })
    };
    let separators = [(4, b'-'), (7, b'-'), (10, b' '), (13, b':'), (16, b':')];
    if separators
        .iter()
        .any(|&(at, sep)| bytes.get(at) != Some(&sep))
    {
        return None;
    }
    let nanos = match bytes.get(19..) {
        Some([]) => 0,
        Some([b'.', fraction @ ..]) if (1..=9).contains(&fraction.len()) => {
            let value = digits(20, fraction.len())?;
            value * 10u32.pow(u32::try_from(9 - fraction.len()).ok()?)
        }
        _ => return None,
    };
    let year = i32::try_from(digits(0, 4)?).ok()?;
    let date = chrono::NaiveDate::from_ymd_opt(year, digits(5, 2)?, digits(8, 2)?)?;
    let time = chrono::NaiveTime::from_hms_nano_opt(
        digits(11, 2)?,
        digits(14, 2)?,
        digits(17, 2)?,
        nanos,
    )?;
    Some(date.and_time(time))
}

impl diesel::deserialize::FromSql<diesel::sql_types::Timestamp, diesel::sqlite::Sqlite>
    for ReadInstant
{
    fn from_sql(
        mut value: diesel::sqlite::SqliteValue<'_, '_, '_>,
    ) -> diesel::deserialize::Result<Self> {
        let text = value.value_type() == Some(diesel::sqlite::SqliteType::Text);
        let fast = if text {
            parse_written_instant(value.read_text())
        } else {
            None
        };
        match fast {
            Some(at) => Ok(Self(at)),
            None => <NaiveDateTime as diesel::deserialize::FromSql<
                diesel::sql_types::Timestamp,
                diesel::sqlite::Sqlite,
            >>::from_sql(value)
            .map(Self),
        }
    }
}

impl diesel::deserialize::FromSql<diesel::sql_types::Timestamp, diesel::pg::Pg> for ReadInstant {
    fn from_sql(value: diesel::pg::PgValue<'_>) -> diesel::deserialize::Result<Self> {
        <NaiveDateTime as diesel::deserialize::FromSql<
            diesel::sql_types::Timestamp,
            diesel::pg::Pg,
        >>::from_sql(value)
        .map(Self)
    }
}

impl diesel::deserialize::FromSql<diesel::sql_types::Timestamp, crate::connection::Db>
    for ReadInstant
{
    fn from_sql(
        value: <crate::connection::Db as diesel::backend::Backend>::RawValue<'_>,
    ) -> diesel::deserialize::Result<Self> {
        value.from_sql::<Self, diesel::sql_types::Timestamp>()
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDateTime;
    use proptest::prelude::*;

    use super::parse_written_instant;

    /// How diesel reads SQLite's text (`%F %T%.f` first, the form it writes).
    fn diesel_reads(text: &str) -> Option<NaiveDateTime> {
        NaiveDateTime::parse_from_str(text, "%F %T%.f").ok()
    }

    proptest! {
        /// Whatever the fast reading accepts, it reads as diesel does; and it accepts
        /// every instant diesel writes.
        #[test]
        fn reads_what_diesel_reads(
            seconds in -62_000_000_000i64..250_000_000_000,
            micros in prop_oneof![Just(0u32), 0u32..1_000_000],
        ) {
            let Some(at) = chrono::DateTime::from_timestamp(seconds, micros * 1_000) else {
                return Ok(());
            };
            let written = at.naive_utc().format("%F %T%.f").to_string();
            // Years of four digits, as diesel writes them, are all read here.
            if (0..=9999).contains(&chrono::Datelike::year(&at)) {
                prop_assert_eq!(parse_written_instant(&written), Some(at.naive_utc()));
            }
            if let Some(fast) = parse_written_instant(&written) {
                prop_assert_eq!(Some(fast), diesel_reads(&written));
            }
        }

        #[test]
        fn near_misses_read_as_diesel_reads_or_are_left_to_it(
            text in "[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,11})?(Z|[+-]00:00)?",
        ) {
            if let Some(fast) = parse_written_instant(&text) {
                prop_assert_eq!(Some(fast), diesel_reads(&text), "{}", text);
            }
        }
    }

    #[test]
    fn reads_the_forms_it_writes_and_leaves_the_rest() {
        let read = |text: &str| parse_written_instant(text).map(|at| at.to_string());
        assert_eq!(
            read("2026-12-08 01:02:03"),
            Some("2026-12-08 01:02:03".into())
        );
        assert_eq!(
            read("2026-12-08 01:02:03.5"),
            Some("2026-12-08 01:02:03.500".into())
        );
        assert_eq!(
            read("2026-12-08 01:02:03.123456"),
            Some("2026-12-08 01:02:03.123456".into())
        );
        for other in [
            "2026-12-08T01:02:03",
            "2026-12-08 01:02:03Z",
            "2026-12-08 01:02:03.",
            "2026-12-08 01:02:03.1234567890",
            "2026-02-30 01:02:03",
            "2016-12-31 23:59:60",
            "2026-12-08 1:02:03",
            "+2026-12-08 01:02:03",
            "",
        ] {
            assert_eq!(read(other), None, "{other}");
        }
    }
}
