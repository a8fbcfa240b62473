//! What the single-use sign-in records (login transactions, one-time codes) share: what
//! consuming one found, their hashes read back, and the checks on short texts they carry.

use token_store::TokenHash;

use crate::error::{Error, Result};

/// What consuming a single-use record (a login transaction, a one-time code) found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consumed<T> {
    /// It existed, was unused and unexpired, and is now used: go on with it.
    Fresh(T),
    /// No such record (never issued, another tenant's, or already cleaned away).
    Unknown,
    /// It was used before: a replay.
    AlreadyUsed,
    /// It expired before it was used.
    Expired,
    /// It is bound to another browser than the one presenting it: not used for this
    /// browser, and used up (its URL reached someone it was not made for).
    WrongBrowser,
}

impl<T> Consumed<T> {
    /// The record, when it was [`Consumed::Fresh`].
    pub fn fresh(self) -> Option<T> {
        match self {
            Consumed::Fresh(value) => Some(value),
            _ => None,
        }
    }

    /// The same outcome, with a fresh record turned into something else.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Consumed<U> {
        match self {
            Consumed::Fresh(value) => Consumed::Fresh(f(value)),
            Consumed::Unknown => Consumed::Unknown,
            Consumed::AlreadyUsed => Consumed::AlreadyUsed,
            Consumed::Expired => Consumed::Expired,
            Consumed::WrongBrowser => Consumed::WrongBrowser,
        }
    }
}

/// A hash read back from a column.
pub(super) fn hash_from_column(hex: &str) -> Result<TokenHash> {
    TokenHash::from_hex(hex).map_err(|e| Error::Database(format!("a stored hash is corrupt: {e}")))
}

/// Checks an optional short text (login hint, return path) before it is stored.
pub(super) fn check_optional(field: &str, value: Option<&str>, max: usize) -> Result<()> {
    match value {
        Some(text) if text.chars().count() > max => Err(Error::Invalid(format!(
            "{field} is longer than {max} characters"
        ))),
        Some(text) if text.chars().any(char::is_control) => Err(Error::Invalid(format!(
            "{field} contains a control character"
        ))),
        _ => Ok(()),
    }
}
