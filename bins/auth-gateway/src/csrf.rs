//! Cross-site request forgery defence for state-changing requests on a workspace host.
//!
//! Session cookies are `SameSite=Lax`, so a cross-site POST arrives without them in
//! current browsers. On top of that every state-changing request is checked here: where
//! it came from (`Origin`, else `Referer`; `Sec-Fetch-Site: cross-site` is refused
//! outright) and the session's CSRF token (a form field `csrf_token` or the header
//! `X-CSRF-Token`, compared in constant time).

use actix_web::HttpRequest;
use actix_web::http::header::{HeaderName, ORIGIN, REFERER};
use subtle::ConstantTimeEq as _;

use crate::error::{PageError, codes};

/// The form field that carries the session's CSRF token.
pub const FORM_FIELD: &str = "csrf_token";
/// The header that carries it on the JSON API.
pub const HEADER: &str = "x-csrf-token";

/// How much a route demands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// A same-origin `Origin`/`Referer` suffices; without either, the token must match.
    /// For sign-out, where the worst a forgery can do is sign someone out.
    OriginOrToken,
    /// The token must match, and `Origin`/`Referer`, when sent, must be same-origin.
    /// For every admin change.
    OriginAndToken,
    /// `Origin` (or, without one, `Referer`) must be sent and same-origin. For a form
    /// posted before any session exists (redeeming a sign-in link), where there is no
    /// token to compare: browsers send `Origin` with every form POST.
    SameOrigin,
}

/// Refuses the request unless it passes `policy` for the workspace at `origin`.
/// `session_token` is the CSRF token of the request's session (none when signed out);
/// `form_token` the `csrf_token` field of a submitted form, if any.
///
/// # Errors
/// `CSRF_REJECTED` (403).
pub fn check(
    request: &HttpRequest,
    origin: &str,
    policy: Policy,
    session_token: Option<&str>,
    form_token: Option<&str>,
) -> Result<(), PageError> {
    let header = |name: HeaderName| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let cross_site = header(HeaderName::from_static("sec-fetch-site"))
        .is_some_and(|site| site.eq_ignore_ascii_case("cross-site"));
    let same_origin = match (header(ORIGIN), header(REFERER)) {
        _ if cross_site => Some(false),
        (Some(sent), _) => Some(sent == origin),
        (None, Some(referer)) => {
            Some(referer == origin || referer.starts_with(&format!("{origin}/")))
        }
        (None, None) => None,
    };
    let sent = form_token
        .map(str::to_owned)
        .or_else(|| header(HeaderName::from_static(HEADER)));
    let token_ok = match (session_token, sent.as_deref()) {
        (Some(expected), Some(sent)) => bool::from(expected.as_bytes().ct_eq(sent.as_bytes())),
        _ => false,
    };
    let allowed = match policy {
        Policy::OriginOrToken => match same_origin {
            Some(same) => same,
            None => token_ok,
        },
        Policy::OriginAndToken => same_origin != Some(false) && token_ok,
        Policy::SameOrigin => same_origin == Some(true),
    };
    if allowed {
        Ok(())
    } else {
        Err(PageError::forbidden(
            codes::CSRF_REJECTED,
            "This request did not come from your Spark workspace's own pages, so it was \
             refused. Reload the page in Spark and try again.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    const ORIGIN_ACME: &str = "http://acme.localhost:8080";

    fn run(headers: &[(&str, &str)], policy: Policy, form: Option<&str>) -> bool {
        let mut request = TestRequest::post();
        for (name, value) in headers {
            request = request.insert_header((*name, *value));
        }
        check(
            &request.to_http_request(),
            ORIGIN_ACME,
            policy,
            Some("tok"),
            form,
        )
        .is_ok()
    }

    #[test]
    fn admin_changes_need_the_token_and_no_foreign_origin() {
        let strict = Policy::OriginAndToken;
        assert!(run(&[("origin", ORIGIN_ACME)], strict, Some("tok")));
        assert!(run(&[], strict, Some("tok")));
        assert!(run(&[("x-csrf-token", "tok")], strict, None));
        assert!(!run(&[("origin", ORIGIN_ACME)], strict, None));
        assert!(!run(&[("origin", ORIGIN_ACME)], strict, Some("to")));
        assert!(!run(
            &[("origin", "https://evil.example")],
            strict,
            Some("tok")
        ));
        assert!(!run(&[("origin", "null")], strict, Some("tok")));
        assert!(!run(
            &[("referer", "http://acme.localhost:8080.evil.example/")],
            strict,
            Some("tok")
        ));
        assert!(!run(
            &[("sec-fetch-site", "cross-site")],
            strict,
            Some("tok")
        ));
    }

    #[test]
    fn sign_out_accepts_same_origin_or_the_token() {
        let lenient = Policy::OriginOrToken;
        assert!(run(&[("origin", ORIGIN_ACME)], lenient, None));
        assert!(run(
            &[("referer", "http://acme.localhost:8080/x")],
            lenient,
            None
        ));
        assert!(run(&[], lenient, Some("tok")));
        assert!(!run(&[], lenient, None));
        assert!(!run(
            &[("origin", "http://globex.localhost:8080")],
            lenient,
            Some("tok")
        ));
    }

    #[test]
    fn a_sign_in_link_needs_a_same_origin_post() {
        let same = Policy::SameOrigin;
        assert!(run(&[("origin", ORIGIN_ACME)], same, None));
        assert!(run(
            &[(
                "referer",
                "http://acme.localhost:8080/auth/login-link?token=x"
            )],
            same,
            None
        ));
        // Neither header: refused (the token would not help, there is no session yet).
        assert!(!run(&[], same, Some("tok")));
        assert!(!run(&[("origin", "https://evil.example")], same, None));
        assert!(!run(
            &[("origin", "http://globex.localhost:8080")],
            same,
            None
        ));
        assert!(!run(
            &[("origin", ORIGIN_ACME), ("sec-fetch-site", "cross-site")],
            same,
            None
        ));
    }
}
