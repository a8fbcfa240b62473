//! `sparkctl okta sso set` and `sparkctl login-link`, the real binary on both backends;
//! discovery runs against the test OpenID Provider in `testing/oidc-provider` (install it
//! with `npm ci` there; `cargo xtask test` does).

use std::io::Write;
use std::process::{Command, Output, Stdio};

use oidc_client::testing::TestProvider;
use persistence::testing::TestDatabase;
use persistence::{
    Actor, Change, CodePurpose, Consumed, EmployeeInput, OktaSsoConfigInput, Tenant, Workspace,
    backend_tests,
};
use token_store::sealed::{EncryptionKey, KeyRing, SecretText};
use token_store::{SecretKind, TokenHash};

const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

fn sparkctl(db: &TestDatabase, env: &[(&str, &str)], args: &[&str], stdin: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_sparkctl"));
    command
        .args(args)
        .current_dir(dir.path())
        .env("DATABASE_URL", db.database_url())
        .env("USER", "ops-test")
        .env_remove("SPARK__SECRETS__ENCRYPTION_KEY")
        .env_remove("SPARK__SECURITY__ALLOW_INSECURE_HTTP")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "sparkctl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr_of_failure(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "sparkctl should have failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr.clone()).unwrap()
}

fn acme(db: &TestDatabase) -> Tenant {
    let tenant = db
        .tenants()
        .create(&Workspace::parse("acme").unwrap(), "Acme", &Actor::system())
        .unwrap();
    let people = ["ada@acme.com", "linus@acme.com"].map(|email| EmployeeInput {
        email: email.into(),
        ..EmployeeInput::default()
    });
    db.employees()
        .upsert_many(&tenant.id, &people, &Actor::system())
        .unwrap();
    db.employees()
        .upsert_many(
            &tenant.id,
            &[EmployeeInput {
                email: "linus@acme.com".into(),
                active: Change::Set(false),
                ..EmployeeInput::default()
            }],
            &Actor::system(),
        )
        .unwrap();
    tenant
}

/// The test OpenID Provider, killed when dropped.
struct Op(TestProvider);

impl Op {
    fn start() -> Op {
        Op(TestProvider::start(
            "0oa-test",
            "s3cret",
            "http://127.0.0.1:9/api/OktaAuth/callback",
            &[],
        ))
    }

    fn port(&self) -> u16 {
        self.0.port()
    }

    fn issuer(&self) -> &str {
        &self.0.issuer
    }
}

const INSECURE: (&str, &str) = ("SPARK__SECURITY__ALLOW_INSECURE_HTTP", "true");
const WITH_KEY: (&str, &str) = ("SPARK__SECRETS__ENCRYPTION_KEY", KEY);

backend_tests! {
    /// `sparkctl employees deactivate` queues the Okta revocation in the deactivation's
    /// transaction (no worker runs here), and `okta revocations list` shows it.
    fn a_cli_deactivation_queues_an_okta_revocation_the_list_shows(db) {
        let tenant = acme(db);
        let org = "https://acme.okta.com";
        let ring = KeyRing::new(EncryptionKey::from_base64(KEY).unwrap());
        let secret = ring.seal(&SecretText::new("s"), &persistence::secret_context(&tenant.id, org, "0oa-test")).unwrap();
        let input = OktaSsoConfigInput { org_url: org.into(), client_id: "0oa-test".into(), client_secret: secret, approve_custom_domain: false };
        db.okta_sso_configs().upsert(&tenant.id, &input, &Actor::system()).unwrap();
        let key = ring.seal(&SecretText::new("pem"), &persistence::service_key_context(&tenant.id, "kid")).unwrap();
        db.okta_service_apps().set_key(&tenant.id, "kid", &key, "{}", &Actor::system()).unwrap();
        db.okta_service_apps().set_client_id(&tenant.id, "0oa-service", &Actor::system()).unwrap();
        let ada = db.employees().find_by_email(&tenant.id, "ada@acme.com").unwrap().unwrap();
        db.employee_identities().link(&tenant.id, org, "00u-ada", &ada.id, chrono::Utc::now()).unwrap();

        let empty = stdout(&sparkctl(db, &[], &["okta", "revocations", "list", "acme"], ""));
        assert_eq!(empty.lines().count(), 1, "a header only: {empty}");
        assert!(sparkctl(db, &[], &["employees", "deactivate", "acme", "ada@acme.com"], "").status.success());
        let listed = stdout(&sparkctl(db, &[], &["okta", "revocations", "list", "acme"], ""));
        let row = listed.lines().nth(1).unwrap_or_default();
        assert!(row.contains("ada@acme.com") && row.contains("00u-ada") && row.contains("queued"), "{listed}");
        let err = stderr_of_failure(&sparkctl(db, &[], &["okta", "revocations", "list", "nowhere"], ""));
        assert!(err.contains("nowhere"), "{err}");
    }

    fn login_links_sign_in_active_employees_once(db) {
        let tenant = acme(db);
        let out = sparkctl(db, &[], &["login-link", "acme", "ADA@acme.com"], "");
        let url = stdout(&out);
        let lines: Vec<&str> = url.lines().collect();
        assert_eq!(lines.len(), 1, "only the URL on stdout: {url}");
        let token = lines[0]
            .strip_prefix("http://acme.localhost:8080/auth/login-link?token=")
            .unwrap_or_else(|| panic!("{url}"));
        assert!(token.starts_with("spark_link_"), "{token}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("single use"));

        let hash = TokenHash::of_presented(SecretKind::SignInLink, token).unwrap();
        let ada = db.employees().find_by_email(&tenant.id, "ada@acme.com").unwrap().unwrap();
        let now = chrono::Utc::now();
        let code = db.one_time_codes().consume(&tenant.id, CodePurpose::LoginLink, &hash, None, now).unwrap().fresh().unwrap();
        assert_eq!(code.employee_id, ada.id);
        assert_eq!(code.created_by, "operator:ops-test");
        assert_eq!(code.expires_at - code.created_at, chrono::TimeDelta::minutes(10));
        assert_eq!(db.one_time_codes().consume(&tenant.id, CodePurpose::LoginLink, &hash, None, now).unwrap(), Consumed::AlreadyUsed);
        let event = &db.audit().recent(&tenant.id, 1).unwrap()[0];
        assert_eq!((event.action.as_str(), event.actor.as_str()), ("login_link.created", "operator:ops-test"));
        assert!(!event.details.to_string().contains(token));

        // Two links are two different tokens.
        let again = stdout(&sparkctl(db, &[], &["login-link", "acme", "ada@acme.com"], ""));
        assert_ne!(again.trim(), lines[0]);
    }

    fn login_links_are_refused_for_unknown_and_deactivated_employees(db) {
        acme(db);
        let err = stderr_of_failure(&sparkctl(db, &[], &["login-link", "acme", "linus@acme.com"], ""));
        assert!(err.contains("deactivated"), "{err}");
        let err = stderr_of_failure(&sparkctl(db, &[], &["login-link", "acme", "nobody@acme.com"], ""));
        assert!(err.contains("no employee `nobody@acme.com`"), "{err}");
        let err = stderr_of_failure(&sparkctl(db, &[], &["login-link", "initech", "ada@acme.com"], ""));
        assert!(err.contains("no workspace named `initech`"), "{err}");
    }

    fn okta_sso_set_checks_discovery_and_stores_the_secret_encrypted(db) {
        let tenant = acme(db);
        let op = Op::start();
        let out = sparkctl(db, &[INSECURE, WITH_KEY], &["okta", "sso", "set", "acme", "--org-url", &format!("{}/", op.issuer()), "--client-id", "0oa-test", "--client-secret-stdin"], "s3cret\n");
        let printed = stdout(&out);
        assert!(printed.contains(&format!("org {}", op.issuer())), "{printed}");
        assert!(!printed.contains("s3cret") && !String::from_utf8_lossy(&out.stderr).contains("s3cret"));

        let config = db.okta_sso_configs().get(&tenant.id).unwrap().unwrap();
        assert_eq!(config.org_url, op.issuer(), "stored normalised, without the slash");
        assert_eq!(config.client_id, "0oa-test");
        assert_eq!(config.updated_by, "operator:ops-test");
        assert!(!config.client_secret.bytes.windows(6).any(|w| w == b"s3cret"), "encrypted at rest");
        let ring = KeyRing::new(EncryptionKey::from_base64(KEY).unwrap());
        assert_eq!(ring.open(&config.client_secret, &config.secret_context()).unwrap().expose_secret(), "s3cret");
        let event = &db.audit().recent(&tenant.id, 1).unwrap()[0];
        assert_eq!(event.action, "okta_sso.saved");
        assert!(!event.details.to_string().contains("s3cret"));

        // A foreign issuer: the same server under another name. Nothing changes.
        let foreign = format!("http://localhost:{}", op.port());
        let err = stderr_of_failure(&sparkctl(db, &[INSECURE, WITH_KEY], &["okta", "sso", "set", "acme", "--org-url", &foreign, "--client-id", "other", "--client-secret-stdin"], "x\n"));
        assert!(err.contains("OKTA_DISCOVERY_ISSUER_MISMATCH"), "{err}");
        assert_eq!(db.okta_sso_configs().get(&tenant.id).unwrap().unwrap().client_id, "0oa-test");
    }

    fn okta_sso_set_refuses_bad_org_urls_and_missing_keys(db) {
        let tenant = acme(db);
        let set = |env: &[(&str, &str)], url: &str| sparkctl(db, env, &["okta", "sso", "set", "acme", "--org-url", url, "--client-id", "0oa", "--client-secret-stdin"], "s3cret\n");

        let err = stderr_of_failure(&set(&[WITH_KEY], "https://acme-admin.okta.com"));
        assert!(err.contains("OKTA_ORG_URL_ADMIN") && err.contains("https://acme.okta.com"), "{err}");
        let err = stderr_of_failure(&set(&[WITH_KEY], "https://acme.okta.com/oauth2/default"));
        assert!(err.contains("OKTA_ORG_URL_INVALID"), "{err}");
        let err = stderr_of_failure(&set(&[WITH_KEY], "http://127.0.0.1:9"));
        assert!(err.contains("OKTA_ORG_URL_INSECURE"), "{err}");
        // Without a key, and without insecure http, nothing can be stored.
        let err = stderr_of_failure(&set(&[], "https://acme.okta.com"));
        assert!(err.contains("secrets.encryption_key is not set"), "{err}");
        // Discovery is required: an org that does not answer is not saved.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let err = stderr_of_failure(&set(&[WITH_KEY, INSECURE], &format!("http://127.0.0.1:{port}")));
        assert!(err.contains("OKTA_DISCOVERY_UNREACHABLE"), "{err}");
        // An empty secret.
        let err = stderr_of_failure(&sparkctl(db, &[WITH_KEY], &["okta", "sso", "set", "acme", "--org-url", "https://acme.okta.com", "--client-id", "0oa", "--client-secret-stdin"], "\n"));
        assert!(err.contains("no client secret"), "{err}");
        assert!(db.okta_sso_configs().get(&tenant.id).unwrap().is_none());
    }

    fn okta_sso_set_uses_the_public_development_key_only_in_insecure_mode(db) {
        let tenant = acme(db);
        let op = Op::start();
        let out = sparkctl(db, &[INSECURE], &["okta", "sso", "set", "acme", "--org-url", op.issuer(), "--client-id", "0oa-test", "--client-secret-stdin"], "s3cret");
        stdout(&out);
        let warning = String::from_utf8_lossy(&out.stderr);
        assert!(warning.contains("PUBLIC development key"), "{warning}");
        let config = db.okta_sso_configs().get(&tenant.id).unwrap().unwrap();
        let dev = KeyRing::new(EncryptionKey::insecure_development_key());
        assert_eq!(&config.client_secret.key_id, dev.current_key_id());
        assert_eq!(dev.open(&config.client_secret, &config.secret_context()).unwrap().expose_secret(), "s3cret");
    }

    fn a_host_okta_does_not_operate_needs_the_spark_teams_approval(db) {
        let tenant = acme(db);
        let set = |extra: &[&str]| {
            let mut args = vec!["okta", "sso", "set", "acme", "--org-url", "https://login.acme.example", "--client-id", "0oa", "--client-secret-stdin"];
            args.extend_from_slice(extra);
            sparkctl(db, &[WITH_KEY], &args, "s3cret\n")
        };
        let err = stderr_of_failure(&set(&[]));
        assert!(err.contains("OKTA_CUSTOM_DOMAIN_NOT_APPROVED") && err.contains("--approve-custom-domain"), "{err}");
        // Approved, the org is checked like any other (this one does not exist here), and
        // nothing is saved that does not answer.
        let err = stderr_of_failure(&set(&["--approve-custom-domain"]));
        assert!(err.contains("OKTA_DISCOVERY_UNREACHABLE"), "{err}");
        assert!(db.okta_sso_configs().get(&tenant.id).unwrap().is_none());
    }

    fn okta_identities_are_listed_and_unlinked(db) {
        let tenant = acme(db);
        let ada = db.employees().find_by_email(&tenant.id, "ada@acme.com").unwrap().unwrap();
        let iss = "https://acme.okta.com";
        db.employee_identities().link(&tenant.id, iss, "00u-ada", &ada.id, chrono::Utc::now()).unwrap();

        let listed = stdout(&sparkctl(db, &[], &["okta", "identities", "list", "acme"], ""));
        assert!(listed.contains("ada@acme.com") && listed.contains("00u-ada") && listed.contains(iss), "{listed}");
        let none = stdout(&sparkctl(db, &[], &["okta", "identities", "list", "acme", "linus@acme.com"], ""));
        assert!(!none.contains("00u-ada"), "{none}");

        let unlinked = stdout(&sparkctl(db, &[], &["okta", "identities", "unlink", "acme", "ADA@acme.com"], ""));
        assert!(unlinked.contains("unlinked 00u-ada"), "{unlinked}");
        assert!(db.employee_identities().list(&tenant.id, None).unwrap().is_empty());
        let event = &db.audit().recent(&tenant.id, 1).unwrap()[0];
        assert_eq!((event.action.as_str(), event.actor.as_str(), event.target.as_deref()), ("okta_identity.unlinked", "operator:ops-test", Some("ada@acme.com")));
        let err = stderr_of_failure(&sparkctl(db, &[], &["okta", "identities", "unlink", "acme", "ada@acme.com"], ""));
        assert!(err.contains("no linked Okta identity"), "{err}");
    }
}
