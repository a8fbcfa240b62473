//! The one error type, [`OidcError`], and its stable machine codes ([`ErrorCode`]).
//!
//! Every message is written for the Okta admin who has to fix it (or, for a sign-in, for
//! the employee who reads the error page): what went wrong and what to change. Messages
//! never contain a secret, a code, a token or a PKCE verifier.

use std::fmt;

/// A stable machine code for each kind of failure: error pages, logs, metrics and the
/// troubleshooting table in `docs/` use it. Codes never change meaning; new ones may be
/// added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The Okta org URL is not a URL of the right shape.
    OktaOrgUrlInvalid,
    /// The Okta org URL is `http` where only `https` is allowed.
    OktaOrgUrlInsecure,
    /// The Okta org URL is the admin console URL (`acme-admin.okta.com`).
    OktaOrgUrlAdmin,
    /// The Okta org URL is on a host Okta does not operate (a custom URL domain) and the
    /// Spark team has not approved it for this workspace.
    OktaCustomDomainNotApproved,
    /// The org's discovery document could not be fetched.
    OktaDiscoveryUnreachable,
    /// The discovery document is not a valid OpenID Provider configuration.
    OktaDiscoveryInvalid,
    /// The discovery document's `issuer` is not the org URL.
    OktaDiscoveryIssuerMismatch,
    /// The org's signing keys (JWKS) could not be fetched or read.
    OktaJwksUnavailable,
    /// Okta refused the sign-in: the user is not assigned to the app (`access_denied`).
    OktaAccessDenied,
    /// Okta answered the authorization request with another error.
    OktaAuthorizationError,
    /// The callback carries neither a code nor an error.
    OktaCallbackInvalid,
    /// The authorization response names another issuer than the sign-in's org, or names
    /// none although the org said it always does (RFC 9207).
    OktaResponseIssuerMismatch,
    /// Okta refused the client id or secret at the token endpoint (`invalid_client`).
    OktaInvalidClient,
    /// Okta refused the authorization code (expired, used, or the PKCE verifier differs).
    OktaInvalidGrant,
    /// The token endpoint failed in another way (unreachable, other error).
    OktaTokenError,
    /// The token response has no ID token.
    IdTokenMissing,
    /// The ID token failed verification (signature, algorithm, key, shape).
    IdTokenInvalid,
    /// The ID token was issued by another issuer.
    IdTokenIssuerMismatch,
    /// The ID token is for another client.
    IdTokenAudienceMismatch,
    /// The ID token has expired or was issued in the future.
    IdTokenExpired,
    /// The ID token's nonce is not the one this sign-in sent.
    IdTokenNonceMismatch,
    /// Neither the ID token nor userinfo names an email.
    EmailMissing,
    /// Okta says the email is not verified.
    EmailNotVerified,
    /// The userinfo endpoint failed.
    OktaUserinfoFailed,
    /// A Universal Logout request's token is not a JWT Okta signed for Spark: malformed,
    /// another type or algorithm, a key the org does not publish, a bad signature, or
    /// a claim missing.
    LogoutTokenInvalid,
    /// A Universal Logout request's token has expired, is not yet valid, or claims a
    /// lifetime far longer than Okta gives one.
    LogoutTokenExpired,
    /// A Universal Logout request's token is for another endpoint (`aud`).
    LogoutTokenAudienceMismatch,
    /// A Universal Logout request's body is not a subject identifier Spark understands.
    LogoutRequestInvalid,
    /// Okta refused the service app's token request: unknown client id, or Spark's key
    /// is not one of the app's public keys.
    OktaServiceClientInvalid,
    /// The service app has not been granted the Okta API scope Spark asks for.
    OktaServiceScopeNotGranted,
    /// The service app requires DPoP-bound tokens, which Spark does not send.
    OktaServiceDpopRequired,
    /// The service app's token request failed in another way.
    OktaServiceTokenError,
    /// A third-party-initiated login request is malformed (no `iss`, bad values).
    InitiateLoginInvalid,
    /// This software's own configuration or environment is at fault (redirect URI,
    /// HTTP client, randomness).
    OidcConfigInvalid,
}

impl ErrorCode {
    /// Every code, in declaration order.
    pub const ALL: [ErrorCode; 34] = [
        ErrorCode::OktaOrgUrlInvalid,
        ErrorCode::OktaOrgUrlInsecure,
        ErrorCode::OktaOrgUrlAdmin,
        ErrorCode::OktaCustomDomainNotApproved,
        ErrorCode::OktaDiscoveryUnreachable,
        ErrorCode::OktaDiscoveryInvalid,
        ErrorCode::OktaDiscoveryIssuerMismatch,
        ErrorCode::OktaJwksUnavailable,
        ErrorCode::OktaAccessDenied,
        ErrorCode::OktaAuthorizationError,
        ErrorCode::OktaCallbackInvalid,
        ErrorCode::OktaResponseIssuerMismatch,
        ErrorCode::OktaInvalidClient,
        ErrorCode::OktaInvalidGrant,
        ErrorCode::OktaTokenError,
        ErrorCode::IdTokenMissing,
        ErrorCode::IdTokenInvalid,
        ErrorCode::IdTokenIssuerMismatch,
        ErrorCode::IdTokenAudienceMismatch,
        ErrorCode::IdTokenExpired,
        ErrorCode::IdTokenNonceMismatch,
        ErrorCode::EmailMissing,
        ErrorCode::EmailNotVerified,
        ErrorCode::OktaUserinfoFailed,
        ErrorCode::LogoutTokenInvalid,
        ErrorCode::LogoutTokenExpired,
        ErrorCode::LogoutTokenAudienceMismatch,
        ErrorCode::LogoutRequestInvalid,
        ErrorCode::OktaServiceClientInvalid,
        ErrorCode::OktaServiceScopeNotGranted,
        ErrorCode::OktaServiceDpopRequired,
        ErrorCode::OktaServiceTokenError,
        ErrorCode::InitiateLoginInvalid,
        ErrorCode::OidcConfigInvalid,
    ];

    /// The code as text (`OKTA_ORG_URL_ADMIN`).
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::OktaOrgUrlInvalid => "OKTA_ORG_URL_INVALID",
            ErrorCode::OktaOrgUrlInsecure => "OKTA_ORG_URL_INSECURE",
            ErrorCode::OktaOrgUrlAdmin => "OKTA_ORG_URL_ADMIN",
            ErrorCode::OktaCustomDomainNotApproved => "OKTA_CUSTOM_DOMAIN_NOT_APPROVED",
            ErrorCode::OktaDiscoveryUnreachable => "OKTA_DISCOVERY_UNREACHABLE",
            ErrorCode::OktaDiscoveryInvalid => "OKTA_DISCOVERY_INVALID",
            ErrorCode::OktaDiscoveryIssuerMismatch => "OKTA_DISCOVERY_ISSUER_MISMATCH",
            ErrorCode::OktaJwksUnavailable => "OKTA_JWKS_UNAVAILABLE",
            ErrorCode::OktaAccessDenied => "OKTA_ACCESS_DENIED",
            ErrorCode::OktaAuthorizationError => "OKTA_AUTHORIZATION_ERROR",
            ErrorCode::OktaCallbackInvalid => "OKTA_CALLBACK_INVALID",
            ErrorCode::OktaResponseIssuerMismatch => "OKTA_RESPONSE_ISSUER_MISMATCH",
            ErrorCode::OktaInvalidClient => "OKTA_INVALID_CLIENT",
            ErrorCode::OktaInvalidGrant => "OKTA_INVALID_GRANT",
            ErrorCode::OktaTokenError => "OKTA_TOKEN_ERROR",
            ErrorCode::IdTokenMissing => "ID_TOKEN_MISSING",
            ErrorCode::IdTokenInvalid => "ID_TOKEN_INVALID",
            ErrorCode::IdTokenIssuerMismatch => "ID_TOKEN_ISSUER_MISMATCH",
            ErrorCode::IdTokenAudienceMismatch => "ID_TOKEN_AUDIENCE_MISMATCH",
            ErrorCode::IdTokenExpired => "ID_TOKEN_EXPIRED",
            ErrorCode::IdTokenNonceMismatch => "ID_TOKEN_NONCE_MISMATCH",
            ErrorCode::EmailMissing => "EMAIL_MISSING",
            ErrorCode::EmailNotVerified => "EMAIL_NOT_VERIFIED",
            ErrorCode::OktaUserinfoFailed => "OKTA_USERINFO_FAILED",
            ErrorCode::LogoutTokenInvalid => "LOGOUT_TOKEN_INVALID",
            ErrorCode::LogoutTokenExpired => "LOGOUT_TOKEN_EXPIRED",
            ErrorCode::LogoutTokenAudienceMismatch => "LOGOUT_TOKEN_AUDIENCE_MISMATCH",
            ErrorCode::LogoutRequestInvalid => "LOGOUT_REQUEST_INVALID",
            ErrorCode::OktaServiceClientInvalid => "OKTA_SERVICE_CLIENT_INVALID",
            ErrorCode::OktaServiceScopeNotGranted => "OKTA_SERVICE_SCOPE_NOT_GRANTED",
            ErrorCode::OktaServiceDpopRequired => "OKTA_SERVICE_DPOP_REQUIRED",
            ErrorCode::OktaServiceTokenError => "OKTA_SERVICE_TOKEN_ERROR",
            ErrorCode::InitiateLoginInvalid => "INITIATE_LOGIN_INVALID",
            ErrorCode::OidcConfigInvalid => "OIDC_CONFIG_INVALID",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every error code as text, in [`ErrorCode::ALL`] order, for checking that the
/// troubleshooting docs cover them all.
pub const ERROR_CODES: [&str; ErrorCode::ALL.len()] = [
    "OKTA_ORG_URL_INVALID",
    "OKTA_ORG_URL_INSECURE",
    "OKTA_ORG_URL_ADMIN",
    "OKTA_CUSTOM_DOMAIN_NOT_APPROVED",
    "OKTA_DISCOVERY_UNREACHABLE",
    "OKTA_DISCOVERY_INVALID",
    "OKTA_DISCOVERY_ISSUER_MISMATCH",
    "OKTA_JWKS_UNAVAILABLE",
    "OKTA_ACCESS_DENIED",
    "OKTA_AUTHORIZATION_ERROR",
    "OKTA_CALLBACK_INVALID",
    "OKTA_RESPONSE_ISSUER_MISMATCH",
    "OKTA_INVALID_CLIENT",
    "OKTA_INVALID_GRANT",
    "OKTA_TOKEN_ERROR",
    "ID_TOKEN_MISSING",
    "ID_TOKEN_INVALID",
    "ID_TOKEN_ISSUER_MISMATCH",
    "ID_TOKEN_AUDIENCE_MISMATCH",
    "ID_TOKEN_EXPIRED",
    "ID_TOKEN_NONCE_MISMATCH",
    "EMAIL_MISSING",
    "EMAIL_NOT_VERIFIED",
    "OKTA_USERINFO_FAILED",
    "LOGOUT_TOKEN_INVALID",
    "LOGOUT_TOKEN_EXPIRED",
    "LOGOUT_TOKEN_AUDIENCE_MISMATCH",
    "LOGOUT_REQUEST_INVALID",
    "OKTA_SERVICE_CLIENT_INVALID",
    "OKTA_SERVICE_SCOPE_NOT_GRANTED",
    "OKTA_SERVICE_DPOP_REQUIRED",
    "OKTA_SERVICE_TOKEN_ERROR",
    "INITIATE_LOGIN_INVALID",
    "OIDC_CONFIG_INVALID",
];

/// What this crate's operations fail with: a [`code`](Self::code) and a message for the
/// person who can fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct OidcError {
    code: ErrorCode,
    message: String,
}

impl OidcError {
    /// An error with this code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// The stable machine code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The message (also the `Display` form).
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// An `OIDC_CONFIG_INVALID` error: Spark's own configuration (or system) is at fault.
pub(crate) fn config_error(message: impl Into<String>) -> OidcError {
    OidcError::new(ErrorCode::OidcConfigInvalid, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_upper_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in ERROR_CODES {
            assert!(seen.insert(code), "{code} twice");
            assert!(
                code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
                "{code}"
            );
        }
        let from_enum: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(ERROR_CODES.to_vec(), from_enum);
        assert!(ERROR_CODES.contains(&"OKTA_ORG_URL_ADMIN"));
    }

    #[test]
    fn errors_expose_their_code() {
        let e = OidcError::new(ErrorCode::EmailNotVerified, "verify it");
        assert_eq!(e.code(), ErrorCode::EmailNotVerified);
        assert_eq!(e.code().to_string(), "EMAIL_NOT_VERIFIED");
        assert_eq!(e.to_string(), "verify it");
    }
}
