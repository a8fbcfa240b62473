//! Every refusal as a SCIM Error (RFC 7644 §3.12): `schemas`, `status` as a string,
//! `scimType` where the RFC defines one, and a `detail` that tells the Okta admin what to
//! do. This is the one place where errors become responses.

use actix_web::http::StatusCode;
use actix_web::http::header::{ALLOW, HeaderName, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE};
use actix_web::{HttpResponse, ResponseError};
use scim_model::{ScimError, ScimType};

/// The media type of every body this service sends.
pub const SCIM_JSON: &str = "application/scim+json";

/// A refusal, with the headers some statuses need.
#[derive(Debug)]
pub struct ApiError {
    /// Boxed: errors travel through every handler's `Result`, and should stay small.
    body: Box<ScimError>,
    header: Option<(HeaderName, HeaderValue)>,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.body.fmt(f)
    }
}

impl ApiError {
    /// An error with a status, an optional `scimType`, and a detail.
    pub fn new(status: u16, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        Self {
            body: Box::new(ScimError::new(status, scim_type, detail)),
            header: None,
        }
    }

    /// 400 with a `scimType`.
    pub fn bad_request(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self::new(400, Some(scim_type), detail)
    }

    /// 401: the same answer whatever was wrong with the token (none, a bad one, a revoked
    /// one, one of another workspace), so a caller learns nothing about tokens.
    pub fn unauthorized() -> Self {
        Self {
            body: Box::new(ScimError::new(
                401,
                None,
                "Authentication failed: this workspace does not accept the token Okta sent \
                 (none, mistyped, revoked or rotated, or generated in another workspace). \
                 Paste the token exactly as Spark showed it, starting with spark_scim_, into \
                 the app's provisioning settings in Okta. The token list on the workspace's \
                 Okta SCIM tokens page (/my-settings/integrations/okta-scim) shows which \
                 tokens are live and when each was last used; rotate a token there only if \
                 its value is lost.",
            )),
            header: Some((
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"Spark SCIM\", error=\"invalid_token\""),
            )),
        }
    }

    /// 429: too many failed token attempts from this address or on this workspace; the
    /// caller may try again after `retry_after_secs` (also in `Retry-After`).
    pub fn too_many_failures(retry_after_secs: u64) -> Self {
        Self {
            body: Box::new(ScimError::new(
                429,
                None,
                format!(
                    "Too many failed authentication attempts from this address or on this \
                     workspace. Check the SCIM token in Okta's provisioning settings of the \
                     importing app: it must be a token generated for this workspace on its Okta SCIM \
                     tokens page (/my-settings/integrations/okta-scim) and not revoked or \
                     rotated since. Then retry after {retry_after_secs} seconds."
                ),
            )),
            header: Some((RETRY_AFTER, HeaderValue::from(retry_after_secs))),
        }
    }

    /// 403: a valid token, but the workspace's Okta integration is not live.
    pub fn integration_off() -> Self {
        Self::new(
            403,
            None,
            "The Okta integration of this Spark workspace is not connected, so its SCIM \
             tokens are switched off. A Spark admin clicks Connect on the Okta card of the \
             workspace's Marketplace (/marketplace/integrations); if the card says Not \
             activated, the Spark team activates Okta first.",
        )
    }

    /// 404: the host names a workspace that does not exist, so the SCIM connector base
    /// URL in Okta is wrong.
    pub fn workspace_not_found(workspace: &str) -> Self {
        // The name is the host's first label as the caller sent it: echo only a sane one.
        let shown = if workspace.len() <= 63
            && workspace
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            format!("named “{workspace}”")
        } else {
            "with the name in this URL".to_owned()
        };
        Self::new(
            404,
            None,
            format!(
                "Workspace not found: there is no Spark workspace {shown}. The SCIM connector \
                 base URL in Okta names the workspace, https://{{workspace}}.spark.work/scim/v2; \
                 copy it from the workspace's Okta SCIM tokens page \
                 (/my-settings/integrations/okta-scim)."
            ),
        )
    }

    /// 404 for a resource that does not exist.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, None, detail)
    }

    /// 405 for a write method on a read-only discovery endpoint.
    pub fn method_not_allowed() -> Self {
        Self {
            body: Box::new(ScimError::new(
                405,
                None,
                "This endpoint is read-only: only GET is allowed.",
            )),
            header: Some((ALLOW, HeaderValue::from_static("GET"))),
        }
    }

    /// 501 for every write: Spark is the source of truth.
    pub fn read_only() -> Self {
        Self::new(
            501,
            None,
            "Spark is the source of truth for employees: provisioning is import-only, so \
             creating, updating and deleting users or groups through SCIM is not supported. \
             Make the change in Spark; Okta's next import picks it up. In the app's \
             provisioning settings in Okta, keep only Import New Users and Profile Updates, \
             and leave Push New Users, Push Profile Updates and Push Groups off.",
        )
    }

    /// The answer to blocking work that was shed (503: overloaded, as when no connection
    /// came free in time) or failed (500).
    pub fn not_done(why: web_runtime::NotDone) -> Self {
        match why {
            web_runtime::NotDone::Shed => Self::unavailable(),
            web_runtime::NotDone::Failed => Self::internal(),
        }
    }

    /// 503 while the database is unreachable; Okta retries.
    pub fn unavailable() -> Self {
        Self::new(
            503,
            None,
            "Spark's directory is temporarily unavailable. Retry the import in a few minutes.",
        )
    }

    /// 500: something went wrong on Spark's side; the detail is deliberately generic.
    pub fn internal() -> Self {
        Self::new(
            500,
            None,
            "Spark could not answer this request because of an internal error. Retry later; \
             if it persists, contact Spark support with the X-Request-Id of this response.",
        )
    }

    /// The SCIM body.
    pub fn body(&self) -> &ScimError {
        &self.body
    }
}

impl From<scim_filter::FilterError> for ApiError {
    fn from(error: scim_filter::FilterError) -> Self {
        Self {
            body: Box::new(error.to_scim_error()),
            header: None,
        }
    }
}

impl From<scim_filter::PathError> for ApiError {
    fn from(error: scim_filter::PathError) -> Self {
        Self {
            body: Box::new(error.to_scim_error()),
            header: None,
        }
    }
}

impl From<scim_model::message::SearchRequestError> for ApiError {
    fn from(error: scim_model::message::SearchRequestError) -> Self {
        Self::bad_request(error.scim_type(), error.to_string())
    }
}

impl From<persistence::Error> for ApiError {
    fn from(error: persistence::Error) -> Self {
        use persistence::Error as E;
        match error {
            E::Unavailable(reason) => {
                tracing::warn!(%reason, "database unavailable");
                Self::unavailable()
            }
            E::Unsupported(detail) => Self::bad_request(ScimType::InvalidFilter, detail),
            other => {
                tracing::error!(error = %other, "database error");
                Self::internal()
            }
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.body
            .status_code()
            .and_then(|code| StatusCode::from_u16(code).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.content_type(SCIM_JSON);
        if let Some((name, value)) = &self.header {
            response.insert_header((name.clone(), value.clone()));
        }
        let body = serde_json::to_string(&self.body).unwrap_or_default();
        response.body(body)
    }
}
