//! Tenants: one per Spark workspace, named by its slug (`acme` in `acme.spark.work`).

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::Database;
use crate::audit::{self, Actor};
use crate::clock;
use crate::error::{Error, Result};
use crate::ids::TenantId;
use crate::schema::{okta_integrations, tenants};

/// A workspace slug: the first label of the workspace's host name. Lower-case ASCII
/// letters, digits and inner hyphens, 1 to 63 characters (one DNS label), not a name the
/// platform uses for itself.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Workspace(String);

/// Host labels that belong to the platform, never to a customer.
const RESERVED_WORKSPACES: &[&str] = &["auth", "www", "api", "admin", "app", "scim", "static"];

impl Workspace {
    /// Validates a slug. Upper-case letters are folded, as DNS does.
    pub fn parse(slug: &str) -> Result<Self> {
        let slug = slug.trim().to_ascii_lowercase();
        let valid_chars = slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if slug.is_empty() || slug.len() > 63 || !valid_chars {
            return Err(Error::Invalid(format!(
                "`{slug}` is not a workspace name: use 1 to 63 letters, digits or hyphens \
                 (it becomes the host name {slug}.spark.work)"
            )));
        }
        if slug.starts_with('-') || slug.ends_with('-') {
            return Err(Error::Invalid(format!(
                "`{slug}` is not a workspace name: it cannot start or end with a hyphen"
            )));
        }
        if RESERVED_WORKSPACES.contains(&slug.as_str()) {
            return Err(Error::Invalid(format!(
                "`{slug}` is reserved for the platform; choose another workspace name"
            )));
        }
        Ok(Self(slug))
    }

    /// The slug.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Spark customer's workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    /// Stable id, used by every other table.
    pub id: TenantId,
    /// The workspace slug.
    pub workspace: Workspace,
    /// The customer's display name.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Raised by every change to the tenant's employees: what was derived from the
    /// directory at one version is still true while the version is the same.
    pub directory_version: i64,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = tenants)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(crate) struct TenantRow {
    id: String,
    workspace: String,
    name: String,
    created_at: chrono::NaiveDateTime,
    directory_version: i64,
}

impl From<TenantRow> for Tenant {
    fn from(row: TenantRow) -> Self {
        Tenant {
            id: TenantId(row.id),
            workspace: Workspace(row.workspace),
            name: row.name,
            created_at: clock::utc(row.created_at),
            directory_version: row.directory_version,
        }
    }
}

/// The tenants repository; see [`Database::tenants`].
pub struct Tenants<'db> {
    pub(crate) db: &'db Database,
}

impl Tenants<'_> {
    /// Creates a workspace (with its Okta integration not yet activated).
    pub fn create(&self, workspace: &Workspace, name: &str, actor: &Actor) -> Result<Tenant> {
        let name = name.trim();
        let name = if name.is_empty() {
            workspace.as_str()
        } else {
            name
        };
        if name.chars().count() > 200 {
            return Err(Error::Invalid(
                "a tenant name has at most 200 characters".into(),
            ));
        }
        let now = clock::now();
        let row = TenantRow {
            id: uuid::Uuid::now_v7().to_string(),
            workspace: workspace.as_str().to_owned(),
            name: name.to_owned(),
            created_at: now,
            directory_version: 0,
        };
        self.db.write(|conn| {
            let taken = tenants::table
                .filter(tenants::workspace.eq(workspace.as_str()))
                .count()
                .get_result::<i64>(conn)?;
            if taken > 0 {
                return Err(Error::Conflict(format!(
                    "the workspace `{workspace}` already exists"
                )));
            }
            diesel::insert_into(tenants::table)
                .values(&row)
                .execute(conn)?;
            diesel::insert_into(okta_integrations::table)
                .values((
                    okta_integrations::tenant_id.eq(&row.id),
                    okta_integrations::updated_at.eq(now),
                ))
                .execute(conn)?;
            let id = TenantId(row.id.clone());
            audit::record(
                conn,
                Some(&id),
                actor,
                "tenant.created",
                Some(workspace.as_str()),
                serde_json::json!({ "name": name }),
            )?;
            Ok(())
        })?;
        Ok(row.into())
    }

    /// The tenant of a workspace, if there is one.
    pub fn find(&self, workspace: &str) -> Result<Option<Tenant>> {
        let slug = workspace.trim().to_ascii_lowercase();
        let row = tenants::table
            .filter(tenants::workspace.eq(slug))
            .select(TenantRow::as_select())
            .first(&mut *self.db.conn()?)
            .optional()?;
        Ok(row.map(Tenant::from))
    }

    /// The tenant with this id, if there is one (the sign-in callback on the shared auth
    /// host knows only the tenant id its login transaction names).
    pub fn find_by_id(&self, id: &TenantId) -> Result<Option<Tenant>> {
        let row = tenants::table
            .find(id.as_str())
            .select(TenantRow::as_select())
            .first(&mut *self.db.conn()?)
            .optional()?;
        Ok(row.map(Tenant::from))
    }

    /// The tenant of a workspace, or an error that says how to create it.
    pub fn get(&self, workspace: &str) -> Result<Tenant> {
        self.find(workspace)?.ok_or_else(|| {
            Error::NotFound(format!(
                "no workspace named `{workspace}` (create it with `sparkctl tenant create {workspace}`)"
            ))
        })
    }

    /// Every tenant, by workspace name.
    pub fn list(&self) -> Result<Vec<Tenant>> {
        let rows = tenants::table
            .order(tenants::workspace.asc())
            .select(TenantRow::as_select())
            .load(&mut *self.db.conn()?)?;
        Ok(rows.into_iter().map(Tenant::from).collect())
    }
}

/// Marks the tenant's directory as changed (inside the changing transaction).
pub(crate) fn bump_directory_version(
    conn: &mut crate::connection::DbConnection,
    tenant: &TenantId,
) -> Result<()> {
    diesel::update(tenants::table.find(tenant.as_str()))
        .set(tenants::directory_version.eq(tenants::directory_version + 1))
        .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Actor, Database};

    #[test]
    fn workspace_names_are_dns_labels() {
        assert_eq!(Workspace::parse("Acme").unwrap().as_str(), "acme");
        assert_eq!(Workspace::parse("acme-eu-2").unwrap().as_str(), "acme-eu-2");
        for bad in [
            "",
            "-acme",
            "acme-",
            "ac me",
            "acme.corp",
            "ácme",
            "auth",
            &"a".repeat(64),
        ] {
            assert!(Workspace::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn tenants_are_found_by_id() {
        let db = Database::open(&":memory:".parse().unwrap()).unwrap();
        db.migrate().unwrap();
        let acme = db
            .tenants()
            .create(&Workspace::parse("acme").unwrap(), "Acme", &Actor::system())
            .unwrap();
        let found = db.tenants().find_by_id(&acme.id).unwrap().unwrap();
        assert_eq!(found.workspace.as_str(), "acme");
        db.tenants()
            .create(
                &Workspace::parse("globex").unwrap(),
                "Globex",
                &Actor::system(),
            )
            .unwrap();
        assert_eq!(
            db.tenants().find_by_id(&acme.id).unwrap().unwrap().id,
            acme.id
        );
    }
}
