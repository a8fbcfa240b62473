//! Secret tokens for Spark: the SCIM bearer tokens a tenant admin mints for Okta, and
//! the other one-time secrets of the auth gateway (session tokens, sign-in hand-off
//! codes, sign-in links, OIDC `state`).
//!
//! # What this crate knows
//!
//! - **The token format** ([`SecretKind`], [`kind`]): `{prefix}{52 base64url chars}`,
//!   e.g. `spark_scim_…`. 280 bits from the operating system's CSPRNG plus a CRC-32
//!   checksum, so a mistyped or truncated token is rejected as malformed before any
//!   lookup, and scanners can recognise real Spark secrets.
//! - **Minting and parsing** ([`SecretToken`]): plaintext that does not leak through
//!   `Debug`, and a parser whose [`TokenFormatError`] says what is wrong without
//!   repeating the value.
//! - **Hashing** ([`TokenHash`]): only the SHA-256 of a token is stored; it is what the
//!   database indexes and looks up, and it compares in constant time. [`TokenHint`] is a
//!   short non-secret reminder (`spark_scim_...x7Qa`) for listings.
//! - **The SCIM token lifecycle** ([`scim::ScimTokens`]): mint, list, verify, revoke,
//!   rotate, and the `last_used_at` write throttle, as policy over the
//!   [`TokenRepository`] trait.
//!
//! # What it does not know
//!
//! No IO: no database, no network, no async runtime, no clock of its own (operations
//! take `now`), no logging. The `persistence` crate implements [`TokenRepository`];
//! HTTP handlers read the token out of `Authorization` with [`scim::scim_bearer`] and map [`scim::VerifyError`] to 401 or a server error.
//! It never panics on input.
//!
//! # Example: mint a SCIM token, then verify it
//!
//! ```
//! use chrono::Utc;
//! use token_store::scim::{ScimTokens, VerifyError};
//! use token_store::testing::MemoryTokenRepository;
//! use token_store::TenantId;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // In a service, the repository is `persistence`'s implementation.
//! let mut tokens = ScimTokens::new(MemoryTokenRepository::new());
//! let acme = TenantId::new("acme");
//!
//! // The admin clicks "Generate token": show the plaintext once, keep nothing else.
//! let minted = tokens.mint(&acme, "Okta production", "admin@acme.example", Utc::now())?;
//! let shown_once: String = minted.token.into_exposed_secret();
//! assert!(shown_once.starts_with("spark_scim_"));
//! println!("listed as {} ({})", minted.record.label, minted.record.hint);
//!
//! // Okta sends `Authorization: Bearer {token}`; the handler passes the token.
//! let record = tokens.verify(&acme, &shown_once, Utc::now())?;
//! assert_eq!(record.id, minted.record.id);
//!
//! // Anything else is a 401, whatever the reason.
//! let err = tokens.verify(&acme, "spark_scim_guess", Utc::now()).unwrap_err();
//! assert!(matches!(err, VerifyError::Malformed(_)) && err.is_unauthorized());
//! # Ok(())
//! # }
//! ```
//!
//! Other secrets use the same format directly:
//!
//! ```
//! use token_store::{SecretKind, SecretToken, TokenHash};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let (session, stored_hash) = SecretToken::mint(SecretKind::Session)?;
//! // ... set `session.expose_secret()` as the cookie value, store `stored_hash` ...
//! let presented = session.expose_secret();
//! assert_eq!(TokenHash::of_presented(SecretKind::Session, presented)?, stored_hash);
//! # Ok(())
//! # }
//! ```

mod checksum;
mod format;
mod hash;
pub mod kind;
mod repository;
pub mod scim;
pub mod sealed;
mod secret;
pub mod testing;

pub use format::TokenFormatError;
pub use hash::{HashParseError, TokenHash};
pub use kind::{BODY_CHARS, CHECKSUM_BYTES, ENTROPY_BITS, RANDOM_BYTES, SecretKind};
pub use repository::{
    BearerForm, NewToken, StoredToken, TenantId, TokenId, TokenRecord, TokenRepository,
};
pub use secret::{RandomnessError, SecretToken, TokenHint};
