//! The Okta org URL rules: what an admin may type into "Org URL", its one normalised
//! spelling (`https://acme.okta.com`), which is also the issuer the org's discovery
//! document must name, and which org URLs Spark trusts as an OpenID Provider.
//!
//! # Why only Okta-operated hosts
//!
//! Every workspace signs in through the one shared callback, so a provider that one
//! workspace's admin points Spark at takes part in every other workspace's security: a
//! provider an attacker runs can bounce a victim to the victim's own Okta and receive the
//! victim's authorization code at its token endpoint (the mix-up attack, RFC 9700 §4.4).
//! Okta-operated orgs are honest authorization servers, whoever administers them, so the
//! org URL must be on a domain Okta operates ([`OKTA_DOMAINS`]); any other host — an
//! Okta custom URL domain — needs the Spark team's approval per workspace, and loopback
//! hosts are for local development under [`UrlPolicy::allow_insecure_http`] only.

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

/// The domains Okta operates orgs on: an org URL is `https://{org}.{domain}`.
///
/// From Okta's "Required Okta domains" for allow-listing
/// (<https://help.okta.com/oie/en-us/content/topics/security/ip-address-allow-listing.htm>):
/// commercial orgs (`okta.com`), preview orgs (`oktapreview.com`), the EMEA cell
/// (`okta-emea.com`), Okta for Government High (`okta-gov.com`) and the DoD cell
/// (`okta.mil`). Okta's CDN (`oktacdn.com`) serves no orgs. A custom URL domain
/// (<https://developer.okta.com/docs/guides/custom-url-domain/main/>) is a CNAME of the
/// customer's and is not on this list.
pub const OKTA_DOMAINS: [&str; 5] = [
    "okta.com",
    "oktapreview.com",
    "okta-emea.com",
    "okta-gov.com",
    "okta.mil",
];

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

    /// Whether the host is an org on a domain Okta operates ([`OKTA_DOMAINS`]), over
    /// https.
    pub fn is_okta_operated(&self) -> bool {
        self.url.scheme() == "https"
            && matches!(self.url.host(), Some(Host::Domain(host)) if OKTA_DOMAINS.iter().any(|domain| {
                host.strip_suffix(domain)
                    .and_then(|org| org.strip_suffix('.'))
                    .is_some_and(|org| !org.is_empty())
            }))
    }

    /// Checks that Spark may use this org as an OpenID Provider: a host Okta operates; a
    /// loopback host when `policy` allows insecure http (local development); or any
    /// other host the Spark team approved for the workspace (`custom_domain_approved`).
    ///
    /// # Errors
    /// `OKTA_CUSTOM_DOMAIN_NOT_APPROVED`, saying to ask the Spark team.
    pub fn check_trusted(
        &self,
        policy: UrlPolicy,
        custom_domain_approved: bool,
    ) -> Result<(), OidcError> {
        let loopback_in_development = policy.allow_insecure_http && is_loopback(&self.url);
        if self.is_okta_operated() || loopback_in_development || custom_domain_approved {
            return Ok(());
        }
        Err(OidcError::new(
            ErrorCode::OktaCustomDomainNotApproved,
            format!(
                "{self} is not on a domain Okta operates (an org URL looks like \
                 https://acme.okta.com, or ends in .oktapreview.com, .okta-emea.com, \
                 .okta-gov.com or .okta.mil). If it is your Okta org's custom URL domain, \
                 enter the org's okta.com URL instead, or ask Spark support to approve the \
                 custom domain for this workspace"
            ),
        ))
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
    fn okta_operated_hosts_are_trusted_and_others_need_approval() {
        for org in [
            "https://acme.okta.com",
            "https://dev-123456.oktapreview.com",
            "https://acme.okta-emea.com",
            "https://agency.okta-gov.com",
            "https://unit.okta.mil",
            "https://integrator-1234567.okta.com",
        ] {
            let url = OrgUrl::parse(org, UrlPolicy::STRICT).unwrap();
            assert!(url.is_okta_operated(), "{org}");
            url.check_trusted(UrlPolicy::STRICT, false).unwrap();
        }
        for host in [
            "https://login.acme.example",
            "https://okta.com",
            "https://acme.okta.com.evil.example",
            "https://acmeokta.com",
            "https://acme.notokta.com",
            "https://acme.oktacdn.com",
            "https://localhost",
            "https://127.0.0.1",
        ] {
            let url = OrgUrl::parse(host, UrlPolicy::STRICT).unwrap();
            assert!(!url.is_okta_operated(), "{host}");
            let e = url.check_trusted(UrlPolicy::STRICT, false).unwrap_err();
            assert_eq!(e.code(), ErrorCode::OktaCustomDomainNotApproved, "{host}");
            assert!(e.message().contains("ask Spark support"), "{e}");
            url.check_trusted(UrlPolicy::STRICT, true).unwrap();
        }
    }

    #[test]
    fn loopback_providers_are_trusted_only_in_development() {
        let p = UrlPolicy::INSECURE_LOOPBACK;
        for org in [
            "http://127.0.0.1:9000",
            "http://localhost:9000",
            "https://[::1]:9443",
        ] {
            let url = OrgUrl::parse(org, p).unwrap();
            url.check_trusted(p, false).unwrap();
        }
        let https_loopback = OrgUrl::parse("https://127.0.0.1:9443", UrlPolicy::STRICT).unwrap();
        assert_eq!(
            https_loopback
                .check_trusted(UrlPolicy::STRICT, false)
                .unwrap_err()
                .code(),
            ErrorCode::OktaCustomDomainNotApproved
        );
        // Development does not open other hosts.
        let custom = OrgUrl::parse("https://login.acme.example", p).unwrap();
        assert!(custom.check_trusted(p, false).is_err());
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
