//! Spark's OpenID Connect relying party for Okta.
//!
//! # What it knows
//!
//! - **Org URL rules** ([`OrgUrl`]): https only (http on loopback when
//!   [`UrlPolicy::allow_insecure_http`]), no path, query, fragment or user name, one
//!   normalised spelling, and never the `-admin` console URL; which org URLs may be used
//!   as a provider at all ([`OrgUrl::check_trusted`]: hosts on [`OKTA_DOMAINS`], custom
//!   domains the Spark team approved, loopback in development).
//! - **Discovery** ([`OidcClient::discover`]): `{org}/.well-known/openid-configuration`,
//!   whose `issuer` must equal the org URL; a JWKS cache per issuer, refetched on an
//!   unknown `kid` at most once a minute; [`OidcClient::check_org`] (discovery and keys
//!   under one deadline) for an admin's "Test connection". The HTTP client never follows
//!   redirects, has timeouts and reads at most [`ClientOptions::max_document_bytes`] of
//!   an answer.
//! - **The authorization request** ([`OidcClient::login_request`]): code flow, scopes
//!   `openid profile email`, `state` (a `token-store` OIDC state token), `nonce` and PKCE
//!   S256 verifier of 256 random bits or more, `login_hint`, the caller's `redirect_uri`.
//! - **The callback** ([`Callback`], [`OidcClient::complete_sign_in`]): the response's
//!   issuer (RFC 9207: exact, and required when the provider advertises it), Okta's error
//!   responses as typed errors, the code exchange (client_secret_basic + PKCE), ID-token
//!   verification (RS256 signature, `iss`, `aud`, `exp`/`iat` with 2 minutes' leeway,
//!   `nonce`; never `alg: none`), the email rules (from userinfo when the ID token has
//!   none; `email_verified: false` refused).
//! - **Third-party-initiated login** ([`InitiateLogin`], OIDC Core §4).
//! - **Universal Logout** ([`LogoutToken`], [`OidcClient::verify_logout_token`],
//!   [`LogoutSubjectId`]): the request Okta sends an app's Global Token Revocation
//!   endpoint — a JWT the org signs with its ID-token keys (`typ`
//!   `global-token-revocation+jwt`, `aud` the endpoint, a `jti`), and a body naming the
//!   user by `iss_sub` or `email`.
//! - **Real-time sign-out** ([`ServiceKey`], [`OidcClient::service_token`],
//!   [`OidcClient::revoke_okta_user`]): Spark as an Okta API service app — its key pair,
//!   the client credentials grant with `private_key_jwt`, and Okta's Global Token
//!   Revocation API for a deactivated employee's Okta user.
//! - **Error codes** ([`ErrorCode`], [`ERROR_CODES`]): every failure has a stable code and
//!   a message for the Okta admin who can fix it.
//!
//! # What it does not know
//!
//! No database (the caller stores the login transaction and matches employees), no HTTP
//! server, cookies or sessions, no configuration files. It does not decide which
//! workspace a sign-in belongs to.
//!
//! ```
//! use oidc_client::{ErrorCode, OrgUrl, UrlPolicy};
//!
//! let org = OrgUrl::parse("https://Acme.okta.com/", UrlPolicy::STRICT)?;
//! assert_eq!(org.as_str(), "https://acme.okta.com");
//! assert_eq!(org.discovery_url(), "https://acme.okta.com/.well-known/openid-configuration");
//!
//! let err = OrgUrl::parse("https://acme-admin.okta.com", UrlPolicy::STRICT).unwrap_err();
//! assert_eq!(err.code(), ErrorCode::OktaOrgUrlAdmin);
//! assert!(err.to_string().contains("use https://acme.okta.com"));
//! # Ok::<(), oidc_client::OidcError>(())
//! ```

mod authorize;
mod callback;
mod client;
mod discovery;
mod error;
mod http;
mod id_token;
mod initiate;
mod jwks;
mod org_url;
mod service_app;
#[cfg(feature = "testing")]
pub mod testing;
mod universal_logout;

pub use authorize::LoginRequest;
pub use callback::Callback;
pub use client::{ClientOptions, OidcClient, OrgCheck};
pub use discovery::Provider;
pub use error::{ERROR_CODES, ErrorCode, OidcError};
pub use id_token::{ClientCredentials, VerifiedSignIn};
pub use initiate::InitiateLogin;
pub use org_url::{OKTA_DOMAINS, OrgUrl, UrlPolicy};
pub use service_app::{
    GLOBAL_TOKEN_REVOCATION_PATH, RevocationAnswer, ServiceKey, ServiceToken,
    UNIVERSAL_LOGOUT_SCOPE,
};
pub use universal_logout::{
    LOGOUT_TOKEN_TYPE, LogoutSubjectId, LogoutToken, MAX_LOGOUT_BODY_BYTES, MAX_LOGOUT_TOKEN_BYTES,
    MAX_LOGOUT_TOKEN_LIFETIME, VerifiedLogoutToken,
};
