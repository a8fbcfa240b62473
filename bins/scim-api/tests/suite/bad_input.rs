//! Hostile and malformed input over real HTTP: every one gets a clear 4xx SCIM Error, and
//! the service keeps serving.

use crate::common::{Service, assert_error, employee, import, live_workspace, scim};
use persistence::backend_tests;
use reqwest::Method;

backend_tests! {
    fn malformed_queries_are_refused_clearly(db) {
        let (tenant, token) = live_workspace(db, "acme");
        import(db, &tenant, &[employee("ada@acme.com", "Ada", "L", "Eng", true)]);
        let service = Service::start(db);
        let get = |query: &str| service.get("acme", &format!("/scim/v2/Users?{query}"), &token);

        let long = format!("filter=userName%20eq%20%22{}%22", "a".repeat(10_000));
        assert_eq!(assert_error(get(&long), 400)["scimType"], "invalidFilter");
        let deep = format!("filter={}active%20eq%20true{}", "(".repeat(1_000), ")".repeat(1_000));
        assert_eq!(assert_error(get(&deep), 400)["scimType"], "invalidFilter");
        assert_eq!(assert_error(get("filter=shoeSize%20eq%20%2242%22"), 400)["scimType"], "invalidFilter");
        assert_eq!(assert_error(get("sortBy=shoeSize"), 400)["scimType"], "invalidPath");
        assert_eq!(assert_error(get("attributes=shoeSize"), 400)["scimType"], "invalidPath");
        assert_eq!(assert_error(get("cursor=not-a-cursor"), 400)["scimType"], "invalidCursor");
        assert_error(get("startIndex=1&cursor="), 400);
        // Invalid percent-encoding and invalid UTF-8 in a filter.
        for query in ["filter=userName%20eq%20%22%ZZ%22", "filter=userName%20eq%20%22%FF%FE%22"] {
            let response = get(query);
            let status = response.status().as_u16();
            assert!(status == 200 || status == 400, "{query}: {status}");
            if status == 400 {
                assert_error(response, 400);
            }
        }
        // SQL metacharacters are data, never SQL.
        for value in ["'; DROP TABLE employees; --", "%", "_", "\\\\", "\\\" or 1=1 or \\\""] {
            let filter = format!("userName eq \"{value}\"");
            let (status, page) = scim(service.client.get(service.url("acme", "/scim/v2/Users"))
                .bearer_auth(&token).query(&[("filter", filter.as_str())]).send().unwrap());
            assert_eq!((status, page["totalResults"].as_u64()), (200, Some(0)), "{value}");
        }
        // Repeated parameters: the last one wins, as with Okta's lenient clients.
        let (status, page) = scim(get("count=0&count=1"));
        assert_eq!((status, page["itemsPerPage"].as_u64()), (200, Some(1)));
        // Extremes of paging are normalised, not refused.
        for query in ["count=-1", "count=0", "count=1000000000000", "startIndex=0", "startIndex=-5", "startIndex=1000000000000"] {
            assert_eq!(scim(get(query)).0, 200, "{query}");
        }
        // Still serving.
        assert_eq!(scim(get("filter=userName%20eq%20%22ada%40acme.com%22")).1["totalResults"], 1);
        assert_eq!(db.employees().count(&tenant.id).unwrap(), 1, "the employees table is intact");
    }

    fn oversize_and_malformed_bodies_are_refused(db) {
        let (_, token) = live_workspace(db, "acme");
        let service = Service::start(db);
        let search = |body: Vec<u8>| service.request(Method::POST, "acme", "/scim/v2/Users/.search")
            .bearer_auth(&token).header("content-type", "application/scim+json").body(body).send().unwrap();
        let huge = format!("{{\"filter\":\"userName eq \\\"{}\\\"\"}}", "a".repeat(200_000));
        let body = assert_error(search(huge.into_bytes()), 413);
        assert!(body["detail"].as_str().unwrap().contains("64 KiB"), "{body}");
        assert_eq!(assert_error(search(b"{not json".to_vec()), 400)["scimType"], "invalidSyntax");
        assert_eq!(assert_error(search(b"[1,2,3]".to_vec()), 400)["scimType"], "invalidSyntax");
        assert_eq!(assert_error(search(vec![0xff, 0xfe, 0x00]), 400)["scimType"], "invalidSyntax");
        assert_eq!(scim(search(b"{\"count\": 1}".to_vec())).0, 200, "still serving");
    }

    fn a_spoofed_host_learns_nothing(db) {
        let (_, token) = live_workspace(db, "acme");
        let service = Service::start(db);
        for host in ["evil.example", "acme.localhost.evil.example", "localhost", "", "a.b.localhost"] {
            let response = service.client.get(format!("http://127.0.0.1:{}/scim/v2/Users", service.addr.port()))
                .header("host", host).bearer_auth(&token).send().unwrap();
            let status = response.status().as_u16();
            assert!(status == 401 || status == 400, "{host:?}: {status}");
            if status == 401 {
                assert_error(response, 401);
            }
        }
    }
}
