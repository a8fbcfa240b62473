//! SCIM tokens for Okta's provisioning: which Okta app can import (never the OIDC app) and
//! what goes in its fields, the connector base URL to paste into Okta, Generate (the
//! token is shown once, in the response to the request that minted it, and never again),
//! the list (label, created, created by, last used and how Okta sent it) with Revoke and
//! Rotate.
//! The lifecycle rules are `token-store`'s; storage and audit are persistence's.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web as aw};
use maud::{Markup, html};
use persistence::{Database, TenantId};
use token_store::scim::{ManageError, MintedToken, ScimTokens};
use token_store::{BearerForm, TokenId, TokenRecord};

use super::layout;
use super::shared::{
    Admin, AdminForm, AdminJson, ApiAdmin, ApiReader, MARKETPLACE_PAGE, PageAdmin, SCIM_PAGE,
};
use crate::GatewayState;
use crate::error::{ApiError, PageError, codes};
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
        "created_at": super::shared::rfc3339(record.created_at),
        "created_by": created_by,
        "last_used_at": record.last_used_at.map(super::shared::rfc3339),
        "revoked_at": record.revoked_at.map(super::shared::rfc3339),
        "presented_as": record.presented_as.as_str(),
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
    ApiReader(admin): ApiReader,
) -> Result<HttpResponse, ApiError> {
    let tokens = list(&state, &admin).await?;
    let tokens: Vec<_> = tokens
        .iter()
        .map(|t| describe(&t.record, &t.created_by))
        .collect();
    Ok(super::shared::json(
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
    AdminJson { admin, body }: AdminJson<MintRequest>,
) -> Result<HttpResponse, ApiError> {
    let minted = mint(&state, &admin, &body.label).await?;
    Ok(super::shared::json(
        StatusCode::CREATED,
        &describe_minted(&minted, &admin),
    ))
}

/// `DELETE …/tokens/{id}`: revokes it (200 with the record).
pub async fn api_revoke(
    state: aw::Data<GatewayState>,
    ApiAdmin(admin): ApiAdmin,
    id: aw::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let revoked = revoke(&state, &admin, token_id(&id)?).await?;
    Ok(super::shared::json(
        StatusCode::OK,
        &describe(&revoked, &admin.employee.email),
    ))
}

/// `POST …/tokens/{id}/rotate`: revokes it and mints its replacement (201, shown once).
pub async fn api_rotate(
    state: aw::Data<GatewayState>,
    ApiAdmin(admin): ApiAdmin,
    id: aw::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let minted = rotate(&state, &admin, token_id(&id)?).await?;
    Ok(super::shared::json(
        StatusCode::CREATED,
        &describe_minted(&minted, &admin),
    ))
}

/// The page's form: what to do, the new token's label, the token acted on.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct Form {
    action: String,
    label: String,
    token_id: String,
}

/// `POST /my-settings/integrations/okta-scim` (`action=mint|revoke|rotate`).
pub async fn form(
    state: aw::Data<GatewayState>,
    AdminForm { admin, form }: AdminForm<Form>,
) -> Result<HttpResponse, PageError> {
    let outcome = match form.action.as_str() {
        "mint" => match mint(&state, &admin, &form.label).await {
            Ok(minted) => Outcome::Minted(minted, "generated"),
            Err(error) if error.status().is_client_error() => Outcome::Refused(error),
            Err(error) => return Err(error),
        },
        "rotate" => {
            let minted = rotate(&state, &admin, token_id(&form.token_id)?).await?;
            Outcome::Minted(minted, "rotated")
        }
        "revoke" => {
            let revoked = revoke(&state, &admin, token_id(&form.token_id)?).await?;
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
    PageAdmin(admin): PageAdmin,
) -> Result<HttpResponse, PageError> {
    render(&state, &admin, Outcome::Viewed).await
}

enum Outcome {
    Viewed,
    /// A token was generated or rotated (the verb): it is shown now, once.
    Minted(MintedToken, &'static str),
    Revoked(String),
    Refused(PageError),
}

/// What the token's row says about how Okta last sent it, when that was not the standard
/// `Bearer <token>`: it works, and the admin can tidy the setting in Okta.
fn sent_as(form: BearerForm) -> Markup {
    match form {
        BearerForm::Standard => html! {},
        BearerForm::WithoutScheme => html! {
            " "
            span class="sent-as" data-presented-as="no_scheme" title="Okta sent the token \
                without the Bearer scheme. It works; to send the standard form, put Bearer and \
                a space before the token in the app's API token field." {
                "sent without Bearer"
            }
        },
        BearerForm::DoubledScheme => html! {
            " "
            span class="sent-as" data-presented-as="doubled_bearer" title="Okta sent Bearer \
                Bearer and the token: Bearer was pasted in front of a token Okta prefixes \
                itself. It works; to tidy it, paste the token alone." {
                "sent with a doubled Bearer"
            }
        },
    }
}

/// An instant in a `<time>` element, or `none`.
fn when(at: Option<chrono::DateTime<chrono::Utc>>, none: &str) -> Markup {
    html! {
        @match at {
            Some(at) => time { (super::shared::rfc3339(at)) },
            None => (none),
        }
    }
}

async fn render(
    state: &GatewayState,
    admin: &Admin,
    outcome: Outcome,
) -> Result<HttpResponse, PageError> {
    let tokens = list(state, admin).await?;
    let mut status = StatusCode::OK;
    let mut label_error = None;
    let notice = match &outcome {
        Outcome::Viewed => None,
        Outcome::Minted(minted, verb) => Some(html! {
            section class="notice ok" id="new-token" role="status" {
                h2 { "Token " (verb) ": copy it now" }
                p {
                    strong { "This is the only time the token is shown." }
                    " Paste it now into the Okta app that imports employees (see “Okta \
                     provisioning settings” below); Spark keeps only a fingerprint of it and \
                     cannot show it again. If you lose it, rotate it."
                }
                (layout::copyable(
                    "new-token-value",
                    &format!("SCIM token “{}”", minted.record.label),
                    minted.token.expose_secret()
                ))
            }
        }),
        Outcome::Revoked(label) => Some(layout::notice(
            "warn",
            "notice",
            html! {
                "Token “" (label) "” is revoked: Okta requests with it are refused from now on."
            },
        )),
        Outcome::Refused(error) => {
            status = error.status();
            label_error = layout::field_error("label", Some(error));
            Some(layout::refusal("notice", "Not generated", error))
        }
    };
    let (invalid, described) = if label_error.is_none() {
        ("false", "label-hint")
    } else {
        ("true", "label-hint label-error")
    };
    let body = html! {
        @if !admin.integration.is_live() {
            (layout::notice(
                "warn",
                "not-connected",
                html! {
                    "Okta is not connected, so SCIM tokens do not work and new ones cannot be \
                     generated. Connect it in the " a href=(MARKETPLACE_PAGE) { "Marketplace" }
                    " first."
                },
            ))
        }
        @if let Some(notice) = notice { (notice) }
        section class="card" id="provisioning-settings" {
            h2 { "Okta provisioning settings" }
            p {
                "Okta cannot add SCIM provisioning to an OIDC app, so the app you sign in with \
                 imports employees only if it is the Spark app from the Okta Integration \
                 Network catalog. Otherwise a second app imports them, and the imported people \
                 must also be assigned to the OIDC app to sign in. The set-up guide says what \
                 each choice loses."
            }
            ul {
                li {
                    strong { "The Spark app from the catalog:" } " "
                    (layout::okta_path(&["Provisioning", "Configure API Integration"]))
                    ", tick " (layout::okta("Enable API integration"))
                    ", paste the base URL and a token generated below into "
                    (layout::okta("API token")) ", then " (layout::okta("Test API Credentials"))
                    " and " (layout::okta("Save")) "."
                }
                li {
                    strong { "A SAML or SWA app made with " (layout::okta("Create App Integration")) ":" }
                    " " (layout::okta_path(&["General", "App Settings", "Edit"])) ", "
                    (layout::okta("Provisioning")) ": " (layout::okta("SCIM")) ", then "
                    (layout::okta_path(&["Provisioning", "Integration", "Edit"]))
                    ", and enter " (layout::okta("SCIM connector base URL"))
                    ": the base URL below; " (layout::okta("Unique identifier field for users"))
                    ": " span class="code" { "userName" } "; "
                    (layout::okta("Supported provisioning actions")) ": "
                    (layout::okta("Import New Users and Profile Updates"))
                    " only (leave " (layout::okta("Push New Users")) ", "
                    (layout::okta("Push Profile Updates")) " and " (layout::okta("Push Groups"))
                    " off); " (layout::okta("Authentication Mode")) ": "
                    (layout::okta("HTTP Header")) " and the token; then "
                    (layout::okta("Test Connector Configuration")) ". Okta does not offer \
                     profile sourcing on such apps, so an employee deactivated in Spark stays \
                     active in Okta."
                }
                li {
                    strong {
                        "The " (layout::okta("SCIM 2.0 Test App (Header Auth)"))
                        " template from " (layout::okta("Browse App Catalog")) ":"
                    }
                    " " (layout::okta_path(&["Provisioning", "Configure API Integration"]))
                    ", tick " (layout::okta("Enable API integration"))
                    ", paste the base URL, and into " (layout::okta("API token")) " type "
                    span class="code" { "Bearer" } ", a space and the token (this template \
                     sends the field as the whole header); then "
                    (layout::okta("Test API Credentials")) ". It can source Okta profiles (so \
                     Spark's deactivations deactivate Okta users); Okta offers its test \
                     templates for development and testing."
                }
            }
            (layout::copyable(
                "scim-base-url",
                "SCIM connector base URL",
                &state.settings.scim_base_url(admin.tenant.workspace.as_str())
            ))
            p class="hint" id="token-paste" {
                "Elsewhere, paste the token exactly as shown, starting with "
                span class="code" { "spark_scim_" } " and with nothing in front of it. \
                 Whether Okta then sends " span class="code" { "Bearer" } " before it depends \
                 on the app; Spark accepts it with one " span class="code" { "Bearer" }
                ", without, or with a doubled one, and the token's row below says when Okta \
                 last sent it one of the odd ways, so you can tidy the setting."
            }
            p class="hint" {
                "Spark is the source of truth: provisioning is import-only, and Okta's push \
                 actions are refused."
            }
        }
        section class="card" {
            h2 { "Generate a token" }
            form method="post" action=(SCIM_PAGE) {
                (layout::csrf_field(admin))
                input type="hidden" name="action" value="mint";
                label for="label" { "Label" }
                p class="hint" id="label-hint" {
                    "A name that says where the token is used, e.g. “Okta production”."
                }
                input type="text" id="label" name="label" value=(DEFAULT_LABEL) maxlength="100"
                    aria-invalid=(invalid) aria-describedby=(described);
                @if let Some(error) = label_error { (error) }
                div class="actions" {
                    button type="submit" id="generate-token" { "Generate token" }
                }
            }
        }
        section class="card" {
            h2 { "Tokens" }
            @if tokens.is_empty() {
                p id="no-tokens" { "No tokens yet." }
            } @else {
                table id="tokens" {
                    thead {
                        tr {
                            th scope="col" { "Label" } th scope="col" { "Token" }
                            th scope="col" { "Created" } th scope="col" { "Created by" }
                            th scope="col" { "Last used" } th scope="col" { "Actions" }
                        }
                    }
                    tbody {
                        @for t in &tokens {
                            @let r = &t.record;
                            tr data-token-id=(r.id.as_str()) {
                                td data-label="Label" { (r.label) }
                                td data-label="Token" { span class="code" { (r.hint.to_string()) } }
                                td data-label="Created" { (when(Some(r.created_at), "")) }
                                td data-label="Created by" { (t.created_by) }
                                td data-label="Last used" {
                                    (when(r.last_used_at, "Never")) (sent_as(r.presented_as))
                                }
                                td data-label="Actions" {
                                    @if let Some(revoked) = r.revoked_at {
                                        "Revoked " time { (super::shared::rfc3339(revoked)) }
                                    } @else {
                                        div class="actions" {
                                            (layout::button_form(
                                                admin,
                                                SCIM_PAGE,
                                                &[("action", "rotate"), ("token_id", r.id.as_str())],
                                                "secondary",
                                                "Rotate"
                                            ))
                                            (layout::button_form(
                                                admin,
                                                SCIM_PAGE,
                                                &[("action", "revoke"), ("token_id", r.id.as_str())],
                                                "danger",
                                                "Revoke"
                                            ))
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(layout::respond(
        status,
        layout::page(admin, SCIM_PAGE, "Okta SCIM provisioning", body),
    ))
}
