//! The storage this crate needs for SCIM tokens, as a trait, and the domain types it
//! speaks.
//!
//! The `persistence` crate implements [`TokenRepository`] over the database;
//! [`testing::MemoryTokenRepository`](crate::testing::MemoryTokenRepository) implements it
//! in memory for tests. The policy (what to check, when to write `last_used_at`) lives in
//! [`scim`](crate::scim), not in the implementations.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::hash::TokenHash;
use crate::secret::TokenHint;

/// Identifies a tenant (a Spark workspace). Opaque to this crate.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(String);

/// Identifies a stored token. Opaque to this crate; the repository assigns it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenId(String);

macro_rules! text_id {
    ($name:ident) => {
        impl $name {
            /// Wraps an id.
            #[must_use]
            pub fn new(id: impl Into<String>) -> $name {
                $name(id.into())
            }

            /// The id text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id text, by value.
            #[must_use]
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_id!(TenantId);
text_id!(TokenId);

/// A stored SCIM token as an admin sees it: everything but the secret and its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// The token's id.
    pub id: TokenId,
    /// The tenant the token belongs to; it authenticates only there.
    pub tenant_id: TenantId,
    /// The admin's name for it, e.g. "Okta production".
    pub label: String,
    /// A non-secret reminder, e.g. `spark_scim_...x7Qa`.
    pub hint: TokenHint,
    /// When it was minted.
    pub created_at: DateTime<Utc>,
    /// Who minted it (free text chosen by the caller, e.g. an employee's email, or
    /// `sparkctl`).
    pub created_by: String,
    /// When it last authenticated a request, to within
    /// [`LAST_USED_UPDATE_INTERVAL`](crate::scim::LAST_USED_UPDATE_INTERVAL).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked; a revoked token never authenticates again.
    pub revoked_at: Option<DateTime<Utc>>,
    /// How the `Authorization` header carried it when it last authenticated a request
    /// ([`BearerForm::Standard`] for a token never used).
    pub presented_as: BearerForm,
}

/// How a SCIM token arrived in the `Authorization` header.
///
/// RFC 6750 §2.1 says `Authorization: Bearer <token>`. Whether Okta adds the `Bearer`
/// scheme itself depends on the kind of app and the field the admin pasted the token
/// into, so admins end up sending each of the other two forms too. Spark's SCIM tokens
/// start with a recognisable prefix (`spark_scim_`), so each form is unambiguous and
/// accepted ([`crate::scim::scim_bearer`]); the record remembers the last one so the
/// admin can tidy the Okta setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BearerForm {
    /// `Bearer <token>`.
    #[default]
    Standard,
    /// `<token>` alone, without a scheme.
    WithoutScheme,
    /// `Bearer Bearer <token>`: the scheme pasted in front of a token Okta prefixes
    /// itself.
    DoubledScheme,
}

impl BearerForm {
    /// Every form, in declaration order.
    pub const ALL: [BearerForm; 3] = [
        BearerForm::Standard,
        BearerForm::WithoutScheme,
        BearerForm::DoubledScheme,
    ];

    /// The form as stored and as the admin API shows it: `bearer`, `no_scheme`,
    /// `doubled_bearer`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            BearerForm::Standard => "bearer",
            BearerForm::WithoutScheme => "no_scheme",
            BearerForm::DoubledScheme => "doubled_bearer",
        }
    }

    /// The form [`as_str`](Self::as_str) names; `None` for any other text.
    #[must_use]
    pub fn from_stored(text: &str) -> Option<BearerForm> {
        BearerForm::ALL
            .into_iter()
            .find(|form| form.as_str() == text)
    }
}

impl TokenRecord {
    /// Whether the token has been revoked.
    #[must_use]
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}

/// A token to insert. The repository assigns the id and sets `last_used_at` and
/// `revoked_at` to none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    /// See [`TokenRecord::label`].
    pub label: String,
    /// The hash to store and index.
    pub hash: TokenHash,
    /// See [`TokenRecord::hint`].
    pub hint: TokenHint,
    /// See [`TokenRecord::created_at`].
    pub created_at: DateTime<Utc>,
    /// See [`TokenRecord::created_by`].
    pub created_by: String,
}

/// What a lookup by hash returns: the record and the hash as stored, which the caller
/// compares in constant time with the hash it looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    /// The token's record.
    pub record: TokenRecord,
    /// The hash as stored.
    pub hash: TokenHash,
}

/// Storage for SCIM tokens, scoped by tenant in every call.
///
/// Synchronous, like the diesel code that implements it; call it from a blocking
/// context. Methods take `&mut self` so an implementation can wrap a single connection
/// (or a transaction) as well as a pool.
///
/// Storage expectations for an implementation:
/// - store the hash (hex via [`TokenHash::to_hex`], or bytes) with a unique index, and
///   look up by `(tenant_id, hash)`;
/// - never store or log the plaintext: it never reaches this trait;
/// - a method scoped to one tenant never reads or changes another tenant's rows.
pub trait TokenRepository {
    /// The storage error.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Inserts a token for `tenant` and returns its record.
    ///
    /// # Errors
    ///
    /// Storage failures.
    fn insert(&mut self, tenant: &TenantId, token: NewToken) -> Result<TokenRecord, Self::Error>;

    /// Atomically (in one transaction) revokes `old` at `revoked_at` and inserts
    /// `replacement`; returns the replacement's record. Returns `Ok(None)` and changes
    /// nothing if `old` is not a live token of `tenant` (missing or already revoked, e.g.
    /// after a concurrent rotation).
    ///
    /// # Errors
    ///
    /// Storage failures.
    fn insert_replacing(
        &mut self,
        tenant: &TenantId,
        old: &TokenId,
        replacement: NewToken,
        revoked_at: DateTime<Utc>,
    ) -> Result<Option<TokenRecord>, Self::Error>;

    /// The token of `tenant` stored with `hash`, revoked or not. Tokens of other
    /// tenants are not found.
    ///
    /// # Errors
    ///
    /// Storage failures.
    fn find_by_hash(
        &mut self,
        tenant: &TenantId,
        hash: &TokenHash,
    ) -> Result<Option<StoredToken>, Self::Error>;

    /// The token of `tenant` with id `id`, revoked or not.
    ///
    /// # Errors
    ///
    /// Storage failures.
    fn get(&mut self, tenant: &TenantId, id: &TokenId) -> Result<Option<TokenRecord>, Self::Error>;

    /// All tokens of `tenant`, revoked ones included, in any order.
    ///
    /// # Errors
    ///
    /// Storage failures.
    fn list(&mut self, tenant: &TenantId) -> Result<Vec<TokenRecord>, Self::Error>;

    /// Sets `last_used_at` of the token to `at` and `presented_as` to `form`, in one
    /// write. A missing token is not an error.
    ///
    /// # Errors
    ///
    /// Storage failures.
    fn touch(
        &mut self,
        tenant: &TenantId,
        id: &TokenId,
        at: DateTime<Utc>,
        form: BearerForm,
    ) -> Result<(), Self::Error>;

    /// Sets `revoked_at` to `at` unless already set, and returns the record as it is
    /// afterwards (so a second revocation keeps the first time). `Ok(None)` if `tenant`
    /// has no such token.
    ///
    /// # Errors
    ///
    /// Storage failures.
    fn revoke(
        &mut self,
        tenant: &TenantId,
        id: &TokenId,
        at: DateTime<Utc>,
    ) -> Result<Option<TokenRecord>, Self::Error>;
}

impl<R: TokenRepository + ?Sized> TokenRepository for &mut R {
    type Error = R::Error;

    fn insert(&mut self, tenant: &TenantId, token: NewToken) -> Result<TokenRecord, Self::Error> {
        (**self).insert(tenant, token)
    }

    fn insert_replacing(
        &mut self,
        tenant: &TenantId,
        old: &TokenId,
        replacement: NewToken,
        revoked_at: DateTime<Utc>,
    ) -> Result<Option<TokenRecord>, Self::Error> {
        (**self).insert_replacing(tenant, old, replacement, revoked_at)
    }

    fn find_by_hash(
        &mut self,
        tenant: &TenantId,
        hash: &TokenHash,
    ) -> Result<Option<StoredToken>, Self::Error> {
        (**self).find_by_hash(tenant, hash)
    }

    fn get(&mut self, tenant: &TenantId, id: &TokenId) -> Result<Option<TokenRecord>, Self::Error> {
        (**self).get(tenant, id)
    }

    fn list(&mut self, tenant: &TenantId) -> Result<Vec<TokenRecord>, Self::Error> {
        (**self).list(tenant)
    }

    fn touch(
        &mut self,
        tenant: &TenantId,
        id: &TokenId,
        at: DateTime<Utc>,
        form: BearerForm,
    ) -> Result<(), Self::Error> {
        (**self).touch(tenant, id, at, form)
    }

    fn revoke(
        &mut self,
        tenant: &TenantId,
        id: &TokenId,
        at: DateTime<Utc>,
    ) -> Result<Option<TokenRecord>, Self::Error> {
        (**self).revoke(tenant, id, at)
    }
}
