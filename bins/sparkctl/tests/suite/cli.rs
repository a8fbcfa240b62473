//! `sparkctl` as an operator runs it: the real binary, on both backends.

use std::process::{Command, Output};

use persistence::testing::TestDatabase;
use persistence::{Backend, backend_tests};

struct Ctl<'a> {
    db: &'a TestDatabase,
    dir: tempfile::TempDir,
}

impl<'a> Ctl<'a> {
    fn new(db: &'a TestDatabase) -> Self {
        Ctl {
            db,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_sparkctl"))
            .args(args)
            .current_dir(self.dir.path())
            .env("DATABASE_URL", self.db.database_url())
            .env("USER", "ops-test")
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "sparkctl {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(!out.status.success(), "sparkctl {args:?} should fail");
        String::from_utf8(out.stderr).unwrap()
    }

    fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    }
}

const EMPLOYEES: &str = "\
email,given_name,family_name,display_name,phone,title,department,employee_number,manager_email,active,role
ada@acme.com,Ada,Lovelace,Ada Lovelace,+1 555 0100,CTO,Engineering,E-1,,true,admin
grace@acme.com,Grace,Hopper,,+1 555 0101,Engineer,Engineering,E-2,ada@acme.com,true,employee
linus@acme.com,Linus,T,,,Engineer,Engineering,E-3,grace@acme.com,false,
";

backend_tests! {
    fn create_a_tenant_and_import_employees(db) {
        let ctl = Ctl::new(db);
        let out = ctl.ok(&["tenant", "create", "acme", "--name", "Acme Inc"]);
        assert!(out.contains("created workspace acme (Acme Inc) at http://acme.localhost:8080"), "{out}");
        let file = ctl.file("employees.csv", EMPLOYEES);
        let out = ctl.ok(&["employees", "import", "acme", &file]);
        assert!(out.contains("3 created, 0 updated, 0 unchanged"), "{out}");
        let list = ctl.ok(&["employees", "list", "acme"]);
        let lines: Vec<&str> = list.lines().collect();
        assert_eq!(lines.len(), 4, "{list}");
        assert!(lines[0].starts_with("EMAIL"));
        assert!(lines[1].starts_with("ada@acme.com") && lines[1].contains("Ada Lovelace") && lines[1].contains("admin"), "{list}");
        assert!(lines[3].starts_with("linus@acme.com") && lines[3].ends_with("no"), "{list}");
        // Importing the same file again changes nothing.
        let out = ctl.ok(&["employees", "import", "acme", &file]);
        assert!(out.contains("0 created, 0 updated, 3 unchanged"), "{out}");
        let tenants = ctl.ok(&["tenant", "list"]);
        assert!(tenants.contains("acme") && tenants.contains("not activated"), "{tenants}");
    }

    fn a_bad_csv_changes_nothing_and_names_the_line(db) {
        let ctl = Ctl::new(db);
        ctl.ok(&["tenant", "create", "acme"]);
        ctl.ok(&["employees", "import", "acme", &ctl.file("good.csv", EMPLOYEES)]);
        let before = ctl.ok(&["employees", "list", "acme"]);
        let bad = ctl.file("bad.csv", "email,title,active,manager_email\nada@acme.com,Chief,true,\nnew@acme.com,Intern,maybe,\nnext@acme.com,Intern,true,ghost@acme.com\n");
        let err = ctl.fails(&["employees", "import", "acme", &bad]);
        assert!(err.contains(&format!("{bad}:3: column 3 (active): expected true or false, found \"maybe\"")), "{err}");
        assert!(err.contains("nothing was imported"), "{err}");
        // The cell is fixed; the unknown manager is found on the next pass, with its line.
        let bad = ctl.file("bad2.csv", "email,title,active,manager_email\nada@acme.com,Chief,true,\nnext@acme.com,Intern,true,ghost@acme.com\n");
        let err = ctl.fails(&["employees", "import", "acme", &bad]);
        assert!(err.contains(&format!("{bad}:3: column 4 (manager_email): no employee `ghost@acme.com`")), "{err}");
        assert_eq!(ctl.ok(&["employees", "list", "acme"]), before, "a refused file changes nothing");
    }

    fn deactivate_and_activate(db) {
        let ctl = Ctl::new(db);
        ctl.ok(&["tenant", "create", "acme"]);
        ctl.ok(&["employees", "import", "acme", &ctl.file("e.csv", EMPLOYEES)]);
        let out = ctl.ok(&["employees", "deactivate", "acme", "GRACE@acme.com"]);
        assert!(out.contains("deactivated grace@acme.com"), "{out}");
        let tenant = db.tenants().get("acme").unwrap();
        let grace = db.employees().find_by_email(&tenant.id, "grace@acme.com").unwrap().unwrap();
        assert!(!grace.active);
        assert_eq!(grace.version, 2);
        assert_eq!(db.audit().recent(&tenant.id, 1).unwrap()[0].actor, "operator:ops-test");
        ctl.ok(&["employees", "activate", "acme", "grace@acme.com"]);
        let err = ctl.fails(&["employees", "deactivate", "acme", "nobody@acme.com"]);
        assert_eq!(err.trim(), "error: no employee with the email `nobody@acme.com`");
    }

    fn okta_activation_then_connection(db) {
        let ctl = Ctl::new(db);
        ctl.ok(&["tenant", "create", "acme"]);
        let err = ctl.fails(&["okta", "connect", "acme"]);
        assert!(err.contains("not activated") && err.contains("sparkctl okta enable acme"), "{err}");
        ctl.ok(&["okta", "enable", "acme"]);
        ctl.ok(&["okta", "connect", "acme"]);
        assert!(ctl.ok(&["tenant", "list"]).contains("connected"));
        let err = ctl.fails(&["okta", "enable", "globex"]);
        assert!(err.contains("no workspace named `globex`"), "{err}");
    }

    fn scim_tokens_are_shown_once_listed_rotated_and_revoked(db) {
        let ctl = Ctl::new(db);
        ctl.ok(&["tenant", "create", "acme"]);
        let out = ctl.run(&["scim-token", "mint", "acme", "--label", "Okta prod"]);
        assert!(out.status.success());
        let token = String::from_utf8(out.stdout).unwrap();
        assert_eq!(token.lines().count(), 1, "the token alone on stdout: {token}");
        let token = token.trim();
        assert!(token.starts_with("spark_scim_") && token.len() > 50, "{token}");
        let warning = String::from_utf8(out.stderr).unwrap();
        assert!(warning.contains("not activated and connected"), "{warning}");

        let list = ctl.ok(&["scim-token", "list", "acme"]);
        assert!(list.contains("Okta prod") && list.contains("operator:ops-test"), "{list}");
        assert!(!list.contains(token), "the list never shows a token");
        let id = list.lines().nth(1).unwrap().split_whitespace().next().unwrap().to_owned();

        let rotated = ctl.ok(&["scim-token", "rotate", "acme", &id]);
        let rotated = rotated.trim();
        assert!(rotated.starts_with("spark_scim_") && rotated != token);
        let list = ctl.ok(&["scim-token", "list", "acme"]);
        assert_eq!(list.lines().count(), 3, "{list}");
        let new_id = list.lines().nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
        assert_ne!(new_id, id, "newest first");
        assert!(ctl.ok(&["scim-token", "revoke", "acme", &new_id]).contains("revoked"));
        let err = ctl.fails(&["scim-token", "rotate", "acme", &new_id]);
        assert_eq!(err.lines().count(), 1, "{err}");
        let err = ctl.fails(&["scim-token", "revoke", "acme", "no-such-id"]);
        assert!(err.starts_with("error: "), "{err}");
    }

    fn errors_are_one_line(db) {
        let ctl = Ctl::new(db);
        for args in [
            &["tenant", "create", "bad_name!"][..],
            &["employees", "list", "nowhere"][..],
            &["employees", "import", "nowhere", "missing.csv"][..],
        ] {
            let err = ctl.fails(args);
            assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
            assert!(err.starts_with("error: "), "{err}");
        }
    }
}

#[test]
fn sqlite_is_created_and_migrated_on_first_use() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sparkctl"))
        .args(["tenant", "create", "acme"])
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env_remove("SPARK__DATABASE__URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        dir.path().join("data/spark.db").is_file(),
        "the default ./data/spark.db"
    );
}

#[test]
#[ignore = "needs PostgreSQL"]
fn postgres_must_be_migrated_explicitly() {
    let db = TestDatabase::new_unmigrated(Backend::Postgres);
    let ctl = Ctl::new(&db);
    let err = ctl.fails(&["tenant", "list"]);
    assert!(err.contains("run the `migrate` command"), "{err}");
    let out = ctl.ok(&["migrate"]);
    assert!(out.contains("applied"), "{out}");
    assert!(ctl.ok(&["migrate"]).contains("up to date"));
    ctl.ok(&["tenant", "list"]);
}

#[test]
fn an_unknown_database_scheme_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sparkctl"))
        .args(["tenant", "list"])
        .current_dir(dir.path())
        .env("DATABASE_URL", "mysql://localhost/spark")
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!out.status.success());
    assert!(
        err.contains("unsupported database URL scheme `mysql://`"),
        "{err}"
    );
    assert!(
        std::fs::read_dir(dir.path()).unwrap().next().is_none(),
        "no file was created"
    );
}
