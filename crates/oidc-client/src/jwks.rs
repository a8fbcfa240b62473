//! An org's signing keys (JWKS): fetched from the provider's `jwks_uri`, cached per
//! issuer (bounded by entries and by bytes), and fetched afresh when a token names a key
//! the cache does not hold — at most once per interval, so a forged `kid` cannot make
//! every request refetch.

use std::time::{Duration, Instant};

use bounded_map::BoundedMap;
use openidconnect::core::CoreJsonWebKeySet;

use crate::discovery::Provider;
use crate::error::{ErrorCode, OidcError};
use crate::http::HttpClient;

/// Why a check against a key set failed; an unknown key may be cured by refetching the
/// keys.
pub(crate) enum VerifyFailure {
    /// No key of the set has the token's `kid`.
    UnknownKey,
    /// Any other failure: final.
    Other(OidcError),
}

/// Fetches the provider's key set; returns it and the document's length.
///
/// # Errors
/// `OKTA_JWKS_UNAVAILABLE` when the keys cannot be fetched or read.
pub(crate) async fn fetch(
    http: &HttpClient,
    provider: &Provider,
) -> Result<(CoreJsonWebKeySet, usize), OidcError> {
    let url = provider.metadata().jwks_uri().url().to_string();
    let document = http
        .get_json(&url, ErrorCode::OktaJwksUnavailable, "signing keys (JWKS)")
        .await?;
    let keys: CoreJsonWebKeySet = serde_json::from_value(document.json).map_err(|e| {
        OidcError::new(
            ErrorCode::OktaJwksUnavailable,
            format!("the signing keys at {url} cannot be read: {e}"),
        )
    })?;
    Ok((keys, document.bytes))
}

/// How many keys of `keys` may verify signatures (those with no `use`, or `sig`).
pub(crate) fn signing_keys(keys: &CoreJsonWebKeySet) -> usize {
    use openidconnect::{JsonWebKey as _, JsonWebKeyUse as _};
    keys.keys()
        .iter()
        .filter(|key| key.key_use().is_none_or(|u| u.allows_signature()))
        .count()
}

/// The most issuers whose keys are remembered; past it the cache starts over.
const MAX_ISSUERS: usize = 10_000;

/// The most bytes of keys remembered, counted as their documents' length (an Okta org's
/// key set is a few KiB).
const MAX_KEY_BYTES: usize = 32 << 20;

/// The signing keys per issuer, and when each was last fetched; at most
/// [`MAX_ISSUERS`] issuers and [`MAX_KEY_BYTES`].
pub(crate) struct JwksCache {
    min_refetch: Duration,
    entries: BoundedMap<String, (CoreJsonWebKeySet, Instant)>,
}

impl JwksCache {
    /// An empty cache that lets an unknown `kid` refetch an issuer's keys at most once
    /// per `min_refetch`.
    pub(crate) fn new(min_refetch: Duration) -> Self {
        Self::bounded(min_refetch, MAX_ISSUERS, MAX_KEY_BYTES)
    }

    fn bounded(min_refetch: Duration, max_entries: usize, max_bytes: usize) -> Self {
        Self {
            min_refetch,
            entries: BoundedMap::new(max_entries, max_bytes),
        }
    }

    /// Runs `check` with the provider's signing keys: the cached ones, fetched when
    /// there are none; when `check` finds the signing key unknown, once more with keys
    /// fetched afresh — at most once per `min_refetch` per issuer.
    pub(crate) async fn with_signing_keys<T>(
        &self,
        http: &HttpClient,
        provider: &Provider,
        check: impl Fn(CoreJsonWebKeySet) -> Result<T, VerifyFailure>,
    ) -> Result<T, VerifyFailure> {
        let issuer = provider.issuer();
        let keys = match self.get(issuer) {
            Some(keys) => keys,
            None => self
                .fetch_and_store(http, provider)
                .await
                .map_err(VerifyFailure::Other)?,
        };
        match check(keys) {
            Err(VerifyFailure::UnknownKey) if self.may_refetch(issuer, Instant::now()) => {
                let keys = self
                    .fetch_and_store(http, provider)
                    .await
                    .map_err(VerifyFailure::Other)?;
                check(keys)
            }
            other => other,
        }
    }

    /// Fetches the provider's keys from the network and remembers them.
    ///
    /// # Errors
    /// `OKTA_JWKS_UNAVAILABLE`.
    pub(crate) async fn fetch_and_store(
        &self,
        http: &HttpClient,
        provider: &Provider,
    ) -> Result<CoreJsonWebKeySet, OidcError> {
        let (keys, bytes) = fetch(http, provider).await?;
        self.store(provider.issuer(), keys.clone(), bytes, Instant::now());
        Ok(keys)
    }

    fn get(&self, issuer: &str) -> Option<CoreJsonWebKeySet> {
        self.entries.get_with(issuer, |(keys, _)| keys.clone())
    }

    fn store(&self, issuer: &str, keys: CoreJsonWebKeySet, document_bytes: usize, at: Instant) {
        let bytes = document_bytes
            .saturating_add(issuer.len())
            .saturating_add(std::mem::size_of::<(String, CoreJsonWebKeySet, Instant)>());
        self.entries.insert(issuer.to_owned(), (keys, at), bytes);
    }

    /// Whether an unknown `kid` may trigger a fetch now: at most once per interval.
    fn may_refetch(&self, issuer: &str, now: Instant) -> bool {
        self.entries
            .get_with(issuer, |(_, fetched)| {
                now.saturating_duration_since(*fetched) >= self.min_refetch
            })
            .unwrap_or(true)
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
        cache.store("https://a.okta.com", CoreJsonWebKeySet::new(vec![]), 2, t0);
        assert!(!cache.may_refetch("https://a.okta.com", t0 + Duration::from_secs(59)));
        assert!(cache.may_refetch("https://a.okta.com", t0 + Duration::from_secs(60)));
        assert!(cache.may_refetch("https://b.okta.com", t0), "per issuer");
        assert!(cache.get("https://a.okta.com").is_some());
        assert!(cache.get("https://b.okta.com").is_none());
    }

    #[test]
    fn the_cache_holds_its_issuers_and_bytes() {
        let cache = JwksCache::bounded(Duration::from_secs(60), 2, 10_000);
        let t0 = Instant::now();
        for issuer in [
            "https://a.okta.com",
            "https://b.okta.com",
            "https://c.okta.com",
        ] {
            cache.store(issuer, CoreJsonWebKeySet::new(vec![]), 2_000, t0);
            assert!(cache.entries.len() <= 2 && cache.entries.bytes() <= 10_000);
        }
        assert!(cache.get("https://a.okta.com").is_none(), "started over");
        assert!(cache.get("https://c.okta.com").is_some());
        // A key set far larger than an org's is not kept: the next token fetches again.
        cache.store(
            "https://a.okta.com",
            CoreJsonWebKeySet::new(vec![]),
            20_000,
            t0,
        );
        assert!(cache.get("https://a.okta.com").is_none());
        assert!(cache.may_refetch("https://a.okta.com", t0));
        assert!(cache.entries.bytes() <= 10_000);
    }
}
