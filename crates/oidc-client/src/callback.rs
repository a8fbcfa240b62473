//! The redirect back from Okta (`/api/OktaAuth/callback?code=…&state=…` or
//! `?error=…&error_description=…&state=…`), parsed into what the gateway needs: the
//! state to find the login transaction, and the code — or a typed error.

use crate::discovery::Provider;
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

    /// The authorization code, or the error Okta sent instead — for a response to a
    /// sign-in started with `provider`. Call it only once the `state` has found this
    /// browser's sign-in: the message quotes Okta's `error_description`, which anyone can
    /// put in a link.
    ///
    /// The response's issuer is checked first, as RFC 9207 §2.4 says: an `iss` must be
    /// exactly the provider's issuer, and a provider whose discovery document advertises
    /// `authorization_response_iss_parameter_supported` must send one; a provider that
    /// does not advertise it may leave `iss` out.
    ///
    /// # Errors
    /// `OKTA_RESPONSE_ISSUER_MISMATCH` (another issuer's response, or none named where
    /// the provider always names itself), `OKTA_ACCESS_DENIED` (user not assigned to the
    /// app), `OKTA_AUTHORIZATION_ERROR` (any other error Okta sent),
    /// `OKTA_CALLBACK_INVALID` (no code).
    pub fn code(&self, provider: &Provider) -> Result<&str, OidcError> {
        self.code_for(provider.issuer(), provider.names_issuer_in_responses())
    }

    /// [`Callback::code`] for an issuer given by name: `iss_required` is whether that
    /// issuer advertises `authorization_response_iss_parameter_supported`.
    ///
    /// # Errors
    /// As [`Callback::code`].
    pub fn code_for(&self, issuer: &str, iss_required: bool) -> Result<&str, OidcError> {
        match &self.iss {
            Some(iss) if iss != issuer => {
                return Err(OidcError::new(
                    ErrorCode::OktaResponseIssuerMismatch,
                    format!(
                        "the sign-in response came from another issuer than this sign-in's \
                         Okta org ({issuer}), so Spark did not use it; start the sign-in \
                         again from your workspace"
                    ),
                ));
            }
            None if iss_required => {
                return Err(OidcError::new(
                    ErrorCode::OktaResponseIssuerMismatch,
                    format!(
                        "the sign-in response does not name its issuer, although {issuer} \
                         always does, so Spark did not use it; start the sign-in again from \
                         your workspace"
                    ),
                ));
            }
            _ => {}
        }
        if let Some(error) = &self.error {
            let detail = self
                .error_description
                .as_deref()
                .map(|d| format!(": {}", printable(d)))
                .unwrap_or_default();
            return Err(match error.as_str() {
                "access_denied" => OidcError::new(
                    ErrorCode::OktaAccessDenied,
                    format!(
                        "Okta denied the sign-in{detail}. An Okta admin assigns this user (or \
                         a group they are in) to the Spark app, on the app's Assignments tab in \
                         Okta"
                    ),
                ),
                other => OidcError::new(
                    ErrorCode::OktaAuthorizationError,
                    format!(
                        "Okta answered the sign-in request with `{}`{detail}; check the Spark \
                         app's settings in Okta (its Sign-in redirect URIs and the grant type \
                         Authorization Code)",
                        sanitize(other)
                    ),
                ),
            });
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

/// Okta's `error_description` as it may be shown: no control characters, at most 300
/// characters (Okta's descriptions are one sentence).
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(300).collect()
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
        assert_eq!(cb.code_for(ISS, true).unwrap(), "abc");
        assert!(!format!("{cb:?}").contains("abc"), "the code is redacted");
    }

    #[test]
    fn access_denied_names_the_fix() {
        let cb = Callback::from_query(
            "error=access_denied&error_description=User+is+not+assigned+to+the+client+application.&state=s",
        )
        .unwrap();
        let e = cb.code_for(ISS, false).unwrap_err();
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
            .code_for(ISS, false)
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::OktaAuthorizationError);
        assert!(e.message().contains("invalid_scope"));
        let e = Callback::from_query("state=s")
            .unwrap()
            .code_for(ISS, false)
            .unwrap_err();
        assert_eq!(e.code(), ErrorCode::OktaCallbackInvalid);
        let e = Callback::from_query("code=a&code=b").unwrap_err();
        assert_eq!(e.code(), ErrorCode::OktaCallbackInvalid);
    }

    #[test]
    fn the_response_issuer_is_checked_exactly_and_first() {
        // Another issuer's response is refused, before its code or error is looked at.
        for query in [
            "code=c&iss=https%3A%2F%2Fevil.example",
            "error=access_denied&error_description=Call+us&iss=https%3A%2F%2Fevil.example",
            // RFC 9207 §2.4: simple string comparison, no normalisation.
            "code=c&iss=https%3A%2F%2Facme.okta.com%2F",
            "code=c&iss=https%3A%2F%2FACME.okta.com",
        ] {
            for required in [false, true] {
                let e = Callback::from_query(query)
                    .unwrap()
                    .code_for(ISS, required)
                    .unwrap_err();
                assert_eq!(e.code(), ErrorCode::OktaResponseIssuerMismatch, "{query}");
                assert!(!e.message().contains("Call us"), "{e}");
            }
        }
        // No `iss`: fine for a provider that does not say it sends one, refused for one
        // that says it always does.
        let bare = Callback::from_query("code=c").unwrap();
        assert_eq!(bare.code_for(ISS, false).unwrap(), "c");
        assert_eq!(
            bare.code_for(ISS, true).unwrap_err().code(),
            ErrorCode::OktaResponseIssuerMismatch
        );
    }

    #[test]
    fn error_descriptions_are_shown_without_control_characters() {
        let cb = Callback::from_query(
            "error=access_denied&error_description=line%0Abreak%1B%5B31m+red&state=s",
        )
        .unwrap();
        let e = cb.code_for(ISS, false).unwrap_err();
        assert!(e.message().contains("linebreak[31m red"), "{e}");
        assert!(!e.message().chars().any(char::is_control), "{e}");
    }
}
