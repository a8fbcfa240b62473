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
