//! `POST /api/OktaAuth/universal-logout` on the auth host: Okta Universal Logout (Okta's
//! Global Token Revocation profile). An Okta org asks Spark to sign one of its users out;
//! every session and one-time code of the employee that user is ends at once.
//!
//! The checks, in the order Okta's guide gives them (authentication first, then the
//! body, then the user), each refusal with the status the guide and the draft name:
//!
//! 1. `Authorization: Bearer <JWT>` — missing: 401.
//! 2. The JWT's issuer must be the org URL of a workspace whose Okta sign-in is live and
//!    trusted (an org on Okta's domains or a custom domain the Spark team approved), its
//!    `sub` that workspace's Client ID, and someone must have signed in there through the
//!    org — else 401. Only those workspaces are reached: a token of org A never touches a
//!    workspace that signs in with org B, nor one whose admin merely typed org A's URL
//!    and app.
//! 3. Signature with the org's keys, `aud` = this endpoint, `exp`/`nbf`/`iat` with the
//!    sign-in's leeway, a `jti` — else 401 (oidc-client).
//! 4. A throttle per org (after verification, so nobody else can spend an org's budget):
//!    429 with `Retry-After`.
//! 5. The body: one subject, `iss_sub` (whose `iss` must be the token's issuer: else 403)
//!    or `email` — else 400.
//! 6. In one transaction: the `jti` is recorded (a second use: 401), the employee is
//!    found in those workspaces (none: 404), their sessions and codes end, and each is
//!    audited with actor `okta`. 204.
//!
//! Sessions are checked in the database on every request, so the employee is signed out
//! on every replica when the 204 leaves.

use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::http::header::{AUTHORIZATION, RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::{HttpRequest, HttpResponse, ResponseError as _, web as aw};
use bounded_map::BoundedMap;
use oidc_client::{ErrorCode, LogoutSubjectId, LogoutToken, OrgUrl, VerifiedLogoutToken};
use persistence::{LogoutOrder, LogoutOutcome, LogoutSubject, TenantId};

use crate::error::{PageError, codes};
use crate::web::{db, require_auth_host};
use crate::{GatewayState, sign_in};

/// The endpoint's path on the auth host.
pub const PATH: &str = "/api/OktaAuth/universal-logout";

pub fn routes(cfg: &mut aw::ServiceConfig) {
    cfg.route(PATH, aw::post().to(universal_logout));
}

/// The handler: the outcome counted by code, a 401 with `WWW-Authenticate` (RFC 6750
/// §3), a 429 with `Retry-After`.
async fn universal_logout(
    state: aw::Data<GatewayState>,
    request: HttpRequest,
    body: aw::Bytes,
) -> HttpResponse {
    let outcome = sign_out(&state, &request, &body).await;
    let code = match &outcome {
        Ok(()) => "SIGNED_OUT",
        Err(Refusal::Error(error)) => error.code(),
        Err(Refusal::Throttled(_)) => codes::LOGOUT_THROTTLED,
        Err(Refusal::Unrecognised(code)) => code,
    };
    state.count_universal_logout(code);
    match outcome {
        Ok(()) => HttpResponse::NoContent().finish(),
        Err(Refusal::Throttled(wait)) => {
            let mut response = throttled().error_response();
            response.headers_mut().insert(
                RETRY_AFTER,
                actix_web::http::header::HeaderValue::from(wait.as_secs().max(1)),
            );
            response
        }
        Err(Refusal::Unrecognised(code)) => {
            tracing::info!(code, "Universal Logout token not recognised");
            unauthorized(unrecognised().error_response())
        }
        Err(Refusal::Error(error)) => unauthorized(error.error_response()),
    }
}

/// A 401 with `WWW-Authenticate: Bearer` (RFC 6750 §3); other responses as they are.
fn unauthorized(mut response: HttpResponse) -> HttpResponse {
    if response.status() == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            WWW_AUTHENTICATE,
            actix_web::http::header::HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
    }
    response
}

/// The one answer to a token no workspace can verify.
fn unrecognised() -> PageError {
    PageError::from(oidc_client::OidcError::new(
        ErrorCode::LogoutTokenInvalid,
        "The token is not one an Okta org signed for a workspace's Universal Logout: the org \
         and app (its Client ID) must be a workspace's, and the signature the org's.",
    ))
    .json()
}

enum Refusal {
    Error(PageError),
    Throttled(Duration),
    /// A token no workspace can verify: from an org and app no workspace signs in with,
    /// or not signed by the org it names. Both get the same 401, so nobody learns which
    /// orgs and apps sign in to Spark; the metric and the log keep the `code`.
    Unrecognised(&'static str),
}

impl<E: Into<PageError>> From<E> for Refusal {
    fn from(error: E) -> Self {
        Refusal::Error(error.into().json())
    }
}

fn refused(code: &'static str, status: StatusCode, message: impl Into<String>) -> Refusal {
    Refusal::Error(PageError::new(code, status, message).json())
}

fn throttled() -> PageError {
    PageError::new(
        codes::LOGOUT_THROTTLED,
        StatusCode::TOO_MANY_REQUESTS,
        "This Okta org sends more Universal Logout requests than Spark accepts at once; \
         retry after the time in Retry-After.",
    )
    .json()
}

async fn sign_out(state: &GatewayState, request: &HttpRequest, body: &[u8]) -> Result<(), Refusal> {
    require_auth_host(state, request)?;
    let compact = bearer(request).ok_or_else(|| {
        refused(
            codes::LOGOUT_TOKEN_MISSING,
            StatusCode::UNAUTHORIZED,
            "The request has no `Authorization: Bearer` token. Okta signs every Universal \
             Logout request; in the Okta app, set the Logout endpoint authentication to \
             Signed JWT.",
        )
    })?;
    let token = LogoutToken::parse(compact)?;
    let (org, workspaces) = requesting_org(state, &token).await?;
    let provider = state.awaiting_okta(state.oidc.provider(&org)).await?;
    let verified = state
        .awaiting_okta(state.oidc.verify_logout_token(
            &provider,
            &token,
            &state.universal_logout_uri,
        ))
        .await
        .map_err(|error| match error.code() {
            // Not the org's signature: answered as an unknown org is (see `Refusal`).
            ErrorCode::LogoutTokenInvalid => {
                Refusal::Unrecognised(ErrorCode::LogoutTokenInvalid.as_str())
            }
            _ => Refusal::from(error),
        })?;
    if let Some(wait) = state.logout_throttle.take(&verified.issuer, Instant::now()) {
        return Err(Refusal::Throttled(wait));
    }
    let subject = LogoutSubjectId::from_json(body)?;
    if let LogoutSubjectId::IssSub { iss, .. } = &subject {
        let same_org = OrgUrl::parse(iss, state.url_policy).is_ok_and(|o| o == org);
        if !same_org {
            return Err(refused(
                codes::LOGOUT_SUBJECT_FORBIDDEN,
                StatusCode::FORBIDDEN,
                format!(
                    "The subject's issuer `{iss}` is not the org that signed the request \
                     ({org}); an Okta org signs out only its own users."
                ),
            ));
        }
    }
    carry_out(state, verified, workspaces, subject).await
}

/// The token of `Authorization: Bearer <token>` (the scheme case-insensitively, RFC 7235
/// §2.1).
fn bearer(request: &HttpRequest) -> Option<&str> {
    let value = request.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The org a token claims to come from, and the workspaces whose live, trusted Okta
/// sign-in is that org's app named by the token's `sub` (its client id). None: 401.
async fn requesting_org(
    state: &GatewayState,
    token: &LogoutToken,
) -> Result<(OrgUrl, Vec<TenantId>), Refusal> {
    let unknown = || Refusal::Unrecognised(codes::LOGOUT_ISSUER_UNKNOWN);
    let org = OrgUrl::parse(token.issuer(), state.url_policy).map_err(|_| unknown())?;
    if org.as_str() != token.issuer() {
        return Err(unknown());
    }
    let issuer = org.as_str().to_owned();
    let client_id = token.client_id().to_owned();
    let url_policy = state.url_policy;
    let workspaces = db(state, move |db| {
        let mut served = Vec::new();
        for tenant in db.okta_sso_configs().tenants_with_org_url(&issuer)? {
            let workspace = tenant.workspace.to_string();
            let Ok((tenant, config)) = sign_in::live_target(db, Some(tenant), &workspace) else {
                continue;
            };
            let trusted = sign_in::trusted_org(url_policy, &config).is_ok();
            // A workspace is reached only once someone signed in there through the org:
            // a configuration alone (any admin can save another org's URL and client id,
            // which are not secret) proves nothing; a completed sign-in proves the
            // workspace was let in by that org (with the secret of one of its apps).
            if trusted
                && config.client_id == client_id
                && db
                    .employee_identities()
                    .any_with_issuer(&tenant.id, &issuer)?
            {
                served.push(tenant.id);
            }
        }
        Ok(served)
    })
    .await?;
    if workspaces.is_empty() {
        return Err(unknown());
    }
    Ok((org, workspaces))
}

/// Step 6: the one transaction, and its outcome as a response.
async fn carry_out(
    state: &GatewayState,
    verified: VerifiedLogoutToken,
    workspaces: Vec<TenantId>,
    subject: LogoutSubjectId,
) -> Result<(), Refusal> {
    let format = subject.format();
    let leeway = state.oidc.options().clock_leeway;
    let outcome = db(state, move |db| {
        let named = match &subject {
            LogoutSubjectId::IssSub { sub, .. } => LogoutSubject::OktaUser(sub),
            LogoutSubjectId::Email(email) => LogoutSubject::Email(email),
        };
        let order = LogoutOrder {
            issuer: &verified.issuer,
            token_id: &verified.token_id,
            // Remembered while the token could still be accepted: until `exp` plus the
            // clock leeway verification allows.
            token_expires_at: verified.expires_at + leeway,
            workspaces: &workspaces,
            subject: named,
        };
        Ok(db.universal_logouts().sign_out(&order)?)
    })
    .await?;
    match outcome {
        LogoutOutcome::SignedOut {
            employees,
            sessions_ended,
        } => {
            tracing::info!(
                employees = employees.len(),
                sessions_ended,
                subject_format = format,
                "signed out by Okta Universal Logout"
            );
            Ok(())
        }
        LogoutOutcome::NoSuchEmployee => Err(refused(
            codes::LOGOUT_SUBJECT_UNKNOWN,
            StatusCode::NOT_FOUND,
            format!(
                "No employee of the workspaces that sign in with this org is named by the \
                 {format} subject (an `iss_sub` subject names an employee once they have \
                 signed in to Spark with Okta)."
            ),
        )),
        LogoutOutcome::TokenReplayed => Err(refused(
            codes::LOGOUT_TOKEN_REPLAYED,
            StatusCode::UNAUTHORIZED,
            "This request's token (its `jti`) was used before; Okta signs each request \
             with a new one.",
        )),
    }
}

/// Universal Logout requests per Okta org: a token bucket of `per_second` refilled each
/// second, holding ten seconds' worth. Only verified orgs are counted, so the map holds
/// at most the configured orgs; it starts over should it ever pass
/// [`Self::MAX_ORGS`] orgs or [`Self::MAX_BYTES`].
pub struct LogoutThrottle {
    per_second: u32,
    buckets: BoundedMap<String, (f64, Instant)>,
}

impl LogoutThrottle {
    const MAX_ORGS: usize = 10_000;
    /// Counted as each org URL's length and a fixed size per bucket.
    const MAX_BYTES: usize = 2 << 20;
    const BURST_SECONDS: f64 = 10.0;

    /// A throttle of `per_second` requests per org (0: none).
    pub fn new(per_second: u32) -> Self {
        Self::bounded(per_second, Self::MAX_ORGS, Self::MAX_BYTES)
    }

    fn bounded(per_second: u32, max_orgs: usize, max_bytes: usize) -> Self {
        Self {
            per_second,
            buckets: BoundedMap::new(max_orgs, max_bytes),
        }
    }

    /// Takes one request of `org`'s budget at `now`; how long to wait when there is none.
    pub fn take(&self, org: &str, now: Instant) -> Option<Duration> {
        if self.per_second == 0 {
            return None;
        }
        let rate = f64::from(self.per_second);
        let capacity = rate * Self::BURST_SECONDS;
        let bytes = org.len() + std::mem::size_of::<(String, f64, Instant)>();
        self.buckets.update(
            org,
            bytes,
            || (capacity, now),
            |(tokens, at)| {
                let refilled = rate * now.saturating_duration_since(*at).as_secs_f64();
                *tokens = (*tokens + refilled).min(capacity);
                *at = now;
                if *tokens >= 1.0 {
                    *tokens -= 1.0;
                    None
                } else {
                    Some(Duration::from_secs_f64((1.0 - *tokens) / rate))
                }
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_org_has_its_own_budget_refilled_over_time() {
        let throttle = LogoutThrottle::new(2);
        let t0 = Instant::now();
        for _ in 0..20 {
            assert_eq!(
                throttle.take("https://a.okta.com", t0),
                None,
                "a burst of 10 s"
            );
        }
        let wait = throttle.take("https://a.okta.com", t0).unwrap();
        assert!(wait <= Duration::from_millis(500), "{wait:?}");
        assert_eq!(throttle.take("https://b.okta.com", t0), None, "per org");
        let later = t0 + Duration::from_millis(500);
        assert_eq!(throttle.take("https://a.okta.com", later), None, "refilled");
        assert!(throttle.take("https://a.okta.com", later).is_some());
        assert_eq!(LogoutThrottle::new(0).take("x", t0), None, "0: no limit");
    }

    #[test]
    fn the_buckets_hold_their_orgs_and_bytes() {
        let orgs = [
            "https://a.okta.com",
            "https://b.okta.com",
            "https://c.okta.com",
        ];
        let t0 = Instant::now();
        // Bounded by orgs (two), then by bytes (two orgs' worth).
        let per_org = orgs[0].len() + std::mem::size_of::<(String, f64, Instant)>();
        for throttle in [
            LogoutThrottle::bounded(1, 2, 1 << 20),
            LogoutThrottle::bounded(1, 100, 2 * per_org),
        ] {
            for org in orgs {
                assert_eq!(throttle.take(org, t0), None);
                assert!(throttle.buckets.len() <= 2);
                assert!(throttle.buckets.bytes() <= 2 * per_org);
            }
            assert_eq!(throttle.buckets.len(), 1, "the third org started it over");
            // The org that is kept keeps what it spent: nine more, then none left.
            for _ in 0..9 {
                assert_eq!(throttle.take(orgs[2], t0), None);
            }
            assert!(throttle.take(orgs[2], t0).is_some());
        }
    }
}
