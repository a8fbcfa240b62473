//! The worker that sends queued Okta revocations (real-time sign-out, Spark → Okta): every
//! replica runs one. Each tick it claims the revocations that are due for a lease (so
//! replicas never send the same one at once), and for each asks the workspace's Okta org,
//! as the workspace's API service app, to revoke the Okta user's sessions and tokens
//! (Okta's Global Token Revocation, which also triggers Universal Logout in every other
//! app). Okta's answer is recorded with its audit event: done (204), the user is gone
//! (404: done too), or failed — tried again after Okta's `Retry-After`, else after a
//! backoff that doubles up to five minutes. A replica that dies mid-send leaves its lease
//! to run out, and another sends the revocation again: Okta's revocation is idempotent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use oidc_client::{OrgUrl, RevocationAnswer, ServiceKey, ServiceToken, UNIVERSAL_LOGOUT_SCOPE};
use persistence::{AttemptOutcome, OktaRevocation, TenantId, service_key_context};

use crate::GatewayState;
use crate::error::PageError;
use crate::web::db;

/// How often the worker looks for due revocations: a deactivation reaches Okta within
/// about this long.
pub const TICK: Duration = Duration::from_millis(500);

/// How long a claimed revocation is the claiming replica's alone.
const LEASE: TimeDelta = TimeDelta::seconds(30);

/// The most revocations one tick claims.
const BATCH: i64 = 20;

/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// Service-app access tokens by workspace, reused until a minute before they expire.
#[derive(Default, Clone)]
pub struct TokenCache(Arc<Mutex<HashMap<TenantId, (ServiceToken, Instant)>>>);

impl TokenCache {
    fn get(&self, tenant: &TenantId) -> Option<ServiceToken> {
        let tokens = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        tokens
            .get(tenant)
            .filter(|(_, until)| *until > Instant::now())
            .map(|(token, _)| token.clone())
    }

    fn put(&self, tenant: &TenantId, token: &ServiceToken) {
        let until = Instant::now() + token.expires_in.saturating_sub(Duration::from_secs(60));
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(tenant.clone(), (token.clone(), until));
    }

    pub(crate) fn forget(&self, tenant: &TenantId) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(tenant);
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

/// One tick: claim what is due, send each, record each outcome.
async fn send_due(state: &GatewayState) -> Result<(), PageError> {
    let claimed = db(state, |db| {
        Ok(db.okta_revocations().claim_due(Utc::now(), LEASE, BATCH)?)
    })
    .await?;
    for revocation in claimed {
        let outcome = attempt(state, &revocation).await;
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
        let id = revocation.id.clone();
        db(state, move |db| {
            Ok(db.okta_revocations().record(&id, &outcome, Utc::now())?)
        })
        .await?;
    }
    let failing = db(state, |db| Ok(db.okta_revocations().failing()?)).await?;
    state
        .revocations_failing
        .set(i64::try_from(failing).unwrap_or(i64::MAX));
    Ok(())
}

/// One attempt at one revocation.
async fn attempt(state: &GatewayState, revocation: &OktaRevocation) -> AttemptOutcome {
    let failed = |why: String, retry_after: Option<Duration>| {
        let wait = retry_after.unwrap_or_else(|| backoff(revocation.attempts));
        AttemptOutcome::Failed {
            why,
            retry_at: Utc::now() + TimeDelta::from_std(wait).unwrap_or(TimeDelta::MAX),
        }
    };
    let tenant = revocation.tenant_id.clone();
    let (org, token) = match service_token(state, &tenant).await {
        Ok(found) => found,
        Err(error) => return failed(format!("{}: {}", error.code(), error.message()), None),
    };
    if org.as_str() != revocation.issuer {
        return failed(
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
            failed(why, retry_after)
        }
    }
}

/// The wait after `attempts` failed attempts without a `Retry-After`: 2 s, doubling, at
/// most [`MAX_BACKOFF`].
fn backoff(attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.clamp(0, 16)).unwrap_or(16);
    Duration::from_secs(2u64.saturating_pow(exponent + 1)).min(MAX_BACKOFF)
}

/// The workspace's org and a service-app access token for it (cached).
pub async fn service_token(
    state: &GatewayState,
    tenant: &TenantId,
) -> Result<(OrgUrl, ServiceToken), PageError> {
    let (org, credentials) = service_credentials(state, tenant).await?;
    if let Some(token) = state.service_tokens.get(tenant) {
        return Ok((org, token));
    }
    let (client_id, key) = credentials;
    let provider = state.awaiting_okta(state.oidc.provider(&org)).await?;
    let token = state
        .awaiting_okta(state.oidc.service_token(
            &provider,
            &client_id,
            &key,
            UNIVERSAL_LOGOUT_SCOPE,
        ))
        .await?;
    state.service_tokens.put(tenant, &token);
    Ok((org, token))
}

/// The workspace's trusted org, and its service app's client id and key (unsealed).
pub async fn service_credentials(
    state: &GatewayState,
    tenant: &TenantId,
) -> Result<(OrgUrl, (String, ServiceKey)), PageError> {
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
    let org = OrgUrl::parse(&config.org_url, state.url_policy)?;
    org.check_trusted(state.url_policy, config.custom_domain_approved_by.is_some())?;
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
    let key = ServiceKey::from_pem(pem)?;
    Ok((org, (client_id, key)))
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
}
