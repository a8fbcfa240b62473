//! The Okta SSO settings: Org URL, Client ID and a write-only Client secret. Saving
//! applies every rule of sign-in (https, never the `-admin` console URL, a host Okta
//! operates unless the Spark team approved the custom domain, the org must answer OIDC
//! discovery with itself as issuer and publish signing keys) and shows each error next to
//! its field; the secret is sealed with the key ring, bound to the org URL and client id,
//! before it is stored and is never shown again — so changing either needs the secret
//! again. "Test connection" runs the same checks without saving (never against a host
//! Spark would not use) and reports what Okta answered. The page also shows the two URLs
//! to paste into the Okta app, and the Okta users linked to employees
//! ([`super::identities`]).

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web as aw};
use maud::{Markup, html};
use oidc_client::{OrgCheck, OrgUrl, Provider};
use persistence::{LinkedIdentity, OktaSsoConfig, OktaSsoConfigInput};
use token_store::sealed::SecretText;

use super::shared::{
    Admin, AdminForm, AdminJson, ApiAdmin, ApiReader, MARKETPLACE_PAGE, PageAdmin, SCIM_PAGE,
    SSO_PAGE,
};
use super::{identities, layout, real_time_sign_out};
use crate::GatewayState;
use crate::error::{ApiError, PageError, codes};
use crate::web::db;

/// The form fields (and JSON keys).
const ORG_URL: &str = "org_url";
const CLIENT_ID: &str = "client_id";
const CLIENT_SECRET: &str = "client_secret";

/// What an admin submits; an empty or absent secret keeps the stored one, as long as
/// the org URL and client id stay the same.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Submitted {
    #[serde(default)]
    org_url: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: Option<String>,
}

/// The page's form: what to do (`action`) and the fields of every action; a field the
/// action does not use is ignored.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct Form {
    action: String,
    org_url: String,
    client_id: String,
    client_secret: String,
    service_client_id: String,
    email: String,
}

/// The body of `POST …/sso/test`: the org URL to try, else the saved one.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestRequest {
    #[serde(default)]
    org_url: Option<String>,
}

async fn load(state: &GatewayState, admin: &Admin) -> Result<Option<OktaSsoConfig>, PageError> {
    let tenant = admin.tenant.id.clone();
    db(state, move |db| Ok(db.okta_sso_configs().get(&tenant)?)).await
}

/// Validates, checks the org, seals the secret and saves (audited by persistence).
async fn save(
    state: &GatewayState,
    admin: &Admin,
    submitted: Submitted,
) -> Result<OktaSsoConfig, PageError> {
    admin.require_connected()?;
    let saved = load(state, admin).await?;
    let org = trusted_org_url(state, saved.as_ref(), &submitted.org_url)?;
    let client_id = submitted.client_id.trim().to_owned();
    if client_id.is_empty() || client_id.len() > 2_000 || client_id.chars().any(char::is_control) {
        return Err(PageError::bad_request(
            codes::SSO_CLIENT_ID_MISSING,
            "Enter the Client ID of the Spark app in Okta: its General tab, Client Credentials \
             section (an app added from the catalog shows it on its Sign On tab).",
        )
        .on_field(CLIENT_ID));
    }
    let secret = submitted
        .client_secret
        .filter(|s| !s.trim().is_empty())
        .map(|s| SecretText::new(s.trim()));
    let context = persistence::secret_context(&admin.tenant.id, org.as_str(), &client_id);
    let missing = |message: &'static str| {
        PageError::bad_request(codes::SSO_CLIENT_SECRET_MISSING, message).on_field(CLIENT_SECRET)
    };
    let sealed = match (secret, saved) {
        (Some(secret), _) => state
            .keys
            .seal(&secret, &context)
            .map_err(|_| PageError::internal())?,
        // The stored secret stays only with the org and app it was entered for: it is
        // never sent to an org URL or with a client id it was not entered with.
        (None, Some(saved)) if saved.org_url == org.as_str() && saved.client_id == client_id => {
            saved.client_secret
        }
        (None, Some(_)) => {
            return Err(missing(
                "You changed the Org URL or Client ID, so enter the Client secret again (the \
                 Okta app's General tab, Client Credentials section; a catalog app: its Sign On \
                 tab). Spark uses a secret only with the org and app it was entered for.",
            ));
        }
        (None, None) => {
            return Err(missing(
                "Enter the Client secret of the Spark app in Okta: its General tab, Client \
                 Credentials section (an app added from the catalog shows it on its Sign On \
                 tab). It is stored encrypted and never shown again.",
            ));
        }
    };
    check(state, &org).await?;
    let (tenant, actor) = (admin.tenant.id.clone(), admin.actor());
    let input = OktaSsoConfigInput {
        org_url: org.as_str().to_owned(),
        client_id,
        client_secret: sealed,
        approve_custom_domain: false,
    };
    let saved = db(state, move |db| {
        Ok(db.okta_sso_configs().upsert(&tenant, &input, &actor)?)
    })
    .await?;
    tracing::info!(
        tenant = %admin.tenant.workspace,
        employee_id = %admin.employee.id,
        org_url = %saved.org_url,
        "okta sso settings saved"
    );
    Ok(saved)
}

/// Checks `org_url` (or the saved org URL) the way saving does, without saving.
async fn test(
    state: &GatewayState,
    admin: &Admin,
    org_url: Option<String>,
) -> Result<OrgCheck, PageError> {
    let saved = load(state, admin).await?;
    let org_url = match org_url.filter(|u| !u.trim().is_empty()) {
        Some(url) => url,
        None => saved.as_ref().map(|s| s.org_url.clone()).ok_or_else(|| {
            PageError::bad_request(
                codes::SSO_NOT_CONFIGURED,
                "There is nothing to test yet: enter your Okta org URL first.",
            )
            .on_field(ORG_URL)
        })?,
    };
    let org = trusted_org_url(state, saved.as_ref(), &org_url)?;
    check(state, &org).await
}

/// What an admin typed as the org URL, checked by every Org URL rule of sign-in: its
/// shape, and a host Spark may use — one Okta operates, or the custom domain the Spark
/// team approved for this workspace (`saved` carries the approval, for its own org URL
/// only). Nothing is sent to a host that fails. An error is about the org URL field.
fn trusted_org_url(
    state: &GatewayState,
    saved: Option<&OktaSsoConfig>,
    text: &str,
) -> Result<OrgUrl, PageError> {
    let on_field = |e: oidc_client::OidcError| PageError::from(e).on_field(ORG_URL);
    let org = OrgUrl::parse(text, state.url_policy).map_err(on_field)?;
    let approved =
        saved.is_some_and(|s| s.org_url == org.as_str() && s.custom_domain_approved_by.is_some());
    org.check_trusted(state.url_policy, approved)
        .map_err(on_field)?;
    Ok(org)
}

/// Discovery and the signing keys of the org, in bounded time; an error is about the
/// org URL field.
async fn check(state: &GatewayState, org: &OrgUrl) -> Result<OrgCheck, PageError> {
    state
        .awaiting_okta(state.oidc.check_org(org))
        .await
        .map_err(|e| PageError::from(e).on_field(ORG_URL))
}

/// Removes the settings (Okta sign-in stops); false when there were none.
async fn remove(state: &GatewayState, admin: &Admin) -> Result<bool, PageError> {
    let (tenant, actor) = (admin.tenant.id.clone(), admin.actor());
    db(state, move |db| {
        Ok(db.okta_sso_configs().delete(&tenant, &actor)?)
    })
    .await
}

fn initiate_login_uri(state: &GatewayState) -> String {
    format!("{}/api/OktaAuth/initiate", state.auth_origin)
}

fn describe(
    state: &GatewayState,
    admin: &Admin,
    saved: Option<&OktaSsoConfig>,
) -> serde_json::Value {
    serde_json::json!({
        "configured": saved.is_some(),
        "active": saved.is_some() && admin.integration.is_live(),
        "org_url": saved.map(|s| s.org_url.as_str()),
        "client_id": saved.map(|s| s.client_id.as_str()),
        "client_secret_set": saved.is_some(),
        "updated_at": saved.map(|s| super::shared::rfc3339(s.updated_at)),
        "redirect_uri": state.redirect_uri,
        "initiate_login_uri": initiate_login_uri(state),
    })
}

/// `GET /api/admin/integrations/okta/sso`.
pub async fn api_get(
    state: aw::Data<GatewayState>,
    ApiReader(admin): ApiReader,
) -> Result<HttpResponse, ApiError> {
    let saved = load(&state, &admin).await?;
    Ok(super::shared::json(
        StatusCode::OK,
        &describe(&state, &admin, saved.as_ref()),
    ))
}

/// `PUT /api/admin/integrations/okta/sso` with `{org_url, client_id, client_secret?}`.
pub async fn api_put(
    state: aw::Data<GatewayState>,
    AdminJson { admin, body }: AdminJson<Submitted>,
) -> Result<HttpResponse, ApiError> {
    let saved = save(&state, &admin, body).await?;
    Ok(super::shared::json(
        StatusCode::OK,
        &describe(&state, &admin, Some(&saved)),
    ))
}

/// `DELETE /api/admin/integrations/okta/sso`: 204, or 404 when nothing was saved.
pub async fn api_delete(
    state: aw::Data<GatewayState>,
    ApiAdmin(admin): ApiAdmin,
) -> Result<HttpResponse, ApiError> {
    if remove(&state, &admin).await? {
        Ok(HttpResponse::NoContent().finish())
    } else {
        Err(PageError::new(
            codes::SSO_NOT_CONFIGURED,
            StatusCode::NOT_FOUND,
            "There are no Okta SSO settings to remove.",
        )
        .into())
    }
}

/// `POST /api/admin/integrations/okta/sso/test` with `{org_url?}`.
pub async fn api_test(
    state: aw::Data<GatewayState>,
    AdminJson { admin, body }: AdminJson<TestRequest>,
) -> Result<HttpResponse, ApiError> {
    let checked = test(&state, &admin, body.org_url).await?;
    Ok(super::shared::json(
        StatusCode::OK,
        &serde_json::json!({
            "ok": true,
            "issuer": checked.provider.issuer(),
            "authorization_endpoint": checked.provider.authorization_endpoint(),
            "signing_keys": checked.signing_keys,
        }),
    ))
}

/// `POST /admin/domain/integrations/authentication` (`action=save|test|remove`).
pub async fn form(
    state: aw::Data<GatewayState>,
    AdminForm { admin, form }: AdminForm<Form>,
) -> Result<HttpResponse, PageError> {
    let Form {
        action,
        org_url,
        client_id,
        client_secret,
        service_client_id,
        email,
    } = form;
    let submitted = Submitted {
        org_url,
        client_id,
        client_secret: Some(client_secret),
    };
    let typed = Typed {
        org_url: submitted.org_url.clone(),
        client_id: submitted.client_id.clone(),
    };
    match action.as_str() {
        "save" => match save(&state, &admin, submitted).await {
            Ok(_) => Ok(redirect("saved")),
            Err(error) if error.field().is_some() || error.status().is_client_error() => {
                let saved = load(&state, &admin).await?;
                Ok(render(
                    &state,
                    &admin,
                    saved.as_ref(),
                    Some(&typed),
                    Outcome::Refused(&error),
                )
                .await)
            }
            Err(error) => Err(error),
        },
        "test" => {
            let outcome = test(&state, &admin, Some(typed.org_url.clone())).await;
            let saved = load(&state, &admin).await?;
            let shown = match &outcome {
                Ok(checked) => Outcome::Tested(&checked.provider),
                Err(error) => Outcome::TestFailed(error),
            };
            Ok(render(&state, &admin, saved.as_ref(), Some(&typed), shown).await)
        }
        "remove" => {
            remove(&state, &admin).await?;
            Ok(redirect("removed"))
        }
        "sign_out_key" => {
            real_time_sign_out::make_key(&state, &admin).await?;
            Ok(redirect("key_made"))
        }
        "sign_out_client" => {
            match real_time_sign_out::set_client_id(&state, &admin, service_client_id).await {
                Ok(_) => Ok(redirect("service_app_saved")),
                Err(error) if error.status().is_client_error() => {
                    let saved = load(&state, &admin).await?;
                    Ok(render(
                        &state,
                        &admin,
                        saved.as_ref(),
                        None,
                        Outcome::Refused(&error),
                    )
                    .await)
                }
                Err(error) => Err(error),
            }
        }
        "sign_out_test" => {
            let outcome = real_time_sign_out::test(&state, &admin).await;
            let saved = load(&state, &admin).await?;
            let shown = match &outcome {
                Ok(_) => Outcome::SignOutTested,
                Err(error) => Outcome::SignOutTestFailed(error),
            };
            Ok(render(&state, &admin, saved.as_ref(), None, shown).await)
        }
        "sign_out_remove" => {
            real_time_sign_out::remove(&state, &admin).await?;
            Ok(redirect("sign_out_removed"))
        }
        "unlink" => match identities::unlink(&state, &admin, email).await {
            Ok(_) => Ok(redirect("unlinked")),
            Err(error) if error.status().is_client_error() => {
                let saved = load(&state, &admin).await?;
                let refused = Outcome::UnlinkRefused(&error);
                Ok(render(&state, &admin, saved.as_ref(), None, refused).await)
            }
            Err(error) => Err(error),
        },
        _ => Err(PageError::bad_request(
            codes::REQUEST_INVALID,
            "The form did not say what to do. Reload the page.",
        )),
    }
}

fn redirect(done: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, format!("{SSO_PAGE}?done={done}")))
        .finish()
}

/// `GET /admin/domain/integrations/authentication`.
pub async fn page(
    state: aw::Data<GatewayState>,
    PageAdmin(admin): PageAdmin,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let saved = load(&state, &admin).await?;
    let done = crate::rules::params(request.query_string())
        .ok()
        .and_then(|p| p.get("done").cloned());
    let outcome = match done.as_deref() {
        Some("saved") => Outcome::Saved,
        Some("removed") => Outcome::Removed,
        Some("unlinked") => Outcome::Unlinked,
        Some("key_made") => Outcome::KeyMade,
        Some("service_app_saved") => Outcome::ServiceAppSaved,
        Some("sign_out_removed") => Outcome::SignOutRemoved,
        _ => Outcome::Viewed,
    };
    let searched = identities::searched(&request);
    Ok(render_for(&state, &admin, saved.as_ref(), None, outcome, searched).await)
}

/// What the admin typed (shown again after a refusal; never the secret).
struct Typed {
    org_url: String,
    client_id: String,
}

/// What happened before this rendering.
enum Outcome<'a> {
    Viewed,
    Saved,
    Removed,
    Refused(&'a PageError),
    Tested(&'a Provider),
    TestFailed(&'a PageError),
    Unlinked,
    UnlinkRefused(&'a PageError),
    KeyMade,
    ServiceAppSaved,
    SignOutTested,
    SignOutTestFailed(&'a PageError),
    SignOutRemoved,
}

/// The page after `outcome`, with the linked Okta users.
async fn render(
    state: &GatewayState,
    admin: &Admin,
    saved: Option<&OktaSsoConfig>,
    typed: Option<&Typed>,
    outcome: Outcome<'_>,
) -> HttpResponse {
    render_for(state, admin, saved, typed, outcome, None).await
}

/// [`render`], the linked Okta users narrowed to `searched`'s email.
async fn render_for(
    state: &GatewayState,
    admin: &Admin,
    saved: Option<&OktaSsoConfig>,
    typed: Option<&Typed>,
    outcome: Outcome<'_>,
    searched: Option<String>,
) -> HttpResponse {
    let shown = async {
        let links = identities::list(state, admin, searched.clone()).await?;
        let sign_out = real_time_sign_out::status(state, admin).await?;
        Ok::<_, PageError>((links, sign_out))
    };
    match shown.await {
        Ok((links, sign_out)) => {
            let sections = Sections {
                links: &links,
                searched: searched.as_deref(),
                sign_out: &sign_out,
            };
            page_html(state, admin, saved, typed, outcome, &sections)
        }
        Err(error) => actix_web::ResponseError::error_response(&error),
    }
}

/// What the page's lower sections show: the linked Okta users (narrowed to a searched
/// email) and real-time sign-out.
struct Sections<'a> {
    links: &'a [LinkedIdentity],
    searched: Option<&'a str>,
    sign_out: &'a real_time_sign_out::Status,
}

/// One input of the settings form, with its label, hint and error.
struct Field<'a> {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    hint: Markup,
    value: &'a str,
    placeholder: Option<&'static str>,
    autocomplete: &'static str,
    spellcheck: bool,
}

fn input(field: Field<'_>, error: Option<&PageError>) -> Markup {
    let name = field.name;
    let error = layout::field_error(name, error);
    let described = if error.is_some() {
        format!("{name}-hint {name}-error")
    } else {
        format!("{name}-hint")
    };
    html! {
        label for=(name) { (field.label) }
        p class="hint" id={ (name) "-hint" } { (field.hint) }
        input type=(field.kind) id=(name) name=(name) value=(field.value)
            aria-invalid=(if error.is_some() { "true" } else { "false" })
            aria-describedby=(described)
            placeholder=[field.placeholder] autocomplete=(field.autocomplete)
            spellcheck=[field.spellcheck.then_some("false")];
        @if let Some(error) = error { (error) }
    }
}

fn page_html(
    state: &GatewayState,
    admin: &Admin,
    saved: Option<&OktaSsoConfig>,
    typed: Option<&Typed>,
    outcome: Outcome<'_>,
    sections: &Sections<'_>,
) -> HttpResponse {
    let live = admin.integration.is_live();
    let mut status = StatusCode::OK;
    let mut field_error: Option<&PageError> = None;
    let notice = match outcome {
        Outcome::Viewed => None,
        Outcome::Saved => Some(layout::notice(
            "ok",
            "notice",
            html! {
                "Saved. Okta single sign-on is active: employees can use “Sign in with Okta” \
                 on this workspace's sign-in page and the Spark tile on their Okta dashboard."
            },
        )),
        Outcome::Removed => Some(layout::notice(
            "warn",
            "notice",
            html! {
                "The Okta SSO settings were removed; Okta sign-in is off for this workspace."
            },
        )),
        Outcome::Unlinked => Some(layout::notice(
            "ok",
            "notice",
            html! {
                "Unlinked. The employee was signed out; their next Okta sign-in links the Okta \
                 user who signs in."
            },
        )),
        Outcome::UnlinkRefused(error) => {
            status = error.status();
            Some(layout::refusal("notice", "Not unlinked", error))
        }
        Outcome::Refused(error) => {
            status = error.status();
            if error.field().is_some() {
                field_error = Some(error);
            }
            Some(layout::refusal("notice", "Not saved", error))
        }
        Outcome::Tested(provider) => {
            let changed =
                typed.is_some_and(|t| Some(t.org_url.trim()) != saved.map(|s| s.org_url.as_str()));
            Some(layout::notice(
                "ok",
                "test-result",
                html! {
                    "Connection works: Okta answered OpenID Connect discovery as issuer "
                    span class="code" { (provider.issuer()) } "."
                    @if changed { " Click Save to use it." }
                },
            ))
        }
        Outcome::KeyMade => Some(layout::notice(
            "ok",
            "notice",
            html! {
                "Spark made a new key. Add its public key (below) to the service app in Okta; \
                 remove an older Spark key there once this one works."
            },
        )),
        Outcome::ServiceAppSaved => Some(layout::notice(
            "ok",
            "notice",
            html! { "Saved. Click Test to check that Okta gives Spark a token." },
        )),
        Outcome::SignOutRemoved => Some(layout::notice(
            "warn",
            "notice",
            html! { "Real-time sign-out is off: deactivations reach Okta at its next import." },
        )),
        Outcome::SignOutTested => Some(layout::notice(
            "ok",
            "sign-out-test-result",
            html! {
                "Real-time sign-out works: Okta gave Spark a token with the scope \
                 okta.universalLogout.manage."
            },
        )),
        Outcome::SignOutTestFailed(error) => Some(layout::refusal(
            "sign-out-test-result",
            "Real-time sign-out does not work yet",
            error,
        )),
        Outcome::TestFailed(error) => {
            field_error = error.field().map(|_| error);
            Some(layout::refusal("test-result", "Connection failed", error))
        }
    };
    let not_connected = if admin.integration.is_activated() {
        "Okta is not connected, so these settings cannot be saved yet and Okta sign-in is off."
    } else {
        "Okta is not activated for this workspace yet, so these settings cannot be saved."
    };
    let value = |name: &str| -> String {
        match (typed, saved) {
            (Some(t), _) if name == ORG_URL => t.org_url.clone(),
            (Some(t), _) => t.client_id.clone(),
            (None, Some(s)) if name == ORG_URL => s.org_url.clone(),
            (None, Some(s)) => s.client_id.clone(),
            (None, None) => String::new(),
        }
    };
    let org_url = Field {
        name: ORG_URL,
        label: "Okta org URL",
        kind: "url",
        hint: html! {
            "Your org's URL, e.g. https://acme.okta.com — not the admin console's URL (never \
             https://acme-admin.okta.com)."
        },
        value: &value(ORG_URL),
        placeholder: None,
        autocomplete: "url",
        spellcheck: true,
    };
    let client_id = Field {
        name: CLIENT_ID,
        label: "Client ID",
        kind: "text",
        hint: html! {
            "From the Okta app: " (layout::okta_path(&["General", "Client Credentials"]))
            " (an app from the catalog: its " (layout::okta("Sign On")) " tab)."
        },
        value: &value(CLIENT_ID),
        placeholder: None,
        autocomplete: "off",
        spellcheck: true,
    };
    let client_secret = Field {
        name: CLIENT_SECRET,
        label: "Client secret",
        kind: "password",
        hint: html! {
            @if saved.is_some() {
                "A secret is set. Leave this empty to keep it (only while the Org URL and \
                 Client ID stay the same), or paste a new one to replace it. It is stored \
                 encrypted and never shown."
            } @else {
                "Paste the Client secret from the Okta app. It is stored encrypted and never \
                 shown again."
            }
        },
        value: "",
        placeholder: saved.is_some().then_some("•••••••• (set)"),
        autocomplete: "off",
        spellcheck: false,
    };
    let body = html! {
        @if !live {
            (layout::notice(
                "warn",
                "not-connected",
                html! {
                    (not_connected) " Connect it in the " a href=(MARKETPLACE_PAGE) { "Marketplace" }
                    " first."
                },
            ))
        }
        @if let Some(notice) = notice { (notice) }
        p id="sso-state" {
            @match saved {
                Some(config) if live => {
                    "Okta single sign-on is " strong { "active" } " with "
                    span class="code" { (config.org_url) }
                    " (saved " time { (super::shared::rfc3339(config.updated_at)) } ")."
                }
                Some(config) => {
                    "Saved for " span class="code" { (config.org_url) }
                    ", but inactive while Okta is not connected."
                }
                None => "Okta single sign-on is not set up yet.",
            }
        }
        section class="card" id="okta-app" {
            h2 { "1. In Okta: the OIDC app" }
            p {
                strong { "From the Okta Integration Network catalog:" } " "
                (layout::okta_path(&["Applications", "Applications", "Browse App Catalog"]))
                ", add the Spark app. Its " (layout::okta("Sign On"))
                " tab shows the Client ID and Client secret for step 2."
            }
            p { strong { "As a custom app:" } }
            ol {
                li {
                    (layout::okta_path(&["Applications", "Applications", "Create App Integration"]))
                    "."
                }
                li {
                    (layout::okta("Sign-in method")) ": " (layout::okta("OIDC - OpenID Connect"))
                    "; " (layout::okta("Application type")) ": " (layout::okta("Web Application"))
                    "; " (layout::okta("Next")) "."
                }
                li {
                    (layout::okta("Sign-in redirect URIs")) ": the first URL below; "
                    (layout::okta("Grant type")) ": " (layout::okta("Authorization Code")) "."
                }
                li {
                    (layout::okta("Assignments")) ": clear "
                    (layout::okta("Enable immediate access with Federation Broker Mode"))
                    " — with it, Okta shows no Spark tile on the End-User Dashboard and lets you \
                     assign nobody. Then " (layout::okta("Save")) "."
                }
                li {
                    "On the app's " (layout::okta("General")) " tab, "
                    (layout::okta_path(&["General Settings", "Edit"])) "; in the "
                    (layout::okta("Login")) " section: " (layout::okta("Login initiated by"))
                    ": " (layout::okta("Either Okta or App")) "; tick "
                    (layout::okta("Display application icon to users")) "; "
                    (layout::okta("Login flow")) ": "
                    (layout::okta("Redirect to app to initiate login")) "; "
                    (layout::okta("Initiate login URI")) ": the second URL below. "
                    (layout::okta("Save")) "."
                }
                li { (layout::okta("Assignments")) " tab: assign the people who use Spark." }
            }
            (layout::copyable("redirect-uri", "Sign-in redirect URI", &state.redirect_uri))
            (layout::copyable(
                "initiate-login-uri",
                "Initiate login URI",
                &initiate_login_uri(state)
            ))
            p class="hint" {
                "Spark asks for the openid, profile and email scopes itself: there is no scope \
                 field to fill in. Keep the app's " (layout::okta("Client authentication"))
                " at " (layout::okta("Client secret")) " (not "
                (layout::okta("Public key / Private key")) ") and leave "
                (layout::okta(
                    "Require Demonstrating Proof of Possession (DPoP) header in token requests"
                ))
                " off."
            }
            p class="hint" id="no-scim-here" {
                "Provisioning (SCIM) cannot be added to an OIDC app in Okta: the "
                a href=(SCIM_PAGE) { "Okta SCIM tokens" } " page says which app imports \
                 employees."
            }
        }
        section class="card" {
            h2 { "2. In Spark: connect the app" }
            form method="post" action=(SSO_PAGE) novalidate {
                (layout::csrf_field(admin))
                (input(org_url, field_error))
                (input(client_id, field_error))
                (input(client_secret, field_error))
                div class="actions" {
                    button type="submit" name="action" value="save" id="save" { "Save" }
                    button type="submit" name="action" value="test" class="secondary"
                        id="test-connection" { "Test connection" }
                }
            }
        }
        section class="card" id="universal-logout" {
            h2 { "3. In Okta: Universal Logout (optional)" }
            p {
                "When Okta signs a user out — an Okta admin deactivates or suspends them, or \
                 Okta sees a risk — Okta can end their Spark sessions at once too. On the \
                 app's " (layout::okta("Authentication")) " tab, in the "
                (layout::okta("Logout")) " section, click " (layout::okta("Edit")) "; under "
                (layout::okta("Global Token Revocation")) " select "
                (layout::okta("Okta system or admin initiates logout")) "; "
                (layout::okta("Logout endpoint URL")) ": the URL below; leave the \
                 authentication at " (layout::okta("Signed JWT")) "; choose "
                (layout::okta("Issuer and Subject Identifier"))
                " (it names the Okta user who signs in to Spark; "
                (layout::okta("Email Identifier")) " names whoever has the email in Spark); "
                (layout::okta("Save")) "."
            }
            (layout::copyable(
                "universal-logout-uri",
                "Logout endpoint URL",
                &state.universal_logout_uri
            ))
            " "
            p class="hint" {
                "Okta offers this for custom OIDC apps as an Early Access feature: if the \
                 section is missing, an Okta super admin turns it on in Okta's self-service \
                 features first. Only this org's requests for this app (its Client ID) reach \
                 this workspace; the employee can sign in again at once if Okta lets them."
            }
        }
        (identities::section(admin, sections.links, sections.searched))
        @if saved.is_some() {
            section class="card" {
                h2 { "Remove" }
                p { "Removing the settings switches Okta sign-in off for this workspace." }
                div class="actions" {
                    (layout::button_form(
                        admin,
                        SSO_PAGE,
                        &[("action", "remove")],
                        "danger",
                        "Remove SSO settings"
                    ))
                }
            }
        }
        (real_time_sign_out::section(admin, sections.sign_out, field_error))
    };
    layout::respond(
        status,
        layout::page(admin, SSO_PAGE, "Okta single sign-on", body),
    )
}
