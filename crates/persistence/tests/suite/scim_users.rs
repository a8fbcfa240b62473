//! SCIM filters as SQL: on both backends, every filter selects exactly the users that
//! scim-filter's in-memory evaluator selects from the same users' SCIM JSON; pages by
//! offset and by keyset agree; sorting orders as SCIM says.

use std::collections::BTreeSet;

use persistence::{
    Actor, Change, Database, EmployeeInput, PageStart, Resumed, Role, SortDirection, SortKey,
    Tenant, UserOrder, Workspace, backend_tests,
};
use scim_filter::ValidatedFilter;
use scim_model::USER_RESOURCE;

const BASE: &str = "https://acme.spark.work/scim/v2";

fn text(value: &str) -> Change<Option<String>> {
    Change::Set((!value.is_empty()).then(|| value.to_owned()))
}

/// A directory with the awkward cases: mixed and non-ASCII case, empty fields, managers,
/// inactive people.
fn seed(db: &Database) -> Tenant {
    let actor = Actor::operator("test");
    let tenant = db
        .tenants()
        .create(&Workspace::parse("acme").unwrap(), "Acme", &actor)
        .unwrap();
    let people = [
        // email, given, family, display, phone, title, department, number, manager, active
        (
            "Ada@Acme.com",
            "Ada",
            "Lovelace",
            "Ada Lovelace",
            "+1 555 0100",
            "CTO",
            "Engineering",
            "E-1",
            "",
            true,
        ),
        (
            "grace@acme.com",
            "Grace",
            "Hopper",
            "",
            "+1 555 0101",
            "Engineer",
            "Engineering",
            "E-2",
            "ada@acme.com",
            true,
        ),
        (
            "linus@acme.com",
            "Linus",
            "T",
            "",
            "",
            "engineer",
            "engineering",
            "E-3",
            "grace@acme.com",
            false,
        ),
        (
            "ÉLODIE@acme.fr",
            "Élodie",
            "Durand",
            "Élodie D.",
            "+33 1 00",
            "Directrice",
            "Ventes",
            "F-1",
            "ada@acme.com",
            true,
        ),
        (
            "strasse@acme.de",
            "Jörg",
            "Straße",
            "",
            "",
            "Leiter",
            "Vertrieb",
            "",
            "élodie@acme.fr",
            true,
        ),
        (
            "sigma@acme.gr",
            "ΣΟΦΊΑ",
            "Παπαδοπούλου",
            "",
            "+30 210",
            "",
            "Πωλήσεις",
            "G-1",
            "",
            true,
        ),
        (
            "bob@acme.com",
            "bob",
            "builder",
            "Bob",
            "",
            "Builder",
            "",
            "B-7",
            "ada@acme.com",
            false,
        ),
        ("zed@acme.com", "", "", "", "", "", "", "", "", true),
        (
            "amy@acme.com",
            "Amy",
            "Ng",
            "Amy Ng",
            "555",
            "Engineer II",
            "Engineering",
            "E-10",
            "grace@acme.com",
            true,
        ),
        (
            "x_y%z@acme.com",
            "Per%cent",
            "Under_score",
            "",
            "",
            "100% sure",
            "Ops",
            "O-1",
            "",
            true,
        ),
    ];
    let inputs: Vec<EmployeeInput> = people
        .iter()
        .map(
            |(email, given, family, display, phone, title, dept, number, manager, active)| {
                EmployeeInput {
                    email: (*email).into(),
                    given_name: text(given),
                    family_name: text(family),
                    display_name: text(display),
                    phone: text(phone),
                    title: text(title),
                    department: text(dept),
                    employee_number: text(number),
                    manager_email: text(manager),
                    active: Change::Set(*active),
                    role: Change::Set(Role::Employee),
                }
            },
        )
        .collect();
    db.employees()
        .upsert_many(&tenant.id, &inputs, &actor)
        .unwrap();
    tenant
}

fn all_users(db: &Database, tenant: &Tenant) -> Vec<scim_model::EmployeeRecord> {
    db.employees()
        .scim_users(
            &tenant.id,
            None,
            UserOrder::Id,
            &PageStart::Offset(0),
            1_000,
            None,
        )
        .unwrap()
        .users
}

const FILTERS: &[&str] = &[
    r#"userName eq "ada@acme.com""#,
    r#"userName eq "ADA@ACME.COM""#,
    r#"USERNAME Eq "élodie@ACME.fr""#,
    r#"userName ne "ada@acme.com""#,
    r#"userName co "ACME.C""#,
    r#"userName sw "g""#,
    r#"userName ew ".DE""#,
    r#"userName gt "grace@acme.com""#,
    r#"userName le "bob@acme.com""#,
    r#"userName co "%""#,
    r#"userName co "_y""#,
    r#"emails.value eq "Grace@Acme.com""#,
    r#"emails[type eq "work" and value co "@acme.com"]"#,
    r#"emails[type eq "home"]"#,
    r#"emails.primary eq true"#,
    r#"emails.primary eq false"#,
    r#"name.givenName eq "élodie""#,
    r#"name.givenName eq "σοφία""#,
    r#"name.familyName eq "STRASSE""#,
    r#"name.familyName eq "straße""#,
    r#"name.familyName co "ss""#,
    r#"name.givenName sw "a""#,
    r#"name.givenName pr"#,
    r#"not (name.givenName pr)"#,
    r#"name pr"#,
    r#"displayName pr"#,
    r#"displayName co "d""#,
    r#"title eq "engineer""#,
    r#"title ne "engineer""#,
    r#"not (title eq "engineer")"#,
    r#"title co "%""#,
    r#"title ge "E""#,
    r#"title lt "e""#,
    r#"active eq true"#,
    r#"active eq false"#,
    r#"active ne true"#,
    r#"active pr"#,
    r#"phoneNumbers pr"#,
    r#"phoneNumbers[type eq "work"]"#,
    r#"phoneNumbers.value sw "+1""#,
    r#"phoneNumbers.type eq "WORK""#,
    r#"phoneNumbers.primary eq true"#,
    r#"phoneNumbers.primary eq false"#,
    r#"phoneNumbers.primary ne false"#,
    r#"phoneNumbers[primary eq true and type eq "work"]"#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "ENGINEERING""#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department pr"#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber sw "e-1""#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager pr"#,
    r#"meta.resourceType eq "User""#,
    r#"meta.created pr"#,
    r#"meta.lastModified gt "2000-01-01T00:00:00Z""#,
    r#"meta.lastModified lt "2000-01-01T00:00:00Z""#,
    r#"title eq "Engineer" or title eq "CTO""#,
    r#"(title co "engineer" or department eq "Ventes") and active eq true"#,
    r#"not (active eq true and title pr)"#,
    r#"userName eq "nobody@acme.com""#,
    r#"id pr"#,
];

backend_tests! {
    fn sql_filters_select_what_the_evaluator_selects(db) {
        let tenant = seed(db);
        let everyone = all_users(db, &tenant);
        assert_eq!(everyone.len(), 10);
        let mut non_trivial = 0;
        for text in FILTERS {
            let filter = ValidatedFilter::parse(text, &USER_RESOURCE).unwrap_or_else(|e| panic!("{text}: {e}"));
            let expected: BTreeSet<String> = everyone
                .iter()
                .filter(|u| filter.matches(&u.to_scim_user(BASE).to_value()))
                .map(|u| u.id.clone())
                .collect();
            let page = db
                .employees()
                .scim_users(&tenant.id, Some(filter.expr()), UserOrder::Id, &PageStart::Offset(0), 1_000, None)
                .unwrap_or_else(|e| panic!("{text}: {e}"));
            let found: BTreeSet<String> = page.users.iter().map(|u| u.id.clone()).collect();
            let emails = |ids: &BTreeSet<String>| -> Vec<String> {
                everyone.iter().filter(|u| ids.contains(&u.id)).map(|u| u.email.clone()).collect()
            };
            assert_eq!(emails(&found), emails(&expected), "filter {text}");
            assert_eq!(page.total, expected.len() as u64, "total of {text}");
            if !expected.is_empty() && expected.len() < everyone.len() {
                non_trivial += 1;
            }
        }
        assert!(non_trivial > 35, "the corpus must discriminate: {non_trivial}");
    }

    fn ids_and_exact_lookups(db) {
        let tenant = seed(db);
        let ada = db.employees().find_by_email(&tenant.id, "ada@acme.com").unwrap().unwrap();
        let text = format!(r#"id eq "{}""#, ada.id);
        let filter = ValidatedFilter::parse(&text, &USER_RESOURCE).unwrap();
        let page = db.employees().scim_users(&tenant.id, Some(filter.expr()), UserOrder::Id, &PageStart::Offset(0), 10, None).unwrap();
        assert_eq!(page.users.len(), 1);
        // id is case-exact.
        let upper = format!(r#"id eq "{}""#, ada.id.as_str().to_uppercase());
        let filter = ValidatedFilter::parse(&upper, &USER_RESOURCE).unwrap();
        let page = db.employees().scim_users(&tenant.id, Some(filter.expr()), UserOrder::Id, &PageStart::Offset(0), 10, None).unwrap();
        assert_eq!(page.total, 0);
        let grace = db.employees().scim_user(&tenant.id, db.employees().find_by_email(&tenant.id, "grace@acme.com").unwrap().unwrap().id.as_str()).unwrap().unwrap();
        let manager = grace.manager.unwrap();
        assert_eq!(manager.id, ada.id.as_str());
        assert_eq!(manager.display_name.as_deref(), Some("Ada Lovelace"));
        assert!(db.employees().scim_user(&tenant.id, "no-such-id").unwrap().is_none());
    }

    fn pages_by_offset_and_by_keyset_agree(db) {
        // Whole records, managers' names included: the keyset pages and the first page
        // come from one query joining the managers, the others look them up afterwards.
        let tenant = seed(db);
        let everyone = all_users(db, &tenant);
        assert!(everyone.iter().any(|u| u.manager.as_ref().is_some_and(|m| m.display_name.is_some())));
        let mut by_offset = Vec::new();
        let mut by_keyset = Vec::new();
        let mut after: Option<String> = None;
        for page in 0..4u64 {
            let offset = db.employees().scim_users(&tenant.id, None, UserOrder::Id, &PageStart::Offset(page * 3), 3, None).unwrap();
            assert_eq!(offset.total, 10);
            by_offset.extend(offset.users);
            let start = after.clone().map_or(PageStart::Offset(0), PageStart::AfterId);
            let keyset = db.employees().scim_users(&tenant.id, None, UserOrder::Id, &start, 3, None).unwrap();
            after = keyset.users.last().map(|u| u.id.clone());
            by_keyset.extend(keyset.users);
        }
        assert_eq!(by_offset, everyone);
        assert_eq!(by_keyset, everyone);
    }

    fn sorting_is_case_insensitive_with_absent_values_last(db) {
        let tenant = seed(db);
        let order = UserOrder::By(SortKey::GivenName, SortDirection::Ascending);
        let page = db.employees().scim_users(&tenant.id, None, order, &PageStart::Offset(0), 100, None).unwrap();
        let names: Vec<Option<String>> = page.users.iter().map(|u| u.given_name.clone()).collect();
        let shown: Vec<&str> = names.iter().map(|n| n.as_deref().unwrap_or("-")).collect();
        assert_eq!(shown, ["Ada", "Amy", "bob", "Grace", "Jörg", "Linus", "Per%cent", "Élodie", "ΣΟΦΊΑ", "-"]);
        let order = UserOrder::By(SortKey::GivenName, SortDirection::Descending);
        let page = db.employees().scim_users(&tenant.id, None, order, &PageStart::Offset(0), 100, None).unwrap();
        let first = page.users.first().and_then(|u| u.given_name.clone());
        assert_eq!(first.as_deref(), Some("ΣΟΦΊΑ"));
        assert_eq!(page.users.last().and_then(|u| u.given_name.clone()), None, "absent last");
        let order = UserOrder::By(SortKey::UserName, SortDirection::Ascending);
        let page = db.employees().scim_users(&tenant.id, None, order, &PageStart::Offset(8), 100, None).unwrap();
        let emails: Vec<&str> = page.users.iter().map(|u| u.email.as_str()).collect();
        assert_eq!(emails, ["zed@acme.com", "ÉLODIE@acme.fr"]);
    }

    fn other_tenants_users_never_match(db) {
        let tenant = seed(db);
        let other = db.tenants().create(&Workspace::parse("globex").unwrap(), "Globex", &Actor::system()).unwrap();
        let filter = ValidatedFilter::parse(r#"userName eq "ada@acme.com""#, &USER_RESOURCE).unwrap();
        let page = db.employees().scim_users(&other.id, Some(filter.expr()), UserOrder::Id, &PageStart::Offset(0), 10, None).unwrap();
        assert_eq!(page.total, 0);
        let ada = db.employees().find_by_email(&tenant.id, "ada@acme.com").unwrap().unwrap();
        assert!(db.employees().scim_user(&other.id, ada.id.as_str()).unwrap().is_none());
    }
}

fn person(email: &str, department: &str, display: &str) -> EmployeeInput {
    EmployeeInput {
        email: email.into(),
        department: text(department),
        display_name: text(display),
        ..EmployeeInput::default()
    }
}

/// The summaries, as (name, members, version).
fn summaries(db: &Database, tenant: &Tenant) -> Vec<(String, u64, i64)> {
    db.employees()
        .department_summaries(&tenant.id)
        .unwrap()
        .into_iter()
        .map(|d| (d.name, d.members, d.version))
        .collect()
}

/// The summaries counted from the employees themselves.
fn counted(db: &Database, tenant: &Tenant) -> Vec<(String, u64)> {
    let mut by_name = std::collections::BTreeMap::new();
    for user in all_users(db, tenant) {
        if let Some(department) = user.department.filter(|d| !d.is_empty()) {
            *by_name.entry(department).or_insert(0u64) += 1;
        }
    }
    by_name.into_iter().collect()
}

backend_tests! {
    fn department_summaries_follow_their_members(db) {
        let actor = Actor::operator("test");
        let tenant = db.tenants().create(&Workspace::parse("acme").unwrap(), "Acme", &actor).unwrap();
        let import = |people: &[EmployeeInput]| db.employees().upsert_many(&tenant.id, people, &actor).unwrap();
        import(&[person("a@acme.com", "Sales", "A"), person("b@acme.com", "Sales", "B"), person("c@acme.com", "Ops", "C"), person("d@acme.com", "", "D")]);
        assert_eq!(summaries(db, &tenant), [("Ops".to_owned(), 1, 1), ("Sales".to_owned(), 2, 1)]);
        // A move: both departments change; a member renamed: its department changes; a
        // change no member list shows (a title) changes none.
        import(&[person("a@acme.com", "Ops", "A")]);
        assert_eq!(summaries(db, &tenant), [("Ops".to_owned(), 2, 2), ("Sales".to_owned(), 1, 2)]);
        import(&[person("b@acme.com", "Sales", "Bea")]);
        assert_eq!(summaries(db, &tenant)[1], ("Sales".to_owned(), 1, 3));
        import(&[EmployeeInput { email: "b@acme.com".into(), title: text("Boss"), ..EmployeeInput::default() }]);
        assert_eq!(summaries(db, &tenant)[1], ("Sales".to_owned(), 1, 3));
        // The last member leaves: the department is gone; a new one appears.
        import(&[person("b@acme.com", "Legal", "Bea"), person("d@acme.com", "Legal", "D")]);
        assert_eq!(summaries(db, &tenant), [("Legal".to_owned(), 2, 1), ("Ops".to_owned(), 2, 2)]);
        // Deactivating keeps the member (departments list everyone, as before).
        db.employees().set_active(&tenant.id, "c@acme.com", false, &actor).unwrap();
        let kept: Vec<(String, u64)> = summaries(db, &tenant).into_iter().map(|(n, m, _)| (n, m)).collect();
        assert_eq!(kept, counted(db, &tenant));
        // Members a page at a time, in id order, named as the user resources name them.
        let members = db.employees().department_members(&tenant.id, "Legal", None, 1).unwrap();
        assert_eq!(members.len(), 1);
        let rest = db.employees().department_members(&tenant.id, "Legal", Some(&members[0].id), 10).unwrap();
        assert_eq!(rest.len(), 1);
        assert!(members[0].id < rest[0].id);
        let whole = db.employees().departments(&tenant.id).unwrap();
        let legal = whole.iter().find(|d| d.name == "Legal").unwrap();
        assert_eq!(legal.members.len(), 2);
        assert_eq!(legal.id, persistence::department_id("Legal"));
    }

    fn many_changes_at_once_keep_the_summaries_true(db) {
        let actor = Actor::operator("test");
        let tenant = db.tenants().create(&Workspace::parse("acme").unwrap(), "Acme", &actor).unwrap();
        let names = ["Sales", "Ops", "Legal", ""];
        let first: Vec<EmployeeInput> = (0..300).map(|i| person(&format!("p{i}@acme.com"), names[i % 4], "")).collect();
        db.employees().upsert_many(&tenant.id, &first, &actor).unwrap();
        let shuffled: Vec<EmployeeInput> = (0..300).map(|i| person(&format!("p{i}@acme.com"), names[(i * 7) % 4], "")).collect();
        db.employees().upsert_many(&tenant.id, &shuffled, &actor).unwrap();
        let kept: Vec<(String, u64)> = summaries(db, &tenant).into_iter().map(|(n, m, _)| (n, m)).collect();
        assert_eq!(kept, counted(db, &tenant));
    }
}

/// A directory from before departments were summarised gets its summaries from the
/// migration.
fn the_migration_summarises_existing_departments(backend: persistence::Backend) {
    let db = persistence::testing::TestDatabase::new_migrated_until(
        backend,
        "2026-12-07-000400_scim_page_positions",
    );
    let actor = Actor::operator("test");
    let tenant = db
        .tenants()
        .create(&Workspace::parse("acme").unwrap(), "Acme", &actor)
        .unwrap();
    // Written the way an earlier version wrote them: straight into employees, with no
    // summary table to keep.
    for i in 0..50 {
        let department = ["'Sales'", "'Ops'", "''", "NULL"][i % 4];
        db.execute(&format!(
            "INSERT INTO employees (id, tenant_id, email, email_key, department, active, role, \
             created_at, updated_at, version) VALUES ('e{i}', '{tenant}', 'p{i}@acme.com', \
             'p{i}@acme.com', {department}, TRUE, 'employee', '2026-01-01 00:00:{i:02}', \
             '2026-02-01 00:00:{i:02}', 1)",
            tenant = tenant.id
        ));
    }
    db.migrate().unwrap();
    let kept = summaries(&db, &tenant);
    assert_eq!(
        kept.iter()
            .map(|(n, m, _)| (n.clone(), *m))
            .collect::<Vec<_>>(),
        vec![("Ops".to_owned(), 13), ("Sales".to_owned(), 13)]
    );
    assert_eq!(
        kept.iter()
            .map(|(n, m, _)| (n.clone(), *m))
            .collect::<Vec<_>>(),
        counted(&db, &tenant)
    );
    // The summaries go on following their members after the migration.
    db.employees()
        .upsert_many(&tenant.id, &[person("new@acme.com", "Ops", "")], &actor)
        .unwrap();
    assert_eq!(summaries(&db, &tenant)[0].1, 14);
}

mod the_migration_summarises_existing_departments {
    #[test]
    fn sqlite() {
        super::the_migration_summarises_existing_departments(persistence::Backend::Sqlite);
    }

    #[test]
    #[ignore = "needs PostgreSQL"]
    fn postgres() {
        super::the_migration_summarises_existing_departments(persistence::Backend::Postgres);
    }
}

/// A client that sends a new filter shape with every request (`a or b`, `a or b or c`,
/// …, sorted by every key) must not grow the connection's prepared statements; Okta's
/// look-up stays prepared and is reused. PostgreSQL lists a session's prepared
/// statements; SQLite's are not visible from SQL, and the rule that bounds both is the
/// same code (`worth_preparing`).
#[test]
#[ignore = "needs PostgreSQL"]
fn new_filter_shapes_do_not_grow_the_prepared_statements() {
    let db =
        persistence::testing::TestDatabase::with_one_connection(persistence::Backend::Postgres);
    let tenant = seed(&db);
    let page = |text: &str, order: UserOrder| {
        let filter = ValidatedFilter::parse(text, &USER_RESOURCE).unwrap();
        db.employees()
            .scim_users(
                &tenant.id,
                Some(filter.expr()),
                order,
                &PageStart::Offset(0),
                10,
                None,
            )
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    };
    let prepared = || db.select_number("SELECT count(*) AS n FROM pg_prepared_statements");
    // Okta's look-ups, of someone absent and of someone with a manager (whose name
    // comes from one more statement, also kept).
    for i in 0..5 {
        page(&format!(r#"userName eq "p{i}@acme.com""#), UserOrder::Id);
    }
    assert_eq!(
        page(r#"userName eq "grace@acme.com""#, UserOrder::Id)
            .users
            .len(),
        1
    );
    // A page of several people with managers (their names come in one statement too).
    assert!(page(r#"active eq true"#, UserOrder::Id).users.len() > 2);
    let after_lookups = prepared();
    let lookup = db.select_number(
        "SELECT count(*) AS n FROM pg_prepared_statements WHERE statement LIKE '%\"email_key\" = $%'",
    );
    assert_eq!(
        lookup, 1,
        "Okta's userName look-up is one prepared statement"
    );

    for terms in 1..=60 {
        let text = (0..terms)
            .map(|i| format!(r#"userName eq "p{i}@acme.com""#))
            .collect::<Vec<_>>()
            .join(" or ");
        if terms > 1 {
            page(&text, UserOrder::Id);
        }
        let key = [
            SortKey::GivenName,
            SortKey::FamilyName,
            SortKey::Title,
            SortKey::LastModified,
        ][terms % 4];
        let direction = if terms % 2 == 0 {
            SortDirection::Ascending
        } else {
            SortDirection::Descending
        };
        page(&text, UserOrder::By(key, direction));
        page(
            &format!(r#"title co "{terms}" and not (displayName sw "x{terms}")"#),
            UserOrder::Id,
        );
        page(
            &format!(
                r#"meta.lastModified gt "2026-01-01T00:00:{:02}Z""#,
                terms % 60
            ),
            UserOrder::Id,
        );
    }
    assert_eq!(
        prepared(),
        after_lookups,
        "new shapes ran as one-shot statements"
    );
    page(r#"userName eq "ada@acme.com""#, UserOrder::Id);
    assert_eq!(
        prepared(),
        after_lookups,
        "the look-up's statement was reused"
    );
}

backend_tests! {
    fn walks_resume_from_shared_positions_that_cannot_grow_without_bound(db) {
        let actor = Actor::operator("test");
        let tenant = db.tenants().create(&Workspace::parse("acme").unwrap(), "Acme", &actor).unwrap();
        let people: Vec<EmployeeInput> = (0..60).map(|i| person(&format!("p{i:02}@acme.com"), "", "")).collect();
        db.employees().upsert_many(&tenant.id, &people, &actor).unwrap();
        let page = |walk: &str, filter: Option<&str>, start_index: u64| {
            let filter = filter.map(|f| ValidatedFilter::parse(f, &USER_RESOURCE).unwrap());
            let start = PageStart::Index { start_index, walk: walk.to_owned(), known_after: None, went_elsewhere: false };
            db.employees()
                .scim_users(&tenant.id, filter.as_ref().map(ValidatedFilter::expr), UserOrder::Id, &start, 10, None)
                .unwrap()
        };
        // Okta's walk: every page after the first resumes where the one before ended.
        let mut seen = Vec::new();
        let mut seen_ids = Vec::new();
        for start_index in (1..=60).step_by(10) {
            let users = page("okta", None, start_index);
            seen_ids.extend(users.users.iter().map(|u| u.id.clone()));
            let expected = if start_index > 1 { Resumed::FromDatabase } else { Resumed::No };
            assert_eq!(users.resumed, expected, "page {start_index}");
            seen.extend(users.users.into_iter().map(|u| u.email));
        }
        assert_eq!(seen, people.iter().map(|p| p.email.clone()).collect::<Vec<_>>());
        // A client that invents a walk per request (a new filter each time) leaves at most
        // the slots' worth of rows.
        for i in 0..200 {
            let filter = format!(r#"userName ne "nobody{i}@acme.com""#);
            page(&format!("invented-{i}"), Some(&filter), 1 + (i % 50));
        }
        let rows = db.select_number("SELECT count(*) AS n FROM scim_page_positions");
        assert!(rows <= i64::from(persistence::WALK_SLOTS), "{rows} positions kept");
        // The latest walk still resumes; a page asked again (a retry) is served from its
        // offset, with the same rows.
        let filter = r#"userName ne "nobody@acme.com""#;
        let first = page("latest", Some(filter), 1);
        let second = page("latest", Some(filter), 11);
        assert_eq!(second.resumed, Resumed::FromDatabase);
        let again = page("latest", Some(filter), 11);
        assert_eq!(again.resumed, Resumed::No);
        assert_eq!(
            again.users.iter().map(|u| &u.id).collect::<Vec<_>>(),
            second.users.iter().map(|u| &u.id).collect::<Vec<_>>()
        );
        assert!(first.users.last().unwrap().id < second.users[0].id);
        // A look-up (one user, in a page that could hold ten) has no next page: it
        // writes no position.
        db.execute("DELETE FROM scim_page_positions");
        let found = page("lookups", Some(r#"userName eq "p07@acme.com""#), 1);
        assert_eq!(found.users.len(), 1);
        assert_eq!(db.select_number("SELECT count(*) AS n FROM scim_page_positions"), 0);
        // A page whose start the caller remembers continues from it and tells the caller
        // where the next one starts; it writes nothing while the walk stays with the
        // caller.
        let remembered = |start_index: u64, went_elsewhere| {
            let start = PageStart::Index { start_index, walk: "okta".into(), known_after: Some(seen_ids[start_index as usize - 2].clone()), went_elsewhere };
            db.employees().scim_users(&tenant.id, None, UserOrder::Id, &start, 10, None).unwrap()
        };
        let next = remembered(11, false);
        assert_eq!((next.resumed, next.followed_elsewhere), (Resumed::FromCaller, None));
        assert_eq!(next.users.iter().map(|u| u.id.clone()).collect::<Vec<_>>(), seen_ids[10..20]);
        assert_eq!(next.next, Some((21, seen_ids[19].clone())));
        assert_eq!(db.select_number("SELECT count(*) AS n FROM scim_page_positions"), 0);
        // A walk that alternates between replicas, each of which remembers the page from
        // an earlier walk: the page moves the shared position on, so the other replica
        // resumes the page after it. A page that was not the walk's next moves nothing.
        page("okta", None, 1);
        let position = || db.select_number("SELECT start_index AS n FROM scim_page_positions WHERE walk = 'okta'");
        assert_eq!(position(), 11);
        let at_random = remembered(31, true);
        assert_eq!((at_random.resumed, at_random.followed_elsewhere), (Resumed::FromCaller, Some(false)));
        assert_eq!(position(), 11, "page 4 was not the walk's next");
        let came_back = remembered(11, true);
        assert_eq!((came_back.resumed, came_back.followed_elsewhere), (Resumed::FromCaller, Some(true)));
        assert_eq!(position(), 21);
        assert_eq!(page("okta", None, 21).resumed, Resumed::FromDatabase);
        assert_eq!(position(), 31);
    }
}

/// The employees' rows PostgreSQL's scans have read so far, by its own counts
/// (`pg_stat_user_tables`, `pg_stat_user_indexes`), flushed first: the database must have
/// one connection, whose counts these are.
fn employee_rows_read(db: &persistence::testing::TestDatabase) -> i64 {
    db.select_number("SELECT count(*) AS n FROM (SELECT pg_stat_force_next_flush()) AS flushed");
    db.select_number(
        "SELECT (coalesce((SELECT sum(idx_tup_read) FROM pg_stat_user_indexes WHERE relname = 'employees'), 0) \
         + coalesce((SELECT seq_tup_read FROM pg_stat_user_tables WHERE relname = 'employees'), 0))::bigint AS n",
    )
}

/// Okta's incremental import asks for `meta.lastModified gt` its last run; with nothing
/// newer the answer must come from the `(tenant_id, updated_at)` index, not from reading
/// the directory. PostgreSQL counts the rows each scan reads ([`employee_rows_read`]):
/// the query may read a handful, never thousands.
#[test]
#[ignore = "needs PostgreSQL"]
fn an_incremental_import_reads_only_what_changed() {
    let db =
        persistence::testing::TestDatabase::with_one_connection(persistence::Backend::Postgres);
    let actor = Actor::operator("test");
    let tenant = db
        .tenants()
        .create(&Workspace::parse("acme").unwrap(), "Acme", &actor)
        .unwrap();
    let people: Vec<EmployeeInput> = (0..3_000)
        .map(|i| person(&format!("p{i:04}@acme.com"), "Sales", ""))
        .collect();
    db.employees()
        .upsert_many(&tenant.id, &people, &actor)
        .unwrap();
    let rows_read = || employee_rows_read(&db);
    let changed_since = |instant: chrono::DateTime<chrono::Utc>| {
        let text = format!(
            r#"meta.lastModified gt "{}""#,
            instant.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        );
        let filter = ValidatedFilter::parse(&text, &USER_RESOURCE).unwrap();
        let start = PageStart::Index {
            start_index: 1,
            walk: "incremental".into(),
            known_after: None,
            went_elsewhere: false,
        };
        let before = rows_read();
        let page = db
            .employees()
            .scim_users(
                &tenant.id,
                Some(filter.expr()),
                UserOrder::Id,
                &start,
                100,
                None,
            )
            .unwrap();
        (page, rows_read() - before)
    };
    let last_run = chrono::Utc::now();
    let (nothing, read) = changed_since(last_run);
    assert_eq!((nothing.users.len(), nothing.total), (0, 0));
    assert!(
        read < 20,
        "an empty incremental import read {read} rows of 3,000"
    );
    std::thread::sleep(std::time::Duration::from_millis(5));
    let since = chrono::Utc::now();
    let changed: Vec<EmployeeInput> = (0..5)
        .map(|i| person(&format!("p{i:04}@acme.com"), "Ops", ""))
        .collect();
    db.employees()
        .upsert_many(&tenant.id, &changed, &actor)
        .unwrap();
    let (five, read) = changed_since(since);
    assert_eq!(five.users.len(), 5);
    assert!(read < 50, "five changes read {read} rows of 3,000");
}

/// One workspace's import must not read another's rows, nor must its groups' members. A
/// small workspace made first has ids that sort before those of a big one imported
/// later; PostgreSQL plans the walk's statements once per connection, for no tenant in
/// particular, and with two tenants in its statistics the primary key looks as good as
/// the tenant's index. Read from the primary key, the small workspace's pages would go on
/// through every row of the big one looking for more of their own. They must read their
/// own rows only, however big the other workspace is.
#[test]
#[ignore = "needs PostgreSQL"]
fn a_workspace_walk_reads_none_of_another_workspace_rows() {
    let db =
        persistence::testing::TestDatabase::with_one_connection(persistence::Backend::Postgres);
    let actor = Actor::operator("test");
    let small = db
        .tenants()
        .create(&Workspace::parse("small").unwrap(), "Small", &actor)
        .unwrap();
    let mine: Vec<EmployeeInput> = (0..5)
        .map(|i| person(&format!("p{i}@small.com"), "Ops", ""))
        .collect();
    db.employees()
        .upsert_many(&small.id, &mine, &actor)
        .unwrap();
    let big = db
        .tenants()
        .create(&Workspace::parse("big").unwrap(), "Big", &actor)
        .unwrap();
    let theirs: Vec<EmployeeInput> = (0..3_000)
        .map(|i| person(&format!("p{i:04}@big.com"), "Sales", ""))
        .collect();
    db.employees()
        .upsert_many(&big.id, &theirs, &actor)
        .unwrap();
    db.execute("ANALYZE employees");
    let rows_read = || employee_rows_read(&db);
    let page_of = |start: PageStart, known_total: Option<u64>| {
        let before = rows_read();
        let page = db
            .employees()
            .scim_users(&small.id, None, UserOrder::Id, &start, 100, known_total)
            .unwrap();
        assert_eq!(page.total, 5);
        (page.users, rows_read() - before)
    };
    // Okta's walk from its first page, then a page after a known id, then one at an offset.
    let walk = PageStart::Index {
        start_index: 1,
        walk: "import".into(),
        known_after: None,
        went_elsewhere: false,
    };
    let (first, read) = page_of(walk, Some(5));
    assert_eq!(first.len(), 5);
    assert!(read < 20, "the first page of 5 read {read} rows");
    // After an id, counting them too (the page cannot tell the count).
    let (rest, read) = page_of(PageStart::AfterId(first[0].id.clone()), None);
    assert_eq!(rest.len(), 4);
    assert!(
        read < 40,
        "the page after an id and its count read {read} rows"
    );
    let (skipped, read) = page_of(PageStart::Offset(2), Some(5));
    assert_eq!(skipped.len(), 3);
    assert!(read < 20, "a page at an offset read {read} rows");
    // Each page is the small workspace's, in id order.
    assert!(first.windows(2).all(|pair| pair[0].id < pair[1].id));
    assert!(first.iter().all(|user| user.email.ends_with("@small.com")));
    let ids = |users: &[scim_model::EmployeeRecord]| {
        users.iter().map(|u| u.id.clone()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&first[1..]), ids(&rest));
    assert_eq!(ids(&first[2..]), ids(&skipped));
    // A page of the small workspace's department after a member, as `/Groups` streams it.
    let before = rows_read();
    let members = db
        .employees()
        .department_members(&small.id, "Ops", Some(&first[0].id), 100)
        .unwrap();
    let read = rows_read() - before;
    assert!(
        read < 20,
        "a page of a department's members read {read} rows"
    );
    let member_ids: Vec<String> = members.into_iter().map(|m| m.id).collect();
    assert_eq!(member_ids, ids(&rest));
}
