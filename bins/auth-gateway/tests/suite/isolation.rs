//! Tenant isolation on the browser side, as a property, on both backends: random
//! workspaces whose employees share emails (in other letter cases), some of them admins,
//! each workspace with its own SSO settings and SCIM tokens. Every employee signs in on
//! their own workspace; then every session cookie is presented on every workspace host:
//! on its own host `/api/me` is that employee and an admin's JSON APIs show that
//! workspace's settings and tokens only; on any other host the cookie is nobody (401, or
//! a redirect to sign in) and no other workspace's data appears.
//!
//! One database and one running gateway per backend; every case creates fresh
//! workspaces in it.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::common::{Gateway, location, login_link, session_cookie, workspace};
use persistence::testing::TestDatabase;
use persistence::{Actor, Change, EmployeeInput, Role, Tenant, backend_tests};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use reqwest::blocking::Client;
use serde_json::Value;
use token_store::scim::ScimTokens;

const PEOPLE: [&str; 5] = ["ada", "grace", "linus", "alan", "ken"];

#[derive(Debug, Clone)]
struct Person {
    local: &'static str,
    shout: bool,
    admin: bool,
}

fn world() -> impl Strategy<Value = Vec<Vec<Person>>> {
    let tenant = (
        proptest::sample::subsequence(PEOPLE.to_vec(), 1..=3),
        proptest::collection::vec((any::<bool>(), any::<bool>()), 3),
    )
        .prop_map(|(locals, traits)| {
            locals
                .into_iter()
                .zip(traits)
                .map(|(local, (shout, admin))| Person {
                    local,
                    shout,
                    admin,
                })
                .collect()
        });
    proptest::collection::vec(tenant, 2..=3)
}

/// A signed-in employee: whose session, on which workspace.
struct SignedIn {
    workspace: String,
    email: String,
    admin: bool,
    cookie: String,
}

/// A workspace as built: what its admins must see.
struct Built {
    workspace: String,
    org_url: String,
    token_ids: Vec<String>,
}

fn build(db: &TestDatabase, gw: &Gateway, plans: &[Vec<Person>]) -> (Vec<Built>, Vec<SignedIn>) {
    static CASES: AtomicU64 = AtomicU64::new(0);
    let case = CASES.fetch_add(1, Ordering::Relaxed);
    let mut built = Vec::new();
    let mut signed_in = Vec::new();
    for (i, people) in plans.iter().enumerate() {
        let name = format!("iso{case}-w{i}");
        let tenant: Tenant = workspace(db, &name, true);
        let org_url = format!("https://{name}.okta.com");
        crate::common::configure_sso(db, &tenant, &org_url, "secret-of-a-workspace");
        let mut tokens = ScimTokens::new(db.scim_tokens(&Actor::operator("test")));
        let token_ids = (0..2)
            .map(|_| {
                let minted = tokens
                    .mint(&(&tenant.id).into(), "Okta", "test", chrono::Utc::now())
                    .unwrap();
                minted.record.id.as_str().to_owned()
            })
            .collect();
        let inputs: Vec<EmployeeInput> = people
            .iter()
            .map(|p| EmployeeInput {
                email: email(p),
                active: Change::Set(true),
                role: Change::Set(if p.admin { Role::Admin } else { Role::Employee }),
                ..EmployeeInput::default()
            })
            .collect();
        db.employees()
            .upsert_many(&tenant.id, &inputs, &Actor::operator("test"))
            .unwrap();
        for person in people {
            let link = login_link(db, &tenant, &email(person));
            let token = link.split_once("token=").unwrap().1;
            let response = client(gw, &[&name])
                .post(host_url(gw, &name, "/auth/login-link"))
                .header("origin", host_url(gw, &name, ""))
                .form(&[("token", token)])
                .send()
                .unwrap();
            assert_eq!(location(&response), "/");
            signed_in.push(SignedIn {
                workspace: name.clone(),
                email: email(person),
                admin: person.admin,
                cookie: format!("spark_session={}", session_cookie(&response)),
            });
        }
        built.push(Built {
            workspace: name,
            org_url,
            token_ids,
        });
    }
    (built, signed_in)
}

fn email(person: &Person) -> String {
    if person.shout {
        format!("{}@EXAMPLE.com", person.local.to_uppercase())
    } else {
        format!("{}@example.com", person.local)
    }
}

fn host_url(gw: &Gateway, host: &str, path: &str) -> String {
    format!("http://{host}.localhost:{}{path}", gw.addr.port())
}

/// A client without a cookie jar or redirects that reaches `hosts`.
fn client(gw: &Gateway, hosts: &[&str]) -> Client {
    let mut builder = Client::builder().redirect(reqwest::redirect::Policy::none());
    for host in hosts {
        builder = builder.resolve(&format!("{host}.localhost"), gw.addr);
    }
    builder.build().unwrap()
}

fn check(gw: &Gateway, world: &[Built], people: &[SignedIn]) {
    let hosts: Vec<&str> = world.iter().map(|b| b.workspace.as_str()).collect();
    let http = client(gw, &hosts);
    let get = |host: &str, path: &str, cookie: &str| {
        let response = http
            .get(host_url(gw, host, path))
            .header("cookie", cookie)
            .send()
            .unwrap();
        let status = response.status().as_u16();
        let text = response.text().unwrap();
        (status, text)
    };
    for person in people {
        for built in world {
            let own = built.workspace == person.workspace;
            let (status, me) = get(&built.workspace, "/api/me", &person.cookie);
            if own {
                let me: Value = serde_json::from_str(&me).unwrap();
                assert_eq!(
                    (status, me["email"].as_str()),
                    (200, Some(person.email.as_str()))
                );
                assert_eq!(me["workspace"], built.workspace.as_str());
            } else {
                assert_eq!(
                    status, 401,
                    "{}'s cookie on {}: {me}",
                    person.email, built.workspace
                );
            }
            let apis = [
                "/api/marketplace/integrations",
                "/api/admin/integrations/okta/sso",
                "/api/my-settings/integrations/okta-scim/tokens",
            ];
            for api in apis {
                let (status, body) = get(&built.workspace, api, &person.cookie);
                match (own, person.admin) {
                    (true, true) => assert_eq!(status, 200, "{api}: {body}"),
                    (true, false) => assert_eq!(status, 403, "{api}: {body}"),
                    (false, _) => assert_eq!(status, 401, "{api} on {}: {body}", built.workspace),
                }
                // Whatever the answer, no other workspace's settings or tokens are in it.
                for other in world.iter().filter(|o| o.workspace != built.workspace) {
                    assert!(!body.contains(&other.org_url), "{api}: {body}");
                    for id in &other.token_ids {
                        assert!(!body.contains(id.as_str()), "{api}: {body}");
                    }
                }
                if own && person.admin && api.ends_with("/sso") {
                    let sso: Value = serde_json::from_str(&body).unwrap();
                    assert_eq!(sso["org_url"], built.org_url.as_str());
                }
                if own && person.admin && api.ends_with("/tokens") {
                    let listed: Value = serde_json::from_str(&body).unwrap();
                    let mut ids: Vec<String> = listed["tokens"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|t| t["id"].as_str().unwrap().to_owned())
                        .collect();
                    ids.sort();
                    let mut expected = built.token_ids.clone();
                    expected.sort();
                    assert_eq!(ids, expected);
                }
            }
            // An admin page on another workspace: sign in there first.
            let (status, _) = get(
                &built.workspace,
                "/my-settings/integrations/okta-scim",
                &person.cookie,
            );
            let expected = match (own, person.admin) {
                (true, true) => 200,
                (true, false) => 403,
                (false, _) => 303,
            };
            assert_eq!(status, expected, "{} on {}", person.email, built.workspace);
        }
    }
}

backend_tests! {
    fn no_browser_read_path_crosses_workspaces(db) {
        let gw = Gateway::start(db, Gateway::bind());
        let mut runner = TestRunner::new(Config {
            cases: 6,
            max_shrink_iters: 16,
            failure_persistence: None,
            ..Config::default()
        });
        let outcome = runner.run(&world(), |plans| {
            let (world, people) = build(db, &gw, &plans);
            check(&gw, &world, &people);
            Ok(())
        });
        if let Err(failure) = outcome {
            panic!("{failure}");
        }
    }
}
