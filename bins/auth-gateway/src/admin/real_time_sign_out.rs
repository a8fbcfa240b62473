//! Real-time sign-out (Spark → Okta) on the SSO settings page and its JSON API: Spark as
//! an Okta API service app of the workspace's org. Spark makes the key pair and shows the
//! public key for the admin to add to the service app in Okta; the admin enters the
//! service app's Client ID; "Test" gets a token and says exactly what is missing, with
//! Okta's error code. The private key is sealed before it is stored, bound to the
//! workspace and key id, and never shown; "New key" rotates it. The section also lists
//! the revocations deactivations queued, failing ones first.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web as aw};
use maud::{Markup, html};
use oidc_client::{ServiceKey, ServiceToken};
use persistence::{OktaRevocation, OktaServiceApp, RevocationStatus, service_key_context};

use super::layout;
use super::shared::{Admin, AdminJson, ApiAdmin, ApiReader, SSO_PAGE};
use crate::GatewayState;
use crate::error::{ApiError, PageError, codes};
use crate::revocation_worker;
use crate::web::db;

/// The form field (and JSON key) of the service app's client id.
pub const SERVICE_CLIENT_ID: &str = "service_client_id";

/// What the section shows: the service app as far as it is set up, and the queue.
pub struct Status {
    /// The service app (its key, and client id once entered).
    pub app: Option<OktaServiceApp>,
    /// The workspace's revocations, newest first.
    pub revocations: Vec<OktaRevocation>,
}

/// The workspace's service app and revocations.
pub async fn status(state: &GatewayState, admin: &Admin) -> Result<Status, PageError> {
    let tenant = admin.tenant.id.clone();
    db(state, move |db| {
        Ok(Status {
            app: db.okta_service_apps().get(&tenant)?,
            revocations: db.okta_revocations().list(&tenant)?,
        })
    })
    .await
}

/// Makes a new key pair (the first, or a rotation), seals the private half and stores
/// it (audited by persistence). Okta must then be given the new public key.
pub async fn make_key(state: &GatewayState, admin: &Admin) -> Result<OktaServiceApp, PageError> {
    admin.require_connected()?;
    let (tenant, actor, keys) = (admin.tenant.id.clone(), admin.actor(), state.keys.clone());
    let app = db(state, move |db| {
        let key = ServiceKey::generate()?;
        let sealed = keys
            .seal(
                key.private_pem(),
                &service_key_context(&tenant, key.key_id()),
            )
            .map_err(|_| PageError::internal())?;
        let public = key.public_jwk().to_string();
        Ok(db
            .okta_service_apps()
            .set_key(&tenant, key.key_id(), &sealed, &public, &actor)?)
    })
    .await?;
    tracing::info!(tenant = %admin.tenant.workspace, key_id = %app.key_id, "service app key made");
    Ok(app)
}

/// Saves the service app's client id.
pub async fn set_client_id(
    state: &GatewayState,
    admin: &Admin,
    client_id: String,
) -> Result<OktaServiceApp, PageError> {
    admin.require_connected()?;
    let (tenant, actor) = (admin.tenant.id.clone(), admin.actor());
    let app = db(state, move |db| {
        db.okta_service_apps()
            .set_client_id(&tenant, &client_id, &actor)
            .map_err(|e| match e {
                persistence::Error::NotFound(message) => PageError::new(
                    codes::REAL_TIME_SIGN_OUT_NOT_SET_UP,
                    StatusCode::CONFLICT,
                    format!("Not saved: {message}."),
                )
                .on_field(SERVICE_CLIENT_ID),
                persistence::Error::Invalid(message) => {
                    PageError::bad_request(codes::REQUEST_INVALID, message)
                        .on_field(SERVICE_CLIENT_ID)
                }
                other => PageError::from(other),
            })
    })
    .await?;
    Ok(app)
}

/// Gets a token as the service app, always from Okta: what is missing is said with
/// Okta's error code.
pub async fn test(state: &GatewayState, admin: &Admin) -> Result<ServiceToken, PageError> {
    state.service_tokens.forget(&admin.tenant.id);
    let (_, token) = revocation_worker::service_token(state, &admin.tenant.id).await?;
    Ok(token)
}

/// Switches real-time sign-out off (audited).
pub async fn remove(state: &GatewayState, admin: &Admin) -> Result<bool, PageError> {
    let (tenant, actor) = (admin.tenant.id.clone(), admin.actor());
    let removed = db(state, move |db| {
        Ok(db.okta_service_apps().delete(&tenant, &actor)?)
    })
    .await?;
    Ok(removed)
}

fn status_label(revocation: &OktaRevocation) -> &'static str {
    match revocation.status {
        RevocationStatus::Sent => "sent",
        RevocationStatus::UserGone => "done (no such Okta user)",
        RevocationStatus::Pending if revocation.is_failing() => "failing, retrying",
        RevocationStatus::Pending => "queued",
    }
}

fn describe(status: &Status) -> serde_json::Value {
    let app = status.app.as_ref();
    serde_json::json!({
        "key_id": app.map(|a| a.key_id.clone()),
        "public_key": app.and_then(|a| serde_json::from_str::<serde_json::Value>(&a.public_jwk).ok()),
        "client_id": app.and_then(|a| a.client_id.clone()),
        "set_up": app.is_some_and(|a| a.client_id.is_some()),
        "failing": status.revocations.iter().filter(|r| r.is_failing()).count(),
        "revocations": status.revocations.iter().map(|r| serde_json::json!({
            "id": r.id,
            "email": r.email,
            "okta_user_id": r.okta_user_id,
            "status": status_label(r),
            "attempts": r.attempts,
            "last_error": r.last_error,
            "queued_at": super::shared::rfc3339(r.created_at),
            "finished_at": r.finished_at.map(super::shared::rfc3339),
        })).collect::<Vec<_>>(),
    })
}

/// `GET /api/admin/integrations/okta/real-time-sign-out`.
pub async fn api_get(
    state: aw::Data<GatewayState>,
    ApiReader(admin): ApiReader,
) -> Result<HttpResponse, ApiError> {
    api_get_for(&state, &admin).await
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientIdBody {
    client_id: String,
}

/// `PUT /api/admin/integrations/okta/real-time-sign-out` `{"client_id": …}`.
pub async fn api_put(
    state: aw::Data<GatewayState>,
    AdminJson { admin, body }: AdminJson<ClientIdBody>,
) -> Result<HttpResponse, ApiError> {
    set_client_id(&state, &admin, body.client_id).await?;
    api_get_for(&state, &admin).await
}

/// `POST /api/admin/integrations/okta/real-time-sign-out/key`: a new key pair; the answer
/// has its public key.
pub async fn api_key(
    state: aw::Data<GatewayState>,
    ApiAdmin(admin): ApiAdmin,
) -> Result<HttpResponse, ApiError> {
    make_key(&state, &admin).await?;
    api_get_for(&state, &admin).await
}

/// `POST /api/admin/integrations/okta/real-time-sign-out/test`.
pub async fn api_test(
    state: aw::Data<GatewayState>,
    ApiAdmin(admin): ApiAdmin,
) -> Result<HttpResponse, ApiError> {
    let token = test(&state, &admin).await?;
    Ok(super::shared::json(
        StatusCode::OK,
        &serde_json::json!({"ok": true, "scope": token.scope}),
    ))
}

/// `DELETE /api/admin/integrations/okta/real-time-sign-out`.
pub async fn api_delete(
    state: aw::Data<GatewayState>,
    ApiAdmin(admin): ApiAdmin,
) -> Result<HttpResponse, ApiError> {
    let removed = remove(&state, &admin).await?;
    Ok(super::shared::json(
        StatusCode::OK,
        &serde_json::json!({"removed": removed}),
    ))
}

async fn api_get_for(state: &GatewayState, admin: &Admin) -> Result<HttpResponse, ApiError> {
    let status = status(state, admin).await?;
    Ok(super::shared::json(StatusCode::OK, &describe(&status)))
}

/// The page's section: the Okta steps, Spark's public key, the client id, Test, New key,
/// and the queue.
pub fn section(admin: &Admin, status: &Status, field_error: Option<&PageError>) -> Markup {
    let app = status.app.as_ref();
    let failing = status.revocations.iter().filter(|r| r.is_failing()).count();
    let key_button = if app.is_some() {
        "New key"
    } else {
        "Generate key"
    };
    html! {
        section class="card" id="real-time-sign-out" {
            h2 { "4. Real-time sign-out (optional)" }
            p {
                "When an employee is deactivated in Spark, Spark can ask Okta at once to end \
                 their Okta sessions and tokens — which signs them out of every app that \
                 supports Universal Logout — instead of waiting for Okta's next import. Spark \
                 does this as an Okta API service app of your org:"
            }
            ol {
                li {
                    (layout::okta_path(&["Applications", "Applications", "Create App Integration"]))
                    "; " (layout::okta("Sign-in method")) ": " (layout::okta("API Services"))
                    "; name it (e.g. Spark real-time sign-out); " (layout::okta("Save")) "."
                }
                li {
                    "Click " (key_button) " below, then in Okta, in the app's "
                    (layout::okta("Client Credentials")) " section: " (layout::okta("Edit"))
                    ", choose " (layout::okta("Public key/Private key")) ", "
                    (layout::okta("Save keys in Okta")) ": " (layout::okta("Add key"))
                    " and paste Spark's public key; " (layout::okta("Save")) ". Clear "
                    (layout::okta(
                        "Require Demonstrating Proof of Possession (DPoP) header in token requests"
                    ))
                    "."
                }
                li {
                    "On the " (layout::okta("Okta API Scopes")) " tab, " (layout::okta("Grant"))
                    " " span class="code" { "okta.universalLogout.manage" } ". Okta says: \
                     “Assign admin roles for every OAuth 2.0 service app that you create”."
                }
                li { "Enter the app's Client ID below, Save and Test." }
            }
            p class="hint" {
                "An employee who never signed in to Spark with Okta has no Okta user id Spark \
                 could name: Okta's next import deactivates them there (the audit log says so)."
            }
            @match app {
                Some(app) => {
                    p {
                        "Spark's public key (key id " span class="code" { (app.key_id) }
                        "), to add in Okta:"
                    }
                    (layout::copyable("service-public-key", "Public key (JWK)", &app.public_jwk))
                    div class="actions" {
                        (layout::button_form(
                            admin,
                            SSO_PAGE,
                            &[("action", "sign_out_key")],
                            "secondary",
                            "New key"
                        ))
                    }
                }
                None => {
                    div class="actions" {
                        (layout::button_form(
                            admin,
                            SSO_PAGE,
                            &[("action", "sign_out_key")],
                            "",
                            "Generate key"
                        ))
                    }
                }
            }
            @if let Some(app) = app {
                form method="post" action={ (SSO_PAGE) "#real-time-sign-out" } novalidate {
                    (layout::csrf_field(admin))
                    label for=(SERVICE_CLIENT_ID) { "Service app Client ID" }
                    input type="text" id=(SERVICE_CLIENT_ID) name=(SERVICE_CLIENT_ID)
                        value=(app.client_id.as_deref().unwrap_or(""))
                        autocomplete="off" spellcheck="false";
                    @if let Some(error) = layout::field_error(SERVICE_CLIENT_ID, field_error) {
                        (error)
                    }
                    div class="actions" {
                        button type="submit" name="action" value="sign_out_client"
                            id="save-service-app" { "Save" }
                        button type="submit" name="action" value="sign_out_test"
                            class="secondary" id="test-service-app" { "Test" }
                        button type="submit" name="action" value="sign_out_remove"
                            class="danger" { "Turn off" }
                    }
                }
            }
            h3 { "Sign-outs sent to Okta" }
            @if status.revocations.is_empty() {
                p id="revocations-empty" { "No deactivation has been sent to Okta yet." }
            } @else {
                @if failing > 0 {
                    (layout::notice(
                        "bad",
                        "revocations-failing",
                        html! {
                            (failing) " sign-out(s) keep failing; Spark retries them. The last \
                             error says what to fix."
                        },
                    ))
                }
                table id="revocations" {
                    thead {
                        tr {
                            th { "Employee" } th { "Okta user id" } th { "Status" }
                            th { "Attempts" } th { "Queued" } th { "Last error" }
                        }
                    }
                    tbody {
                        @for r in &status.revocations {
                            tr class=(if r.is_failing() { "failing" } else { "" }) {
                                td { (r.email) }
                                td class="code" { (r.okta_user_id) }
                                td { (status_label(r)) }
                                td { (r.attempts) }
                                td { time { (super::shared::rfc3339(r.created_at)) } }
                                td { (r.last_error.as_deref().unwrap_or("")) }
                            }
                        }
                    }
                }
            }
        }
    }
}
