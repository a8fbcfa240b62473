//! Fuzz target for the sign-in parameters auth-gateway reads from browsers and Okta:
//! whatever the bytes, read as the query string or form body of `/api/OktaAuth/initiate`
//! (third-party-initiated login), the query string of `/api/OktaAuth/callback`, a
//! `return_to`, a `login_hint` or a `target_link_uri`, parsing must not panic, and:
//!
//! - a `return_to` kept is the input itself, a path on the workspace: one leading `/`
//!   (never `//`), no `\`, visible ASCII only, at most `MAX_RETURN_TO` bytes;
//! - a `login_hint` kept is the trimmed input, non-empty, at most `MAX_LOGIN_HINT`
//!   characters, no control characters;
//! - an accepted initiate request has an `iss` that is a normalised https origin (http
//!   only on loopback when allowed) which parses back to itself, and a `target_link_uri`
//!   that is an absolute http(s) URL; a `target_link_uri` on the workspace's origin gives
//!   a `return_to` that obeys the rules above and is the URL's path and query;
//! - an accepted callback keeps each value within 4,096 bytes; every refusal carries one
//!   of oidc-client's stable error codes;
//! - the gateway's own parameter reader (`auth_gateway::params`, every query string and
//!   form body of the workspace and admin routes) keeps no value over 4,096 bytes and no
//!   repeated name, and a repeated name is always refused.
//!
//! Run: `cargo xtask fuzz sign_in_params [SECONDS]`

#![no_main]

use auth_gateway::{
    MAX_LOGIN_HINT, MAX_PARAM, MAX_RETURN_TO, login_hint, params, return_to, target_return_to,
};
use libfuzzer_sys::fuzz_target;
use oidc_client::{Callback, ERROR_CODES, ErrorCode, InitiateLogin, OidcError, OrgUrl, UrlPolicy};
use url::Url;

/// The longest callback value oidc-client accepts (private to oidc-client's callback).
const MAX_CALLBACK_VALUE: usize = 4_096;

fn assert_return_to(path: &str, context: &str) {
    assert!(
        path.starts_with('/') && !path.starts_with("//"),
        "{context}: return_to {path:?} is not a path on the workspace"
    );
    assert!(!path.contains('\\'), "{context}: return_to {path:?}");
    assert!(
        path.bytes().all(|b| b.is_ascii_graphic()),
        "{context}: return_to {path:?}"
    );
    assert!(path.len() <= MAX_RETURN_TO, "{context}: return_to too long");
}

fn assert_login_hint(hint: &str, context: &str) {
    assert!(!hint.is_empty(), "{context}: empty login_hint kept");
    assert_eq!(hint, hint.trim(), "{context}: login_hint not trimmed");
    assert!(
        hint.chars().count() <= MAX_LOGIN_HINT,
        "{context}: login_hint too long"
    );
    assert!(
        !hint.chars().any(char::is_control),
        "{context}: login_hint {hint:?} has control characters"
    );
}

fn assert_known_code(error: &OidcError, context: &str) {
    assert!(
        ERROR_CODES.contains(&error.code().as_str()),
        "{context}: {error:?}"
    );
    assert!(!error.message().is_empty(), "{context}: {error:?}");
}

fn check_return_to_rules(text: &str) {
    if let Some(kept) = return_to(text) {
        assert_eq!(kept, text, "return_to changes what it keeps");
        assert_return_to(&kept, text);
    }
    if let Some(hint) = login_hint(Some(text)) {
        assert_eq!(hint, text.trim(), "{text:?}");
        assert_login_hint(&hint, text);
    }
}

fn check_target(target: &Url, context: &str) {
    // Its own origin is the one origin on which it can be honoured.
    let origin = target.origin().ascii_serialization();
    if let Some(path) = target_return_to(target, &origin) {
        assert_return_to(&path, context);
        let expected = match target.query() {
            Some(query) => format!("{}?{query}", target.path()),
            None => target.path().to_owned(),
        };
        assert_eq!(path, expected, "{context}");
    }
    for other in [
        "https://acme.spark.work",
        "http://acme.localhost:8080",
        "null",
    ] {
        if other != origin {
            assert_eq!(
                target_return_to(target, other),
                None,
                "{context}: a target on {origin} honoured for {other}"
            );
        }
    }
}

fn check_initiate(text: &str, policy: UrlPolicy) {
    match InitiateLogin::parse(text, policy) {
        Ok(initiate) => {
            let iss = initiate.iss.as_str();
            let secure = iss.starts_with("https://");
            assert!(
                secure || (policy.allow_insecure_http && iss.starts_with("http://")),
                "{text:?}: iss {iss}"
            );
            assert!(!iss.ends_with('/'), "{text:?}: iss {iss}");
            assert_eq!(
                OrgUrl::parse(iss, policy).as_ref().map(OrgUrl::as_str),
                Ok(iss),
                "{text:?}: the normalised iss does not parse back to itself"
            );
            if let Some(hint) = &initiate.login_hint {
                assert_eq!(hint, hint.trim(), "{text:?}");
                assert!(!hint.is_empty() && !hint.chars().any(char::is_control));
                if let Some(kept) = login_hint(Some(hint)) {
                    assert_login_hint(&kept, text);
                }
            }
            if let Some(target) = &initiate.target_link_uri {
                assert!(matches!(target.scheme(), "http" | "https"), "{text:?}");
                check_target(target, text);
            }
        }
        Err(error) => assert_known_code(&error, text),
    }
}

fn check_params(text: &str) {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(text.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    match params(text) {
        Ok(read) => {
            assert_eq!(read.len(), pairs.len(), "{text:?}: a repeated name was kept");
            for (name, value) in &pairs {
                assert_eq!(read.get(name), Some(value), "{text:?}");
                assert!(value.len() <= MAX_PARAM, "{text:?}: over-long value kept");
            }
        }
        Err(error) => assert!(!error.0.is_empty(), "{text:?}"),
    }
}

fn check_callback(text: &str) {
    match Callback::from_query(text) {
        Ok(callback) => {
            for value in [
                &callback.state,
                &callback.code,
                &callback.error,
                &callback.error_description,
                &callback.iss,
            ]
            .into_iter()
            .flatten()
            {
                assert!(value.len() <= MAX_CALLBACK_VALUE, "{text:?}");
            }
            for iss_required in [false, true] {
                match callback.code_for("https://acme.okta.com", iss_required) {
                    Ok(code) => {
                        assert!(!code.is_empty(), "{text:?}");
                        assert!(callback.error.is_none(), "{text:?}");
                        if iss_required {
                            assert!(callback.iss.is_some(), "{text:?}: no iss accepted");
                        }
                    }
                    Err(error) => assert_known_code(&error, text),
                }
            }
        }
        Err(error) => {
            assert_eq!(error.code(), ErrorCode::OktaCallbackInvalid, "{text:?}");
            assert_known_code(&error, text);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    // The gateway refuses a form body that is not UTF-8; query strings are text.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    check_return_to_rules(text);
    check_initiate(text, UrlPolicy::STRICT);
    check_initiate(text, UrlPolicy::INSECURE_LOOPBACK);
    check_callback(text);
    check_params(text);
    if let Ok(target) = Url::parse(text) {
        check_target(&target, text);
    }
});
