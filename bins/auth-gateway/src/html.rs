//! Server-rendered HTML: one escaping helper, one page layout, and the security headers
//! every response carries. No scripts anywhere.

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
padding:0 1rem;color:#1d1d1f;line-height:1.5}h1{font-size:1.5rem}\
.button,button{display:inline-block;background:#1662dd;color:#fff;border:0;border-radius:6px;\
padding:.6rem 1.2rem;font-size:1rem;text-decoration:none;cursor:pointer}\
.code{font-family:ui-monospace,monospace;background:#f2f2f4;padding:.1rem .4rem;border-radius:4px}\
ul.workspaces{list-style:none;padding:0}ul.workspaces li{margin:.5rem 0}";

/// A whole page: `title` is text (escaped here), `body` is HTML the caller built with
/// [`escape`].
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{} · Spark</title><style>{STYLE}</style></head>\
         <body><main>{body}</main></body></html>\n",
        escape(title)
    )
}

/// The error page of a refusal: the code and the sentence that says what to fix.
pub fn error_page(code: &str, message: &str) -> String {
    page(
        "Sign-in problem",
        &format!(
            "<h1>We could not sign you in</h1>\
             <p>{}</p>\
             <p>Error code: <span class=\"code\" id=\"error-code\">{}</span></p>\
             <p>If you need help, give your Spark or Okta admin this code.</p>",
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

/// The Content-Security-Policy of every response: nothing but our own styles and images,
/// forms only to this host and the auth host, never framed.
pub fn content_security_policy(auth_origin: &str) -> String {
    format!(
        "default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self'; \
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
        .add(("Referrer-Policy", "no-referrer"))
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
        let page = error_page("X_Y", "<script>alert(1)</script>");
        assert!(!page.contains("<script>"));
        assert!(page.contains("X_Y"));
    }
}
