//! A workspace host's routes: the start of an Okta sign-in (binding this browser on the
//! workspace host), the session hand-off from the auth host, sign-in links (a page whose
//! form redeems the link: a link scanner's GET uses nothing), the sign-in page, who is
//! signed in (`/api/me`), logout, and a minimal landing page.

use actix_web::http::StatusCode;
use actix_web::http::header::{LOCATION, SET_COOKIE};
use actix_web::{HttpRequest, HttpResponse, web as aw};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use maud::Markup;
use persistence::{AuthMethod, CodePurpose, Consumed, Employee, Redeemed, SessionStart};
use rand::RngCore as _;
use token_store::{SecretKind, SecretToken, TokenHash};

use crate::GatewayState;
use crate::error::{ApiError, PageError, codes};
use crate::session::{current, logout_form};
use crate::web::{
    BINDING_MAX_AGE_SECS, binding, binding_hash, clear_cookie, db, require_workspace, set_cookie,
};
use crate::{csrf, html, rules};

pub fn routes(cfg: &mut aw::ServiceConfig) {
    cfg.route("/api/OktaAuth/start", aw::get().to(start_okta))
        .route("/api/OktaAuth/session", aw::get().to(session_handoff))
        .route("/auth/login-link", aw::get().to(login_link_page))
        .route("/auth/login-link", aw::post().to(login_link))
        .route("/login", aw::get().to(login_page))
        .route("/api/me", aw::get().to(me))
        .route("/logout", aw::post().to(logout))
        .route("/", aw::get().to(home));
}

/// A fresh CSRF token: 256 random bits, base64url.
fn csrf_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `GET /api/OktaAuth/start[?return_to=…][&login_hint=…]`: where every Okta sign-in
/// of this workspace starts (the "Sign in with Okta" button, the dashboard tile through
/// the auth host). Binds this browser on the workspace host — the session hand-off at the
/// end of the sign-in needs the same cookie — and sends it to the auth host's login with
/// the binding's hash.
async fn start_okta(
    state: aw::Data<GatewayState>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let workspace = require_workspace(&state, &request)?;
    let params = rules::params(request.query_string()).map_err(crate::sign_in::bad_params)?;
    let return_to = crate::sign_in::return_to_param(&params)?;
    let hint = rules::login_hint(params.get("login_hint").map(String::as_str));
    let (binding, _) = binding(&request, state.handoff_cookie())?;
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("workspace", &workspace)
        .append_pair("binding", &binding.hash().to_hex());
    if let Some(path) = &return_to {
        query.append_pair("return_to", path);
    }
    if let Some(hint) = &hint {
        query.append_pair("login_hint", hint);
    }
    Ok(HttpResponse::Found()
        .insert_header((
            LOCATION,
            format!(
                "{}/api/OktaAuth/login?{}",
                state.auth_origin,
                query.finish()
            ),
        ))
        .append_header((
            SET_COOKIE,
            set_cookie(
                state.handoff_cookie(),
                binding.expose_secret(),
                "/",
                BINDING_MAX_AGE_SECS,
                state.settings.secure_cookies(),
            ),
        ))
        .finish())
}

/// Which kind of one-time code a workspace route consumes.
struct CodeRoute {
    purpose: CodePurpose,
    kind: SecretKind,
    /// Whether the code is bound to the browser's hand-off binding cookie.
    bound: bool,
    method: AuthMethod,
    invalid_code: &'static str,
    /// What to do next, for each way the code can be unusable.
    advice: &'static str,
}

const HANDOFF: CodeRoute = CodeRoute {
    purpose: CodePurpose::SessionHandoff,
    kind: SecretKind::HandoffCode,
    bound: true,
    method: AuthMethod::Okta,
    invalid_code: codes::HANDOFF_INVALID,
    advice: "Sign in again from your workspace's sign-in page.",
};

const LOGIN_LINK: CodeRoute = CodeRoute {
    purpose: CodePurpose::LoginLink,
    kind: SecretKind::SignInLink,
    bound: false,
    method: AuthMethod::LoginLink,
    invalid_code: codes::LOGIN_LINK_INVALID,
    advice: "Sign-in links work once, for 10 minutes, on the workspace they were made for; \
             ask your Spark admin or the Spark team for a new one.",
};

impl CodeRoute {
    fn invalid(&self, why: &str) -> PageError {
        PageError::bad_request(self.invalid_code, format!("{why} {}", self.advice))
    }

    /// The value of parameter `name` in `params` (a query string or form body), checked
    /// for the shape of this route's code.
    fn presented(&self, params: &str, name: &str) -> Result<TokenHash, PageError> {
        let params = rules::params(params)
            .map_err(|e| self.invalid(&format!("This link is malformed ({}).", e.0)))?;
        let presented = params.get(name).map(String::as_str).unwrap_or("");
        TokenHash::of_presented(self.kind, presented)
            .map_err(|_| self.invalid("This sign-in link is incomplete or mistyped."))
    }
}

/// `GET /api/OktaAuth/session?handoff=…`: the end of an Okta sign-in, in the browser
/// that started it.
async fn session_handoff(
    state: aw::Data<GatewayState>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let workspace = require_workspace(&state, &request)?;
    let hash = HANDOFF.presented(request.query_string(), "handoff")?;
    redeem(&state, &request, workspace, &HANDOFF, hash).await
}

/// `GET /auth/login-link?token=…` (what `sparkctl login-link` prints): a page whose
/// button posts the link. Only the shape of the token is checked: a link scanner that
/// opens the URL uses nothing, starts nothing and learns nothing.
async fn login_link_page(
    state: aw::Data<GatewayState>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let workspace = require_workspace(&state, &request)?;
    LOGIN_LINK.presented(request.query_string(), "token")?;
    let token = rules::params(request.query_string())
        .ok()
        .and_then(|mut p| p.remove("token"))
        .unwrap_or_default();
    let tenants = state.tenants.clone();
    let slug = workspace.clone();
    let tenant = db(&state, move |db| Ok(tenants.find(db, &slug)?))
        .await?
        .ok_or_else(|| PageError::workspace_unknown(&workspace))?;
    let title = format!("Sign in to {}", tenant.name);
    let body = maud::html! {
        h1 { (title) }
        p { "This one-time link signs you in to Spark. It works once, for 10 minutes." }
        form method="post" action="/auth/login-link" {
            input type="hidden" name="token" value=(token);
            button type="submit" id="use-login-link" { "Sign in" }
        }
    };
    Ok(html::respond(StatusCode::OK, html::page(&title, body)))
}

/// `POST /auth/login-link` (`token=…`), from the page above: redeems the link and starts
/// a session. Only from this workspace's own page (`Origin`): another site cannot sign a
/// visitor in with a link of its choosing.
async fn login_link(
    state: aw::Data<GatewayState>,
    request: HttpRequest,
    body: aw::Bytes,
) -> Result<HttpResponse, PageError> {
    let result = async {
        let workspace = require_workspace(&state, &request)?;
        let origin = state.settings.workspace_origin(&workspace);
        csrf::check(&request, &origin, csrf::Policy::SameOrigin, None, None)?;
        let form =
            std::str::from_utf8(&body).map_err(|_| LOGIN_LINK.invalid("The form is not UTF-8."))?;
        let hash = LOGIN_LINK.presented(form, "token")?;
        redeem(&state, &request, workspace, &LOGIN_LINK, hash).await
    }
    .await;
    match &result {
        Ok(_) => state.count("login_link", "SUCCESS"),
        Err(error) => state.count("login_link", error.code()),
    }
    result
}

/// Consumes a one-time code (hash `hash`) of this workspace and starts a session for its
/// employee.
async fn redeem(
    state: &GatewayState,
    request: &HttpRequest,
    workspace: String,
    route: &'static CodeRoute,
    hash: TokenHash,
) -> Result<HttpResponse, PageError> {
    let invalid = |why: &str| route.invalid(why);
    let browser_binding = if route.bound {
        binding_hash(request, state.handoff_cookie())
    } else {
        None
    };
    let (session, csrf) = (SecretToken::mint(SecretKind::Session), csrf_token());
    let (session, session_hash) = session.map_err(|_| PageError::internal())?;
    let policy = state.session_policy;
    let slug = workspace.clone();
    let tenants = state.tenants.clone();
    let outcome = db(state, move |db| {
        let tenant = tenants
            .find(db, &slug)?
            .ok_or_else(|| PageError::workspace_unknown(&slug))?;
        let start = SessionStart {
            token_hash: session_hash,
            auth_method: route.method,
            csrf_token: csrf,
            browser_binding,
        };
        let redeemed = db.sessions().start_with_code(
            &tenant.id,
            route.purpose,
            &hash,
            start,
            Utc::now(),
            &policy,
        )?;
        let consumed = match redeemed {
            Redeemed::Code(consumed) => consumed,
            Redeemed::EmployeeInactive => return Err(crate::sign_in::deactivated(&tenant)),
        };
        let code = match consumed {
            Consumed::Fresh((code, _)) => code,
            Consumed::Unknown => {
                return Err(invalid(
                    "This sign-in link is not valid here (unknown, or made for another \
                     workspace).",
                ));
            }
            Consumed::AlreadyUsed => return Err(invalid("This sign-in link was used already.")),
            Consumed::Expired => return Err(invalid("This sign-in link has expired.")),
            Consumed::WrongBrowser => return Err(crate::sign_in::other_browser()),
        };
        Ok((tenant, code))
    })
    .await?;
    let (tenant, code) = outcome;
    tracing::info!(
        workspace = %tenant.workspace,
        employee_id = %code.employee_id,
        method = route.method.as_str(),
        "session started"
    );
    let to = code
        .return_to
        .as_deref()
        .and_then(rules::return_to)
        .unwrap_or_else(|| "/".to_owned());
    let max_age = state.session_policy.absolute_timeout.num_seconds();
    Ok(HttpResponse::Found()
        .insert_header((LOCATION, to))
        .append_header((
            SET_COOKIE,
            set_cookie(
                state.session_cookie(),
                session.expose_secret(),
                "/",
                max_age,
                state.settings.secure_cookies(),
            ),
        ))
        .finish())
}

/// `GET /api/me`: the signed-in employee as JSON, or 401.
async fn me(state: aw::Data<GatewayState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let workspace = require_workspace(&state, &request)?;
    let (tenant, session) = current(&state, &request, workspace).await?;
    let (Some(tenant), Some(signed_in)) = (tenant, session) else {
        return Err(PageError::not_signed_in().into());
    };
    let e: &Employee = &signed_in.employee;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .json(serde_json::json!({
            "id": e.id.as_str(),
            "email": e.email,
            "given_name": e.given_name,
            "family_name": e.family_name,
            "display_name": e.display_name,
            "role": e.role.as_str(),
            "workspace": tenant.workspace.as_str(),
            // For the JSON API's state-changing calls (the `X-CSRF-Token` header); only
            // this origin can read it.
            "csrf_token": signed_in.session.csrf_token,
        })))
}

/// `POST /logout`: ends the session and clears the cookie. Cross-site requests are
/// refused: the `Origin` (or, without one, the `Referer`) must be this workspace's
/// origin, or the form must carry the session's CSRF token.
async fn logout(
    state: aw::Data<GatewayState>,
    request: HttpRequest,
    body: aw::Bytes,
) -> Result<HttpResponse, PageError> {
    let workspace = require_workspace(&state, &request)?;
    let origin = state.settings.workspace_origin(&workspace);
    let (_, session) = current(&state, &request, workspace).await?;
    let form = std::str::from_utf8(&body)
        .ok()
        .and_then(|b| rules::params(b).ok());
    csrf::check(
        &request,
        &origin,
        csrf::Policy::OriginOrToken,
        session.as_ref().map(|s| s.session.csrf_token.as_str()),
        form.as_ref()
            .and_then(|f| f.get(csrf::FORM_FIELD))
            .map(String::as_str),
    )?;
    if let Some(signed_in) = session {
        let hash = signed_in.session.token_hash;
        let tenant_id = signed_in.session.tenant_id.clone();
        db(&state, move |db| {
            db.sessions()
                .delete(&tenant_id, &hash)
                .map_err(PageError::from)
        })
        .await?;
        tracing::info!(employee_id = %signed_in.employee.id, "signed out");
    }
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, "/login"))
        .append_header((
            SET_COOKIE,
            clear_cookie(state.session_cookie(), "/", state.settings.secure_cookies()),
        ))
        .finish())
}

fn signed_in_text(employee: &Employee) -> Markup {
    let name = employee
        .display_name
        .clone()
        .or_else(|| match (&employee.given_name, &employee.family_name) {
            (Some(g), Some(f)) => Some(format!("{g} {f}")),
            (Some(g), None) => Some(g.clone()),
            _ => None,
        })
        .unwrap_or_else(|| employee.email.clone());
    maud::html! {
        "You are signed in as " strong { (name) } " (" (employee.email) ")."
    }
}

/// `GET /login`: the "Sign in with Okta" button when Okta sign-in is live, a helpful
/// message when it is not; says so when already signed in.
async fn login_page(
    state: aw::Data<GatewayState>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let workspace = require_workspace(&state, &request)?;
    let return_to = rules::params(request.query_string())
        .ok()
        .and_then(|p| p.get("return_to").and_then(|r| rules::return_to(r)));
    let (tenant, session) = current(&state, &request, workspace.clone()).await?;
    let tenant = tenant.ok_or_else(|| PageError::workspace_unknown(&workspace))?;
    let title = format!("Sign in to {}", tenant.name);
    if let Some(signed_in) = session {
        let body = maud::html! {
            h1 { (title) }
            p id="signed-in" { (signed_in_text(&signed_in.employee)) }
            p { a href="/" { "Continue to Spark" } }
            (logout_form(&signed_in.session.csrf_token))
        };
        return Ok(html::respond(StatusCode::OK, html::page(&title, body)));
    }
    let tenant_id = tenant.id.clone();
    let (live, configured) = db(&state, move |db| {
        let live = db.okta_integrations().get(&tenant_id)?.is_live();
        let configured = db.okta_sso_configs().get(&tenant_id)?.is_some();
        Ok((live, configured))
    })
    .await?;
    let content = if live && configured {
        let href = match &return_to {
            Some(path) => format!(
                "/api/OktaAuth/start?{}",
                url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("return_to", path)
                    .finish()
            ),
            None => "/api/OktaAuth/start".to_owned(),
        };
        maud::html! {
            p { a class="button" id="okta-sign-in" href=(href) { "Sign in with Okta" } }
        }
    } else {
        let why = if live {
            "Okta single sign-on is not set up for this workspace yet. A Spark admin sets it \
             up on the Okta SSO page (/admin/domain/integrations/authentication), linked from \
             the Administration list of the workspace's home page."
        } else {
            "Okta single sign-on is not switched on for this workspace. A Spark admin connects \
             the Okta integration in the Spark Marketplace (/marketplace/integrations)."
        };
        maud::html! {
            p id="sso-unavailable" { (why) }
            p { "Admins without single sign-on can ask the Spark team for a one-time sign-in link." }
        }
    };
    let body = maud::html! { h1 { (title) } (content) };
    Ok(html::respond(StatusCode::OK, html::page(&title, body)))
}

/// `GET /`: a minimal signed-in landing page; anonymous visitors go to `/login`.
async fn home(
    state: aw::Data<GatewayState>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let workspace = require_workspace(&state, &request)?;
    let (tenant, session) = current(&state, &request, workspace.clone()).await?;
    let tenant = tenant.ok_or_else(|| PageError::workspace_unknown(&workspace))?;
    let Some(signed_in) = session else {
        return Ok(HttpResponse::Found()
            .insert_header((LOCATION, "/login"))
            .finish());
    };
    let body = maud::html! {
        h1 { (tenant.name) }
        p id="signed-in" { (signed_in_text(&signed_in.employee)) }
        @if signed_in.employee.role == persistence::Role::Admin {
            (crate::admin::links())
        }
        (logout_form(&signed_in.session.csrf_token))
    };
    Ok(html::respond(
        StatusCode::OK,
        html::page(&tenant.name, body),
    ))
}
