//! The Marketplace: Okta is offered once the Spark team activated it for the tenant
//! (before that, the page explains how to ask, with the guide's email template filled
//! in); an admin connects and disconnects it. Disconnecting switches Okta sign-in and
//! SCIM tokens off and keeps their configuration; connecting again switches them on.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web as aw};
use persistence::OktaIntegration;

use super::layout;
use super::shared::{Admin, MARKETPLACE_PAGE, SCIM_PAGE, SSO_PAGE, admin};
use crate::GatewayState;
use crate::error::{Format, PageError, codes};
use crate::html::escape;
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
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let admin = admin(&state, &request, Format::Json).await?;
    Ok(super::shared::json(
        StatusCode::OK,
        &describe(&state, &admin, &admin.integration),
    ))
}

/// `POST /api/marketplace/integrations/okta/{connect|disconnect}`.
pub async fn api_step(
    state: aw::Data<GatewayState>,
    request: HttpRequest,
    step: aw::Path<String>,
) -> Result<HttpResponse, PageError> {
    let admin = admin(&state, &request, Format::Json).await?;
    let step = Step::parse(&step).ok_or_else(|| PageError::not_found().json())?;
    admin.check_csrf(&request, None).map_err(PageError::json)?;
    let integration = take(&state, &admin, step).await.map_err(PageError::json)?;
    Ok(super::shared::json(
        StatusCode::OK,
        &describe(&state, &admin, &integration),
    ))
}

/// `POST /marketplace/integrations` (`action=connect|disconnect`): then back to the page.
pub async fn form(
    state: aw::Data<GatewayState>,
    request: HttpRequest,
    body: aw::Bytes,
) -> Result<HttpResponse, PageError> {
    let (admin, fields) = super::shared::form_change(&state, &request, &body).await?;
    let step = fields
        .get("action")
        .and_then(|a| Step::parse(a))
        .ok_or_else(|| {
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
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let admin = admin(&state, &request, Format::Html).await?;
    let done = crate::rules::params(request.query_string())
        .ok()
        .and_then(|p| p.get("done").cloned());
    let notice = match done.as_deref() {
        Some("connected") => layout::notice(
            "ok",
            "notice",
            &format!(
                "Okta is connected. Next: set up <a href=\"{SSO_PAGE}\">single sign-on</a> and \
                 generate a <a href=\"{SCIM_PAGE}\">SCIM token</a> for provisioning."
            ),
        ),
        Some("disconnected") => layout::notice(
            "warn",
            "notice",
            "Okta is disconnected: Okta sign-in and SCIM tokens are off. Their settings are \
             kept, so connecting again switches them back on.",
        ),
        _ => String::new(),
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
            format!(
                "<p>Connected since <time>{}</time>. Employees can sign in with Okta once single \
                 sign-on is set up, and Okta can import employees with a SCIM token.</p>\
                 <ul><li><a href=\"{SSO_PAGE}\">Set up single sign-on (OIDC)</a></li>\
                 <li><a href=\"{SCIM_PAGE}\">Manage SCIM tokens for provisioning</a> — the page \
                 also says which Okta app can import employees: the Spark app from the Okta \
                 catalog, or a second app, since Okta adds no provisioning to an OIDC app</li></ul>\
                 <p class=\"hint\">Disconnecting switches Okta sign-in and SCIM tokens off at \
                 once; their settings are kept for when you connect again.</p>\
                 <div class=\"actions\">{}</div>",
                escape(&since),
                layout::button_form(
                    &admin,
                    MARKETPLACE_PAGE,
                    &[("action", "disconnect")],
                    "danger",
                    "Disconnect"
                ),
            ),
        )
    } else if integration.is_activated() {
        (
            "Available",
            format!(
                "<p>The Spark team has enabled Okta for this workspace. Connect it to unlock \
                 single sign-on and SCIM provisioning settings.</p><div class=\"actions\">{}</div>",
                layout::button_form(
                    &admin,
                    MARKETPLACE_PAGE,
                    &[("action", "connect")],
                    "",
                    "Connect"
                ),
            ),
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
        let recipient = match to {
            Some(address) => format!(
                "Email it to the Spark team at <a id=\"activation-to\" href=\"mailto:{0}\">{0}</a>",
                escape(address)
            ),
            None => "Send it to Spark support, through the contact your company has with \
                     Spark"
                .to_owned(),
        };
        (
            "Not activated",
            format!(
                "<p id=\"activation-needed\">Before Okta appears here as available, the Spark \
                 team activates it for your workspace — a one-time step. The request below \
                 names your workspace's URL and you as its admin contact. {recipient}; once \
                 the Spark team confirms, come back and click Connect.</p>\
                 <label for=\"activation-subject\">Subject</label>\
                 <div class=\"copyable\"><input type=\"text\" id=\"activation-subject\" \
                 value=\"{}\" readonly><button type=\"button\" class=\"secondary\" \
                 data-copy=\"activation-subject\">Copy</button></div>\
                 <label for=\"activation-body\">Message</label>\
                 <textarea id=\"activation-body\" rows=\"7\" readonly>{}</textarea>\
                 <div class=\"actions\"><button type=\"button\" class=\"secondary\" \
                 data-copy=\"activation-body\">Copy message</button>\
                 <a class=\"button\" href=\"{}\">Open in your email app</a></div>",
                escape(&subject),
                escape(&body),
                escape(&mailto)
            ),
        )
    };
    let body = format!(
        "{notice}<p>Integrations connect Spark to the other tools your company uses.</p>\
         <section class=\"card\" id=\"integration-okta\" aria-labelledby=\"okta-title\">\
         <h2 id=\"okta-title\">Okta <span class=\"code\" id=\"okta-status\">{badge}</span></h2>\
         <p>Single sign-on with Okta (OpenID Connect, from Spark and from the Okta dashboard) \
         and import-only user provisioning (SCIM 2.0): Spark stays the source of truth.</p>\
         {content}</section>"
    );
    Ok(layout::respond(
        StatusCode::OK,
        layout::page(&admin, MARKETPLACE_PAGE, "Marketplace", &body),
    ))
}
