//! The sign-in commands: `okta sso set` (an org's OIDC configuration, checked by
//! discovery and its signing keys, stored with its client secret encrypted; a host Okta
//! does not operate only with `--approve-custom-domain`), `okta revocations list` (what
//! deactivations sent to Okta), `okta identities list|unlink`
//! (the Okta users linked to employees) and `login-link` (a one-time sign-in URL for an
//! active employee, for admins before SSO exists and break-glass).

use std::io::{IsTerminal, Read};

use anyhow::{Context, bail};
use clap::Subcommand;
use oidc_client::{ClientOptions, OidcClient, OidcError, OrgUrl, UrlPolicy};
use persistence::{
    Actor, CodePurpose, Database, NewOneTimeCode, OktaSsoConfigInput, secret_context,
};
use settings::Settings;
use token_store::sealed::{EncryptionKey, KeyRing, SecretText};
use token_store::{SecretKind, SecretToken};

/// `sparkctl okta sso …`.
#[derive(Subcommand)]
pub enum SsoCommand {
    /// Save a workspace's Okta SSO configuration (what Save on the SSO settings page
    /// does): the org URL is validated and must answer OIDC discovery; the client secret
    /// is read from standard input and stored encrypted.
    Set {
        /// The workspace.
        workspace: String,
        /// The Okta org URL, e.g. https://acme.okta.com (never the -admin URL).
        #[arg(long, value_name = "URL")]
        org_url: String,
        /// The Client ID of the Spark app in Okta.
        #[arg(long, value_name = "ID")]
        client_id: String,
        /// Read the Client secret from standard input (the only way to give it, so it
        /// stays out of shell history and process listings).
        #[arg(long, required = true)]
        client_secret_stdin: bool,
        /// Approve an org URL on a host Okta does not operate (the org's custom URL
        /// domain) for this workspace; audited. Check first that the host is the
        /// customer's Okta org: every workspace's sign-in trusts the providers Spark
        /// uses.
        #[arg(long)]
        approve_custom_domain: bool,
    },
}

/// `sparkctl okta identities …`.
#[derive(Subcommand)]
pub enum IdentitiesCommand {
    /// List the Okta users linked to employees (the latest sign-in first), or those of
    /// the employee with EMAIL.
    List {
        /// The workspace.
        workspace: String,
        /// Only this employee.
        email: Option<String>,
    },
    /// Remove every Okta user linked to the employee with EMAIL (audited), so that their
    /// next Okta sign-in links afresh; ends their sessions.
    Unlink {
        /// The workspace.
        workspace: String,
        /// The employee.
        email: String,
    },
}

/// `sparkctl okta revocations …`.
#[derive(Subcommand)]
pub enum RevocationsCommand {
    /// List the Okta revocations deactivations queued (newest first): sent, done, queued
    /// or failing, with the last error.
    List {
        /// The workspace.
        workspace: String,
    },
}

/// Runs `okta revocations …`.
pub fn okta_revocations(db: &Database, command: RevocationsCommand) -> anyhow::Result<()> {
    let RevocationsCommand::List { workspace } = command;
    let tenant = db.tenants().get(&workspace)?;
    let mut rows = vec![
        [
            "EMAIL",
            "OKTA USER",
            "STATUS",
            "ATTEMPTS",
            "QUEUED",
            "LAST ERROR",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for revocation in db.okta_revocations().list(&tenant.id)? {
        let status = match revocation.status {
            persistence::RevocationStatus::Sent => "sent",
            persistence::RevocationStatus::UserGone => "user gone",
            persistence::RevocationStatus::Pending if revocation.is_failing() => "FAILING",
            persistence::RevocationStatus::Pending => "queued",
        };
        rows.push(vec![
            revocation.email.clone(),
            revocation.okta_user_id.clone(),
            status.to_owned(),
            revocation.attempts.to_string(),
            revocation
                .created_at
                .format("%Y-%m-%d %H:%M:%S")
                .to_string(),
            revocation.last_error.clone().unwrap_or_default(),
        ]);
    }
    crate::print_table(&rows);
    Ok(())
}

/// Runs `okta sso …`.
pub fn okta_sso(
    db: &Database,
    settings: &Settings,
    actor: &Actor,
    command: SsoCommand,
) -> anyhow::Result<()> {
    let SsoCommand::Set {
        workspace,
        org_url,
        client_id,
        client_secret_stdin: _,
        approve_custom_domain,
    } = command;
    let tenant = db.tenants().get(&workspace)?;
    let ring = key_ring(settings)?;
    let policy = UrlPolicy {
        allow_insecure_http: settings.security.allow_insecure_http,
    };
    let org = OrgUrl::parse(&org_url, policy).map_err(coded)?;
    // An approval is for a host Okta does not operate; an Okta org needs none.
    let approve_custom_domain = approve_custom_domain && !org.is_okta_operated();
    let already_approved = db.okta_sso_configs().get(&tenant.id)?.is_some_and(|saved| {
        saved.org_url == org.as_str() && saved.custom_domain_approved_by.is_some()
    });
    org.check_trusted(policy, approve_custom_domain || already_approved)
        .map_err(|e| {
            anyhow::anyhow!(
                "{}: {} is not on a domain Okta operates; if you have checked that it is this \
                 customer's Okta org (its custom URL domain), run again with \
                 --approve-custom-domain",
                e.code(),
                org
            )
        })?;
    let client_id = client_id.trim().to_owned();
    if client_id.is_empty() {
        bail!("--client-id is empty; copy the Client ID from the Okta app's General tab");
    }
    let secret = read_secret()?;

    let oidc = OidcClient::new(ClientOptions {
        url_policy: policy,
        ..ClientOptions::default()
    })
    .map_err(coded)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(oidc.check_org(&org)).map_err(coded)?;

    let sealed = ring
        .seal(
            &secret,
            &secret_context(&tenant.id, org.as_str(), &client_id),
        )
        .context("encrypting the client secret")?;
    let saved = db.okta_sso_configs().upsert(
        &tenant.id,
        &OktaSsoConfigInput {
            org_url: org.as_str().to_owned(),
            client_id,
            client_secret: sealed,
            approve_custom_domain,
        },
        actor,
    )?;
    println!(
        "saved Okta SSO for {}: org {}, client id {} (secret encrypted with key {})",
        tenant.workspace, saved.org_url, saved.client_id, saved.client_secret.key_id
    );
    if let Some(approver) = &saved.custom_domain_approved_by {
        println!("custom domain {} approved by {approver}", saved.org_url);
    }
    if !db.okta_integrations().get(&tenant.id)?.is_live() {
        eprintln!(
            "warning: the Okta integration of {} is not activated and connected; sign-in \
             stays off until it is (sparkctl okta enable / okta connect)",
            tenant.workspace
        );
    }
    Ok(())
}

/// Runs `okta identities …`.
pub fn okta_identities(
    db: &Database,
    actor: &Actor,
    command: IdentitiesCommand,
) -> anyhow::Result<()> {
    match command {
        IdentitiesCommand::List { workspace, email } => {
            let tenant = db.tenants().get(&workspace)?;
            let links = db
                .employee_identities()
                .list(&tenant.id, email.as_deref())?;
            let mut rows = vec![
                [
                    "EMAIL",
                    "ACTIVE",
                    "OKTA ORG",
                    "OKTA USER",
                    "LINKED",
                    "LAST SIGN-IN",
                ]
                .map(String::from)
                .to_vec(),
            ];
            for link in links {
                rows.push(vec![
                    link.email,
                    if link.active { "yes" } else { "no" }.to_owned(),
                    link.issuer,
                    link.subject,
                    link.linked_at.format("%Y-%m-%d %H:%M").to_string(),
                    link.last_sign_in_at.format("%Y-%m-%d %H:%M").to_string(),
                ]);
            }
            crate::print_table(&rows);
            Ok(())
        }
        IdentitiesCommand::Unlink { workspace, email } => {
            let tenant = db.tenants().get(&workspace)?;
            let unlinked = db.employee_identities().unlink(&tenant.id, &email, actor)?;
            for (issuer, subject) in &unlinked.identities {
                println!("unlinked {subject} of {issuer} from {}", unlinked.email);
            }
            println!(
                "{} signed out of {} session(s) in {}",
                unlinked.email, unlinked.sessions_ended, tenant.workspace
            );
            Ok(())
        }
    }
}

/// Runs `login-link`: prints the URL alone on standard output.
pub fn login_link(
    db: &Database,
    settings: &Settings,
    actor: &Actor,
    workspace: &str,
    email: &str,
) -> anyhow::Result<()> {
    let tenant = db.tenants().get(workspace)?;
    let Some(employee) = db.employees().find_by_email(&tenant.id, email)? else {
        bail!(
            "no employee `{email}` in {}; sign-in links are only for existing employees",
            tenant.workspace
        );
    };
    if !employee.active {
        bail!(
            "`{}` is deactivated in {}; activate them first (sparkctl employees activate)",
            employee.email,
            tenant.workspace
        );
    }
    let (token, hash) = SecretToken::mint(SecretKind::SignInLink)?;
    let code = db.one_time_codes().create(
        &tenant.id,
        NewOneTimeCode {
            code_hash: hash,
            purpose: CodePurpose::LoginLink,
            employee_id: employee.id.clone(),
            return_to: None,
            browser_binding: None,
        },
        actor,
        chrono::Utc::now(),
    )?;
    eprintln!(
        "sign-in link for {} in {}: single use, valid until {} UTC",
        employee.email,
        tenant.workspace,
        code.expires_at.format("%Y-%m-%d %H:%M:%S")
    );
    println!(
        "{}/auth/login-link?token={}",
        settings.workspace_origin(tenant.workspace.as_str()),
        token.expose_secret()
    );
    Ok(())
}

/// The key ring from `secrets.encryption_key`; without one, the public development key
/// when insecure http is allowed (with a warning), else an error that says what to set.
fn key_ring(settings: &Settings) -> anyhow::Result<KeyRing> {
    match &settings.secrets.encryption_key {
        Some(key) => Ok(KeyRing::new(
            EncryptionKey::from_base64(key).context("secrets.encryption_key")?,
        )),
        None if settings.security.allow_insecure_http => {
            eprintln!(
                "warning: secrets.encryption_key is not set; encrypting with the PUBLIC \
                 development key (allowed only because security.allow_insecure_http is on). \
                 Never do this in production."
            );
            Ok(KeyRing::new(EncryptionKey::insecure_development_key()))
        }
        None => bail!(
            "secrets.encryption_key is not set, so the client secret cannot be stored \
             encrypted; set it (or SPARK__SECRETS__ENCRYPTION_KEY) to the base64 of 32 random \
             bytes, e.g. `openssl rand -base64 32`"
        ),
    }
}

/// Reads the client secret from standard input: the first line, without its line end.
fn read_secret() -> anyhow::Result<SecretText> {
    let mut text = String::new();
    if std::io::stdin().is_terminal() {
        eprintln!("paste the Okta app's Client secret, then press Enter:");
        std::io::stdin()
            .read_line(&mut text)
            .context("reading the client secret")?;
    } else {
        std::io::stdin()
            .take(64 * 1024)
            .read_to_string(&mut text)
            .context("reading the client secret from standard input")?;
    }
    let secret = text.lines().next().unwrap_or_default().trim();
    if secret.is_empty() {
        bail!(
            "no client secret on standard input; pipe it in, e.g. `printf %s \"$SECRET\" | sparkctl okta sso set …`"
        );
    }
    Ok(SecretText::new(secret))
}

/// An oidc-client error as one line: `CODE: message`.
fn coded(error: OidcError) -> anyhow::Error {
    anyhow::anyhow!("{}: {}", error.code(), error.message())
}
