//! What signing in leaves in the database: login transactions (one per authorization
//! request), sessions, one-time codes (session hand-offs and sign-in links) and the
//! Okta identities linked to employees.
//!
//! What it knows: storage, single use, expiry and tenant scoping. Every secret is stored
//! only as `token-store`'s [`TokenHash`]; the plaintext stays with the browser. Calls
//! that depend on time take `now`, so callers and tests decide the clock.
//!
//! What it does not know: OIDC, cookies, HTTP. The one lookup that cannot take a tenant
//! is [`LoginTransactions::consume`]: the callback on the shared auth host knows only the
//! `state`, and the transaction it finds names its tenant.

mod codes;
mod identities;
mod one_statement;
mod sessions;
mod transactions;
mod universal_logout;

use token_store::TokenHash;

use crate::error::{Error, Result};

pub use codes::{CodePurpose, NewOneTimeCode, OneTimeCode, OneTimeCodes};
pub use identities::{EmployeeIdentities, HandOff, LinkedIdentity, SignInMatch, Unlinked};
pub use sessions::{
    AuthMethod, NewSession, Session, SessionPolicy, SessionStart, Sessions, SignedInSession,
};
pub use transactions::{
    LOGIN_TRANSACTION_TTL, LoginTransaction, LoginTransactions, NewLoginTransaction,
};
pub use universal_logout::{LogoutOrder, LogoutOutcome, LogoutSubject, UniversalLogouts};

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

use crate::clock::stored;

/// A hash read back from a column.
fn hash_from_column(hex: &str) -> Result<TokenHash> {
    TokenHash::from_hex(hex).map_err(|e| Error::Database(format!("a stored hash is corrupt: {e}")))
}

/// Checks an optional short text (login hint, return path) before it is stored.
fn check_optional(field: &str, value: Option<&str>, max: usize) -> Result<()> {
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
