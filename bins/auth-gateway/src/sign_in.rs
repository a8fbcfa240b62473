//! The auth host's routes: start a sign-in (`/api/OktaAuth/login`), accept Okta's
//! dashboard tile (`/api/OktaAuth/initiate`), finish it (`/api/OktaAuth/callback`) and
//! hand it to the workspace host.
//!
//! Every step is bound to the browser that started the sign-in: it passes through its
//! workspace host first (`/api/OktaAuth/start` there sets that host's binding cookie),
//! then the auth host sets its own; the callback needs the auth host's cookie and the
//! hand-off the workspace host's, so a sign-in URL that one person obtained signs in no
//! other browser. Only Okta-operated orgs (or a custom domain the Spark team approved)
//! are used as providers, and an authorization response is checked against the issuer
//! of the sign-in it answers (ARCHITECTURE.md, "One callback for every workspace").

use actix_web::http::Method;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web as aw};
use chrono::Utc;
use oidc_client::{Callback, ClientCredentials, ErrorCode, InitiateLogin, OrgUrl, UrlPolicy};
use persistence::{
    Consumed, Database, HandOff, NewLoginTransaction, OktaSsoConfig, SignInMatch, Tenant,
};
use token_store::{SecretKind, SecretToken, TokenHash};

use crate::GatewayState;
use crate::error::{PageError, codes};
use crate::web::{BINDING_MAX_AGE_SECS, binding, binding_hash, db, require_auth_host, set_cookie};
use crate::{html, rules};

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

pub(crate) fn bad_params(error: rules::ParamError) -> PageError {
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
        let return_to = return_to_param(&params)?;
        let hint = rules::login_hint(params.get("login_hint").map(String::as_str));
        // The workspace host's binding of this browser: without it (a bookmarked or typed
        // link), the browser fetches it there first.
        match params
            .get("binding")
            .and_then(|hex| TokenHash::from_hex(hex).ok())
        {
            Some(handoff_binding) => {
                begin(
                    &state,
                    &request,
                    workspace,
                    hint,
                    return_to,
                    handoff_binding,
                )
                .await
            }
            None => {
                let slug = persistence::Workspace::parse(workspace)
                    .map_err(|_| PageError::workspace_unknown(workspace))?;
                Ok(redirect(&start_url(
                    &state,
                    slug.as_str(),
                    return_to.as_deref(),
                    hint.as_deref(),
                )))
            }
        }
    }
    .await;
    counted(&state, result)
}

/// The `return_to` parameter: none, or a path on the workspace.
pub(crate) fn return_to_param(
    params: &std::collections::HashMap<String, String>,
) -> Result<Option<String>, PageError> {
    match params.get("return_to").filter(|p| !p.is_empty()) {
        None => Ok(None),
        Some(path) => rules::return_to(path).map(Some).ok_or_else(|| {
            PageError::bad_request(
                codes::RETURN_TO_INVALID,
                "The address to return to after sign-in is not a page of your workspace. \
                 Open your workspace's address and sign in from there.",
            )
        }),
    }
}

/// A 302 to `location`.
fn redirect(location: &str) -> HttpResponse {
    HttpResponse::Found()
        .insert_header((LOCATION, location))
        .finish()
}

/// Where a sign-in for `workspace` starts: its workspace host's
/// `/api/OktaAuth/start`, which binds the browser there and comes back to the login.
pub(crate) fn start_url(
    state: &GatewayState,
    workspace: &str,
    return_to: Option<&str>,
    login_hint: Option<&str>,
) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(path) = return_to {
        query.append_pair("return_to", path);
    }
    if let Some(hint) = login_hint {
        query.append_pair("login_hint", hint);
    }
    let query = query.finish();
    let origin = state.settings.workspace_origin(workspace);
    if query.is_empty() {
        format!("{origin}/api/OktaAuth/start")
    } else {
        format!("{origin}/api/OktaAuth/start?{query}")
    }
}

/// The org of a workspace's SSO settings, if Spark may use it as a provider: on a domain
/// Okta operates, a custom domain the Spark team approved for this workspace, or — in
/// development — loopback.
pub(crate) fn trusted_org(policy: UrlPolicy, config: &OktaSsoConfig) -> Result<OrgUrl, PageError> {
    let org = OrgUrl::parse(&config.org_url, policy)?;
    org.check_trusted(policy, config.custom_domain_approved_by.is_some())?;
    Ok(org)
}

/// The workspace's tenant and SSO configuration, when its Okta sign-in is live.
pub(crate) fn live_target(
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
/// with Okta through a provider Spark trusts, stores the login transaction bound to this
/// browser (here, and by `handoff_binding` on the workspace host), redirects to Okta.
async fn begin(
    state: &GatewayState,
    request: &HttpRequest,
    workspace: &str,
    login_hint: Option<String>,
    return_to: Option<String>,
    handoff_binding: TokenHash,
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
    let org = trusted_org(state.url_policy, &config)?;
    let provider = state.awaiting_okta(state.oidc.provider(&org)).await?;
    let login = state.oidc.login_request(
        &provider,
        &config.client_id,
        &state.redirect_uri,
        login_hint.as_deref(),
    )?;
    let (binding, _) = binding(request, state.binding_cookie())?;
    let new = NewLoginTransaction {
        state_hash: login.state.hash(),
        browser_binding_hash: binding.hash(),
        handoff_binding_hash: handoff_binding,
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
                state.binding_cookie(),
                binding.expose_secret(),
                "/",
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
            [tenant] => Ok(redirect(&start_url(
                &state,
                tenant.workspace.as_str(),
                return_to_for(tenant).as_deref(),
                login_hint.as_deref(),
            ))),
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
) -> maud::Markup {
    html::page(
        "Choose a workspace",
        maud::html! {
            h1 { "Which Spark workspace?" }
            p { "Your Okta organisation signs in to more than one Spark workspace. Choose one:" }
            ul class="workspaces" {
                @for tenant in tenants {
                    @let href = start_url(
                        state,
                        tenant.workspace.as_str(),
                        return_to_for(tenant).as_deref(),
                        login_hint,
                    );
                    li {
                        a class="button" href=(href) { (tenant.name) }
                        " "
                        span class="code" {
                            (state.settings.workspace_origin(tenant.workspace.as_str()))
                        }
                    }
                }
            }
        },
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

/// The callback, in this order: the `state` finds this browser's sign-in (nothing from
/// the response is shown before — Okta's `error_description` is anyone's text in a
/// link); the browser is the one that started it; the workspace still signs in with a
/// provider Spark trusts; the response comes from that provider (RFC 9207); then the
/// code, the ID token and the employee.
async fn finish(state: &GatewayState, request: &HttpRequest) -> Result<HttpResponse, PageError> {
    require_auth_host(state, request)?;
    let callback = Callback::from_query(request.query_string())?;
    let Some(state_value) = callback.state.clone().filter(|s| !s.is_empty()) else {
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
        Consumed::WrongBrowser => return Err(other_browser()),
    };
    let bound = binding_hash(request, state.binding_cookie())
        .is_some_and(|hash| hash == transaction.browser_binding_hash);
    let Some(handoff_binding) = transaction.handoff_binding_hash.filter(|_| bound) else {
        return Err(other_browser());
    };
    let (tenant, config) = target?;
    let org = trusted_org(state.url_policy, &config)?;
    let provider = state.awaiting_okta(state.oidc.provider(&org)).await?;
    let code = callback.code(&provider)?.to_owned();
    let client_secret = state
        .keys
        .open(&config.client_secret, &config.secret_context())
        .map_err(|_| {
            PageError::new(
                codes::SSO_SECRET_UNREADABLE,
                actix_web::http::StatusCode::INTERNAL_SERVER_ERROR,
                "Spark cannot read this workspace's stored Okta client secret (the encryption \
                 key changed, or the settings were altered outside Spark). A Spark admin \
                 saves the SSO settings again with the Client secret from the Okta app.",
            )
        })?;
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
    let hand_off = HandOff {
        code_hash: handoff_hash,
        browser_binding: handoff_binding,
        return_to: transaction.return_to.clone(),
    };
    let (employee_id, newly_linked) = db(state, move |db| {
        let tenant = tenant_for_db;
        // The hand-off is stored with the match, for whoever matched, if active.
        let matched = db.employee_identities().resolve_and_hand_off(
            &tenant.id,
            &signed_in.issuer,
            &signed_in.subject,
            &signed_in.email,
            hand_off,
            Utc::now(),
        )?;
        match matched {
            SignInMatch::Employee {
                employee,
                newly_linked,
            } => Ok((employee.id, newly_linked)),
            SignInMatch::Deactivated(_) => Err(deactivated(&tenant)),
            SignInMatch::IdentityConflict(_) => Err(PageError::forbidden(
                codes::SIGNIN_IDENTITY_CONFLICT,
                format!(
                    "Okta signed you in as {}, but the Spark employee with that email in “{}” \
                     signs in with another Okta user of your organisation, so Spark did not \
                     let you in. If the Okta account was replaced, a Spark admin removes the \
                     old link (Okta SSO settings → Linked Okta users → Unlink); otherwise an \
                     Okta admin corrects this user's email.",
                    signed_in.email, tenant.workspace
                ),
            )),
            SignInMatch::NoSuchEmployee => Err(PageError::forbidden(
                codes::SIGNIN_NO_EMPLOYEE,
                format!(
                    "Okta signed you in as {}, but the Spark workspace “{}” has no employee \
                     with that email. Spark lets in only existing employees: an admin adds \
                     you in Spark (the email must match your Okta email), then you sign in \
                     again.",
                    signed_in.email, tenant.workspace
                ),
            )),
        }
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
    Ok(redirect(&target))
}

/// The refusal of a sign-in step presented by another browser than the one that started
/// the sign-in.
pub(crate) fn other_browser() -> PageError {
    PageError::forbidden(
        codes::SIGNIN_BROWSER_MISMATCH,
        "This sign-in was started in another browser (or this browser blocks cookies for \
         Spark), so it signs nobody in here. Start the sign-in again in this browser, from \
         your workspace's sign-in page, and allow cookies for Spark.",
    )
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
