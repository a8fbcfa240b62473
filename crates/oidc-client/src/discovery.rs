//! OIDC discovery: an org's `/.well-known/openid-configuration`, checked (the issuer is
//! the org URL, every endpoint https), as a [`Provider`]; and the cache of discovered
//! providers, bounded by entries and by bytes.

use std::time::{Duration, Instant};

use bounded_map::BoundedMap;
use openidconnect::core::CoreProviderMetadata;

use crate::error::{ErrorCode, OidcError};
use crate::http::HttpClient;
use crate::org_url::{OrgUrl, UrlPolicy};

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

    /// The discovery document, as openidconnect reads it.
    pub(crate) fn metadata(&self) -> &CoreProviderMetadata {
        &self.metadata
    }
}

/// Fetches `{org}/.well-known/openid-configuration` and checks it: the `issuer` must
/// equal the org URL, the endpoints must be https (http on loopback when `policy`
/// allows). Returns the provider and the document's length.
///
/// # Errors
/// `OKTA_DISCOVERY_UNREACHABLE`, `OKTA_DISCOVERY_INVALID`,
/// `OKTA_DISCOVERY_ISSUER_MISMATCH`.
pub(crate) async fn discover(
    http: &HttpClient,
    policy: UrlPolicy,
    org: &OrgUrl,
) -> Result<(Provider, usize), OidcError> {
    let url = org.discovery_url();
    let document = http
        .get_json(
            &url,
            ErrorCode::OktaDiscoveryUnreachable,
            "discovery document",
        )
        .await?;
    let body = document.json;
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
        if !policy.permits(endpoint) {
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
    Ok((provider, document.bytes))
}

/// The most providers remembered; past it the cache starts over.
const MAX_PROVIDERS: usize = 10_000;

/// The most bytes of providers remembered, counted as their discovery documents' length
/// (an Okta org's is a few KiB; a longer one takes the room of several).
const MAX_PROVIDER_BYTES: usize = 64 << 20;

/// Discovered providers per org, each reused for a while after it was fetched; at most
/// [`MAX_PROVIDERS`] of them and [`MAX_PROVIDER_BYTES`].
pub(crate) struct ProviderCache {
    ttl: Duration,
    providers: BoundedMap<String, (Provider, Instant)>,
}

impl ProviderCache {
    /// An empty cache whose providers are reused for `ttl`.
    pub(crate) fn new(ttl: Duration) -> Self {
        Self::bounded(ttl, MAX_PROVIDERS, MAX_PROVIDER_BYTES)
    }

    fn bounded(ttl: Duration, max_entries: usize, max_bytes: usize) -> Self {
        Self {
            ttl,
            providers: BoundedMap::new(max_entries, max_bytes),
        }
    }

    /// The provider of `org` if it was fetched less than the ttl before `now`.
    pub(crate) fn get(&self, org: &OrgUrl, now: Instant) -> Option<Provider> {
        self.providers
            .get_with(org.as_str(), |(provider, fetched)| {
                (now.saturating_duration_since(*fetched) < self.ttl).then(|| provider.clone())
            })
            .flatten()
    }

    /// Remembers `provider`, fetched at `at` from a document of `document_bytes` bytes.
    pub(crate) fn store(&self, provider: &Provider, document_bytes: usize, at: Instant) {
        let issuer = provider.issuer();
        let bytes = document_bytes
            .saturating_add(2 * issuer.len())
            .saturating_add(std::mem::size_of::<(String, Provider, Instant)>());
        self.providers
            .insert(issuer.to_owned(), (provider.clone(), at), bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(org: &str) -> Provider {
        let org = OrgUrl::parse(org, UrlPolicy::STRICT).unwrap();
        let document = crate::testing::discovery_document(org.as_str());
        Provider {
            metadata: serde_json::from_value(document).unwrap(),
            org,
            names_issuer_in_responses: true,
        }
    }

    #[test]
    fn providers_are_reused_within_their_ttl_per_org() {
        let cache = ProviderCache::new(Duration::from_secs(900));
        let a = provider("https://a.okta.com");
        let org_a = a.org().clone();
        let org_b = provider("https://b.okta.com").org().clone();
        let t0 = Instant::now();
        assert!(cache.get(&org_a, t0).is_none());
        cache.store(&a, 4_000, t0);
        let hit = cache.get(&org_a, t0 + Duration::from_secs(899)).unwrap();
        assert_eq!(hit.issuer(), "https://a.okta.com");
        assert!(cache.get(&org_a, t0 + Duration::from_secs(900)).is_none());
        assert!(cache.get(&org_b, t0).is_none(), "per org");
    }

    #[test]
    fn the_cache_holds_its_entries_and_bytes() {
        let cache = ProviderCache::bounded(Duration::from_secs(900), 2, 20_000);
        let t0 = Instant::now();
        let orgs: Vec<Provider> = [
            "https://a.okta.com",
            "https://b.okta.com",
            "https://c.okta.com",
        ]
        .into_iter()
        .map(provider)
        .collect();
        for p in &orgs {
            cache.store(p, 4_000, t0);
            assert!(cache.providers.len() <= 2 && cache.providers.bytes() <= 20_000);
        }
        assert_eq!(cache.providers.len(), 1, "the third org started it over");
        assert!(cache.get(orgs[2].org(), t0).is_some());
        // A document far larger than an org's is not kept at all.
        cache.store(&orgs[0], 30_000, t0);
        assert!(cache.get(orgs[0].org(), t0).is_none());
        assert!(cache.providers.bytes() <= 20_000);
    }
}
