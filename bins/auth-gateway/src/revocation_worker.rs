//! The worker that sends queued Okta revocations (real-time sign-out, Spark → Okta): every
//! replica runs one. Each tick it claims the revocations that are due for a lease (so
//! replicas never send the same one at once), and for each asks the workspace's Okta org,
//! as the workspace's API service app, to revoke the Okta user's sessions and tokens
//! (Okta's Global Token Revocation, which also triggers Universal Logout in every other
//! app). Okta's answer is recorded with its audit event: done (204), the user is gone
//! (404: done too), or failed — tried again after Okta's `Retry-After`, else after a
//! backoff that doubles up to five minutes. A replica that dies mid-send leaves its lease
//! to run out, and another sends the revocation again: Okta's revocation is idempotent.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bounded_map::BoundedMap;
use chrono::{TimeDelta, Utc};
use oidc_client::{OrgUrl, RevocationAnswer, ServiceKey, ServiceToken, UNIVERSAL_LOGOUT_SCOPE};
use persistence::{AttemptOutcome, OktaRevocation, OktaServiceApp, TenantId, service_key_context};

use crate::GatewayState;
use crate::error::PageError;
use crate::web::db;

/// How often the worker looks for due revocations: a deactivation reaches Okta within
/// about this long.
pub const TICK: Duration = Duration::from_millis(500);

/// How long a claimed revocation is the claiming replica's alone: well beyond one
/// attempt's deadline, so a live worker always records before its lease runs out.
const LEASE: TimeDelta = TimeDelta::seconds(60);

/// The longest one attempt may take (a token request and the revocation, each bounded
/// by the HTTP client's timeouts too); the attempts of a tick run side by side, so one
/// slow org holds up no other workspace's revocations.
const ATTEMPT_DEADLINE: Duration = Duration::from_secs(25);

/// The most revocations one tick claims.
const BATCH: i64 = 10;

/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// What a service-app token was issued for: the workspace, its org, the app's client id
/// and Spark's key. A token is reused only for all four, so a changed org, app or key
/// (on any replica) never gets an old token.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TokenFor {
    tenant: TenantId,
    org: String,
    client_id: String,
    key_id: String,
}

/// The most service-app tokens kept (one per workspace); past it the cache starts over.
const MAX_TOKENS: usize = 10_000;

/// The most bytes of tokens kept, counted as each token's text, what it was issued for
/// and a fixed size per entry (an Okta access token is about 1 KiB).
const MAX_TOKEN_BYTES: usize = 16 << 20;

/// Service-app access tokens, reused until a minute before they expire: one per
/// workspace, at most [`MAX_TOKENS`] and [`MAX_TOKEN_BYTES`]. (`T` is the token; only
/// the tests use another type than Okta's.)
#[derive(Clone)]
pub struct TokenCache<T = ServiceToken>(Arc<BoundedMap<TenantId, Issued<T>>>);

/// A workspace's token, what it was issued for, and until when it is used.
struct Issued<T> {
    issued_for: TokenFor,
    token: T,
    until: Instant,
}

impl<T> Default for TokenCache<T> {
    fn default() -> Self {
        Self::bounded(MAX_TOKENS, MAX_TOKEN_BYTES)
    }
}

impl<T> TokenCache<T> {
    fn bounded(max_tokens: usize, max_bytes: usize) -> Self {
        Self(Arc::new(BoundedMap::new(max_tokens, max_bytes)))
    }
}

impl<T: Clone> TokenCache<T> {
    fn get(&self, key: &TokenFor) -> Option<T> {
        self.get_at(key, Instant::now())
    }

    /// The workspace's token if it was issued for all of `key` and is good at `now`.
    fn get_at(&self, key: &TokenFor, now: Instant) -> Option<T> {
        self.0
            .get_with(&key.tenant, |issued| {
                (issued.issued_for == *key && issued.until > now).then(|| issued.token.clone())
            })
            .flatten()
    }

    /// Keeps `token` (of `token_bytes`) as the workspace's one token until `until` (one
    /// issued for an earlier org, app or key goes).
    fn keep(&self, key: TokenFor, token: T, token_bytes: usize, until: Instant) {
        let bytes = token_bytes
            + 2 * key.tenant.as_str().len()
            + key.org.len()
            + key.client_id.len()
            + key.key_id.len()
            + std::mem::size_of::<(TenantId, Issued<T>)>();
        let tenant = key.tenant.clone();
        let issued = Issued {
            issued_for: key,
            token,
            until,
        };
        self.0.insert(tenant, issued, bytes);
    }

    /// Forgets the workspace's token (Okta refused it, or a Test must ask Okta afresh).
    pub(crate) fn forget(&self, tenant: &TenantId) {
        self.0.remove(tenant);
    }
}

impl TokenCache {
    /// Keeps `token` as the workspace's one token, until a minute before it expires.
    fn put(&self, key: TokenFor, token: &ServiceToken) {
        let now = Instant::now();
        let until = now
            .checked_add(token.expires_in.saturating_sub(Duration::from_secs(60)))
            .unwrap_or(now);
        self.keep(key, token.clone(), token.bytes(), until);
    }
}

/// Runs the worker until the process ends.
pub async fn run(state: GatewayState) {
    let mut tick = actix_web::rt::time::interval(TICK);
    loop {
        tick.tick().await;
        if let Err(error) = send_due(&state).await {
            tracing::warn!(code = error.code(), "sending Okta revocations failed");
        }
    }
}

/// One tick: claim what is due, attempt each side by side, record each outcome.
async fn send_due(state: &GatewayState) -> Result<(), PageError> {
    let claimed = db(state, |db| {
        Ok(db.okta_revocations().claim_due(Utc::now(), LEASE, BATCH)?)
    })
    .await?;
    let attempts: Vec<_> = claimed
        .into_iter()
        .map(|revocation| {
            let state = state.clone();
            actix_web::rt::spawn(async move { settle(&state, revocation).await })
        })
        .collect();
    for attempt in attempts {
        match attempt.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(code = error.code(), "recording an Okta revocation failed");
            }
            Err(_) => tracing::error!("an Okta revocation attempt panicked"),
        }
    }
    let failing = db(state, |db| Ok(db.okta_revocations().failing()?)).await?;
    state
        .revocations_failing
        .set(i64::try_from(failing).unwrap_or(i64::MAX));
    Ok(())
}

/// Attempts one claimed revocation within [`ATTEMPT_DEADLINE`] and records the outcome.
async fn settle(state: &GatewayState, revocation: OktaRevocation) -> Result<(), PageError> {
    let outcome =
        match actix_web::rt::time::timeout(ATTEMPT_DEADLINE, attempt(state, &revocation)).await {
            Ok(outcome) => outcome,
            Err(_) => failed(
                &revocation,
                format!(
                    "Okta did not answer within {} s",
                    ATTEMPT_DEADLINE.as_secs()
                ),
                None,
            ),
        };
    state.count_revocation(match &outcome {
        AttemptOutcome::Sent => "sent",
        AttemptOutcome::UserGone => "user_gone",
        AttemptOutcome::Failed { .. } => "failed",
    });
    if let AttemptOutcome::Failed { why, .. } = &outcome {
        tracing::warn!(revocation = %revocation.id, attempts = revocation.attempts + 1, %why, "Okta revocation failed");
    } else {
        tracing::info!(revocation = %revocation.id, "Okta revocation done");
    }
    let recorded = db(state, move |db| {
        Ok(db
            .okta_revocations()
            .record(&revocation, &outcome, Utc::now())?)
    })
    .await?;
    if !recorded {
        tracing::warn!("an Okta revocation's lease ran out before its answer was recorded");
    }
    Ok(())
}

/// A failed attempt: tried again after `retry_after` (Okta's), else after the backoff.
fn failed(
    revocation: &OktaRevocation,
    why: String,
    retry_after: Option<Duration>,
) -> AttemptOutcome {
    let wait = retry_after.unwrap_or_else(|| backoff(revocation.attempts));
    AttemptOutcome::Failed {
        why,
        retry_at: Utc::now() + TimeDelta::from_std(wait).unwrap_or(TimeDelta::hours(1)),
    }
}

/// One attempt at one revocation.
async fn attempt(state: &GatewayState, revocation: &OktaRevocation) -> AttemptOutcome {
    let tenant = revocation.tenant_id.clone();
    let (org, token) = match service_token(state, &tenant).await {
        Ok(found) => found,
        Err(error) => {
            return failed(
                revocation,
                format!("{}: {}", error.code(), error.message()),
                None,
            );
        }
    };
    if org.as_str() != revocation.issuer {
        return failed(
            revocation,
            format!(
                "the workspace now signs in with {org}, not {}: Spark cannot name this Okta \
                 user to it",
                revocation.issuer
            ),
            None,
        );
    }
    match state
        .awaiting_okta(
            state
                .oidc
                .revoke_okta_user(&org, &token, &revocation.okta_user_id),
        )
        .await
    {
        RevocationAnswer::Revoked => AttemptOutcome::Sent,
        RevocationAnswer::UserGone => AttemptOutcome::UserGone,
        RevocationAnswer::Failed {
            retry_after,
            why,
            token_refused,
        } => {
            if token_refused {
                state.service_tokens.forget(&tenant);
            }
            failed(revocation, why, retry_after)
        }
    }
}

/// The wait after `attempts` failed attempts without a `Retry-After`: 2 s, doubling, at
/// most [`MAX_BACKOFF`].
fn backoff(attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.clamp(0, 16)).unwrap_or(16);
    Duration::from_secs(2u64.saturating_pow(exponent + 1)).min(MAX_BACKOFF)
}

/// The workspace's org and a service-app access token for it: the cached one while it
/// was issued for the workspace's current org, app and key; else a new one (only then is
/// the private key unsealed).
pub async fn service_token(
    state: &GatewayState,
    tenant: &TenantId,
) -> Result<(OrgUrl, ServiceToken), PageError> {
    let (org, app, client_id) = service_app(state, tenant).await?;
    let issued_for = TokenFor {
        tenant: tenant.clone(),
        org: org.as_str().to_owned(),
        client_id: client_id.clone(),
        key_id: app.key_id.clone(),
    };
    if let Some(token) = state.service_tokens.get(&issued_for) {
        return Ok((org, token));
    }
    let key = unseal(state, tenant, &app)?;
    let provider = state.awaiting_okta(state.oidc.provider(&org)).await?;
    let token = state
        .awaiting_okta(state.oidc.service_token(
            &provider,
            &client_id,
            &key,
            UNIVERSAL_LOGOUT_SCOPE,
        ))
        .await?;
    state.service_tokens.put(issued_for, &token);
    Ok((org, token))
}

/// The workspace's trusted org, its service app and the app's client id.
async fn service_app(
    state: &GatewayState,
    tenant: &TenantId,
) -> Result<(OrgUrl, OktaServiceApp, String), PageError> {
    let id = tenant.clone();
    let (config, app) = db(state, move |db| {
        Ok((
            db.okta_sso_configs().get(&id)?,
            db.okta_service_apps().get(&id)?,
        ))
    })
    .await?;
    let not_set_up = |what: &str| {
        PageError::new(
            crate::error::codes::REAL_TIME_SIGN_OUT_NOT_SET_UP,
            actix_web::http::StatusCode::CONFLICT,
            format!("Real-time sign-out is not set up: {what}."),
        )
    };
    let config = config.ok_or_else(|| not_set_up("the workspace has no Okta SSO settings"))?;
    let app = app.ok_or_else(|| not_set_up("Spark's key for the service app was not made"))?;
    let client_id = app
        .client_id
        .clone()
        .ok_or_else(|| not_set_up("the service app's Client ID was not entered"))?;
    let org = crate::sign_in::trusted_org(state.url_policy, &config)?;
    Ok((org, app, client_id))
}

/// The service app's private key, unsealed.
fn unseal(
    state: &GatewayState,
    tenant: &TenantId,
    app: &OktaServiceApp,
) -> Result<ServiceKey, PageError> {
    let pem = state
        .keys
        .open(&app.private_key, &service_key_context(tenant, &app.key_id))
        .map_err(|_| {
            PageError::new(
                crate::error::codes::SSO_SECRET_UNREADABLE,
                actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
                "Spark's key for the service app cannot be decrypted (the encryption key \
                 changed): make a new key and add it to the service app in Okta.",
            )
        })?;
    Ok(ServiceKey::from_pem(pem)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_backoff_doubles_to_five_minutes() {
        let waits: Vec<u64> = (0..10).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(backoff(i64::MAX), MAX_BACKOFF);
        assert_eq!(backoff(-1), Duration::from_secs(2));
    }

    fn tenants() -> (persistence::testing::TestDatabase, TenantId, TenantId) {
        use persistence::{Actor, Backend, Workspace};
        let test_db = persistence::testing::TestDatabase::new(Backend::Sqlite);
        let create = |workspace: &str| {
            test_db
                .db()
                .tenants()
                .create(&Workspace::parse(workspace).unwrap(), "A", &Actor::system())
                .unwrap()
                .id
        };
        let (t1, t2) = (create("acme"), create("globex"));
        (test_db, t1, t2)
    }

    fn issued_for(tenant: &TenantId, org: &str) -> TokenFor {
        TokenFor {
            tenant: tenant.clone(),
            org: org.into(),
            client_id: "0oa-service".into(),
            key_id: "k1".into(),
        }
    }

    #[test]
    fn a_token_is_reused_only_for_its_workspace_org_app_and_key() {
        let (_db, t1, t2) = tenants();
        let tokens = TokenCache::<String>::default();
        let now = Instant::now();
        let until = now + Duration::from_secs(600);
        let a = issued_for(&t1, "https://a.okta.com");
        let b = issued_for(&t1, "https://b.okta.com");
        tokens.keep(a.clone(), "token-a".into(), 7, until);
        assert_eq!(tokens.get_at(&a, now).as_deref(), Some("token-a"));
        assert_eq!(tokens.get_at(&b, now), None, "another org");
        let other_key = TokenFor {
            key_id: "k2".into(),
            ..a.clone()
        };
        assert_eq!(tokens.get_at(&other_key, now), None, "another key");
        // The workspace's next token replaces the first.
        tokens.keep(b.clone(), "token-b".into(), 7, until);
        assert_eq!(tokens.get_at(&a, now), None);
        assert_eq!(tokens.get_at(&b, now).as_deref(), Some("token-b"));
        let c = issued_for(&t2, "https://c.okta.com");
        tokens.keep(c.clone(), "token-c".into(), 7, until);
        tokens.forget(&t1);
        assert_eq!(tokens.get_at(&b, now), None);
        assert_eq!(
            tokens.get_at(&c, now).as_deref(),
            Some("token-c"),
            "per workspace"
        );
        // Until it is due, not after.
        assert_eq!(tokens.get_at(&c, until), None);
    }

    #[test]
    fn the_cache_holds_its_tokens_and_bytes() {
        let (_db, t1, t2) = tenants();
        let now = Instant::now();
        let until = now + Duration::from_secs(600);
        let (a, b) = (
            issued_for(&t1, "https://a.okta.com"),
            issued_for(&t2, "https://b.okta.com"),
        );
        let one_token = TokenCache::<String>::bounded(1, 1 << 20);
        one_token.keep(a.clone(), "token-a".into(), 7, until);
        one_token.keep(b.clone(), "token-b".into(), 7, until);
        assert_eq!(one_token.0.len(), 1);
        assert_eq!(one_token.get_at(&b, now).as_deref(), Some("token-b"));
        let small = TokenCache::<String>::bounded(10, 4_096);
        small.keep(a.clone(), "token-a".into(), 7, until);
        small.keep(b.clone(), "x".repeat(5_000), 5_000, until);
        assert_eq!(
            small.get_at(&b, now),
            None,
            "a token past the bound is not kept"
        );
        assert_eq!(small.get_at(&a, now).as_deref(), Some("token-a"));
        assert!(small.0.bytes() <= 4_096);
    }
}
