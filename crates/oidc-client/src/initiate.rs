//! Third-party-initiated login (OpenID Connect Core §4): what the Okta dashboard tile
//! sends to the Initiate login URI, from a GET query or a form POST body.

use url::Url;

use crate::error::{ErrorCode, OidcError};
use crate::org_url::{OrgUrl, UrlPolicy};

/// A parsed third-party-initiated login request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitiateLogin {
    /// `iss`, normalised by the org URL rules: match it to the tenants configured with it.
    pub iss: OrgUrl,
    /// `login_hint`, to pass through to the authorization request.
    pub login_hint: Option<String>,
    /// `target_link_uri`, an absolute URL; honour it only when it points into the
    /// matched workspace.
    pub target_link_uri: Option<Url>,
}

/// The longest parameter value accepted.
const MAX_VALUE: usize = 2_048;

impl InitiateLogin {
    /// Parses `application/x-www-form-urlencoded` parameters: a GET query string
    /// (without `?`) or a POST body.
    ///
    /// # Errors
    /// `INITIATE_LOGIN_INVALID` for a missing `iss`, a repeated or over-long parameter,
    /// or a `target_link_uri` that is not an absolute http(s) URL; the org URL rules'
    /// errors for an `iss` they refuse.
    pub fn parse(params: &str, policy: UrlPolicy) -> Result<Self, OidcError> {
        let invalid = |why: String| OidcError::new(ErrorCode::InitiateLoginInvalid, why);
        let (mut iss, mut login_hint, mut target) = (None, None, None);
        for (key, value) in url::form_urlencoded::parse(params.as_bytes()) {
            let slot = match key.as_ref() {
                "iss" => &mut iss,
                "login_hint" => &mut login_hint,
                "target_link_uri" => &mut target,
                _ => continue,
            };
            if slot.is_some() || value.len() > MAX_VALUE {
                return Err(invalid(format!(
                    "the sign-in request from Okta has a repeated or over-long `{key}`"
                )));
            }
            *slot = Some(value.into_owned());
        }
        let iss = iss.filter(|i| !i.trim().is_empty()).ok_or_else(|| {
            invalid(
                "the sign-in request has no `iss`; start the sign-in from the Okta dashboard \
                 tile or from your Spark workspace"
                    .into(),
            )
        })?;
        let iss = OrgUrl::parse(&iss, policy)?;
        let login_hint = login_hint
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty() && !h.chars().any(char::is_control));
        let target_link_uri = match target.filter(|t| !t.trim().is_empty()) {
            None => None,
            Some(text) => {
                let url = Url::parse(text.trim()).map_err(|_| {
                    invalid("the sign-in request's target_link_uri is not a URL".into())
                })?;
                if !matches!(url.scheme(), "https" | "http") {
                    return Err(invalid(
                        "the sign-in request's target_link_uri is not an http(s) URL".into(),
                    ));
                }
                Some(url)
            }
        };
        Ok(Self {
            iss,
            login_hint,
            target_link_uri,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dashboard_tile_request_is_read() {
        let req = InitiateLogin::parse(
            "iss=https%3A%2F%2FAcme.okta.com%2F&login_hint=ada%40acme.com&target_link_uri=https%3A%2F%2Facme.spark.work%2Fpeople",
            UrlPolicy::STRICT,
        )
        .unwrap();
        assert_eq!(req.iss.as_str(), "https://acme.okta.com");
        assert_eq!(req.login_hint.as_deref(), Some("ada@acme.com"));
        assert_eq!(
            req.target_link_uri.unwrap().as_str(),
            "https://acme.spark.work/people"
        );
        let bare = InitiateLogin::parse("iss=https://acme.okta.com", UrlPolicy::STRICT).unwrap();
        assert_eq!((bare.login_hint, bare.target_link_uri), (None, None));
    }

    #[test]
    fn bad_requests_are_refused() {
        let code = |q: &str| {
            InitiateLogin::parse(q, UrlPolicy::STRICT)
                .unwrap_err()
                .code()
        };
        assert_eq!(code(""), ErrorCode::InitiateLoginInvalid);
        assert_eq!(code("login_hint=a"), ErrorCode::InitiateLoginInvalid);
        assert_eq!(
            code("iss=https://a.okta.com&iss=https://b.okta.com"),
            ErrorCode::InitiateLoginInvalid
        );
        assert_eq!(
            code("iss=https://acme-admin.okta.com"),
            ErrorCode::OktaOrgUrlAdmin
        );
        assert_eq!(
            code("iss=http://acme.okta.com"),
            ErrorCode::OktaOrgUrlInsecure
        );
        assert_eq!(
            code("iss=https://a.okta.com&target_link_uri=javascript:alert(1)"),
            ErrorCode::InitiateLoginInvalid
        );
        assert_eq!(
            code("iss=https://a.okta.com&target_link_uri=/relative"),
            ErrorCode::InitiateLoginInvalid
        );
    }
}
