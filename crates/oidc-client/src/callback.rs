//! The redirect back from Okta (`/api/OktaAuth/callback?code=…&state=…` or
//! `?error=…&error_description=…&state=…`), parsed into what the gateway needs: the
//! state to find the login transaction, and the code — or a typed error.

use crate::error::{ErrorCode, OidcError};

/// The parameters of an authorization response.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Callback {
    /// `state`: find the login transaction by its hash.
    pub state: Option<String>,
    /// `code`: the authorization code (secret; redacted in `Debug`).
    pub code: Option<String>,
    /// `error`, e.g. `access_denied`.
    pub error: Option<String>,
    /// `error_description`, e.g. "User is not assigned to the client application."
    pub error_description: Option<String>,
    /// `iss` (RFC 9207), when the provider sends it.
    pub iss: Option<String>,
}

impl std::fmt::Debug for Callback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callback")
            .field("has_state", &self.state.is_some())
            .field("has_code", &self.code.is_some())
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .field("iss", &self.iss)
            .finish()
    }
}

/// The longest parameter value accepted; real ones are far shorter.
const MAX_VALUE: usize = 4_096;

impl Callback {
    /// Parses a query string (without `?`). Unknown parameters are ignored; a repeated
    /// or over-long known one is refused.
    ///
    /// # Errors
    /// `OKTA_CALLBACK_INVALID`.
    pub fn from_query(query: &str) -> Result<Self, OidcError> {
        let mut callback = Callback::default();
        for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
            let slot = match key.as_ref() {
                "state" => &mut callback.state,
                "code" => &mut callback.code,
                "error" => &mut callback.error,
                "error_description" => &mut callback.error_description,
                "iss" => &mut callback.iss,
                _ => continue,
            };
            if slot.is_some() || value.len() > MAX_VALUE {
                return Err(OidcError::new(
                    ErrorCode::OktaCallbackInvalid,
                    format!(
                        "the sign-in response has a repeated or over-long `{key}`; start the sign-in again"
                    ),
                ));
            }
            *slot = Some(value.into_owned());
        }
        Ok(callback)
    }

    /// The authorization code, or the error Okta sent instead. `expected_issuer` is
    /// compared with `iss` when Okta sends one (mix-up defence).
    ///
    /// # Errors
    /// `OKTA_ACCESS_DENIED` (user not assigned to the app), `OKTA_AUTHORIZATION_ERROR`
    /// (any other error Okta sent), `OKTA_CALLBACK_INVALID` (no code, or another
    /// issuer's response).
    pub fn code(&self, expected_issuer: &str) -> Result<&str, OidcError> {
        if let Some(error) = &self.error {
            let detail = self
                .error_description
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            return Err(match error.as_str() {
                "access_denied" => OidcError::new(
                    ErrorCode::OktaAccessDenied,
                    format!(
                        "Okta denied the sign-in{detail}. An Okta admin must assign this user \
                         (or a group they are in) to the Spark app: Applications → Spark → \
                         Assignments"
                    ),
                ),
                other => OidcError::new(
                    ErrorCode::OktaAuthorizationError,
                    format!(
                        "Okta answered the sign-in request with `{}`{detail}; check the Spark \
                         app's settings in Okta (sign-in redirect URI, grant type Authorization \
                         Code, scopes openid profile email)",
                        sanitize(other)
                    ),
                ),
            });
        }
        if let Some(iss) = &self.iss
            && iss.trim_end_matches('/') != expected_issuer
        {
            return Err(OidcError::new(
                ErrorCode::OktaCallbackInvalid,
                "the sign-in response came from another issuer than this sign-in's Okta org",
            ));
        }
        self.code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| {
                OidcError::new(
                    ErrorCode::OktaCallbackInvalid,
                    "the sign-in response has no authorization code; start the sign-in again",
                )
            })
    }
}

/// An error name as it may be shown: printable ASCII, at most 64 characters.
fn sanitize(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(64)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISS: &str = "https://acme.okta.com";

    #[test]
    fn a_code_and_state_are_read() {
        let cb =
            Callback::from_query("code=abc&state=spark_state_x&iss=https%3A%2F%2Facme.okta.com")
                .unwrap();
        assert_eq!(cb.state.as_deref(), Some("spark_state_x"));
        assert_eq!(cb.code(ISS).unwrap(), "abc");
        assert!(!format!("{cb:?}").contains("abc"), "the code is redacted");
    }

    #[test]
    fn access_denied_names_the_fix() {
        let cb = Callback::from_query(
            "error=access_denied&error_description=User+is+not+assigned+to+the+client+application.&state=s",
        )
        .unwrap();
        let e = cb.code(ISS).unwrap_err();
        assert_eq!(e.code(), ErrorCode::OktaAccessDenied);
        assert!(
            e.message()
                .contains("User is not assigned to the client application"),
            "{e}"
        );
        assert!(e.message().contains("Assignments"), "{e}");
        assert_eq!(
            cb.state.as_deref(),
            Some("s"),
            "the state is still there to clean up"
        );
    }

    #[test]
    fn other_errors_and_missing_codes() {
        let e = Callback::from_query("error=invalid_scope")
            .unwrap()
            .code(ISS)
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::OktaAuthorizationError);
        assert!(e.message().contains("invalid_scope"));
        let e = Callback::from_query("state=s")
            .unwrap()
            .code(ISS)
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::OktaCallbackInvalid);
        let e = Callback::from_query("code=c&iss=https%3A%2F%2Fevil.example")
            .unwrap()
            .code(ISS)
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::OktaCallbackInvalid);
        let e = Callback::from_query("code=a&code=b").unwrap_err();
        assert_eq!(e.code(), ErrorCode::OktaCallbackInvalid);
    }
}
