//! The authorization request that starts a sign-in: where to send the browser (code
//! flow, scopes `openid profile email`, `state`, `nonce`, PKCE S256, `login_hint`), and
//! what to keep on the server for the callback. No network.

use openidconnect::core::{CoreAuthenticationFlow, CoreClient};
use openidconnect::{ClientId, CsrfToken, Nonce, PkceCodeChallenge, RedirectUrl, Scope};
use token_store::{SecretKind, SecretToken};
use url::Url;

use crate::client::OidcClient;
use crate::discovery::Provider;
use crate::error::{OidcError, config_error};

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

impl OidcClient {
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
            provider.metadata().clone(),
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
}
