//! The customer guide and the admin pages hold only reviewed facts. Every Okta label,
//! Okta menu path and quoted message of docs/okta-setup.md (and of the Okta-facing parts
//! of docs/troubleshooting.md), every page path they name, and every Okta label, menu
//! path and link of the rendered admin pages must be in the reviewed list
//! docs/okta-facts.md — an Okta fact with the Okta documentation page it comes from, or
//! a Spark fact that this software really shows or serves. So changing a wording of
//! Okta's, or a route, is a deliberate edit of that list.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::common::{Gateway, ScimApi, employees, me, signed_in_browser, workspace};
use persistence::{Actor, backend_tests};
use reqwest::Method;
use token_store::BearerForm;
use token_store::scim::ScimTokens;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(root().join(relative)).unwrap()
}

/// What a reviewed fact is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// A label or menu path of Okta's Admin Console.
    Okta,
    /// A message Okta shows, or a sentence of Okta's documentation, quoted word for word.
    OktaMessage,
    /// A label or menu path of Spark's own pages.
    Spark,
    /// A message Spark shows (`…` stands for a part that varies).
    SparkMessage,
    /// A quoted example value, not a message of anyone.
    Example,
    /// A page or API of auth-gateway.
    Route,
    /// scim-api's base URL.
    ScimRoute,
}

impl Kind {
    fn parse(text: &str) -> Kind {
        match text {
            "okta" => Kind::Okta,
            "okta-message" => Kind::OktaMessage,
            "spark" => Kind::Spark,
            "spark-message" => Kind::SparkMessage,
            "example" => Kind::Example,
            "route" => Kind::Route,
            "scim-route" => Kind::ScimRoute,
            other => panic!("docs/okta-facts.md: unknown kind `{other}`"),
        }
    }
}

/// The reviewed list: text → (kind, source).
fn reviewed() -> BTreeMap<String, (Kind, String)> {
    let mut facts = BTreeMap::new();
    for line in read("docs/okta-facts.md").lines() {
        let cells: Vec<&str> = line.split(" | ").map(str::trim).collect();
        let [kind, text, source] = cells.as_slice() else {
            continue;
        };
        let kind = kind.trim_start_matches('|').trim();
        let source = source.trim_end_matches('|').trim();
        let Some(text) = text.strip_prefix('`').and_then(|t| t.strip_suffix('`')) else {
            continue;
        };
        if kind == "kind" || kind.starts_with("---") {
            continue;
        }
        let previous = facts.insert(text.to_owned(), (Kind::parse(kind), source.to_owned()));
        assert!(
            previous.is_none(),
            "docs/okta-facts.md lists `{text}` twice"
        );
    }
    assert!(
        facts.len() > 50,
        "docs/okta-facts.md has too few facts: {facts:?}"
    );
    facts
}

/// What a text names.
#[derive(Debug, Default)]
struct Named {
    /// Single labels.
    labels: BTreeSet<String>,
    /// Menu paths, `A → B → C`.
    paths: BTreeSet<String>,
    /// Quoted text.
    quotes: BTreeSet<String>,
    /// Page paths and URLs of Spark.
    routes: BTreeSet<String>,
}

impl Named {
    fn all(&self) -> impl Iterator<Item = &String> {
        self.labels
            .iter()
            .chain(&self.paths)
            .chain(&self.quotes)
            .chain(&self.routes)
    }
}

/// Markdown without fenced code blocks and HTML comments.
fn prose(markdown: &str) -> String {
    let mut out = String::new();
    let mut fenced = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if !fenced && !line.trim_start().starts_with("<!--") {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// Labels (`**X**`), menu paths (`**A** → **B**`), quotes (`"…"` outside code) and Spark
/// routes (code spans with a path or a Spark URL) of a Markdown text.
fn named_in_markdown(markdown: &str) -> Named {
    let text = prose(markdown);
    let mut named = Named::default();
    // Code spans: routes; and out of the way of the other rules.
    let mut plain = String::new();
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 0 {
            plain.push_str(part);
            continue;
        }
        plain.push_str("CODE");
        let route = part
            .strip_prefix("https://{workspace}.spark.work")
            .map(|rest| format!("https://{{workspace}}.spark.work{rest}"))
            .or_else(|| {
                part.starts_with("https://auth.spark.work/")
                    .then(|| part.to_owned())
            })
            .or_else(|| {
                let path = part.split_once(' ').map_or(part, |(method, path)| {
                    if method.chars().all(|c| c.is_ascii_uppercase()) {
                        path
                    } else {
                        part
                    }
                });
                path.starts_with('/').then(|| part.to_owned())
            });
        if let Some(route) = route {
            named.routes.insert(route);
        }
    }
    // Bold labels, and the menu paths they form.
    let pieces: Vec<&str> = plain.split("**").collect();
    let mut chain: Vec<String> = Vec::new();
    for (i, piece) in pieces.iter().enumerate() {
        if i % 2 == 1 {
            let label = piece.split_whitespace().collect::<Vec<_>>().join(" ");
            named.labels.insert(label.clone());
            chain.push(label);
        } else if piece.trim() != "→" {
            if chain.len() > 1 {
                named.paths.insert(chain.join(" → "));
            }
            chain.clear();
        }
    }
    // Quotes.
    for (i, part) in plain.split('"').enumerate() {
        if i % 2 == 1 {
            named
                .quotes
                .insert(part.split_whitespace().collect::<Vec<_>>().join(" "));
        }
    }
    named
}

/// The section of a Markdown text from a heading to the next heading of its level.
fn section<'t>(markdown: &'t str, heading: &str) -> &'t str {
    let start = markdown
        .find(heading)
        .unwrap_or_else(|| panic!("no section {heading}"));
    let level = heading.split(' ').next().unwrap();
    let rest = &markdown[start + heading.len()..];
    let end = rest
        .find(&format!("\n{level} "))
        .map_or(markdown.len(), |i| start + heading.len() + i);
    &markdown[start..end]
}

/// What the guide names: all of okta-setup.md, and the parts of troubleshooting.md an
/// Okta admin reads (SCIM provisioning and the Okta set-up mistakes).
fn named_in_docs() -> Named {
    let mut named = named_in_markdown(&read("docs/okta-setup.md"));
    let troubleshooting = read("docs/troubleshooting.md");
    for heading in ["## SCIM provisioning", "## Common Okta set-up mistakes"] {
        let part = named_in_markdown(section(&troubleshooting, heading));
        named.labels.extend(part.labels);
        named.paths.extend(part.paths);
        named.quotes.extend(part.quotes);
    }
    named
}

fn unescape(html: &str) -> String {
    html.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// Okta labels and menu paths (`<b class="okta">`), and links, of a rendered page; fails
/// on an arrow outside a marked Okta path (an unchecked menu path).
fn named_in_page(html: &str) -> Named {
    const OPEN: &str = "<b class=\"okta\">";
    let mut named = Named::default();
    let mut rest = html;
    let mut outside = String::new();
    while let Some(start) = rest.find(OPEN) {
        outside.push_str(&rest[..start]);
        let mut chain = Vec::new();
        let mut cursor = &rest[start..];
        while let Some(after) = cursor.strip_prefix(OPEN) {
            let end = after.find("</b>").unwrap();
            chain.push(unescape(&after[..end]));
            cursor = &after[end + 4..];
            match cursor.strip_prefix(" → ") {
                Some(next) if next.starts_with(OPEN) => cursor = next,
                _ => break,
            }
        }
        named.labels.extend(chain.iter().cloned());
        if chain.len() > 1 {
            named.paths.insert(chain.join(" → "));
        }
        rest = cursor;
    }
    outside.push_str(rest);
    let visible: String = outside
        .split('<')
        .map(|part| part.split_once('>').map_or(part, |(_, text)| text))
        .collect();
    assert!(
        !visible.contains('→'),
        "a menu path on an admin page that is not marked as an Okta path: {visible}"
    );
    for part in html.split("href=\"").skip(1) {
        let link = part.split('"').next().unwrap();
        // Named as the guide names them: a workspace page by its URL.
        match link {
            "/" => {
                named.routes.insert(link.to_owned());
            }
            _ if link.starts_with('/') => {
                named.routes.insert(format!(
                    "https://{{workspace}}.spark.work{}",
                    unescape(link)
                ));
            }
            _ => {}
        }
    }
    named
}

/// Spark's sources as their strings read: Rust string continuations joined.
fn spark_sources() -> String {
    fn walk(dir: &Path, out: &mut String) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut code = String::new();
    for dir in [
        "bins/auth-gateway/src",
        "bins/scim-api/src",
        "crates/oidc-client/src",
    ] {
        walk(&root().join(dir), &mut code);
    }
    let mut joined = String::new();
    let mut lines = code.lines().peekable();
    while let Some(line) = lines.next() {
        match line.strip_suffix('\\') {
            Some(continued) => {
                joined.push_str(continued);
                if let Some(next) = lines.peek_mut() {
                    *next = next.trim_start();
                }
            }
            None => {
                joined.push_str(line);
                joined.push('\n');
            }
        }
    }
    joined.replace("\\\"", "\"")
}

/// Every text must be a reviewed fact of one of `kinds`.
fn check(
    what: &str,
    texts: &BTreeSet<String>,
    kinds: &[Kind],
    facts: &BTreeMap<String, (Kind, String)>,
) -> Vec<String> {
    texts
        .iter()
        .filter(|text| {
            !facts
                .get(*text)
                .is_some_and(|(kind, _)| kinds.contains(kind))
        })
        .map(|text| format!("{what}: `{text}`"))
        .collect()
}

#[test]
fn the_guide_names_only_reviewed_facts() {
    let facts = reviewed();
    let named = named_in_docs();
    let labels = [Kind::Okta, Kind::Spark];
    let mut missing = Vec::new();
    missing.extend(check("label", &named.labels, &labels, &facts));
    missing.extend(check("menu path", &named.paths, &labels, &facts));
    missing.extend(check(
        "quote",
        &named.quotes,
        &[Kind::OktaMessage, Kind::SparkMessage, Kind::Example],
        &facts,
    ));
    missing.extend(check(
        "page path",
        &named.routes,
        &[Kind::Route, Kind::ScimRoute],
        &facts,
    ));
    assert!(
        missing.is_empty(),
        "not in the reviewed list docs/okta-facts.md (add each with its kind and the Okta \
         page it comes from, after checking it there):\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_reviewed_fact_has_a_source_that_holds() {
    let sources = spark_sources();
    let mut wrong = Vec::new();
    for (text, (kind, source)) in reviewed() {
        match kind {
            Kind::Okta | Kind::OktaMessage => {
                let okta_page = [
                    "https://help.okta.com/",
                    "https://developer.okta.com/",
                    "https://support.okta.com/",
                ]
                .iter()
                .any(|site| source.starts_with(site));
                if !okta_page {
                    wrong.push(format!(
                        "`{text}`: an Okta fact needs an Okta documentation page, not `{source}`"
                    ));
                }
            }
            Kind::Spark => {
                if !sources.contains(&text) && !text.split(" → ").all(|part| sources.contains(part))
                {
                    wrong.push(format!("`{text}`: no Spark page shows this"));
                }
            }
            Kind::SparkMessage => {
                if !text
                    .split('…')
                    .map(str::trim)
                    .filter(|f| !f.is_empty())
                    .all(|f| sources.contains(f))
                {
                    wrong.push(format!("`{text}`: Spark shows no such message"));
                }
            }
            Kind::Example | Kind::Route | Kind::ScimRoute => {}
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A route of the list as (host, method, path): the auth host or a workspace host.
fn request_of(route: &str) -> (&'static str, Method, String) {
    let (method, target) = match route.split_once(' ') {
        Some((method, target)) => (Method::from_bytes(method.as_bytes()).unwrap(), target),
        None => (Method::GET, route),
    };
    let (host, path) = if let Some(path) = target.strip_prefix("https://auth.spark.work") {
        ("auth", path)
    } else if let Some(path) = target.strip_prefix("https://{workspace}.spark.work") {
        ("acme", path)
    } else {
        ("acme", target)
    };
    // An optional query written `[?…]` is left out; placeholders name nobody.
    let path = path.split('[').next().unwrap_or(path);
    let path = path
        .replace("{id}", "00000000-0000-0000-0000-000000000000")
        .replace("{email}", "nobody@acme.com");
    (host, method, path)
}

backend_tests! {
    fn the_admin_pages_name_only_reviewed_facts_and_every_route_is_served(db) {
        let facts = reviewed();
        let gw = Gateway::start(db, Gateway::bind());
        let acme = workspace(db, "acme", false);
        employees(db, &acme, &[("admin@acme.com", true)]);
        let (admin, _) = signed_in_browser(&gw, &acme, "admin@acme.com");
        let page = |path: &str| admin.get(gw.url("acme", path)).send().unwrap().text().unwrap();
        let mut pages = vec![page("/marketplace/integrations")];
        db.okta_integrations().activate(&acme, &Actor::operator("test")).unwrap();
        pages.push(page("/marketplace/integrations"));
        db.okta_integrations().connect(&acme, &Actor::operator("test")).unwrap();
        // A token Okta sent both odd ways, so its row shows what it says then.
        let mut tokens = ScimTokens::new(db.scim_tokens(&Actor::operator("test")));
        let minted = tokens.mint(&(&acme.id).into(), "Okta", "test", chrono::Utc::now()).unwrap();
        for form in [BearerForm::WithoutScheme, BearerForm::DoubledScheme] {
            tokens.verify_as(&(&acme.id).into(), minted.token.expose_secret(), form, chrono::Utc::now()).unwrap();
            pages.push(page("/my-settings/integrations/okta-scim"));
        }
        for path in ["/", "/marketplace/integrations", "/admin/domain/integrations/authentication"] {
            pages.push(page(path));
        }
        let mut named = Named::default();
        for html in &pages {
            let on_page = named_in_page(html);
            named.labels.extend(on_page.labels);
            named.paths.extend(on_page.paths);
            named.routes.extend(on_page.routes);
        }
        for label in ["Create App Integration", "Federation Broker Mode", "Import New Users and Profile Updates", "API token"] {
            assert!(named.all().any(|l| l.contains(label)), "{label} is on the pages: {named:?}");
        }
        let mut missing = check("Okta label on an admin page", &named.labels, &[Kind::Okta], &facts);
        missing.extend(check("Okta menu path on an admin page", &named.paths, &[Kind::Okta], &facts));
        missing.extend(check("link on an admin page", &named.routes, &[Kind::Route], &facts));
        assert!(missing.is_empty(), "not in docs/okta-facts.md:\n{}", missing.join("\n"));
        let sent_as: String = pages.iter().filter(|p| p.contains("sent-as")).cloned().collect();
        assert!(sent_as.contains("sent without Bearer") && sent_as.contains("sent with a doubled Bearer"));

        // Every route the guide and the pages name is served: by auth-gateway...
        let (_, me_body) = me(&admin, &gw, "acme");
        let csrf = me_body["csrf_token"].as_str().unwrap().to_owned();
        let anonymous = gw.bare_client();
        for (route, (kind, source)) in facts.iter().filter(|(_, (kind, _))| *kind == Kind::Route) {
            let (host, method, path) = request_of(route);
            // A URL Okta is given for its own calls, which it only POSTs to.
            let method = if source.ends_with("(POST only)") { Method::POST } else { method };
            assert_eq!(*kind, Kind::Route);
            for client in [&anonymous, &admin] {
                let response = client
                    .request(method.clone(), gw.url(host, &path))
                    .header("origin", gw.origin(host))
                    .header("x-csrf-token", &csrf)
                    .header("content-type", "application/json")
                    .body("{}")
                    .send()
                    .unwrap();
                let status = response.status().as_u16();
                let body = response.text().unwrap();
                assert!(
                    // The gateway's answer for a path it does not serve: NOT_FOUND itself.
                    !(status == 404 && (body.contains("\"NOT_FOUND\"") || body.contains(">NOT_FOUND<")))
                        && status != 405,
                    "{route} is not served ({status}): {body}"
                );
            }
        }
        // ...and scim-api, at the base URL Okta is given.
        let scim = ScimApi::start(db, std::net::TcpListener::bind("127.0.0.1:0").unwrap());
        let client = reqwest::blocking::Client::builder().resolve("acme.localhost", scim.addr).build().unwrap();
        let token = ScimTokens::new(db.scim_tokens(&Actor::operator("test")))
            .mint(&(&acme.id).into(), "Okta", "test", chrono::Utc::now())
            .unwrap()
            .token
            .into_exposed_secret();
        for (route, _) in facts.iter().filter(|(_, (kind, _))| *kind == Kind::ScimRoute) {
            let base = route.replace("https://{workspace}.spark.work", &format!("http://acme.localhost:{}", scim.addr.port()));
            for endpoint in ["/ServiceProviderConfig", "/Users?count=1"] {
                let response = client.get(format!("{base}{endpoint}")).bearer_auth(&token).send().unwrap();
                assert_eq!(response.status().as_u16(), 200, "{base}{endpoint}");
            }
        }
    }
}

#[test]
fn every_reviewed_fact_is_still_used() {
    let named = named_in_docs();
    let used: BTreeSet<&String> = named.all().collect();
    // What the admin pages name is in their sources, as string literals.
    let sources = spark_sources();
    let in_sources = |text: &str| {
        sources.contains(text)
            || text
                .split(" → ")
                .all(|part| sources.contains(&format!("\"{part}\"")))
    };
    let unused: Vec<String> = reviewed()
        .into_keys()
        .filter(|text| !used.contains(text) && !in_sources(text))
        .collect();
    assert!(
        unused.is_empty(),
        "docs/okta-facts.md lists facts that nothing names any more: {unused:?}"
    );
}
