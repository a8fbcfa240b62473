//! The relying party: an HTTP client that never follows redirects, OIDC discovery with
//! the issuer check, a JWKS cache per issuer, the authorization request, and the
//! callback's code exchange and ID-token verification.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreErrorResponseType, CoreIdToken, CoreIdTokenVerifier,
    CoreJsonWebKeySet, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    Nonce, OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, SignatureVerificationError, TokenResponse as _,
};
use token_store::sealed::SecretText;
use token_store::{SecretKind, SecretToken};
use url::Url;

use crate::error::{ErrorCode, OidcError};
use crate::org_url::{OrgUrl, UrlPolicy};

/// How the client talks HTTP.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// `http` issuers on loopback (local development and tests only).
    pub url_policy: UrlPolicy,
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time for a whole request, body included.
    pub request_timeout: Duration,
    /// How long a discovered provider configuration is reused.
    pub discovery_ttl: Duration,
    /// The least time between two JWKS fetches for one issuer when an unknown `kid`
    /// shows up (a forged `kid` must not make every sign-in refetch).
    pub jwks_refetch_interval: Duration,
    /// Allowed clock difference with Okta for `exp` and `iat`.
    pub clock_leeway: TimeDelta,
    /// The largest discovery document or key set read; a longer answer is refused
    /// without reading the rest (an Okta org's are a few KiB).
    pub max_document_bytes: usize,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            url_policy: UrlPolicy::STRICT,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(10),
            discovery_ttl: Duration::from_secs(15 * 60),
            jwks_refetch_interval: Duration::from_secs(60),
            clock_leeway: TimeDelta::minutes(2),
            max_document_bytes: 256 * 1024,
        }
    }
}

/// The OIDC client credentials of the Spark app in one Okta org.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    /// The client id.
    pub client_id: String,
    /// The client secret (redacted in `Debug`).
    pub client_secret: SecretText,
}

/// A discovered Okta org: its validated configuration.
#[derive(Debug, Clone)]
pub struct Provider {
    org: OrgUrl,
    metadata: CoreProviderMetadata,
    /// The discovery document's `authorization_response_iss_parameter_supported`
    /// (RFC 9207 §3).
    names_issuer_in_responses: bool,
}

impl Provider {
    /// The org (and issuer) URL.
    pub fn org(&self) -> &OrgUrl {
        &self.org
    }

    /// The issuer, equal to the org URL's normalised form.
    pub fn issuer(&self) -> &str {
        self.org.as_str()
    }

    /// The authorization endpoint.
    pub fn authorization_endpoint(&self) -> &str {
        self.metadata.authorization_endpoint().as_str()
    }

    /// The token endpoint, if the provider has one (discovery requires it).
    pub fn token_endpoint(&self) -> Option<&str> {
        self.metadata.token_endpoint().map(|url| url.as_str())
    }

    /// Whether the provider says it names itself (`iss`) in every authorization response
    /// (RFC 9207), so that a response without `iss` is not its own.
    pub fn names_issuer_in_responses(&self) -> bool {
        self.names_issuer_in_responses
    }
}

/// What [`OidcClient::check_org`] found: the org answers discovery and publishes signing
/// keys.
#[derive(Debug, Clone)]
pub struct OrgCheck {
    /// The discovered provider.
    pub provider: Provider,
    /// How many signing keys the org publishes.
    pub signing_keys: usize,
}

/// What starting a sign-in produces: where to send the browser, and what to keep on the
/// server for the callback (the state's hash, the nonce, the PKCE verifier).
pub struct LoginRequest {
    /// The authorization URL to redirect the browser to.
    pub url: Url,
    /// The `state` value (a `token-store` OIDC state token, 280 random bits): store its
    /// hash, never the value.
    pub state: SecretToken,
    /// The `nonce` (256 random bits), to expect in the ID token.
    pub nonce: String,
    /// The PKCE S256 code verifier (256 random bits).
    pub pkce_verifier: String,
}

impl std::fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginRequest")
            .field("url", &self.url.origin().ascii_serialization())
            .finish_non_exhaustive()
    }
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

/// The relying party. Cheap to clone (caches are shared); one per process.
#[derive(Clone)]
pub struct OidcClient {
    http: reqwest::Client,
    options: ClientOptions,
    providers: Arc<Mutex<HashMap<String, (Provider, Instant)>>>,
    jwks: Arc<JwksCache>,
}

impl std::fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcClient")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

fn config_error(message: impl Into<String>) -> OidcError {
    OidcError::new(ErrorCode::OidcConfigInvalid, message)
}

impl OidcClient {
    /// A client with these options. Its HTTP client never follows redirects and gives
    /// up after the configured timeouts.
    ///
    /// # Errors
    /// `OIDC_CONFIG_INVALID` when the HTTP client cannot be built (no TLS backend).
    pub fn new(options: ClientOptions) -> Result<Self, OidcError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .user_agent(concat!("spark-oidc-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| config_error(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            http,
            jwks: Arc::new(JwksCache::new(options.jwks_refetch_interval)),
            options,
            providers: Arc::new(Mutex::new(HashMap::new())),
        })
    }

    /// The options this client was built with.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// The HTTP client: no redirects followed, the configured timeouts.
    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Fetches `{org}/.well-known/openid-configuration` and checks it: the `issuer` must
    /// equal the org URL, the endpoints must be https (http on loopback when allowed).
    /// Always goes to the network (use it when an admin saves the configuration);
    /// [`provider`](Self::provider) reuses a recent answer.
    ///
    /// # Errors
    /// `OKTA_DISCOVERY_UNREACHABLE`, `OKTA_DISCOVERY_INVALID`,
    /// `OKTA_DISCOVERY_ISSUER_MISMATCH`.
    pub async fn discover(&self, org: &OrgUrl) -> Result<Provider, OidcError> {
        let url = org.discovery_url();
        let body = self
            .get_json(
                &url,
                ErrorCode::OktaDiscoveryUnreachable,
                "discovery document",
            )
            .await?;
        let invalid = |why: String| {
            OidcError::new(
                ErrorCode::OktaDiscoveryInvalid,
                format!("{url} is not an OpenID Connect discovery document: {why}"),
            )
        };
        let issuer = body
            .get("issuer")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| invalid("it has no `issuer`".into()))?;
        if issuer != org.as_str() {
            return Err(OidcError::new(
                ErrorCode::OktaDiscoveryIssuerMismatch,
                format!(
                    "the org at {org} says its issuer is `{issuer}`, not {org}; enter the Okta \
                     org URL exactly as the issuer, with no path (e.g. https://acme.okta.com)"
                ),
            ));
        }
        let names_issuer_in_responses = body
            .get("authorization_response_iss_parameter_supported")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false);
        let metadata: CoreProviderMetadata =
            serde_json::from_value(body).map_err(|e| invalid(e.to_string()))?;
        let endpoints = [
            Some(metadata.authorization_endpoint().url()),
            metadata.token_endpoint().map(|u| u.url()),
            Some(metadata.jwks_uri().url()),
            metadata.userinfo_endpoint().map(|u| u.url()),
        ];
        for endpoint in endpoints.into_iter().flatten() {
            if !self.options.url_policy.permits(endpoint) {
                return Err(invalid(format!("the endpoint {endpoint} is not https")));
            }
        }
        if metadata.token_endpoint().is_none() {
            return Err(invalid("it has no `token_endpoint`".into()));
        }
        let provider = Provider {
            org: org.clone(),
            metadata,
            names_issuer_in_responses,
        };
        self.providers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(org.as_str().to_owned(), (provider.clone(), Instant::now()));
        Ok(provider)
    }

    /// The org's configuration, discovered at most [`ClientOptions::discovery_ttl`] ago.
    ///
    /// # Errors
    /// As [`discover`](Self::discover).
    pub async fn provider(&self, org: &OrgUrl) -> Result<Provider, OidcError> {
        let cached = self
            .providers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(org.as_str())
            .filter(|(_, at)| at.elapsed() < self.options.discovery_ttl)
            .map(|(p, _)| p.clone());
        match cached {
            Some(provider) => Ok(provider),
            None => self.discover(org).await,
        }
    }

    /// What an admin's "Test connection" (and saving the settings) runs: discovery, then
    /// the org's signing keys, always from the network, within one
    /// [`ClientOptions::request_timeout`] for both and each answer at most
    /// [`ClientOptions::max_document_bytes`] long — so a slow or huge answer from
    /// whatever host an admin typed costs a bounded time and memory.
    ///
    /// # Errors
    /// As [`discover`](Self::discover); `OKTA_JWKS_UNAVAILABLE` when the keys cannot be
    /// fetched or read, or none is an RS256 signing key; `OKTA_DISCOVERY_UNREACHABLE`
    /// when the whole check takes too long.
    pub async fn check_org(&self, org: &OrgUrl) -> Result<OrgCheck, OidcError> {
        let check = async {
            let provider = self.discover(org).await?;
            let keys = self.fetch_jwks(&provider).await?;
            let signing_keys = keys
                .keys()
                .iter()
                .filter(|key| {
                    use openidconnect::{JsonWebKey as _, JsonWebKeyUse as _};
                    key.key_use().is_none_or(|u| u.allows_signature())
                })
                .count();
            if signing_keys == 0 {
                return Err(OidcError::new(
                    ErrorCode::OktaJwksUnavailable,
                    format!("the org at {org} publishes no signing keys"),
                ));
            }
            Ok(OrgCheck {
                provider,
                signing_keys,
            })
        };
        match tokio::time::timeout(self.options.request_timeout, check).await {
            Ok(result) => result,
            Err(_) => Err(OidcError::new(
                ErrorCode::OktaDiscoveryUnreachable,
                format!(
                    "the org at {org} did not answer discovery and its signing keys within {} \
                     seconds; check the org URL",
                    self.options.request_timeout.as_secs()
                ),
            )),
        }
    }

    /// Starts a sign-in: `response_type=code`, scopes `openid profile email`, a fresh
    /// `state`, `nonce` and PKCE S256 challenge, the `login_hint` when given, and
    /// `redirect_uri` exactly as configured. No network.
    ///
    /// # Errors
    /// `OIDC_CONFIG_INVALID` for a malformed redirect URI or a system without randomness.
    pub fn login_request(
        &self,
        provider: &Provider,
        client_id: &str,
        redirect_uri: &str,
        login_hint: Option<&str>,
    ) -> Result<LoginRequest, OidcError> {
        let redirect = RedirectUrl::new(redirect_uri.to_owned()).map_err(|e| {
            config_error(format!("the redirect URI `{redirect_uri}` is invalid: {e}"))
        })?;
        let (state, _) = SecretToken::mint(SecretKind::OidcState)
            .map_err(|e| config_error(format!("cannot mint a state value: {e}")))?;
        let nonce = Nonce::new_random_len(32);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256_len(32);
        let client = CoreClient::from_provider_metadata(
            provider.metadata.clone(),
            ClientId::new(client_id.to_owned()),
            None,
        )
        .set_redirect_uri(redirect);
        let state_text = state.expose_secret().to_owned();
        let nonce_for_request = nonce.clone();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || CsrfToken::new(state_text),
                move || nonce_for_request,
            )
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge);
        if let Some(hint) = login_hint.map(str::trim).filter(|h| !h.is_empty()) {
            request = request.add_extra_param("login_hint", hint.to_owned());
        }
        let (url, _, _) = request.url();
        Ok(LoginRequest {
            url,
            state,
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

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
            provider.metadata.clone(),
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
            .request_async(&self.http)
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
        let info: CoreUserInfoClaims = request.request_async(&self.http).await.map_err(|e| {
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
        .map_err(VerifyFailure::into_error)
    }

    /// Runs `check` with the provider's signing keys: the cached ones, fetched when there
    /// are none; when `check` finds the signing key unknown, once more with keys fetched
    /// afresh — at most once per [`ClientOptions::jwks_refetch_interval`] per issuer, so a
    /// forged `kid` cannot make every request refetch.
    pub(crate) async fn with_signing_keys<T>(
        &self,
        provider: &Provider,
        check: impl Fn(CoreJsonWebKeySet) -> Result<T, VerifyFailure>,
    ) -> Result<T, VerifyFailure> {
        let issuer = provider.issuer();
        let keys = match self.jwks.get(issuer) {
            Some(keys) => keys,
            None => self
                .fetch_jwks(provider)
                .await
                .map_err(VerifyFailure::Other)?,
        };
        match check(keys) {
            Err(VerifyFailure::UnknownKey) if self.jwks.may_refetch(issuer, Instant::now()) => {
                let keys = self
                    .fetch_jwks(provider)
                    .await
                    .map_err(VerifyFailure::Other)?;
                check(keys)
            }
            other => other,
        }
    }

    fn verify_with(
        &self,
        provider: &Provider,
        client_id: &str,
        token: &CoreIdToken,
        nonce: &str,
        keys: CoreJsonWebKeySet,
    ) -> Result<IdClaims, VerifyFailure> {
        let leeway = self.options.clock_leeway;
        let issuer = IssuerUrl::from_url(provider.org.url().clone());
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

    async fn fetch_jwks(&self, provider: &Provider) -> Result<CoreJsonWebKeySet, OidcError> {
        let url = provider.metadata.jwks_uri().url().to_string();
        let body = self
            .get_json(&url, ErrorCode::OktaJwksUnavailable, "signing keys (JWKS)")
            .await?;
        let keys: CoreJsonWebKeySet = serde_json::from_value(body).map_err(|e| {
            OidcError::new(
                ErrorCode::OktaJwksUnavailable,
                format!("the signing keys at {url} cannot be read: {e}"),
            )
        })?;
        self.jwks
            .store(provider.issuer(), keys.clone(), Instant::now());
        Ok(keys)
    }

    /// GETs a JSON document, following no redirect.
    async fn get_json(
        &self,
        url: &str,
        code: ErrorCode,
        what: &str,
    ) -> Result<serde_json::Value, OidcError> {
        let response = self
            .http
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| {
                let why = if e.is_timeout() {
                    "it did not answer in time".to_owned()
                } else if e.is_connect() {
                    "it cannot be reached (check the org URL and that the org exists)".to_owned()
                } else {
                    "the request failed".to_owned()
                };
                OidcError::new(code, format!("fetching the {what} at {url} failed: {why}"))
            })?;
        let status = response.status();
        if status.is_redirection() {
            let to = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .unwrap_or("elsewhere");
            return Err(OidcError::new(
                code,
                format!(
                    "the {what} at {url} redirects to {to}; enter the Okta org URL itself \
                     (redirects are not followed)"
                ),
            ));
        }
        if !status.is_success() {
            return Err(OidcError::new(
                code,
                format!("the {what} at {url} answered HTTP {status}; check the Okta org URL"),
            ));
        }
        let not_json = || {
            OidcError::new(
                if code == ErrorCode::OktaDiscoveryUnreachable {
                    ErrorCode::OktaDiscoveryInvalid
                } else {
                    code
                },
                format!("the {what} at {url} is not JSON; is this an Okta org URL?"),
            )
        };
        let body = self.read_bounded(response, url, code, what).await?;
        serde_json::from_slice(&body).map_err(|_| not_json())
    }

    /// A response's body, refused as soon as it is longer than
    /// [`ClientOptions::max_document_bytes`].
    pub(crate) async fn read_bounded(
        &self,
        mut response: reqwest::Response,
        url: &str,
        code: ErrorCode,
        what: &str,
    ) -> Result<Vec<u8>, OidcError> {
        let limit = self.options.max_document_bytes;
        let too_long = || {
            OidcError::new(
                code,
                format!(
                    "the {what} at {url} is longer than {} KiB, far more than an Okta org \
                     sends; check the org URL",
                    limit / 1024
                ),
            )
        };
        if response
            .content_length()
            .is_some_and(|length| length > limit as u64)
        {
            return Err(too_long());
        }
        let mut body = Vec::new();
        loop {
            let chunk = response.chunk().await.map_err(|e| {
                let why = if e.is_timeout() {
                    "it did not finish answering in time"
                } else {
                    "the answer broke off"
                };
                OidcError::new(code, format!("fetching the {what} at {url} failed: {why}"))
            })?;
            let Some(chunk) = chunk else {
                return Ok(body);
            };
            if body.len() + chunk.len() > limit {
                return Err(too_long());
            }
            body.extend_from_slice(&chunk);
        }
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

/// Why verification failed; an unknown key may be cured by refetching the keys.
pub(crate) enum VerifyFailure {
    UnknownKey,
    Other(OidcError),
}

impl VerifyFailure {
    fn into_error(self) -> OidcError {
        match self {
            VerifyFailure::UnknownKey => OidcError::new(
                ErrorCode::IdTokenInvalid,
                "the ID token is signed with a key the org does not publish",
            ),
            VerifyFailure::Other(e) => e,
        }
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

/// The signing keys per issuer, and when each was last fetched.
struct JwksCache {
    min_refetch: Duration,
    entries: Mutex<HashMap<String, (CoreJsonWebKeySet, Instant)>>,
}

impl JwksCache {
    fn new(min_refetch: Duration) -> Self {
        Self {
            min_refetch,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn get(&self, issuer: &str) -> Option<CoreJsonWebKeySet> {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(issuer)
            .map(|(keys, _)| keys.clone())
    }

    fn store(&self, issuer: &str, keys: CoreJsonWebKeySet, at: Instant) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(issuer.to_owned(), (keys, at));
    }

    /// Whether an unknown `kid` may trigger a fetch now: at most once per interval.
    fn may_refetch(&self, issuer: &str, now: Instant) -> bool {
        match self
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(issuer)
        {
            Some((_, fetched)) => now.saturating_duration_since(*fetched) >= self.min_refetch,
            None => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_refetch_at_most_once_a_minute() {
        let cache = JwksCache::new(Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(
            cache.may_refetch("https://a.okta.com", t0),
            "nothing cached yet"
        );
        cache.store("https://a.okta.com", CoreJsonWebKeySet::new(vec![]), t0);
        assert!(!cache.may_refetch("https://a.okta.com", t0 + Duration::from_secs(59)));
        assert!(cache.may_refetch("https://a.okta.com", t0 + Duration::from_secs(60)));
        assert!(cache.may_refetch("https://b.okta.com", t0), "per issuer");
        assert!(cache.get("https://a.okta.com").is_some());
        assert!(cache.get("https://b.okta.com").is_none());
    }

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
