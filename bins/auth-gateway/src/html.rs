//! Server-rendered HTML: the page layout, the error page and the security headers every
//! response carries. Pages are `maud` templates, which escape every value they splice:
//! markup comes only from the templates and from [`trusted`] constants. The only script
//! is the admin pages' copy-button helper, served from this origin.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::middleware::DefaultHeaders;
use maud::{Markup, PreEscaped, html};

/// The content type of every page.
pub const CONTENT_TYPE_HTML: &str = "text/html; charset=utf-8";

/// Markup written into the program, shown as it is. Only a `&'static str` can be
/// trusted so, never text from a request or the database (which a template escapes).
pub const fn trusted(markup: &'static str) -> PreEscaped<&'static str> {
    PreEscaped(markup)
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;\
padding:0 1rem;color:#1d1d1f;line-height:1.5}h1{font-size:1.5rem}h2{font-size:1.15rem}\
.button,button{display:inline-block;background:#1662dd;color:#fff;border:0;border-radius:6px;\
padding:.6rem 1.2rem;font-size:1rem;text-decoration:none;cursor:pointer}\
button.secondary{background:#e8e8ed;color:#1d1d1f}button.danger{background:#b3261e}\
button:focus-visible,a:focus-visible,input:focus-visible{outline:3px solid #f5a623;outline-offset:2px}\
.code{font-family:ui-monospace,monospace;background:#f2f2f4;padding:.1rem .4rem;border-radius:4px;overflow-wrap:anywhere}\
ul.workspaces{list-style:none;padding:0}ul.workspaces li{margin:.5rem 0}\
body.wide{max-width:56rem;margin-top:1rem}\
nav.admin{display:flex;flex-wrap:wrap;gap:.25rem 1rem;align-items:center;border-bottom:1px solid #d2d2d7;\
padding:.5rem 0;margin-bottom:1rem}nav.admin a{color:#1662dd;text-decoration:none;padding:.25rem 0}\
nav.admin a[aria-current=page]{font-weight:600;border-bottom:2px solid #1662dd}\
nav.admin .who{margin-left:auto;font-size:.9rem;color:#6e6e73}nav.admin form{display:inline}\
nav.admin button{padding:.3rem .8rem;font-size:.9rem}\
label{display:block;font-weight:600;margin-top:1rem}\
input[type=text],input[type=url],input[type=password],textarea{width:100%;box-sizing:border-box;\
font-size:1rem;padding:.5rem;border:1px solid #86868b;border-radius:6px}\
.hint{font-size:.9rem;color:#6e6e73;margin:.2rem 0}\
.field-error{color:#b3261e;font-weight:600;margin:.3rem 0}input[aria-invalid=true]{border-color:#b3261e}\
.notice{padding:.75rem 1rem;border-radius:8px;margin:1rem 0}.notice.ok{background:#e6f4ea}\
.notice.warn{background:#fef7e0}.notice.bad{background:#fce8e6}\
.copyable{display:flex;gap:.5rem}.copyable input{font-family:ui-monospace,monospace;font-size:.9rem}\
.card{border:1px solid #d2d2d7;border-radius:10px;padding:1rem 1.25rem;margin:1rem 0}\
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin-top:1rem}.actions form{margin:0}\
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.5rem;\
border-bottom:1px solid #e8e8ed;vertical-align:top}\
@media (max-width:40rem){table,thead,tbody,tr,th,td{display:block}thead{display:none}\
tr{border:1px solid #d2d2d7;border-radius:8px;margin:.75rem 0;padding:.25rem}td{border:0;padding:.25rem .5rem}\
td::before{content:attr(data-label);display:block;font-size:.8rem;color:#6e6e73}\
body{margin-top:1rem}}";

/// A whole page titled `title`, around `body`.
pub fn page(title: &str, body: Markup) -> Markup {
    document(title, "", body, None)
}

/// A whole page with a class on `<body>` (`wide` for admin pages) and, optionally, one
/// script of this origin (the Content-Security-Policy allows no other).
pub fn document(title: &str, body_class: &str, body: Markup, script: Option<&str>) -> Markup {
    html! {
        (trusted("<!doctype html>\n"))
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                title { (title) " · Spark" }
                style { (trusted(STYLE)) }
                @if let Some(src) = script {
                    script src=(src) defer {}
                }
            }
            body class=(body_class) { main { (body) } }
        }
        (trusted("\n"))
    }
}

/// The error page of a refusal: the code and the sentence that says what to fix.
pub fn error_page(heading: &str, code: &str, message: &str) -> Markup {
    page(
        heading,
        html! {
            h1 { (heading) }
            p { (message) }
            p { "Error code: " span class="code" id="error-code" { (code) } }
            p { "If you need help, give your Spark or Okta admin this code." }
        },
    )
}

/// An HTML response of `status`.
pub fn respond(status: StatusCode, page: Markup) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, CONTENT_TYPE_HTML))
        .insert_header((CACHE_CONTROL, "no-store"))
        .body(page.into_string())
}

/// The Content-Security-Policy of every response: nothing but our own styles, images and
/// scripts (one: the admin pages' copy buttons), forms only to this host and the auth
/// host, never framed.
pub fn content_security_policy(auth_origin: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
         img-src 'self'; connect-src 'self'; \
         form-action 'self' {auth_origin}; frame-ancestors 'none'; base-uri 'none'"
    )
}

/// The security headers every response gets (wrap the app in it).
pub fn security_headers(auth_origin: &str) -> DefaultHeaders {
    DefaultHeaders::new()
        .add((
            "Content-Security-Policy",
            content_security_policy(auth_origin),
        ))
        .add(("X-Content-Type-Options", "nosniff"))
        // `same-origin`, not `no-referrer`: under `no-referrer` browsers send `Origin: null`
        // on same-origin form posts (Fetch, "serializing a request origin"), which the
        // CSRF check must refuse. `same-origin` still sends nothing to other sites, so
        // no URL of ours (with a sign-in code in it) ever leaves in a Referer.
        .add(("Referrer-Policy", "same-origin"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Cache-Control", "no-store"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Attacks, and how a page must show them.
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

    #[test]
    fn error_pages_escape_their_text() {
        for (attack, shown) in ATTACKS {
            let page = error_page(attack, "X_Y", attack).into_string();
            assert!(!page.contains(attack), "{page}");
            assert!(
                page.contains(&format!("<title>{shown} · Spark</title>")),
                "{page}"
            );
            assert!(
                page.contains(&format!("<h1>{shown}</h1><p>{shown}</p>")),
                "{page}"
            );
            assert!(page.contains("<span class=\"code\" id=\"error-code\">X_Y</span>"));
        }
    }

    #[test]
    fn attribute_values_cannot_end_their_quotes() {
        let (attack, shown) = ATTACKS[1];
        let page = document("t", attack, html! {}, Some(attack)).into_string();
        assert!(!page.contains(attack), "{page}");
        assert!(
            page.contains(&format!("<body class=\"{shown}\">")),
            "{page}"
        );
        assert!(
            page.contains(&format!("<script src=\"{shown}\" defer></script>")),
            "{page}"
        );
    }

    /// Markup is trusted only when written into the program: `PreEscaped` is made only
    /// by [`trusted`], whose argument is a `&'static str`, and nothing else writes into
    /// a template's buffer unescaped (a `Render` impl's `render_to`).
    #[test]
    fn only_constants_are_trusted_markup() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![src.clone()];
        let mut offenders = Vec::new();
        while let Some(path) = files.pop() {
            if path.is_dir() {
                for entry in std::fs::read_dir(&path).unwrap() {
                    files.push(entry.unwrap().path());
                }
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("html.rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                if text.contains("PreEscaped") || text.contains("render_to") {
                    offenders.push(path);
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "unescaped markup outside html.rs: {offenders:?}"
        );
    }
}
