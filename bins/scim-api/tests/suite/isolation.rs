//! Tenant isolation over real HTTP, as a property, on both backends: random live
//! workspaces whose employees deliberately share emails (in other letter cases), names,
//! departments and manager structure, each with one or two SCIM tokens. Every token is
//! tried on every workspace host (and on one that does not exist, which answers 404): on
//! another host it is a 401; on its own, every read route — /Users with and without filters (including
//! `userName eq` another tenant's email and `id eq` another tenant's id), /Users/{id} of
//! every tenant's ids, /Users/.search, cursor pages, /Groups, /Groups/{id} — answers
//! with the tenant's own resources only, and all of them; another tenant's cursor is
//! refused.
//!
//! One database and one running service per backend (its failed-authentication
//! throttle off); every case creates fresh workspaces in it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::common::{Service, assert_error, import, live_workspace, mint_token, scim};
use persistence::testing::TestDatabase;
use persistence::{Change, EmployeeInput, Tenant, backend_tests};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::blocking::Client;
use serde_json::{Value, json};

/// Local parts every tenant draws from, so emails collide across tenants.
const PEOPLE: [&str; 8] = [
    "ada", "grace", "linus", "alan", "edsger", "barbara", "ken", "margaret",
];

/// Department names every tenant draws from; a department's group id is derived from
/// its name, so these ids are the same in every tenant.
const DEPARTMENTS: [&str; 3] = ["Engineering", "Sales", "Support"];

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[derive(Debug, Clone)]
struct Person {
    local: &'static str,
    shout: bool,
    department: Option<&'static str>,
    manager: Option<usize>,
    active: bool,
}

impl Person {
    fn email(&self) -> String {
        if self.shout {
            format!("{}@EXAMPLE.com", self.local.to_uppercase())
        } else {
            format!("{}@example.com", self.local)
        }
    }
}

#[derive(Debug, Clone)]
struct TenantPlan {
    people: Vec<Person>,
    extra_token: bool,
}

fn world() -> impl Strategy<Value = Vec<TenantPlan>> {
    let traits = (
        any::<bool>(),
        proptest::option::of(proptest::sample::select(DEPARTMENTS.to_vec())),
        proptest::option::of(any::<proptest::sample::Index>()),
        proptest::bool::weighted(0.8),
    );
    let tenant = (
        proptest::sample::subsequence(PEOPLE.to_vec(), 1..=6),
        proptest::collection::vec(traits, 6),
        any::<bool>(),
    )
        .prop_map(|(locals, traits, extra_token)| TenantPlan {
            people: locals
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
                .collect(),
            extra_token,
        });
    proptest::collection::vec(tenant, 2..=4)
}

/// A workspace as built: what its tokens must see, and nothing else.
struct Built {
    tenant: Tenant,
    workspace: String,
    tokens: Vec<String>,
    /// id → email as stored.
    users: BTreeMap<String, String>,
    /// department name → member ids.
    departments: BTreeMap<String, BTreeSet<String>>,
}

fn build(db: &TestDatabase, plans: &[TenantPlan]) -> Vec<Built> {
    static CASES: AtomicU64 = AtomicU64::new(0);
    let case = CASES.fetch_add(1, Ordering::Relaxed);
    plans
        .iter()
        .enumerate()
        .map(|(i, plan)| {
            let workspace = format!("iso{case}-t{i}");
            let (tenant, token) = live_workspace(db, &workspace);
            let mut tokens = vec![token];
            if plan.extra_token {
                tokens.push(mint_token(db, &tenant, "second"));
            }
            let inputs: Vec<EmployeeInput> = plan
                .people
                .iter()
                .map(|p| EmployeeInput {
                    email: p.email(),
                    given_name: Change::Set(Some(p.local.to_owned())),
                    family_name: Change::Set(Some("Example".into())),
                    department: Change::Set(p.department.map(str::to_owned)),
                    manager_email: Change::Set(p.manager.map(|m| plan.people[m].email())),
                    active: Change::Set(p.active),
                    ..EmployeeInput::default()
                })
                .collect();
            import(db, &tenant, &inputs);
            let employees = db.employees().list(&tenant.id).unwrap();
            let mut departments: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
            for employee in &employees {
                if let Some(d) = &employee.department {
                    departments
                        .entry(d.clone())
                        .or_default()
                        .insert(employee.id.as_str().to_owned());
                }
            }
            Built {
                users: employees
                    .iter()
                    .map(|e| (e.id.as_str().to_owned(), e.email.clone()))
                    .collect(),
                tenant,
                workspace,
                tokens,
                departments,
            }
        })
        .collect()
}

/// Asserts a User resource is one of `built`'s, as it stores it.
fn assert_own_user(built: &Built, user: &Value) {
    let id = user["id"].as_str().unwrap();
    let email = built
        .users
        .get(id)
        .unwrap_or_else(|| panic!("{} got another tenant's user: {user}", built.workspace));
    assert_eq!(user["userName"], email.as_str(), "{user}");
    let location = user["meta"]["location"].as_str().unwrap();
    assert!(
        location.starts_with(&format!("http://{}.localhost:", built.workspace)),
        "{location}"
    );
    if let Some(manager) = user[ENTERPRISE]["manager"]["value"].as_str() {
        assert!(built.users.contains_key(manager), "{user}");
    }
}

/// The ids of a ListResponse of users, each checked to be `built`'s own.
fn own_ids(built: &Built, page: &Value) -> Vec<String> {
    page["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|user| {
            assert_own_user(built, user);
            user["id"].as_str().unwrap().to_owned()
        })
        .collect()
}

struct Http<'a> {
    service: &'a Service<'a>,
    client: Client,
}

impl Http<'_> {
    fn get(
        &self,
        workspace: &str,
        path: &str,
        token: &str,
        query: &[(&str, &str)],
    ) -> reqwest::blocking::Response {
        self.client
            .get(self.service.url(workspace, path))
            .query(query)
            .bearer_auth(token)
            .send()
            .unwrap()
    }

    fn search(
        &self,
        workspace: &str,
        path: &str,
        token: &str,
        body: &Value,
    ) -> reqwest::blocking::Response {
        self.client
            .post(self.service.url(workspace, path))
            .bearer_auth(token)
            .header("content-type", "application/scim+json")
            .body(body.to_string())
            .send()
            .unwrap()
    }

    fn ok(&self, built: &Built, token: &str, path: &str, query: &[(&str, &str)]) -> Value {
        let (status, body) = scim(self.get(&built.workspace, path, token, query));
        assert_eq!(status, 200, "{} {path} {query:?}: {body}", built.workspace);
        body
    }
}

fn check_users(http: &Http<'_>, world: &[Built], built: &Built, token: &str) {
    let own: BTreeSet<String> = built.users.keys().cloned().collect();

    let page = http.ok(built, token, "/scim/v2/Users", &[("count", "1000")]);
    assert_eq!(page["totalResults"], built.users.len());
    let listed: BTreeSet<String> = own_ids(built, &page).into_iter().collect();
    assert_eq!(listed, own);

    let searched = scim(http.search(
        &built.workspace,
        "/scim/v2/Users/.search",
        token,
        &json!({"count": 1000}),
    ));
    assert_eq!(searched.0, 200, "{}", searched.1);
    let found: BTreeSet<String> = own_ids(built, &searched.1).into_iter().collect();
    assert_eq!(found, own);

    // Cursor pages of one walk the tenant's users, and only those.
    let mut walked = BTreeSet::new();
    let mut cursor = String::new();
    for _ in 0..=built.users.len() {
        let page = http.ok(
            built,
            token,
            "/scim/v2/Users",
            &[("count", "1"), ("cursor", &cursor)],
        );
        walked.extend(own_ids(built, &page));
        match page["nextCursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(walked, own);

    // Every email any tenant has, as each stored it (the letter cases differ).
    let emails: BTreeSet<&String> = world.iter().flat_map(|b| b.users.values()).collect();
    for email in emails {
        let expected: Vec<&String> = built
            .users
            .iter()
            .filter(|(_, e)| e.eq_ignore_ascii_case(email))
            .map(|(id, _)| id)
            .collect();
        let filter = format!("userName eq \"{email}\"");
        let page = http.ok(built, token, "/scim/v2/Users", &[("filter", &filter)]);
        let ids = own_ids(built, &page);
        assert_eq!(ids.iter().collect::<Vec<_>>(), expected, "{filter}");
        let body = json!({"filter": format!("emails.value eq \"{email}\""), "startIndex": 1});
        let (status, page) =
            scim(http.search(&built.workspace, "/scim/v2/Users/.search", token, &body));
        assert_eq!(status, 200, "{page}");
        assert_eq!(
            own_ids(built, &page).iter().collect::<Vec<_>>(),
            expected,
            "{body}"
        );
    }
    for other in world {
        for id in other.users.keys() {
            let response = http.get(
                &built.workspace,
                &format!("/scim/v2/Users/{id}"),
                token,
                &[],
            );
            if built.users.contains_key(id) {
                let (status, user) = scim(response);
                assert_eq!(status, 200, "{user}");
                assert_own_user(built, &user);
            } else {
                assert_error(response, 404);
            }
            let filter = format!("id eq \"{id}\" or {ENTERPRISE}:manager.value eq \"{id}\"");
            let page = http.ok(built, token, "/scim/v2/Users", &[("filter", &filter)]);
            let ids = own_ids(built, &page);
            assert!(
                built.users.contains_key(id) || ids.is_empty(),
                "{filter}: {ids:?}"
            );
        }
        // Another tenant's cursor is not this tenant's.
        if other.tenant.id != built.tenant.id {
            let page = http.ok(
                other,
                &other.tokens[0],
                "/scim/v2/Users",
                &[("count", "1"), ("cursor", "")],
            );
            if let Some(foreign) = page["nextCursor"].as_str() {
                let body = assert_error(
                    http.get(
                        &built.workspace,
                        "/scim/v2/Users",
                        token,
                        &[("count", "1"), ("cursor", foreign)],
                    ),
                    400,
                );
                assert_eq!(body["scimType"], "invalidCursor", "{body}");
            }
        }
    }
}

fn check_groups(http: &Http<'_>, built: &Built, token: &str) {
    let page = http.ok(built, token, "/scim/v2/Groups", &[]);
    assert_eq!(page["totalResults"], built.departments.len(), "{page}");
    let mut listed = BTreeMap::new();
    for group in page["Resources"].as_array().unwrap() {
        let members: BTreeSet<String> = group["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["value"].as_str().unwrap().to_owned())
            .collect();
        listed.insert(group["displayName"].as_str().unwrap().to_owned(), members);
    }
    assert_eq!(listed, built.departments, "{page}");

    for name in DEPARTMENTS {
        let id = persistence::department_id(name);
        let response = http.get(
            &built.workspace,
            &format!("/scim/v2/Groups/{id}"),
            token,
            &[],
        );
        match built.departments.get(name) {
            Some(members) => {
                let (status, group) = scim(response);
                assert_eq!(status, 200, "{group}");
                let got: BTreeSet<String> = group["members"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|m| m["value"].as_str().unwrap().to_owned())
                    .collect();
                assert_eq!(&got, members, "{group}");
            }
            None => {
                assert_error(response, 404);
            }
        }
        let filter = format!("displayName eq \"{name}\"");
        let page = http.ok(built, token, "/scim/v2/Groups", &[("filter", &filter)]);
        assert_eq!(
            page["totalResults"],
            usize::from(built.departments.contains_key(name)),
            "{page}"
        );
    }
}

fn check(http: &Http<'_>, world: &[Built]) {
    for owner in world {
        for (n, token) in owner.tokens.iter().enumerate() {
            for host in world {
                if host.tenant.id == owner.tenant.id {
                    if n == 0 {
                        check_users(http, world, host, token);
                        check_groups(http, host, token);
                    } else {
                        // Any of the tenant's tokens reads the same directory.
                        let page = http.ok(host, token, "/scim/v2/Users", &[("count", "1000")]);
                        let ids: BTreeSet<String> = own_ids(host, &page).into_iter().collect();
                        assert_eq!(ids, host.users.keys().cloned().collect());
                    }
                    continue;
                }
                // Another workspace's host: the same 401, whatever the route.
                let some_id = host.users.keys().next().unwrap();
                for path in [
                    "/scim/v2/Users".to_owned(),
                    format!("/scim/v2/Users/{some_id}"),
                    "/scim/v2/Groups".to_owned(),
                    format!(
                        "/scim/v2/Groups/{}",
                        persistence::department_id("Engineering")
                    ),
                ] {
                    assert_error(http.get(&host.workspace, &path, token, &[]), 401);
                }
                assert_error(
                    http.search(&host.workspace, "/scim/v2/Users/.search", token, &json!({})),
                    401,
                );
            }
            // A workspace that does not exist says so, and serves nothing.
            let missing = assert_error(http.get("nowhere", "/scim/v2/Users", token, &[]), 404);
            assert!(missing.get("Resources").is_none(), "{missing}");
        }
    }
}

backend_tests! {
    fn every_read_route_answers_with_the_tokens_own_tenant_only(db) {
        // Off: the test makes hundreds of deliberate failures from one address, and
        // throttling them is not what it is about.
        let service = Service::start_with(db, &[
            ("SPARK__SECURITY__AUTH_FAILURES_PER_ADDRESS", "0"),
            ("SPARK__SECURITY__AUTH_FAILURES_PER_WORKSPACE", "0"),
        ]);
        let mut runner = TestRunner::new(Config {
            cases: 8,
            max_shrink_iters: 32,
            failure_persistence: None,
            ..Config::default()
        });
        let outcome = runner.run(&world(), |plans| {
            let world = build(db, &plans);
            let mut hosts: Vec<&str> = world.iter().map(|b| b.workspace.as_str()).collect();
            hosts.push("nowhere");
            let http = Http { service: &service, client: service.client_for(&hosts) };
            check(&http, &world);
            Ok(())
        });
        if let Err(failure) = outcome {
            panic!("{failure}");
        }
    }
}
