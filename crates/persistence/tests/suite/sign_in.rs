//! Sign-in storage on both backends: Okta SSO configurations, login transactions,
//! sessions, one-time codes and employee identities — single use, expiry, deactivation
//! and tenant isolation.

use chrono::{DateTime, TimeDelta, Utc};
use std::sync::LazyLock;

use persistence::{
    Actor, AttemptOutcome, AuthMethod, Change, CodePurpose, Consumed, Database, Employee,
    EmployeeInput, Error, HandOff, LogoutOrder, LogoutOutcome, LogoutSubject, NewLoginTransaction,
    NewOneTimeCode, NewSession, OktaSsoConfigInput, Redeemed, RevocationStatus, SessionPolicy,
    SessionStart, SignInMatch, Tenant, Workspace, backend_tests, secret_context,
    service_key_context,
};
use token_store::sealed::{EncryptionKey, KeyRing, SecretText};
use token_store::{SecretKind, SecretToken, TokenHash};

fn operator() -> Actor {
    Actor::operator("test")
}

fn tenant(db: &Database, slug: &str) -> Tenant {
    db.tenants()
        .create(&Workspace::parse(slug).unwrap(), slug, &operator())
        .unwrap()
}

fn employee(db: &Database, tenant: &Tenant, email: &str) -> Employee {
    let input = EmployeeInput {
        email: email.into(),
        given_name: Change::Set(Some("Given".into())),
        ..EmployeeInput::default()
    };
    db.employees()
        .upsert_many(&tenant.id, &[input], &operator())
        .unwrap();
    db.employees()
        .find_by_email(&tenant.id, email)
        .unwrap()
        .unwrap()
}

fn hash(kind: SecretKind) -> TokenHash {
    SecretToken::mint(kind).unwrap().1
}

/// The binding cookie's hash of the browser that signs in.
fn browser() -> TokenHash {
    static BROWSER: LazyLock<TokenHash> = LazyLock::new(|| hash(SecretKind::OidcState));
    *BROWSER
}

/// A session hand-off for the signing-in browser.
fn handoff(code: TokenHash, return_to: Option<String>) -> HandOff {
    HandOff {
        code_hash: code,
        browser_binding: browser(),
        return_to,
    }
}

fn now() -> DateTime<Utc> {
    Utc::now()
}

fn ring() -> KeyRing {
    KeyRing::new(EncryptionKey::from_bytes(&[42u8; 32]).unwrap())
}

fn sso_input(tenant: &Tenant, org_url: &str, secret: &str) -> OktaSsoConfigInput {
    OktaSsoConfigInput {
        org_url: org_url.into(),
        client_id: "0oa1client".into(),
        client_secret: ring()
            .seal(
                &SecretText::new(secret),
                &secret_context(&tenant.id, org_url, "0oa1client"),
            )
            .unwrap(),
        approve_custom_domain: false,
    }
}

fn transaction(state: TokenHash) -> NewLoginTransaction {
    NewLoginTransaction {
        state_hash: state,
        browser_binding_hash: hash(SecretKind::OidcState),
        handoff_binding_hash: browser(),
        nonce: "nonce-1".into(),
        pkce_verifier: "verifier-1".into(),
        login_hint: Some("ada@acme.com".into()),
        return_to: Some("/people".into()),
    }
}

fn new_session(token: TokenHash, employee: &Employee) -> NewSession {
    NewSession {
        token_hash: token,
        employee_id: employee.id.clone(),
        auth_method: AuthMethod::Okta,
        csrf_token: "csrf-1".into(),
    }
}

fn link_code(code: TokenHash, employee: &Employee) -> NewOneTimeCode {
    NewOneTimeCode {
        code_hash: code,
        purpose: CodePurpose::LoginLink,
        employee_id: employee.id.clone(),
        return_to: None,
        browser_binding: None,
    }
}

backend_tests! {
    fn a_deactivation_queues_one_okta_revocation_per_linked_user_in_its_own_transaction(db) {
        let org = "https://acme.okta.com";
        let acme = tenant(db, "acme");
        let ada = employee(db, &acme, "ada@acme.com");
        let grace = employee(db, &acme, "grace@acme.com");
        employee(db, &acme, "linus@acme.com");
        db.employee_identities().link(&acme.id, org, "00u-ada", &ada.id, now()).unwrap();
        db.employee_identities().link(&acme.id, org, "00u-grace", &grace.id, now()).unwrap();
        // A link to another org (the workspace's SSO moved since) is not this org's user.
        db.employee_identities().link(&acme.id, "https://old.okta.com", "00u-old", &ada.id, now()).unwrap();
        let queue = db.okta_revocations();

        // Without real-time sign-out set up, a deactivation queues nothing.
        db.employees().set_active(&acme.id, "linus@acme.com", false, &operator()).unwrap();
        assert!(queue.list(&acme.id).unwrap().is_empty());
        db.employees().set_active(&acme.id, "linus@acme.com", true, &operator()).unwrap();

        db.okta_sso_configs().upsert(&acme.id, &sso_input(&acme, org, "s"), &operator()).unwrap();
        let sealed = ring().seal(&SecretText::new("-----PEM-----"), &service_key_context(&acme.id, "kid-1")).unwrap();
        db.okta_service_apps().set_key(&acme.id, "kid-1", &sealed, r#"{"kty":"RSA"}"#, &operator()).unwrap();
        db.employees().set_active(&acme.id, "ada@acme.com", false, &operator()).unwrap();
        assert!(queue.list(&acme.id).unwrap().is_empty(), "no client id yet: not set up");
        db.employees().set_active(&acme.id, "ada@acme.com", true, &operator()).unwrap();
        let app = db.okta_service_apps().set_client_id(&acme.id, " 0oa-service ", &operator()).unwrap();
        assert_eq!(app.client_id.as_deref(), Some("0oa-service"));
        assert_eq!(app.private_key, sealed);

        // Both paths: the CLI/library call, and an import that deactivates.
        db.employees().set_active(&acme.id, "ada@acme.com", false, &operator()).unwrap();
        let import = [
            EmployeeInput { email: "grace@acme.com".into(), active: Change::Set(false), ..EmployeeInput::default() },
            EmployeeInput { email: "linus@acme.com".into(), active: Change::Set(false), ..EmployeeInput::default() },
        ];
        db.employees().upsert_many(&acme.id, &import, &operator()).unwrap();
        let queued = queue.list(&acme.id).unwrap();
        let mut users: Vec<&str> = queued.iter().map(|r| r.okta_user_id.as_str()).collect();
        users.sort_unstable();
        assert_eq!(users, ["00u-ada", "00u-grace"], "one per linked user of the org; Linus never signed in");
        assert!(queued.iter().all(|r| r.status == RevocationStatus::Pending && r.issuer == org && r.attempts == 0));
        let events = db.audit().recent(&acme.id, 20).unwrap();
        let impossible = events.iter().find(|e| e.action == "okta.revocation_impossible").unwrap();
        assert_eq!(impossible.target.as_deref(), Some("linus@acme.com"));
        assert_eq!(events.iter().filter(|e| e.action == "okta.revocation_queued").count(), 2);

        // Claimed once: a second worker finds nothing until the lease ends.
        let t0 = now();
        let claimed = queue.claim_due(t0, TimeDelta::seconds(30), 10).unwrap();
        assert_eq!(claimed.len(), 2);
        assert!(queue.claim_due(t0, TimeDelta::seconds(30), 10).unwrap().is_empty(), "leased");
        let ada_rev = claimed.iter().find(|r| r.okta_user_id == "00u-ada").unwrap();
        let grace_rev = claimed.iter().find(|r| r.okta_user_id == "00u-grace").unwrap();
        assert!(queue.record(ada_rev, &AttemptOutcome::Sent, t0).unwrap());
        let retry_at = t0 + TimeDelta::seconds(8);
        assert!(queue.record(grace_rev, &AttemptOutcome::Failed { why: "Okta answered HTTP 503".into(), retry_at }, t0).unwrap());
        assert_eq!(queue.failing().unwrap(), 1);
        assert!(queue.claim_due(t0 + TimeDelta::seconds(5), TimeDelta::seconds(30), 10).unwrap().is_empty(), "not due yet");
        let again = queue.claim_due(retry_at, TimeDelta::seconds(30), 10).unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].attempts, 1);
        assert!(again[0].is_failing());
        // A lease that ran out (its worker died) is claimed by another.
        let later = retry_at + TimeDelta::seconds(31);
        let reclaimed = queue.claim_due(later, TimeDelta::seconds(30), 10).unwrap();
        assert_eq!(reclaimed.len(), 1);
        // The worker whose lease ran out answers late: it records nothing.
        assert!(!queue.record(&again[0], &AttemptOutcome::Sent, later).unwrap(), "a lost lease records nothing");
        assert!(queue.record(&reclaimed[0], &AttemptOutcome::UserGone, later).unwrap());
        assert!(!queue.record(&reclaimed[0], &AttemptOutcome::Sent, later).unwrap(), "done: a second answer changes nothing");
        let done = queue.list(&acme.id).unwrap();
        assert!(done.iter().any(|r| r.okta_user_id == "00u-grace" && r.status == RevocationStatus::UserGone), "a late second answer changes nothing");
        assert!(done.iter().any(|r| r.okta_user_id == "00u-ada" && r.status == RevocationStatus::Sent));
        assert_eq!(queue.failing().unwrap(), 0);
        let actions: Vec<String> = db.audit().recent(&acme.id, 5).unwrap().into_iter().map(|e| e.action).collect();
        assert!(actions.contains(&"okta.revocation_sent".to_owned()) && actions.contains(&"okta.revocation_failed".to_owned()) && actions.contains(&"okta.revocation_user_gone".to_owned()), "{actions:?}");
        assert!(queue.claim_due(later + TimeDelta::hours(1), TimeDelta::seconds(30), 10).unwrap().is_empty());
        assert_eq!(queue.purge_done(later + TimeDelta::seconds(1)).unwrap(), 2);

        // Another workspace sees none of it.
        let globex = tenant(db, "globex");
        assert!(queue.list(&globex.id).unwrap().is_empty());
        assert!(db.okta_service_apps().get(&globex.id).unwrap().is_none());
    }

    fn universal_logout_ends_only_the_named_employees_access_in_the_given_workspaces(db) {
        let iss = "https://acme.okta.com";
        let acme = tenant(db, "acme");
        let globex = tenant(db, "globex");
        let ada = employee(db, &acme, "ada@acme.com");
        let grace = employee(db, &acme, "grace@acme.com");
        // Another workspace (signing in with another org) has an employee with Ada's email.
        let globex_ada = employee(db, &globex, "ada@acme.com");
        let policy = SessionPolicy::default();
        let session = |tenant: &Tenant, who: &Employee| {
            let token = hash(SecretKind::Session);
            db.sessions().create(&tenant.id, new_session(token, who), now(), &policy).unwrap();
            token
        };
        let alive = |tenant: &Tenant, token: &TokenHash| {
            db.sessions().find(&tenant.id, token, now(), &policy).unwrap().is_some()
        };
        let ada_session = session(&acme, &ada);
        let ada_phone = session(&acme, &ada);
        let grace_session = session(&acme, &grace);
        let globex_session = session(&globex, &globex_ada);
        let ada_link = hash(SecretKind::SignInLink);
        db.one_time_codes().create(&acme.id, link_code(ada_link, &ada), &operator(), now()).unwrap();
        db.employee_identities().link(&acme.id, iss, "00u-ada", &ada.id, now()).unwrap();
        db.employee_identities().link(&globex.id, iss, "00u-ada", &globex_ada.id, now()).unwrap();

        let logouts = db.universal_logouts();
        let acme_only = [acme.id.clone()];
        let expires = now() + TimeDelta::minutes(5);
        let order = |token_id: &'static str, subject| LogoutOrder {
            issuer: iss,
            token_id,
            token_expires_at: expires,
            workspaces: &acme_only,
            subject,
        };

        let done = logouts.sign_out(&order("jti-1", LogoutSubject::OktaUser("00u-ada"))).unwrap();
        assert_eq!(done, LogoutOutcome::SignedOut {
            employees: vec![(acme.id.clone(), "ada@acme.com".into())],
            sessions_ended: 2,
        });
        assert!(!alive(&acme, &ada_session) && !alive(&acme, &ada_phone), "both of Ada's sessions ended");
        assert!(alive(&acme, &grace_session), "Grace is not named");
        assert!(alive(&globex, &globex_session), "a workspace not passed is not reached, even with the same link");
        assert!(
            matches!(db.one_time_codes().consume(&acme.id, CodePurpose::LoginLink, &ada_link, None, now()).unwrap(), Consumed::Unknown),
            "Ada's unused sign-in link ended too"
        );
        let event = db.audit().recent(&acme.id, 1).unwrap().remove(0);
        assert_eq!((event.actor.as_str(), event.action.as_str()), ("okta", "okta.universal_logout"));
        assert_eq!(event.target.as_deref(), Some("ada@acme.com"));
        assert_eq!(event.details["issuer"], iss);
        assert_eq!(event.details["subject_format"], "iss_sub");
        assert_eq!(event.details["sessions_ended"], 2);

        // The same token again: nothing happens, even to a session made since.
        let ada_again = session(&acme, &ada);
        let replay = logouts.sign_out(&order("jti-1", LogoutSubject::OktaUser("00u-ada"))).unwrap();
        assert_eq!(replay, LogoutOutcome::TokenReplayed);
        assert!(alive(&acme, &ada_again), "a replayed token ends nothing");

        // By email, case-insensitively; the employee signs in again at once afterwards.
        let by_email = logouts.sign_out(&order("jti-2", LogoutSubject::Email(" ADA@Acme.com "))).unwrap();
        assert!(matches!(by_email, LogoutOutcome::SignedOut { sessions_ended: 1, .. }), "{by_email:?}");
        assert!(!alive(&acme, &ada_again));
        let ada_later = session(&acme, &ada);
        assert!(alive(&acme, &ada_later), "signing in again works at once");

        // Unknown subjects change nothing but use the token.
        assert_eq!(logouts.sign_out(&order("jti-3", LogoutSubject::OktaUser("00u-nobody"))).unwrap(), LogoutOutcome::NoSuchEmployee);
        assert_eq!(logouts.sign_out(&order("jti-4", LogoutSubject::Email("nobody@acme.com"))).unwrap(), LogoutOutcome::NoSuchEmployee);
        assert_eq!(logouts.sign_out(&order("jti-3", LogoutSubject::Email("ada@acme.com"))).unwrap(), LogoutOutcome::TokenReplayed);
        assert!(alive(&acme, &ada_later));
        // An Okta user of another issuer, even with the same subject, is not this issuer's.
        let other_issuer = LogoutOrder { issuer: "https://other.okta.com", ..order("jti-5", LogoutSubject::OktaUser("00u-ada")) };
        assert_eq!(logouts.sign_out(&other_issuer).unwrap(), LogoutOutcome::NoSuchEmployee);
        assert!(alive(&acme, &ada_later));

        // A deactivated employee is found by email too (their sessions are already gone).
        db.employees().set_active(&acme.id, "grace@acme.com", false, &operator()).unwrap();
        let inactive = logouts.sign_out(&order("jti-6", LogoutSubject::Email("grace@acme.com"))).unwrap();
        assert!(matches!(inactive, LogoutOutcome::SignedOut { sessions_ended: 0, .. }), "{inactive:?}");

        // Token ids are forgotten once their tokens expired, not before.
        assert_eq!(logouts.purge_expired(now()).unwrap(), 0);
        assert_eq!(logouts.purge_expired(expires + TimeDelta::seconds(1)).unwrap(), 6);
    }

    fn sso_configs_are_saved_replaced_found_by_org_url_and_deleted(db) {
        let acme = tenant(db, "acme");
        let globex = tenant(db, "globex");
        let initech = tenant(db, "initech");
        assert!(db.okta_sso_configs().get(&acme.id).unwrap().is_none());

        let saved = db.okta_sso_configs().upsert(&acme.id, &sso_input(&acme, "https://acme.okta.com", "first"), &operator()).unwrap();
        assert_eq!(saved.org_url, "https://acme.okta.com");
        assert_eq!(saved.updated_by, "operator:test");
        let got = db.okta_sso_configs().get(&acme.id).unwrap().unwrap();
        assert_eq!(got, saved);
        assert_eq!(ring().open(&got.client_secret, &got.secret_context()).unwrap().expose_secret(), "first");
        // The secret is bound to its tenant, org URL and client id: another tenant's row
        // cannot reuse it, nor does it open for another org or client.
        assert!(ring().open(&got.client_secret, &secret_context(&globex.id, &got.org_url, &got.client_id)).is_err());
        assert!(ring().open(&got.client_secret, &secret_context(&acme.id, "https://evil.okta.com", &got.client_id)).is_err());
        assert!(ring().open(&got.client_secret, &secret_context(&acme.id, &got.org_url, "0oa-other")).is_err());

        // Replacing keeps created_at, changes the rest.
        let replaced = db.okta_sso_configs().upsert(&acme.id, &sso_input(&acme, "https://acme.okta.com", "second"), &Actor::employee("admin-1")).unwrap();
        assert_eq!(replaced.created_at, saved.created_at);
        assert!(replaced.updated_at >= saved.updated_at);
        assert_eq!(replaced.updated_by, "employee:admin-1");
        let got = db.okta_sso_configs().get(&acme.id).unwrap().unwrap();
        assert_eq!(ring().open(&got.client_secret, &got.secret_context()).unwrap().expose_secret(), "second");

        // Two workspaces on one Okta org: IdP-initiated sign-in finds both.
        db.okta_sso_configs().upsert(&globex.id, &sso_input(&globex, "https://acme.okta.com", "g"), &operator()).unwrap();
        db.okta_sso_configs().upsert(&initech.id, &sso_input(&initech, "https://initech.okta.com", "i"), &operator()).unwrap();
        let found: Vec<_> = db.okta_sso_configs().tenants_with_org_url("https://acme.okta.com").unwrap().into_iter().map(|t| t.workspace.to_string()).collect();
        assert_eq!(found, ["acme", "globex"]);
        assert!(db.okta_sso_configs().tenants_with_org_url("https://nobody.okta.com").unwrap().is_empty());

        // Audited, never with the secret.
        let events = db.audit().recent(&acme.id, 10).unwrap();
        assert_eq!(events[0].action, "okta_sso.saved");
        assert_eq!(events[1].action, "okta_sso.saved");
        for event in &events {
            let details = event.details.to_string();
            assert!(!details.contains("first") && !details.contains("second"), "{details}");
        }
        assert_eq!(events[0].details["client_id"], "0oa1client");

        assert!(db.okta_sso_configs().delete(&acme.id, &operator()).unwrap());
        assert!(!db.okta_sso_configs().delete(&acme.id, &operator()).unwrap());
        assert!(db.okta_sso_configs().get(&acme.id).unwrap().is_none());
        assert!(db.okta_sso_configs().get(&globex.id).unwrap().is_some(), "only acme's was deleted");
        assert_eq!(db.audit().recent(&acme.id, 1).unwrap()[0].action, "okta_sso.deleted");
            // With the integration state, in one query; each tenant's own.
        let replacement = db.okta_sso_configs().upsert(&acme.id, &sso_input(&acme, "https://acme.okta.com", "third"), &operator()).unwrap();
        db.okta_integrations().activate(&acme, &operator()).unwrap();
        let (integration, config) = db.okta_sso_configs().get_with_integration(&acme.id).unwrap();
        assert!(integration.is_activated() && !integration.is_live());
        assert_eq!(config, Some(replacement));
        let umbrella = tenant(db, "umbrella");
        let (integration, config) = db.okta_sso_configs().get_with_integration(&umbrella.id).unwrap();
        assert!(!integration.is_activated() && config.is_none());
    }

    fn sso_configs_refuse_empty_fields(db) {
        let acme = tenant(db, "acme");
        let mut input = sso_input(&acme, "https://acme.okta.com", "s");
        input.client_id = "  ".into();
        assert!(matches!(db.okta_sso_configs().upsert(&acme.id, &input, &operator()), Err(Error::Invalid(_))));
        let mut input = sso_input(&acme, "", "s");
        input.client_id = "ok".into();
        assert!(matches!(db.okta_sso_configs().upsert(&acme.id, &input, &operator()), Err(Error::Invalid(_))));
        assert!(db.okta_sso_configs().get(&acme.id).unwrap().is_none());
    }

    fn login_transactions_are_used_once(db) {
        let acme = tenant(db, "acme");
        let state = hash(SecretKind::OidcState);
        let created = db.login_transactions().create(&acme.id, transaction(state), now()).unwrap();
        assert_eq!(created.expires_at - created.created_at, TimeDelta::minutes(10));

        let Consumed::Fresh(found) = db.login_transactions().consume(&state, now()).unwrap() else {
            panic!("the first use wins");
        };
        assert_eq!(found, created);
        assert_eq!(found.tenant_id, acme.id);
        assert_eq!(found.nonce, "nonce-1");
        assert_eq!(found.pkce_verifier, "verifier-1");
        assert_eq!(found.return_to.as_deref(), Some("/people"));
        assert_eq!(db.login_transactions().consume(&state, now()).unwrap(), Consumed::AlreadyUsed);
        assert_eq!(db.login_transactions().consume(&hash(SecretKind::OidcState), now()).unwrap(), Consumed::Unknown);
    }

    fn login_transactions_expire_after_ten_minutes(db) {
        let acme = tenant(db, "acme");
        let state = hash(SecretKind::OidcState);
        let start = now() - TimeDelta::minutes(11);
        db.login_transactions().create(&acme.id, transaction(state), start).unwrap();
        assert_eq!(db.login_transactions().consume(&state, now()).unwrap(), Consumed::Expired);
        // Still expired, not "used", on a second try.
        assert_eq!(db.login_transactions().consume(&state, now()).unwrap(), Consumed::Expired);
        // Just inside the window it would have worked.
        let fresh = hash(SecretKind::OidcState);
        db.login_transactions().create(&acme.id, transaction(fresh), start).unwrap();
        assert!(db.login_transactions().consume(&fresh, start + TimeDelta::minutes(9)).unwrap().fresh().is_some());
        assert_eq!(db.login_transactions().purge_expired(now()).unwrap(), 2);
        assert_eq!(db.login_transactions().consume(&state, now()).unwrap(), Consumed::Unknown);
    }

    fn concurrent_callbacks_with_one_state_have_one_winner(db) {
        let acme = tenant(db, "acme");
        let state = hash(SecretKind::OidcState);
        db.login_transactions().create(&acme.id, transaction(state), now()).unwrap();
        let database: Database = (**db).clone();
        let outcomes: Vec<_> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..4)
                .map(|_| {
                    let database = database.clone();
                    s.spawn(move || database.login_transactions().consume(&state, Utc::now()).unwrap())
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let fresh = outcomes.iter().filter(|o| matches!(o, Consumed::Fresh(_))).count();
        let used = outcomes.iter().filter(|o| **o == Consumed::AlreadyUsed).count();
        assert_eq!((fresh, used), (1, 3), "{outcomes:?}");
    }

    fn sessions_are_found_touched_and_ended(db) {
        let acme = tenant(db, "acme");
        let ada = employee(db, &acme, "ada@acme.com");
        let policy = SessionPolicy::default();
        let token = hash(SecretKind::Session);
        let start = now() - TimeDelta::minutes(5);
        let created = db.sessions().create(&acme.id, new_session(token, &ada), start, &policy).unwrap();
        assert_eq!(created.expires_at - created.created_at, TimeDelta::hours(24));

        let found = db.sessions().find(&acme.id, &token, now(), &policy).unwrap().unwrap();
        assert_eq!(found.employee, ada);
        assert_eq!(found.session.csrf_token, "csrf-1");
        assert_eq!(found.session.auth_method, AuthMethod::Okta);
        // Touched: last seen more than a minute ago.
        assert!(found.session.last_seen_at > created.last_seen_at);
        // Not touched again within the minute.
        let again = db.sessions().find(&acme.id, &token, now(), &policy).unwrap().unwrap();
        assert_eq!(again.session.last_seen_at, found.session.last_seen_at);

        assert!(db.sessions().find(&acme.id, &hash(SecretKind::Session), now(), &policy).unwrap().is_none());
        assert!(db.sessions().delete(&acme.id, &token).unwrap());
        assert!(db.sessions().find(&acme.id, &token, now(), &policy).unwrap().is_none());
        assert!(!db.sessions().delete(&acme.id, &token).unwrap());
    }

    fn sessions_end_at_the_idle_and_absolute_timeouts(db) {
        let acme = tenant(db, "acme");
        let ada = employee(db, &acme, "ada@acme.com");
        let policy = SessionPolicy::default();
        let t0 = now() - TimeDelta::hours(30);

        // Idle: unused for 8 hours.
        let idle = hash(SecretKind::Session);
        db.sessions().create(&acme.id, new_session(idle, &ada), t0, &policy).unwrap();
        assert!(db.sessions().find(&acme.id, &idle, t0 + TimeDelta::hours(7), &policy).unwrap().is_some());
        assert!(db.sessions().find(&acme.id, &idle, t0 + TimeDelta::hours(14) + TimeDelta::minutes(59), &policy).unwrap().is_some(), "touched at 7 h: alive until 15 h");
        assert!(db.sessions().find(&acme.id, &idle, t0 + TimeDelta::hours(23) + TimeDelta::minutes(1), &policy).unwrap().is_none(), "idle since 14:59");
        assert_eq!(db.sessions().count_for_employee(&acme.id, &ada.id).unwrap(), 0, "an ended session is deleted");

        // Absolute: busy, but 24 hours old.
        let busy = hash(SecretKind::Session);
        db.sessions().create(&acme.id, new_session(busy, &ada), t0, &policy).unwrap();
        for hour in (1..24).step_by(2) {
            assert!(db.sessions().find(&acme.id, &busy, t0 + TimeDelta::hours(hour), &policy).unwrap().is_some(), "hour {hour}");
        }
        assert!(db.sessions().find(&acme.id, &busy, t0 + TimeDelta::hours(24), &policy).unwrap().is_none());

        // A shorter policy applies to sessions made under a longer one.
        let short = SessionPolicy { absolute_timeout: TimeDelta::hours(1), ..policy };
        let token = hash(SecretKind::Session);
        db.sessions().create(&acme.id, new_session(token, &ada), now() - TimeDelta::hours(2), &policy).unwrap();
        assert!(db.sessions().find(&acme.id, &token, now(), &short).unwrap().is_none());

        // Purging removes what has ended.
        let stale = hash(SecretKind::Session);
        db.sessions().create(&acme.id, new_session(stale, &ada), t0, &policy).unwrap();
        let live = hash(SecretKind::Session);
        db.sessions().create(&acme.id, new_session(live, &ada), now(), &policy).unwrap();
        assert_eq!(db.sessions().purge_expired(now(), &policy).unwrap(), 1);
        assert_eq!(db.sessions().count_for_employee(&acme.id, &ada.id).unwrap(), 1);
    }

    fn a_session_dies_when_its_employee_is_deactivated_by_set_active(db) {
        let acme = tenant(db, "acme");
        let ada = employee(db, &acme, "ada@acme.com");
        let grace = employee(db, &acme, "grace@acme.com");
        let policy = SessionPolicy::default();
        let (ada_token, grace_token) = (hash(SecretKind::Session), hash(SecretKind::Session));
        db.sessions().create(&acme.id, new_session(ada_token, &ada), now(), &policy).unwrap();
        db.sessions().create(&acme.id, new_session(grace_token, &grace), now(), &policy).unwrap();
        let link = hash(SecretKind::SignInLink);
        db.one_time_codes().create(&acme.id, link_code(link, &ada), &operator(), now()).unwrap();

        db.employees().set_active(&acme.id, "ada@acme.com", false, &operator()).unwrap();
        assert!(db.sessions().find(&acme.id, &ada_token, now(), &policy).unwrap().is_none());
        assert_eq!(db.sessions().count_for_employee(&acme.id, &ada.id).unwrap(), 0);
        assert_eq!(db.one_time_codes().consume(&acme.id, CodePurpose::LoginLink, &link, None, now()).unwrap(), Consumed::Unknown);
        assert!(db.sessions().find(&acme.id, &grace_token, now(), &policy).unwrap().is_some(), "others stay signed in");

        // Reactivation does not bring the session back; and no new one for the inactive.
        db.employees().set_active(&acme.id, "ada@acme.com", true, &operator()).unwrap();
        assert!(db.sessions().find(&acme.id, &ada_token, now(), &policy).unwrap().is_none());
        db.employees().set_active(&acme.id, "ada@acme.com", false, &operator()).unwrap();
        let refused = db.sessions().create(&acme.id, new_session(hash(SecretKind::Session), &ada), now(), &policy);
        assert!(matches!(refused, Err(Error::NotFound(_))), "{refused:?}");
        let refused = db.one_time_codes().create(&acme.id, link_code(hash(SecretKind::SignInLink), &ada), &operator(), now());
        assert!(matches!(refused, Err(Error::NotFound(_))), "{refused:?}");
    }

    fn a_session_dies_when_its_employee_is_deactivated_by_import(db) {
        let acme = tenant(db, "acme");
        let ada = employee(db, &acme, "ada@acme.com");
        let policy = SessionPolicy::default();
        let token = hash(SecretKind::Session);
        db.sessions().create(&acme.id, new_session(token, &ada), now(), &policy).unwrap();
        let handoff = hash(SecretKind::HandoffCode);
        db.one_time_codes().create(&acme.id, NewOneTimeCode { purpose: CodePurpose::SessionHandoff, browser_binding: Some(browser()), ..link_code(handoff, &ada) }, &Actor::system(), now()).unwrap();

        let deactivate = EmployeeInput { email: "ADA@acme.com".into(), active: Change::Set(false), ..EmployeeInput::default() };
        let summary = db.employees().upsert_many(&acme.id, &[deactivate], &operator()).unwrap();
        assert_eq!(summary.deactivated, 1);
        assert!(db.sessions().find(&acme.id, &token, now(), &policy).unwrap().is_none());
        assert_eq!(db.sessions().count_for_employee(&acme.id, &ada.id).unwrap(), 0);
        assert_eq!(db.one_time_codes().consume(&acme.id, CodePurpose::SessionHandoff, &handoff, Some(&browser()), now()).unwrap(), Consumed::Unknown);
    }

    fn one_time_codes_are_used_once_within_their_lifetime(db) {
        let acme = tenant(db, "acme");
        let ada = employee(db, &acme, "ada@acme.com");
        let link = hash(SecretKind::SignInLink);
        let created = db.one_time_codes().create(&acme.id, link_code(link, &ada), &operator(), now()).unwrap();
        assert_eq!(created.expires_at - created.created_at, TimeDelta::minutes(10));
        assert_eq!(created.created_by, "operator:test");
        // A code of one purpose is not a code of the other.
        assert_eq!(db.one_time_codes().consume(&acme.id, CodePurpose::SessionHandoff, &link, Some(&browser()), now()).unwrap(), Consumed::Unknown);
        let used = db.one_time_codes().consume(&acme.id, CodePurpose::LoginLink, &link, None, now()).unwrap().fresh().unwrap();
        assert_eq!(used, created);
        assert_eq!(db.one_time_codes().consume(&acme.id, CodePurpose::LoginLink, &link, None, now()).unwrap(), Consumed::AlreadyUsed);
        let event = &db.audit().recent(&acme.id, 1).unwrap()[0];
        assert_eq!((event.action.as_str(), event.target.as_deref()), ("login_link.created", Some("ada@acme.com")));

        // Hand-offs live 30 seconds.
        let handoff = hash(SecretKind::HandoffCode);
        let code = NewOneTimeCode { purpose: CodePurpose::SessionHandoff, browser_binding: Some(browser()), return_to: Some("/people".into()), ..link_code(handoff, &ada) };
        let t0 = now();
        let created = db.one_time_codes().create(&acme.id, code, &Actor::system(), t0).unwrap();
        assert_eq!(created.expires_at - created.created_at, TimeDelta::seconds(30));
        assert_eq!(db.one_time_codes().consume(&acme.id, CodePurpose::SessionHandoff, &handoff, Some(&browser()), t0 + TimeDelta::seconds(31)).unwrap(), Consumed::Expired);
        assert_eq!(db.audit().recent(&acme.id, 1).unwrap()[0].action, "login_link.created", "hand-offs are not audited");

        let fresh = hash(SecretKind::HandoffCode);
        let code = NewOneTimeCode { purpose: CodePurpose::SessionHandoff, browser_binding: Some(browser()), ..link_code(fresh, &ada) };
        db.one_time_codes().create(&acme.id, code, &Actor::system(), t0).unwrap();
        let used = db.one_time_codes().consume(&acme.id, CodePurpose::SessionHandoff, &fresh, Some(&browser()), t0 + TimeDelta::seconds(29)).unwrap();
        assert!(used.fresh().is_some());
        assert_eq!(db.one_time_codes().purge_expired(t0 + TimeDelta::minutes(11)).unwrap(), 3);
    }

    fn a_code_becomes_a_session_in_one_step_or_not_at_all(db) {
        let acme = tenant(db, "acme");
        let globex = tenant(db, "globex");
        let ada = employee(db, &acme, "ada@acme.com");
        let policy = SessionPolicy::default();
        let start = |session: TokenHash| SessionStart { token_hash: session, auth_method: AuthMethod::Okta, csrf_token: "csrf".into(), browser_binding: Some(browser()) };
        let bound = |purpose: CodePurpose| (purpose == CodePurpose::SessionHandoff).then(browser);
        for purpose in [CodePurpose::SessionHandoff, CodePurpose::LoginLink] {
            let code = hash(SecretKind::HandoffCode);
            db.one_time_codes().create(&acme.id, NewOneTimeCode { purpose, browser_binding: bound(purpose), ..link_code(code, &ada) }, &operator(), now()).unwrap();
            // Not on another tenant, nor as the other purpose.
            let session = hash(SecretKind::Session);
            assert_eq!(db.sessions().start_with_code(&globex.id, purpose, &code, start(session), now(), &policy).unwrap(), Redeemed::Code(Consumed::Unknown));
            // Fresh: the session exists with the code's employee.
            let (used, started) = db.sessions().start_with_code(&acme.id, purpose, &code, start(session), now(), &policy).unwrap().started().unwrap();
            assert_eq!((used.employee_id.clone(), started.employee_id.clone()), (ada.id.clone(), ada.id.clone()));
            assert_eq!(db.sessions().find(&acme.id, &session, now(), &policy).unwrap().unwrap().employee.email, "ada@acme.com");
            // Once only, and a replay starts no second session.
            let again = hash(SecretKind::Session);
            assert_eq!(db.sessions().start_with_code(&acme.id, purpose, &code, start(again), now(), &policy).unwrap(), Redeemed::Code(Consumed::AlreadyUsed));
            assert!(db.sessions().find(&acme.id, &again, now(), &policy).unwrap().is_none());
            // Too late: refused, and no session.
            let code = hash(SecretKind::HandoffCode);
            db.one_time_codes().create(&acme.id, NewOneTimeCode { purpose, browser_binding: bound(purpose), ..link_code(code, &ada) }, &operator(), now()).unwrap();
            let late = hash(SecretKind::Session);
            let an_hour_on = now() + TimeDelta::hours(1);
            assert_eq!(db.sessions().start_with_code(&acme.id, purpose, &code, start(late), an_hour_on, &policy).unwrap(), Redeemed::Code(Consumed::Expired));
            assert!(db.sessions().find(&acme.id, &late, an_hour_on, &policy).unwrap().is_none());
        }
        assert_eq!(db.sessions().count_for_employee(&acme.id, &ada.id).unwrap(), 2);
        // Deactivating the employee ends their sessions and their codes with them.
        let code = hash(SecretKind::SignInLink);
        db.one_time_codes().create(&acme.id, link_code(code, &ada), &operator(), now()).unwrap();
        db.employees().set_active(&acme.id, "ada@acme.com", false, &operator()).unwrap();
        let refused = db.sessions().start_with_code(&acme.id, CodePurpose::LoginLink, &code, start(hash(SecretKind::Session)), now(), &policy).unwrap();
        assert_eq!(refused, Redeemed::Code(Consumed::Unknown));
        assert_eq!(db.sessions().count_for_employee(&acme.id, &ada.id).unwrap(), 0);
    }

    fn a_fresh_code_of_an_employee_no_longer_active_starts_nothing_and_stays_unused(db) {
        let acme = tenant(db, "acme");
        let ada = employee(db, &acme, "ada@acme.com");
        let policy = SessionPolicy::default();
        let start = || SessionStart { token_hash: hash(SecretKind::Session), auth_method: AuthMethod::Okta, csrf_token: "csrf".into(), browser_binding: Some(browser()) };
        let bound = |purpose: CodePurpose| (purpose == CodePurpose::SessionHandoff).then(browser);
        // Deactivating ends the codes it finds; the flag alone is what a deactivation
        // racing with the code's redemption looks like to it.
        let set_active = |active: bool| db.execute(&format!("UPDATE employees SET active = {active} WHERE id = '{}'", ada.id.as_str()));
        for purpose in [CodePurpose::SessionHandoff, CodePurpose::LoginLink] {
            let code = hash(SecretKind::HandoffCode);
            db.one_time_codes().create(&acme.id, NewOneTimeCode { purpose, browser_binding: bound(purpose), ..link_code(code, &ada) }, &operator(), now()).unwrap();
            let sessions = db.sessions().count_for_employee(&acme.id, &ada.id).unwrap();
            set_active(false);
            let refused = db.sessions().start_with_code(&acme.id, purpose, &code, start(), now(), &policy).unwrap();
            assert_eq!(refused, Redeemed::EmployeeInactive, "{purpose:?}");
            assert_eq!(db.sessions().count_for_employee(&acme.id, &ada.id).unwrap(), sessions);
            // Unused: once Ada is back, the same code starts her session.
            set_active(true);
            let (used, session) = db.sessions().start_with_code(&acme.id, purpose, &code, start(), now(), &policy).unwrap().started().unwrap();
            assert_eq!((used.employee_id, session.employee_id), (ada.id.clone(), ada.id.clone()));
        }
    }

    fn both_ways_of_signing_in_write_the_same_records(db) {
        // On PostgreSQL a returning sign-in and its hand-off are one statement each
        // (`sign_in/sql/`); step by step, they are the statements SQLite runs. Both write
        // the same fields: the same sign-in through each, at the same instant, compared
        // column by column by the database itself.
        let acme = tenant(db, "acme");
        let ada = employee(db, &acme, "ada@acme.com");
        let (iss, at, policy) = ("https://acme.okta.com", now(), SessionPolicy::default());
        let step_by_step = db.with_sign_in_step_by_step();
        // The first sign-in links Ada's Okta user; the two below are returning ones.
        db.employee_identities().resolve_and_hand_off(&acme.id, iss, "00u-ada", "ada@acme.com", handoff(hash(SecretKind::HandoffCode), None), at).unwrap();
        let codes = [hash(SecretKind::HandoffCode), hash(SecretKind::HandoffCode)];
        let sessions = [hash(SecretKind::Session), hash(SecretKind::Session)];
        for (way, code) in [db.db(), &step_by_step].into_iter().zip(&codes) {
            let found = way.employee_identities().resolve_and_hand_off(&acme.id, iss, "00u-ada", "ada@acme.com", handoff(*code, Some("/home?tab=1".into())), at).unwrap();
            assert!(matches!(found, SignInMatch::Employee { ref employee, newly_linked: false } if employee.id == ada.id), "{found:?}");
        }
        let same = |table: &str, key: &str, columns: &[&str], hashes: [&TokenHash; 2]| {
            let equal = |c: &&str| match db.backend() {
                persistence::Backend::Postgres => format!("a.{c} IS NOT DISTINCT FROM b.{c}"),
                persistence::Backend::Sqlite => format!("a.{c} IS b.{c}"),
            };
            let conditions: Vec<String> = columns.iter().map(equal).collect();
            db.select_number(&format!(
                "SELECT count(*) AS n FROM {table} a, {table} b WHERE a.{key} = '{}' AND b.{key} = '{}' AND {}",
                hashes[0].to_hex(), hashes[1].to_hex(), conditions.join(" AND ")
            ))
        };
        let code_columns = ["purpose", "tenant_id", "employee_id", "return_to", "created_by", "created_at", "expires_at", "consumed_at", "browser_binding_hash"];
        assert_eq!(same("one_time_codes", "code_hash", &code_columns, [&codes[0], &codes[1]]), 1, "the hand-off codes differ");
        for (way, (code, session)) in [db.db(), &step_by_step].into_iter().zip(codes.iter().zip(&sessions)) {
            let start = SessionStart { token_hash: *session, auth_method: AuthMethod::Okta, csrf_token: "csrf".into(), browser_binding: Some(browser()) };
            let (used, _) = way.sessions().start_with_code(&acme.id, CodePurpose::SessionHandoff, code, start, at, &policy).unwrap().started().unwrap();
            assert_eq!(used.employee_id, ada.id);
        }
        assert_eq!(same("one_time_codes", "code_hash", &code_columns, [&codes[0], &codes[1]]), 1, "the used codes differ");
        let used = db.select_number(&format!("SELECT count(*) AS n FROM one_time_codes WHERE consumed_at IS NOT NULL AND code_hash IN ('{}', '{}')", codes[0].to_hex(), codes[1].to_hex()));
        assert_eq!(used, 2, "both codes are used");
        let session_columns = ["tenant_id", "employee_id", "auth_method", "csrf_token", "created_at", "last_seen_at", "expires_at"];
        assert_eq!(same("sessions", "token_hash", &session_columns, [&sessions[0], &sessions[1]]), 1, "the sessions differ");
        let signed_in = db.select_number(&format!("SELECT count(*) AS n FROM employee_identities WHERE employee_id = '{}' AND last_sign_in_at IS NOT NULL", ada.id.as_str()));
        assert_eq!(signed_in, 1, "the link records the sign-in");
    }

    fn tenants_never_get_each_others_sign_in_records(db) {
        let acme = tenant(db, "acme");
        let globex = tenant(db, "globex");
        let ada = employee(db, &acme, "ada@acme.com");
        let other_ada = employee(db, &globex, "ada@acme.com");
        let policy = SessionPolicy::default();

        // Sessions: a token of acme is nothing on globex, and cannot be ended there.
        let token = hash(SecretKind::Session);
        db.sessions().create(&acme.id, new_session(token, &ada), now(), &policy).unwrap();
        assert!(db.sessions().find(&globex.id, &token, now(), &policy).unwrap().is_none());
        assert!(!db.sessions().delete(&globex.id, &token).unwrap());
        assert!(db.sessions().find(&acme.id, &token, now(), &policy).unwrap().is_some());
        // A session cannot be made on one tenant for another tenant's employee.
        let cross = db.sessions().create(&globex.id, new_session(hash(SecretKind::Session), &ada), now(), &policy);
        assert!(matches!(cross, Err(Error::NotFound(_))), "{cross:?}");

        // Codes: acme's code does not work on globex, and is not used up by trying.
        let link = hash(SecretKind::SignInLink);
        db.one_time_codes().create(&acme.id, link_code(link, &ada), &operator(), now()).unwrap();
        assert_eq!(db.one_time_codes().consume(&globex.id, CodePurpose::LoginLink, &link, None, now()).unwrap(), Consumed::Unknown);
        assert!(db.one_time_codes().consume(&acme.id, CodePurpose::LoginLink, &link, None, now()).unwrap().fresh().is_some());
        let cross = db.one_time_codes().create(&globex.id, link_code(hash(SecretKind::SignInLink), &ada), &operator(), now());
        assert!(matches!(cross, Err(Error::NotFound(_))), "{cross:?}");

        // Transactions carry their tenant; the callback signs in to that tenant only.
        let state = hash(SecretKind::OidcState);
        db.login_transactions().create(&globex.id, transaction(state), now()).unwrap();
        assert_eq!(db.login_transactions().consume(&state, now()).unwrap().fresh().unwrap().tenant_id, globex.id);

        // Identities: the same Okta user links separately per tenant.
        let iss = "https://shared.okta.com";
        db.employee_identities().link(&acme.id, iss, "00u1", &ada.id, now()).unwrap();
        assert!(db.employee_identities().find_employee(&globex.id, iss, "00u1").unwrap().is_none());
        let cross = db.employee_identities().link(&globex.id, iss, "00u1", &ada.id, now());
        assert!(matches!(cross, Err(Error::NotFound(_))), "{cross:?}");
        db.employee_identities().link(&globex.id, iss, "00u1", &other_ada.id, now()).unwrap();
        assert_eq!(db.employee_identities().find_employee(&globex.id, iss, "00u1").unwrap().unwrap().id, other_ada.id);
        assert_eq!(db.employee_identities().find_employee(&acme.id, iss, "00u1").unwrap().unwrap().id, ada.id);
    }

    fn sign_ins_match_by_email_once_then_by_identity(db) {
        let acme = tenant(db, "acme");
        let ada = employee(db, &acme, "ada@acme.com");
        let grace = employee(db, &acme, "grace@acme.com");
        let ids = db.employee_identities();
        let iss = "https://acme.okta.com";

        let SignInMatch::Employee { employee, newly_linked } = ids.resolve_sign_in(&acme.id, iss, "00u-ada", "ADA@Acme.com", now()).unwrap() else {
            panic!("matched by email, case-insensitively");
        };
        assert_eq!((employee.id.clone(), newly_linked), (ada.id.clone(), true));
        // Later the link is relied on, even if Okta's email changed to someone else's.
        let SignInMatch::Employee { employee, newly_linked } = ids.resolve_sign_in(&acme.id, iss, "00u-ada", "grace@acme.com", now()).unwrap() else {
            panic!("matched by identity");
        };
        assert_eq!((employee.id, newly_linked), (ada.id.clone(), false));

        assert_eq!(ids.resolve_sign_in(&acme.id, iss, "00u-x", "nobody@acme.com", now()).unwrap(), SignInMatch::NoSuchEmployee);
        // Another issuer is another identity.
        let SignInMatch::Employee { employee, .. } = ids.resolve_sign_in(&acme.id, "https://other.okta.com", "00u-ada", "grace@acme.com", now()).unwrap() else {
            panic!("other issuer, matched by email");
        };
        assert_eq!(employee.id, grace.id);
        let conflict = ids.link(&acme.id, iss, "00u-ada", &grace.id, now());
        assert!(matches!(conflict, Err(Error::Conflict(_))), "{conflict:?}");

        db.employees().set_active(&acme.id, "ada@acme.com", false, &operator()).unwrap();
        assert!(matches!(ids.resolve_sign_in(&acme.id, iss, "00u-ada", "ada@acme.com", now()).unwrap(), SignInMatch::Deactivated(_)));
        assert!(matches!(ids.resolve_sign_in(&acme.id, iss, "00u-new", "ada@acme.com", now()).unwrap(), SignInMatch::Deactivated(_)));
        assert!(ids.find_employee(&acme.id, iss, "00u-new").unwrap().is_none(), "a deactivated employee is not linked");
    }

    fn a_match_and_its_hand_off_are_one_step(db) {
        let acme = tenant(db, "acme");
        let ada = employee(db, &acme, "ada@acme.com");
        let ids = db.employee_identities();
        let iss = "https://acme.okta.com";
        let redeem = |code: &TokenHash| db.one_time_codes().consume(&acme.id, CodePurpose::SessionHandoff, code, Some(&browser()), now()).unwrap();

        // A match: the hand-off is stored for the employee who matched, with return_to.
        let code = hash(SecretKind::HandoffCode);
        let matched = ids.resolve_and_hand_off(&acme.id, iss, "00u-ada", "Ada@acme.com", handoff(code, Some("/people".into())), now()).unwrap();
        assert!(matches!(matched, SignInMatch::Employee { newly_linked: true, .. }), "{matched:?}");
        let used = redeem(&code).fresh().unwrap();
        assert_eq!((used.employee_id, used.return_to.as_deref()), (ada.id.clone(), Some("/people")));
        // Again, now that the identity is linked: the same, whatever the email says.
        let code = hash(SecretKind::HandoffCode);
        let matched = ids.resolve_and_hand_off(&acme.id, iss, "00u-ada", "other@acme.com", handoff(code, Some("/home".into())), now()).unwrap();
        assert!(matches!(&matched, SignInMatch::Employee { employee, newly_linked: false } if employee.id == ada.id), "{matched:?}");
        let used = redeem(&code).fresh().unwrap();
        assert_eq!((used.employee_id, used.return_to.as_deref()), (ada.id.clone(), Some("/home")));
        // Nobody, or a deactivated employee: no hand-off exists.
        let code = hash(SecretKind::HandoffCode);
        assert_eq!(ids.resolve_and_hand_off(&acme.id, iss, "00u-x", "nobody@acme.com", handoff(code, None), now()).unwrap(), SignInMatch::NoSuchEmployee);
        assert_eq!(redeem(&code), Consumed::Unknown);
        db.employees().set_active(&acme.id, "ada@acme.com", false, &operator()).unwrap();
        let code = hash(SecretKind::HandoffCode);
        assert!(matches!(ids.resolve_and_hand_off(&acme.id, iss, "00u-ada", "ada@acme.com", handoff(code, None), now()).unwrap(), SignInMatch::Deactivated(_)));
        assert_eq!(redeem(&code), Consumed::Unknown);
        // A bad return_to refuses the whole step before anything is written: no link, no code.
        db.employees().set_active(&acme.id, "ada@acme.com", true, &operator()).unwrap();
        let code = hash(SecretKind::HandoffCode);
        let refused = ids.resolve_and_hand_off(&acme.id, iss, "00u-new", "ada@acme.com", handoff(code, Some("/".repeat(3_000))), now());
        assert!(matches!(refused, Err(Error::Invalid(_))), "{refused:?}");
        assert!(ids.find_employee(&acme.id, iss, "00u-new").unwrap().is_none(), "nothing written");
    }

    fn a_second_okta_user_with_the_same_email_cannot_take_over_a_linked_employee(db) {
        let acme = tenant(db, "acme");
        let ada = employee(db, &acme, "ada@acme.com");
        let ids = db.employee_identities();
        let iss = "https://acme.okta.com";
        // Ada's Okta user signs in first and is linked.
        assert!(matches!(ids.resolve_sign_in(&acme.id, iss, "00u-ada", "ada@acme.com", now()).unwrap(), SignInMatch::Employee { newly_linked: true, .. }));
        // Another Okta user of the same org, whose email a help-desk admin set to Ada's.
        let attacker = ids.resolve_sign_in(&acme.id, iss, "00u-mallory", "ADA@acme.com", now()).unwrap();
        assert!(matches!(&attacker, SignInMatch::IdentityConflict(e) if e.id == ada.id), "{attacker:?}");
        assert!(ids.find_employee(&acme.id, iss, "00u-mallory").unwrap().is_none(), "not linked");
        // The same through the sign-in step that stores the hand-off: no code for the attacker.
        let code = hash(SecretKind::HandoffCode);
        let attacker = ids.resolve_and_hand_off(&acme.id, iss, "00u-mallory", "ada@acme.com", handoff(code, None), now()).unwrap();
        assert!(matches!(attacker, SignInMatch::IdentityConflict(_)), "{attacker:?}");
        assert_eq!(db.one_time_codes().consume(&acme.id, CodePurpose::SessionHandoff, &code, Some(&browser()), now()).unwrap(), Consumed::Unknown);
        // The unique index holds the rule below the repository's check, too.
        let direct = ids.link(&acme.id, iss, "00u-mallory", &ada.id, now());
        assert!(matches!(direct, Err(Error::Conflict(_))), "{direct:?}");
        // Ada still signs in; and an Okta user of another org is another identity.
        assert!(matches!(ids.resolve_sign_in(&acme.id, iss, "00u-ada", "ada@acme.com", now()).unwrap(), SignInMatch::Employee { newly_linked: false, .. }));
        assert!(matches!(ids.resolve_sign_in(&acme.id, "https://acme.oktapreview.com", "00u-ada-preview", "ada@acme.com", now()).unwrap(), SignInMatch::Employee { newly_linked: true, .. }));
    }

    fn two_okta_users_racing_for_one_email_link_one(db) {
        let acme = tenant(db, "acme");
        let ada = employee(db, &acme, "ada@acme.com");
        let iss = "https://acme.okta.com";
        for round in 0..5 {
            let subjects: Vec<String> = (0..4).map(|i| format!("00u-{round}-{i}")).collect();
            let outcomes: Vec<SignInMatch> = std::thread::scope(|s| {
                let handles: Vec<_> = subjects
                    .iter()
                    .map(|subject| {
                        let database = db;
                        let tenant = acme.id.clone();
                        s.spawn(move || database.employee_identities().resolve_sign_in(&tenant, iss, subject, "ada@acme.com", Utc::now()).unwrap())
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let linked = outcomes.iter().filter(|o| matches!(o, SignInMatch::Employee { newly_linked: true, .. })).count();
            let refused = outcomes.iter().filter(|o| matches!(o, SignInMatch::IdentityConflict(_))).count();
            assert_eq!((linked, refused), (1, 3), "{outcomes:?}");
            let links = db.employee_identities().list(&acme.id, Some("ada@acme.com")).unwrap();
            assert_eq!(links.len(), 1, "{links:?}");
            assert_eq!(links[0].employee_id, ada.id);
            db.employee_identities().unlink(&acme.id, "ada@acme.com", &operator()).unwrap();
        }
    }

    fn unlinking_lets_the_next_okta_user_link_and_ends_sessions(db) {
        let acme = tenant(db, "acme");
        let globex = tenant(db, "globex");
        let ada = employee(db, &acme, "ada@acme.com");
        employee(db, &globex, "ada@acme.com");
        let ids = db.employee_identities();
        let iss = "https://acme.okta.com";
        ids.resolve_sign_in(&acme.id, iss, "00u-old", "ada@acme.com", now()).unwrap();
        ids.resolve_sign_in(&globex.id, iss, "00u-old", "ada@acme.com", now()).unwrap();
        let policy = SessionPolicy::default();
        let session = hash(SecretKind::Session);
        db.sessions().create(&acme.id, new_session(session, &ada), now(), &policy).unwrap();

        let listed = ids.list(&acme.id, None).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!((listed[0].email.as_str(), listed[0].issuer.as_str(), listed[0].subject.as_str(), listed[0].active), ("ada@acme.com", iss, "00u-old", true));
        assert_eq!(ids.list(&acme.id, Some("Ada@ACME.com")).unwrap().len(), 1);
        assert!(ids.list(&acme.id, Some("grace@acme.com")).unwrap().is_empty());

        let unlinked = ids.unlink(&acme.id, "ADA@acme.com", &Actor::employee("admin-1")).unwrap();
        assert_eq!(unlinked.identities, [(iss.to_owned(), "00u-old".to_owned())]);
        assert_eq!(unlinked.sessions_ended, 1);
        assert!(db.sessions().find(&acme.id, &session, now(), &policy).unwrap().is_none());
        let event = &db.audit().recent(&acme.id, 1).unwrap()[0];
        assert_eq!((event.action.as_str(), event.target.as_deref(), event.actor.as_str()), ("okta_identity.unlinked", Some("ada@acme.com"), "employee:admin-1"));
        assert_eq!(event.details["identities"][0]["subject"], "00u-old");
        // Only this workspace's link went.
        assert_eq!(ids.list(&globex.id, None).unwrap().len(), 1);
        // Nothing left to unlink, or nobody with the email: said so.
        assert!(matches!(ids.unlink(&acme.id, "ada@acme.com", &operator()), Err(Error::NotFound(_))));
        assert!(matches!(ids.unlink(&acme.id, "nobody@acme.com", &operator()), Err(Error::NotFound(_))));
        // The replacement Okta user now links.
        assert!(matches!(ids.resolve_sign_in(&acme.id, iss, "00u-new", "ada@acme.com", now()).unwrap(), SignInMatch::Employee { newly_linked: true, .. }));
    }

    fn a_hand_off_works_only_in_the_browser_that_signed_in(db) {
        let acme = tenant(db, "acme");
        let ada = employee(db, &acme, "ada@acme.com");
        let ids = db.employee_identities();
        let iss = "https://acme.okta.com";
        let policy = SessionPolicy::default();
        let start = |binding: Option<TokenHash>| SessionStart {
            token_hash: hash(SecretKind::Session),
            auth_method: AuthMethod::Okta,
            csrf_token: "csrf".into(),
            browser_binding: binding,
        };
        // First sign-in (matched by email), then a returning one (the linked path, one
        // statement on PostgreSQL): each hand-off is bound to the browser that signed in.
        for _ in 0..2 {
            let code = hash(SecretKind::HandoffCode);
            ids.resolve_and_hand_off(&acme.id, iss, "00u-ada", "ada@acme.com", handoff(code, None), now()).unwrap();
            let (used, _) = db.sessions().start_with_code(&acme.id, CodePurpose::SessionHandoff, &code, start(Some(browser())), now(), &policy).unwrap().started().unwrap();
            assert_eq!(used.employee_id, ada.id);
            assert_eq!(used.browser_binding, Some(browser()));
            // Used: a replay says so, whatever the browser.
            assert_eq!(db.sessions().start_with_code(&acme.id, CodePurpose::SessionHandoff, &code, start(None), now(), &policy).unwrap(), Redeemed::Code(Consumed::AlreadyUsed));
        }
        // Another browser, or one without the cookie, presenting a hand-off first: refused,
        // nothing started, and the code used up — the browser it was made for cannot use
        // it either, and neither can anyone the URL reaches next.
        for (other, then) in [
            (Some(hash(SecretKind::OidcState)), Some(browser())),
            (None, Some(browser())),
            (Some(hash(SecretKind::OidcState)), Some(hash(SecretKind::OidcState))),
        ] {
            let code = hash(SecretKind::HandoffCode);
            ids.resolve_and_hand_off(&acme.id, iss, "00u-ada", "ada@acme.com", handoff(code, None), now()).unwrap();
            let attempt = start(other);
            let session = attempt.token_hash;
            assert_eq!(db.sessions().start_with_code(&acme.id, CodePurpose::SessionHandoff, &code, attempt, now(), &policy).unwrap(), Redeemed::Code(Consumed::WrongBrowser));
            assert!(db.sessions().find(&acme.id, &session, now(), &policy).unwrap().is_none());
            assert_eq!(db.sessions().start_with_code(&acme.id, CodePurpose::SessionHandoff, &code, start(then), now(), &policy).unwrap(), Redeemed::Code(Consumed::AlreadyUsed));
        }
        let code = hash(SecretKind::HandoffCode);
        ids.resolve_and_hand_off(&acme.id, iss, "00u-ada", "ada@acme.com", handoff(code, None), now()).unwrap();
        assert_eq!(db.one_time_codes().consume(&acme.id, CodePurpose::SessionHandoff, &code, None, now()).unwrap(), Consumed::WrongBrowser);
        assert_eq!(db.one_time_codes().consume(&acme.id, CodePurpose::SessionHandoff, &code, Some(&browser()), now()).unwrap(), Consumed::AlreadyUsed);
        // A hand-off cannot be stored unbound; a sign-in link is not bound.
        let unbound = db.one_time_codes().create(&acme.id, NewOneTimeCode { purpose: CodePurpose::SessionHandoff, ..link_code(hash(SecretKind::HandoffCode), &ada) }, &Actor::system(), now());
        assert!(matches!(unbound, Err(Error::Invalid(_))), "{unbound:?}");
        let link = hash(SecretKind::SignInLink);
        db.one_time_codes().create(&acme.id, link_code(link, &ada), &operator(), now()).unwrap();
        assert!(db.sessions().start_with_code(&acme.id, CodePurpose::LoginLink, &link, start(None), now(), &policy).unwrap().started().is_some());
    }

    fn a_custom_domain_approval_belongs_to_its_org_url(db) {
        let acme = tenant(db, "acme");
        let configs = db.okta_sso_configs();
        let custom = "https://login.acme.example";
        let approved = configs.upsert(&acme.id, &OktaSsoConfigInput { approve_custom_domain: true, ..sso_input(&acme, custom, "s") }, &operator()).unwrap();
        assert_eq!(approved.custom_domain_approved_by.as_deref(), Some("operator:test"));
        let events = db.audit().recent(&acme.id, 2).unwrap();
        assert_eq!((events[0].action.as_str(), events[0].target.as_deref()), ("okta_sso.custom_domain_approved", Some(custom)));
        // An admin's later save of the same org URL (new secret) keeps the approval …
        let kept = configs.upsert(&acme.id, &sso_input(&acme, custom, "s2"), &Actor::employee("admin-1")).unwrap();
        assert_eq!(kept.custom_domain_approved_by.as_deref(), Some("operator:test"));
        // … another org URL drops it, and it does not come back with the first URL.
        let moved = configs.upsert(&acme.id, &sso_input(&acme, "https://acme.okta.com", "s3"), &Actor::employee("admin-1")).unwrap();
        assert_eq!(moved.custom_domain_approved_by, None);
        let back = configs.upsert(&acme.id, &sso_input(&acme, custom, "s4"), &Actor::employee("admin-1")).unwrap();
        assert_eq!(back.custom_domain_approved_by, None);
    }
}

/// What the migration that made links unique does to a second Okta user an earlier
/// version let take over an employee: removed, audited, and signed out — the employee's
/// first link stays.
fn the_migration_removes_second_links(backend: persistence::Backend) {
    let db = persistence::testing::TestDatabase::new_migrated_until(
        backend,
        "2026-11-29-000020_directory_version",
    );
    let acme = tenant(&db, "acme");
    let ada = employee(&db, &acme, "ada@acme.com");
    let grace = employee(&db, &acme, "grace@acme.com");
    let iss = "https://acme.okta.com";
    let t0 = now();
    let ids = db.employee_identities();
    ids.link(&acme.id, iss, "00u-ada", &ada.id, t0).unwrap();
    ids.link(
        &acme.id,
        iss,
        "00u-mallory",
        &ada.id,
        t0 + TimeDelta::seconds(5),
    )
    .unwrap();
    ids.link(
        &acme.id,
        "https://acme.oktapreview.com",
        "00u-ada-preview",
        &ada.id,
        t0,
    )
    .unwrap();
    ids.link(&acme.id, iss, "00u-grace", &grace.id, t0).unwrap();
    let policy = SessionPolicy::default();
    let (ada_session, grace_session) = (hash(SecretKind::Session), hash(SecretKind::Session));
    db.sessions()
        .create(&acme.id, new_session(ada_session, &ada), now(), &policy)
        .unwrap();
    db.sessions()
        .create(&acme.id, new_session(grace_session, &grace), now(), &policy)
        .unwrap();

    let applied = db.migrate().unwrap();
    assert_eq!(applied.first().map(String::as_str), Some("20261207000100"));

    let mut ada_links: Vec<(String, String)> = ids
        .list(&acme.id, Some("ada@acme.com"))
        .unwrap()
        .into_iter()
        .map(|l| (l.issuer, l.subject))
        .collect();
    ada_links.sort();
    assert_eq!(
        ada_links,
        [
            (iss.to_owned(), "00u-ada".to_owned()),
            (
                "https://acme.oktapreview.com".to_owned(),
                "00u-ada-preview".to_owned()
            ),
        ]
    );
    assert_eq!(ids.list(&acme.id, Some("grace@acme.com")).unwrap().len(), 1);
    // The migration's event, among the test's own (the migration stamps it with the
    // database's clock, on SQLite to the second, so it need not sort last).
    let events = db.audit().recent(&acme.id, 20).unwrap();
    let unlinked: Vec<_> = events
        .iter()
        .filter(|e| e.action == "okta_identity.unlinked")
        .collect();
    assert_eq!(unlinked.len(), 1, "{events:?}");
    let event = unlinked[0];
    assert_eq!(
        (event.target.as_deref(), event.actor.as_str()),
        (Some("ada@acme.com"), "system")
    );
    assert_eq!(event.details["subject"], "00u-mallory");
    assert!(
        db.sessions()
            .find(&acme.id, &ada_session, now(), &policy)
            .unwrap()
            .is_none()
    );
    assert!(
        db.sessions()
            .find(&acme.id, &grace_session, now(), &policy)
            .unwrap()
            .is_some()
    );
    // And from now on the index refuses a second link.
    let again = ids.link(&acme.id, iss, "00u-mallory", &ada.id, now());
    assert!(matches!(again, Err(Error::Conflict(_))), "{again:?}");
}

mod the_migration_removes_second_links {
    #[test]
    fn sqlite() {
        super::the_migration_removes_second_links(persistence::Backend::Sqlite);
    }

    #[test]
    #[ignore = "needs PostgreSQL"]
    fn postgres() {
        super::the_migration_removes_second_links(persistence::Backend::Postgres);
    }
}
