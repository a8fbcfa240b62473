//! The input rules of the sign-in routes: where a browser may be sent afterwards
//! (`return_to`, `target_link_uri`), what a `login_hint` may be, and how query strings
//! and form bodies are read (a repeated parameter is refused, never guessed at).

use std::collections::HashMap;

use url::Url;

/// The longest `return_to` kept (persistence stores at most 2,000 characters).
pub const MAX_RETURN_TO: usize = 2_000;

/// The longest `login_hint` passed through (an email address is at most 320).
pub const MAX_LOGIN_HINT: usize = 320;

/// The longest parameter value read.
pub const MAX_PARAM: usize = 4_096;

/// A `return_to` that is a path on the workspace, or `None`: it starts with a single
/// `/` (never `//`, which browsers read as another host), contains no `\` (which some
/// browsers read as `/`), no scheme, no whitespace or control characters, and only
/// visible ASCII (anything else arrives percent-encoded), at most [`MAX_RETURN_TO`]
/// characters.
pub fn return_to(path: &str) -> Option<String> {
    let valid = path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && path.len() <= MAX_RETURN_TO
        && path.bytes().all(|b| b.is_ascii_graphic());
    valid.then(|| path.to_owned())
}

/// The `return_to` an IdP-initiated sign-in's `target_link_uri` gives: its path and
/// query when it is a URL on exactly `workspace_origin` (scheme, host and port), and the
/// path passes [`return_to`]; `None` (ignored, never an error) otherwise.
pub fn target_return_to(target: &Url, workspace_origin: &str) -> Option<String> {
    if target.origin().ascii_serialization() != workspace_origin
        || !target.username().is_empty()
        || target.password().is_some()
    {
        return None;
    }
    let path = match target.query() {
        Some(query) => format!("{}?{query}", target.path()),
        None => target.path().to_owned(),
    };
    return_to(&path)
}

/// A `login_hint` worth passing on: trimmed, non-empty, at most [`MAX_LOGIN_HINT`]
/// characters, no control characters. Anything else is dropped (a hint is only a hint).
pub fn login_hint(hint: Option<&str>) -> Option<String> {
    let hint = hint?.trim();
    let usable = !hint.is_empty()
        && hint.chars().count() <= MAX_LOGIN_HINT
        && !hint.chars().any(char::is_control);
    usable.then(|| hint.to_owned())
}

/// Why parameters were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamError(pub String);

/// Reads `application/x-www-form-urlencoded` parameters (a query string or a form body);
/// a repeated or over-long parameter is refused.
pub fn params(text: &str) -> Result<HashMap<String, String>, ParamError> {
    let mut out = HashMap::new();
    for (key, value) in url::form_urlencoded::parse(text.as_bytes()) {
        if value.len() > MAX_PARAM {
            return Err(ParamError(format!("the parameter `{key}` is too long")));
        }
        if out.insert(key.to_string(), value.into_owned()).is_some() {
            return Err(ParamError(format!("the parameter `{key}` is repeated")));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_to_accepts_only_paths_on_the_workspace() {
        for good in [
            "/",
            "/people",
            "/people/42?tab=profile&x=%2F%2F",
            "/a/b#frag",
            "/%E2%9C%93",
        ] {
            assert_eq!(return_to(good).as_deref(), Some(good), "{good}");
        }
        for bad in [
            "",
            "people",
            "//evil.example",
            "//evil.example/path",
            "/\\evil.example",
            "\\\\evil.example",
            "/path\\to",
            "https://evil.example/",
            "javascript:alert(1)",
            "http:/evil.example",
            "/with space",
            "/tab\there",
            "/line\nbreak",
            "/ünïcode",
            " /leading-space",
        ] {
            assert_eq!(return_to(bad), None, "{bad:?} must be refused");
        }
        assert!(return_to(&format!("/{}", "a".repeat(MAX_RETURN_TO - 1))).is_some());
        assert!(return_to(&format!("/{}", "a".repeat(MAX_RETURN_TO))).is_none());
    }

    #[test]
    fn target_link_uri_is_honoured_only_on_the_workspace_origin() {
        let origin = "https://acme.spark.work";
        let rt = |u: &str| target_return_to(&Url::parse(u).unwrap(), origin);
        assert_eq!(rt("https://acme.spark.work").as_deref(), Some("/"));
        assert_eq!(
            rt("https://acme.spark.work/people?x=1#f").as_deref(),
            Some("/people?x=1")
        );
        assert_eq!(
            rt("https://ACME.spark.work:443/people").as_deref(),
            Some("/people"),
            "normalised by the URL parser"
        );
        for foreign in [
            "https://globex.spark.work/people",
            "http://acme.spark.work/people",
            "https://acme.spark.work:8443/people",
            "https://acme.spark.work.evil.example/",
            "https://evil.example/https://acme.spark.work/",
            "https://user:pw@acme.spark.work/",
            "https://auth.spark.work/api/OktaAuth/login",
        ] {
            assert_eq!(rt(foreign), None, "{foreign} must be ignored");
        }
        let dev = "http://acme.localhost:8080";
        assert_eq!(
            target_return_to(&Url::parse("http://acme.localhost:8080/x").unwrap(), dev).as_deref(),
            Some("/x")
        );
        assert_eq!(
            target_return_to(&Url::parse("http://acme.localhost:9999/x").unwrap(), dev),
            None
        );
    }

    #[test]
    fn login_hints_are_trimmed_or_dropped() {
        assert_eq!(
            login_hint(Some(" ada@acme.com ")).as_deref(),
            Some("ada@acme.com")
        );
        assert_eq!(login_hint(Some("  ")), None);
        assert_eq!(login_hint(Some("a\nb")), None);
        assert_eq!(login_hint(Some(&"a".repeat(321))), None);
        assert_eq!(login_hint(None), None);
    }

    #[test]
    fn repeated_parameters_are_refused() {
        let p = params("workspace=acme&return_to=%2Fpeople").unwrap();
        assert_eq!(p["workspace"], "acme");
        assert_eq!(p["return_to"], "/people");
        assert!(params("workspace=acme&workspace=globex").is_err());
        assert!(params(&format!("x={}", "a".repeat(5_000))).is_err());
        assert!(params("").unwrap().is_empty());
    }
}
