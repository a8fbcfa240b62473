//! Okta's importer as admins really configure it, replayed against the real scim-api on
//! both backends: a base URL typed with a trailing slash (Okta then asks for
//! `…/scim/v2//Users`), the token pasted so that Okta sends it without `Bearer` or with
//! `Bearer` twice, a base URL naming a workspace that does not exist, and the work phone
//! that Okta's default mapping imports only when it is the primary number.

use crate::common::{Service, assert_error, employee, import, live_workspace, mint_token, scim};
use persistence::{Actor, Tenant, backend_tests};
use reqwest::Method;
use reqwest::blocking::Response;
use token_store::BearerForm;
use token_store::scim::ScimTokens;

/// `GET path` on a workspace host with this exact `Authorization` header.
fn get_with(service: &Service<'_>, workspace: &str, path: &str, authorization: &str) -> Response {
    service
        .request(Method::GET, workspace, path)
        .header("authorization", authorization)
        .send()
        .unwrap()
}

/// How the workspace's only token was last presented, as the SCIM token page shows it.
fn presented_as(service: &Service<'_>, tenant: &Tenant) -> BearerForm {
    let tokens = ScimTokens::new(service.db.scim_tokens(&Actor::system()))
        .list(&(&tenant.id).into())
        .unwrap();
    tokens[0].presented_as
}

backend_tests! {
    fn a_base_url_with_a_trailing_slash_works(db) {
        let (tenant, token) = live_workspace(db, "acme");
        import(db, &tenant, &[
            employee("ada@acme.com", "Ada", "Lovelace", "Engineering", true),
            employee("grace@acme.com", "Grace", "Hopper", "Engineering", true),
        ]);
        let service = Service::start(db);
        // Okta appends `/Users` to `https://acme…/scim/v2/` as typed.
        let (status, page) = scim(service.get("acme", "/scim/v2//Users?startIndex=1&count=1", &token));
        assert_eq!((status, page["totalResults"].as_u64()), (200, Some(2)));
        let id = page["Resources"][0]["id"].as_str().unwrap().to_owned();
        let filtered = "/scim/v2//Users?filter=userName%20eq%20%22grace%40acme.com%22";
        let (status, found) = scim(service.get("acme", filtered, &token));
        assert_eq!((status, found["totalResults"].as_u64()), (200, Some(1)));
        for path in [
            format!("/scim/v2//Users/{id}"),
            format!("/scim/v2/Users/{id}/"),
        ] {
            let (status, user) = scim(service.get("acme", &path, &token));
            assert_eq!(status, 200, "{path}");
            // Locations stay canonical whatever the request looked like.
            assert_eq!(user["meta"]["location"], service.url("acme", &format!("/scim/v2/Users/{id}")));
        }
        for path in ["/scim/v2//Groups", "/scim/v2/ServiceProviderConfig/", "/scim/v2//ResourceTypes/User"] {
            assert_eq!(scim(service.get("acme", path, &token)).0, 200, "{path}");
        }
        // Metrics see the route, not the spelling.
        let metrics = service.metrics_text();
        assert!(metrics.contains("route=\"/scim/v2/Users\",method=\"GET\",status=\"200\"} 2"), "{metrics}");
        // A path that names no endpoint is still a SCIM 404, slashes or not.
        assert_error(service.get("acme", "/scim/v2//Nope/", &token), 404);
    }

    fn the_token_is_taken_with_or_without_bearer_and_the_form_is_shown(db) {
        let (tenant, token) = live_workspace(db, "acme");
        import(db, &tenant, &[employee("ada@acme.com", "Ada", "Lovelace", "Engineering", true)]);
        let service = Service::start(db);
        let users = "/scim/v2/Users?startIndex=1&count=2";

        // A token pasted into a field whose value Okta sends as the whole header.
        let (status, page) = scim(get_with(&service, "acme", users, &token));
        assert_eq!((status, page["totalResults"].as_u64()), (200, Some(1)));
        assert_eq!(presented_as(&service, &tenant), BearerForm::WithoutScheme);
        // `Bearer ` pasted in front of a token Okta prefixes itself.
        let doubled = format!("Bearer Bearer {token}");
        assert_eq!(scim(get_with(&service, "acme", users, &doubled)).0, 200);
        assert_eq!(scim(get_with(&service, "acme", users, &format!("bearer BEARER {token}"))).0, 200);
        assert_eq!(presented_as(&service, &tenant), BearerForm::DoubledScheme);
        assert_eq!(service.metric("scim_api_token_sent_without_bearer_total"), 1.0);
        assert_eq!(service.metric("scim_api_token_sent_with_doubled_bearer_total"), 2.0);
        // Tidied in Okta: the next import records the standard form again.
        assert_eq!(scim(service.get("acme", users, &token)).0, 200);
        assert_eq!(presented_as(&service, &tenant), BearerForm::Standard);
        assert_eq!(service.metric("scim_api_token_sent_with_doubled_bearer_total"), 2.0);
        assert_eq!(service.metric("scim_api_token_authentication_failures_total"), 0.0);

        // Anything else stays a 401.
        for header in [
            format!("Basic {token}"),
            format!("Bearer Bearer Bearer {token}"),
            format!("Bearer {token} {token}"),
            format!("Token {token}"),
            "Bearer".to_owned(),
        ] {
            assert_error(get_with(&service, "acme", users, &header), 401);
        }
        // A bare or doubled value that is not a SCIM token is not taken as one.
        let other = mint_token(db, &tenant, "Another");
        let mangled = other.replacen("spark_scim_", "spark_session_", 1);
        assert_error(get_with(&service, "acme", users, &mangled), 401);
        assert_error(get_with(&service, "acme", users, &format!("Bearer Bearer {mangled}")), 401);
        assert_eq!(service.metric("scim_api_token_authentication_failures_total"), 7.0);
        // The odd forms do not open another workspace's door.
        let (_, globex_token) = live_workspace(db, "globex");
        assert_error(get_with(&service, "acme", users, &globex_token), 401);
        assert_error(get_with(&service, "acme", users, &format!("Bearer Bearer {globex_token}")), 401);
    }

    fn the_work_phone_goes_out_as_the_primary_number(db) {
        let (tenant, token) = live_workspace(db, "acme");
        let mut no_phone = employee("grace@acme.com", "Grace", "Hopper", "Engineering", true);
        no_phone.phone = persistence::Change::Set(None);
        import(db, &tenant, &[employee("ada@acme.com", "Ada", "Lovelace", "Engineering", true), no_phone]);
        let service = Service::start(db);
        let (_, page) = scim(service.get("acme", "/scim/v2/Users?filter=userName%20eq%20%22ada%40acme.com%22", &token));
        let phones = page["Resources"][0]["phoneNumbers"].as_array().unwrap().clone();
        assert_eq!(phones, [serde_json::json!({"value": "+1 555 0100", "type": "work", "primary": true})]);
        // Filters on it behave as the mapping serves it.
        let (_, primary) = scim(service.get("acme", "/scim/v2/Users?filter=phoneNumbers%5Bprimary%20eq%20true%5D", &token));
        assert_eq!(primary["totalResults"], 1);
        assert_eq!(primary["Resources"][0]["userName"], "ada@acme.com");
        let (_, grace) = scim(service.get("acme", "/scim/v2/Users?filter=userName%20eq%20%22grace%40acme.com%22", &token));
        assert!(grace["Resources"][0].get("phoneNumbers").is_none(), "no phone, no entry: {grace}");
        // /Schemas describes the sub-attribute Okta's Profile Editor reads.
        let (_, schema) = scim(service.get("acme", "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", &token));
        let phone = schema["attributes"].as_array().unwrap().iter().find(|a| a["name"] == "phoneNumbers").unwrap();
        assert!(phone["subAttributes"].as_array().unwrap().iter().any(|s| s["name"] == "primary" && s["type"] == "boolean"), "{phone}");
    }

    fn an_unknown_workspace_is_a_404_and_tokens_still_get_the_same_401(db) {
        let (_, acme_token) = live_workspace(db, "acme");
        let (globex, globex_token) = live_workspace(db, "globex");
        let service = Service::start(db);
        // The base URL names a workspace that does not exist: a token cannot help.
        let body = assert_error(service.get("nowhere", "/scim/v2/Users", &acme_token), 404);
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("Workspace not found") && detail.contains("“nowhere”"), "{detail}");
        for advice in ["mint", "generate", "rotate", "revoke"] {
            assert!(!detail.to_lowercase().contains(advice), "no advice about tokens: {detail}");
        }
        // With a trailing slash and the doubled scheme too.
        assert_error(get_with(&service, "nowhere", "/scim/v2//Users", &format!("Bearer Bearer {acme_token}")), 404);
        // Tenant isolation: on an existing workspace, another workspace's token and a
        // wrong token get the very same 401.
        let wrong = mint_token(db, &globex, "Revoked soon");
        let wrong_id = ScimTokens::new(db.scim_tokens(&Actor::system())).list(&(&globex.id).into()).unwrap()[0].id.clone();
        ScimTokens::new(db.scim_tokens(&Actor::system())).revoke(&(&globex.id).into(), &wrong_id, chrono::Utc::now()).unwrap();
        let foreign = assert_error(service.get("globex", "/scim/v2/Users", &acme_token), 401);
        let revoked = assert_error(service.get("globex", "/scim/v2/Users", &wrong), 401);
        assert_eq!(foreign, revoked);
        assert_eq!(scim(service.get("globex", "/scim/v2/Users", &globex_token)).0, 200);
        // Both kinds of failure are counted, and the 401 no longer sends admins to mint.
        assert_eq!(service.metric("scim_api_token_authentication_failures_total"), 4.0);
        let detail = foreign["detail"].as_str().unwrap();
        assert!(detail.contains("/my-settings/integrations/okta-scim") && detail.contains("spark_scim_"), "{detail}");
    }

    fn guessing_workspace_names_is_throttled_like_guessing_tokens(db) {
        let (_, token) = live_workspace(db, "acme");
        let service = Service::start_with(db, &[("SPARK__SECURITY__AUTH_FAILURES_PER_ADDRESS", "3")]);
        let attacker = service.client_for(&["nowhere", "acme"]);
        for _ in 0..3 {
            assert_error(service.get_as(&attacker, "nowhere", "/scim/v2/Users", &token), 404);
        }
        let throttled = assert_error(service.get_as(&attacker, "nowhere", "/scim/v2/Users", &token), 429);
        assert!(throttled["detail"].as_str().unwrap().contains("retry after"), "{throttled}");
        assert_eq!(service.metric("scim_api_token_authentication_throttled_total"), 1.0);
    }
}
