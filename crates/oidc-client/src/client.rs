//! The relying party: [`OidcClient`] and its options. It holds the HTTP client and the
//! two caches (discovered providers, signing keys); discovery and "Test connection" are
//! here, the sign-in's steps in `authorize.rs` and `id_token.rs`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use openidconnect::core::CoreJsonWebKeySet;

use crate::discovery::{self, Provider, ProviderCache};
use crate::error::{ErrorCode, OidcError};
use crate::http::{self, HttpClient};
use crate::jwks::{self, JwksCache, VerifyFailure};
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

/// What [`OidcClient::check_org`] found: the org answers discovery and publishes signing
/// keys.
#[derive(Debug, Clone)]
pub struct OrgCheck {
    /// The discovered provider.
    pub provider: Provider,
    /// How many signing keys the org publishes.
    pub signing_keys: usize,
}

/// The relying party. Cheap to clone (caches are shared); one per process.
#[derive(Clone)]
pub struct OidcClient {
    http: HttpClient,
    options: ClientOptions,
    providers: Arc<ProviderCache>,
    jwks: Arc<JwksCache>,
}

impl std::fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcClient")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl OidcClient {
    /// A client with these options. Its HTTP client never follows redirects and gives
    /// up after the configured timeouts.
    ///
    /// # Errors
    /// `OIDC_CONFIG_INVALID` when the HTTP client cannot be built (no TLS backend).
    pub fn new(options: ClientOptions) -> Result<Self, OidcError> {
        let http = HttpClient::new(
            options.connect_timeout,
            options.request_timeout,
            options.max_document_bytes,
        )?;
        Ok(Self {
            http,
            jwks: Arc::new(JwksCache::new(options.jwks_refetch_interval)),
            providers: Arc::new(ProviderCache::new(options.discovery_ttl)),
            options,
        })
    }

    /// The options this client was built with.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// The HTTP client: no redirects followed, the configured timeouts, answers read up
    /// to [`ClientOptions::max_document_bytes`].
    pub(crate) fn http(&self) -> &HttpClient {
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
        let (provider, bytes) =
            discovery::discover(&self.http, self.options.url_policy, org).await?;
        self.providers.store(&provider, bytes, Instant::now());
        Ok(provider)
    }

    /// The org's configuration, discovered at most [`ClientOptions::discovery_ttl`] ago.
    ///
    /// # Errors
    /// As [`discover`](Self::discover).
    pub async fn provider(&self, org: &OrgUrl) -> Result<Provider, OidcError> {
        match self.providers.get(org, Instant::now()) {
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
            let keys = self.jwks.fetch_and_store(&self.http, &provider).await?;
            let signing_keys = jwks::signing_keys(&keys);
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
        http::within(self.options.request_timeout, check, || {
            OidcError::new(
                ErrorCode::OktaDiscoveryUnreachable,
                format!(
                    "the org at {org} did not answer discovery and its signing keys within {} \
                     seconds; check the org URL",
                    self.options.request_timeout.as_secs()
                ),
            )
        })
        .await
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
        self.jwks
            .with_signing_keys(&self.http, provider, check)
            .await
    }
}
