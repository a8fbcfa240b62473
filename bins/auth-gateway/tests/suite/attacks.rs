//! Attacks on sign-in, played against the real gateway and the real OpenID Provider, on
//! both backends; each must fail. The threat model: a workspace admin attacking other
//! workspaces, an Okta user attacking other employees of their workspace, and link
//! scanners that open every URL they see. Where an attacker runs a "provider" of their
//! own, it is a small server in this file: it is the attacker, not a stand-in for a peer.

use std::sync::{Arc, Mutex};

use crate::common::{
    AdminBrowser, CLIENT_ID, CLIENT_SECRET, Gateway, Op, acme_with_sso, configure_sso, employees,
    error_code, location, me, okta_callback, sign_in_at_provider, workspace,
};
use oidc_client::testing::{RawServer, discovery_document, write_json, write_redirect};
use persistence::testing::TestDatabase;
use persistence::{Actor, OktaSsoConfigInput, backend_tests};
use reqwest::Method;
use serde_json::json;

const SSO_API: &str = "/api/admin/integrations/okta/sso";
const SSO_PAGE: &str = "/admin/domain/integrations/authentication";
const IDENTITIES_API: &str = "/api/admin/integrations/okta/identities";

/// The gateway, and the victims' Okta org (the real provider) whose client redirects to
/// it, with `users` when given.
fn start<'db>(db: &'db TestDatabase, users: Option<&str>) -> (Gateway<'db>, Op) {
    let listener = Gateway::bind();
    let callback = Gateway::callback_uri(listener.local_addr().unwrap().port());
    let op = match users {
        Some(users) => Op::start_with(&callback, &["--users", users]),
        None => Op::start(&callback),
    };
    (Gateway::start(db, listener), op)
}

/// What an attacker's provider received at its token endpoint.
type Received = Arc<Mutex<Vec<String>>>;

/// An attacker's "OpenID Provider": a discovery document naming itself; an
/// authorization endpoint that `bounce`s each request (given its query and the provider's
/// own issuer) to wherever the attacker wants; a token endpoint that records every
/// request and refuses it.
fn attacker_provider(
    bounce: impl Fn(&std::collections::HashMap<String, String>, &str) -> String + Send + Sync + 'static,
) -> (RawServer, Received) {
    let received: Received = Arc::default();
    let recorded = received.clone();
    let server = RawServer::start(move |request, stream| {
        let issuer = format!("http://{}", stream.local_addr().unwrap());
        match request.path() {
            "/.well-known/openid-configuration" => {
                write_json(stream, 200, &discovery_document(&issuer));
            }
            "/authorize" => {
                let query: std::collections::HashMap<String, String> = url::form_urlencoded::parse(
                    request
                        .target
                        .split_once('?')
                        .map_or("", |(_, q)| q)
                        .as_bytes(),
                )
                .into_owned()
                .collect();
                write_redirect(stream, &bounce(&query, &issuer));
            }
            "/token" => {
                recorded.lock().unwrap().push(format!("{request:?}"));
                write_json(stream, 400, &json!({"error": "invalid_grant"}));
            }
            "/keys" => write_json(stream, 200, &json!({"keys": []})),
            _ => write_json(stream, 404, &json!({})),
        }
    });
    (server, received)
}

backend_tests! {
    /// RFC 9700 §4.4: every workspace shares one callback, so a provider one workspace's
    /// admin runs could send another workspace's employee to their own Okta and receive
    /// their code. The response names its issuer, and Spark checks it against the sign-in
    /// it answers before the code goes anywhere.
    fn a_mix_up_through_a_provider_another_workspace_runs_fails(db) {
        let (gw, victim_org) = start(db, None);
        acme_with_sso(db, &victim_org);

        // The attacker starts a sign-in of their own at the victim's workspace and stops
        // at the victim org's authorization URL: its PKCE challenge and nonce.
        let attacker = gw.browser();
        let theirs = crate::common::authorize_url(&attacker, &victim_org, &gw.url("acme", "/api/OktaAuth/start"));
        let theirs = url::Url::parse(&theirs).unwrap();
        // Their provider sends whoever comes to it to the victim org, as the victim
        // app, with those values — and the state Spark gave the victim.
        let (provider, received) = attacker_provider(move |query, _| {
            let mut bounced = theirs.clone();
            let pairs: Vec<(String, String)> = theirs
                .query_pairs()
                .into_owned()
                .map(|(k, v)| if k == "state" { (k, query["state"].clone()) } else { (k, v) })
                .collect();
            bounced.query_pairs_mut().clear().extend_pairs(pairs);
            bounced.to_string()
        });
        // The attacker's workspace signs in with that provider. (Loopback hosts are
        // allowed in development only; in production no workspace can name a host Okta
        // does not operate: the next test.)
        let globex = workspace(db, "globex", true);
        configure_sso(db, &globex, &provider.origin, "the-attackers-secret");

        // The victim is lured into a sign-in at the attacker's workspace, and signs in at
        // their own Okta org as usual.
        let victim = gw.browser();
        let bounced = crate::common::authorize_url(&victim, &victim_org, &gw.url("globex", "/api/OktaAuth/start"));
        assert!(bounced.contains(&format!("client_id={CLIENT_ID}")), "{bounced}");
        let callback = sign_in_at_provider(&victim, &victim_org, &bounced, "ada@acme.com");
        // The victim org names itself in its response; the sign-in was the attacker
        // provider's: refused, and the code went nowhere.
        let answer = victim.get(&callback).send().unwrap();
        assert_eq!(error_code(answer), (403, "OKTA_RESPONSE_ISSUER_MISMATCH".into()));
        assert!(received.lock().unwrap().is_empty(), "{:?}", received.lock().unwrap());
        assert_eq!(me(&attacker, &gw, "acme").0, 401);
        assert_eq!(me(&victim, &gw, "acme").0, 401);
        assert_eq!(me(&victim, &gw, "globex").0, 401);

        // A response stripped of its `iss`, from a provider that says it always sends
        // one, is not taken either.
        let ada = gw.browser();
        let authorize = crate::common::authorize_url(&ada, &victim_org, &gw.url("acme", "/api/OktaAuth/start"));
        let callback = sign_in_at_provider(&ada, &victim_org, &authorize, "ada@acme.com");
        let mut stripped = url::Url::parse(&callback).unwrap();
        let pairs: Vec<(String, String)> = stripped.query_pairs().into_owned().filter(|(k, _)| k != "iss").collect();
        stripped.query_pairs_mut().clear().extend_pairs(pairs);
        let answer = ada.get(stripped.as_str()).send().unwrap();
        assert_eq!(error_code(answer), (403, "OKTA_RESPONSE_ISSUER_MISMATCH".into()));
    }

    /// The first defence against the mix-up in production: a workspace admin cannot make
    /// Spark use a provider on a host Okta does not operate; only the Spark team can
    /// approve one (a customer's Okta custom URL domain), per workspace.
    fn a_workspace_admin_cannot_point_sign_in_at_a_host_okta_does_not_operate(db) {
        let (gw, _) = start(db, None);
        let globex = workspace(db, "globex", true);
        employees(db, &globex, &[("admin@globex.com", true), ("ada@globex.com", true)]);
        let admin = AdminBrowser::sign_in(&gw, &globex, "admin@globex.com");
        for org in ["https://login.attacker.example", "https://acme.okta.com.attacker.example", "https://okta.com"] {
            for (method, path, body) in [
                (Method::PUT, SSO_API.to_owned(), json!({"org_url": org, "client_id": CLIENT_ID, "client_secret": "s"})),
                (Method::POST, format!("{SSO_API}/test"), json!({"org_url": org})),
            ] {
                let (status, answer) = admin.json(method, &path, &body);
                assert_eq!((status, answer["error"].as_str(), answer["field"].as_str()), (403, Some("OKTA_CUSTOM_DOMAIN_NOT_APPROVED"), Some("org_url")), "{org}: {answer}");
                assert!(answer["message"].as_str().unwrap().contains("ask Spark support"), "{answer}");
            }
        }
        let page = admin.form(SSO_PAGE, &[("action", "save"), ("org_url", "https://login.attacker.example"), ("client_id", CLIENT_ID), ("client_secret", "s")]);
        assert_eq!(page.status(), 403);
        let page = page.text().unwrap();
        assert!(page.contains("id=\"org_url-error\"") && page.contains("OKTA_CUSTOM_DOMAIN_NOT_APPROVED"), "{page}");
        assert!(db.okta_sso_configs().get(&globex.id).unwrap().is_none(), "nothing saved");

        // Settings that got in some other way (saved by an earlier version) are not used:
        // the sign-in stops before anything is sent there.
        configure_sso(db, &globex, "https://login.attacker.example", "s");
        let refused = gw.browser();
        let bounce = refused.get(gw.url("globex", "/api/OktaAuth/start")).send().unwrap();
        let answer = refused.get(location(&bounce)).send().unwrap();
        assert_eq!(error_code(answer), (403, "OKTA_CUSTOM_DOMAIN_NOT_APPROVED".into()));

        // Approved by the Spark team (what `sparkctl okta sso set … --approve-custom-domain`
        // records), the host is used: the sign-in now tries it (it does not exist here).
        let saved = db.okta_sso_configs().get(&globex.id).unwrap().unwrap();
        db.okta_sso_configs().upsert(&globex.id, &OktaSsoConfigInput {
            org_url: saved.org_url.clone(),
            client_id: saved.client_id.clone(),
            client_secret: saved.client_secret.clone(),
            approve_custom_domain: true,
        }, &Actor::operator("spark-team")).unwrap();
        let approved = gw.browser();
        let bounce = approved.get(gw.url("globex", "/api/OktaAuth/start")).send().unwrap();
        let answer = approved.get(location(&bounce)).send().unwrap();
        assert_eq!(error_code(answer), (502, "OKTA_DISCOVERY_UNREACHABLE".into()));
        // The admin may keep it (save again with the same org URL), not move it elsewhere.
        let (status, _) = admin.json(Method::POST, &format!("{SSO_API}/test"), &json!({}));
        assert_eq!(status, 502, "tried: approved");
        let (status, answer) = admin.json(Method::POST, &format!("{SSO_API}/test"), &json!({"org_url": "https://login2.attacker.example"}));
        assert_eq!((status, answer["error"].as_str()), (403, Some("OKTA_CUSTOM_DOMAIN_NOT_APPROVED")));
    }

    /// Okta emails are not unique, and help-desk admins can change them: another Okta
    /// user of the same org who carries an employee's email is not that employee.
    fn another_okta_user_with_an_employees_email_cannot_sign_in_as_them(db) {
        let users = json!([
            {"sub": "00u-ada", "email": "ada@acme.com", "email_verified": true, "given_name": "Ada"},
            {"sub": "00u-mallory", "login": "mallory@acme.com", "email": "ada@acme.com", "email_verified": true, "given_name": "Mallory"},
        ])
        .to_string();
        let (gw, op) = start(db, Some(&users));
        let acme = acme_with_sso(db, &op);
        employees(db, &acme, &[("admin@acme.com", true)]);
        let start_url = gw.url("acme", "/api/OktaAuth/start");

        // Ada signs in first: her Okta user is linked to her.
        let ada = gw.browser();
        let (_, answer) = okta_callback(&ada, &op, &start_url, "ada@acme.com");
        ada.get(location(&answer)).send().unwrap();
        assert_eq!(me(&ada, &gw, "acme").1["email"], "ada@acme.com");

        // Mallory's Okta user now carries Ada's email: refused, nobody signed in.
        let mallory = gw.browser();
        let (_, answer) = okta_callback(&mallory, &op, &start_url, "mallory@acme.com");
        assert_eq!(error_code(answer), (403, "SIGNIN_IDENTITY_CONFLICT".into()));
        assert_eq!(me(&mallory, &gw, "acme").0, 401);
        // Ada still signs in.
        let (_, answer) = okta_callback(&gw.browser(), &op, &start_url, "ada@acme.com");
        assert_eq!(answer.status(), 302);

        // An admin sees the link, and removes it (audited; Ada is signed out); the next
        // Okta user with the email is linked then.
        let admin = AdminBrowser::sign_in(&gw, &acme, "admin@acme.com");
        let (status, listed) = admin.get(&format!("{IDENTITIES_API}?email=ada%40acme.com"));
        assert_eq!(status, 200, "{listed}");
        assert_eq!(listed["identities"][0]["subject"], "00u-ada");
        assert_eq!(listed["identities"].as_array().unwrap().len(), 1);
        let page = admin.client.get(gw.url("acme", SSO_PAGE)).send().unwrap().text().unwrap();
        assert!(page.contains("00u-ada") && page.contains("Linked Okta users"), "{page}");
        let (status, unlinked) = admin.json(Method::DELETE, &format!("{IDENTITIES_API}/ada%40acme.com"), &json!(null));
        assert_eq!((status, unlinked["sessions_ended"].as_u64()), (200, Some(1)), "{unlinked}");
        assert_eq!(me(&ada, &gw, "acme").0, 401);
        let event = &db.audit().recent(&acme.id, 1).unwrap()[0];
        assert_eq!((event.action.as_str(), event.target.as_deref()), ("okta_identity.unlinked", Some("ada@acme.com")));
        let (status, again) = admin.json(Method::DELETE, &format!("{IDENTITIES_API}/ada%40acme.com"), &json!(null));
        assert_eq!((status, again["error"].as_str()), (404, Some("OKTA_IDENTITY_NOT_FOUND")));
        // Unlinking is an admin's change: not an employee's, not without the CSRF token.
        let employee = AdminBrowser::sign_in(&gw, &acme, "ada@acme.com");
        let (status, _) = employee.json(Method::DELETE, &format!("{IDENTITIES_API}/admin%40acme.com"), &json!(null));
        assert_eq!(status, 403);
        let forged = admin.client.delete(gw.url("acme", &format!("{IDENTITIES_API}/ada%40acme.com"))).send().unwrap();
        assert_eq!(forged.status(), 403);
    }

    /// Login CSRF: a hand-off URL one person obtained (their own sign-in, stopped before
    /// the workspace host) signs in no other browser — SP- or IdP-initiated.
    fn a_hand_off_url_signs_in_only_the_browser_that_signed_in(db) {
        let (gw, op) = start(db, None);
        let acme = acme_with_sso(db, &op);
        employees(db, &acme, &[("grace@acme.com", true)]);
        let initiate = gw.url("auth", &format!("/api/OktaAuth/initiate?iss={}", op.issuer));
        for start_url in [gw.url("acme", "/api/OktaAuth/start"), initiate] {
            // The attacker signs in as themself and keeps the hand-off URL.
            let attacker = gw.browser();
            let (_, answer) = okta_callback(&attacker, &op, &start_url, "grace@acme.com");
            let handoff = location(&answer);
            assert!(handoff.contains("/api/OktaAuth/session?handoff="), "{handoff}");
            // The victim's browser opens it (a link in a mail, an image, a redirect).
            let victim = gw.browser();
            let opened = victim.get(&handoff).send().unwrap();
            assert!(crate::common::set_cookies(&opened).is_empty());
            assert_eq!(error_code(opened), (403, "SIGNIN_BROWSER_MISMATCH".into()));
            assert_eq!(me(&victim, &gw, "acme").0, 401);
            // A hand-off opened by the wrong browser is spent: not even the browser it
            // was made for can use it afterwards.
            let late = attacker.get(&handoff).send().unwrap();
            assert_eq!(error_code(late), (400, "HANDOFF_INVALID".into()));
            assert_eq!(me(&attacker, &gw, "acme").0, 401);
            // Unopened elsewhere, it signs in the browser that signed in.
            let (_, answer) = okta_callback(&attacker, &op, &start_url, "grace@acme.com");
            let landed = attacker.get(location(&answer)).send().unwrap();
            assert_eq!(landed.status(), 302);
            assert_eq!(me(&attacker, &gw, "acme").1["email"], "grace@acme.com");
        }
    }

    /// Login CSRF the other way round: an attacker who makes a victim start a sign-in
    /// with the attacker's own workspace-host binding (a forged
    /// `/api/OktaAuth/login?binding=…` link) gets a hand-off for the victim that the
    /// victim's browser cannot use — and that the attacker cannot use later either, even
    /// if its URL leaks (history, a forwarded link).
    fn a_forged_binding_in_a_login_link_gives_the_attacker_nothing(db) {
        let (gw, op) = start(db, None);
        let acme = acme_with_sso(db, &op);
        employees(db, &acme, &[("grace@acme.com", true), ("mallory@acme.com", true)]);
        // The attacker's own start: its redirect names the attacker's binding.
        let attacker = gw.browser();
        let bounce = attacker.get(gw.url("acme", "/api/OktaAuth/start")).send().unwrap();
        let forged = location(&bounce);
        assert!(forged.contains("/api/OktaAuth/login?") && forged.contains("binding="), "{forged}");
        // The victim follows the forged link and signs in at Okta as themself.
        let victim = gw.browser();
        let (_, answer) = okta_callback(&victim, &op, &forged, "grace@acme.com");
        let handoff = location(&answer);
        assert!(handoff.contains("/api/OktaAuth/session?handoff="), "{handoff}");
        let opened = victim.get(&handoff).send().unwrap();
        assert_eq!(error_code(opened), (403, "SIGNIN_BROWSER_MISMATCH".into()));
        assert_eq!(me(&victim, &gw, "acme").0, 401);
        // The URL reaches the attacker: spent.
        let stolen = attacker.get(&handoff).send().unwrap();
        assert!(crate::common::set_cookies(&stolen).is_empty());
        assert_eq!(error_code(stolen), (400, "HANDOFF_INVALID".into()));
        assert_eq!(me(&attacker, &gw, "acme").0, 401);
    }

    /// A client secret is used only with the org URL and client id it was entered for:
    /// an admin who does not know it cannot redirect it to a host of theirs.
    fn the_client_secret_never_follows_a_changed_org_url_or_client_id(db) {
        let (gw, op) = start(db, None);
        let acme = acme_with_sso(db, &op);
        employees(db, &acme, &[("admin@acme.com", true)]);
        let (provider, received) = attacker_provider(|query, issuer| {
            // Straight back to Spark's callback, as if the user had signed in there.
            let back: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("code", "attacker-code")
                .append_pair("state", &query["state"])
                .append_pair("iss", issuer)
                .finish();
            format!("{}?{back}", query["redirect_uri"])
        });
        let admin = AdminBrowser::sign_in(&gw, &acme, "admin@acme.com");
        for body in [
            json!({"org_url": provider.origin, "client_id": CLIENT_ID}),
            json!({"org_url": op.issuer, "client_id": "0oa-attackers-app"}),
        ] {
            let (status, answer) = admin.json(Method::PUT, SSO_API, &body);
            assert_eq!((status, answer["error"].as_str(), answer["field"].as_str()), (400, Some("SSO_CLIENT_SECRET_MISSING"), Some("client_secret")), "{answer}");
        }
        let kept = db.okta_sso_configs().get(&acme.id).unwrap().unwrap();
        assert_eq!(kept.org_url, op.issuer, "unchanged");

        // Even moved by other means than Spark's own rules, the sealed secret does not
        // open for the new org: the sign-in stops before the token request.
        db.okta_sso_configs().upsert(&acme.id, &OktaSsoConfigInput {
            org_url: provider.origin.clone(),
            client_id: kept.client_id.clone(),
            client_secret: kept.client_secret.clone(),
            approve_custom_domain: false,
        }, &Actor::operator("tampered")).unwrap();
        let browser = gw.browser();
        let bounce = browser.get(gw.url("acme", "/api/OktaAuth/start")).send().unwrap();
        let login = browser.get(location(&bounce)).send().unwrap();
        let to_attacker = location(&login);
        assert!(to_attacker.starts_with(&provider.origin), "{to_attacker}");
        let callback = location(&browser.get(&to_attacker).send().unwrap());
        let answer = browser.get(&callback).send().unwrap();
        assert_eq!(error_code(answer), (500, "SSO_SECRET_UNREADABLE".into()));
        let received = received.lock().unwrap();
        assert!(received.is_empty(), "the token endpoint saw: {received:?}");
        assert!(!received.iter().any(|r| r.contains(CLIENT_SECRET)));
    }

    /// Labels come from fixed sets: random methods and paths create no series; and the
    /// public hosts do not serve the metrics at all.
    fn metrics_labels_are_bounded_and_metrics_are_not_public(db) {
        let (gw, _) = start(db, None);
        workspace(db, "acme", false);
        let client = gw.bare_client();
        for i in 0..50 {
            let method = Method::from_bytes(format!("PROBE{i}").as_bytes()).unwrap();
            client.request(method, gw.url("acme", &format!("/random/{i}"))).send().unwrap();
        }
        let metrics = client.get(gw.metrics_url()).send().unwrap().text().unwrap();
        assert!(!metrics.contains("PROBE") && !metrics.contains("/random/"), "{metrics}");
        assert!(metrics.contains("method=\"OTHER\""), "{metrics}");
        assert!(metrics.contains("route=\"unmatched\""), "{metrics}");
        for host in ["acme", "auth", "nowhere"] {
            let response = client.get(gw.url(host, "/metrics")).send().unwrap();
            assert_eq!(error_code(response), (404, "NOT_FOUND".into()), "{host}");
        }
    }

    /// "Test connection" contacts whatever host an admin types (Okta's, in production):
    /// a huge answer costs a bounded read and a clear error.
    fn test_connection_bounds_what_it_reads(db) {
        let (gw, _) = start(db, None);
        let acme = workspace(db, "acme", true);
        employees(db, &acme, &[("admin@acme.com", true)]);
        let flood = RawServer::start(|_, stream| {
            use std::io::Write as _;
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{\"issuer\": \"");
            let filler = vec![b'x'; 64 * 1024];
            for _ in 0..1_000 {
                if stream.write_all(&filler).is_err() {
                    return;
                }
            }
        });
        let admin = AdminBrowser::sign_in(&gw, &acme, "admin@acme.com");
        let (status, answer) = admin.json(Method::POST, &format!("{SSO_API}/test"), &json!({"org_url": flood.origin}));
        assert_eq!((status, answer["error"].as_str()), (502, Some("OKTA_DISCOVERY_UNREACHABLE")), "{answer}");
        assert!(answer["message"].as_str().unwrap().contains("longer than 256 KiB"), "{answer}");
    }
}
