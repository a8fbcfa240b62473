//! What the admin pages tell an Okta admin beyond the forms: where the activation request
//! goes, and how Okta really sent each SCIM token (a real scim-api receives the forms Okta
//! admins end up configuring).

use crate::common::{Gateway, ScimApi, employees, me, signed_in_browser, workspace};
use persistence::backend_tests;
use reqwest::blocking::Client;
use serde_json::Value;

fn json(client: &Client, url: String) -> Value {
    client.get(url).send().unwrap().json().unwrap()
}

backend_tests! {
    fn the_activation_request_goes_to_the_configured_address(db) {
        let gw = Gateway::start_configured(
            db,
            Gateway::bind(),
            true,
            &[("SPARK__SUPPORT__ACTIVATION_EMAIL", "integrations@spark.example".to_owned())],
        );
        let acme = workspace(db, "acme", false);
        employees(db, &acme, &[("admin@acme.com", true)]);
        let (admin, _) = signed_in_browser(&gw, &acme, "admin@acme.com");
        let body = json(&admin, gw.url("acme", "/api/marketplace/integrations"));
        let request = &body["integrations"][0]["activation_request"];
        assert_eq!(request["to"], "integrations@spark.example");
        assert_eq!(request["subject"], "Enable Okta integration — acme");
        // The seed guide's request: the workspace URL and the admin contact.
        let text = request["body"].as_str().unwrap();
        assert!(text.contains(&format!("( {} )", gw.origin("acme"))), "{text}");
        assert!(text.contains("Admin contact: admin Tester / admin@acme.com."), "{text}");
        let page = admin.get(gw.url("acme", "/marketplace/integrations")).send().unwrap().text().unwrap();
        assert!(page.contains("href=\"mailto:integrations@spark.example?subject=Enable%20Okta%20integration"), "{page}");
        assert!(page.contains("id=\"activation-to\""), "{page}");
    }

    fn without_an_address_the_page_invents_none(db) {
        let gw = Gateway::start(db, Gateway::bind());
        let acme = workspace(db, "acme", false);
        employees(db, &acme, &[("admin@acme.com", true)]);
        let (admin, _) = signed_in_browser(&gw, &acme, "admin@acme.com");
        let body = json(&admin, gw.url("acme", "/api/marketplace/integrations"));
        assert_eq!(body["integrations"][0]["activation_request"]["to"], Value::Null);
        let page = admin.get(gw.url("acme", "/marketplace/integrations")).send().unwrap().text().unwrap();
        assert!(page.contains("Send it to Spark support"), "{page}");
        assert!(page.contains("href=\"mailto:?subject="), "the email app opens without a recipient: {page}");
        assert!(!page.contains("id=\"activation-to\""), "{page}");
        // The only addresses on the page are the admin's own.
        let addresses: Vec<&str> = page.split(|c: char| c.is_whitespace() || "<>\"()/".contains(c))
            .filter(|w| w.contains('@') && w.contains('.'))
            .collect();
        assert!(addresses.iter().all(|a| a.contains("admin@acme.com")), "{addresses:?}");
    }

    fn the_token_row_says_how_okta_sent_the_token(db) {
        let gw = Gateway::start(db, Gateway::bind());
        let acme = workspace(db, "acme", true);
        employees(db, &acme, &[("admin@acme.com", true)]);
        let (admin, _) = signed_in_browser(&gw, &acme, "admin@acme.com");
        let (_, me_body) = me(&admin, &gw, "acme");
        let minted: Value = admin.post(gw.url("acme", "/api/my-settings/integrations/okta-scim/tokens"))
            .header("origin", gw.origin("acme"))
            .header("x-csrf-token", me_body["csrf_token"].as_str().unwrap())
            .json(&serde_json::json!({"label": "Okta"}))
            .send().unwrap().json().unwrap();
        let token = minted["token"].as_str().unwrap().to_owned();
        assert_eq!(minted["presented_as"], "bearer");
        let scim = ScimApi::start(db, std::net::TcpListener::bind("127.0.0.1:0").unwrap());
        let okta = Client::builder().resolve("acme.localhost", scim.addr).build().unwrap();
        let import = |authorization: String| {
            let response = okta.get(format!("http://acme.localhost:{}/scim/v2/Users?count=1", scim.addr.port()))
                .header("authorization", authorization)
                .send().unwrap();
            assert_eq!(response.status().as_u16(), 200);
        };
        let row = || {
            let page = admin.get(gw.url("acme", "/my-settings/integrations/okta-scim")).send().unwrap().text().unwrap();
            let start = page.find("<tr data-token-id").unwrap();
            page[start..start + page[start..].find("</tr>").unwrap()].to_owned()
        };
        let listed = || json(&admin, gw.url("acme", "/api/my-settings/integrations/okta-scim/tokens"))["tokens"][0]["presented_as"].clone();
        assert!(!row().contains("sent-as"), "a fresh token has no note");

        import(token.clone());
        assert!(row().contains("sent without Bearer"), "{}", row());
        assert_eq!(listed(), "no_scheme");
        import(format!("Bearer Bearer {token}"));
        assert!(row().contains("sent with a doubled Bearer"), "{}", row());
        assert_eq!(listed(), "doubled_bearer");
        import(format!("Bearer {token}"));
        assert!(!row().contains("sent-as"), "tidied in Okta, the note goes: {}", row());
        assert_eq!(listed(), "bearer");
    }
}
