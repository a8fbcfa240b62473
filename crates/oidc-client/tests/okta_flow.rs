//! The relying party against a real OpenID Provider: the npm package `oidc-provider`,
//! configured like an Okta org by `testing/oidc-provider/provider.js`, started per test
//! on a free loopback port and driven over real HTTP redirects, as a browser would.
//!
//! Needs Node.js and `npm ci` in `testing/oidc-provider` (`cargo xtask test` does it);
//! without them these tests fail and say so.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oidc_client::testing::{RawServer, TestProvider, discovery_document, write_json};
use oidc_client::{
    Callback, ClientCredentials, ClientOptions, ErrorCode, LoginRequest, OidcClient, OrgUrl,
    Provider, UrlPolicy,
};
use token_store::sealed::SecretText;

const CLIENT_ID: &str = "0oa-spark-test";
const CLIENT_SECRET: &str = "test-client-secret-0123456789";
/// Where Okta sends the browser back; nothing listens there: the test stops at it.
const REDIRECT_URI: &str = "http://127.0.0.1:9/api/OktaAuth/callback";

/// A running `oidc-provider`, killed when dropped.
/// The running provider, and its issuer for short access.
struct Op {
    provider: TestProvider,
    issuer: String,
}

impl Op {
    async fn start(extra: &[&str]) -> Op {
        let provider = TestProvider::start(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, extra);
        Op {
            issuer: provider.issuer.clone(),
            provider,
        }
    }

    fn org(&self) -> OrgUrl {
        OrgUrl::parse(&self.issuer, UrlPolicy::INSECURE_LOOPBACK).unwrap()
    }

    fn port(&self) -> u16 {
        self.provider.port()
    }
}

fn oidc() -> OidcClient {
    OidcClient::new(ClientOptions {
        url_policy: UrlPolicy::INSECURE_LOOPBACK,
        ..ClientOptions::default()
    })
    .unwrap()
}

fn credentials(secret: &str) -> ClientCredentials {
    ClientCredentials {
        client_id: CLIENT_ID.into(),
        client_secret: SecretText::new(secret),
    }
}

/// A browser: keeps cookies, follows redirects itself (so it can stop at the callback).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Drives the authorization request to the callback URL, signing in as `email` on the
/// provider's login form; returns the callback's parameters.
async fn sign_in(op: &Op, request: &LoginRequest, email: &str) -> Callback {
    let browser = browser();
    let mut next = request.url.to_string();
    for _ in 0..10 {
        let response = browser.get(&next).send().await.unwrap();
        let status = response.status();
        if status.is_success() && next.contains("/interaction/") {
            // The login form: submit the email.
            let uid = next.rsplit('/').next().unwrap().to_owned();
            let posted = browser
                .post(format!("{}/interaction/{uid}/login", op.issuer))
                .form(&[("email", email)])
                .send()
                .await
                .unwrap();
            assert_eq!(
                posted.status(),
                303,
                "login form: {:?}",
                posted.text().await
            );
            next = absolute(op, posted.headers()["location"].to_str().unwrap());
            continue;
        }
        assert!(
            status.is_redirection(),
            "{next}: HTTP {status}: {:?}",
            response.text().await
        );
        next = absolute(op, response.headers()["location"].to_str().unwrap());
        if let Some(query) = next.strip_prefix(&format!("{REDIRECT_URI}?")) {
            return Callback::from_query(query).unwrap();
        }
    }
    panic!("the sign-in never reached the callback (last at {next})");
}

fn absolute(op: &Op, location: &str) -> String {
    if location.starts_with('/') {
        format!("{}{location}", op.issuer)
    } else {
        location.to_owned()
    }
}

async fn start_login(op: &Op, oidc: &OidcClient, hint: Option<&str>) -> (Provider, LoginRequest) {
    let provider = oidc.discover(&op.org()).await.unwrap();
    let request = oidc
        .login_request(&provider, CLIENT_ID, REDIRECT_URI, hint)
        .unwrap();
    (provider, request)
}

#[tokio::test]
async fn the_code_flow_ends_in_verified_claims() {
    let op = Op::start(&[]).await;
    let oidc = oidc();
    let (provider, request) = start_login(&op, &oidc, Some("ada@acme.com")).await;
    assert_eq!(provider.issuer(), op.issuer);

    // The authorization request is what the issue asks for.
    let params: std::collections::HashMap<String, String> =
        request.url.query_pairs().into_owned().collect();
    assert_eq!(params["response_type"], "code");
    assert_eq!(params["scope"], "openid profile email");
    assert_eq!(params["client_id"], CLIENT_ID);
    assert_eq!(params["redirect_uri"], REDIRECT_URI);
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["login_hint"], "ada@acme.com");
    assert_eq!(params["state"], request.state.expose_secret());
    assert!(params["state"].starts_with("spark_state_"));
    assert_eq!(params["nonce"], request.nonce);
    assert!(
        URL_SAFE_NO_PAD.decode(&request.nonce).unwrap().len() >= 32,
        "nonce ≥ 256 bits"
    );
    assert!(request.pkce_verifier.len() >= 43, "verifier ≥ 256 bits");
    let challenge = URL_SAFE_NO_PAD.encode(sha256(request.pkce_verifier.as_bytes()));
    assert_eq!(params["code_challenge"], challenge);

    let callback = sign_in(&op, &request, "ada@acme.com").await;
    assert_eq!(
        callback.state.as_deref(),
        Some(request.state.expose_secret())
    );
    let code = callback.code(&provider).unwrap();
    let signed_in = oidc
        .complete_sign_in(
            &provider,
            &credentials(CLIENT_SECRET),
            REDIRECT_URI,
            code,
            &request.nonce,
            &request.pkce_verifier,
        )
        .await
        .unwrap();
    assert_eq!(signed_in.issuer, op.issuer);
    assert_eq!(signed_in.subject, "00u-ada");
    assert_eq!(signed_in.email, "ada@acme.com");
    assert_eq!(signed_in.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(signed_in.given_name.as_deref(), Some("Ada"));

    // The code is single use at the provider.
    let replay = oidc
        .complete_sign_in(
            &provider,
            &credentials(CLIENT_SECRET),
            REDIRECT_URI,
            code,
            &request.nonce,
            &request.pkce_verifier,
        )
        .await
        .unwrap_err();
    assert_eq!(replay.code(), ErrorCode::OktaInvalidGrant, "{replay}");
}

#[tokio::test]
async fn the_email_comes_from_userinfo_when_the_id_token_has_none() {
    let op = Op::start(&["--claims-in-userinfo-only"]).await;
    let oidc = oidc();
    let (provider, request) = start_login(&op, &oidc, None).await;
    let callback = sign_in(&op, &request, "grace@acme.com").await;
    let signed_in = oidc
        .complete_sign_in(
            &provider,
            &credentials(CLIENT_SECRET),
            REDIRECT_URI,
            callback.code(&provider).unwrap(),
            &request.nonce,
            &request.pkce_verifier,
        )
        .await
        .unwrap();
    assert_eq!(
        (signed_in.subject.as_str(), signed_in.email.as_str()),
        ("00u-grace", "grace@acme.com")
    );
    assert_eq!(signed_in.family_name.as_deref(), Some("Hopper"));

    // This provider really leaves the email out of the ID token.
    let (_, request) = start_login(&op, &oidc, None).await;
    let callback = sign_in(&op, &request, "grace@acme.com").await;
    let id_token = exchange_by_hand(
        &op,
        callback.code(&provider).unwrap(),
        &request.pkce_verifier,
    )
    .await;
    let payload = id_token.split('.').nth(1).unwrap();
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert!(claims.get("email").is_none(), "{claims}");
    let err = oidc
        .verify_id_token(&provider, CLIENT_ID, &id_token, &request.nonce)
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        ErrorCode::EmailMissing,
        "without userinfo there is no email"
    );
}

#[tokio::test]
async fn a_wrong_client_secret_is_invalid_client() {
    let op = Op::start(&[]).await;
    let oidc = oidc();
    let (provider, request) = start_login(&op, &oidc, None).await;
    let callback = sign_in(&op, &request, "ada@acme.com").await;
    let err = oidc
        .complete_sign_in(
            &provider,
            &credentials("not-the-secret"),
            REDIRECT_URI,
            callback.code(&provider).unwrap(),
            &request.nonce,
            &request.pkce_verifier,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::OktaInvalidClient, "{err}");
    assert!(err.message().contains("Client secret"), "{err}");
    assert!(!err.message().contains("not-the-secret"), "{err}");
}

#[tokio::test]
async fn a_wrong_pkce_verifier_is_refused_by_the_provider() {
    let op = Op::start(&[]).await;
    let oidc = oidc();
    let (provider, request) = start_login(&op, &oidc, None).await;
    let callback = sign_in(&op, &request, "ada@acme.com").await;
    let other_verifier = "x".repeat(50);
    let err = oidc
        .complete_sign_in(
            &provider,
            &credentials(CLIENT_SECRET),
            REDIRECT_URI,
            callback.code(&provider).unwrap(),
            &request.nonce,
            &other_verifier,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::OktaInvalidGrant, "{err}");
}

#[tokio::test]
async fn an_unassigned_user_gets_access_denied() {
    let op = Op::start(&[]).await;
    let oidc = oidc();
    let (provider, request) = start_login(&op, &oidc, None).await;
    let callback = sign_in(&op, &request, "denied@acme.com").await;
    assert_eq!(
        callback.state.as_deref(),
        Some(request.state.expose_secret())
    );
    let err = callback.code(&provider).unwrap_err();
    assert_eq!(err.code(), ErrorCode::OktaAccessDenied);
    assert!(
        err.message()
            .contains("User is not assigned to the client application"),
        "{err}"
    );
}

#[tokio::test]
async fn an_unverified_email_is_refused() {
    let op = Op::start(&[]).await;
    let oidc = oidc();
    let (provider, request) = start_login(&op, &oidc, None).await;
    let callback = sign_in(&op, &request, "unverified@acme.com").await;
    let err = oidc
        .complete_sign_in(
            &provider,
            &credentials(CLIENT_SECRET),
            REDIRECT_URI,
            callback.code(&provider).unwrap(),
            &request.nonce,
            &request.pkce_verifier,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::EmailNotVerified, "{err}");
}

#[tokio::test]
async fn a_wrong_nonce_is_refused() {
    let op = Op::start(&[]).await;
    let oidc = oidc();
    let (provider, request) = start_login(&op, &oidc, None).await;
    let callback = sign_in(&op, &request, "ada@acme.com").await;
    let err = oidc
        .complete_sign_in(
            &provider,
            &credentials(CLIENT_SECRET),
            REDIRECT_URI,
            callback.code(&provider).unwrap(),
            "another-sign-ins-nonce",
            &request.pkce_verifier,
        )
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::IdTokenNonceMismatch, "{err}");
}

#[tokio::test]
async fn tampered_unsigned_or_foreign_id_tokens_are_refused() {
    let op = Op::start(&[]).await;
    let oidc = oidc();
    let (provider, request) = start_login(&op, &oidc, None).await;
    let callback = sign_in(&op, &request, "ada@acme.com").await;
    let id_token = exchange_by_hand(
        &op,
        callback.code(&provider).unwrap(),
        &request.pkce_verifier,
    )
    .await;

    // The genuine token verifies.
    let ok = oidc
        .verify_id_token(&provider, CLIENT_ID, &id_token, &request.nonce)
        .await
        .unwrap();
    assert_eq!(ok.email, "ada@acme.com");

    let parts: Vec<&str> = id_token.split('.').collect();
    assert_eq!(parts.len(), 3);
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["email"] = "grace@acme.com".into();
    let forged_payload = URL_SAFE_NO_PAD.encode(claims.to_string());

    // Changed claims, original signature.
    let tampered = format!("{}.{forged_payload}.{}", parts[0], parts[2]);
    let err = oidc
        .verify_id_token(&provider, CLIENT_ID, &tampered, &request.nonce)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::IdTokenInvalid, "{err}");

    // alg: none, no signature.
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    for unsigned in [
        format!("{none_header}.{forged_payload}."),
        format!("{none_header}.{}.", parts[1]),
    ] {
        let err = oidc
            .verify_id_token(&provider, CLIENT_ID, &unsigned, &request.nonce)
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::IdTokenInvalid, "{err}");
    }

    // A key the org does not publish (unknown kid): refetched once, still refused.
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let mut other_kid = header.clone();
    other_kid["kid"] = "rotated-away".into();
    let unknown = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(other_kid.to_string()),
        parts[1],
        parts[2]
    );
    let err = oidc
        .verify_id_token(&provider, CLIENT_ID, &unknown, &request.nonce)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::IdTokenInvalid, "{err}");

    // Another client's token.
    let err = oidc
        .verify_id_token(&provider, "0oa-other-app", &id_token, &request.nonce)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::IdTokenAudienceMismatch, "{err}");

    // Not a JWT at all.
    let err = oidc
        .verify_id_token(&provider, CLIENT_ID, "garbage", &request.nonce)
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::IdTokenInvalid, "{err}");
}

#[tokio::test]
async fn discovery_refuses_a_foreign_issuer_and_unreachable_orgs() {
    let op = Op::start(&[]).await;
    let oidc = oidc();
    // The same server under another name: its discovery document names 127.0.0.1.
    let other_name = OrgUrl::parse(
        &format!("http://localhost:{}", op.port()),
        UrlPolicy::INSECURE_LOOPBACK,
    )
    .unwrap();
    let err = oidc.discover(&other_name).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::OktaDiscoveryIssuerMismatch, "{err}");
    assert!(err.message().contains(&op.issuer), "{err}");

    // Nothing listening.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let nowhere = OrgUrl::parse(
        &format!("http://127.0.0.1:{port}"),
        UrlPolicy::INSECURE_LOOPBACK,
    )
    .unwrap();
    let err = oidc.discover(&nowhere).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::OktaDiscoveryUnreachable, "{err}");

    // Production rules refuse the provider's http issuer outright.
    let strict = OrgUrl::parse(&op.issuer, UrlPolicy::STRICT).unwrap_err();
    assert_eq!(strict.code(), ErrorCode::OktaOrgUrlInsecure);

    // The cached provider is the discovered one.
    let provider = oidc.provider(&op.org()).await.unwrap();
    assert_eq!(provider.issuer(), op.issuer);
    assert!(provider.authorization_endpoint().starts_with(&op.issuer));
}

/// Exchanges a code the way a client would, to get the raw ID token for tampering.
async fn exchange_by_hand(op: &Op, code: &str, verifier: &str) -> String {
    let http = reqwest::Client::new();
    let discovery: serde_json::Value = http
        .get(format!("{}/.well-known/openid-configuration", op.issuer))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tokens: serde_json::Value = http
        .post(discovery["token_endpoint"].as_str().unwrap())
        .basic_auth(CLIENT_ID, Some(CLIENT_SECRET))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    tokens["id_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{tokens}"))
        .to_owned()
}

fn sha256(bytes: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).to_vec()
}

#[tokio::test]
async fn an_org_check_reads_discovery_and_keys_and_names_rfc_9207_support() {
    let op = Op::start(&[]).await;
    let checked = oidc().check_org(&op.org()).await.unwrap();
    assert_eq!(checked.provider.issuer(), op.issuer);
    assert!(checked.signing_keys >= 1);
    // oidc-provider advertises `authorization_response_iss_parameter_supported`.
    assert!(checked.provider.names_issuer_in_responses());
}

/// What a hostile "org" answers every request with.
#[derive(Clone, Copy)]
enum Hostile {
    /// A discovery document of megabytes, without a length.
    HugeDiscovery,
    /// A fine discovery document whose key set is megabytes long.
    HugeKeys,
    /// Headers, then one byte every 200 ms, forever.
    Trickle,
}

/// Serves `mode` on a free loopback port; returns the org URL.
fn hostile_org(mode: Hostile) -> String {
    use std::io::Write as _;
    let server = RawServer::start(move |request, stream| {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n";
        match (mode, request.path() == "/keys") {
            (Hostile::HugeKeys, false) => {
                let issuer = format!("http://{}", stream.local_addr().unwrap());
                write_json(stream, 200, &discovery_document(&issuer));
            }
            (Hostile::HugeDiscovery, _) | (Hostile::HugeKeys, true) => {
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(b"{\"keys\": [");
                let filler = vec![b' '; 64 * 1024];
                for _ in 0..160 {
                    if stream.write_all(&filler).is_err() {
                        return;
                    }
                }
            }
            (Hostile::Trickle, _) => {
                let _ = stream.write_all(head.as_bytes());
                while stream.write_all(b" ").is_ok() {
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
            }
        }
    });
    server.origin
}

#[tokio::test]
async fn a_huge_or_endless_answer_costs_a_bounded_time_and_memory() {
    let timeout = std::time::Duration::from_secs(2);
    let oidc = OidcClient::new(ClientOptions {
        url_policy: UrlPolicy::INSECURE_LOOPBACK,
        request_timeout: timeout,
        ..ClientOptions::default()
    })
    .unwrap();
    for (mode, code, says) in [
        (
            Hostile::HugeDiscovery,
            ErrorCode::OktaDiscoveryUnreachable,
            "longer than 256 KiB",
        ),
        (
            Hostile::HugeKeys,
            ErrorCode::OktaJwksUnavailable,
            "longer than 256 KiB",
        ),
        (
            Hostile::Trickle,
            ErrorCode::OktaDiscoveryUnreachable,
            "in time",
        ),
    ] {
        let org = OrgUrl::parse(&hostile_org(mode), UrlPolicy::INSECURE_LOOPBACK).unwrap();
        let started = std::time::Instant::now();
        let err = oidc.check_org(&org).await.unwrap_err();
        assert_eq!(err.code(), code, "{err}");
        assert!(err.message().contains(says), "{err}");
        // The deadline is the client's; the margin is for a loaded machine, and far below
        // the ten seconds of megabytes or the endless trickle.
        assert!(started.elapsed() < timeout * 3, "{:?}", started.elapsed());
    }
}
