//! The repositories on both backends: each test runs as `name::sqlite` and
//! `name::postgres`, each on a fresh migrated database.

use persistence::{
    Actor, Change, Database, EmployeeInput, Error, Role, Tenant, Workspace, backend_tests,
};

fn operator() -> Actor {
    Actor::operator("test")
}

fn tenant(db: &Database, slug: &str) -> Tenant {
    db.tenants()
        .create(
            &Workspace::parse(slug).unwrap(),
            &format!("{slug} Inc"),
            &operator(),
        )
        .unwrap()
}

fn person(email: &str, given: &str, family: &str) -> EmployeeInput {
    EmployeeInput {
        email: email.into(),
        given_name: Change::Set(Some(given.into())),
        family_name: Change::Set(Some(family.into())),
        ..EmployeeInput::default()
    }
}

backend_tests! {
    fn tenants_are_created_listed_and_unique(db) {
        let acme = tenant(db, "acme");
        tenant(db, "globex");
        assert_eq!(db.tenants().get("ACME").unwrap(), acme);
        let names: Vec<_> = db.tenants().list().unwrap().into_iter().map(|t| t.workspace.to_string()).collect();
        assert_eq!(names, ["acme", "globex"]);
        let again = db.tenants().create(&Workspace::parse("acme").unwrap(), "Other", &operator());
        assert!(matches!(again, Err(Error::Conflict(_))), "{again:?}");
        let missing = db.tenants().get("initech").unwrap_err().to_string();
        assert!(missing.contains("sparkctl tenant create initech"), "{missing}");
    }

    fn okta_integration_is_activated_then_connected(db) {
        let acme = tenant(db, "acme");
        let okta = db.okta_integrations();
        assert!(!okta.get(&acme.id).unwrap().is_activated());
        let refused = okta.connect(&acme, &Actor::employee("admin-1")).unwrap_err().to_string();
        assert!(refused.contains("not activated"), "{refused}");

        let state = okta.activate(&acme, &operator()).unwrap();
        assert!(state.is_activated() && !state.is_live());
        assert_eq!(state.activated.as_ref().unwrap().by, "operator:test");
        let state = okta.connect(&acme, &Actor::employee("admin-1")).unwrap();
        assert!(state.is_live());
        assert_eq!(state.connected.as_ref().unwrap().by, "employee:admin-1");

        // Idempotent: a second activation keeps the first stamp.
        let again = okta.activate(&acme, &Actor::operator("someone-else")).unwrap();
        assert_eq!(again.activated, state.activated);

        let state = okta.disconnect(&acme, &Actor::employee("admin-1")).unwrap();
        assert!(state.is_activated() && !state.is_live());
        let state = okta.deactivate(&acme, &operator()).unwrap();
        assert!(!state.is_activated());

        let actions: Vec<_> = db.audit().recent(&acme.id, 10).unwrap().into_iter().map(|e| e.action).collect();
        assert_eq!(actions, ["okta.deactivated", "okta.disconnected", "okta.connected", "okta.activated", "tenant.created"]);
    }

    fn import_creates_then_updates_by_email(db) {
        let acme = tenant(db, "acme");
        let mut ada = person("Ada@Acme.com", "Ada", "Lovelace");
        ada.title = Change::Set(Some("Engineer".into()));
        ada.role = Change::Set(Role::Admin);
        let mut grace = person("grace@acme.com", "Grace", "Hopper");
        grace.manager_email = Change::Set(Some("ada@acme.com".into()));
        let summary = db.employees().upsert_many(&acme.id, &[grace, ada], &operator()).unwrap();
        assert_eq!((summary.created, summary.updated, summary.unchanged), (2, 0, 0));

        let ada = db.employees().find_by_email(&acme.id, "ADA@acme.COM").unwrap().unwrap();
        assert_eq!(ada.email, "Ada@Acme.com");
        assert_eq!((ada.role, ada.active, ada.version), (Role::Admin, true, 1));
        let grace = db.employees().find_by_email(&acme.id, "grace@acme.com").unwrap().unwrap();
        assert_eq!(grace.manager_id.as_ref(), Some(&ada.id));
        assert_eq!(grace.role, Role::Employee);

        // Same data again: nothing changes, not even the version.
        let summary = db.employees().upsert_many(&acme.id, &[person("Ada@Acme.com", "Ada", "Lovelace")], &operator()).unwrap();
        assert_eq!((summary.created, summary.updated, summary.unchanged), (0, 0, 1));
        assert_eq!(db.employees().get(&acme.id, ada.id.as_str()).unwrap().unwrap().version, 1);

        // A change bumps version and updated_at; fields not given are kept.
        let mut promoted = person("ada@acme.com", "Ada", "Lovelace");
        promoted.title = Change::Set(Some("CTO".into()));
        db.employees().upsert_many(&acme.id, &[promoted], &operator()).unwrap();
        let after = db.employees().get(&acme.id, ada.id.as_str()).unwrap().unwrap();
        assert_eq!(after.title.as_deref(), Some("CTO"));
        assert_eq!(after.role, Role::Admin, "role was not in the input and is kept");
        assert_eq!(after.version, 2);
        assert!(after.updated_at > ada.updated_at);
        assert_eq!(after.created_at, ada.created_at);

        // An empty value clears a field.
        let mut cleared = person("ada@acme.com", "Ada", "Lovelace");
        cleared.title = Change::Set(Some("  ".into()));
        db.employees().upsert_many(&acme.id, &[cleared], &operator()).unwrap();
        assert_eq!(db.employees().get(&acme.id, ada.id.as_str()).unwrap().unwrap().title, None);
    }

    fn a_bad_record_applies_nothing(db) {
        let acme = tenant(db, "acme");
        db.employees().upsert_many(&acme.id, &[person("ada@acme.com", "Ada", "Lovelace")], &operator()).unwrap();
        let mut changed = person("ada@acme.com", "Augusta", "Lovelace");
        changed.title = Change::Set(Some("CTO".into()));
        let mut bad_manager = person("bob@acme.com", "Bob", "Builder");
        bad_manager.manager_email = Change::Set(Some("nobody@acme.com".into()));
        let inputs = [changed, person("new@acme.com", "New", "Person"), bad_manager, person("not-an-email", "X", "Y"), person("NEW@acme.com", "Dup", "Licate")];
        let Err(Error::InvalidInput(problems)) = db.employees().upsert_many(&acme.id, &inputs, &operator()) else {
            panic!("the input should be refused");
        };
        let found: Vec<_> = problems.iter().map(|p| (p.index, p.field)).collect();
        assert_eq!(found, [(2, "manager_email"), (3, "email"), (4, "email")]);
        assert!(problems[0].message.contains("nobody@acme.com"));
        assert!(problems[2].message.contains("more than once"));

        let all = db.employees().list(&acme.id).unwrap();
        assert_eq!(all.len(), 1, "nothing of the refused input was applied");
        assert_eq!(all[0].given_name.as_deref(), Some("Ada"));
        assert_eq!(all[0].version, 1);
    }

    fn deactivation_bumps_version_and_is_audited(db) {
        let acme = tenant(db, "acme");
        db.employees().upsert_many(&acme.id, &[person("ada@acme.com", "Ada", "Lovelace")], &operator()).unwrap();
        let before = db.employees().find_by_email(&acme.id, "ada@acme.com").unwrap().unwrap();
        let after = db.employees().set_active(&acme.id, "ADA@acme.com", false, &operator()).unwrap();
        assert!(!after.active);
        assert_eq!(after.version, before.version + 1);
        assert!(after.updated_at > before.updated_at);
        // Deactivating again changes nothing.
        let again = db.employees().set_active(&acme.id, "ada@acme.com", false, &operator()).unwrap();
        assert_eq!(again.version, after.version);
        let reactivated = db.employees().set_active(&acme.id, "ada@acme.com", true, &operator()).unwrap();
        assert!(reactivated.active && reactivated.version == after.version + 1);

        let events = db.audit().recent(&acme.id, 2).unwrap();
        assert_eq!(events[0].action, "employee.activated");
        assert_eq!(events[1].action, "employee.deactivated");
        assert_eq!(events[1].target.as_deref(), Some("ada@acme.com"));
        let missing = db.employees().set_active(&acme.id, "nobody@acme.com", false, &operator());
        assert!(matches!(missing, Err(Error::NotFound(_))));
    }

    fn tenants_never_see_each_other(db) {
        let acme = tenant(db, "acme");
        let globex = tenant(db, "globex");
        db.employees().upsert_many(&acme.id, &[person("ada@acme.com", "Ada", "Lovelace")], &operator()).unwrap();
        // The same email may exist in another tenant, as another person.
        db.employees().upsert_many(&globex.id, &[person("ada@acme.com", "Other", "Ada")], &operator()).unwrap();
        let ada = db.employees().find_by_email(&acme.id, "ada@acme.com").unwrap().unwrap();
        assert_eq!(ada.given_name.as_deref(), Some("Ada"));
        assert!(db.employees().get(&globex.id, ada.id.as_str()).unwrap().is_none());
        assert_eq!(db.employees().list(&globex.id).unwrap()[0].given_name.as_deref(), Some("Other"));
        // A manager must be in the same tenant.
        let mut reports = person("bob@globex.com", "Bob", "B");
        reports.manager_email = Change::Set(Some("grace@acme.com".into()));
        db.employees().upsert_many(&acme.id, &[person("grace@acme.com", "Grace", "H")], &operator()).unwrap();
        assert!(db.employees().upsert_many(&globex.id, &[reports], &operator()).is_err());
        assert!(db.employees().set_active(&globex.id, "grace@acme.com", false, &operator()).is_err());
        assert!(db.audit().recent(&globex.id, 50).unwrap().iter().all(|e| e.tenant_id.as_ref() == Some(&globex.id)));
    }

    fn large_imports_fit_in_one_transaction(db) {
        let acme = tenant(db, "acme");
        let inputs: Vec<_> = (0..2_500)
            .map(|i| {
                let mut p = person(&format!("person{i}@acme.com"), "P", &i.to_string());
                if i > 0 {
                    p.manager_email = Change::Set(Some(format!("person{}@acme.com", i / 10)));
                }
                p
            })
            .collect();
        let summary = db.employees().upsert_many(&acme.id, &inputs, &operator()).unwrap();
        assert_eq!(summary.created, 2_500);
        assert_eq!(db.employees().count(&acme.id).unwrap(), 2_500);
    }
}

backend_tests! {
    fn the_directory_version_moves_with_every_employee_change(db) {
        let acme = tenant(db, "acme");
        let version = || db.tenants().get("acme").unwrap().directory_version;
        assert_eq!(version(), 0);
        db.employees().upsert_many(&acme.id, &[person("ada@acme.com", "Ada", "L")], &operator()).unwrap();
        assert_eq!(version(), 1);
        db.employees().upsert_many(&acme.id, &[person("ada@acme.com", "Ada", "L")], &operator()).unwrap();
        assert_eq!(version(), 1, "an import that changes nothing leaves it");
        db.employees().set_active(&acme.id, "ada@acme.com", false, &operator()).unwrap();
        assert_eq!(version(), 2);
        db.employees().set_active(&acme.id, "ada@acme.com", false, &operator()).unwrap();
        assert_eq!(version(), 2);
        let other = tenant(db, "globex");
        db.employees().upsert_many(&other.id, &[person("x@globex.com", "X", "Y")], &operator()).unwrap();
        assert_eq!(version(), 2, "another tenant's change does not touch it");
    }
}

backend_tests! {
    fn a_tenant_comes_with_its_okta_state(db) {
        let acme = tenant(db, "acme");
        let (found, okta) = db.tenants().find_with_okta("ACME").unwrap().unwrap();
        assert_eq!(found, acme);
        assert!(!okta.is_activated());
        db.okta_integrations().activate(&acme, &operator()).unwrap();
        db.okta_integrations().connect(&acme, &operator()).unwrap();
        let (_, okta) = db.tenants().find_with_okta("acme").unwrap().unwrap();
        assert!(okta.is_live());
        assert!(db.tenants().find_with_okta("globex").unwrap().is_none());
    }
}
