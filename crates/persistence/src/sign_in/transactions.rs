//! Login transactions: the server-side half of one authorization request (state hash,
//! browser binding, nonce, PKCE verifier, where to go afterwards). Single use, ten
//! minutes.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use token_store::TokenHash;

use super::records::{Consumed, check_optional, hash_from_column};
use crate::Database;
use crate::clock;
use crate::clock::stored;
use crate::connection::on_own_connection;
use crate::error::{Error, Result};
use crate::ids::TenantId;
use crate::prepared::Prepared;
use crate::schema::login_transactions;

/// How long a login transaction waits for its callback.
pub const LOGIN_TRANSACTION_TTL: TimeDelta = TimeDelta::minutes(10);

/// A login transaction to store.
#[derive(Clone, PartialEq, Eq)]
pub struct NewLoginTransaction {
    /// Hash of the `state` sent to Okta (a `token-store` OIDC state token).
    pub state_hash: TokenHash,
    /// Hash of the browser-binding cookie set on the auth host.
    pub browser_binding_hash: TokenHash,
    /// Hash of the same browser's binding cookie on the workspace host: the session
    /// hand-off this sign-in ends in is bound to it.
    pub handoff_binding_hash: TokenHash,
    /// The `nonce` sent to Okta, checked against the ID token.
    pub nonce: String,
    /// The PKCE code verifier.
    pub pkce_verifier: String,
    /// The `login_hint` passed through, if any.
    pub login_hint: Option<String>,
    /// The path on the workspace to land on afterwards, if any (already validated).
    pub return_to: Option<String>,
}

impl std::fmt::Debug for NewLoginTransaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewLoginTransaction")
            .field("state_hash", &self.state_hash)
            .field("login_hint", &self.login_hint)
            .field("return_to", &self.return_to)
            .finish_non_exhaustive()
    }
}

/// A stored login transaction.
#[derive(Clone, PartialEq, Eq)]
pub struct LoginTransaction {
    /// Hash of the `state`.
    pub state_hash: TokenHash,
    /// The tenant signing in.
    pub tenant_id: TenantId,
    /// Hash of the browser-binding cookie: compare it with the presented cookie's hash.
    pub browser_binding_hash: TokenHash,
    /// Hash of the browser's binding cookie on the workspace host, for the hand-off
    /// (none for a transaction stored before hand-offs were bound).
    pub handoff_binding_hash: Option<TokenHash>,
    /// The nonce to expect in the ID token.
    pub nonce: String,
    /// The PKCE verifier for the code exchange.
    pub pkce_verifier: String,
    /// The login hint that was passed.
    pub login_hint: Option<String>,
    /// Where to land afterwards.
    pub return_to: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops being usable.
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for LoginTransaction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginTransaction")
            .field("state_hash", &self.state_hash)
            .field("tenant_id", &self.tenant_id)
            .field("login_hint", &self.login_hint)
            .field("return_to", &self.return_to)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

// Absent values are inserted as NULL rather than DEFAULT, so the INSERT's text is always
// the same and diesel keeps it as a prepared statement.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = login_transactions)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct TransactionRow {
    state_hash: String,
    tenant_id: String,
    browser_binding_hash: String,
    nonce: String,
    pkce_verifier: String,
    login_hint: Option<String>,
    return_to: Option<String>,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    consumed_at: Option<NaiveDateTime>,
    handoff_binding_hash: Option<String>,
}

impl TransactionRow {
    fn into_domain(self) -> Result<LoginTransaction> {
        Ok(LoginTransaction {
            state_hash: hash_from_column(&self.state_hash)?,
            tenant_id: TenantId(self.tenant_id),
            browser_binding_hash: hash_from_column(&self.browser_binding_hash)?,
            handoff_binding_hash: self
                .handoff_binding_hash
                .as_deref()
                .map(hash_from_column)
                .transpose()?,
            nonce: self.nonce,
            pkce_verifier: self.pkce_verifier,
            login_hint: self.login_hint,
            return_to: self.return_to,
            created_at: clock::utc(self.created_at),
            expires_at: clock::utc(self.expires_at),
        })
    }
}

/// The login transaction repository; see [`Database::login_transactions`].
pub struct LoginTransactions<'db> {
    pub(crate) db: &'db Database,
}

impl LoginTransactions<'_> {
    /// Stores a transaction for `tenant`, expiring [`LOGIN_TRANSACTION_TTL`] after `now`.
    pub fn create(
        &self,
        tenant: &TenantId,
        new: NewLoginTransaction,
        now: DateTime<Utc>,
    ) -> Result<LoginTransaction> {
        for (field, value) in [("nonce", &new.nonce), ("PKCE verifier", &new.pkce_verifier)] {
            if value.is_empty() || value.len() > 256 {
                return Err(Error::Invalid(format!(
                    "the {field} must be 1 to 256 characters"
                )));
            }
        }
        check_optional("login_hint", new.login_hint.as_deref(), 320)?;
        check_optional("return_to", new.return_to.as_deref(), 2_000)?;
        let created_at = stored(now);
        let row = TransactionRow {
            state_hash: new.state_hash.to_hex(),
            tenant_id: tenant.0.clone(),
            browser_binding_hash: new.browser_binding_hash.to_hex(),
            nonce: new.nonce,
            pkce_verifier: new.pkce_verifier,
            login_hint: new.login_hint,
            return_to: new.return_to,
            created_at,
            expires_at: created_at + LOGIN_TRANSACTION_TTL,
            consumed_at: None,
            handoff_binding_hash: Some(new.handoff_binding_hash.to_hex()),
        };
        self.db.transient_autocommit(|conn| {
            diesel::insert_into(login_transactions::table)
                .values(&row)
                .execute(conn)?;
            Ok(())
        })?;
        row.into_domain()
    }

    /// Uses the transaction of this state, once: the first call at most
    /// [`LOGIN_TRANSACTION_TTL`] after its creation gets [`Consumed::Fresh`]; any later
    /// or concurrent call gets [`Consumed::AlreadyUsed`], a late one
    /// [`Consumed::Expired`], an unknown state [`Consumed::Unknown`]. Atomic: the mark is
    /// a conditional UPDATE, so two callbacks racing with one state cannot both win.
    pub fn consume(
        &self,
        state_hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> Result<Consumed<LoginTransaction>> {
        let now = stored(now);
        let hash = state_hash.to_hex();
        // One statement decides (a conditional UPDATE is atomic by itself): the winner
        // gets the row back from it; only a loser reads the row again, to say why it lost.
        self.db.transient_autocommit(|conn| {
            let won: Option<TransactionRow> = on_own_connection!(&mut *conn, |c| Prepared(
                diesel::update(
                    login_transactions::table
                        .filter(login_transactions::state_hash.eq(&hash))
                        .filter(login_transactions::consumed_at.is_null())
                        .filter(login_transactions::expires_at.gt(now)),
                )
                .set(login_transactions::consumed_at.eq(Some(now)))
                .returning(TransactionRow::as_returning()),
            )
            .get_result(c)
            .optional())?;
            if let Some(row) = won {
                return Ok(Consumed::Fresh(row.into_domain()?));
            }
            let row = login_transactions::table
                .find(&hash)
                .select(TransactionRow::as_select())
                .first(conn)
                .optional()?;
            Ok(match row {
                None => Consumed::Unknown,
                Some(row) if row.consumed_at.is_some() => Consumed::AlreadyUsed,
                Some(_) => Consumed::Expired,
            })
        })
    }

    /// Deletes transactions that expired before `now` (used or not); returns how many.
    pub fn purge_expired(&self, now: DateTime<Utc>) -> Result<usize> {
        Ok(diesel::delete(
            login_transactions::table.filter(login_transactions::expires_at.le(stored(now))),
        )
        .execute(&mut *self.db.conn()?)?)
    }
}
