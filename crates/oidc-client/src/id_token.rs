//! The end of a sign-in: the code exchange at the token endpoint, the ID token's
//! verification against the org's signing keys, and the email rules (from userinfo when
//! the ID token has none; an email Okta marks unverified is refused).

use chrono::Utc;
use openidconnect::core::{
    CoreClient, CoreErrorResponseType, CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet,
    CoreJwsSigningAlgorithm, CoreUserInfoClaims,
};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, IssuerUrl, Nonce,
    OAuth2TokenResponse as _, PkceCodeVerifier, RedirectUrl, RequestTokenError,
    SignatureVerificationError, TokenResponse as _,
};
use token_store::sealed::SecretText;

use crate::client::OidcClient;
use crate::discovery::Provider;
use crate::error::{ErrorCode, OidcError, config_error};
use crate::jwks::VerifyFailure;

/// The OIDC client credentials of the Spark app in one Okta org.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    /// The client id.
    pub client_id: String,
    /// The client secret (redacted in `Debug`).
    pub client_secret: SecretText,
}

/// A verified sign-in: who Okta says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignIn {
    /// The issuer (the org URL).
    pub issuer: String,
    /// The Okta user's stable id (`sub`).
    pub subject: String,
    /// The email, verified by Okta (or not marked unverified).
    pub email: String,
    /// The full name, if given.
    pub name: Option<String>,
    /// The given name, if given.
    pub given_name: Option<String>,
    /// The family name, if given.
    pub family_name: Option<String>,
}

impl OidcClient {
    /// Finishes a sign-in: exchanges the code at the token endpoint (client_secret_basic,
    /// the PKCE verifier, no redirects followed), verifies the ID token (signature from
    /// the JWKS, `iss`, `aud`, `exp`/`iat` with leeway, `nonce`, RS256 only), reads the
    /// email (from userinfo when the ID token has none) and refuses an email Okta marks
    /// unverified.
    ///
    /// # Errors
    /// `OKTA_INVALID_CLIENT`, `OKTA_INVALID_GRANT`, `OKTA_TOKEN_ERROR`,
    /// `ID_TOKEN_*`, `EMAIL_MISSING`, `EMAIL_NOT_VERIFIED`, `OKTA_USERINFO_FAILED`,
    /// `OKTA_JWKS_UNAVAILABLE`.
    pub async fn complete_sign_in(
        &self,
        provider: &Provider,
        credentials: &ClientCredentials,
        redirect_uri: &str,
        code: &str,
        nonce: &str,
        pkce_verifier: &str,
    ) -> Result<VerifiedSignIn, OidcError> {
        let redirect = RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| {
            config_error(format!("the redirect URI `{redirect_uri}` is invalid: {e}"))
        })?;
        let client = CoreClient::from_provider_metadata(
            provider.metadata().clone(),
            ClientId::new(credentials.client_id.clone()),
            Some(ClientSecret::new(
                credentials.client_secret.expose_secret().to_owned(),
            )),
        )
        .set_redirect_uri(redirect);
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| config_error(format!("the provider has no token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(self.http().client())
            .await
            .map_err(|e| token_error(provider, e))?;
        let id_token = response.id_token().ok_or_else(|| {
            OidcError::new(
                ErrorCode::IdTokenMissing,
                "Okta returned no ID token; make sure the app is an OIDC Web Application with \
                 the openid scope granted",
            )
        })?;
        let claims = self
            .verify(provider, &credentials.client_id, id_token, nonce)
            .await?;
        if claims.email.is_some() {
            return finish(claims);
        }
        // No email in the ID token: ask userinfo.
        let request = client
            .user_info(
                response.access_token().clone(),
                Some(openidconnect::SubjectIdentifier::new(
                    claims.subject.clone(),
                )),
            )
            .map_err(|_| {
                OidcError::new(
                    ErrorCode::EmailMissing,
                    "the ID token has no email and the org has no userinfo endpoint; grant the \
                     `email` scope to the Spark app in Okta",
                )
            })?;
        let info: CoreUserInfoClaims =
            request
                .request_async(self.http().client())
                .await
                .map_err(|e| {
                    OidcError::new(
                        ErrorCode::OktaUserinfoFailed,
                        format!("Okta's userinfo endpoint failed: {e}"),
                    )
                })?;
        let with_userinfo = IdClaims {
            email: info.email().map(|e| e.as_str().to_owned()),
            email_verified: info.email_verified(),
            name: claims.name.clone().or_else(|| localized(info.name())),
            given_name: claims
                .given_name
                .clone()
                .or_else(|| localized(info.given_name())),
            family_name: claims
                .family_name
                .clone()
                .or_else(|| localized(info.family_name())),
            ..claims
        };
        finish(with_userinfo)
    }

    /// Verifies a compact-serialised ID token for `client_id` against the provider's
    /// keys (refetched once, rate-limited, when its `kid` is unknown) and the expected
    /// nonce; returns who it names. [`complete_sign_in`](Self::complete_sign_in) calls
    /// this; it is public for callers that receive ID tokens another way and for tests.
    ///
    /// # Errors
    /// `ID_TOKEN_*`, `EMAIL_MISSING`, `EMAIL_NOT_VERIFIED`, `OKTA_JWKS_UNAVAILABLE`.
    pub async fn verify_id_token(
        &self,
        provider: &Provider,
        client_id: &str,
        id_token: &str,
        nonce: &str,
    ) -> Result<VerifiedSignIn, OidcError> {
        let token: CoreIdToken = id_token.parse().map_err(|_| {
            OidcError::new(
                ErrorCode::IdTokenInvalid,
                "the ID token is not a well-formed signed JWT",
            )
        })?;
        finish(self.verify(provider, client_id, &token, nonce).await?)
    }

    async fn verify(
        &self,
        provider: &Provider,
        client_id: &str,
        token: &CoreIdToken,
        nonce: &str,
    ) -> Result<IdClaims, OidcError> {
        self.with_signing_keys(provider, |keys| {
            self.verify_with(provider, client_id, token, nonce, keys)
        })
        .await
        .map_err(unknown_key_error)
    }

    fn verify_with(
        &self,
        provider: &Provider,
        client_id: &str,
        token: &CoreIdToken,
        nonce: &str,
        keys: CoreJsonWebKeySet,
    ) -> Result<IdClaims, VerifyFailure> {
        let leeway = self.options().clock_leeway;
        let issuer = IssuerUrl::from_url(provider.org().url().clone());
        // The org URL's `Url` has a root path; the issuer is compared as text without it.
        let issuer = IssuerUrl::new(provider.issuer().to_owned()).unwrap_or(issuer);
        let verifier = CoreIdTokenVerifier::new_public_client(
            ClientId::new(client_id.to_owned()),
            issuer,
            keys,
        )
        .require_issuer_match(true)
        .require_audience_match(true)
        .set_allowed_algs([CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256])
        .set_time_fn(move || Utc::now() - leeway)
        .set_issue_time_verifier_fn(move |iat| {
            if iat > Utc::now() + leeway {
                Err(format!("the ID token was issued in the future ({iat})"))
            } else {
                Ok(())
            }
        });
        let claims = token
            .claims(&verifier, &Nonce::new(nonce.to_owned()))
            .map_err(VerifyFailure::from)?;
        Ok(IdClaims {
            issuer: claims.issuer().as_str().to_owned(),
            subject: claims.subject().as_str().to_owned(),
            email: claims.email().map(|e| e.as_str().to_owned()),
            email_verified: claims.email_verified(),
            name: localized(claims.name()),
            given_name: localized(claims.given_name()),
            family_name: localized(claims.family_name()),
        })
    }
}

/// The default-locale value of a localized claim.
fn localized<T>(claim: Option<&openidconnect::LocalizedClaim<T>>) -> Option<String>
where
    T: std::ops::Deref<Target = String>,
{
    claim.and_then(|c| c.get(None)).map(|v| (**v).clone())
}

/// The claims of a verified ID token, before the email rules.
#[derive(Debug, Clone)]
struct IdClaims {
    issuer: String,
    subject: String,
    email: Option<String>,
    email_verified: Option<bool>,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
}

fn finish(claims: IdClaims) -> Result<VerifiedSignIn, OidcError> {
    let Some(email) = claims.email.filter(|e| !e.trim().is_empty()) else {
        return Err(OidcError::new(
            ErrorCode::EmailMissing,
            "Okta sent no email for this user; grant the `email` scope to the Spark app and \
             make sure the user has a primary email",
        ));
    };
    if claims.email_verified == Some(false) {
        return Err(OidcError::new(
            ErrorCode::EmailNotVerified,
            "Okta says this user's email is not verified; verify it in Okta, then sign in again",
        ));
    }
    Ok(VerifiedSignIn {
        issuer: claims.issuer,
        subject: claims.subject,
        email: email.trim().to_owned(),
        name: claims.name,
        given_name: claims.given_name,
        family_name: claims.family_name,
    })
}

/// The error of a failed ID-token check: an unknown key (after the one refetch) is an
/// invalid token.
fn unknown_key_error(failure: VerifyFailure) -> OidcError {
    match failure {
        VerifyFailure::UnknownKey => OidcError::new(
            ErrorCode::IdTokenInvalid,
            "the ID token is signed with a key the org does not publish",
        ),
        VerifyFailure::Other(e) => e,
    }
}

impl From<ClaimsVerificationError> for VerifyFailure {
    fn from(error: ClaimsVerificationError) -> Self {
        use ClaimsVerificationError as E;
        let (code, message) = match error {
            E::SignatureVerification(SignatureVerificationError::NoMatchingKey) => {
                return VerifyFailure::UnknownKey;
            }
            E::SignatureVerification(e) => (
                ErrorCode::IdTokenInvalid,
                format!("the ID token's signature is not valid ({e})"),
            ),
            E::InvalidNonce(_) => (
                ErrorCode::IdTokenNonceMismatch,
                "the ID token was not issued for this sign-in (nonce mismatch); start the \
                 sign-in again"
                    .to_owned(),
            ),
            E::Expired(why) => (
                ErrorCode::IdTokenExpired,
                format!(
                    "the ID token is expired or not yet valid ({why}); check that the server's \
                     clock is right"
                ),
            ),
            E::InvalidIssuer(_) => (
                ErrorCode::IdTokenIssuerMismatch,
                "the ID token was issued by another issuer than the configured Okta org".to_owned(),
            ),
            E::InvalidAudience(_) => (
                ErrorCode::IdTokenAudienceMismatch,
                "the ID token is for another client; check the Client ID in Spark's SSO \
                 settings"
                    .to_owned(),
            ),
            other => (
                ErrorCode::IdTokenInvalid,
                format!("the ID token failed verification ({other})"),
            ),
        };
        VerifyFailure::Other(OidcError::new(code, message))
    }
}

fn token_error<RE>(
    provider: &Provider,
    error: RequestTokenError<RE, openidconnect::StandardErrorResponse<CoreErrorResponseType>>,
) -> OidcError
where
    RE: std::error::Error + 'static,
{
    match error {
        RequestTokenError::ServerResponse(response) => {
            let description = response
                .error_description()
                .map(|d| format!(" ({d})"))
                .unwrap_or_default();
            match response.error() {
                CoreErrorResponseType::InvalidClient
                | CoreErrorResponseType::UnauthorizedClient => OidcError::new(
                    ErrorCode::OktaInvalidClient,
                    format!(
                        "Okta ({}) refused the client id or secret{description}; copy the \
                             Client ID and Client secret from the Okta app again into Spark's \
                             SSO settings",
                        provider.issuer()
                    ),
                ),
                CoreErrorResponseType::InvalidGrant => OidcError::new(
                    ErrorCode::OktaInvalidGrant,
                    format!(
                        "Okta refused the authorization code{description}: it expired or was \
                         used already; start the sign-in again"
                    ),
                ),
                other => OidcError::new(
                    ErrorCode::OktaTokenError,
                    format!(
                        "Okta's token endpoint answered `{}`{description}",
                        other.as_ref()
                    ),
                ),
            }
        }
        RequestTokenError::Request(e) => OidcError::new(
            ErrorCode::OktaTokenError,
            format!("Okta's token endpoint cannot be reached: {e}"),
        ),
        RequestTokenError::Parse(e, _) => OidcError::new(
            ErrorCode::OktaTokenError,
            format!("Okta's token response cannot be read: {e}"),
        ),
        RequestTokenError::Other(e) => OidcError::new(
            ErrorCode::OktaTokenError,
            format!("Okta's token endpoint failed: {e}"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_unverified_email_is_refused() {
        let claims = IdClaims {
            issuer: "https://a.okta.com".into(),
            subject: "00u1".into(),
            email: Some(" ada@acme.com ".into()),
            email_verified: Some(true),
            name: None,
            given_name: None,
            family_name: None,
        };
        assert_eq!(finish(claims.clone()).unwrap().email, "ada@acme.com");
        let unverified = IdClaims {
            email_verified: Some(false),
            ..claims.clone()
        };
        assert_eq!(
            finish(unverified).unwrap_err().code(),
            ErrorCode::EmailNotVerified
        );
        let missing = IdClaims {
            email: None,
            ..claims.clone()
        };
        assert_eq!(finish(missing).unwrap_err().code(), ErrorCode::EmailMissing);
        let unstated = IdClaims {
            email_verified: None,
            ..claims
        };
        assert!(
            finish(unstated).is_ok(),
            "only an explicit false is refused"
        );
    }

    #[test]
    fn nothing_secret_in_debug() {
        let credentials = ClientCredentials {
            client_id: "0oa1".into(),
            client_secret: SecretText::new("hunter2"),
        };
        assert!(!format!("{credentials:?}").contains("hunter2"));
    }
}
