//! Markup an attacker controls is shown as text: a workspace's name, an employee's name,
//! the Okta user and org a sign-in linked, an admin's typed SSO settings, a SCIM token's
//! label and a request parameter repeated in an error message, each holding script and an
//! attribute break-out, on every page that shows it.

use crate::common::{AdminBrowser, Gateway, employees, signed_in_browser};
use persistence::{Actor, Change, EmployeeInput, Role, Workspace, backend_tests};

/// What an attacker writes, and how a page must show it.
const ATTACKS: [(&str, &str); 2] = [
    (
        "<script>alert(1)</script>",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
    ),
    (
        "\"><img src=x onerror=alert(1)>",
        "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;",
    ),
];

/// `page` shows `attack` only escaped, as `shown`, at least `times` times.
fn shown_escaped(page: &str, attack: &str, shown: &str, times: usize, what: &str) {
    assert!(!page.contains(attack), "{what}: unescaped in {page}");
    assert!(!page.contains("<img src=x"), "{what}: markup in {page}");
    let count = page.matches(shown).count();
    assert!(
        count >= times,
        "{what}: shown {count} times, not {times}: {page}"
    );
}

backend_tests! {
    fn pages_show_attackers_markup_as_text(db) {
        let gw = Gateway::start(db, Gateway::bind());
        for (attack, shown) in ATTACKS {
            let slug = if attack.starts_with('<') { "acme" } else { "globex" };
            let operator = Actor::operator("test");
            // The workspace's name (the Spark team's data).
            let tenant = db
                .tenants()
                .create(&Workspace::parse(slug).unwrap(), attack, &operator)
                .unwrap();
            db.okta_integrations().activate(&tenant, &operator).unwrap();
            db.okta_integrations().connect(&tenant, &operator).unwrap();
            // An employee whose name came through an import.
            let email = format!("ada@{slug}.com");
            let ada = EmployeeInput {
                email: email.clone(),
                given_name: Change::Set(Some(attack.to_owned())),
                family_name: Change::Set(Some("Tester".into())),
                display_name: Change::Set(Some(attack.to_owned())),
                active: Change::Set(true),
                role: Change::Set(Role::Employee),
                ..EmployeeInput::default()
            };
            db.employees().upsert_many(&tenant.id, &[ada], &operator).unwrap();
            let admin_email = format!("admin@{slug}.com");
            employees(db, &tenant, &[(admin_email.as_str(), true)]);

            let login = gw.browser().get(gw.url(slug, "/login")).send().unwrap().text().unwrap();
            shown_escaped(&login, attack, shown, 2, "workspace name on /login");
            let (browser, _) = signed_in_browser(&gw, &tenant, &email);
            let home = browser.get(gw.url(slug, "/")).send().unwrap().text().unwrap();
            shown_escaped(&home, attack, shown, 3, "names on the home page");

            // The Okta user and org of a sign-in (an Okta org's data).
            let ada_id = db.employees().find_by_email(&tenant.id, &email).unwrap().unwrap().id;
            db.employee_identities()
                .link(&tenant.id, attack, attack, &ada_id, chrono::Utc::now())
                .unwrap();
            let admin = AdminBrowser::sign_in(&gw, &tenant, &admin_email);
            let sso = "/admin/domain/integrations/authentication";
            let page = admin.client.get(gw.url(slug, sso)).send().unwrap().text().unwrap();
            shown_escaped(&page, attack, shown, 3, "workspace name, Okta user and org on the SSO page");

            // What an admin typed, shown again after a refusal.
            let refused = admin.form(
                sso,
                &[("action", "save"), ("org_url", attack), ("client_id", attack), ("client_secret", "s")],
            );
            assert_eq!(refused.status(), 400);
            let page = refused.text().unwrap();
            shown_escaped(&page, attack, shown, 2, "typed SSO settings");
            assert!(page.contains(&format!("value=\"{shown}\"")), "{page}");

            // A SCIM token's label, in the token shown once, the list and the revocation.
            let scim = "/my-settings/integrations/okta-scim";
            let minted = admin.form(scim, &[("action", "mint"), ("label", attack)]);
            assert_eq!(minted.status(), 200);
            let page = minted.text().unwrap();
            shown_escaped(&page, attack, shown, 2, "a token's label");
            let id = page.split("data-token-id=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
            let revoked = admin.form(scim, &[("action", "revoke"), ("token_id", id.as_str())]);
            shown_escaped(&revoked.text().unwrap(), attack, shown, 2, "a revoked token's label");

            // A request parameter repeated by an error page.
            let response = gw
                .browser()
                .get(gw.url("auth", "/api/OktaAuth/login"))
                .query(&[("workspace", attack)])
                .send()
                .unwrap();
            let status = response.status().as_u16();
            let page = response.text().unwrap();
            assert_eq!(status, 404, "{page}");
            assert!(page.contains("id=\"error-code\">WORKSPACE_UNKNOWN<"), "{page}");
            shown_escaped(&page, attack, shown, 1, "an error message");
        }
    }
}
