//! Okta Universal Logout against the real gateway, with the real OpenID Provider as the
//! Okta org signing each request with its own keys, on both backends: the employee is
//! signed out at once; every refusal leaves the session alive; a token of one org never
//! reaches a workspace that signs in with another.

use std::time::Instant;

use crate::common::{
    Gateway, Op, acme_with_sso, configure_sso, email_subject, employees, iss_sub, me, okta_sign_in,
    signed_in_browser, universal_logout, workspace,
};
use persistence::backend_tests;
use persistence::testing::TestDatabase;
use serde_json::json;

fn start<'db>(db: &'db TestDatabase, extra: &[(&str, String)]) -> (Gateway<'db>, Op) {
    let listener = Gateway::bind();
    let op = Op::start(&Gateway::callback_uri(
        listener.local_addr().unwrap().port(),
    ));
    (Gateway::start_configured(db, listener, true, extra), op)
}

backend_tests! {
    fn okta_universal_logout_signs_the_employee_out_at_once(db) {
        let (gw, op) = start(db, &[]);
        let acme = acme_with_sso(db, &op);
        employees(db, &acme, &[("grace@acme.com", true)]);
        // Ada signs in with Okta (which links her Okta user) and, elsewhere, with a link.
        let laptop = gw.browser();
        okta_sign_in(&gw, &laptop, &op, "acme", "ada@acme.com");
        let (phone, _) = signed_in_browser(&gw, &acme, "ada@acme.com");
        let (grace, _) = signed_in_browser(&gw, &acme, "grace@acme.com");
        assert_eq!(me(&laptop, &gw, "acme").0, 200);

        let token = op.logout_token(&gw, json!({}));
        let sent = Instant::now();
        let (status, body) = universal_logout(&gw, Some(&token), &iss_sub(&op.issuer, "00u-ada"));
        assert_eq!(status, 204, "{body}");
        assert_eq!(me(&laptop, &gw, "acme").0, 401);
        let dead_after = sent.elapsed();
        assert_eq!(me(&phone, &gw, "acme").0, 401, "every session of Ada ended");
        assert!(dead_after.as_secs() < 1, "dead {dead_after:?} after the request");
        assert_eq!(me(&grace, &gw, "acme").0, 200, "Grace is not named");

        let event = db.audit().recent(&acme.id, 1).unwrap().remove(0);
        assert_eq!((event.actor.as_str(), event.action.as_str()), ("okta", "okta.universal_logout"));
        assert_eq!(event.target.as_deref(), Some("ada@acme.com"));
        assert_eq!(event.details["issuer"], op.issuer.as_str());
        assert_eq!(event.details["subject_format"], "iss_sub");
        assert_eq!(event.details["sessions_ended"], 2);

        // Okta decides whether she may come back: she signs in again at once.
        okta_sign_in(&gw, &laptop, &op, "acme", "ada@acme.com");
        assert_eq!(me(&laptop, &gw, "acme").0, 200);

        // By email (Okta's default subject format), case-insensitively; Okta's guide
        // names the member `subject`, the draft `sub_id`: both are read.
        let token = op.logout_token(&gw, json!({}));
        let body = json!({"sub_id": {"format": "email", "email": "Grace@ACME.com"}}).to_string();
        assert_eq!(universal_logout(&gw, Some(&token), &body).0, 204);
        assert_eq!(me(&grace, &gw, "acme").0, 401);
        assert_eq!(me(&laptop, &gw, "acme").0, 200);

        let metrics = reqwest::blocking::get(gw.metrics_url()).unwrap().text().unwrap();
        assert!(
            metrics.contains("auth_gateway_universal_logouts_total{code=\"SIGNED_OUT\"} 2"),
            "{metrics}"
        );
        // The operator's metric still tells an unknown org or app from a bad signature.
        let other_app = op.logout_token(&gw, json!({"sub": "0oa-another-app"}));
        assert_eq!(universal_logout(&gw, Some(&other_app), &email_subject("grace@acme.com")).0, 401);
        let metrics = reqwest::blocking::get(gw.metrics_url()).unwrap().text().unwrap();
        assert!(metrics.contains("auth_gateway_universal_logouts_total{code=\"LOGOUT_ISSUER_UNKNOWN\"} 1"), "{metrics}");
    }

    fn refused_logout_requests_leave_the_session_alive(db) {
        let (gw, op) = start(db, &[]);
        let acme = acme_with_sso(db, &op);
        employees(db, &acme, &[("grace@acme.com", true)]);
        let ada = gw.browser();
        okta_sign_in(&gw, &ada, &op, "acme", "ada@acme.com");
        let ada_subject = iss_sub(&op.issuer, "00u-ada");
        let refused = |token: Option<&str>, body: &str, status: u16, code: &str| {
            let (got, answer) = universal_logout(&gw, token, body);
            assert_eq!((got, answer["error"].as_str().unwrap_or_default()), (status, code), "{answer}");
            assert!(!answer["message"].as_str().unwrap_or_default().is_empty(), "{answer}");
            assert_eq!(me(&ada, &gw, "acme").0, 200, "after a {code} refusal, Ada is still signed in");
        };

        // Authentication.
        refused(None, &ada_subject, 401, "LOGOUT_TOKEN_MISSING");
        let wrong_aud = op.logout_token(&gw, json!({"aud": "https://another-app.example/logout"}));
        refused(Some(&wrong_aud), &ada_subject, 401, "LOGOUT_TOKEN_AUDIENCE_MISMATCH");
        let expired_at = chrono::Utc::now().timestamp() - 600;
        let expired = op.logout_token(&gw, json!({"exp": expired_at, "iat": expired_at - 300}));
        refused(Some(&expired), &ada_subject, 401, "LOGOUT_TOKEN_EXPIRED");
        let forged = op.logout_token(&gw, json!({"key": "foreign"}));
        refused(Some(&forged), &ada_subject, 401, "LOGOUT_TOKEN_INVALID");
        let no_jti = op.logout_token(&gw, json!({"jti": null}));
        refused(Some(&no_jti), &ada_subject, 401, "LOGOUT_TOKEN_INVALID");
        // A JWT of another type, signed with the same key (as an ID token is).
        let other_type = op.logout_token(&gw, json!({"typ": "JWT"}));
        refused(Some(&other_type), &ada_subject, 401, "LOGOUT_TOKEN_INVALID");
        let other_app = op.logout_token(&gw, json!({"sub": "0oa-another-app"}));
        // Another app, or an org no workspace signs in with, is answered exactly as a bad
        // signature is: nobody learns which orgs and apps sign in to Spark.
        refused(Some(&other_app), &ada_subject, 401, "LOGOUT_TOKEN_INVALID");
        let (_, unknown_app) = universal_logout(&gw, Some(&other_app), &ada_subject);
        let (_, forged_answer) = universal_logout(&gw, Some(&forged), &ada_subject);
        assert_eq!(unknown_app, forged_answer, "one answer for both");
        refused(Some("not-a-jwt"), &ada_subject, 401, "LOGOUT_TOKEN_INVALID");

        // A replayed token: used once (for Grace), then presented again naming Ada.
        let once = op.logout_token(&gw, json!({}));
        assert_eq!(universal_logout(&gw, Some(&once), &email_subject("grace@acme.com")).0, 204);
        refused(Some(&once), &ada_subject, 401, "LOGOUT_TOKEN_REPLAYED");
        // Replayed after its `exp` but within the clock leeway, after the purge of expired
        // token ids has run: still refused (its id is kept until `exp` plus the leeway).
        let just_expired = chrono::Utc::now().timestamp() - 30;
        let late = op.logout_token(&gw, json!({"exp": just_expired}));
        assert_eq!(universal_logout(&gw, Some(&late), &email_subject("grace@acme.com")).0, 204);
        db.universal_logouts().purge_expired(chrono::Utc::now()).unwrap();
        refused(Some(&late), &ada_subject, 401, "LOGOUT_TOKEN_REPLAYED");

        // The body.
        for malformed in [
            "",
            "{not json",
            r#"{"subject": "ada@acme.com"}"#,
            r#"{"subject": {"format": "opaque", "id": "00u-ada"}}"#,
            r#"{"subject": {"format": "email", "email": "ada@acme.com", "extra": 1}}"#,
        ] {
            let token = op.logout_token(&gw, json!({}));
            refused(Some(&token), malformed, 400, "LOGOUT_REQUEST_INVALID");
        }
        let token = op.logout_token(&gw, json!({}));
        refused(Some(&token), &iss_sub("https://other.okta.com", "00u-ada"), 403, "LOGOUT_SUBJECT_FORBIDDEN");
        let token = op.logout_token(&gw, json!({}));
        refused(Some(&token), &email_subject("nobody@acme.com"), 404, "LOGOUT_SUBJECT_UNKNOWN");
        let token = op.logout_token(&gw, json!({}));
        refused(Some(&token), &iss_sub(&op.issuer, "00u-grace"), 404, "LOGOUT_SUBJECT_UNKNOWN");

        // Only on the auth host, only POST, bodies bounded.
        let token = op.logout_token(&gw, json!({}));
        let client = gw.bare_client();
        let on_workspace = client.post(gw.url("acme", "/api/OktaAuth/universal-logout"))
            .bearer_auth(&token).body(ada_subject.clone()).send().unwrap();
        assert_eq!(on_workspace.status(), 404);
        let get = client.get(gw.url("auth", "/api/OktaAuth/universal-logout")).bearer_auth(&token).send().unwrap();
        assert_ne!(get.status(), 204);
        let huge = format!(r#"{{"subject": {{"format": "email", "email": "{}@acme.com"}}}}"#, "a".repeat(20_000));
        let (status, _) = universal_logout(&gw, Some(&token), &huge);
        assert_eq!(status, 413);
        assert_eq!(me(&ada, &gw, "acme").0, 200);

        // And the token that was never used still works.
        assert_eq!(universal_logout(&gw, Some(&token), &ada_subject).0, 204);
        assert_eq!(me(&ada, &gw, "acme").0, 401);
    }

    /// Two workspaces sign in with two Okta orgs, and each has an employee with the same
    /// email. Org B's requests — by email, by an `iss_sub` of org A, or with a token that
    /// claims to be org A's — never end the session in org A's workspace.
    fn a_token_from_another_org_never_ends_a_session_in_a_workspace_it_does_not_serve(db) {
        let listener = Gateway::bind();
        let callback = Gateway::callback_uri(listener.local_addr().unwrap().port());
        let org_a = Op::start(&callback);
        let org_b = Op::start(&callback);
        let gw = Gateway::start(db, listener);
        let acme = acme_with_sso(db, &org_a);
        let globex = workspace(db, "globex", true);
        configure_sso(db, &globex, &org_b.issuer, crate::common::CLIENT_SECRET);
        employees(db, &globex, &[("ada@acme.com", true)]);
        let acme_ada = gw.browser();
        okta_sign_in(&gw, &acme_ada, &org_a, "acme", "ada@acme.com");
        let globex_ada = gw.browser();
        okta_sign_in(&gw, &globex_ada, &org_b, "globex", "ada@acme.com");
        let _ = acme;

        // Org A's user by org B: refused.
        let token = org_b.logout_token(&gw, json!({}));
        let (status, answer) = universal_logout(&gw, Some(&token), &iss_sub(&org_a.issuer, "00u-ada"));
        assert_eq!((status, answer["error"].as_str().unwrap()), (403, "LOGOUT_SUBJECT_FORBIDDEN"));
        // Org B claiming to be org A: verified with org A's keys, refused.
        let token = org_b.logout_token(&gw, json!({"iss": org_a.issuer}));
        let (status, answer) = universal_logout(&gw, Some(&token), &email_subject("ada@acme.com"));
        assert_eq!((status, answer["error"].as_str().unwrap()), (401, "LOGOUT_TOKEN_INVALID"));
        assert_eq!(me(&acme_ada, &gw, "acme").0, 200);
        assert_eq!(me(&globex_ada, &gw, "globex").0, 200);

        // By email: org B signs out its own workspace's Ada only.
        let token = org_b.logout_token(&gw, json!({}));
        assert_eq!(universal_logout(&gw, Some(&token), &email_subject("ada@acme.com")).0, 204);
        assert_eq!(me(&globex_ada, &gw, "globex").0, 401);
        assert_eq!(me(&acme_ada, &gw, "acme").0, 200, "org A's workspace is untouched");
        assert!(
            db.audit().recent(&acme.id, 5).unwrap().iter().all(|e| e.action != "okta.universal_logout"),
            "nothing is recorded in org A's workspace"
        );

        // A third workspace's admin typed org A's URL and app (neither is secret) with a
        // made-up secret: nobody can sign in there with org A, and org A's requests do
        // not reach it either.
        let initech = workspace(db, "initech", true);
        configure_sso(db, &initech, &org_a.issuer, "not-the-secret");
        employees(db, &initech, &[("ada@acme.com", true)]);
        let (initech_ada, _) = signed_in_browser(&gw, &initech, "ada@acme.com");
        let token = org_a.logout_token(&gw, json!({}));
        assert_eq!(universal_logout(&gw, Some(&token), &email_subject("ada@acme.com")).0, 204);
        assert_eq!(me(&acme_ada, &gw, "acme").0, 401, "org A signs out its workspace's Ada");
        assert_eq!(me(&initech_ada, &gw, "initech").0, 200, "not the look-alike's");
    }

    fn an_org_that_floods_the_endpoint_is_throttled(db) {
        let (gw, op) = start(db, &[("SPARK__SECURITY__UNIVERSAL_LOGOUTS_PER_SECOND", "1".into())]);
        acme_with_sso(db, &op);
        let ada = gw.browser();
        okta_sign_in(&gw, &ada, &op, "acme", "ada@acme.com");
        let aud = gw.url("auth", "/api/OktaAuth/universal-logout");
        let tokens = op.logout_tokens(&aud, 11, json!({}));
        // A burst of ten seconds' worth passes (nobody is named: 404 each).
        for token in &tokens[..10] {
            assert_eq!(universal_logout(&gw, Some(token), &email_subject("nobody@acme.com")).0, 404);
        }
        let response = gw.bare_client()
            .post(&aud)
            .bearer_auth(&tokens[10])
            .body(email_subject("ada@acme.com"))
            .send()
            .unwrap();
        assert_eq!(response.status(), 429);
        assert!(response.headers().get("retry-after").is_some());
        assert_eq!(me(&ada, &gw, "acme").0, 200);
    }
}
