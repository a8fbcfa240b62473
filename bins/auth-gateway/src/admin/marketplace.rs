//! The Marketplace: Okta is offered once the Spark team activated it for the tenant
//! (before that, the page explains how to ask, with the guide's email template filled
//! in); an admin connects and disconnects it. Disconnecting switches Okta sign-in and
//! SCIM tokens off and keeps their configuration; connecting again switches them on.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web as aw};
use maud::html;
use persistence::OktaIntegration;

use super::layout;
use super::shared::{
    Admin, AdminForm, ApiReader, MARKETPLACE_PAGE, PageAdmin, SCIM_PAGE, SSO_PAGE,
};
use crate::GatewayState;
use crate::error::{ApiError, PageError, codes};
use crate::web::db;

/// Connect or disconnect.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Connect,
    Disconnect,
}

impl Step {
    fn parse(text: &str) -> Option<Step> {
        match text {
            "connect" => Some(Step::Connect),
            "disconnect" => Some(Step::Disconnect),
            _ => None,
        }
    }
}

/// The page's form: which step.
#[derive(serde::Deserialize)]
pub struct Action {
    #[serde(default)]
    action: String,
}

/// Connects or disconnects Okta for the admin's tenant (audited by persistence).
async fn take(
    state: &GatewayState,
    admin: &Admin,
    step: Step,
) -> Result<OktaIntegration, PageError> {
    if step == Step::Connect && !admin.integration.is_activated() {
        // The same refusal as the other settings: ask the Spark team first.
        admin.require_connected()?;
    }
    let (tenant, actor) = (admin.tenant.clone(), admin.actor());
    let integration = db(state, move |db| {
        let integrations = db.okta_integrations();
        Ok(match step {
            Step::Connect => integrations.connect(&tenant, &actor)?,
            Step::Disconnect => integrations.disconnect(&tenant, &actor)?,
        })
    })
    .await?;
    tracing::info!(
        tenant = %admin.tenant.workspace,
        employee_id = %admin.employee.id,
        connected = integration.is_live(),
        "okta integration changed"
    );
    Ok(integration)
}

/// The email that asks the Spark team to activate Okta: the customer guide's template,
/// with the workspace's URL and the admin as contact.
fn activation_email(admin: &Admin) -> (String, String) {
    let workspace = admin.tenant.workspace.as_str();
    let name = match (&admin.employee.given_name, &admin.employee.family_name) {
        (Some(given), Some(family)) => format!("{given} {family}"),
        (Some(given), None) => given.clone(),
        _ => admin
            .employee
            .display_name
            .clone()
            .unwrap_or_else(|| admin.employee.email.clone()),
    };
    let subject = format!("Enable Okta integration — {workspace}");
    let body = format!(
        "Hi Spark team,\n\nPlease enable the Okta integration for our tenant {workspace}\n( {} ).\n\
         Admin contact: {name} / {}.\n\nThank you!\n",
        admin.origin, admin.employee.email
    );
    (subject, body)
}

/// `available`, `connected` or `not_activated`.
fn status(integration: &OktaIntegration) -> &'static str {
    if integration.is_live() {
        "connected"
    } else if integration.is_activated() {
        "available"
    } else {
        "not_activated"
    }
}

fn describe(
    state: &GatewayState,
    admin: &Admin,
    integration: &OktaIntegration,
) -> serde_json::Value {
    let (subject, body) = activation_email(admin);
    serde_json::json!({
        "integrations": [{
            "id": "okta",
            "name": "Okta",
            "status": status(integration),
            "activated_at": integration.activated.as_ref().map(|s| super::shared::rfc3339(s.at)),
            "connected_at": integration.connected.as_ref().map(|s| super::shared::rfc3339(s.at)),
            "settings": {
                "sso": SSO_PAGE,
                "scim_tokens": SCIM_PAGE,
            },
            "activation_request": (!integration.is_activated()).then(|| serde_json::json!({
                "to": state.settings.support.activation_email,
                "subject": subject,
                "body": body,
            })),
        }]
    })
}

/// `GET /api/marketplace/integrations`.
pub async fn api_list(
    state: aw::Data<GatewayState>,
    ApiReader(admin): ApiReader,
) -> Result<HttpResponse, ApiError> {
    Ok(super::shared::json(
        StatusCode::OK,
        &describe(&state, &admin, &admin.integration),
    ))
}

/// `POST /api/marketplace/integrations/okta/{connect|disconnect}`.
pub async fn api_step(
    state: aw::Data<GatewayState>,
    ApiReader(admin): ApiReader,
    request: HttpRequest,
    step: aw::Path<String>,
) -> Result<HttpResponse, ApiError> {
    // An unknown step is a route that does not exist: 404 before the CSRF check.
    let step = Step::parse(&step).ok_or_else(PageError::not_found)?;
    admin.check_csrf(&request, None)?;
    let integration = take(&state, &admin, step).await?;
    Ok(super::shared::json(
        StatusCode::OK,
        &describe(&state, &admin, &integration),
    ))
}

/// `POST /marketplace/integrations` (`action=connect|disconnect`): then back to the page.
pub async fn form(
    state: aw::Data<GatewayState>,
    AdminForm { admin, form }: AdminForm<Action>,
) -> Result<HttpResponse, PageError> {
    let step = Step::parse(&form.action).ok_or_else(|| {
        PageError::bad_request(
            codes::REQUEST_INVALID,
            "The form did not say whether to connect or disconnect. Reload the page.",
        )
    })?;
    take(&state, &admin, step).await?;
    let done = match step {
        Step::Connect => "connected",
        Step::Disconnect => "disconnected",
    };
    Ok(HttpResponse::SeeOther()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("{MARKETPLACE_PAGE}?done={done}"),
        ))
        .finish())
}

/// `GET /marketplace/integrations`.
pub async fn page(
    state: aw::Data<GatewayState>,
    PageAdmin(admin): PageAdmin,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let done = crate::rules::params(request.query_string())
        .ok()
        .and_then(|p| p.get("done").cloned());
    let notice = match done.as_deref() {
        Some("connected") => Some(layout::notice(
            "ok",
            "notice",
            html! {
                "Okta is connected. Next: set up " a href=(SSO_PAGE) { "single sign-on" }
                " and generate a " a href=(SCIM_PAGE) { "SCIM token" } " for provisioning."
            },
        )),
        Some("disconnected") => Some(layout::notice(
            "warn",
            "notice",
            html! {
                "Okta is disconnected: Okta sign-in and SCIM tokens are off. Their settings \
                 are kept, so connecting again switches them back on."
            },
        )),
        _ => None,
    };
    let integration = &admin.integration;
    let (badge, content) = if integration.is_live() {
        let since = integration
            .connected
            .as_ref()
            .map(|s| super::shared::rfc3339(s.at))
            .unwrap_or_default();
        (
            "Connected",
            html! {
                p {
                    "Connected since " time { (since) } ". Employees can sign in with Okta \
                     once single sign-on is set up, and Okta can import employees with a SCIM \
                     token."
                }
                ul {
                    li { a href=(SSO_PAGE) { "Set up single sign-on (OIDC)" } }
                    li {
                        a href=(SCIM_PAGE) { "Manage SCIM tokens for provisioning" }
                        " — the page also says which Okta app can import employees: the Spark \
                         app from the Okta catalog, or a second app, since Okta adds no \
                         provisioning to an OIDC app"
                    }
                }
                p class="hint" {
                    "Disconnecting switches Okta sign-in and SCIM tokens off at once; their \
                     settings are kept for when you connect again."
                }
                div class="actions" {
                    (layout::button_form(
                        &admin,
                        MARKETPLACE_PAGE,
                        &[("action", "disconnect")],
                        "danger",
                        "Disconnect"
                    ))
                }
            },
        )
    } else if integration.is_activated() {
        (
            "Available",
            html! {
                p {
                    "The Spark team has enabled Okta for this workspace. Connect it to unlock \
                     single sign-on and SCIM provisioning settings."
                }
                div class="actions" {
                    (layout::button_form(
                        &admin,
                        MARKETPLACE_PAGE,
                        &[("action", "connect")],
                        "",
                        "Connect"
                    ))
                }
            },
        )
    } else {
        let (subject, body) = activation_email(&admin);
        let to = state.settings.support.activation_email.as_deref();
        // The address is checked by settings to be one plain address (no `?`, `&`, `,`).
        let mailto = format!(
            "mailto:{}?{}",
            to.unwrap_or_default(),
            url::form_urlencoded::Serializer::new(String::new())
                .append_pair("subject", &subject)
                .append_pair("body", &body)
                .finish()
                .replace('+', "%20")
        );
        (
            "Not activated",
            html! {
                p id="activation-needed" {
                    "Before Okta appears here as available, the Spark team activates it for \
                     your workspace — a one-time step. The request below names your \
                     workspace's URL and you as its admin contact. "
                    @match to {
                        Some(address) => {
                            "Email it to the Spark team at "
                            a id="activation-to" href={ "mailto:" (address) } { (address) }
                        }
                        None => {
                            "Send it to Spark support, through the contact your company has \
                             with Spark"
                        }
                    }
                    "; once the Spark team confirms, come back and click Connect."
                }
                label for="activation-subject" { "Subject" }
                div class="copyable" {
                    input type="text" id="activation-subject" value=(subject) readonly;
                    button type="button" class="secondary" data-copy="activation-subject" {
                        "Copy"
                    }
                }
                label for="activation-body" { "Message" }
                textarea id="activation-body" rows="7" readonly { (body) }
                div class="actions" {
                    button type="button" class="secondary" data-copy="activation-body" {
                        "Copy message"
                    }
                    a class="button" href=(mailto) { "Open in your email app" }
                }
            },
        )
    };
    let body = html! {
        @if let Some(notice) = notice { (notice) }
        p { "Integrations connect Spark to the other tools your company uses." }
        section class="card" id="integration-okta" aria-labelledby="okta-title" {
            h2 id="okta-title" { "Okta " span class="code" id="okta-status" { (badge) } }
            p {
                "Single sign-on with Okta (OpenID Connect, from Spark and from the Okta \
                 dashboard) and import-only user provisioning (SCIM 2.0): Spark stays the \
                 source of truth."
            }
            (content)
        }
    };
    Ok(layout::respond(
        StatusCode::OK,
        layout::page(&admin, MARKETPLACE_PAGE, "Marketplace", body),
    ))
}
