//! The SCIM token lifecycle: mint, list, verify, revoke, rotate.
//!
//! [`ScimTokens`] is pure policy over a [`TokenRepository`]: it decides what is checked
//! and what is written; the repository only stores. Every operation takes the tenant,
//! and the current time as `now` (so callers pass `Utc::now()` and tests pass fixed
//! instants).
//!
//! Verification looks the token up by the hash of the presented value, then compares the
//! stored hash with it in constant time. How long it takes does not depend on how much
//! of a presented value matches a real token: no secret is ever compared character by
//! character, and the lookup key is a hash the caller cannot steer towards a stored one.

use chrono::{DateTime, TimeDelta, Utc};
use subtle::ConstantTimeEq as _;

use crate::format::TokenFormatError;
use crate::hash::TokenHash;
use crate::kind::SecretKind;
use crate::repository::{
    BearerForm, NewToken, StoredToken, TenantId, TokenId, TokenRecord, TokenRepository,
};
use crate::secret::{RandomnessError, SecretToken};

/// The finest resolution of `last_used_at`: verification writes it only when the stored
/// value is at least this old, so a busy token costs one write a minute, not one per
/// request.
pub const LAST_USED_UPDATE_INTERVAL: TimeDelta = TimeDelta::seconds(60);

/// The longest label, in characters.
pub const MAX_LABEL_CHARS: usize = 100;

/// A label for callers that have none (e.g. `sparkctl scim-token mint` without
/// `--label`).
pub const DEFAULT_LABEL: &str = "Okta SCIM";

/// Whether verification at `now` should write `last_used_at`, given its stored value.
///
/// True when it was never written, or when it is at least
/// [`LAST_USED_UPDATE_INTERVAL`] old. A stored value in the future (another server's
/// clock ahead of ours) is left alone until our clock passes it.
#[must_use]
pub fn needs_last_used_update(previous: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    match previous {
        None => true,
        Some(previous) => now.signed_duration_since(previous) >= LAST_USED_UPDATE_INTERVAL,
    }
}

/// The SCIM token in an `Authorization` header value, and the form it came in.
///
/// Accepted, with the scheme in any case (RFC 6750 §2.1 and RFC 9110 §11.1 make it
/// case-insensitive) and any run of spaces or tabs between the words:
///
/// - `Bearer <token>`: the standard form, whatever the token looks like (a value that is
///   not a well-formed SCIM token is then refused by verification, as any wrong token);
/// - `<token>` alone, and `Bearer Bearer <token>`: the forms Okta sends when the admin's
///   paste and Okta's own `Bearer` prefix disagree. Only a value with the SCIM token
///   prefix is taken in these two forms, so neither can be mistaken for another scheme.
///
/// `None` for anything else (`Basic …`, a third `Bearer`, two tokens, an empty header):
/// the request is then unauthenticated.
#[must_use]
pub fn scim_bearer(header: &str) -> Option<(&str, BearerForm)> {
    let prefix = SecretKind::ScimToken.prefix();
    let is_scheme = |word: &str| word.eq_ignore_ascii_case("bearer");
    let mut words = header.split_ascii_whitespace();
    match (words.next(), words.next(), words.next(), words.next()) {
        (Some(token), None, None, None) if token.starts_with(prefix) => {
            Some((token, BearerForm::WithoutScheme))
        }
        (Some(scheme), Some(token), None, None) if is_scheme(scheme) && !is_scheme(token) => {
            Some((token, BearerForm::Standard))
        }
        (Some(first), Some(second), Some(token), None)
            if is_scheme(first) && is_scheme(second) && token.starts_with(prefix) =>
        {
            Some((token, BearerForm::DoubledScheme))
        }
        _ => None,
    }
}

/// Checks and normalises a token label: surrounding whitespace is trimmed; the rest must
/// be 1 to [`MAX_LABEL_CHARS`] characters without control characters.
///
/// # Errors
///
/// A [`LabelError`] saying what is wrong.
pub fn validate_label(label: &str) -> Result<String, LabelError> {
    let label = label.trim();
    if label.is_empty() {
        return Err(LabelError::Empty);
    }
    let chars = label.chars().count();
    if chars > MAX_LABEL_CHARS {
        return Err(LabelError::TooLong {
            actual: chars,
            max: MAX_LABEL_CHARS,
        });
    }
    if label.chars().any(char::is_control) {
        return Err(LabelError::ControlCharacter);
    }
    Ok(label.to_owned())
}

/// Why a token label is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    /// Empty or only whitespace.
    #[error("the label is empty")]
    Empty,
    /// Longer than [`MAX_LABEL_CHARS`].
    #[error("the label is {actual} characters long; the limit is {max}")]
    TooLong {
        /// Length of the trimmed label in characters.
        actual: usize,
        /// The limit.
        max: usize,
    },
    /// Contains a control character (a line break, a tab, …).
    #[error("the label contains a control character such as a line break or tab")]
    ControlCharacter,
}

/// A freshly minted token: the plaintext to show once, and its stored record.
#[derive(Debug)]
pub struct MintedToken {
    /// The plaintext. Show it once; it cannot be shown again.
    pub token: SecretToken,
    /// The stored record (id, hint, …).
    pub record: TokenRecord,
}

/// Why a presented SCIM token does not authenticate.
///
/// [`Malformed`](Self::Malformed), [`Unknown`](Self::Unknown) and
/// [`Revoked`](Self::Revoked) all mean HTTP 401 ([`is_unauthorized`](Self::is_unauthorized));
/// the distinction is for logs and for the admin's troubleshooting, not for the client.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError<E> {
    /// The value is not a well-formed SCIM token.
    #[error("malformed SCIM token: {0}")]
    Malformed(TokenFormatError),
    /// Well-formed, but no token of this tenant has this hash.
    #[error("unknown SCIM token")]
    Unknown,
    /// The token was revoked.
    #[error("SCIM token {id} has been revoked")]
    Revoked {
        /// The revoked token's id.
        id: TokenId,
    },
    /// The repository failed.
    #[error("SCIM token storage failed")]
    Storage(#[source] E),
}

impl<E> VerifyError<E> {
    /// True for the credential failures (malformed, unknown, revoked), which map to 401;
    /// false for storage failures, which map to a server error.
    #[must_use]
    pub fn is_unauthorized(&self) -> bool {
        !matches!(self, VerifyError::Storage(_))
    }
}

/// A live token's record, and whether its `last_used_at` and `presented_as` are due a
/// write (see [`needs_last_used_update`]): what [`check`] decides.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The token's record as stored.
    pub record: TokenRecord,
    /// Whether the caller should write `last_used_at` = now and `presented_as` = the form.
    pub touch: bool,
}

/// The verification rule, as a pure function: whether `stored` — what a look-up by
/// `hash` in `tenant` found — lets the presented token in at `now`. Callers that fetch
/// the token with other rows in one query decide with this; [`ScimTokens::verify_as`]
/// is the same rule over a repository.
///
/// # Errors
///
/// [`VerifyError::Unknown`] (nothing found, or a row that is not an exact, same-tenant
/// match), [`VerifyError::Revoked`].
pub fn check<E>(
    stored: Option<StoredToken>,
    tenant: &TenantId,
    hash: &TokenHash,
    form: BearerForm,
    now: DateTime<Utc>,
) -> Result<Verdict, VerifyError<E>> {
    let stored = stored.ok_or(VerifyError::Unknown)?;
    // Defence in depth against a look-up that matched loosely (a collation, a prefix
    // index) or ignored the tenant: accept only an exact, same-tenant match.
    let hash_matches = bool::from(stored.hash.ct_eq(hash));
    if !hash_matches || stored.record.tenant_id != *tenant {
        return Err(VerifyError::Unknown);
    }
    let record = stored.record;
    if record.is_revoked() {
        return Err(VerifyError::Revoked { id: record.id });
    }
    let touch = needs_last_used_update(record.last_used_at, now) || record.presented_as != form;
    Ok(Verdict { record, touch })
}

/// Why a mint, revoke or rotate failed.
#[derive(Debug, thiserror::Error)]
pub enum ManageError<E> {
    /// The label was refused.
    #[error("invalid token label: {0}")]
    InvalidLabel(LabelError),
    /// The tenant has no token with this id.
    #[error("no SCIM token with id {id} in this workspace")]
    NotFound {
        /// The id asked for.
        id: TokenId,
    },
    /// Rotation of a revoked token (or of one revoked meanwhile by someone else).
    #[error("SCIM token {id} is revoked; mint a new token instead of rotating it")]
    AlreadyRevoked {
        /// The id asked for.
        id: TokenId,
    },
    /// No randomness for the new token.
    #[error("could not generate a SCIM token")]
    Randomness(#[source] RandomnessError),
    /// The repository failed.
    #[error("SCIM token storage failed")]
    Storage(#[source] E),
}

/// The SCIM token lifecycle over a repository `R` (which may be `&mut` of one).
#[derive(Debug)]
pub struct ScimTokens<R> {
    repo: R,
}

impl<R: TokenRepository> ScimTokens<R> {
    /// Lifecycle operations over `repo`.
    pub fn new(repo: R) -> ScimTokens<R> {
        ScimTokens { repo }
    }

    /// The repository.
    pub fn repository(&self) -> &R {
        &self.repo
    }

    /// The repository, mutably.
    pub fn repository_mut(&mut self) -> &mut R {
        &mut self.repo
    }

    /// Gives the repository back.
    pub fn into_repository(self) -> R {
        self.repo
    }

    /// Mints a token for `tenant`. The plaintext is in the result and nowhere else: show
    /// it once.
    ///
    /// # Errors
    ///
    /// [`ManageError::InvalidLabel`], [`ManageError::Randomness`],
    /// [`ManageError::Storage`].
    pub fn mint(
        &mut self,
        tenant: &TenantId,
        label: &str,
        created_by: &str,
        now: DateTime<Utc>,
    ) -> Result<MintedToken, ManageError<R::Error>> {
        let label = validate_label(label).map_err(ManageError::InvalidLabel)?;
        let (token, new) = prepare(label, created_by, now)?;
        let record = self
            .repo
            .insert(tenant, new)
            .map_err(ManageError::Storage)?;
        Ok(MintedToken { token, record })
    }

    /// The tenant's tokens, revoked ones included, newest first.
    ///
    /// # Errors
    ///
    /// The repository's error.
    pub fn list(&mut self, tenant: &TenantId) -> Result<Vec<TokenRecord>, R::Error> {
        let mut records = self.repo.list(tenant)?;
        records.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| b.id.cmp(&a.id))
        });
        Ok(records)
    }

    /// Authenticates `presented` (the bearer value, without `Bearer `) as a live SCIM
    /// token of `tenant` sent in the standard form, and returns its record: see
    /// [`verify_as`](Self::verify_as).
    ///
    /// # Errors
    ///
    /// As [`verify_as`](Self::verify_as).
    pub fn verify(
        &mut self,
        tenant: &TenantId,
        presented: &str,
        now: DateTime<Utc>,
    ) -> Result<TokenRecord, VerifyError<R::Error>> {
        self.verify_as(tenant, presented, BearerForm::Standard, now)
    }

    /// Authenticates `presented` (the token, as [`scim_bearer`] found it in the header)
    /// as a live SCIM token of `tenant`, and returns its record. Writes `last_used_at`
    /// when [`needs_last_used_update`] says so, and `presented_as` when `form` differs
    /// from the stored one — both in the same single write, so a token used the same way
    /// as before costs no more than it did; the returned record reflects the write.
    ///
    /// # Errors
    ///
    /// [`VerifyError::Malformed`], [`VerifyError::Unknown`] (also for another tenant's
    /// token), [`VerifyError::Revoked`], or [`VerifyError::Storage`] (including a failed
    /// `last_used_at` write: the database is then unhealthy, and a server error is the
    /// honest answer).
    pub fn verify_as(
        &mut self,
        tenant: &TenantId,
        presented: &str,
        form: BearerForm,
        now: DateTime<Utc>,
    ) -> Result<TokenRecord, VerifyError<R::Error>> {
        let hash = TokenHash::of_presented(SecretKind::ScimToken, presented)
            .map_err(VerifyError::Malformed)?;
        let stored = self
            .repo
            .find_by_hash(tenant, &hash)
            .map_err(VerifyError::Storage)?;
        let Verdict { mut record, touch } = check(stored, tenant, &hash, form, now)?;
        if touch {
            self.repo
                .touch(tenant, &record.id, now, form)
                .map_err(VerifyError::Storage)?;
            record.last_used_at = Some(now);
            record.presented_as = form;
        }
        Ok(record)
    }

    /// Revokes a token at once and returns its record. Revoking a revoked token is not
    /// an error; it keeps the first revocation time.
    ///
    /// # Errors
    ///
    /// [`ManageError::NotFound`], [`ManageError::Storage`].
    pub fn revoke(
        &mut self,
        tenant: &TenantId,
        id: &TokenId,
        now: DateTime<Utc>,
    ) -> Result<TokenRecord, ManageError<R::Error>> {
        self.repo
            .revoke(tenant, id, now)
            .map_err(ManageError::Storage)?
            .ok_or_else(|| ManageError::NotFound { id: id.clone() })
    }

    /// Replaces a live token: mints a new one with the same label and revokes the old
    /// one at once, in one repository transaction. Returns the new token (show it once).
    /// `rotated_by` becomes the new token's `created_by`.
    ///
    /// # Errors
    ///
    /// [`ManageError::NotFound`], [`ManageError::AlreadyRevoked`],
    /// [`ManageError::Randomness`], [`ManageError::Storage`].
    pub fn rotate(
        &mut self,
        tenant: &TenantId,
        id: &TokenId,
        rotated_by: &str,
        now: DateTime<Utc>,
    ) -> Result<MintedToken, ManageError<R::Error>> {
        let old = self
            .repo
            .get(tenant, id)
            .map_err(ManageError::Storage)?
            .ok_or_else(|| ManageError::NotFound { id: id.clone() })?;
        if old.is_revoked() {
            return Err(ManageError::AlreadyRevoked { id: id.clone() });
        }
        // The label was validated when stored; keep it as is even if the rules have
        // tightened since, so rotation never fails on an old label.
        let (token, new) = prepare(old.label, rotated_by, now)?;
        let record = self
            .repo
            .insert_replacing(tenant, id, new, now)
            .map_err(ManageError::Storage)?
            .ok_or_else(|| ManageError::AlreadyRevoked { id: id.clone() })?;
        Ok(MintedToken { token, record })
    }
}

fn prepare<E>(
    label: String,
    created_by: &str,
    now: DateTime<Utc>,
) -> Result<(SecretToken, NewToken), ManageError<E>> {
    let (token, hash) =
        SecretToken::mint(SecretKind::ScimToken).map_err(ManageError::Randomness)?;
    let new = NewToken {
        label,
        hash,
        hint: token.hint(),
        created_at: now,
        created_by: created_by.to_owned(),
    };
    Ok((token, new))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{MemoryRepositoryError, MemoryTokenRepository};

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_750_000_000 + seconds, 0).unwrap()
    }

    fn acme() -> TenantId {
        TenantId::new("acme")
    }

    fn globex() -> TenantId {
        TenantId::new("globex")
    }

    fn service() -> ScimTokens<MemoryTokenRepository> {
        ScimTokens::new(MemoryTokenRepository::new())
    }

    #[test]
    fn throttle_policy() {
        assert!(needs_last_used_update(None, at(0)));
        assert!(!needs_last_used_update(Some(at(0)), at(0)));
        assert!(!needs_last_used_update(Some(at(0)), at(59)));
        assert!(needs_last_used_update(Some(at(0)), at(60)));
        assert!(needs_last_used_update(Some(at(0)), at(3600)));
        // A stored time ahead of our clock is left alone.
        assert!(!needs_last_used_update(Some(at(600)), at(0)));
        // Extremes do not overflow.
        assert!(needs_last_used_update(
            Some(DateTime::<Utc>::MIN_UTC),
            DateTime::<Utc>::MAX_UTC
        ));
        assert!(!needs_last_used_update(
            Some(DateTime::<Utc>::MAX_UTC),
            DateTime::<Utc>::MIN_UTC
        ));
    }

    #[test]
    fn mint_then_verify() {
        let mut tokens = service();
        let minted = tokens
            .mint(&acme(), "  Okta production ", "admin@acme.example", at(0))
            .unwrap();
        let record = &minted.record;
        assert_eq!(record.tenant_id, acme());
        assert_eq!(record.label, "Okta production");
        assert_eq!(record.created_by, "admin@acme.example");
        assert_eq!(record.created_at, at(0));
        assert_eq!(record.hint, minted.token.hint());
        assert_eq!(record.last_used_at, None);
        assert!(!record.is_revoked());

        let verified = tokens
            .verify(&acme(), minted.token.expose_secret(), at(5))
            .unwrap();
        assert_eq!(verified.id, record.id);
        assert_eq!(verified.last_used_at, Some(at(5)));
    }

    #[test]
    fn stores_only_the_hash_and_hint() {
        let mut tokens = service();
        let minted = tokens.mint(&acme(), "Okta", "admin", at(0)).unwrap();
        let repo = tokens.repository();
        let stored = repo.stored_hashes();
        assert_eq!(stored, vec![minted.token.hash()]);
        let dump = format!("{repo:?}");
        let body = &minted.token.expose_secret()["spark_scim_".len()..];
        assert!(!dump.contains(body));
    }

    #[test]
    fn verify_rejects_malformed_before_lookup() {
        let mut tokens = service();
        let minted = tokens.mint(&acme(), "Okta", "admin", at(0)).unwrap();
        let mut typo = minted.token.expose_secret().to_owned();
        let last = typo.pop().unwrap();
        typo.push(if last == 'A' { 'B' } else { 'A' });
        for presented in [
            String::new(),
            format!("Bearer {}", minted.token.expose_secret()),
            typo,
            SecretToken::mint(SecretKind::Session)
                .unwrap()
                .0
                .into_exposed_secret(),
        ] {
            let err = tokens.verify(&acme(), &presented, at(1)).unwrap_err();
            assert!(matches!(err, VerifyError::Malformed(_)), "{err:?}");
            assert!(err.is_unauthorized());
        }
        assert_eq!(tokens.repository().lookups(), 0);
    }

    #[test]
    fn verify_unknown_token() {
        let mut tokens = service();
        tokens.mint(&acme(), "Okta", "admin", at(0)).unwrap();
        let stranger = SecretToken::mint(SecretKind::ScimToken).unwrap().0;
        let err = tokens
            .verify(&acme(), stranger.expose_secret(), at(1))
            .unwrap_err();
        assert!(matches!(err, VerifyError::Unknown));
        assert!(err.is_unauthorized());
        assert_eq!(err.to_string(), "unknown SCIM token");
    }

    #[test]
    fn another_tenants_token_is_unknown() {
        let mut tokens = service();
        let minted = tokens.mint(&globex(), "Okta", "admin", at(0)).unwrap();
        let err = tokens
            .verify(&acme(), minted.token.expose_secret(), at(1))
            .unwrap_err();
        assert!(matches!(err, VerifyError::Unknown), "{err:?}");
        // Still fine for its own tenant.
        tokens
            .verify(&globex(), minted.token.expose_secret(), at(1))
            .unwrap();
    }

    #[test]
    fn verify_does_not_trust_a_sloppy_repository() {
        let mut tokens = service();
        let minted = tokens.mint(&globex(), "Okta", "admin", at(0)).unwrap();
        tokens.repository_mut().ignore_tenant_on_lookup(true);
        let err = tokens
            .verify(&acme(), minted.token.expose_secret(), at(1))
            .unwrap_err();
        assert!(matches!(err, VerifyError::Unknown), "{err:?}");

        let mut tokens = service();
        let minted = tokens.mint(&acme(), "Okta", "admin", at(0)).unwrap();
        tokens.repository_mut().match_any_hash_on_lookup(true);
        let other = SecretToken::mint(SecretKind::ScimToken).unwrap().0;
        let err = tokens
            .verify(&acme(), other.expose_secret(), at(1))
            .unwrap_err();
        assert!(matches!(err, VerifyError::Unknown), "{err:?}");
        tokens
            .verify(&acme(), minted.token.expose_secret(), at(1))
            .unwrap();
    }

    #[test]
    fn revoked_token_fails_and_revoke_is_idempotent() {
        let mut tokens = service();
        let minted = tokens.mint(&acme(), "Okta", "admin", at(0)).unwrap();
        let id = minted.record.id.clone();
        let revoked = tokens.revoke(&acme(), &id, at(10)).unwrap();
        assert_eq!(revoked.revoked_at, Some(at(10)));
        let err = tokens
            .verify(&acme(), minted.token.expose_secret(), at(11))
            .unwrap_err();
        assert!(matches!(&err, VerifyError::Revoked { id: revoked_id } if *revoked_id == id));
        assert!(err.is_unauthorized());

        let again = tokens.revoke(&acme(), &id, at(20)).unwrap();
        assert_eq!(again.revoked_at, Some(at(10)));
    }

    #[test]
    fn revoke_is_tenant_scoped() {
        let mut tokens = service();
        let minted = tokens.mint(&globex(), "Okta", "admin", at(0)).unwrap();
        let err = tokens
            .revoke(&acme(), &minted.record.id, at(1))
            .unwrap_err();
        assert!(matches!(err, ManageError::NotFound { .. }), "{err:?}");
        tokens
            .verify(&globex(), minted.token.expose_secret(), at(2))
            .unwrap();
        let err = tokens
            .revoke(&acme(), &TokenId::new("nope"), at(1))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "no SCIM token with id nope in this workspace"
        );
    }

    #[test]
    fn rotate_revokes_the_old_token_at_once() {
        let mut tokens = service();
        let old = tokens
            .mint(&acme(), "Okta production", "alice", at(0))
            .unwrap();
        let new = tokens
            .rotate(&acme(), &old.record.id, "bob", at(100))
            .unwrap();
        assert_ne!(new.record.id, old.record.id);
        assert_eq!(new.record.label, "Okta production");
        assert_eq!(new.record.created_by, "bob");
        assert_eq!(new.record.created_at, at(100));
        assert_ne!(new.token.hash(), old.token.hash());

        let err = tokens
            .verify(&acme(), old.token.expose_secret(), at(100))
            .unwrap_err();
        assert!(matches!(err, VerifyError::Revoked { .. }), "{err:?}");
        tokens
            .verify(&acme(), new.token.expose_secret(), at(100))
            .unwrap();

        let listed = tokens.list(&acme()).unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].id, new.record.id);
        assert_eq!(listed[1].id, old.record.id);
        assert_eq!(listed[1].revoked_at, Some(at(100)));
    }

    #[test]
    fn rotate_refuses_revoked_and_missing_tokens() {
        let mut tokens = service();
        let old = tokens.mint(&acme(), "Okta", "alice", at(0)).unwrap();
        tokens.revoke(&acme(), &old.record.id, at(1)).unwrap();
        let err = tokens
            .rotate(&acme(), &old.record.id, "bob", at(2))
            .unwrap_err();
        assert!(matches!(err, ManageError::AlreadyRevoked { .. }), "{err:?}");
        let err = tokens
            .rotate(&globex(), &old.record.id, "bob", at(2))
            .unwrap_err();
        assert!(matches!(err, ManageError::NotFound { .. }), "{err:?}");
        assert_eq!(tokens.list(&acme()).unwrap().len(), 1);
    }

    #[test]
    fn rotate_loses_a_race_cleanly() {
        // Someone revokes the token between our read and our write.
        let mut tokens = service();
        let old = tokens.mint(&acme(), "Okta", "alice", at(0)).unwrap();
        tokens
            .repository_mut()
            .revoke_before_next_replacement(old.record.id.clone());
        let err = tokens
            .rotate(&acme(), &old.record.id, "bob", at(2))
            .unwrap_err();
        assert!(matches!(err, ManageError::AlreadyRevoked { .. }), "{err:?}");
        assert_eq!(tokens.list(&acme()).unwrap().len(), 1);
    }

    #[test]
    fn last_used_is_written_at_most_once_a_minute() {
        let mut tokens = service();
        let minted = tokens.mint(&acme(), "Okta", "admin", at(0)).unwrap();
        let secret = minted.token.expose_secret();
        for second in 0..60 {
            let record = tokens.verify(&acme(), secret, at(10 + second)).unwrap();
            assert_eq!(record.last_used_at, Some(at(10)));
        }
        assert_eq!(tokens.repository().touches(), 1);
        let record = tokens.verify(&acme(), secret, at(70)).unwrap();
        assert_eq!(record.last_used_at, Some(at(70)));
        assert_eq!(tokens.repository().touches(), 2);
        // Many requests over ten minutes: about one write per minute.
        for second in 71..671 {
            tokens.verify(&acme(), secret, at(second)).unwrap();
        }
        assert_eq!(tokens.repository().touches(), 12);
        let listed = tokens.list(&acme()).unwrap();
        assert_eq!(listed[0].last_used_at, Some(at(670)));
    }

    #[test]
    fn the_three_forms_okta_sends_are_read() {
        let token = SecretToken::mint(SecretKind::ScimToken)
            .unwrap()
            .0
            .into_exposed_secret();
        let t = token.as_str();
        for (header, form) in [
            (format!("Bearer {t}"), BearerForm::Standard),
            (format!("bearer {t}"), BearerForm::Standard),
            (format!("BEARER \t {t}  "), BearerForm::Standard),
            (t.to_owned(), BearerForm::WithoutScheme),
            (format!("  {t} "), BearerForm::WithoutScheme),
            (format!("Bearer Bearer {t}"), BearerForm::DoubledScheme),
            (format!("Bearer  bearer {t}"), BearerForm::DoubledScheme),
        ] {
            assert_eq!(scim_bearer(&header), Some((t, form)), "{header:?}");
        }
        // Whatever follows a single `Bearer` is the presented value; verification judges it.
        assert_eq!(
            scim_bearer("Bearer not-a-token"),
            Some(("not-a-token", BearerForm::Standard))
        );
    }

    #[test]
    fn anything_else_is_no_token() {
        let session = SecretToken::mint(SecretKind::Session)
            .unwrap()
            .0
            .into_exposed_secret();
        let t = SecretToken::mint(SecretKind::ScimToken)
            .unwrap()
            .0
            .into_exposed_secret();
        for header in [
            String::new(),
            "   ".to_owned(),
            "Bearer".to_owned(),
            "Bearer Bearer".to_owned(),
            format!("Basic {t}"),
            format!("Token {t}"),
            // Without a scheme or doubled, only a SCIM token is taken.
            session.clone(),
            format!("Bearer Bearer {session}"),
            "not-a-token".to_owned(),
            format!("Bearer Bearer Bearer {t}"),
            format!("Bearer {t} {t}"),
            format!("{t} {t}"),
            format!("Basic Bearer {t}"),
        ] {
            assert_eq!(scim_bearer(&header), None, "{header:?}");
        }
    }

    #[test]
    fn the_form_is_written_only_when_it_changes() {
        let mut tokens = service();
        let minted = tokens.mint(&acme(), "Okta", "admin", at(0)).unwrap();
        let secret = minted.token.expose_secret();
        let record = tokens.verify(&acme(), secret, at(1)).unwrap();
        assert_eq!(record.presented_as, BearerForm::Standard);
        assert_eq!(tokens.repository().touches(), 1);
        // The same form within the minute: no write.
        tokens.verify(&acme(), secret, at(2)).unwrap();
        assert_eq!(tokens.repository().touches(), 1);
        // Another form: one write at once, then none while it stays the same.
        let record = tokens
            .verify_as(&acme(), secret, BearerForm::DoubledScheme, at(3))
            .unwrap();
        assert_eq!(record.presented_as, BearerForm::DoubledScheme);
        assert_eq!(record.last_used_at, Some(at(3)));
        assert_eq!(tokens.repository().touches(), 2);
        for second in 4..30 {
            tokens
                .verify_as(&acme(), secret, BearerForm::DoubledScheme, at(second))
                .unwrap();
        }
        assert_eq!(tokens.repository().touches(), 2);
        assert_eq!(
            tokens.list(&acme()).unwrap()[0].presented_as,
            BearerForm::DoubledScheme
        );
        // Tidied in Okta: the next standard request records it.
        tokens.verify(&acme(), secret, at(31)).unwrap();
        assert_eq!(tokens.repository().touches(), 3);
        assert_eq!(
            tokens.list(&acme()).unwrap()[0].presented_as,
            BearerForm::Standard
        );
        // A refused token records nothing.
        tokens.revoke(&acme(), &minted.record.id, at(40)).unwrap();
        tokens
            .verify_as(&acme(), secret, BearerForm::WithoutScheme, at(41))
            .unwrap_err();
        assert_eq!(tokens.repository().touches(), 3);
    }

    #[test]
    fn stored_forms_round_trip() {
        for form in BearerForm::ALL {
            assert_eq!(BearerForm::from_stored(form.as_str()), Some(form));
        }
        assert_eq!(BearerForm::from_stored("Bearer"), None);
    }

    #[test]
    fn labels_are_validated() {
        assert_eq!(validate_label(" Okta "), Ok("Okta".to_owned()));
        assert_eq!(validate_label(DEFAULT_LABEL), Ok(DEFAULT_LABEL.to_owned()));
        assert_eq!(validate_label(""), Err(LabelError::Empty));
        assert_eq!(validate_label(" \n\t"), Err(LabelError::Empty));
        assert_eq!(
            validate_label("Okta\nprod"),
            Err(LabelError::ControlCharacter)
        );
        assert_eq!(validate_label(&"é".repeat(100)), Ok("é".repeat(100)));
        assert_eq!(
            validate_label(&"é".repeat(101)),
            Err(LabelError::TooLong {
                actual: 101,
                max: 100
            })
        );
        let mut tokens = service();
        let err = tokens.mint(&acme(), "  ", "admin", at(0)).unwrap_err();
        assert!(matches!(err, ManageError::InvalidLabel(LabelError::Empty)));
        assert_eq!(err.to_string(), "invalid token label: the label is empty");
        assert!(tokens.list(&acme()).unwrap().is_empty());
    }

    #[test]
    fn list_is_tenant_scoped_and_newest_first() {
        let mut tokens = service();
        let first = tokens.mint(&acme(), "one", "admin", at(0)).unwrap();
        let second = tokens.mint(&acme(), "two", "admin", at(5)).unwrap();
        tokens.mint(&globex(), "other", "admin", at(3)).unwrap();
        let listed = tokens.list(&acme()).unwrap();
        let ids: Vec<_> = listed.iter().map(|r| r.id.clone()).collect();
        assert_eq!(ids, vec![second.record.id, first.record.id]);
    }

    #[test]
    fn storage_errors_are_not_unauthorized() {
        let mut tokens = service();
        let minted = tokens.mint(&acme(), "Okta", "admin", at(0)).unwrap();
        tokens.repository_mut().set_failing(true);
        let err = tokens
            .verify(&acme(), minted.token.expose_secret(), at(1))
            .unwrap_err();
        assert!(matches!(err, VerifyError::Storage(MemoryRepositoryError)));
        assert!(!err.is_unauthorized());
        let source = std::error::Error::source(&err).unwrap();
        assert_eq!(source.to_string(), MemoryRepositoryError.to_string());
        assert!(matches!(
            tokens.mint(&acme(), "Okta", "admin", at(0)),
            Err(ManageError::Storage(_))
        ));
        assert!(matches!(
            tokens.revoke(&acme(), &minted.record.id, at(0)),
            Err(ManageError::Storage(_))
        ));
        assert!(matches!(
            tokens.rotate(&acme(), &minted.record.id, "admin", at(0)),
            Err(ManageError::Storage(_))
        ));
        assert!(tokens.list(&acme()).is_err());
    }

    #[test]
    fn a_failed_touch_fails_verification() {
        let mut tokens = service();
        let minted = tokens.mint(&acme(), "Okta", "admin", at(0)).unwrap();
        tokens.repository_mut().fail_touches(true);
        let err = tokens
            .verify(&acme(), minted.token.expose_secret(), at(1))
            .unwrap_err();
        assert!(matches!(err, VerifyError::Storage(_)));
    }

    #[test]
    fn works_over_a_borrowed_repository() {
        let mut repo = MemoryTokenRepository::new();
        let secret = {
            let mut tokens = ScimTokens::new(&mut repo);
            tokens
                .mint(&acme(), "Okta", "admin", at(0))
                .unwrap()
                .token
                .into_exposed_secret()
        };
        let mut tokens = ScimTokens::new(&mut repo);
        tokens.verify(&acme(), &secret, at(1)).unwrap();
    }
}
