//! Server-rendered HTML: one escaping helper, one page layout, and the security headers
//! every response carries. The only script is the admin pages' copy-button helper, served
//! from this origin.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::middleware::DefaultHeaders;

/// The content type of every page.
pub const CONTENT_TYPE_HTML: &str = "text/html; charset=utf-8";

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
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

/// A whole page: `title` is text (escaped here), `body` is HTML the caller built with
/// [`escape`].
pub fn page(title: &str, body: &str) -> String {
    document(title, "", body, None)
}

/// A whole page with a class on `<body>` (`wide` for admin pages) and, optionally, one
/// script of this origin (the Content-Security-Policy allows no other).
pub fn document(title: &str, body_class: &str, body: &str, script: Option<&str>) -> String {
    let script = script
        .map(|src| format!("<script src=\"{}\" defer></script>", escape(src)))
        .unwrap_or_default();
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{} · Spark</title><style>{STYLE}</style>{script}</head>\
         <body class=\"{}\"><main>{body}</main></body></html>\n",
        escape(title),
        escape(body_class)
    )
}

/// The error page of a refusal: the code and the sentence that says what to fix.
pub fn error_page(heading: &str, code: &str, message: &str) -> String {
    page(
        heading,
        &format!(
            "<h1>{}</h1>\
             <p>{}</p>\
             <p>Error code: <span class=\"code\" id=\"error-code\">{}</span></p>\
             <p>If you need help, give your Spark or Okta admin this code.</p>",
            escape(heading),
            escape(message),
            escape(code)
        ),
    )
}

/// A 200 (or other status) HTML response.
pub fn respond(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, CONTENT_TYPE_HTML))
        .insert_header((CACHE_CONTROL, "no-store"))
        .body(body)
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

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x" onclick='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
        assert_eq!(escape("plain ünïcode"), "plain ünïcode");
    }

    #[test]
    fn error_pages_escape_their_text() {
        let page = error_page("Oops", "X_Y", "<script>alert(1)</script>");
        assert!(!page.contains("<script>"));
        assert!(page.contains("X_Y"));
    }
}
