//! The rows a SCIM user is read from: the tenant's employees, their managers joined in
//! (or read in one more query), and the record each row becomes.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use scim_model::{EmployeeRecord, ManagerRef};

use crate::clock::{self, ReadInstant};
use crate::connection::{Db, DbConnection};
use crate::error::Result;
use crate::ids::TenantId;
use crate::names::{IdAndNames, display_name_of};
use crate::schema::employees;

pub(super) fn tenant_users(tenant: &TenantId) -> employees::BoxedQuery<'static, Db> {
    employees::table
        .filter(employees::tenant_id.eq(tenant.as_str().to_owned()))
        .into_boxed()
}

// The employees again, as the managers of a page's employees.
diesel::alias! {
    pub(super) const MANAGERS: Alias<ManagersAlias> = employees as managers;
}

/// A manager's names: display, given, family.
pub(super) type NameRow = (Option<String>, Option<String>, Option<String>);

/// How [`MANAGERS`] joins: the employee's manager, in the same tenant (written with
/// nullable sides, so it also holds where the employee is itself left-joined; the SQL
/// is the same).
macro_rules! managing {
    () => {
        MANAGERS
            .field(employees::id)
            .nullable()
            .eq(employees::manager_id)
            .and(
                MANAGERS
                    .field(employees::tenant_id)
                    .nullable()
                    .eq(employees::tenant_id.nullable()),
            )
    };
}
pub(super) use managing;

/// The [`NameRow`] of the manager joined in as [`MANAGERS`] (none without one).
macro_rules! manager_names {
    () => {
        MANAGERS
            .fields((
                employees::display_name,
                employees::given_name,
                employees::family_name,
            ))
            .nullable()
    };
}
pub(super) use manager_names;

/// The columns of an employee a SCIM user shows.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = employees)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(super) struct ScimUserRow {
    id: String,
    email: String,
    external_id: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    display_name: Option<String>,
    phone: Option<String>,
    title: Option<String>,
    department: Option<String>,
    employee_number: Option<String>,
    pub(super) manager_id: Option<String>,
    active: bool,
    #[diesel(deserialize_as = ReadInstant)]
    created_at: NaiveDateTime,
    #[diesel(deserialize_as = ReadInstant)]
    updated_at: NaiveDateTime,
    version: i64,
}

impl ScimUserRow {
    pub(super) fn into_record(self, manager_name: Option<String>) -> EmployeeRecord {
        EmployeeRecord {
            manager: self.manager_id.map(|id| ManagerRef {
                id,
                display_name: manager_name,
            }),
            id: self.id,
            email: self.email,
            given_name: self.given_name,
            family_name: self.family_name,
            display_name: self.display_name,
            phone: self.phone,
            title: self.title,
            department: self.department,
            employee_number: self.employee_number,
            active: self.active,
            created: clock::utc(self.created_at),
            updated: clock::utc(self.updated_at),
            version: self.version,
            external_id: self.external_id,
        }
    }
}

/// Builds the records, looking up the managers' display names in one query.
pub(super) fn with_managers(
    conn: &mut DbConnection,
    tenant: &TenantId,
    rows: Vec<ScimUserRow>,
) -> Result<Vec<EmployeeRecord>> {
    let mut manager_ids: Vec<String> = rows.iter().filter_map(|r| r.manager_id.clone()).collect();
    manager_ids.sort();
    manager_ids.dedup();
    let managers = employees::table.filter(employees::tenant_id.eq(tenant.as_str()));
    let names = (
        employees::id,
        employees::display_name,
        employees::given_name,
        employees::family_name,
    );
    let found: Vec<IdAndNames> = match manager_ids.as_slice() {
        [] => Vec::new(),
        // A look-up's one manager: a statement both backends keep prepared (SQLite
        // prepares `IN (?, …)` anew each time, its length varying).
        [one] => managers
            .filter(employees::id.eq(one))
            .select(names)
            .load(conn)?,
        // Not boxed, so PostgreSQL reuses the prepared statement (`= ANY($2)`).
        many => managers
            .filter(employees::id.eq_any(many))
            .select(names)
            .load(conn)?,
    };
    let names: std::collections::HashMap<String, Option<String>> = found
        .into_iter()
        .map(|(id, display, given, family)| (id, display_name_of(display, given, family)))
        .collect();
    Ok(rows
        .into_iter()
        .map(|row| {
            let manager_name = row
                .manager_id
                .as_ref()
                .and_then(|id| names.get(id).cloned().flatten());
            row.into_record(manager_name)
        })
        .collect())
}
