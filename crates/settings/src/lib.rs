//! Configuration shared by Spark's Okta binaries (`scim-api`, `auth-gateway`, `sparkctl`).
//!
//! Layers, later wins: built-in defaults < a TOML file (`--config FILE`) < environment
//! variables `SPARK__SECTION__KEY` (e.g. `SPARK__PUBLIC__BASE_DOMAIN`) < `DATABASE_URL`.
//!
//! What it knows: the keys, their defaults and how they combine, and the public URLs they
//! imply. What it does not know: databases, HTTP, secrets' meaning (it only carries them).
//!
//! ```
//! let settings = settings::Settings::from_sources(None, &[]).unwrap();
//! assert_eq!(settings.public.base_domain, "localhost");
//! assert_eq!(settings.auth_origin(), "http://auth.localhost:8080");
//! ```

use std::path::Path;

use serde::Deserialize;

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A layer could not be read or a value has the wrong type.
    #[error("configuration: {0}")]
    Load(String),
    /// A value breaks a rule; the text says which and how to fix it.
    #[error("configuration: {0}")]
    Invalid(String),
}

/// Everything the binaries read from configuration.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// `[database]`.
    pub database: DatabaseSettings,
    /// `[public]`: how the outside world reaches the services.
    pub public: PublicSettings,
    /// `[security]`.
    pub security: SecuritySettings,
    /// `[secrets]`.
    pub secrets: SecretSettings,
    /// `[server]`: how a service process starts and stops.
    pub server: ServerSettings,
    /// `[support]`: how customers reach the Spark team.
    pub support: SupportSettings,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("database", &self.database)
            .field("public", &self.public)
            .field("server", &self.server)
            .field("security", &self.security)
            .field("secrets", &self.secrets)
            .field("support", &self.support)
            .finish()
    }
}

/// `[database]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// `postgres://…` for PostgreSQL; a path or `sqlite://path` for SQLite.
    pub url: String,
    /// Most pooled connections per process.
    pub max_connections: u32,
    /// Seconds a request waits for a pooled connection before it is answered 503.
    pub acquire_timeout_secs: u64,
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password; say only which kind it is.
        let kind = if self.url.starts_with("postgres") {
            "postgres://…"
        } else {
            self.url.as_str()
        };
        f.debug_struct("DatabaseSettings")
            .field("url", &kind)
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout_secs", &self.acquire_timeout_secs)
            .finish()
    }
}

/// `[public]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicSettings {
    /// Workspace `acme` lives at `acme.{base_domain}`; the auth host is `auth.{base_domain}`.
    pub base_domain: String,
    /// `http` or `https`.
    pub scheme: String,
    /// auth-gateway's port in public URLs (omitted when it is the scheme's default).
    pub auth_port: u16,
    /// scim-api's port in public URLs (omitted when it is the scheme's default).
    pub scim_port: u16,
}

/// `[security]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    /// Permits http issuers on loopback and non-Secure cookies: local dev and tests only.
    pub allow_insecure_http: bool,
    /// scim-api: failed bearer-token attempts one client address may make per window
    /// before it is answered 429 (0: no limit per address).
    pub auth_failures_per_address: u32,
    /// scim-api: failed bearer-token attempts on one workspace host per window before
    /// failures there are answered 429 (0: no limit per workspace).
    pub auth_failures_per_workspace: u32,
    /// scim-api: the window, in seconds, the two failure limits count over.
    pub auth_failure_window_secs: u64,
    /// How many proxies in front of the services append to `X-Forwarded-For`. 0 (the
    /// default): the client address is the TCP peer's and `X-Forwarded-For` is ignored;
    /// N: it is the N-th address from the right of `X-Forwarded-For` (the one the
    /// outermost trusted proxy saw). Set it only when the services are reachable
    /// solely through those proxies, or clients choose their own address.
    pub trusted_proxy_hops: u32,
    /// auth-gateway: Universal Logout requests one Okta org may make per second (after
    /// their signature verified), with bursts of ten seconds' worth; more are answered
    /// 429. 0: no limit.
    pub universal_logouts_per_second: u32,
}

/// `[secrets]`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretSettings {
    /// Base64 of 32 bytes: the key that encrypts client secrets at rest.
    pub encryption_key: Option<String>,
}

impl std::fmt::Debug for SecretSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = if self.encryption_key.is_some() {
            "<set>"
        } else {
            "<unset>"
        };
        f.debug_struct("SecretSettings")
            .field("encryption_key", &set)
            .finish()
    }
}

/// `[server]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    /// On SIGTERM (or SIGINT), how many seconds a service keeps serving while `/readyz`
    /// answers 503, so that load balancers stop sending it requests, before it stops
    /// accepting connections and lets those in flight finish (at most 30 s more).
    pub drain_secs: u64,
}

/// `[support]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SupportSettings {
    /// Where a workspace admin sends the request to activate the Okta integration (the
    /// Marketplace's email). None: the Marketplace says to contact Spark support, and
    /// names no address.
    pub activation_email: Option<String>,
}

/// The built-in defaults, as the lowest layer.
const DEFAULTS: &str = r#"
[database]
url = "./data/spark.db"
max_connections = 10
acquire_timeout_secs = 5

[public]
base_domain = "localhost"
scheme = "http"
auth_port = 8080
scim_port = 8081

[security]
allow_insecure_http = false
auth_failures_per_address = 20
auth_failures_per_workspace = 100
auth_failure_window_secs = 60
trusted_proxy_hops = 0
universal_logouts_per_second = 100

[secrets]

[server]
drain_secs = 5

[support]
"#;

impl Settings {
    /// Loads every layer: defaults, the optional file, the process environment.
    pub fn load(file: Option<&Path>) -> Result<Self, SettingsError> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Self::from_sources(file, &env)
    }

    /// Loads the layers with an explicit environment (what `load` does, testable).
    pub fn from_sources(
        file: Option<&Path>,
        env: &[(String, String)],
    ) -> Result<Self, SettingsError> {
        let mut builder = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(SettingsError::Load(format!(
                    "the configuration file {} does not exist",
                    path.display()
                )));
            }
            builder = builder.add_source(config::File::from(path).format(config::FileFormat::Toml));
        }
        let spark_env: std::collections::HashMap<String, String> = env
            .iter()
            .filter(|(key, _)| key.starts_with("SPARK__"))
            .cloned()
            .collect();
        builder = builder.add_source(
            config::Environment::with_prefix("SPARK")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .source(Some(spark_env)),
        );
        if let Some((_, url)) = env.iter().find(|(key, _)| key == "DATABASE_URL") {
            builder = builder
                .set_override("database.url", url.as_str())
                .map_err(|e| SettingsError::Load(e.to_string()))?;
        }
        let settings: Settings = builder
            .build()
            .and_then(config::Config::try_deserialize)
            .map_err(|e| SettingsError::Load(e.to_string()))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), SettingsError> {
        match self.public.scheme.as_str() {
            "https" => {}
            "http" if self.security.allow_insecure_http || self.is_loopback_domain() => {}
            "http" => {
                return Err(SettingsError::Invalid(format!(
                    "public.scheme is http for the public domain `{}`; use https, or set \
                     security.allow_insecure_http = true for a local test setup",
                    self.public.base_domain
                )));
            }
            other => {
                return Err(SettingsError::Invalid(format!(
                    "public.scheme must be http or https, not `{other}`"
                )));
            }
        }
        let domain = &self.public.base_domain;
        let valid_domain = !domain.is_empty()
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !valid_domain {
            return Err(SettingsError::Invalid(format!(
                "public.base_domain `{domain}` is not a host name (e.g. spark.work or localhost)"
            )));
        }
        if self.security.auth_failure_window_secs == 0 {
            return Err(SettingsError::Invalid(
                "security.auth_failure_window_secs must be at least 1".into(),
            ));
        }
        if let Some(address) = &self.support.activation_email {
            // One plain address, as a mailto: link carries it: no display name, no list.
            let plain = address.len() <= 254
                && address.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty() && !domain.is_empty() && !domain.contains('@')
                })
                && address.chars().all(|c| {
                    c.is_ascii_graphic() && !matches!(c, ',' | ';' | '<' | '>' | '"' | '?' | '&')
                });
            if !plain {
                return Err(SettingsError::Invalid(format!(
                    "support.activation_email `{address}` is not one plain email address \
                     (e.g. integrations@spark.work)"
                )));
            }
        }
        if self.database.max_connections == 0 {
            return Err(SettingsError::Invalid(
                "database.max_connections must be at least 1".into(),
            ));
        }
        Ok(())
    }

    /// Is the base domain one that only ever resolves to this machine (`localhost`)?
    pub fn is_loopback_domain(&self) -> bool {
        let domain = self.public.base_domain.to_ascii_lowercase();
        domain == "localhost" || domain.ends_with(".localhost")
    }

    /// Cookies get `Secure` unless insecure http is explicitly allowed.
    pub fn secure_cookies(&self) -> bool {
        !self.security.allow_insecure_http
    }

    /// `{scheme}://{host}[:port]`, without the port when it is the scheme's default.
    fn origin(&self, host: &str, port: u16) -> String {
        let default_port = match self.public.scheme.as_str() {
            "https" => 443,
            _ => 80,
        };
        if port == default_port {
            format!("{}://{host}", self.public.scheme)
        } else {
            format!("{}://{host}:{port}", self.public.scheme)
        }
    }

    /// The auth host's origin, e.g. `https://auth.spark.work`.
    pub fn auth_origin(&self) -> String {
        self.origin(
            &format!("auth.{}", self.public.base_domain),
            self.public.auth_port,
        )
    }

    /// A workspace's browser origin, e.g. `https://acme.spark.work`.
    pub fn workspace_origin(&self, workspace: &str) -> String {
        self.origin(
            &format!("{workspace}.{}", self.public.base_domain),
            self.public.auth_port,
        )
    }

    /// A workspace's SCIM base URL, e.g. `https://acme.spark.work/scim/v2`.
    pub fn scim_base_url(&self, workspace: &str) -> String {
        let origin = self.origin(
            &format!("{workspace}.{}", self.public.base_domain),
            self.public.scim_port,
        );
        format!("{origin}/scim/v2")
    }

    /// The workspace a `Host` header names, if it is `{workspace}.{base_domain}[:port]`
    /// with a single label in front.
    pub fn workspace_of_host<'h>(&self, host: &'h str) -> Option<&'h str> {
        let host = match host.rsplit_once(':') {
            Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
            _ => host,
        };
        let (label, domain) = host.split_once('.')?;
        let matches = domain.eq_ignore_ascii_case(&self.public.base_domain);
        (matches && !label.is_empty()).then_some(label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_run_locally() {
        let s = Settings::from_sources(None, &[]).unwrap();
        assert_eq!(s.database.url, "./data/spark.db");
        assert_eq!(s.public.scheme, "http");
        assert_eq!(s.auth_origin(), "http://auth.localhost:8080");
        assert_eq!(
            s.scim_base_url("acme"),
            "http://acme.localhost:8081/scim/v2"
        );
        assert!(s.secrets.encryption_key.is_none());
    }

    #[test]
    fn layers_file_then_env_then_database_url() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("spark.toml");
        std::fs::write(
            &file,
            "[public]\nbase_domain = \"spark.work\"\nscheme = \"https\"\nauth_port = 443\nscim_port = 443\n\
             [database]\nurl = \"from-file.db\"\n",
        )
        .unwrap();
        let s = Settings::from_sources(Some(&file), &[]).unwrap();
        assert_eq!(s.scim_base_url("acme"), "https://acme.spark.work/scim/v2");
        assert_eq!(s.auth_origin(), "https://auth.spark.work");
        assert_eq!(s.database.url, "from-file.db");

        let s = Settings::from_sources(
            Some(&file),
            &env(&[
                ("SPARK__DATABASE__URL", "from-env.db"),
                ("SPARK__PUBLIC__SCIM_PORT", "8443"),
            ]),
        )
        .unwrap();
        assert_eq!(s.database.url, "from-env.db");
        assert_eq!(
            s.scim_base_url("acme"),
            "https://acme.spark.work:8443/scim/v2"
        );

        let s = Settings::from_sources(
            Some(&file),
            &env(&[
                ("SPARK__DATABASE__URL", "from-env.db"),
                ("DATABASE_URL", "postgres://db/spark"),
            ]),
        )
        .unwrap();
        assert_eq!(s.database.url, "postgres://db/spark");
    }

    #[test]
    fn mistakes_are_named() {
        let err =
            Settings::from_sources(None, &env(&[("SPARK__PUBLIC__SCHEME", "ftp")])).unwrap_err();
        assert!(err.to_string().contains("http or https"), "{err}");
        let err =
            Settings::from_sources(None, &env(&[("SPARK__PUBLIC__BASE_DOMAIN", "spark.work")]))
                .unwrap_err();
        assert!(err.to_string().contains("use https"), "{err}");
        let err =
            Settings::from_sources(Some(Path::new("/nonexistent/spark.toml")), &[]).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        let err = Settings::from_sources(None, &env(&[("SPARK__PUBLIC__AUTH_PORT", "eighty")]))
            .unwrap_err();
        assert!(err.to_string().contains("auth_port"), "{err}");
    }

    #[test]
    fn failure_limits_have_defaults_and_can_be_set() {
        let s = Settings::from_sources(None, &[]).unwrap();
        assert_eq!(s.security.auth_failures_per_address, 20);
        assert_eq!(s.security.auth_failures_per_workspace, 100);
        assert_eq!(s.security.auth_failure_window_secs, 60);
        assert_eq!(s.security.trusted_proxy_hops, 0);
        assert_eq!(s.security.universal_logouts_per_second, 100);
        let s = Settings::from_sources(
            None,
            &env(&[
                ("SPARK__SECURITY__AUTH_FAILURES_PER_ADDRESS", "5"),
                ("SPARK__SECURITY__AUTH_FAILURES_PER_WORKSPACE", "0"),
                ("SPARK__SECURITY__AUTH_FAILURE_WINDOW_SECS", "2"),
                ("SPARK__SECURITY__TRUSTED_PROXY_HOPS", "1"),
            ]),
        )
        .unwrap();
        assert_eq!(s.security.auth_failures_per_address, 5);
        assert_eq!(s.security.auth_failures_per_workspace, 0);
        assert_eq!(s.security.auth_failure_window_secs, 2);
        assert_eq!(s.security.trusted_proxy_hops, 1);
        let err = Settings::from_sources(
            None,
            &env(&[("SPARK__SECURITY__AUTH_FAILURE_WINDOW_SECS", "0")]),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("auth_failure_window_secs"),
            "{err}"
        );
    }

    #[test]
    fn hosts_name_workspaces() {
        let s = Settings::from_sources(None, &[]).unwrap();
        assert_eq!(s.workspace_of_host("acme.localhost:8081"), Some("acme"));
        assert_eq!(s.workspace_of_host("acme.localhost"), Some("acme"));
        assert_eq!(s.workspace_of_host("acme.evil.com"), None);
        assert_eq!(s.workspace_of_host("a.b.localhost"), None);
        assert_eq!(s.workspace_of_host("localhost"), None);
    }

    #[test]
    fn the_activation_address_is_optional_and_checked() {
        let none = Settings::from_sources(None, &[]).unwrap();
        assert_eq!(none.support.activation_email, None);
        let set = Settings::from_sources(
            None,
            &env(&[(
                "SPARK__SUPPORT__ACTIVATION_EMAIL",
                "integrations@spark.work",
            )]),
        )
        .unwrap();
        assert_eq!(
            set.support.activation_email.as_deref(),
            Some("integrations@spark.work")
        );
        for bad in [
            "nobody",
            "a@b@c",
            "Spark <integrations@spark.work>",
            "a@spark.work,b@spark.work",
            "a@spark.work?cc=x@evil.example",
            "@spark.work",
        ] {
            let err =
                Settings::from_sources(None, &env(&[("SPARK__SUPPORT__ACTIVATION_EMAIL", bad)]))
                    .unwrap_err();
            assert!(
                err.to_string().contains("support.activation_email"),
                "{bad}: {err}"
            );
        }
    }

    #[test]
    fn secrets_never_print() {
        let s = Settings::from_sources(
            None,
            &env(&[
                ("SPARK__SECRETS__ENCRYPTION_KEY", "c2VjcmV0"),
                ("DATABASE_URL", "postgres://u:pw@h/db"),
            ]),
        )
        .unwrap();
        let printed = format!("{s:?}");
        assert!(
            !printed.contains("c2VjcmV0") && !printed.contains("pw@"),
            "{printed}"
        );
    }
}
