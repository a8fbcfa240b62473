//! Every refusal as a page an employee or admin can act on: an HTML page (or, for the
//! JSON API, a JSON body) with a stable code, a sentence that says what to fix, and the
//! fitting status. This is the one place where errors become responses, and where they
//! are logged — by code, never with a secret.

use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use actix_web::{HttpResponse, ResponseError};
use oidc_client::{ErrorCode, OidcError};

use crate::html;

macro_rules! error_codes {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// The gateway's own error codes, as shown on error pages, in logs and in the
        /// `auth_gateway_sign_ins_total{code=…}` metric. Codes never change meaning.
        pub mod codes {
            $($(#[$doc])* pub const $name: &str = stringify!($name);)*
        }

        /// Every code the gateway itself raises (see [`codes`]); the codes of
        /// `oidc_client::ERROR_CODES` are passed through unchanged as well.
        pub const ERROR_CODES: &[&str] = &[$(stringify!($name)),*];
    };
}

error_codes! {
    /// The login transaction (the `state`) is older than ten minutes.
    SIGNIN_STATE_EXPIRED,
    /// The login transaction was used already (a reload or a replayed callback).
    SIGNIN_STATE_REPLAYED,
    /// The callback's `state` names no login transaction (or there is none).
    SIGNIN_STATE_UNKNOWN,
    /// The callback, or the session hand-off, arrived in another browser than the one
    /// that started the sign-in.
    SIGNIN_BROWSER_MISMATCH,
    /// The Okta user's email belongs to an employee already linked to another Okta user
    /// of the same org.
    SIGNIN_IDENTITY_CONFLICT,
    /// No employee of the workspace has the signed-in Okta user's email.
    SIGNIN_NO_EMPLOYEE,
    /// The matching employee is deactivated in Spark.
    SIGNIN_EMPLOYEE_DEACTIVATED,
    /// The workspace's Okta integration is activated but not connected.
    OKTA_NOT_CONNECTED,
    /// The Spark team has not activated the Okta integration for the workspace.
    OKTA_NOT_ACTIVATED,
    /// The workspace has no Okta SSO configuration.
    SSO_NOT_CONFIGURED,
    /// The stored client secret cannot be decrypted (the encryption key changed).
    SSO_SECRET_UNREADABLE,
    /// No such workspace.
    WORKSPACE_UNKNOWN,
    /// The session hand-off code is unknown, used or expired.
    HANDOFF_INVALID,
    /// The sign-in link is unknown, used or expired.
    LOGIN_LINK_INVALID,
    /// No live workspace is configured with the issuer of an IdP-initiated sign-in.
    INITIATE_NO_MATCH,
    /// `return_to` is not a path on the workspace.
    RETURN_TO_INVALID,
    /// A request parameter is repeated, over-long or malformed.
    REQUEST_INVALID,
    /// A request body over the gateway's limit.
    REQUEST_TOO_LARGE,
    /// `/api/me` without a live session.
    NOT_SIGNED_IN,
    /// A state-changing request failed the Origin/Referer or CSRF-token check.
    CSRF_REJECTED,
    /// An admin page without a session: the browser is sent to `/login` first.
    SIGN_IN_REQUIRED,
    /// An admin page or API used by an employee without the admin role.
    ADMIN_REQUIRED,
    /// The SSO settings were saved without a Client ID.
    SSO_CLIENT_ID_MISSING,
    /// The SSO settings were saved for the first time without a Client secret.
    SSO_CLIENT_SECRET_MISSING,
    /// A SCIM token label is empty, too long or has control characters.
    SCIM_TOKEN_LABEL_INVALID,
    /// No SCIM token with that id in this workspace.
    SCIM_TOKEN_NOT_FOUND,
    /// Rotation of a revoked SCIM token.
    SCIM_TOKEN_REVOKED,
    /// Unlinking an Okta identity of an employee who has none (or no such employee).
    OKTA_IDENTITY_NOT_FOUND,
    /// A Universal Logout request without an `Authorization: Bearer` token.
    LOGOUT_TOKEN_MISSING,
    /// A Universal Logout request from an Okta org (and app) no workspace signs in with.
    LOGOUT_ISSUER_UNKNOWN,
    /// A Universal Logout request whose token (`jti`) was used before.
    LOGOUT_TOKEN_REPLAYED,
    /// A Universal Logout request naming a user of another issuer than the org that
    /// signed it.
    LOGOUT_SUBJECT_FORBIDDEN,
    /// A Universal Logout request naming no employee of the org's workspaces.
    LOGOUT_SUBJECT_UNKNOWN,
    /// More Universal Logout requests from one Okta org than the throttle allows.
    LOGOUT_THROTTLED,
    /// Real-time sign-out is not (fully) set up: no SSO settings, no key, or no client id.
    REAL_TIME_SIGN_OUT_NOT_SET_UP,
    /// The route exists, but not for this HTTP method.
    METHOD_NOT_ALLOWED,
    /// No such page on this host.
    NOT_FOUND,
    /// The database is unreachable; retry later.
    SERVICE_UNAVAILABLE,
    /// Something failed on Spark's side.
    INTERNAL_ERROR,
}

/// How the error is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// An HTML page (browser routes).
    Html,
    /// `{"error": CODE, "message": …}` (the JSON API).
    Json,
}

/// A refusal: code, status, message (what to fix), rendering.
#[derive(Debug, Clone)]
pub struct PageError {
    code: &'static str,
    status: StatusCode,
    message: String,
    format: Format,
    /// The page's heading (HTML).
    heading: &'static str,
    /// The form field the error is about, for inline display and the JSON `field`.
    field: Option<&'static str>,
    /// For a redirect instead of a page (sign-in required).
    location: Option<String>,
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl PageError {
    /// An error with this code, status and message (HTML).
    pub fn new(code: &'static str, status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            code,
            status,
            message: message.into(),
            format: Format::Html,
            heading: "We could not sign you in",
            field: None,
            location: None,
        }
    }

    /// The same error rendered as JSON.
    #[must_use]
    pub fn json(self) -> Self {
        self.rendered(Format::Json)
    }

    /// The same error rendered as `format`.
    #[must_use]
    pub fn rendered(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// The same error under another page heading.
    #[must_use]
    pub fn headed(mut self, heading: &'static str) -> Self {
        self.heading = heading;
        self
    }

    /// The same error, about the form field `field`.
    #[must_use]
    pub fn on_field(mut self, field: &'static str) -> Self {
        self.field = Some(field);
        self
    }

    /// The form field the error is about, if any.
    pub fn field(&self) -> Option<&'static str> {
        self.field
    }

    /// The format it renders as.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// 400 for a malformed request.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, StatusCode::BAD_REQUEST, message)
    }

    /// 403 for a refusal.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, StatusCode::FORBIDDEN, message)
    }

    /// 404 for a page that is not on this host.
    pub fn not_found() -> Self {
        Self::new(
            codes::NOT_FOUND,
            StatusCode::NOT_FOUND,
            "There is no such page here. Open your workspace's address \
             (https://{workspace}.spark.work) and sign in from there.",
        )
    }

    /// 404 for a workspace that does not exist.
    pub fn workspace_unknown(workspace: &str) -> Self {
        Self::new(
            codes::WORKSPACE_UNKNOWN,
            StatusCode::NOT_FOUND,
            format!(
                "There is no Spark workspace named “{workspace}”. Check the workspace address \
                 you were given; an Okta admin should check the Spark app's settings."
            ),
        )
    }

    /// 500: something failed on Spark's side; the message is deliberately generic.
    pub fn internal() -> Self {
        Self::new(
            codes::INTERNAL_ERROR,
            StatusCode::INTERNAL_SERVER_ERROR,
            "Spark could not finish this request because of an internal error. Try again; \
             if it persists, contact Spark support with the X-Request-Id of this response.",
        )
    }

    /// 503 while the database is unreachable.
    pub fn unavailable() -> Self {
        Self::new(
            codes::SERVICE_UNAVAILABLE,
            StatusCode::SERVICE_UNAVAILABLE,
            "Spark is temporarily unavailable. Try again in a minute.",
        )
    }

    /// An admin page without a session: a redirect to `/login`, back to `path` after.
    pub fn sign_in_required(path: &str) -> Self {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("return_to", path)
            .finish();
        let mut error = Self::new(
            codes::SIGN_IN_REQUIRED,
            StatusCode::SEE_OTHER,
            "Sign in to open this page.",
        );
        error.location = Some(format!("/login?{query}"));
        error
    }

    /// 403 for an employee without the admin role.
    pub fn admin_required() -> Self {
        Self::forbidden(
            codes::ADMIN_REQUIRED,
            "Only Spark admins of this workspace can open this page. Ask one of your Spark \
             admins to make the change, or to give you the admin role.",
        )
        .headed("You do not have access to this page")
    }

    /// 413 for a body over `limit` bytes.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            codes::REQUEST_TOO_LARGE,
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "The request is larger than Spark accepts here ({} KiB at most). Reload the \
                 page and submit the form again, with shorter values.",
                limit / 1024
            ),
        )
        .headed("This request is too large")
    }

    /// 405 for a method the route does not take.
    pub fn method_not_allowed() -> Self {
        Self::new(
            codes::METHOD_NOT_ALLOWED,
            StatusCode::METHOD_NOT_ALLOWED,
            "This address does not accept that kind of request. Use the page's own buttons, \
             or see the API reference in Spark's documentation.",
        )
        .headed("This request cannot be handled here")
    }

    /// 401 for the JSON API without a live session.
    pub fn not_signed_in() -> Self {
        Self::new(
            codes::NOT_SIGNED_IN,
            StatusCode::UNAUTHORIZED,
            "Not signed in (or the session ended). Sign in at /login.",
        )
        .json()
    }
}

/// A refusal of the JSON API: a [`PageError`] rendered as JSON, whatever it was made as,
/// so `?` on any of the gateway's errors answers in the API's format.
#[derive(Debug, Clone)]
pub struct ApiError(PageError);

impl From<PageError> for ApiError {
    fn from(error: PageError) -> Self {
        Self(error.json())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.0.status
    }

    fn error_response(&self) -> HttpResponse {
        self.0.error_response()
    }
}

/// The status an oidc-client failure is answered with.
fn oidc_status(code: ErrorCode) -> StatusCode {
    use ErrorCode as C;
    match code {
        C::OktaAccessDenied | C::EmailNotVerified | C::EmailMissing => StatusCode::FORBIDDEN,
        C::OktaCustomDomainNotApproved | C::OktaResponseIssuerMismatch => StatusCode::FORBIDDEN,
        C::OktaCallbackInvalid
        | C::InitiateLoginInvalid
        | C::OktaOrgUrlInvalid
        | C::OktaOrgUrlInsecure
        | C::OktaOrgUrlAdmin
        | C::OktaInvalidGrant
        | C::IdTokenNonceMismatch => StatusCode::BAD_REQUEST,
        C::LogoutTokenInvalid | C::LogoutTokenExpired | C::LogoutTokenAudienceMismatch => {
            StatusCode::UNAUTHORIZED
        }
        C::LogoutRequestInvalid => StatusCode::BAD_REQUEST,
        C::OktaServiceClientInvalid
        | C::OktaServiceScopeNotGranted
        | C::OktaServiceDpopRequired => StatusCode::CONFLICT,
        C::OidcConfigInvalid => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_GATEWAY,
    }
}

impl From<OidcError> for PageError {
    fn from(error: OidcError) -> Self {
        Self::new(
            error.code().as_str(),
            oidc_status(error.code()),
            error.message(),
        )
    }
}

impl From<persistence::Error> for PageError {
    fn from(error: persistence::Error) -> Self {
        match error {
            persistence::Error::Unavailable(reason) => {
                tracing::warn!(%reason, "database unavailable");
                Self::unavailable()
            }
            persistence::Error::Invalid(message) => {
                Self::bad_request(codes::REQUEST_INVALID, message)
            }
            other => {
                tracing::error!(error = %other, "database error");
                Self::internal()
            }
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if self.status.is_server_error() {
            tracing::error!(code = self.code, status = self.status.as_u16(), "refused");
        } else {
            tracing::info!(code = self.code, status = self.status.as_u16(), "refused");
        }
        let mut response = HttpResponse::build(self.status);
        response.insert_header((CACHE_CONTROL, "no-store"));
        if let Some(location) = &self.location {
            return response
                .insert_header((LOCATION, location.as_str()))
                .finish();
        }
        match self.format {
            Format::Json => {
                let mut body = serde_json::json!({ "error": self.code, "message": self.message });
                if let (Some(field), Some(object)) = (self.field, body.as_object_mut()) {
                    object.insert("field".into(), field.into());
                }
                response
                    .insert_header((CONTENT_TYPE, "application/json"))
                    .body(body.to_string())
            }
            Format::Html => response
                .insert_header((CONTENT_TYPE, html::CONTENT_TYPE_HTML))
                .body(html::error_page(self.heading, self.code, &self.message).into_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_upper_snake_case_and_distinct_from_oidc_codes() {
        let mut seen = std::collections::HashSet::new();
        for code in ERROR_CODES.iter().chain(oidc_client::ERROR_CODES.iter()) {
            assert!(seen.insert(*code), "{code} twice");
            assert!(
                code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
                "{code}"
            );
        }
        assert!(ERROR_CODES.contains(&codes::SIGNIN_STATE_REPLAYED));
    }

    #[test]
    fn api_errors_are_json_whatever_they_were_made_as() {
        let page = PageError::bad_request(codes::REQUEST_INVALID, "fix it").on_field("x");
        assert_eq!(page.format(), Format::Html);
        let response = ApiError::from(page).error_response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("application/json")
        );
    }

    #[test]
    fn oidc_errors_keep_their_code() {
        let e = PageError::from(OidcError::new(ErrorCode::OktaAccessDenied, "assign them"));
        assert_eq!(e.code(), "OKTA_ACCESS_DENIED");
        assert_eq!(e.status(), StatusCode::FORBIDDEN);
        let e = PageError::from(OidcError::new(ErrorCode::OktaInvalidClient, "copy it"));
        assert_eq!(e.status(), StatusCode::BAD_GATEWAY);
    }
}
