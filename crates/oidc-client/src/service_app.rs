//! Spark calling an Okta org as an API service app: real-time sign-out of a deactivated
//! employee through Okta's Global Token Revocation API.
//!
//! What Okta documents:
//!
//! - *Implement OAuth for Okta with a service app*
//!   (<https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/main/>):
//!   the client credentials grant at the org's token endpoint, the app authenticated with
//!   a JWT signed by its private key (`private_key_jwt`, RFC 7523: `iss` = `sub` = the
//!   client id, `aud` = the token endpoint, `exp` within the hour, a `jti`), asking for
//!   the Okta API scopes granted to the app.
//! - *Global Token Revocation*
//!   (<https://developer.okta.com/docs/api/openapi/okta-oauth/oauth/tag/GlobalTokenRevocation/>):
//!   `POST {org}/oauth2/v1/global-token-revocation` with scope
//!   `okta.universalLogout.manage` and `{"sub_id": {"format": "opaque", "id": "00u…"}}`
//!   revokes the Okta user's sessions and tokens and triggers Universal Logout in every
//!   app that supports it; 204 when done.
//!
//! [`ServiceKey`] is the app's key pair (RSA 2048, generated here; the private half leaves
//! this crate only as PEM for sealing), [`OidcClient::service_token`] the grant,
//! [`OidcClient::revoke_okta_user`] the revocation. No database, no retry policy: the
//! caller keeps the queue and decides when to try again.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::Utc;
use openidconnect::core::{CoreJwsSigningAlgorithm, CoreRsaPrivateSigningKey};
use openidconnect::{JsonWebKeyId, PrivateSigningKey as _};
use rsa::pkcs1::EncodeRsaPrivateKey as _;
use sha2::Digest as _;
use token_store::sealed::SecretText;
use token_store::{SecretKind, SecretToken};

use crate::client::OidcClient;
use crate::discovery::Provider;
use crate::error::{ErrorCode, OidcError};
use crate::org_url::OrgUrl;

/// The Okta API scope of Global Token Revocation.
pub const UNIVERSAL_LOGOUT_SCOPE: &str = "okta.universalLogout.manage";

/// The path of Okta's Global Token Revocation API on an org.
pub const GLOBAL_TOKEN_REVOCATION_PATH: &str = "/oauth2/v1/global-token-revocation";

/// A service app's signing key: RSA 2048 (Okta accepts RS256 client assertions), named by
/// its RFC 7638 thumbprint. `Debug` shows the key id only.
pub struct ServiceKey {
    pem: SecretText,
    key_id: String,
    signer: CoreRsaPrivateSigningKey,
}

impl std::fmt::Debug for ServiceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceKey")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

fn key_error(message: impl Into<String>) -> OidcError {
    OidcError::new(ErrorCode::OidcConfigInvalid, message)
}

impl ServiceKey {
    /// A new key pair from the operating system's randomness (takes a moment: run it
    /// off the async workers).
    ///
    /// # Errors
    /// `OIDC_CONFIG_INVALID` when no randomness is available.
    pub fn generate() -> Result<Self, OidcError> {
        let key = rsa::RsaPrivateKey::new(&mut rand08::rngs::OsRng, 2048)
            .map_err(|e| key_error(format!("cannot generate a key pair: {e}")))?;
        let pem = key
            .to_pkcs1_pem(rsa::pkcs1::LineEnding::LF)
            .map_err(|e| key_error(format!("cannot encode the key pair: {e}")))?;
        Self::from_pem(SecretText::new(pem.as_str()))
    }

    /// A key from the PKCS#1 PEM [`private_pem`](Self::private_pem) gave (after
    /// unsealing).
    ///
    /// # Errors
    /// `OIDC_CONFIG_INVALID` when the PEM is not an RSA private key.
    pub fn from_pem(pem: SecretText) -> Result<Self, OidcError> {
        let unnamed = CoreRsaPrivateSigningKey::from_pem(pem.expose_secret(), None)
            .map_err(|e| key_error(format!("the stored key is not an RSA private key: {e}")))?;
        let public = serde_json::to_value(unnamed.as_verification_key())
            .map_err(|e| key_error(format!("cannot describe the public key: {e}")))?;
        let (Some(n), Some(e)) = (
            public.get("n").and_then(serde_json::Value::as_str),
            public.get("e").and_then(serde_json::Value::as_str),
        ) else {
            return Err(key_error("the public key has no modulus or exponent"));
        };
        // RFC 7638: the required members in lexicographic order, no whitespace.
        let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        let key_id = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(canonical.as_bytes()));
        let signer = CoreRsaPrivateSigningKey::from_pem(
            pem.expose_secret(),
            Some(JsonWebKeyId::new(key_id.clone())),
        )
        .map_err(|e| key_error(format!("the stored key is not an RSA private key: {e}")))?;
        Ok(Self {
            pem,
            key_id,
            signer,
        })
    }

    /// The private key as PKCS#1 PEM: seal it before storing it; never show it.
    pub fn private_pem(&self) -> &SecretText {
        &self.pem
    }

    /// The key id (`kid`): the public key's RFC 7638 thumbprint.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The public key as a JWK (`kty`, `n`, `e`, `kid`, `use: sig`, `alg: RS256`): what
    /// the Okta admin adds to the service app's public keys.
    pub fn public_jwk(&self) -> serde_json::Value {
        let mut jwk = serde_json::to_value(self.signer.as_verification_key())
            .unwrap_or_else(|_| serde_json::json!({}));
        if let Some(members) = jwk.as_object_mut() {
            members.retain(|_, value| !value.is_null());
            members.insert("alg".into(), "RS256".into());
        }
        jwk
    }

    /// A client assertion (RFC 7523 §3) for `client_id` at `token_endpoint`, valid for
    /// five minutes.
    fn client_assertion(&self, client_id: &str, token_endpoint: &str) -> Result<String, OidcError> {
        let now = Utc::now().timestamp();
        let (jti, _) = SecretToken::mint(SecretKind::OidcState)
            .map_err(|e| key_error(format!("no randomness for the assertion id: {e}")))?;
        let header = serde_json::json!({"alg": "RS256", "kid": self.key_id, "typ": "JWT"});
        let claims = serde_json::json!({
            "iss": client_id,
            "sub": client_id,
            "aud": token_endpoint,
            "iat": now,
            "exp": now + 300,
            "jti": jti.expose_secret(),
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .signer
            .sign(
                &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                input.as_bytes(),
            )
            .map_err(|e| key_error(format!("cannot sign the client assertion: {e}")))?;
        Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature)))
    }
}

/// An access token of the service app, for Okta's API. `Debug` hides it.
#[derive(Clone)]
pub struct ServiceToken {
    access_token: SecretText,
    /// How long Okta says it lives.
    pub expires_in: Duration,
    /// The scopes Okta granted.
    pub scope: String,
}

impl ServiceToken {
    /// The bytes of text it holds (the access token and the scope), for a cache of
    /// tokens that counts them.
    pub fn bytes(&self) -> usize {
        self.access_token.expose_secret().len() + self.scope.len()
    }
}

impl std::fmt::Debug for ServiceToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceToken")
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// What Okta answered a Global Token Revocation request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevocationAnswer {
    /// 204: the user's Okta sessions and tokens are revoked, Universal Logout triggered.
    Revoked,
    /// 404: Okta has no such user (deleted): nothing left to revoke.
    UserGone,
    /// Anything else: try again later — after `retry_after` when Okta said so (429,
    /// 503). `token_refused` (401) means a new access token is needed first.
    Failed {
        /// Okta's `Retry-After`, if any.
        retry_after: Option<Duration>,
        /// The status and Okta's error, for the admin and the audit log.
        why: String,
        /// The access token was refused.
        token_refused: bool,
    },
}

/// The longest a service-app token is reused, whatever the org says.
const MAX_TOKEN_LIFETIME_SECS: u64 = 3600;

/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

impl OidcClient {
    /// The client credentials grant at the org's token endpoint, authenticated with a
    /// client assertion signed by `key`, for `scope`.
    ///
    /// # Errors
    /// `OKTA_SERVICE_CLIENT_INVALID` (unknown client id, or the key is not one of the
    /// app's public keys), `OKTA_SERVICE_SCOPE_NOT_GRANTED`, `OKTA_SERVICE_DPOP_REQUIRED`,
    /// `OKTA_SERVICE_TOKEN_ERROR` — each with Okta's own error code and description.
    pub async fn service_token(
        &self,
        provider: &Provider,
        client_id: &str,
        key: &ServiceKey,
        scope: &str,
    ) -> Result<ServiceToken, OidcError> {
        let endpoint = provider.token_endpoint().ok_or_else(|| {
            OidcError::new(
                ErrorCode::OktaServiceTokenError,
                "the org's discovery document names no token endpoint",
            )
        })?;
        let assertion = key.client_assertion(client_id, endpoint)?;
        let form = [
            ("grant_type", "client_credentials"),
            ("scope", scope),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion.as_str()),
        ];
        let unreachable = |e: reqwest::Error| {
            OidcError::new(
                ErrorCode::OktaServiceTokenError,
                format!("Okta's token endpoint {endpoint} cannot be reached: {e}"),
            )
        };
        let response = self
            .http()
            .post(endpoint)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        let body = self
            .http()
            .read_bounded(
                response,
                endpoint,
                ErrorCode::OktaServiceTokenError,
                "token response",
            )
            .await?;
        let answer: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        if !status.is_success() {
            return Err(token_refusal(status.as_u16(), &answer, client_id));
        }
        let Some(access_token) = answer
            .get("access_token")
            .and_then(serde_json::Value::as_str)
        else {
            return Err(OidcError::new(
                ErrorCode::OktaServiceTokenError,
                "Okta's token response has no access_token",
            ));
        };
        let granted = answer
            .get("scope")
            .and_then(serde_json::Value::as_str)
            .unwrap_or(scope)
            .to_owned();
        if !granted.split(' ').any(|s| s == scope) {
            return Err(OidcError::new(
                ErrorCode::OktaServiceScopeNotGranted,
                format!(
                    "Okta issued a token without the scope {scope} (granted: `{granted}`); \
                     grant {scope} on the service app's Okta API Scopes tab"
                ),
            ));
        }
        Ok(ServiceToken {
            access_token: SecretText::new(access_token),
            // Okta's org tokens live an hour; a larger claim is not believed.
            expires_in: Duration::from_secs(
                answer
                    .get("expires_in")
                    .and_then(serde_json::Value::as_u64)
                    .unwrap_or(300)
                    .min(MAX_TOKEN_LIFETIME_SECS),
            ),
            scope: granted,
        })
    }

    /// Asks `org` to revoke every session and token of the Okta user `okta_user_id` (the
    /// `opaque` subject format: an Okta user id).
    pub async fn revoke_okta_user(
        &self,
        org: &OrgUrl,
        token: &ServiceToken,
        okta_user_id: &str,
    ) -> RevocationAnswer {
        let url = format!("{}{GLOBAL_TOKEN_REVOCATION_PATH}", org.as_str());
        let body = serde_json::json!({"sub_id": {"format": "opaque", "id": okta_user_id}});
        let sent = self
            .http()
            .post(&url)
            .bearer_auth(token.access_token.expose_secret())
            .header(reqwest::header::ACCEPT, "application/json")
            .json(&body)
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(e) => {
                return RevocationAnswer::Failed {
                    retry_after: None,
                    why: format!("{url} cannot be reached: {e}"),
                    token_refused: false,
                };
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(|secs| Duration::from_secs(secs).min(MAX_RETRY_AFTER));
        match status {
            200..=299 => RevocationAnswer::Revoked,
            404 => RevocationAnswer::UserGone,
            _ => {
                let detail = self
                    .http()
                    .read_bounded(response, &url, ErrorCode::OktaServiceTokenError, "answer")
                    .await
                    .ok()
                    .and_then(|body| serde_json::from_slice::<serde_json::Value>(&body).ok())
                    .map(|answer| okta_error(&answer))
                    .unwrap_or_default();
                RevocationAnswer::Failed {
                    retry_after,
                    why: format!("Okta answered HTTP {status}{detail}"),
                    token_refused: status == 401,
                }
            }
        }
    }
}

/// Okta's error in an answer, as ` (code: summary)`: OAuth's `error`/`error_description`
/// or the management API's `errorCode`/`errorSummary`.
fn okta_error(answer: &serde_json::Value) -> String {
    let code = answer
        .get("error")
        .and_then(serde_json::Value::as_str)
        .or(answer.get("errorCode").and_then(serde_json::Value::as_str));
    let text = answer
        .get("error_description")
        .and_then(serde_json::Value::as_str)
        .or(answer
            .get("errorSummary")
            .and_then(serde_json::Value::as_str));
    match (code, text) {
        (Some(code), Some(text)) => format!(" ({code}: {text})"),
        (Some(code), None) => format!(" ({code})"),
        (None, Some(text)) => format!(" ({text})"),
        (None, None) => String::new(),
    }
}

/// What a refused token request means for the admin setting it up.
fn token_refusal(status: u16, answer: &serde_json::Value, client_id: &str) -> OidcError {
    let okta = okta_error(answer);
    let (code, fix) = match answer.get("error").and_then(serde_json::Value::as_str) {
        Some("invalid_client" | "unauthorized_client") => (
            ErrorCode::OktaServiceClientInvalid,
            format!(
                "check that `{client_id}` is the Client ID of an API Services app of this org, \
                 that its client authentication is Public key / Private key, and that Spark's \
                 public key (key id shown on this page) is one of its public keys"
            ),
        ),
        Some("invalid_scope") => (
            ErrorCode::OktaServiceScopeNotGranted,
            format!("grant {UNIVERSAL_LOGOUT_SCOPE} on the service app's Okta API Scopes tab"),
        ),
        Some("invalid_dpop_proof" | "use_dpop_nonce") => (
            ErrorCode::OktaServiceDpopRequired,
            "clear Require Demonstrating Proof of Possession (DPoP) header in token requests \
             in the service app's General Settings"
                .to_owned(),
        ),
        _ => (
            ErrorCode::OktaServiceTokenError,
            "see Okta's error above".to_owned(),
        ),
    };
    OidcError::new(
        code,
        format!("Okta refused Spark's token request with HTTP {status}{okta}: {fix}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_survives_its_pem_and_signs_assertions_its_public_key_verifies() {
        let key = ServiceKey::generate().unwrap();
        let again = ServiceKey::from_pem(key.private_pem().clone()).unwrap();
        assert_eq!(again.key_id(), key.key_id(), "the thumbprint names the key");
        let jwk = key.public_jwk();
        assert_eq!(jwk["kty"], "RSA");
        assert_eq!(jwk["kid"], key.key_id());
        assert_eq!(jwk["alg"], "RS256");
        assert!(jwk.get("d").is_none(), "no private member: {jwk}");
        assert!(!format!("{key:?}").contains("PRIVATE"));

        let assertion = again
            .client_assertion("0oa-service", "https://acme.okta.com/oauth2/v1/token")
            .unwrap();
        let (input, signature) = assertion.rsplit_once('.').unwrap();
        let public: openidconnect::core::CoreJsonWebKey = serde_json::from_value(jwk).unwrap();
        use openidconnect::JsonWebKey as _;
        public
            .verify_signature(
                &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                input.as_bytes(),
                &URL_SAFE_NO_PAD.decode(signature).unwrap(),
            )
            .unwrap();
        let claims: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(input.split('.').nth(1).unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(claims["iss"], "0oa-service");
        assert_eq!(claims["sub"], "0oa-service");
        assert_eq!(claims["aud"], "https://acme.okta.com/oauth2/v1/token");
        assert!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap() <= 300);
    }

    #[test]
    fn refusals_say_what_is_missing_with_oktas_code() {
        let refusal = |error: &str| {
            token_refusal(
                400,
                &serde_json::json!({"error": error, "error_description": "from Okta"}),
                "0oa1",
            )
        };
        let scope = refusal("invalid_scope");
        assert_eq!(scope.code(), ErrorCode::OktaServiceScopeNotGranted);
        assert!(
            scope.message().contains("(invalid_scope: from Okta)"),
            "{scope}"
        );
        assert!(scope.message().contains(UNIVERSAL_LOGOUT_SCOPE));
        assert_eq!(
            refusal("invalid_client").code(),
            ErrorCode::OktaServiceClientInvalid
        );
        assert_eq!(
            refusal("invalid_dpop_proof").code(),
            ErrorCode::OktaServiceDpopRequired
        );
        assert_eq!(
            refusal("server_error").code(),
            ErrorCode::OktaServiceTokenError
        );
        assert_eq!(
            okta_error(&serde_json::json!({"errorCode": "E0000006", "errorSummary": "no"})),
            " (E0000006: no)"
        );
    }
}
