//! An in-memory [`TokenRepository`] for tests and examples.
//!
//! Not a production store: nothing persists, lookups scan a `Vec`. The real
//! implementation is in the `persistence` crate. This one is public so that doctests,
//! and tests of crates that embed [`ScimTokens`](crate::scim::ScimTokens), need no
//! database.

use chrono::{DateTime, Utc};

use crate::hash::TokenHash;
use crate::repository::{
    BearerForm, NewToken, StoredToken, TenantId, TokenId, TokenRecord, TokenRepository,
};

/// The error of a [`MemoryTokenRepository`] set to fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the in-memory token repository was set to fail")]
pub struct MemoryRepositoryError;

/// A [`TokenRepository`] in a `Vec`, with counters and failure switches for tests.
#[derive(Debug, Default)]
pub struct MemoryTokenRepository {
    rows: Vec<StoredToken>,
    next_id: u64,
    lookups: usize,
    touches: usize,
    failing: bool,
    failing_touches: bool,
    #[cfg(test)]
    quirks: Quirks,
}

/// Misbehaviours, to test that the policy does not trust its repository blindly.
#[cfg(test)]
#[derive(Debug, Default)]
struct Quirks {
    ignore_tenant_on_lookup: bool,
    match_any_hash_on_lookup: bool,
    revoke_before_next_replacement: Option<TokenId>,
}

impl MemoryTokenRepository {
    /// An empty repository.
    #[must_use]
    pub fn new() -> MemoryTokenRepository {
        MemoryTokenRepository::default()
    }

    /// While `failing`, every call returns [`MemoryRepositoryError`].
    pub fn set_failing(&mut self, failing: bool) {
        self.failing = failing;
    }

    /// While `failing`, [`touch`](TokenRepository::touch) returns
    /// [`MemoryRepositoryError`] (the other calls work).
    pub fn fail_touches(&mut self, failing: bool) {
        self.failing_touches = failing;
    }

    /// How many times [`find_by_hash`](TokenRepository::find_by_hash) was called.
    #[must_use]
    pub fn lookups(&self) -> usize {
        self.lookups
    }

    /// How many times [`touch`](TokenRepository::touch) was called.
    #[must_use]
    pub fn touches(&self) -> usize {
        self.touches
    }

    /// Every stored hash, in insertion order.
    #[must_use]
    pub fn stored_hashes(&self) -> Vec<TokenHash> {
        self.rows.iter().map(|row| row.hash).collect()
    }

    #[cfg(test)]
    pub(crate) fn ignore_tenant_on_lookup(&mut self, on: bool) {
        self.quirks.ignore_tenant_on_lookup = on;
    }

    #[cfg(test)]
    pub(crate) fn match_any_hash_on_lookup(&mut self, on: bool) {
        self.quirks.match_any_hash_on_lookup = on;
    }

    #[cfg(test)]
    pub(crate) fn revoke_before_next_replacement(&mut self, id: TokenId) {
        self.quirks.revoke_before_next_replacement = Some(id);
    }

    fn check(&self) -> Result<(), MemoryRepositoryError> {
        if self.failing {
            Err(MemoryRepositoryError)
        } else {
            Ok(())
        }
    }

    fn row_mut(&mut self, tenant: &TenantId, id: &TokenId) -> Option<&mut StoredToken> {
        self.rows
            .iter_mut()
            .find(|row| row.record.tenant_id == *tenant && row.record.id == *id)
    }

    fn push(&mut self, tenant: &TenantId, token: NewToken) -> TokenRecord {
        self.next_id += 1;
        let record = TokenRecord {
            id: TokenId::new(format!("tok-{}", self.next_id)),
            tenant_id: tenant.clone(),
            label: token.label,
            hint: token.hint,
            created_at: token.created_at,
            created_by: token.created_by,
            last_used_at: None,
            revoked_at: None,
            presented_as: BearerForm::Standard,
        };
        self.rows.push(StoredToken {
            record: record.clone(),
            hash: token.hash,
        });
        record
    }
}

impl TokenRepository for MemoryTokenRepository {
    type Error = MemoryRepositoryError;

    fn insert(&mut self, tenant: &TenantId, token: NewToken) -> Result<TokenRecord, Self::Error> {
        self.check()?;
        Ok(self.push(tenant, token))
    }

    fn insert_replacing(
        &mut self,
        tenant: &TenantId,
        old: &TokenId,
        replacement: NewToken,
        revoked_at: DateTime<Utc>,
    ) -> Result<Option<TokenRecord>, Self::Error> {
        self.check()?;
        #[cfg(test)]
        if let Some(id) = self.quirks.revoke_before_next_replacement.take()
            && let Some(row) = self.row_mut(tenant, &id)
        {
            row.record.revoked_at = Some(revoked_at);
        }
        match self.row_mut(tenant, old) {
            Some(row) if row.record.revoked_at.is_none() => {
                row.record.revoked_at = Some(revoked_at);
            }
            _ => return Ok(None),
        }
        Ok(Some(self.push(tenant, replacement)))
    }

    fn find_by_hash(
        &mut self,
        tenant: &TenantId,
        hash: &TokenHash,
    ) -> Result<Option<StoredToken>, Self::Error> {
        self.check()?;
        self.lookups += 1;
        #[cfg(test)]
        let (any_tenant, any_hash) = (
            self.quirks.ignore_tenant_on_lookup,
            self.quirks.match_any_hash_on_lookup,
        );
        #[cfg(not(test))]
        let (any_tenant, any_hash) = (false, false);
        Ok(self
            .rows
            .iter()
            .find(|row| {
                (any_tenant || row.record.tenant_id == *tenant) && (any_hash || row.hash == *hash)
            })
            .cloned())
    }

    fn get(&mut self, tenant: &TenantId, id: &TokenId) -> Result<Option<TokenRecord>, Self::Error> {
        self.check()?;
        Ok(self.row_mut(tenant, id).map(|row| row.record.clone()))
    }

    fn list(&mut self, tenant: &TenantId) -> Result<Vec<TokenRecord>, Self::Error> {
        self.check()?;
        Ok(self
            .rows
            .iter()
            .filter(|row| row.record.tenant_id == *tenant)
            .map(|row| row.record.clone())
            .collect())
    }

    fn touch(
        &mut self,
        tenant: &TenantId,
        id: &TokenId,
        at: DateTime<Utc>,
        form: BearerForm,
    ) -> Result<(), Self::Error> {
        self.check()?;
        if self.failing_touches {
            return Err(MemoryRepositoryError);
        }
        self.touches += 1;
        if let Some(row) = self.row_mut(tenant, id) {
            row.record.last_used_at = Some(at);
            row.record.presented_as = form;
        }
        Ok(())
    }

    fn revoke(
        &mut self,
        tenant: &TenantId,
        id: &TokenId,
        at: DateTime<Utc>,
    ) -> Result<Option<TokenRecord>, Self::Error> {
        self.check()?;
        Ok(self.row_mut(tenant, id).map(|row| {
            row.record.revoked_at.get_or_insert(at);
            row.record.clone()
        }))
    }
}
