//! Fuzz target for what an Okta Universal Logout request brings auth-gateway: whatever
//! the bytes, read as the request body (`oidc_client::LogoutSubjectId::from_json`) or as
//! the bearer token (`oidc_client::LogoutToken::parse`), reading must not panic, and:
//!
//! - an accepted body names one subject of a served format: `iss_sub` with a non-empty
//!   `iss` and `sub`, or `email` with an `@`; no value has a control character; the body
//!   was at most `MAX_LOGOUT_BODY_BYTES`; every refusal is `LOGOUT_REQUEST_INVALID` with
//!   a message;
//! - an accepted token was at most `MAX_LOGOUT_TOKEN_BYTES`, has three parts and a
//!   non-empty issuer and client id; every refusal is `LOGOUT_TOKEN_INVALID` with a
//!   message.
//!
//! Run: `cargo xtask fuzz universal_logout [SECONDS]`

#![no_main]

use libfuzzer_sys::fuzz_target;
use oidc_client::{
    ErrorCode, LogoutSubjectId, LogoutToken, MAX_LOGOUT_BODY_BYTES, MAX_LOGOUT_TOKEN_BYTES,
};

fn clean(value: &str) -> bool {
    !value.is_empty() && !value.chars().any(char::is_control)
}

fuzz_target!(|data: &[u8]| {
    match LogoutSubjectId::from_json(data) {
        Ok(subject) => {
            assert!(data.len() <= MAX_LOGOUT_BODY_BYTES);
            match &subject {
                LogoutSubjectId::IssSub { iss, sub } => {
                    assert!(clean(iss) && clean(sub), "{subject:?}");
                }
                LogoutSubjectId::Email(email) => {
                    assert!(clean(email) && email.contains('@'), "{subject:?}");
                }
            }
        }
        Err(error) => {
            assert_eq!(error.code(), ErrorCode::LogoutRequestInvalid, "{error:?}");
            assert!(!error.message().is_empty());
        }
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match LogoutToken::parse(text) {
        Ok(token) => {
            assert!(text.len() <= MAX_LOGOUT_TOKEN_BYTES);
            assert_eq!(text.split('.').count(), 3, "{text:?}");
            assert!(!token.issuer().is_empty() && !token.client_id().is_empty());
        }
        Err(error) => {
            assert_eq!(error.code(), ErrorCode::LogoutTokenInvalid, "{error:?}");
            assert!(!error.message().is_empty());
        }
    }
});
