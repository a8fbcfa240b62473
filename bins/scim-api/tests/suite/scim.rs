//! scim-api over real HTTP, on both backends: the read steps of Okta's SCIM 2.0 spec
//! test, Okta's Test Connector call, a full import walk, refused writes, tenancy, paging
//! edges, cursors, ETags, projection and discovery.

use std::collections::HashSet;

use crate::common::{Service, assert_error, employee, import, live_workspace, scim};
use persistence::{Actor, backend_tests};
use reqwest::Method;
use serde_json::Value;

fn ids(page: &Value) -> Vec<String> {
    page["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

backend_tests! {
    fn okta_spec_test_reads(db) {
        let (tenant, token) = live_workspace(db, "acme");
        import(db, &tenant, &[
            employee("ada@acme.com", "Ada", "Lovelace", "Engineering", true),
            employee("grace@acme.com", "Grace", "Hopper", "Engineering", true),
        ]);
        let service = Service::start(db);

        // GET /Users?count=1&startIndex=1 with the fields Okta checks.
        let (status, page) = scim(service.get("acme", "/scim/v2/Users?count=1&startIndex=1", &token));
        assert_eq!(status, 200);
        assert_eq!(page["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:ListResponse");
        assert_eq!(page["totalResults"], 2);
        assert_eq!(page["itemsPerPage"], 1);
        assert_eq!(page["startIndex"], 1);
        let user = &page["Resources"][0];
        for field in ["id", "userName", "active"] {
            assert!(!user[field].is_null(), "{field} in {user}");
        }
        assert!(user["name"]["givenName"].is_string() && user["name"]["familyName"].is_string(), "{user}");
        assert_eq!(user["emails"][0]["primary"], true);
        let id = user["id"].as_str().unwrap();

        // GET /Users/{id}
        let response = service.get("acme", &format!("/scim/v2/Users/{id}"), &token);
        assert!(response.headers()["etag"].to_str().unwrap().starts_with("W/\""));
        let (status, one) = scim(response);
        assert_eq!(status, 200);
        assert_eq!(one["id"], id);
        assert_eq!(one["meta"]["location"], service.url("acme", &format!("/scim/v2/Users/{id}")));
        assert_eq!(one["meta"]["resourceType"], "User");

        // An unknown userName: 200 with no results.
        let (status, none) = scim(service.get("acme", "/scim/v2/Users?filter=userName%20eq%20%22nobody%40acme.com%22", &token));
        assert_eq!((status, none["totalResults"].as_u64()), (200, Some(0)));
        assert_eq!(none["Resources"].as_array().map(Vec::len), Some(0));

        // An unknown id: 404 with a detail.
        assert_error(service.get("acme", "/scim/v2/Users/010000000-0000-0000-0000-000000000000", &token), 404);

        // userName in upper case finds the user (userName is case-insensitive).
        let (_, found) = scim(service.get("acme", "/scim/v2/Users?filter=userName%20eq%20%22ADA%40ACME.COM%22", &token));
        assert_eq!(found["totalResults"], 1);
        assert_eq!(found["Resources"][0]["userName"], "ada@acme.com");

        // GET /Groups
        let (status, groups) = scim(service.get("acme", "/scim/v2/Groups", &token));
        assert_eq!(status, 200);
        assert_eq!(groups["totalResults"], 1);
        assert_eq!(groups["Resources"][0]["displayName"], "Engineering");
        assert_eq!(groups["Resources"][0]["members"].as_array().map(Vec::len), Some(2));

        // A non-token: 401 with an Error body whose status is the string "401".
        let response = service.get("acme", "/scim/v2/Users", "not-a-token");
        assert_eq!(response.headers()["www-authenticate"].to_str().unwrap().split(' ').next(), Some("Bearer"));
        assert_error(response, 401);
        let anonymous = service.request(Method::GET, "acme", "/scim/v2/Users").send().unwrap();
        assert_error(anonymous, 401);
    }

    fn okta_test_connector_configuration(db) {
        let (tenant, token) = live_workspace(db, "acme");
        import(db, &tenant, &(0..5).map(|i| employee(&format!("p{i}@acme.com"), "P", &i.to_string(), "", true)).collect::<Vec<_>>());
        let service = Service::start(db);
        let (status, page) = scim(service.get("acme", "/scim/v2/Users?startIndex=1&count=2", &token));
        assert_eq!(status, 200);
        assert_eq!((page["totalResults"].as_u64(), page["itemsPerPage"].as_u64()), (Some(5), Some(2)));
        assert_eq!(ids(&page).len(), 2);
    }

    fn a_full_import_walk_sees_everyone_once(db) {
        let (tenant, token) = live_workspace(db, "acme");
        let people: Vec<_> = (0..1_050)
            .map(|i| employee(&format!("person{i:04}@acme.com"), "Person", &i.to_string(), ["Sales", "Ops", ""][i % 3], i % 10 != 0))
            .collect();
        import(db, &tenant, &people);
        let service = Service::start(db);
        let mut seen = Vec::new();
        let mut inactive = 0;
        let mut start = 1;
        loop {
            let (status, page) = scim(service.get("acme", &format!("/scim/v2/Users?startIndex={start}&count=100"), &token));
            assert_eq!(status, 200);
            assert_eq!(page["totalResults"], 1_050);
            let resources = page["Resources"].as_array().unwrap();
            assert_eq!(page["itemsPerPage"].as_u64(), Some(resources.len() as u64));
            inactive += resources.iter().filter(|r| r["active"] == false).count();
            seen.extend(ids(&page));
            start += 100;
            if start > 1_050 {
                break;
            }
        }
        assert_eq!(seen.len(), 1_050);
        assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 1_050, "no user twice");
        assert_eq!(inactive, 105, "deactivated employees are imported with active false");
        // A second walk (now with remembered page positions) sees the same sequence.
        let mut again = Vec::new();
        for start in (1..=1_050).step_by(100) {
            let (_, page) = scim(service.get("acme", &format!("/scim/v2/Users?startIndex={start}&count=100"), &token));
            again.extend(ids(&page));
        }
        assert_eq!(again, seen);
        // A change to the directory shows in the very next page's total.
        import(db, &tenant, &[employee("late@acme.com", "Late", "Comer", "", true)]);
        let (_, page) = scim(service.get("acme", "/scim/v2/Users?startIndex=1&count=100", &token));
        assert_eq!(page["totalResults"], 1_051);
    }

    fn a_walk_alternating_between_two_replicas_resumes_every_page(db) {
        let (tenant, token) = live_workspace(db, "acme");
        let people: Vec<_> = (0..450)
            .map(|i| employee(&format!("person{i:04}@acme.com"), "Person", &i.to_string(), "", true))
            .collect();
        import(db, &tenant, &people);
        // Two scim-api processes on one database, as behind a round-robin load balancer.
        let replicas = [Service::start(db), Service::start(db)];
        let mut seen = Vec::new();
        for (page, start) in (1..=450).step_by(100).enumerate() {
            let replica = &replicas[page % 2];
            let (status, answer) = scim(replica.get("acme", &format!("/scim/v2/Users?startIndex={start}&count=100"), &token));
            assert_eq!((status, answer["totalResults"].as_u64()), (200, Some(450)));
            seen.extend(ids(&answer));
        }
        assert_eq!(seen.len(), 450);
        assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 450, "no user twice");
        let mut sorted = seen.clone();
        sorted.sort();
        assert_eq!(seen, sorted, "in id order");
        // Every page after the first continued where the page before ended, read from
        // the database: the other replica had served that one.
        let started = |replica: &Service, how: &str| replica.metric_or_zero(&format!("scim_api_index_pages_total{{start=\"{how}\"}}"));
        assert_eq!(replicas.iter().map(|r| started(r, "database")).sum::<f64>(), 4.0);
        // The same walk again, every page on one replica (as the Ingress's hashing sends
        // it): each page continues from that process's memory, without the database.
        let mut again = Vec::new();
        for start in (1..=450).step_by(100) {
            again.extend(ids(&scim(replicas[0].get("acme", &format!("/scim/v2/Users?startIndex={start}&count=100"), &token)).1));
        }
        assert_eq!(again, seen);
        assert_eq!(started(&replicas[0], "memory"), 4.0);
        assert_eq!(replicas.iter().map(|r| started(r, "database")).sum::<f64>(), 4.0);
        // Alternating once more, now that both replicas remember pages of earlier walks
        // (Okta's next import, within the quarter hour positions live): a page one replica
        // remembers still moves the shared position on, so the other replica's next page
        // resumes from the database. Not one page skips rows.
        let mut third = Vec::new();
        for (page, start) in (1..=450).step_by(100).enumerate() {
            third.extend(ids(&scim(replicas[page % 2].get("acme", &format!("/scim/v2/Users?startIndex={start}&count=100"), &token)).1));
        }
        assert_eq!(third, seen);
        for replica in &replicas {
            assert_eq!(started(replica, "offset"), 0.0);
        }
    }

    fn every_write_is_refused(db) {
        let (tenant, token) = live_workspace(db, "acme");
        import(db, &tenant, &[employee("ada@acme.com", "Ada", "L", "Eng", true)]);
        let service = Service::start(db);
        let user = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"new@acme.com"}"#;
        for (method, path) in [
            (Method::POST, "/scim/v2/Users"),
            (Method::PUT, "/scim/v2/Users/some-id"),
            (Method::PATCH, "/scim/v2/Users/some-id"),
            (Method::DELETE, "/scim/v2/Users/some-id"),
            (Method::POST, "/scim/v2/Groups"),
            (Method::PUT, "/scim/v2/Groups/some-id"),
            (Method::PATCH, "/scim/v2/Groups/some-id"),
            (Method::DELETE, "/scim/v2/Groups/some-id"),
            (Method::POST, "/scim/v2/Bulk"),
        ] {
            let response = service.request(method.clone(), "acme", path).bearer_auth(&token)
                .header("content-type", "application/scim+json").body(user).send().unwrap();
            let body = assert_error(response, 501);
            assert!(body["detail"].as_str().unwrap().contains("source of truth"), "{method} {path}: {body}");
        }
        for path in ["/scim/v2/ServiceProviderConfig", "/scim/v2/Schemas", "/scim/v2/ResourceTypes"] {
            let response = service.request(Method::POST, "acme", path).bearer_auth(&token).body("{}").send().unwrap();
            assert_eq!(response.headers()["allow"], "GET");
            assert_error(response, 405);
        }
        // `.search` takes POST only, for both resources alike.
        for resource in ["Users", "Groups"] {
            let response = service.request(Method::GET, "acme", &format!("/scim/v2/{resource}/.search")).bearer_auth(&token).send().unwrap();
            let body = assert_error(response, 405);
            assert!(body["detail"].as_str().unwrap().contains(&format!("GET /{resource} with query")), "{body}");
        }
        assert_eq!(db.employees().count(&tenant.id).unwrap(), 1, "nothing was written");
    }

    fn tokens_belong_to_one_tenant(db) {
        let (_, acme_token) = live_workspace(db, "acme");
        let (globex, globex_token) = live_workspace(db, "globex");
        let service = Service::start(db);
        let on_other = assert_error(service.get("globex", "/scim/v2/Users", &acme_token), 401);
        let wrong = assert_error(service.get("globex", "/scim/v2/Users", "spark_scim_wrong"), 401);
        assert_eq!(on_other, wrong, "another workspace's token is just a wrong token");
        // A workspace that does not exist at all says so (workspace names are public).
        assert_error(service.get("nowhere", "/scim/v2/Users", &acme_token), 404);
        assert_eq!(scim(service.get("globex", "/scim/v2/Users", &globex_token)).0, 200);
        // A disconnected integration stops the tokens.
        db.okta_integrations().disconnect(&globex, &Actor::operator("test")).unwrap();
        let body = assert_error(service.get("globex", "/scim/v2/Users", &globex_token), 403);
        assert!(body["detail"].as_str().unwrap().contains("Marketplace"));
    }

    /// A look-up reads the caller's credentials in the same statement as the users: an
    /// attacker who holds one workspace's token and asks another workspace for a
    /// userName that exists in both learns nothing, and neither does a revoked token or
    /// a stopped integration; a look-up that matches nobody is an empty page.
    fn lookups_let_in_only_a_live_token_of_the_workspace_asked(db) {
        let (acme, acme_token) = live_workspace(db, "acme");
        let (globex, globex_token) = live_workspace(db, "globex");
        let shared = [employee("boss@shared.com", "Boss", "B", "Eng", true)];
        import(db, &acme, &shared);
        import(db, &globex, &shared);
        let service = Service::start(db);
        let lookup = |workspace: &str, token: &str, user: &str| {
            service.get(workspace, &format!("/scim/v2/Users?filter=userName%20eq%20%22{user}%22"), token)
        };
        let (status, page) = scim(lookup("acme", &acme_token, "BOSS%40shared.com"));
        assert_eq!((status, page["totalResults"].as_u64()), (200, Some(1)));
        let (_, nobody) = scim(lookup("acme", &acme_token, "nobody%40shared.com"));
        assert_eq!((nobody["totalResults"].as_u64(), nobody["Resources"].as_array().map(Vec::len)), (Some(0), Some(0)));
        let wrong = assert_error(lookup("acme", "spark_scim_wrong", "boss%40shared.com"), 401);
        assert_eq!(assert_error(lookup("acme", &globex_token, "boss%40shared.com"), 401), wrong);
        assert_error(lookup("nowhere", &acme_token, "boss%40shared.com"), 404);
        // Revoked: refused, though the user exists.
        let mut tokens = token_store::scim::ScimTokens::new(db.scim_tokens(&Actor::operator("test")));
        let globex_tokens = (&globex.id).into();
        let record = tokens.list(&globex_tokens).unwrap().remove(0);
        tokens.revoke(&globex_tokens, &record.id, chrono::Utc::now()).unwrap();
        assert_eq!(assert_error(lookup("globex", &globex_token, "boss%40shared.com"), 401), wrong);
        // A stopped integration: its own answer, not the users.
        db.okta_integrations().disconnect(&acme, &Actor::operator("test")).unwrap();
        assert_error(lookup("acme", &acme_token, "boss%40shared.com"), 403);
    }

    fn paging_parameters_per_rfc(db) {
        let (tenant, token) = live_workspace(db, "acme");
        import(db, &tenant, &(0..12).map(|i| employee(&format!("p{i:02}@acme.com"), "P", "Q", "", true)).collect::<Vec<_>>());
        let service = Service::start(db);
        let page = |query: &str| scim(service.get("acme", &format!("/scim/v2/Users?{query}"), &token)).1;
        let zero = page("startIndex=0&count=3");
        assert_eq!(zero["startIndex"], 1, "startIndex < 1 means 1");
        assert_eq!(ids(&zero), ids(&page("startIndex=1&count=3")));
        assert_eq!(page("startIndex=-5&count=3")["startIndex"], 1);
        let none = page("count=-1");
        assert_eq!((none["totalResults"].as_u64(), none["itemsPerPage"].as_u64()), (Some(12), Some(0)), "negative count means 0");
        assert_eq!(page("count=0")["Resources"].as_array().map(Vec::len), Some(0));
        assert_eq!(page("count=1000000000000")["itemsPerPage"], 12, "huge counts are capped, not refused");
        let beyond = page("startIndex=1000000000000&count=5");
        assert_eq!((beyond["totalResults"].as_u64(), beyond["itemsPerPage"].as_u64()), (Some(12), Some(0)));
        assert_eq!(page("startIndex=11&count=5")["itemsPerPage"], 2);
        let bad = assert_error(service.get("acme", "/scim/v2/Users?count=lots", &token), 400);
        assert_eq!(bad["scimType"], "invalidValue");
    }

    fn cursors_walk_and_refuse_tampering(db) {
        let (tenant, token) = live_workspace(db, "acme");
        import(db, &tenant, &(0..25).map(|i| employee(&format!("p{i:02}@acme.com"), "P", "Q", "", true)).collect::<Vec<_>>());
        let service = Service::start(db);
        let mut seen = Vec::new();
        let mut cursor = String::new();
        let mut pages = 0;
        loop {
            let (status, page) = scim(service.get("acme", &format!("/scim/v2/Users?count=10&cursor={cursor}"), &token));
            assert_eq!(status, 200);
            assert!(page.get("startIndex").is_none(), "cursor pages have no startIndex");
            seen.extend(ids(&page));
            pages += 1;
            match page["nextCursor"].as_str() {
                Some(next) => cursor = next.to_owned(),
                None => break,
            }
        }
        assert_eq!(pages, 3);
        assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 25);
        let (_, first) = scim(service.get("acme", "/scim/v2/Users?count=10&cursor=", &token));
        let next = first["nextCursor"].as_str().unwrap();
        let mut tampered = next.to_owned();
        tampered.replace_range(0..1, if next.starts_with('e') { "f" } else { "e" });
        let body = assert_error(service.get("acme", &format!("/scim/v2/Users?count=10&cursor={tampered}"), &token), 400);
        assert_eq!(body["scimType"], "invalidCursor");
        let body = assert_error(service.get("acme", &format!("/scim/v2/Users?count=10&cursor={next}&filter=active%20eq%20true"), &token), 400);
        assert_eq!(body["scimType"], "invalidCursor", "a cursor continues only its own query");
        let (_, config) = scim(service.get("acme", "/scim/v2/ServiceProviderConfig", &token));
        assert_eq!(config["pagination"]["cursor"], true);
    }

    fn etags_and_projection(db) {
        let (tenant, token) = live_workspace(db, "acme");
        import(db, &tenant, &[employee("ada@acme.com", "Ada", "L", "Eng", true)]);
        let service = Service::start(db);
        let (_, page) = scim(service.get("acme", "/scim/v2/Users?attributes=userName", &token));
        let user = &page["Resources"][0];
        assert_eq!(user["userName"], "ada@acme.com");
        assert!(user.get("name").is_none() && user.get("id").is_some(), "only userName and id: {user}");
        let (_, page) = scim(service.get("acme", "/scim/v2/Users?excludedAttributes=emails,name", &token));
        assert!(page["Resources"][0].get("emails").is_none());
        assert!(page["Resources"][0].get("userName").is_some());
        let bad = assert_error(service.get("acme", "/scim/v2/Users?attributes=shoeSize", &token), 400);
        assert!(bad["detail"].as_str().unwrap().contains("shoeSize"));

        let id = page["Resources"][0]["id"].as_str().unwrap().to_owned();
        let response = service.get("acme", &format!("/scim/v2/Users/{id}"), &token);
        let etag = response.headers()["etag"].to_str().unwrap().to_owned();
        let unchanged = service.request(Method::GET, "acme", &format!("/scim/v2/Users/{id}"))
            .bearer_auth(&token).header("if-none-match", &etag).send().unwrap();
        assert_eq!(unchanged.status().as_u16(), 304);
        db.employees().set_active(&tenant.id, "ada@acme.com", false, &Actor::operator("t")).unwrap();
        let changed = service.request(Method::GET, "acme", &format!("/scim/v2/Users/{id}"))
            .bearer_auth(&token).header("if-none-match", &etag).send().unwrap();
        assert_eq!(changed.status().as_u16(), 200, "deactivation changes the ETag");
        let (_, user) = scim(changed);
        assert_eq!(user["active"], false);
    }

    fn filters_however_okta_sends_them(db) {
        let (tenant, token) = live_workspace(db, "acme");
        import(db, &tenant, &[employee("ada@acme.com", "Ada", "L", "Eng", true), employee("bob@acme.com", "Bob", "B", "Ops", true)]);
        let service = Service::start(db);
        for query in [
            "filter=userName+eq+%22ada%40acme.com%22",
            "filter=userName%20EQ%20%22ada@acme.com%22",
            "filter=userName eq \"ada@acme.com\"",
            "FILTER=username%20Eq%20%22Ada%40Acme.com%22",
        ] {
            let (status, page) = scim(service.get("acme", &format!("/scim/v2/Users?{query}"), &token));
            assert_eq!((status, page["totalResults"].as_u64()), (200, Some(1)), "{query}");
        }
        let search = service.request(Method::POST, "acme", "/scim/v2/Users/.search").bearer_auth(&token)
            .header("content-type", "text/json")
            .body(r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"filter":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"ops\"","count":10}"#)
            .send().unwrap();
        let (status, page) = scim(search);
        assert_eq!((status, page["totalResults"].as_u64()), (200, Some(1)));
        assert_eq!(page["Resources"][0]["userName"], "bob@acme.com");
        let bad = assert_error(service.get("acme", "/scim/v2/Users?filter=userName%20eq", &token), 400);
        assert_eq!(bad["scimType"], "invalidFilter");
        let typed = assert_error(service.get("acme", "/scim/v2/Users?filter=active%20gt%20%22x%22", &token), 400);
        assert_eq!(typed["scimType"], "invalidFilter");
        let sorted = scim(service.get("acme", "/scim/v2/Users?sortBy=name.givenName&sortOrder=descending", &token)).1;
        assert_eq!(sorted["Resources"][0]["userName"], "bob@acme.com");
        let groups = scim(service.get("acme", "/scim/v2/Groups?filter=displayName%20eq%20%22eng%22", &token)).1;
        assert_eq!(groups["totalResults"], 1);
    }

    fn discovery_describes_what_is_served(db) {
        let (_, token) = live_workspace(db, "acme");
        let service = Service::start(db);
        let (status, config) = scim(service.get("acme", "/scim/v2/ServiceProviderConfig", &token));
        assert_eq!(status, 200);
        assert_eq!(config["patch"]["supported"], false);
        assert_eq!(config["bulk"]["supported"], false);
        assert_eq!(config["changePassword"]["supported"], false);
        assert_eq!(config["sort"]["supported"], true);
        assert_eq!(config["etag"]["supported"], true);
        assert_eq!(config["filter"]["supported"], true);
        let (_, schemas) = scim(service.get("acme", "/scim/v2/Schemas", &token));
        let text = schemas.to_string();
        assert!(text.contains("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User") && text.contains("department"));
        let urn = "urn:ietf:params:scim:schemas:core:2.0:User";
        let (status, user_schema) = scim(service.get("acme", &format!("/scim/v2/Schemas/{urn}"), &token));
        assert_eq!((status, user_schema["id"].as_str()), (200, Some(urn)));
        let (_, types) = scim(service.get("acme", "/scim/v2/ResourceTypes", &token));
        assert_eq!(types["totalResults"], 2);
        assert_eq!(scim(service.get("acme", "/scim/v2/ResourceTypes/User", &token)).0, 200);
        assert_error(service.get("acme", "/scim/v2/Schemas/urn:nope", &token), 404);
        assert_error(service.get("acme", "/scim/v2/Nope", &token), 404);
    }

    fn health_readiness_and_metrics(db) {
        let (_, token) = live_workspace(db, "acme");
        let service = Service::start(db);
        let health = service.client.get(format!("http://127.0.0.1:{}/healthz", service.addr.port())).send().unwrap();
        assert_eq!(health.status().as_u16(), 200);
        assert!(health.headers().contains_key("x-request-id"));
        let ready = service.client.get(format!("http://127.0.0.1:{}/readyz", service.addr.port())).send().unwrap();
        assert_eq!(ready.status().as_u16(), 200);
        service.get("acme", "/scim/v2/Users", &token);
        service.get("acme", "/scim/v2/Users", "bad");
        let metrics = service.metrics_text();
        assert!(metrics.contains("scim_api_http_requests_total{route=\"/scim/v2/Users\",method=\"GET\",status=\"200\"} 1"), "{metrics}");
        assert!(metrics.contains("scim_api_token_authentication_failures_total 1"), "{metrics}");
    }

    fn metrics_stay_off_the_public_hosts_and_their_labels_bounded(db) {
        let (_, token) = live_workspace(db, "acme");
        let service = Service::start(db);
        // Requests with made-up methods and paths create no series of their own.
        for i in 0..30 {
            let method = Method::from_bytes(format!("PROBE{i}").as_bytes()).unwrap();
            service.request(method, "acme", &format!("/scim/v2/x{i}")).bearer_auth(&token).send().unwrap();
        }
        let metrics = service.metrics_text();
        assert!(!metrics.contains("PROBE") && !metrics.contains("/scim/v2/x"), "{metrics}");
        assert!(metrics.contains("method=\"OTHER\""), "{metrics}");
        // A workspace host has no metrics: the SCIM service's own 404.
        assert_error(service.get("acme", "/metrics", &token), 404);
    }
}

backend_tests! {
    fn a_forwarded_host_does_not_choose_the_workspace(db) {
        let (_, acme_token) = live_workspace(db, "acme");
        live_workspace(db, "globex");
        let service = Service::start(db);
        // On globex's host, acme's token is refused even if X-Forwarded-Host names acme.
        let response = service.request(Method::GET, "globex", "/scim/v2/Users").bearer_auth(&acme_token)
            .header("x-forwarded-host", format!("acme.localhost:{}", service.addr.port()))
            .header("forwarded", format!("host=acme.localhost:{}", service.addr.port()))
            .send().unwrap();
        assert_error(response, 401);
    }
}

backend_tests! {
    fn groups_list_departments_and_stream_every_member(db) {
        let (acme, token) = live_workspace(db, "acme");
        let (globex, globex_token) = live_workspace(db, "globex");
        // 2,000 in Sales (a whole number of member reads), 1,001 in Ops (one over), a few
        // with no department; globex has its own Sales, which acme must never see.
        let people: Vec<_> = (0..3_006)
            .map(|i| {
                let department = match i { 0..2_000 => "Sales", 2_000..3_001 => "Ops", _ => "" };
                employee(&format!("p{i:04}@acme.com"), "P", &i.to_string(), department, true)
            })
            .collect();
        import(db, &acme, &people);
        import(db, &globex, &[employee("spy@globex.com", "S", "Py", "Sales", true)]);
        let service = Service::start(db);
        let get = |path: &str| scim(service.get("acme", path, &token));

        let (status, groups) = get("/scim/v2/Groups");
        assert_eq!(status, 200);
        assert_eq!((groups["totalResults"].as_u64(), groups["itemsPerPage"].as_u64()), (Some(2), Some(2)));
        let names: Vec<_> = groups["Resources"].as_array().unwrap().iter().map(|g| g["displayName"].as_str().unwrap()).collect();
        assert_eq!(names, ["Ops", "Sales"]);
        let sales = &groups["Resources"][1];
        let members = sales["members"].as_array().unwrap();
        assert_eq!(members.len(), 2_000);
        let values: Vec<&str> = members.iter().map(|m| m["value"].as_str().unwrap()).collect();
        assert!(values.windows(2).all(|w| w[0] < w[1]), "members in id order, each once");
        let (_, user) = get(&format!("/scim/v2/Users/{}", values[7]));
        assert_eq!(user["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"], "Sales");
        assert_eq!(members[7]["$ref"], user["meta"]["location"]);
        let name = format!("{} {}", user["name"]["givenName"].as_str().unwrap(), user["name"]["familyName"].as_str().unwrap());
        assert_eq!(members[7]["display"], name.as_str());
        assert_eq!(groups["Resources"][0]["members"].as_array().map(Vec::len), Some(1_001));

        // The streamed documents equal the ones built whole (a filter on members needs
        // them whole first).
        let (_, whole) = get("/scim/v2/Groups?filter=members%20pr");
        assert_eq!(whole, groups);

        // One group by id: the same document.
        let id = sales["id"].as_str().unwrap();
        let (status, one) = get(&format!("/scim/v2/Groups/{id}"));
        assert_eq!((status, &one), (200, sales));

        // Without members: no member list at all.
        let (_, lean) = get("/scim/v2/Groups?excludedAttributes=members");
        assert!(lean["Resources"].as_array().unwrap().iter().all(|g| g.get("members").is_none() && g["id"].is_string()));
        assert_eq!(lean["Resources"][1]["meta"], sales["meta"]);
        let (_, lean_one) = get(&format!("/scim/v2/Groups/{id}?excludedAttributes=members"));
        assert!(lean_one.get("members").is_none() && lean_one["displayName"] == "Sales");
        let (_, named) = get("/scim/v2/Groups?attributes=displayName");
        assert!(named["Resources"][1].get("members").is_none());

        // Only each member's value.
        let (_, values_only) = get("/scim/v2/Groups?attributes=members.value");
        let member = &values_only["Resources"][1]["members"][0];
        assert_eq!(member.as_object().unwrap().keys().collect::<Vec<_>>(), ["value"]);
        assert!(values_only["Resources"][1].get("displayName").is_none());
        assert_eq!(values_only["Resources"][1]["members"].as_array().map(Vec::len), Some(2_000));

        // A page of one, by name descending.
        let (_, paged) = get("/scim/v2/Groups?startIndex=2&count=1&sortBy=displayName&sortOrder=descending");
        assert_eq!((paged["totalResults"].as_u64(), paged["itemsPerPage"].as_u64(), paged["startIndex"].as_u64()), (Some(2), Some(1), Some(2)));
        assert_eq!(paged["Resources"][0]["displayName"], "Ops");
        let (_, beyond) = get("/scim/v2/Groups?startIndex=3");
        assert_eq!((beyond["itemsPerPage"].as_u64(), beyond["Resources"].as_array().map(Vec::len)), (Some(0), Some(0)));

        assert_error(service.get("acme", "/scim/v2/Groups/no-such-group", &token), 404);
        // globex's Sales has globex's one member, whatever acme's holds.
        let (_, theirs) = scim(service.get("globex", &format!("/scim/v2/Groups/{id}"), &globex_token));
        assert_eq!(theirs["members"].as_array().map(Vec::len), Some(1));
        assert!(!values.contains(&theirs["members"][0]["value"].as_str().unwrap()));
    }
}
