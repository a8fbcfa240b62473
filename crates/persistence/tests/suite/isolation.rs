//! Tenant isolation as a property, on both backends: random tenants whose employees
//! deliberately share emails (in other letter cases), names, departments and manager
//! structure, each with SCIM tokens, sessions, sign-in links and linked Okta identities
//! on one shared Okta org. Whatever a tenant asks — by listing, by email, by id, by a
//! SCIM filter naming another tenant's values, by session, by one-time code, by token —
//! it gets only its own rows, and another tenant's attempt neither reads nor spends
//! them.
//!
//! One database per backend; every case creates fresh tenants in it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::Utc;
use persistence::testing::TestDatabase;
use persistence::{
    Actor, AuthMethod, Change, CodePurpose, Consumed, Employee, EmployeeInput, NewOneTimeCode,
    NewSession, PageStart, SessionPolicy, SignInMatch, SortDirection, SortKey, Tenant, UserOrder,
    Workspace, backend_tests,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use scim_filter::ValidatedFilter;
use scim_model::USER_RESOURCE;
use token_store::scim::{ScimTokens, VerifyError};
use token_store::{SecretKind, SecretToken, TenantId as TokenTenant, TokenHash};

/// Local parts every tenant draws from, so emails collide across tenants.
const PEOPLE: [&str; 8] = [
    "ada", "grace", "linus", "alan", "edsger", "barbara", "ken", "margaret",
];

/// Department names every tenant draws from (a department's SCIM id is derived from its
/// name, so these ids are the same in every tenant).
const DEPARTMENTS: [&str; 3] = ["Engineering", "Sales", "Support"];

/// The one Okta org all tenants sign in with (two workspaces may share an org).
const ISSUER: &str = "https://shared.okta.com";

#[derive(Debug, Clone)]
struct Person {
    local: &'static str,
    /// Capitalised email (`Ada@Example.com`): the same person to a case-insensitive
    /// look-up.
    shout: bool,
    department: Option<&'static str>,
    /// Index of an earlier person of the same tenant.
    manager: Option<usize>,
    active: bool,
}

impl Person {
    fn email(&self) -> String {
        if self.shout {
            let mut chars = self.local.chars();
            let first = chars.next().unwrap().to_ascii_uppercase();
            format!("{first}{}@Example.com", chars.as_str())
        } else {
            format!("{}@example.com", self.local)
        }
    }
}

#[derive(Debug, Clone)]
struct TenantPlan {
    people: Vec<Person>,
    tokens: usize,
}

fn tenant_plan() -> impl Strategy<Value = TenantPlan> {
    let traits = (
        any::<bool>(),
        proptest::option::of(proptest::sample::select(DEPARTMENTS.to_vec())),
        proptest::option::of(any::<proptest::sample::Index>()),
        proptest::bool::weighted(0.8),
    );
    (
        proptest::sample::subsequence(PEOPLE.to_vec(), 1..=6),
        proptest::collection::vec(traits, 6),
        1..=2usize,
    )
        .prop_map(|(locals, traits, tokens)| {
            let people = locals
                .into_iter()
                .zip(traits)
                .enumerate()
                .map(
                    |(i, (local, (shout, department, manager, active)))| Person {
                        local,
                        shout,
                        department,
                        manager: manager.filter(|_| i > 0).map(|m| m.index(i)),
                        active,
                    },
                )
                .collect();
            TenantPlan { people, tokens }
        })
}

fn world() -> impl Strategy<Value = Vec<TenantPlan>> {
    proptest::collection::vec(tenant_plan(), 2..=4)
}

/// One tenant as built, with everything the checks need to know about it.
struct Built {
    tenant: Tenant,
    employees: Vec<Employee>,
    /// Lower-cased emails.
    emails: BTreeSet<String>,
    departments: BTreeMap<String, usize>,
    tokens: Vec<String>,
    /// (session token hash, employee id)
    sessions: Vec<(TokenHash, String)>,
    /// (sign-in link hash, employee id)
    codes: Vec<(TokenHash, String)>,
}

impl Built {
    fn ids(&self) -> BTreeSet<String> {
        self.employees
            .iter()
            .map(|e| e.id.as_str().to_owned())
            .collect()
    }
}

fn case_number() -> u64 {
    static CASES: AtomicU64 = AtomicU64::new(0);
    CASES.fetch_add(1, Ordering::Relaxed)
}

fn build(db: &TestDatabase, plans: &[TenantPlan]) -> Vec<Built> {
    let operator = Actor::operator("isolation");
    let case = case_number();
    let now = Utc::now();
    plans
        .iter()
        .enumerate()
        .map(|(i, plan)| {
            let workspace = Workspace::parse(&format!("iso{case}-t{i}")).unwrap();
            let tenant = db
                .tenants()
                .create(&workspace, &format!("Tenant {i}"), &operator)
                .unwrap();
            let inputs: Vec<EmployeeInput> = plan
                .people
                .iter()
                .map(|p| {
                    let given = Some(p.local.to_owned());
                    EmployeeInput {
                        email: p.email(),
                        given_name: Change::Set(given.clone()),
                        family_name: Change::Set(Some("Example".into())),
                        display_name: Change::Set(given),
                        title: Change::Set(Some("Engineer".into())),
                        department: Change::Set(p.department.map(str::to_owned)),
                        employee_number: Change::Set(Some(p.local.len().to_string())),
                        manager_email: Change::Set(p.manager.map(|m| plan.people[m].email())),
                        active: Change::Set(p.active),
                        ..EmployeeInput::default()
                    }
                })
                .collect();
            db.employees()
                .upsert_many(&tenant.id, &inputs, &operator)
                .unwrap();
            let employees = db.employees().list(&tenant.id).unwrap();
            let mut departments = BTreeMap::new();
            for person in &plan.people {
                if let Some(d) = person.department {
                    *departments.entry(d.to_owned()).or_insert(0) += 1;
                }
            }

            let mut scim = ScimTokens::new(db.scim_tokens(&operator));
            let tokens = (0..plan.tokens)
                .map(|n| {
                    scim.mint(&(&tenant.id).into(), &format!("Okta {n}"), "test", now)
                        .unwrap()
                        .token
                        .into_exposed_secret()
                })
                .collect();

            let mut sessions = Vec::new();
            let mut codes = Vec::new();
            for employee in employees.iter().filter(|e| e.active) {
                let (_, session) = SecretToken::mint(SecretKind::Session).unwrap();
                db.sessions()
                    .create(
                        &tenant.id,
                        NewSession {
                            token_hash: session,
                            employee_id: employee.id.clone(),
                            auth_method: AuthMethod::Okta,
                            csrf_token: "csrf".into(),
                        },
                        now,
                        &SessionPolicy::default(),
                    )
                    .unwrap();
                sessions.push((session, employee.id.as_str().to_owned()));
                let (_, code) = SecretToken::mint(SecretKind::SignInLink).unwrap();
                db.one_time_codes()
                    .create(
                        &tenant.id,
                        NewOneTimeCode {
                            code_hash: code,
                            purpose: CodePurpose::LoginLink,
                            employee_id: employee.id.clone(),
                            return_to: None,
                            browser_binding: None,
                        },
                        &operator,
                        now,
                    )
                    .unwrap();
                codes.push((code, employee.id.as_str().to_owned()));
                // The same Okta subject in every tenant that has this person.
                let subject = format!("sub-{}", employee.email.to_lowercase());
                let matched = db
                    .employee_identities()
                    .resolve_sign_in(&tenant.id, ISSUER, &subject, &employee.email, now)
                    .unwrap();
                match matched {
                    SignInMatch::Employee {
                        employee: found, ..
                    } => {
                        assert_eq!(found.id, employee.id);
                    }
                    other => panic!("{other:?}"),
                }
            }

            Built {
                emails: employees.iter().map(|e| e.email.to_lowercase()).collect(),
                tenant,
                employees,
                departments,
                tokens,
                sessions,
                codes,
            }
        })
        .collect()
}

/// The users a filter selects on `tenant`, all of them in one page.
fn scim_ids(db: &TestDatabase, built: &Built, filter: &str) -> Vec<String> {
    let filter = ValidatedFilter::parse(filter, &USER_RESOURCE).unwrap();
    let page = db
        .employees()
        .scim_users(
            &built.tenant.id,
            Some(filter.expr()),
            UserOrder::Id,
            &PageStart::Offset(0),
            1_000,
            None,
        )
        .unwrap();
    let ids: Vec<String> = page.users.iter().map(|u| u.id.clone()).collect();
    assert_eq!(page.total, ids.len() as u64, "{filter}");
    ids
}

fn check_employees(db: &TestDatabase, world: &[Built]) {
    let all_emails: BTreeSet<String> = world.iter().flat_map(|b| b.emails.clone()).collect();
    let all_ids: BTreeSet<String> = world.iter().flat_map(Built::ids).collect();
    for built in world {
        let tenant = &built.tenant.id;
        let own_ids = built.ids();
        assert_eq!(
            db.employees().count(tenant).unwrap(),
            built.employees.len() as u64
        );
        for employee in &built.employees {
            assert_eq!(&employee.tenant_id, tenant);
            if let Some(manager) = &employee.manager_id {
                assert!(own_ids.contains(manager.as_str()), "{employee:?}");
            }
        }

        for email in &all_emails {
            let found = db.employees().find_by_email(tenant, email).unwrap();
            assert_eq!(found.is_some(), built.emails.contains(email), "{email}");
            if let Some(found) = found {
                assert_eq!(&found.tenant_id, tenant);
                assert!(own_ids.contains(found.id.as_str()));
            }
            // Upper case finds the same (or nothing), never another tenant's.
            let upper = db
                .employees()
                .find_by_email(tenant, &email.to_uppercase())
                .unwrap();
            assert_eq!(upper.map(|e| e.tenant_id), found_tenant(built, email));

            let by_user_name = scim_ids(db, built, &format!("userName eq \"{email}\""));
            let by_email = scim_ids(db, built, &format!("emails.value eq \"{email}\""));
            let expected = usize::from(built.emails.contains(email));
            assert_eq!(by_user_name.len(), expected, "{email}");
            assert_eq!(by_user_name, by_email);
            assert!(by_user_name.iter().all(|id| own_ids.contains(id)));
        }

        for id in &all_ids {
            let own = own_ids.contains(id);
            let got = db.employees().get(tenant, id).unwrap();
            assert_eq!(got.is_some(), own, "{id}");
            let user = db.employees().scim_user(tenant, id).unwrap();
            assert_eq!(user.is_some(), own, "{id}");
            if let Some(manager) = user.and_then(|u| u.manager) {
                assert!(own_ids.contains(&manager.id));
            }
            assert_eq!(
                scim_ids(db, built, &format!("id eq \"{id}\"")).len(),
                usize::from(own)
            );
            let managed = scim_ids(
                db,
                built,
                &format!(
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"{id}\""
                ),
            );
            assert!(own || managed.is_empty(), "{id} manages in another tenant");
            assert!(managed.iter().all(|m| own_ids.contains(m)));
        }

        // Broad filters, sorts and pages: own users only, and all of them.
        for filter in [
            "userName co \"example\"",
            "userName sw \"a\" or userName ew \".com\"",
            "active eq true or active eq false",
            "name.familyName eq \"Example\"",
            "title pr",
            "not (userName eq \"ada@example.com\")",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department pr",
        ] {
            let ids = scim_ids(db, built, filter);
            assert!(ids.iter().all(|id| own_ids.contains(id)), "{filter}");
        }
        let everyone = db
            .employees()
            .scim_users(
                tenant,
                None,
                UserOrder::By(SortKey::UserName, SortDirection::Descending),
                &PageStart::Offset(0),
                1_000,
                None,
            )
            .unwrap();
        let listed: BTreeSet<String> = everyone.users.iter().map(|u| u.id.clone()).collect();
        assert_eq!(listed, own_ids);
        assert_eq!(everyone.total, own_ids.len() as u64);
        // Keyset pages from any id, another tenant's included.
        for after in &all_ids {
            let page = db
                .employees()
                .scim_users(
                    tenant,
                    None,
                    UserOrder::Id,
                    &PageStart::AfterId(after.clone()),
                    1_000,
                    None,
                )
                .unwrap();
            let expected: Vec<&String> = own_ids.iter().filter(|id| *id > after).collect();
            let got: Vec<&String> = page.users.iter().map(|u| &u.id).collect();
            assert_eq!(got, expected);
        }

        // Departments: the tenant's own names, with its own members.
        let departments = db.employees().departments(tenant).unwrap();
        let names: BTreeMap<String, usize> = departments
            .iter()
            .map(|d| (d.name.clone(), d.members.len()))
            .collect();
        assert_eq!(names, built.departments);
        for department in &departments {
            assert_eq!(department.id, persistence::department_id(&department.name));
            assert!(department.members.iter().all(|m| own_ids.contains(&m.id)));
        }
    }
}

/// The tenant `email` belongs to in `built`, if it does.
fn found_tenant(built: &Built, email: &str) -> Option<persistence::TenantId> {
    built
        .emails
        .contains(email)
        .then(|| built.tenant.id.clone())
}

fn check_sign_in(db: &TestDatabase, world: &[Built]) {
    let now = Utc::now();
    let policy = SessionPolicy::default();
    // Every tenant tries every other tenant's sessions and codes first: nothing found,
    // nothing spent.
    for asker in world {
        for owner in world.iter().filter(|o| o.tenant.id != asker.tenant.id) {
            for (session, _) in &owner.sessions {
                assert!(
                    db.sessions()
                        .find(&asker.tenant.id, session, now, &policy)
                        .unwrap()
                        .is_none()
                );
                assert!(!db.sessions().delete(&asker.tenant.id, session).unwrap());
            }
            for (code, _) in &owner.codes {
                let consumed = db
                    .one_time_codes()
                    .consume(&asker.tenant.id, CodePurpose::LoginLink, code, None, now)
                    .unwrap();
                assert!(matches!(consumed, Consumed::Unknown));
            }
            for employee in &owner.employees {
                assert_eq!(
                    db.sessions()
                        .count_for_employee(&asker.tenant.id, &employee.id)
                        .unwrap(),
                    0
                );
            }
        }
    }
    for built in world {
        let tenant = &built.tenant.id;
        let own_ids = built.ids();
        for (session, employee) in &built.sessions {
            let found = db
                .sessions()
                .find(tenant, session, now, &policy)
                .unwrap()
                .expect("another tenant's look-up left the session alone");
            assert_eq!(&found.session.tenant_id, tenant);
            assert_eq!(&found.employee.tenant_id, tenant);
            assert_eq!(found.employee.id.as_str(), employee);
        }
        for (code, employee) in &built.codes {
            match db
                .one_time_codes()
                .consume(tenant, CodePurpose::LoginLink, code, None, now)
                .unwrap()
            {
                Consumed::Fresh(code) => {
                    assert_eq!(&code.tenant_id, tenant);
                    assert_eq!(code.employee_id.as_str(), employee);
                }
                other => panic!("another tenant's attempt spent the code: {other:?}"),
            }
        }
        // The shared Okta org's subjects resolve to this tenant's own employees.
        for employee in &built.employees {
            let subject = format!("sub-{}", employee.email.to_lowercase());
            let linked = db
                .employee_identities()
                .find_employee(tenant, ISSUER, &subject)
                .unwrap();
            match linked {
                Some(found) => {
                    assert_eq!(&found.tenant_id, tenant);
                    assert_eq!(found.id, employee.id);
                }
                None => assert!(!employee.active, "{employee:?}"),
            }
        }
        for other in world.iter().filter(|o| o.tenant.id != *tenant) {
            for employee in other.employees.iter().filter(|e| e.active) {
                let subject = format!("sub-{}", employee.email.to_lowercase());
                if let Some(found) = db
                    .employee_identities()
                    .find_employee(tenant, ISSUER, &subject)
                    .unwrap()
                {
                    // Only the same person in this tenant (same email), never theirs.
                    assert_eq!(&found.tenant_id, tenant);
                    assert!(own_ids.contains(found.id.as_str()));
                }
            }
        }
    }
}

fn check_tokens_and_audit(db: &TestDatabase, world: &[Built]) {
    let now = Utc::now();
    let mut scim = ScimTokens::new(db.scim_tokens(&Actor::system()));
    for built in world {
        let tenant = TokenTenant::from(&built.tenant.id);
        for owner in world {
            for token in &owner.tokens {
                let verified = scim.verify(&tenant, token, now);
                if owner.tenant.id == built.tenant.id {
                    assert_eq!(verified.unwrap().tenant_id, tenant);
                } else {
                    assert!(
                        matches!(verified, Err(VerifyError::Unknown)),
                        "{verified:?}"
                    );
                }
            }
        }
        let listed = scim.list(&tenant).unwrap();
        assert_eq!(listed.len(), built.tokens.len());
        assert!(listed.iter().all(|r| r.tenant_id == tenant));

        let events = db.audit().recent(&built.tenant.id, 1_000).unwrap();
        assert!(
            events
                .iter()
                .all(|e| e.tenant_id.as_ref() == Some(&built.tenant.id))
        );
        let count = |action: &str| events.iter().filter(|e| e.action == action).count();
        assert_eq!(count("scim_token.minted"), built.tokens.len());
        assert_eq!(count("login_link.created"), built.codes.len());
        assert_eq!(count("employees.imported"), 1);
    }
}

fn run_cases(db: &TestDatabase, check: fn(&TestDatabase, &[Built])) {
    let mut runner = TestRunner::new(Config {
        cases: 8,
        max_shrink_iters: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let outcome = runner.run(&world(), |plans| {
        let world = build(db, &plans);
        check(db, &world);
        Ok(())
    });
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

backend_tests! {
    fn employees_and_scim_users_stay_within_their_tenant(db) {
        run_cases(db, check_employees);
    }

    fn sessions_codes_and_identities_stay_within_their_tenant(db) {
        run_cases(db, check_sign_in);
    }

    fn tokens_and_audit_stay_within_their_tenant(db) {
        run_cases(db, check_tokens_and_audit);
    }
}
