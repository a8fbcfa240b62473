//! The Okta org URL rules: what an admin may type into "Org URL", and its one
//! normalised spelling (`https://acme.okta.com`), which is also the issuer the org's
//! discovery document must name.

use std::fmt;
use std::net::IpAddr;

use url::{Host, Url};

use crate::error::{ErrorCode, OidcError};

/// Whether plain `http` is acceptable, for local development and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UrlPolicy {
    /// Accept `http://` — but only for a loopback host (127.0.0.1, ::1, localhost).
    /// Mirrors `security.allow_insecure_http`.
    pub allow_insecure_http: bool,
}

impl UrlPolicy {
    /// https only (production).
    pub const STRICT: UrlPolicy = UrlPolicy {
        allow_insecure_http: false,
    };

    /// Also http on loopback (local development and tests).
    pub const INSECURE_LOOPBACK: UrlPolicy = UrlPolicy {
        allow_insecure_http: true,
    };

    /// Checks an endpoint URL the provider advertises: https, or http on loopback when
    /// allowed.
    pub(crate) fn permits(&self, url: &Url) -> bool {
        match url.scheme() {
            "https" => true,
            "http" => self.allow_insecure_http && is_loopback(url),
            _ => false,
        }
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// A validated, normalised Okta org URL: scheme, lower-case host and (non-default) port,
/// nothing else, no trailing slash.
///
/// ```
/// use oidc_client::{OrgUrl, UrlPolicy};
///
/// let org = OrgUrl::parse(" https://Acme.Okta.com/ ", UrlPolicy::STRICT).unwrap();
/// assert_eq!(org.as_str(), "https://acme.okta.com");
///
/// let admin = OrgUrl::parse("https://acme-admin.okta.com", UrlPolicy::STRICT).unwrap_err();
/// assert_eq!(admin.code().as_str(), "OKTA_ORG_URL_ADMIN");
/// assert!(admin.message().contains("https://acme.okta.com"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrgUrl {
    normalised: String,
    url: Url,
}

impl OrgUrl {
    /// Validates and normalises what an admin typed.
    ///
    /// # Errors
    /// `OKTA_ORG_URL_INVALID` (not a URL, another scheme, a path, query, fragment or
    /// user name), `OKTA_ORG_URL_INSECURE` (http where it is not allowed) or
    /// `OKTA_ORG_URL_ADMIN` (the admin console's URL).
    pub fn parse(input: &str, policy: UrlPolicy) -> Result<Self, OidcError> {
        let text = input.trim();
        let invalid = |why: String| OidcError::new(ErrorCode::OktaOrgUrlInvalid, why);
        if text.is_empty() {
            return Err(invalid(
                "the Okta org URL is empty; enter your org's URL, e.g. https://acme.okta.com"
                    .into(),
            ));
        }
        let url = Url::parse(text).map_err(|_| {
            let hint = if text.contains("://") {
                String::new()
            } else {
                format!(" (did you mean https://{}?)", text.trim_end_matches('/'))
            };
            invalid(format!(
                "`{text}` is not a URL{hint}; the Okta org URL looks like https://acme.okta.com"
            ))
        })?;
        match url.scheme() {
            "https" => {}
            "http" if policy.allow_insecure_http && is_loopback(&url) => {}
            "http" => {
                return Err(OidcError::new(
                    ErrorCode::OktaOrgUrlInsecure,
                    format!(
                        "the Okta org URL must use https: use https://{}",
                        url.host_str().unwrap_or("acme.okta.com")
                    ),
                ));
            }
            other => {
                return Err(invalid(format!(
                    "the Okta org URL must start with https://, not {other}:"
                )));
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                "the Okta org URL must not contain a user name or password".into(),
            ));
        }
        let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
            return Err(invalid("the Okta org URL has no host name".into()));
        };
        if let Some(Host::Domain(domain)) = url.host() {
            let (first, rest) = domain.split_once('.').unwrap_or((domain, ""));
            if let Some(org) = first.strip_suffix("-admin").filter(|o| !o.is_empty()) {
                let right = if rest.is_empty() {
                    format!("https://{org}")
                } else {
                    format!("https://{org}.{rest}")
                };
                return Err(OidcError::new(
                    ErrorCode::OktaOrgUrlAdmin,
                    format!(
                        "{} is the Okta admin console URL, not the org URL: use {right} \
                         (without -admin)",
                        origin(&url)
                    ),
                ));
            }
        }
        let path = url.path();
        if !(path.is_empty() || path == "/") {
            return Err(invalid(format!(
                "the Okta org URL must not have a path: remove `{path}` and use {}",
                origin(&url)
            )));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(invalid(format!(
                "the Okta org URL must not have a query or fragment: use {}",
                origin(&url)
            )));
        }
        let normalised = origin(&url);
        let url = Url::parse(&normalised)
            .map_err(|_| invalid(format!("`{host}` is not a host name an org URL can have")))?;
        Ok(Self { normalised, url })
    }

    /// The normalised form, `https://acme.okta.com`: what is stored and compared with
    /// the discovery document's `issuer`.
    pub fn as_str(&self) -> &str {
        &self.normalised
    }

    /// The org URL as a [`Url`] (with the root path `/`).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// `{org}/.well-known/openid-configuration`.
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.normalised)
    }
}

impl fmt::Display for OrgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.normalised)
    }
}

/// `scheme://host[:port]`: the url crate lower-cases hosts and drops default ports.
fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> String {
        OrgUrl::parse(input, UrlPolicy::STRICT)
            .unwrap_or_else(|e| panic!("{input}: {e}"))
            .to_string()
    }

    fn err(input: &str, policy: UrlPolicy) -> OidcError {
        OrgUrl::parse(input, policy).expect_err(input)
    }

    #[test]
    fn okta_domains_and_custom_domains_are_accepted() {
        assert_eq!(ok("https://acme.okta.com"), "https://acme.okta.com");
        assert_eq!(
            ok("https://acme.oktapreview.com"),
            "https://acme.oktapreview.com"
        );
        assert_eq!(
            ok("https://acme.okta-emea.com"),
            "https://acme.okta-emea.com"
        );
        assert_eq!(
            ok("https://login.acme.example"),
            "https://login.acme.example"
        );
        assert_eq!(
            ok("https://sso.acme.co.uk:8443"),
            "https://sso.acme.co.uk:8443"
        );
    }

    #[test]
    fn trailing_slash_case_and_spaces_are_normalised() {
        assert_eq!(ok("https://acme.okta.com/"), "https://acme.okta.com");
        assert_eq!(ok("  HTTPS://ACME.Okta.COM/ \n"), "https://acme.okta.com");
        assert_eq!(ok("https://acme.okta.com:443/"), "https://acme.okta.com");
    }

    #[test]
    fn https_is_required() {
        let e = err("http://acme.okta.com", UrlPolicy::STRICT);
        assert_eq!(e.code(), ErrorCode::OktaOrgUrlInsecure);
        assert!(e.message().contains("https://acme.okta.com"), "{e}");
        // Even with insecure http allowed, only loopback may use it.
        let e = err("http://acme.okta.com", UrlPolicy::INSECURE_LOOPBACK);
        assert_eq!(e.code(), ErrorCode::OktaOrgUrlInsecure);
        assert_eq!(
            err("http://127.0.0.1:9000", UrlPolicy::STRICT).code(),
            ErrorCode::OktaOrgUrlInsecure
        );
        for e in [
            "ftp://acme.okta.com",
            "javascript:alert(1)",
            "file:///etc/passwd",
        ] {
            assert_eq!(
                err(e, UrlPolicy::INSECURE_LOOPBACK).code(),
                ErrorCode::OktaOrgUrlInvalid,
                "{e}"
            );
        }
    }

    #[test]
    fn http_is_allowed_on_loopback_only_when_asked() {
        let p = UrlPolicy::INSECURE_LOOPBACK;
        assert_eq!(
            OrgUrl::parse("http://127.0.0.1:9000/", p).unwrap().as_str(),
            "http://127.0.0.1:9000"
        );
        assert_eq!(
            OrgUrl::parse("http://[::1]:9000", p).unwrap().as_str(),
            "http://[::1]:9000"
        );
        assert_eq!(
            OrgUrl::parse("http://LOCALHOST:9000", p).unwrap().as_str(),
            "http://localhost:9000"
        );
        assert_eq!(
            err("http://10.0.0.1:9000", p).code(),
            ErrorCode::OktaOrgUrlInsecure
        );
        assert_eq!(
            err("http://localhost.evil.com", p).code(),
            ErrorCode::OktaOrgUrlInsecure
        );
    }

    #[test]
    fn paths_queries_fragments_and_userinfo_are_refused() {
        for input in [
            "https://acme.okta.com/oauth2/default",
            "https://acme.okta.com/app/UserHome",
            "https://acme.okta.com?x=1",
            "https://acme.okta.com/?x=1",
            "https://acme.okta.com#frag",
            "https://user@acme.okta.com",
            "https://user:pw@acme.okta.com",
        ] {
            let e = err(input, UrlPolicy::STRICT);
            assert_eq!(e.code(), ErrorCode::OktaOrgUrlInvalid, "{input}");
            assert!(!e.message().contains("pw"), "{e}");
        }
        let e = err("https://acme.okta.com/oauth2/default", UrlPolicy::STRICT);
        assert!(
            e.message().contains("/oauth2/default")
                && e.message().contains("use https://acme.okta.com"),
            "{e}"
        );
    }

    #[test]
    fn the_admin_console_url_is_refused_naming_the_org_url() {
        for (input, right) in [
            ("https://acme-admin.okta.com", "https://acme.okta.com"),
            ("https://ACME-Admin.okta.com/", "https://acme.okta.com"),
            (
                "https://acme-admin.oktapreview.com",
                "https://acme.oktapreview.com",
            ),
            (
                "https://dev-123456-admin.okta.com/admin/dashboard",
                "https://dev-123456.okta.com",
            ),
        ] {
            let e = err(input, UrlPolicy::STRICT);
            assert_eq!(e.code(), ErrorCode::OktaOrgUrlAdmin, "{input}: {e}");
            assert!(e.message().contains(right), "{input}: {e}");
        }
        // "admin" elsewhere is fine.
        assert_eq!(
            ok("https://admin-tools.okta.com"),
            "https://admin-tools.okta.com"
        );
        assert_eq!(
            ok("https://acme.admin-okta.example"),
            "https://acme.admin-okta.example"
        );
    }

    #[test]
    fn non_urls_are_refused_with_a_suggestion() {
        let e = err("acme.okta.com", UrlPolicy::STRICT);
        assert_eq!(e.code(), ErrorCode::OktaOrgUrlInvalid);
        assert!(
            e.message().contains("did you mean https://acme.okta.com"),
            "{e}"
        );
        assert_eq!(
            err("", UrlPolicy::STRICT).code(),
            ErrorCode::OktaOrgUrlInvalid
        );
        assert_eq!(
            err("https://", UrlPolicy::STRICT).code(),
            ErrorCode::OktaOrgUrlInvalid
        );
        assert_eq!(
            err("https:// acme.okta.com", UrlPolicy::STRICT).code(),
            ErrorCode::OktaOrgUrlInvalid
        );
    }

    #[test]
    fn the_discovery_url_hangs_off_the_org() {
        let org = OrgUrl::parse("https://acme.okta.com/", UrlPolicy::STRICT).unwrap();
        assert_eq!(
            org.discovery_url(),
            "https://acme.okta.com/.well-known/openid-configuration"
        );
    }
}
