//! The auth host's routes: start a sign-in (`/api/OktaAuth/login`), accept Okta's
//! dashboard tile (`/api/OktaAuth/initiate`), finish it (`/api/OktaAuth/callback`) and
//! hand it to the workspace host.

use actix_web::http::Method;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web as aw};
use chrono::Utc;
use oidc_client::{Callback, ClientCredentials, ErrorCode, InitiateLogin, OrgUrl};
use persistence::{Consumed, Database, NewLoginTransaction, OktaSsoConfig, SignInMatch, Tenant};
use token_store::{SecretKind, SecretToken, TokenHash};

use crate::GatewayState;
use crate::error::{PageError, codes};
use crate::web::{BINDING_COOKIE, BINDING_PATH, cookie, db, require_auth_host, set_cookie};
use crate::{html, rules};

/// How long the browser-binding cookie lives: as long as a login transaction.
const BINDING_MAX_AGE_SECS: i64 = 600;

pub fn routes(cfg: &mut aw::ServiceConfig) {
    cfg.route("/api/OktaAuth/login", aw::get().to(login))
        .route("/api/OktaAuth/initiate", aw::get().to(initiate))
        .route("/api/OktaAuth/initiate", aw::post().to(initiate))
        .route("/api/OktaAuth/callback", aw::get().to(callback));
}

/// Counts a failed start of an Okta sign-in, passing the result on.
fn counted(
    state: &GatewayState,
    result: Result<HttpResponse, PageError>,
) -> Result<HttpResponse, PageError> {
    if let Err(error) = &result {
        state.count("okta", error.code());
    }
    result
}

fn bad_params(error: rules::ParamError) -> PageError {
    PageError::bad_request(
        codes::REQUEST_INVALID,
        format!(
            "The sign-in request is malformed ({}). Start the sign-in again from your Spark \
             workspace or the Okta dashboard.",
            error.0
        ),
    )
}

/// `GET /api/OktaAuth/login?workspace=WS[&return_to=/path][&login_hint=EMAIL]`.
async fn login(
    state: aw::Data<GatewayState>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let result = async {
        require_auth_host(&state, &request)?;
        let params = rules::params(request.query_string()).map_err(bad_params)?;
        let workspace = params
            .get("workspace")
            .map(|w| w.trim())
            .filter(|w| !w.is_empty())
            .ok_or_else(|| {
                PageError::bad_request(
                    codes::WORKSPACE_UNKNOWN,
                    "This sign-in link names no workspace. Open your workspace's address \
                     (https://{workspace}.spark.work) and click “Sign in with Okta” there.",
                )
            })?;
        let return_to = match params.get("return_to").filter(|p| !p.is_empty()) {
            None => None,
            Some(path) => Some(rules::return_to(path).ok_or_else(|| {
                PageError::bad_request(
                    codes::RETURN_TO_INVALID,
                    "The address to return to after sign-in is not a page of your workspace. \
                     Open your workspace's address and sign in from there.",
                )
            })?),
        };
        let hint = rules::login_hint(params.get("login_hint").map(String::as_str));
        begin(&state, &request, workspace, hint, return_to).await
    }
    .await;
    counted(&state, result)
}

/// The workspace's tenant and SSO configuration, when its Okta sign-in is live.
fn live_target(
    db: &Database,
    tenant: Option<Tenant>,
    workspace: &str,
) -> Result<(Tenant, OktaSsoConfig), PageError> {
    let tenant = tenant.ok_or_else(|| PageError::workspace_unknown(workspace))?;
    let (integration, config) = db.okta_sso_configs().get_with_integration(&tenant.id)?;
    if !integration.is_activated() {
        return Err(PageError::forbidden(
            codes::OKTA_NOT_ACTIVATED,
            format!(
                "Okta sign-in is not available for the workspace “{}”: the Spark team has not \
                 activated the Okta integration yet. A Spark admin of this workspace asks the \
                 Spark team to enable it.",
                tenant.workspace
            ),
        ));
    }
    if !integration.is_live() {
        return Err(PageError::forbidden(
            codes::OKTA_NOT_CONNECTED,
            format!(
                "Okta sign-in is switched off for the workspace “{}”: the Okta integration is \
                 not connected. A Spark admin connects it in the Spark Marketplace \
                 (/marketplace/integrations → Okta → Connect).",
                tenant.workspace
            ),
        ));
    }
    let config = config.ok_or_else(|| {
        PageError::forbidden(
            codes::SSO_NOT_CONFIGURED,
            format!(
                "Okta sign-in is not set up for the workspace “{}”. A Spark admin enters the \
                 Okta org URL, Client ID and Client secret in Spark's SSO settings \
                 (/admin/domain/integrations/authentication).",
                tenant.workspace
            ),
        )
    })?;
    Ok((tenant, config))
}

/// Starts the authorization request for `workspace`: checks the workspace can sign in
/// with Okta, stores the login transaction bound to this browser, redirects to Okta.
async fn begin(
    state: &GatewayState,
    request: &HttpRequest,
    workspace: &str,
    login_hint: Option<String>,
    return_to: Option<String>,
) -> Result<HttpResponse, PageError> {
    let slug = workspace.to_owned();
    let tenants = state.tenants.clone();
    let (tenant, config) = db(state, move |db| {
        let tenant = match persistence::Workspace::parse(&slug) {
            Ok(ws) => tenants.find(db, ws.as_str())?,
            Err(_) => None,
        };
        live_target(db, tenant, &slug)
    })
    .await?;
    let org = OrgUrl::parse(&config.org_url, state.url_policy)?;
    let provider = state.awaiting_okta(state.oidc.provider(&org)).await?;
    let login = state.oidc.login_request(
        &provider,
        &config.client_id,
        &state.redirect_uri,
        login_hint.as_deref(),
    )?;
    // One binding per browser: a second tab's sign-in reuses the cookie, so both work.
    let binding = cookie(request, BINDING_COOKIE)
        .and_then(|value| SecretToken::parse(SecretKind::OidcState, &value).ok());
    let binding = match binding {
        Some(token) => token,
        None => SecretToken::mint(SecretKind::OidcState)
            .map(|(token, _)| token)
            .map_err(|_| PageError::internal())?,
    };
    let new = NewLoginTransaction {
        state_hash: login.state.hash(),
        browser_binding_hash: binding.hash(),
        nonce: login.nonce.clone(),
        pkce_verifier: login.pkce_verifier.clone(),
        login_hint,
        return_to,
    };
    let tenant_id = tenant.id.clone();
    db(state, move |db| {
        db.login_transactions()
            .create(&tenant_id, new, Utc::now())
            .map_err(PageError::from)
    })
    .await?;
    tracing::info!(workspace = %tenant.workspace, "sign-in started");
    Ok(HttpResponse::Found()
        .insert_header((LOCATION, login.url.as_str()))
        .append_header((
            actix_web::http::header::SET_COOKIE,
            set_cookie(
                BINDING_COOKIE,
                binding.expose_secret(),
                BINDING_PATH,
                BINDING_MAX_AGE_SECS,
                state.settings.secure_cookies(),
            ),
        ))
        .finish())
}

/// `GET|POST /api/OktaAuth/initiate?iss=…[&login_hint=…][&target_link_uri=…]`.
async fn initiate(
    state: aw::Data<GatewayState>,
    request: HttpRequest,
    body: aw::Bytes,
) -> Result<HttpResponse, PageError> {
    let result = async {
        require_auth_host(&state, &request)?;
        let params = if request.method() == Method::POST && !body.is_empty() {
            std::str::from_utf8(&body)
                .map_err(|_| bad_params(rules::ParamError("the form is not UTF-8".into())))?
                .to_owned()
        } else {
            request.query_string().to_owned()
        };
        let named = rules::params(&params).map_err(bad_params)?;
        if named.contains_key("code") || named.contains_key("state") {
            return Err(PageError::bad_request(
                ErrorCode::InitiateLoginInvalid.as_str(),
                format!(
                    "This is Spark's Initiate login URI, not its sign-in redirect URI. An Okta \
                     admin sets the Spark app's Sign-in redirect URI to {} and its Initiate \
                     login URI to {}/api/OktaAuth/initiate.",
                    state.redirect_uri, state.auth_origin
                ),
            ));
        }
        let initiate = InitiateLogin::parse(&params, state.url_policy)?;
        let iss = initiate.iss.as_str().to_owned();
        let (live, refusal) = db(&state, move |db| {
            let configured = db.okta_sso_configs().tenants_with_org_url(&iss)?;
            let mut live = Vec::new();
            let mut refusal = None;
            for tenant in configured {
                let workspace = tenant.workspace.to_string();
                match live_target(db, Some(tenant), &workspace) {
                    Ok((tenant, _)) => live.push(tenant),
                    Err(e) => refusal = Some(e),
                }
            }
            Ok((live, refusal))
        })
        .await?;
        let login_hint = initiate
            .login_hint
            .as_deref()
            .and_then(|h| rules::login_hint(Some(h)));
        let return_to_for = |tenant: &Tenant| {
            initiate.target_link_uri.as_ref().and_then(|target| {
                rules::target_return_to(
                    target,
                    &state.settings.workspace_origin(tenant.workspace.as_str()),
                )
            })
        };
        match live.as_slice() {
            [] => Err(refusal.unwrap_or_else(|| {
                PageError::new(
                    codes::INITIATE_NO_MATCH,
                    actix_web::http::StatusCode::NOT_FOUND,
                    format!(
                        "No Spark workspace signs in with the Okta org {}. A Spark admin enters \
                         exactly this Okta org URL in Spark's SSO settings \
                         (/admin/domain/integrations/authentication); an Okta admin checks that \
                         the Spark app's Initiate login URI belongs to this org.",
                        initiate.iss
                    ),
                )
            })),
            [tenant] => {
                let return_to = return_to_for(tenant);
                begin(
                    &state,
                    &request,
                    tenant.workspace.as_str(),
                    login_hint,
                    return_to,
                )
                .await
            }
            several => Ok(html::respond(
                actix_web::http::StatusCode::OK,
                choose_workspace(&state, several, login_hint.as_deref(), &return_to_for),
            )),
        }
    }
    .await;
    counted(&state, result)
}

/// The page that asks which workspace, when several use one Okta org.
fn choose_workspace(
    state: &GatewayState,
    tenants: &[Tenant],
    login_hint: Option<&str>,
    return_to_for: &dyn Fn(&Tenant) -> Option<String>,
) -> String {
    let items: String = tenants
        .iter()
        .map(|tenant| {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            query.append_pair("workspace", tenant.workspace.as_str());
            if let Some(path) = return_to_for(tenant) {
                query.append_pair("return_to", &path);
            }
            if let Some(hint) = login_hint {
                query.append_pair("login_hint", hint);
            }
            let href = format!(
                "{}/api/OktaAuth/login?{}",
                state.auth_origin,
                query.finish()
            );
            format!(
                "<li><a class=\"button\" href=\"{}\">{}</a> <span class=\"code\">{}</span></li>",
                html::escape(&href),
                html::escape(&tenant.name),
                html::escape(&state.settings.workspace_origin(tenant.workspace.as_str())),
            )
        })
        .collect();
    html::page(
        "Choose a workspace",
        &format!(
            "<h1>Which Spark workspace?</h1>\
             <p>Your Okta organisation signs in to more than one Spark workspace. Choose one:</p>\
             <ul class=\"workspaces\">{items}</ul>"
        ),
    )
}

/// `GET /api/OktaAuth/callback?code=…&state=…` (or `?error=…`).
async fn callback(
    state: aw::Data<GatewayState>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let result = finish(&state, &request).await;
    match &result {
        Ok(_) => state.count("okta", "SUCCESS"),
        Err(error) => state.count("okta", error.code()),
    }
    result
}

async fn finish(state: &GatewayState, request: &HttpRequest) -> Result<HttpResponse, PageError> {
    require_auth_host(state, request)?;
    let callback = Callback::from_query(request.query_string())?;
    let Some(state_value) = callback.state.clone().filter(|s| !s.is_empty()) else {
        // Okta's own error without a state still says what went wrong.
        callback.code("")?;
        return Err(state_unknown());
    };
    let state_hash = TokenHash::of_presented(SecretKind::OidcState, &state_value)
        .map_err(|_| state_unknown())?;
    let tenants = state.tenants.clone();
    // The transaction, and the workspace it was started for with its SSO settings, in
    // one trip to the database's thread pool; the checks below keep their order.
    let consumed = db(state, move |db| {
        let consumed = db
            .login_transactions()
            .consume(&state_hash, Utc::now())
            .map_err(PageError::from)?;
        Ok(consumed.map(|transaction| {
            let target = tenants
                .find_by_id(db, &transaction.tenant_id)
                .map_err(PageError::from)
                .and_then(|tenant| live_target(db, tenant, "(removed)"));
            (transaction, target)
        }))
    })
    .await?;
    let (transaction, target) = match consumed {
        Consumed::Fresh(fresh) => fresh,
        Consumed::Unknown => return Err(state_unknown()),
        Consumed::AlreadyUsed => {
            return Err(PageError::bad_request(
                codes::SIGNIN_STATE_REPLAYED,
                "This sign-in was already used (a reload, the back button, or a copied \
                 address). Start again from your workspace's sign-in page.",
            ));
        }
        Consumed::Expired => {
            return Err(PageError::bad_request(
                codes::SIGNIN_STATE_EXPIRED,
                "This sign-in took longer than 10 minutes and expired. Start again from your \
                 workspace's sign-in page.",
            ));
        }
    };
    let bound = cookie(request, BINDING_COOKIE)
        .and_then(|value| TokenHash::of_presented(SecretKind::OidcState, &value).ok())
        .is_some_and(|hash| hash == transaction.browser_binding_hash);
    if !bound {
        return Err(PageError::forbidden(
            codes::SIGNIN_BROWSER_MISMATCH,
            "This sign-in was started in another browser (or this browser blocks cookies for \
             the Spark sign-in host). Start the sign-in again in this browser, and allow \
             cookies for Spark.",
        ));
    }
    let (tenant, config) = target?;
    let org = OrgUrl::parse(&config.org_url, state.url_policy)?;
    let code = callback.code(org.as_str())?.to_owned();
    let client_secret = state
        .keys
        .open(&config.client_secret, tenant.id.as_str())
        .map_err(|_| {
            PageError::new(
                codes::SSO_SECRET_UNREADABLE,
                actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
                "Spark cannot read this workspace's stored Okta client secret (the encryption \
                 key changed). A Spark admin saves the SSO settings again with the Client \
                 secret from the Okta app.",
            )
        })?;
    let provider = state.awaiting_okta(state.oidc.provider(&org)).await?;
    let signed_in = state
        .awaiting_okta(state.oidc.complete_sign_in(
            &provider,
            &ClientCredentials {
                client_id: config.client_id.clone(),
                client_secret,
            },
            &state.redirect_uri,
            &code,
            &transaction.nonce,
            &transaction.pkce_verifier,
        ))
        .await?;
    let (handoff, handoff_hash) =
        SecretToken::mint(SecretKind::HandoffCode).map_err(|_| PageError::internal())?;
    let tenant_for_db = tenant.clone();
    let return_to = transaction.return_to.clone();
    let (employee_id, newly_linked) = db(state, move |db| {
        let tenant = tenant_for_db;
        let now = Utc::now();
        // The hand-off is stored in the same transaction as the match, for whoever
        // matched, if active.
        let matched = db.employee_identities().resolve_and_hand_off(
            &tenant.id,
            &signed_in.issuer,
            &signed_in.subject,
            &signed_in.email,
            &handoff_hash,
            return_to,
            now,
        )?;
        let (employee, newly_linked) = match matched {
            SignInMatch::Employee {
                employee,
                newly_linked,
            } => (employee, newly_linked),
            SignInMatch::Deactivated(_) => return Err(deactivated(&tenant)),
            SignInMatch::NoSuchEmployee => {
                return Err(PageError::forbidden(
                    codes::SIGNIN_NO_EMPLOYEE,
                    format!(
                        "Okta signed you in as {}, but the Spark workspace “{}” has no employee \
                         with that email. Spark lets in only existing employees: an admin adds \
                         you in Spark (the email must match your Okta email), then you sign in \
                         again.",
                        signed_in.email, tenant.workspace
                    ),
                ));
            }
        };
        Ok((employee.id, newly_linked))
    })
    .await?;
    tracing::info!(
        workspace = %tenant.workspace,
        employee_id = %employee_id,
        newly_linked,
        "okta sign-in verified; handing off to the workspace"
    );
    let target = format!(
        "{}/api/OktaAuth/session?handoff={}",
        state.settings.workspace_origin(tenant.workspace.as_str()),
        handoff.expose_secret()
    );
    Ok(HttpResponse::Found()
        .insert_header((LOCATION, target))
        .finish())
}

fn state_unknown() -> PageError {
    PageError::bad_request(
        codes::SIGNIN_STATE_UNKNOWN,
        "Spark does not know this sign-in (the link is incomplete or was not started by \
         Spark). Start again from your workspace's sign-in page or the Okta dashboard.",
    )
}

/// The refusal for a deactivated employee.
pub(crate) fn deactivated(tenant: &Tenant) -> PageError {
    PageError::forbidden(
        codes::SIGNIN_EMPLOYEE_DEACTIVATED,
        format!(
            "Your employee account in the Spark workspace “{}” is deactivated, so you cannot \
             sign in. If this is a mistake, ask your Spark admin to reactivate you.",
            tenant.workspace
        ),
    )
}
