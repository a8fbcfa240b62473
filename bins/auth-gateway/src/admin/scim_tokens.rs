//! SCIM tokens for Okta's provisioning: the connector base URL to paste into Okta,
//! Generate (the token is shown once, in the response to the request that minted it, and
//! never again), the list (label, created, created by, last used) with Revoke and Rotate.
//! The lifecycle rules are `token-store`'s; storage and audit are persistence's.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web as aw};
use persistence::{Database, TenantId};
use token_store::scim::{ManageError, MintedToken, ScimTokens};
use token_store::{TokenId, TokenRecord};

use super::{Admin, MARKETPLACE_PAGE, SCIM_PAGE, admin, layout};
use crate::GatewayState;
use crate::error::{Format, PageError, codes};
use crate::html::escape;
use crate::web::db;

/// The label a token gets when the admin gives none.
const DEFAULT_LABEL: &str = "Okta provisioning";
/// Longer ids name no token (ids are UUIDs).
const MAX_ID_LEN: usize = 64;

/// A token as listed, with who made it in words.
struct Listed {
    record: TokenRecord,
    created_by: String,
}

fn refusal(error: ManageError<persistence::Error>) -> PageError {
    match error {
        ManageError::InvalidLabel(why) => PageError::bad_request(
            codes::SCIM_TOKEN_LABEL_INVALID,
            format!(
                "The token's label is not usable: {why}. Give it a short name such as “Okta \
                 production”."
            ),
        )
        .on_field("label"),
        ManageError::NotFound { .. } => not_found(),
        ManageError::AlreadyRevoked { .. } => PageError::new(
            codes::SCIM_TOKEN_REVOKED,
            StatusCode::CONFLICT,
            "This token is revoked, so it cannot be rotated. Generate a new token instead.",
        ),
        ManageError::Randomness(_) => PageError::internal(),
        ManageError::Storage(error) => PageError::from(error),
    }
}

fn not_found() -> PageError {
    PageError::new(
        codes::SCIM_TOKEN_NOT_FOUND,
        StatusCode::NOT_FOUND,
        "There is no SCIM token with this id in this workspace. Reload the token list.",
    )
}

fn token_id(id: &str) -> Result<TokenId, PageError> {
    if id.is_empty() || id.len() > MAX_ID_LEN {
        return Err(not_found());
    }
    Ok(TokenId::new(id))
}

/// Who an actor's recorded form names, in words: an employee's email, "the Spark team".
fn who(db: &Database, tenant: &TenantId, by: &str, names: &mut HashMap<String, String>) -> String {
    if let Some(name) = names.get(by) {
        return name.clone();
    }
    let name = match by.split_once(':') {
        Some(("employee", id)) => match db.employees().get(tenant, id) {
            Ok(Some(employee)) => employee.email,
            _ => "a former employee".to_owned(),
        },
        Some(("operator", _)) => "the Spark team".to_owned(),
        _ if by == "system" => "Spark".to_owned(),
        _ => by.to_owned(),
    };
    names.insert(by.to_owned(), name.clone());
    name
}

async fn list(state: &GatewayState, admin: &Admin) -> Result<Vec<Listed>, PageError> {
    let (tenant, actor) = (admin.tenant.id.clone(), admin.actor());
    db(state, move |db| {
        let records = ScimTokens::new(db.scim_tokens(&actor)).list(&(&tenant).into())?;
        let mut names = HashMap::new();
        Ok(records
            .into_iter()
            .map(|record| Listed {
                created_by: who(db, &tenant, &record.created_by, &mut names),
                record,
            })
            .collect())
    })
    .await
}

async fn mint(state: &GatewayState, admin: &Admin, label: &str) -> Result<MintedToken, PageError> {
    admin.require_connected()?;
    let label = if label.trim().is_empty() {
        DEFAULT_LABEL.to_owned()
    } else {
        label.to_owned()
    };
    let (tenant, actor) = (admin.tenant.id.clone(), admin.actor());
    let minted = db(state, move |db| {
        ScimTokens::new(db.scim_tokens(&actor))
            .mint(
                &(&tenant).into(),
                &label,
                actor.as_str(),
                chrono::Utc::now(),
            )
            .map_err(refusal)
    })
    .await?;
    tracing::info!(token_id = %minted.record.id, hint = %minted.record.hint, "scim token minted");
    Ok(minted)
}

async fn revoke(
    state: &GatewayState,
    admin: &Admin,
    id: TokenId,
) -> Result<TokenRecord, PageError> {
    let (tenant, actor) = (admin.tenant.id.clone(), admin.actor());
    let revoked = db(state, move |db| {
        ScimTokens::new(db.scim_tokens(&actor))
            .revoke(&(&tenant).into(), &id, chrono::Utc::now())
            .map_err(refusal)
    })
    .await?;
    tracing::info!(token_id = %revoked.id, "scim token revoked");
    Ok(revoked)
}

async fn rotate(
    state: &GatewayState,
    admin: &Admin,
    id: TokenId,
) -> Result<MintedToken, PageError> {
    admin.require_connected()?;
    let (tenant, actor) = (admin.tenant.id.clone(), admin.actor());
    let minted = db(state, move |db| {
        ScimTokens::new(db.scim_tokens(&actor))
            .rotate(&(&tenant).into(), &id, actor.as_str(), chrono::Utc::now())
            .map_err(refusal)
    })
    .await?;
    tracing::info!(token_id = %minted.record.id, "scim token rotated");
    Ok(minted)
}

fn describe(record: &TokenRecord, created_by: &str) -> serde_json::Value {
    serde_json::json!({
        "id": record.id.as_str(),
        "label": record.label,
        "hint": record.hint.to_string(),
        "created_at": super::rfc3339(record.created_at),
        "created_by": created_by,
        "last_used_at": record.last_used_at.map(super::rfc3339),
        "revoked_at": record.revoked_at.map(super::rfc3339),
        "status": if record.revoked_at.is_some() { "revoked" } else { "active" },
    })
}

fn describe_minted(minted: &MintedToken, admin: &Admin) -> serde_json::Value {
    let mut value = describe(&minted.record, &admin.employee.email);
    if let Some(object) = value.as_object_mut() {
        object.insert("token".into(), minted.token.expose_secret().into());
    }
    value
}

/// `GET /api/my-settings/integrations/okta-scim/tokens`.
pub async fn api_list(
    state: aw::Data<GatewayState>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let admin = admin(&state, &request, Format::Json).await?;
    let tokens = list(&state, &admin).await.map_err(PageError::json)?;
    let tokens: Vec<_> = tokens
        .iter()
        .map(|t| describe(&t.record, &t.created_by))
        .collect();
    Ok(super::json(
        StatusCode::OK,
        &serde_json::json!({
            "scim_base_url": state.settings.scim_base_url(admin.tenant.workspace.as_str()),
            "tokens": tokens,
        }),
    ))
}

/// The body of a mint request.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MintRequest {
    #[serde(default)]
    label: String,
}

/// `POST /api/my-settings/integrations/okta-scim/tokens` with `{label?}`: 201 with the
/// token (the only time it is shown).
pub async fn api_mint(
    state: aw::Data<GatewayState>,
    request: HttpRequest,
    body: aw::Bytes,
) -> Result<HttpResponse, PageError> {
    let admin = super::api_change(&state, &request).await?;
    let asked: MintRequest = super::json_body(&body)?;
    let minted = mint(&state, &admin, &asked.label)
        .await
        .map_err(PageError::json)?;
    Ok(super::json(
        StatusCode::CREATED,
        &describe_minted(&minted, &admin),
    ))
}

/// `DELETE …/tokens/{id}`: revokes it (200 with the record).
pub async fn api_revoke(
    state: aw::Data<GatewayState>,
    request: HttpRequest,
    id: aw::Path<String>,
) -> Result<HttpResponse, PageError> {
    let admin = super::api_change(&state, &request).await?;
    let id = token_id(&id).map_err(PageError::json)?;
    let revoked = revoke(&state, &admin, id).await.map_err(PageError::json)?;
    Ok(super::json(
        StatusCode::OK,
        &describe(&revoked, &admin.employee.email),
    ))
}

/// `POST …/tokens/{id}/rotate`: revokes it and mints its replacement (201, shown once).
pub async fn api_rotate(
    state: aw::Data<GatewayState>,
    request: HttpRequest,
    id: aw::Path<String>,
) -> Result<HttpResponse, PageError> {
    let admin = super::api_change(&state, &request).await?;
    let id = token_id(&id).map_err(PageError::json)?;
    let minted = rotate(&state, &admin, id).await.map_err(PageError::json)?;
    Ok(super::json(
        StatusCode::CREATED,
        &describe_minted(&minted, &admin),
    ))
}

/// `POST /my-settings/integrations/okta-scim` (`action=mint|revoke|rotate`).
pub async fn form(
    state: aw::Data<GatewayState>,
    request: HttpRequest,
    body: aw::Bytes,
) -> Result<HttpResponse, PageError> {
    let (admin, fields) = super::form_change(&state, &request, &body).await?;
    let field = |name: &str| fields.get(name).map(String::as_str).unwrap_or_default();
    let outcome = match field("action") {
        "mint" => match mint(&state, &admin, field("label")).await {
            Ok(minted) => Outcome::Minted(minted, "generated"),
            Err(error) if error.status().is_client_error() => Outcome::Refused(error),
            Err(error) => return Err(error),
        },
        "rotate" => {
            let minted = rotate(&state, &admin, token_id(field("token_id"))?).await?;
            Outcome::Minted(minted, "rotated")
        }
        "revoke" => {
            let revoked = revoke(&state, &admin, token_id(field("token_id"))?).await?;
            Outcome::Revoked(revoked.label)
        }
        _ => {
            return Err(PageError::bad_request(
                codes::REQUEST_INVALID,
                "The form did not say whether to generate, rotate or revoke. Reload the page.",
            ));
        }
    };
    render(&state, &admin, outcome).await
}

/// `GET /my-settings/integrations/okta-scim`.
pub async fn page(
    state: aw::Data<GatewayState>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let admin = admin(&state, &request, Format::Html).await?;
    render(&state, &admin, Outcome::Viewed).await
}

enum Outcome {
    Viewed,
    /// A token was generated or rotated (the verb): it is shown now, once.
    Minted(MintedToken, &'static str),
    Revoked(String),
    Refused(PageError),
}

async fn render(
    state: &GatewayState,
    admin: &Admin,
    outcome: Outcome,
) -> Result<HttpResponse, PageError> {
    let tokens = list(state, admin).await?;
    let mut status = StatusCode::OK;
    let mut label_error = String::new();
    let notice = match &outcome {
        Outcome::Viewed => String::new(),
        Outcome::Minted(minted, verb) => format!(
            "<section class=\"notice ok\" id=\"new-token\" role=\"status\">\
             <h2>Token {verb}: copy it now</h2>\
             <p><strong>This is the only time the token is shown.</strong> Paste it into Okta \
             (Provisioning → Integration → API Token) now; Spark keeps only a fingerprint of it \
             and cannot show it again. If you lose it, rotate it.</p>{}</section>",
            layout::copyable(
                "new-token-value",
                &format!("SCIM token “{}”", minted.record.label),
                minted.token.expose_secret()
            )
        ),
        Outcome::Revoked(label) => layout::notice(
            "warn",
            "notice",
            &format!(
                "Token “{}” is revoked: Okta requests with it are refused from now on.",
                escape(label)
            ),
        ),
        Outcome::Refused(error) => {
            status = error.status();
            label_error = format!(
                "<p class=\"field-error\" id=\"label-error\">{} <span class=\"code\">{}</span></p>",
                escape(error.message()),
                escape(error.code())
            );
            layout::notice(
                "bad",
                "notice",
                &format!(
                    "Not generated: {} <span class=\"code\">{}</span>",
                    escape(error.message()),
                    escape(error.code())
                ),
            )
        }
    };
    let connected = if admin.integration.is_live() {
        String::new()
    } else {
        layout::notice(
            "warn",
            "not-connected",
            &format!(
                "Okta is not connected, so SCIM tokens do not work and new ones cannot be \
                 generated. Connect it in the <a href=\"{MARKETPLACE_PAGE}\">Marketplace</a> \
                 first."
            ),
        )
    };
    let rows: String = tokens
        .iter()
        .map(|t| {
            let r = &t.record;
            let when = |at: Option<chrono::DateTime<chrono::Utc>>, none: &str| {
                at.map_or_else(
                    || none.to_owned(),
                    |at| format!("<time>{}</time>", escape(&super::rfc3339(at))),
                )
            };
            let actions = if let Some(revoked) = r.revoked_at {
                format!("Revoked <time>{}</time>", escape(&super::rfc3339(revoked)))
            } else {
                format!(
                    "<div class=\"actions\">{}{}</div>",
                    layout::button_form(
                        admin,
                        SCIM_PAGE,
                        &[("action", "rotate"), ("token_id", r.id.as_str())],
                        "secondary",
                        "Rotate"
                    ),
                    layout::button_form(
                        admin,
                        SCIM_PAGE,
                        &[("action", "revoke"), ("token_id", r.id.as_str())],
                        "danger",
                        "Revoke"
                    )
                )
            };
            format!(
                "<tr data-token-id=\"{}\"><td data-label=\"Label\">{}</td>\
                 <td data-label=\"Token\"><span class=\"code\">{}</span></td>\
                 <td data-label=\"Created\">{}</td><td data-label=\"Created by\">{}</td>\
                 <td data-label=\"Last used\">{}</td><td data-label=\"Actions\">{actions}</td></tr>",
                escape(r.id.as_str()),
                escape(&r.label),
                escape(&r.hint.to_string()),
                when(Some(r.created_at), ""),
                escape(&t.created_by),
                when(r.last_used_at, "Never"),
            )
        })
        .collect();
    let table = if tokens.is_empty() {
        "<p id=\"no-tokens\">No tokens yet.</p>".to_owned()
    } else {
        format!(
            "<table id=\"tokens\"><thead><tr><th scope=\"col\">Label</th><th scope=\"col\">Token</th>\
             <th scope=\"col\">Created</th><th scope=\"col\">Created by</th>\
             <th scope=\"col\">Last used</th><th scope=\"col\">Actions</th></tr></thead>\
             <tbody>{rows}</tbody></table>"
        )
    };
    let (invalid, described) = if label_error.is_empty() {
        ("false", "label-hint")
    } else {
        ("true", "label-hint label-error")
    };
    let body = format!(
        "{connected}{notice}\
         <section class=\"card\"><h2>Okta provisioning settings</h2>\
         <p>In Okta, open the Spark app: Provisioning → Integration, and enter:</p>{}\
         <ul><li>Unique identifier field for users: <span class=\"code\">userName</span></li>\
         <li>Supported provisioning actions: Import New Users and Profile Updates (and Import \
         User Schema)</li>\
         <li>Authentication Mode: HTTP Header — paste a token generated below</li></ul>\
         <p class=\"hint\">Spark is the source of truth: provisioning is import-only, and Okta's \
         push actions are refused.</p></section>\
         <section class=\"card\"><h2>Generate a token</h2>\
         <form method=\"post\" action=\"{SCIM_PAGE}\">{}<input type=\"hidden\" name=\"action\" value=\"mint\">\
         <label for=\"label\">Label</label><p class=\"hint\" id=\"label-hint\">A name that says \
         where the token is used, e.g. “Okta production”.</p>\
         <input type=\"text\" id=\"label\" name=\"label\" value=\"{DEFAULT_LABEL}\" maxlength=\"100\" \
         aria-invalid=\"{invalid}\" aria-describedby=\"{described}\">{label_error}\
         <div class=\"actions\"><button type=\"submit\" id=\"generate-token\">Generate token</button></div>\
         </form></section>\
         <section class=\"card\"><h2>Tokens</h2>{table}</section>",
        layout::copyable(
            "scim-base-url",
            "SCIM connector base URL",
            &state
                .settings
                .scim_base_url(admin.tenant.workspace.as_str())
        ),
        layout::csrf_field(admin),
    );
    Ok(layout::respond(
        status,
        layout::page(admin, SCIM_PAGE, "Okta SCIM provisioning", &body),
    ))
}
