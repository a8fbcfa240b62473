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
mod records;
mod sessions;
mod transactions;
mod universal_logout;

pub use codes::{CodePurpose, NewOneTimeCode, OneTimeCode, OneTimeCodes};
pub use identities::{EmployeeIdentities, HandOff, LinkedIdentity, SignInMatch, Unlinked};
pub use records::Consumed;
pub use sessions::{
    AuthMethod, NewSession, Redeemed, Session, SessionPolicy, SessionStart, Sessions,
    SignedInSession,
};
pub use transactions::{
    LOGIN_TRANSACTION_TTL, LoginTransaction, LoginTransactions, NewLoginTransaction,
};
pub use universal_logout::{LogoutOrder, LogoutOutcome, LogoutSubject, UniversalLogouts};
