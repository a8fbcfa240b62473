//! Okta Universal Logout, the app's side: reading and verifying the request Okta sends to
//! an app's Global Token Revocation endpoint.
//!
//! What Okta sends (Okta, *Build Universal Logout for your app*,
//! <https://developer.okta.com/docs/guides/oin-universal-logout-overview/>):
//!
//! - `Authorization: Bearer <JWT>`, the JWT signed "with the same key used for signing ID
//!   tokens", header `typ: global-token-revocation+jwt`; claims `jti` (unique), `iss` (the
//!   issuer of the org's ID tokens), `sub` (the OIDC app's client id), `aud` (the
//!   endpoint's URL, without query or fragment), `exp` (5 minutes ahead), `nbf` (5
//!   minutes ago), `iat`.
//! - A JSON body naming the user with an RFC 9493 subject identifier, `email` or
//!   `iss_sub`. Okta's guide names the member `subject`; the Global Token Revocation
//!   draft names it `sub_id` since its -03 revision
//!   (<https://datatracker.ietf.org/doc/draft-parecki-oauth-global-token-revocation/>):
//!   either is read, never both.
//!
//! [`LogoutToken::parse`] reads the token without trusting it — its issuer says whose
//! keys to verify it with — and [`OidcClient::verify_logout_token`] verifies it with the
//! org's keys (the same cache and refetch rule as ID tokens). [`LogoutSubjectId::from_json`]
//! reads the body. What the app then does (which workspaces, which sessions) is the
//! caller's.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, TimeDelta, Utc};
use openidconnect::core::{CoreJsonWebKey, CoreJsonWebKeySet, CoreJwsSigningAlgorithm};
use openidconnect::{JsonWebKey as _, JsonWebKeyUse as _};
use serde_json::{Map, Value};

use crate::client::OidcClient;
use crate::discovery::Provider;
use crate::error::{ErrorCode, OidcError};
use crate::jwks::VerifyFailure;

/// The JWT `typ` of a Universal Logout request (compared case-insensitively, with or
/// without the `application/` prefix, RFC 7515 §4.1.9). Requiring it keeps an ID token
/// of the same org, signed with the same key, from passing as a logout request.
pub const LOGOUT_TOKEN_TYPE: &str = "global-token-revocation+jwt";

/// The longest token read (Okta's are well under 2 KiB).
pub const MAX_LOGOUT_TOKEN_BYTES: usize = 8 * 1024;

/// The longest body read (a subject identifier is a few hundred bytes).
pub const MAX_LOGOUT_BODY_BYTES: usize = 4 * 1024;

/// The latest expiry accepted, from now: Okta's tokens live 5 minutes; a token that
/// claims far longer is refused (RFC 7523 §3: an `exp` unreasonably far in the future may
/// be rejected), which also bounds how long a token id must be remembered.
pub const MAX_LOGOUT_TOKEN_LIFETIME: TimeDelta = TimeDelta::hours(1);

/// The longest `jti`, `sub` and subject values accepted.
const MAX_CLAIM_CHARS: usize = 255;

/// The longest subject issuer accepted (Okta's field limits URLs to 1,024 characters).
const MAX_ISSUER_CHARS: usize = 1024;

/// The longest email (RFC 5321).
const MAX_EMAIL_CHARS: usize = 254;

fn invalid(message: impl Into<String>) -> OidcError {
    OidcError::new(ErrorCode::LogoutTokenInvalid, message)
}

/// A Universal Logout request's bearer token, read but not verified: only
/// [`issuer`](Self::issuer) and [`client_id`](Self::client_id) may be looked at before
/// [`OidcClient::verify_logout_token`], to choose whose keys verify it.
#[derive(Clone)]
pub struct LogoutToken {
    /// `header.payload`, what the signature covers.
    signing_input: String,
    signature: Vec<u8>,
    key_id: Option<String>,
    claims: Map<String, Value>,
    issuer: String,
    client_id: String,
}

impl std::fmt::Debug for LogoutToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogoutToken")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl LogoutToken {
    /// Reads a compact JWS: three base64url parts; a header with `alg: RS256` (what Okta
    /// signs ID tokens with) and the logout `typ`; a JSON object of claims with a string
    /// `iss` and `sub`.
    ///
    /// # Errors
    /// `LOGOUT_TOKEN_INVALID`, saying what is wrong.
    pub fn parse(compact: &str) -> Result<Self, OidcError> {
        if compact.len() > MAX_LOGOUT_TOKEN_BYTES {
            return Err(invalid(format!(
                "the token is longer than {} KiB",
                MAX_LOGOUT_TOKEN_BYTES / 1024
            )));
        }
        let mut parts = compact.split('.');
        let (Some(encoded_header), Some(encoded_claims), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid("the token is not a signed JWT (three parts)"));
        };
        let header = json_object(encoded_header, "header")?;
        match header.get("alg").and_then(Value::as_str) {
            Some("RS256") => {}
            Some(other) => {
                return Err(invalid(format!(
                    "the token is signed with `{other}`; Okta signs with RS256"
                )));
            }
            None => return Err(invalid("the token's header names no algorithm")),
        }
        let typ = header.get("typ").and_then(Value::as_str).unwrap_or("");
        let typ = typ.to_ascii_lowercase();
        if typ.strip_prefix("application/").unwrap_or(&typ) != LOGOUT_TOKEN_TYPE {
            return Err(invalid(format!(
                "the token's type is `{typ}`, not `{LOGOUT_TOKEN_TYPE}`: it is not a Universal \
                 Logout request"
            )));
        }
        // RFC 7515 §4.1.11: extensions named critical must be understood; Spark knows none.
        if header.contains_key("crit") {
            return Err(invalid(
                "the token names critical header extensions (`crit`)",
            ));
        }
        let key_id = match header.get("kid") {
            None => None,
            Some(Value::String(kid)) => Some(kid.clone()),
            Some(_) => return Err(invalid("the token's `kid` is not a string")),
        };
        let claims = json_object(encoded_claims, "claims")?;
        let text_claim = |name: &str| match claims.get(name) {
            Some(Value::String(value)) if !value.is_empty() && value.len() <= MAX_ISSUER_CHARS => {
                Ok(value.clone())
            }
            Some(_) => Err(invalid(format!(
                "the token's `{name}` is not a usable string"
            ))),
            None => Err(invalid(format!("the token has no `{name}`"))),
        };
        let issuer = text_claim("iss")?;
        let client_id = text_claim("sub")?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| invalid("the token's signature is not base64url"))?;
        Ok(Self {
            signing_input: format!("{encoded_header}.{encoded_claims}"),
            signature,
            key_id,
            claims,
            issuer,
            client_id,
        })
    }

    /// The `iss` claim, unverified: the org whose keys must have signed the token.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The `sub` claim, unverified: the client id of the org's app the request is for.
    pub fn client_id(&self) -> &str {
        &self.client_id
    }

    /// Checks the signature with `keys`; an unknown `kid` is [`VerifyFailure::UnknownKey`]
    /// (the org may have rotated its keys since they were fetched).
    fn check_signature(&self, keys: &CoreJsonWebKeySet) -> Result<(), VerifyFailure> {
        let usable = |key: &&CoreJsonWebKey| {
            key.key_use().is_none_or(|u| u.allows_signature())
                && self
                    .key_id
                    .as_deref()
                    .is_none_or(|kid| key.key_id().is_some_and(|k| k.as_str() == kid))
        };
        let mut candidates = keys.keys().iter().filter(usable).peekable();
        if candidates.peek().is_none() {
            return Err(VerifyFailure::UnknownKey);
        }
        let signed = candidates.any(|key| {
            key.verify_signature(
                &CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
                self.signing_input.as_bytes(),
                &self.signature,
            )
            .is_ok()
        });
        if signed {
            Ok(())
        } else {
            Err(VerifyFailure::Other(invalid(
                "the token's signature does not verify with the org's signing keys",
            )))
        }
    }

    /// The claims' checks once the signature holds.
    fn check_claims(
        &self,
        issuer: &str,
        audience: &str,
        now: DateTime<Utc>,
        leeway: TimeDelta,
    ) -> Result<VerifiedLogoutToken, OidcError> {
        if self.issuer != issuer {
            return Err(invalid(format!(
                "the token's issuer `{}` is not the org {issuer}",
                self.issuer
            )));
        }
        let audience_matches = match self.claims.get("aud") {
            Some(Value::String(aud)) => aud == audience,
            Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(audience)),
            _ => false,
        };
        if !audience_matches {
            return Err(OidcError::new(
                ErrorCode::LogoutTokenAudienceMismatch,
                format!(
                    "the token is not for this endpoint: its `aud` must be {audience}; set the \
                     Okta app's Logout endpoint URL to exactly that"
                ),
            ));
        }
        let instant = |name: &str| -> Result<Option<DateTime<Utc>>, OidcError> {
            match self.claims.get(name) {
                None => Ok(None),
                Some(value) => value
                    .as_i64()
                    .and_then(|secs| DateTime::from_timestamp(secs, 0))
                    .map(Some)
                    .ok_or_else(|| invalid(format!("the token's `{name}` is not a time"))),
            }
        };
        let expired = |why: String| OidcError::new(ErrorCode::LogoutTokenExpired, why);
        let expires_at = instant("exp")?.ok_or_else(|| invalid("the token has no `exp`"))?;
        if expires_at <= now - leeway {
            return Err(expired(format!(
                "the token expired at {expires_at}; check that the server's clock is right"
            )));
        }
        if expires_at > now + MAX_LOGOUT_TOKEN_LIFETIME + leeway {
            return Err(expired(format!(
                "the token claims to be valid until {expires_at}, far longer than Okta's 5 \
                 minutes"
            )));
        }
        for name in ["nbf", "iat"] {
            if let Some(at) = instant(name)?
                && at > now + leeway
            {
                return Err(expired(format!(
                    "the token's `{name}` is in the future ({at}); check that the server's \
                     clock is right"
                )));
            }
        }
        let token_id = match self.claims.get("jti") {
            Some(Value::String(jti))
                if !jti.is_empty() && jti.chars().count() <= MAX_CLAIM_CHARS =>
            {
                jti.clone()
            }
            Some(_) => return Err(invalid("the token's `jti` is not a usable string")),
            None => return Err(invalid("the token has no `jti`")),
        };
        Ok(VerifiedLogoutToken {
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            token_id,
            expires_at,
        })
    }
}

/// A base64url JSON object of a JWT.
fn json_object(part: &str, what: &str) -> Result<Map<String, Value>, OidcError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| invalid(format!("the token's {what} is not base64url")))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(invalid(format!("the token's {what} is not a JSON object"))),
    }
}

/// A Universal Logout token that verified: signed by the org, for this endpoint, in date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedLogoutToken {
    /// The org (issuer) that signed it.
    pub issuer: String,
    /// The client id of the org's app it is for (`sub`).
    pub client_id: String,
    /// Its unique id (`jti`): accept it once.
    pub token_id: String,
    /// When it expires: remember its id until then.
    pub expires_at: DateTime<Utc>,
}

impl OidcClient {
    /// Verifies a Universal Logout token against `provider`'s signing keys (refetched
    /// once, rate-limited, when its `kid` is unknown, as for ID tokens) and checks its
    /// claims: `iss` the provider's issuer, `aud` equal to `audience` (the endpoint's URL),
    /// `exp` ahead and not more than [`MAX_LOGOUT_TOKEN_LIFETIME`] ahead, `nbf` and `iat`
    /// not in the future (with [`ClientOptions::clock_leeway`](crate::ClientOptions)), a
    /// `jti`.
    ///
    /// # Errors
    /// `LOGOUT_TOKEN_INVALID`, `LOGOUT_TOKEN_EXPIRED`, `LOGOUT_TOKEN_AUDIENCE_MISMATCH`,
    /// `OKTA_JWKS_UNAVAILABLE`.
    pub async fn verify_logout_token(
        &self,
        provider: &Provider,
        token: &LogoutToken,
        audience: &str,
    ) -> Result<VerifiedLogoutToken, OidcError> {
        self.with_signing_keys(provider, |keys| token.check_signature(&keys))
            .await
            .map_err(|failure| match failure {
                VerifyFailure::UnknownKey => {
                    invalid("the token is signed with a key the org does not publish")
                }
                VerifyFailure::Other(e) => e,
            })?;
        token.check_claims(
            provider.issuer(),
            audience,
            Utc::now(),
            self.options().clock_leeway,
        )
    }
}

/// Who a Universal Logout request names: an RFC 9493 subject identifier of a format Spark
/// serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutSubjectId {
    /// `iss_sub`: the user `sub` of the issuer `iss` (for Okta, the org and the Okta user
    /// id).
    IssSub {
        /// The issuer, as sent.
        iss: String,
        /// The subject at that issuer.
        sub: String,
    },
    /// `email`: the user's email address, as sent.
    Email(String),
}

impl LogoutSubjectId {
    /// Reads a request body: a JSON object with exactly one member, `subject` (Okta) or
    /// `sub_id` (the draft), whose value is `{"format": "iss_sub", "iss": …, "sub": …}`
    /// or `{"format": "email", "email": …}` and nothing else.
    ///
    /// # Errors
    /// `LOGOUT_REQUEST_INVALID`, saying what is wrong — the specification's 400.
    pub fn from_json(body: &[u8]) -> Result<Self, OidcError> {
        let bad = |why: String| {
            OidcError::new(
                ErrorCode::LogoutRequestInvalid,
                format!(
                    "the request body is not a Universal Logout request: {why}; Okta sends \
                     {{\"subject\": {{\"format\": \"iss_sub\" or \"email\", …}}}}"
                ),
            )
        };
        if body.len() > MAX_LOGOUT_BODY_BYTES {
            return Err(bad(format!(
                "it is longer than {} KiB",
                MAX_LOGOUT_BODY_BYTES / 1024
            )));
        }
        let Ok(Value::Object(mut outer)) = serde_json::from_slice::<Value>(body) else {
            return Err(bad("it is not a JSON object".into()));
        };
        let subject = match (outer.remove("subject"), outer.remove("sub_id")) {
            (Some(subject), None) | (None, Some(subject)) => subject,
            (Some(_), Some(_)) => return Err(bad("it has both `subject` and `sub_id`".into())),
            (None, None) => return Err(bad("it has no `subject`".into())),
        };
        if let Some(other) = outer.keys().next() {
            return Err(bad(format!("`{other}` is not a member Spark knows")));
        }
        let Value::Object(mut subject) = subject else {
            return Err(bad("`subject` is not an object".into()));
        };
        let mut text = |name: &str, max: usize| match subject.remove(name) {
            Some(Value::String(value))
                if !value.is_empty()
                    && value.chars().count() <= max
                    && !value.chars().any(char::is_control) =>
            {
                Ok(value)
            }
            Some(_) => Err(bad(format!(
                "`{name}` must be text of 1 to {max} characters"
            ))),
            None => Err(bad(format!("`{name}` is missing"))),
        };
        let format = text("format", 32)?;
        let parsed = match format.as_str() {
            "iss_sub" => LogoutSubjectId::IssSub {
                iss: text("iss", MAX_ISSUER_CHARS)?,
                sub: text("sub", MAX_CLAIM_CHARS)?,
            },
            "email" => {
                let email = text("email", MAX_EMAIL_CHARS)?;
                if !email.contains('@') {
                    return Err(bad(format!("`{email}` is not an email address")));
                }
                LogoutSubjectId::Email(email)
            }
            other => {
                return Err(bad(format!(
                    "the subject format `{other}` is not served (use `iss_sub` or `email`)"
                )));
            }
        };
        if let Some(other) = subject.keys().next() {
            return Err(bad(format!(
                "`{other}` is not a member of a `{format}` subject"
            )));
        }
        Ok(parsed)
    }

    /// The format's name (`iss_sub` or `email`).
    pub fn format(&self) -> &'static str {
        match self {
            LogoutSubjectId::IssSub { .. } => "iss_sub",
            LogoutSubjectId::Email(_) => "email",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(json: &Value) -> String {
        URL_SAFE_NO_PAD.encode(json.to_string())
    }

    fn compact(header: &Value, claims: &Value) -> String {
        format!("{}.{}.c2ln", b64(header), b64(claims))
    }

    fn header() -> Value {
        serde_json::json!({"alg": "RS256", "typ": LOGOUT_TOKEN_TYPE, "kid": "k1"})
    }

    fn claims(now: DateTime<Utc>) -> Value {
        serde_json::json!({
            "jti": "j-1",
            "iss": "https://acme.okta.com",
            "sub": "0oa-app",
            "aud": "https://auth.spark.work/api/OktaAuth/universal-logout",
            "exp": (now + TimeDelta::minutes(5)).timestamp(),
            "nbf": (now - TimeDelta::minutes(5)).timestamp(),
            "iat": now.timestamp(),
        })
    }

    const AUD: &str = "https://auth.spark.work/api/OktaAuth/universal-logout";

    fn check(claims: &Value, now: DateTime<Utc>) -> Result<VerifiedLogoutToken, OidcError> {
        LogoutToken::parse(&compact(&header(), claims))?.check_claims(
            "https://acme.okta.com",
            AUD,
            now,
            TimeDelta::minutes(2),
        )
    }

    #[test]
    fn okta_shaped_tokens_are_read_and_their_claims_checked() {
        let now = Utc::now();
        let token = LogoutToken::parse(&compact(&header(), &claims(now))).unwrap();
        assert_eq!(token.issuer(), "https://acme.okta.com");
        assert_eq!(token.client_id(), "0oa-app");
        let verified = check(&claims(now), now).unwrap();
        assert_eq!(verified.token_id, "j-1");
        assert_eq!(verified.client_id, "0oa-app");

        let with = |name: &str, value: Value| {
            let mut c = claims(now);
            c[name] = value;
            c
        };
        let code = |c: &Value| check(c, now).unwrap_err().code();
        assert_eq!(
            code(&with("aud", "https://evil.example/x".into())),
            ErrorCode::LogoutTokenAudienceMismatch
        );
        assert!(check(&with("aud", serde_json::json!(["x", AUD])), now).is_ok());
        let past = (now - TimeDelta::minutes(3)).timestamp();
        assert_eq!(
            code(&with("exp", past.into())),
            ErrorCode::LogoutTokenExpired
        );
        let within_leeway = (now - TimeDelta::seconds(90)).timestamp();
        assert!(check(&with("exp", within_leeway.into()), now).is_ok());
        let far = (now + TimeDelta::days(30)).timestamp();
        assert_eq!(
            code(&with("exp", far.into())),
            ErrorCode::LogoutTokenExpired
        );
        let future = (now + TimeDelta::minutes(10)).timestamp();
        assert_eq!(
            code(&with("iat", future.into())),
            ErrorCode::LogoutTokenExpired
        );
        assert_eq!(
            code(&with("nbf", future.into())),
            ErrorCode::LogoutTokenExpired
        );
        assert_eq!(code(&with("jti", "".into())), ErrorCode::LogoutTokenInvalid);
        assert_eq!(
            code(&with("exp", "soon".into())),
            ErrorCode::LogoutTokenInvalid
        );
        let mut no_jti = claims(now);
        no_jti.as_object_mut().unwrap().remove("jti");
        assert_eq!(code(&no_jti), ErrorCode::LogoutTokenInvalid);
        let other_issuer = LogoutToken::parse(&compact(&header(), &claims(now)))
            .unwrap()
            .check_claims("https://globex.okta.com", AUD, now, TimeDelta::minutes(2));
        assert_eq!(
            other_issuer.unwrap_err().code(),
            ErrorCode::LogoutTokenInvalid
        );
    }

    #[test]
    fn tokens_of_another_kind_are_refused_before_any_key_is_fetched() {
        let now = Utc::now();
        let parse = |h: Value| LogoutToken::parse(&compact(&h, &claims(now)));
        // An ID token of the same org (signed with the same key) has another type.
        let id_token = parse(serde_json::json!({"alg": "RS256", "kid": "k1"})).unwrap_err();
        assert!(id_token.message().contains(LOGOUT_TOKEN_TYPE), "{id_token}");
        assert!(parse(serde_json::json!({"alg": "none", "typ": LOGOUT_TOKEN_TYPE})).is_err());
        assert!(parse(serde_json::json!({"alg": "HS256", "typ": LOGOUT_TOKEN_TYPE})).is_err());
        let critical =
            serde_json::json!({"alg": "RS256", "typ": LOGOUT_TOKEN_TYPE, "crit": ["exp"]});
        assert!(parse(critical).is_err());
        assert!(
            parse(serde_json::json!({"alg": "RS256", "typ": "application/Global-Token-Revocation+JWT"}))
                .is_ok()
        );
        for garbage in [
            "",
            "a.b",
            "a.b.c.d",
            "!!.??.##",
            &"x".repeat(MAX_LOGOUT_TOKEN_BYTES + 1),
        ] {
            let e = LogoutToken::parse(garbage).unwrap_err();
            assert_eq!(e.code(), ErrorCode::LogoutTokenInvalid, "{garbage:.20}");
        }
    }

    #[test]
    fn bodies_name_one_subject_of_a_served_format() {
        let parse = |body: &str| LogoutSubjectId::from_json(body.as_bytes());
        assert_eq!(
            parse(r#"{"subject":{"format":"email","email":"ada@acme.com"}}"#).unwrap(),
            LogoutSubjectId::Email("ada@acme.com".into())
        );
        assert_eq!(
            parse(r#"{"sub_id":{"format":"iss_sub","iss":"https://acme.okta.com/","sub":"00u1"}}"#)
                .unwrap(),
            LogoutSubjectId::IssSub {
                iss: "https://acme.okta.com/".into(),
                sub: "00u1".into()
            }
        );
        for refused in [
            "",
            "[]",
            "{}",
            r#"{"subject":{"format":"opaque","id":"x"}}"#,
            r#"{"subject":{"format":"email"}}"#,
            r#"{"subject":{"format":"email","email":"not-an-email"}}"#,
            r#"{"subject":{"format":"email","email":"a@b","extra":1}}"#,
            r#"{"subject":{"format":"iss_sub","iss":"x"}}"#,
            r#"{"subject":{"format":"email","email":"a@b"},"sub_id":{"format":"email","email":"a@b"}}"#,
            r#"{"subject":{"format":"email","email":"a@b"},"more":true}"#,
            r#"{"subject":"ada@acme.com"}"#,
            r#"{"subject":{"format":"email","email":"a\u0000@b"}}"#,
        ] {
            let e = parse(refused).unwrap_err();
            assert_eq!(e.code(), ErrorCode::LogoutRequestInvalid, "{refused}");
        }
        let long = format!(
            r#"{{"subject":{{"format":"email","email":"{}@acme.com"}}}}"#,
            "a".repeat(MAX_LOGOUT_BODY_BYTES)
        );
        assert!(parse(&long).is_err());
    }
}
