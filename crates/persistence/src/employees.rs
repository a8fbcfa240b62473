//! Employees: Spark's HR master records, the only people who can sign in with Okta and
//! the users Okta imports. Emails are unique per tenant, case-insensitively; every change
//! raises the record's version and its updated time; deactivating an employee ends their
//! sessions in the same transaction.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;

use crate::Database;
use crate::audit::{self, Actor};
use crate::clock;
use crate::connection::{DbConnection, on_own_connection};
use crate::departments::{DepartmentChanges, Member};
use crate::error::{Error, InputProblem, Result};
use crate::ids::TenantId;
use crate::schema::{employees, one_time_codes, sessions};

/// An employee's stable id (what SCIM serves as `id`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmployeeId(pub(crate) String);

impl EmployeeId {
    /// The id as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for EmployeeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an employee may do in Spark's admin pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// An ordinary employee.
    Employee,
    /// A tenant admin: Marketplace, SSO settings, SCIM tokens.
    Admin,
}

impl Role {
    /// The stored and CSV form.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Employee => "employee",
            Role::Admin => "admin",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "employee" => Ok(Role::Employee),
            "admin" => Ok(Role::Admin),
            other => Err(Error::Invalid(format!(
                "role must be `employee` or `admin`, not `{other}`"
            ))),
        }
    }
}

/// An employee record as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Employee {
    /// Stable id.
    pub id: EmployeeId,
    /// The tenant it belongs to.
    pub tenant_id: TenantId,
    /// Work email, as entered (the SCIM `userName`).
    pub email: String,
    /// An identifier from another system, if one was recorded.
    pub external_id: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Work phone.
    pub phone: Option<String>,
    /// Job title.
    pub title: Option<String>,
    /// Department.
    pub department: Option<String>,
    /// Employee number.
    pub employee_number: Option<String>,
    /// The manager, another employee of the same tenant.
    pub manager_id: Option<EmployeeId>,
    /// Active employees can sign in; Okta imports the others as `active: false`.
    pub active: bool,
    /// Role in Spark.
    pub role: Role,
    /// When the record was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Raised by one on every change (the SCIM ETag).
    pub version: i64,
}

/// For one field of an [`EmployeeInput`]: leave the stored value alone, or set it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Change<T> {
    /// Keep what is stored (a new record gets the default).
    #[default]
    Keep,
    /// Store this value.
    Set(T),
}

impl<T: Clone> Change<T> {
    fn apply(&self, current: T) -> T {
        match self {
            Change::Keep => current,
            Change::Set(value) => value.clone(),
        }
    }
}

/// One employee to create or update, matched by email. Fields left as
/// [`Change::Keep`] keep their stored value (or their default for a new employee:
/// empty, active, role employee).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmployeeInput {
    /// Work email: the key.
    pub email: String,
    /// Given name.
    pub given_name: Change<Option<String>>,
    /// Family name.
    pub family_name: Change<Option<String>>,
    /// Display name.
    pub display_name: Change<Option<String>>,
    /// Work phone.
    pub phone: Change<Option<String>>,
    /// Job title.
    pub title: Change<Option<String>>,
    /// Department.
    pub department: Change<Option<String>>,
    /// Employee number.
    pub employee_number: Change<Option<String>>,
    /// The manager's work email: an employee of the tenant or of the same input.
    pub manager_email: Change<Option<String>>,
    /// Active or not.
    pub active: Change<bool>,
    /// Role.
    pub role: Change<Role>,
}

/// What an import did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// New employees.
    pub created: usize,
    /// Existing employees whose record changed.
    pub updated: usize,
    /// Existing employees the input left as they were.
    pub unchanged: usize,
    /// Employees the input deactivated (their sessions ended).
    pub deactivated: usize,
}

/// The most characters a text field may hold.
pub const MAX_FIELD_CHARS: usize = 256;

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = employees)]
#[diesel(treat_none_as_null = true, treat_none_as_default_value = false)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(crate) struct EmployeeRow {
    pub(crate) id: String,
    pub(crate) tenant_id: String,
    pub(crate) email: String,
    pub(crate) email_key: String,
    pub(crate) external_id: Option<String>,
    pub(crate) given_name: Option<String>,
    pub(crate) family_name: Option<String>,
    pub(crate) display_name: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) title: Option<String>,
    pub(crate) department: Option<String>,
    pub(crate) employee_number: Option<String>,
    pub(crate) manager_id: Option<String>,
    pub(crate) active: bool,
    pub(crate) role: String,
    pub(crate) created_at: NaiveDateTime,
    pub(crate) updated_at: NaiveDateTime,
    pub(crate) version: i64,
}

impl EmployeeRow {
    /// A new employee of `tenant` with nothing but their id and email key: active, an
    /// employee, version 1, created `now`. An import fills in the rest.
    fn blank(tenant: &TenantId, id: &str, email_key: &str, now: NaiveDateTime) -> Self {
        Self {
            id: id.to_owned(),
            tenant_id: tenant.0.clone(),
            email: String::new(),
            email_key: email_key.to_owned(),
            external_id: None,
            given_name: None,
            family_name: None,
            display_name: None,
            phone: None,
            title: None,
            department: None,
            employee_number: None,
            manager_id: None,
            active: true,
            role: Role::Employee.as_str().to_owned(),
            created_at: now,
            updated_at: now,
            version: 1,
        }
    }

    /// What their department's summary needs to know of them.
    fn as_member(&self) -> Member<'_> {
        Member {
            department: self.department.as_deref().filter(|d| !d.is_empty()),
            names: [
                self.display_name.as_deref(),
                self.given_name.as_deref(),
                self.family_name.as_deref(),
            ],
        }
    }

    pub(crate) fn into_domain(self) -> Employee {
        Employee {
            id: EmployeeId(self.id),
            tenant_id: TenantId(self.tenant_id),
            email: self.email,
            external_id: self.external_id,
            given_name: self.given_name,
            family_name: self.family_name,
            display_name: self.display_name,
            phone: self.phone,
            title: self.title,
            department: self.department,
            employee_number: self.employee_number,
            manager_id: self.manager_id.map(EmployeeId),
            active: self.active,
            // The column's CHECK constraint admits only the two roles.
            role: self.role.parse().unwrap_or(Role::Employee),
            created_at: clock::utc(self.created_at),
            updated_at: clock::utc(self.updated_at),
            version: self.version,
        }
    }

    /// Same record apart from bookkeeping (version and timestamps)?
    fn same_content(&self, other: &EmployeeRow) -> bool {
        self.email == other.email
            && self.given_name == other.given_name
            && self.family_name == other.family_name
            && self.display_name == other.display_name
            && self.phone == other.phone
            && self.title == other.title
            && self.department == other.department
            && self.employee_number == other.employee_number
            && self.manager_id == other.manager_id
            && self.active == other.active
            && self.role == other.role
    }
}

/// The case-insensitive key of an email: what uniqueness and look-ups use.
pub(crate) fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Checks the shape of a work email: one `@`, something on both sides, no spaces or
/// control characters, at most 254 characters (RFC 5321's limit).
fn check_email(email: &str) -> std::result::Result<(), String> {
    if email.is_empty() {
        return Err("the email is empty; every employee needs a work email".into());
    }
    if email.chars().count() > 254 {
        return Err("the email is longer than 254 characters".into());
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("`{email}` contains a space or control character"));
    }
    match email.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && !domain.is_empty() && !domain.contains('@') =>
        {
            Ok(())
        }
        _ => Err(format!(
            "`{email}` is not an email address (expected name@domain)"
        )),
    }
}

fn check_text(value: &Option<String>) -> std::result::Result<(), String> {
    match value {
        Some(text) if text.chars().count() > MAX_FIELD_CHARS => {
            Err(format!("longer than {MAX_FIELD_CHARS} characters"))
        }
        Some(text) if text.chars().any(char::is_control) => {
            Err("contains a control character".into())
        }
        _ => Ok(()),
    }
}

/// Empty text is no value.
fn normalise(value: &Change<Option<String>>) -> Change<Option<String>> {
    match value {
        Change::Keep => Change::Keep,
        Change::Set(v) => Change::Set(
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned),
        ),
    }
}

/// How many changed rows make an import refresh the planner's statistics.
const REFRESH_STATISTICS_AFTER: usize = 1_000;

/// After a bulk change, PostgreSQL's planner still believes the old row counts until
/// autovacuum gets round to the table; a freshly imported directory then gets
/// whole-table plans (a page of users took 60 ms instead of 0.06 ms). `ANALYZE` makes the
/// statistics true at once. SQLite's planner does not depend on such statistics here.
fn refresh_statistics(conn: &mut DbConnection) -> Result<()> {
    if let DbConnection::Postgresql(pg) = conn {
        diesel::sql_query("ANALYZE employees").execute(pg)?;
    }
    Ok(())
}

/// Rows per multi-row INSERT: 1,000 rows of 18 columns stay under both backends' limits
/// on bound parameters (SQLite 32,766; PostgreSQL 65,535).
const INSERT_CHUNK: usize = 1_000;

/// The employees repository; see [`Database::employees`].
pub struct Employees<'db> {
    pub(crate) db: &'db Database,
}

impl Employees<'_> {
    /// Every employee of the tenant, by email.
    pub fn list(&self, tenant: &TenantId) -> Result<Vec<Employee>> {
        let rows = employees::table
            .filter(employees::tenant_id.eq(tenant.as_str()))
            .order(employees::email_key.asc())
            .select(EmployeeRow::as_select())
            .load(&mut *self.db.conn()?)?;
        Ok(rows.into_iter().map(EmployeeRow::into_domain).collect())
    }

    /// How many employees the tenant has.
    pub fn count(&self, tenant: &TenantId) -> Result<u64> {
        let n: i64 = employees::table
            .filter(employees::tenant_id.eq(tenant.as_str()))
            .count()
            .get_result(&mut *self.db.conn()?)?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    /// The employee with this work email (any case), if any.
    pub fn find_by_email(&self, tenant: &TenantId, email: &str) -> Result<Option<Employee>> {
        let row = employees::table
            .filter(employees::tenant_id.eq(tenant.as_str()))
            .filter(employees::email_key.eq(email_key(email)))
            .select(EmployeeRow::as_select())
            .first(&mut *self.db.conn()?)
            .optional()?;
        Ok(row.map(EmployeeRow::into_domain))
    }

    /// The employee with this id, if it belongs to the tenant.
    pub fn get(&self, tenant: &TenantId, id: &str) -> Result<Option<Employee>> {
        let row = employees::table
            .filter(employees::tenant_id.eq(tenant.as_str()))
            .filter(employees::id.eq(id))
            .select(EmployeeRow::as_select())
            .first(&mut *self.db.conn()?)
            .optional()?;
        Ok(row.map(EmployeeRow::into_domain))
    }

    /// Creates or updates employees by email, all or nothing: one transaction, and every
    /// record is checked before anything is written. A record that cannot be applied
    /// fails the whole input with [`Error::InvalidInput`], naming each bad record.
    pub fn upsert_many(
        &self,
        tenant: &TenantId,
        inputs: &[EmployeeInput],
        actor: &Actor,
    ) -> Result<ImportSummary> {
        let summary = self.db.write(|conn| {
            lock_directory(conn, tenant)?;
            let summary = upsert_in(conn, tenant, inputs)?;
            if summary.created + summary.updated > 0 {
                crate::tenants::bump_directory_version(conn, tenant)?;
            }
            audit::record(
                conn,
                Some(tenant),
                actor,
                "employees.imported",
                None,
                serde_json::json!({
                    "created": summary.created,
                    "updated": summary.updated,
                    "unchanged": summary.unchanged,
                    "deactivated": summary.deactivated,
                }),
            )?;
            Ok(summary)
        })?;
        if summary.created + summary.updated >= REFRESH_STATISTICS_AFTER {
            refresh_statistics(&mut *self.db.conn()?)?;
        }
        Ok(summary)
    }

    /// Activates or deactivates an employee. Deactivation ends their sessions and pending
    /// sign-in links at once. Setting the state it already has changes nothing.
    pub fn set_active(
        &self,
        tenant: &TenantId,
        email: &str,
        active: bool,
        actor: &Actor,
    ) -> Result<Employee> {
        self.db.write(|conn| {
            lock_directory(conn, tenant)?;
            let row = employees::table
                .filter(employees::tenant_id.eq(tenant.as_str()))
                .filter(employees::email_key.eq(email_key(email)))
                .select(EmployeeRow::as_select())
                .first(conn)
                .optional()?
                .ok_or_else(|| Error::NotFound(format!("no employee with the email `{email}`")))?;
            if row.active == active {
                return Ok(row.into_domain());
            }
            let now = clock::now();
            let updated = EmployeeRow {
                active,
                updated_at: now,
                version: row.version + 1,
                ..row
            };
            diesel::update(employees::table.find(&updated.id))
                .set(&updated)
                .execute(conn)?;
            if !active {
                end_employment(conn, tenant, std::slice::from_ref(&updated.id))?;
            }
            crate::tenants::bump_directory_version(conn, tenant)?;
            let action = if active {
                "employee.activated"
            } else {
                "employee.deactivated"
            };
            audit::record(
                conn,
                Some(tenant),
                actor,
                action,
                Some(&updated.email),
                serde_json::json!({ "employee_id": updated.id }),
            )?;
            Ok(updated.into_domain())
        })
    }
}

/// Multi-row INSERTs. Diesel's two-backend connection cannot express them (its shared
/// dialect has no batch insert), so each backend gets its own, identical statement.
fn insert_rows(conn: &mut DbConnection, rows: &[EmployeeRow]) -> Result<()> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        let insert = diesel::insert_into(employees::table).values(chunk);
        on_own_connection!(&mut *conn, |c| insert.execute(c))?;
    }
    Ok(())
}

/// Rewrites existing rows, a thousand per statement: an INSERT whose every row collides
/// with its own id and so becomes an UPDATE (`ON CONFLICT (id) DO UPDATE`). One statement
/// per row costs a round trip each, which on PostgreSQL made a 100,000-row re-import take
/// 24 s; batched it is a few seconds. `created_at` is never rewritten.
fn update_rows(conn: &mut DbConnection, rows: &[EmployeeRow]) -> Result<()> {
    use diesel::upsert::excluded;
    use employees::dsl as e;
    for chunk in rows.chunks(INSERT_CHUNK) {
        let upsert = diesel::insert_into(employees::table)
            .values(chunk)
            .on_conflict(e::id)
            .do_update()
            .set((
                e::email.eq(excluded(e::email)),
                e::given_name.eq(excluded(e::given_name)),
                e::family_name.eq(excluded(e::family_name)),
                e::display_name.eq(excluded(e::display_name)),
                e::phone.eq(excluded(e::phone)),
                e::title.eq(excluded(e::title)),
                e::department.eq(excluded(e::department)),
                e::employee_number.eq(excluded(e::employee_number)),
                e::manager_id.eq(excluded(e::manager_id)),
                e::active.eq(excluded(e::active)),
                e::role.eq(excluded(e::role)),
                e::updated_at.eq(excluded(e::updated_at)),
                e::version.eq(excluded(e::version)),
            ));
        on_own_connection!(&mut *conn, |c| upsert.execute(c))?;
    }
    Ok(())
}

/// What deactivating employees does besides the flag, by any path and in the same
/// transaction: their sessions and one-time codes end, and the revocation of their Okta
/// users is queued (when the workspace set real-time sign-out up).
fn end_employment(
    conn: &mut DbConnection,
    tenant: &TenantId,
    employee_ids: &[String],
) -> Result<()> {
    end_access(conn, employee_ids)?;
    crate::okta_revocations::queue_for_deactivated(conn, tenant, employee_ids)
}

/// Ends every session and unused one-time code of these employees; returns how many
/// sessions ended.
pub(crate) fn end_access(conn: &mut DbConnection, employee_ids: &[String]) -> Result<usize> {
    let mut sessions_ended = 0;
    for chunk in employee_ids.chunks(INSERT_CHUNK) {
        sessions_ended +=
            diesel::delete(sessions::table.filter(sessions::employee_id.eq_any(chunk)))
                .execute(conn)?;
        diesel::delete(one_time_codes::table.filter(one_time_codes::employee_id.eq_any(chunk)))
            .execute(conn)?;
    }
    Ok(sessions_ended)
}

/// Makes this write transaction the tenant's only writer of employees until it ends.
/// Employee writes read the records, then write them back changed (each keeps the
/// fields its input leaves alone, and counts versions); two at once would write over each
/// other's changes. On SQLite the write transaction (`BEGIN IMMEDIATE`) already excludes
/// every other writer; on PostgreSQL the tenant's row is locked, so other tenants' writes
/// and every read go on.
fn lock_directory(conn: &mut DbConnection, tenant: &TenantId) -> Result<()> {
    if let DbConnection::Postgresql(pg) = conn {
        use crate::schema::tenants;
        tenants::table
            .find(tenant.as_str())
            .select(tenants::id)
            .for_update()
            .first::<String>(pg)
            .optional()?;
    }
    Ok(())
}

/// An import inside the caller's write transaction: the tenant's records are read, the
/// input is checked ([`validate`]) and turned into changes ([`plan`]) without the
/// database, and the changes are written ([`apply`]) only when the whole input is good.
fn upsert_in(
    conn: &mut DbConnection,
    tenant: &TenantId,
    inputs: &[EmployeeInput],
) -> Result<ImportSummary> {
    let existing: HashMap<String, EmployeeRow> = employees::table
        .filter(employees::tenant_id.eq(tenant.as_str()))
        .select(EmployeeRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|row| (row.email_key.clone(), row))
        .collect();
    let now = clock::now();
    let validated = validate(inputs, &existing);
    let changes = plan(tenant, inputs, &existing, validated, now)?;
    apply(conn, tenant, changes, now)
}

/// An input checked on its own: each record's email key, in order, and the id every
/// email of the directory or the input stands for.
struct Validated {
    /// The email key of each input record.
    keys: Vec<String>,
    /// Email key → the first input record with it (none for a stored employee the
    /// input leaves out), and its id: the stored one, or a new one.
    ids: HashMap<String, (Option<usize>, String)>,
    /// What is wrong with the records so far.
    problems: Vec<InputProblem>,
}

/// Checks each record's email (its shape, and that it appears once) and texts, and gives
/// every new email an id — so that a record can name as its manager an employee who
/// comes later in the same input.
fn validate(inputs: &[EmployeeInput], existing: &HashMap<String, EmployeeRow>) -> Validated {
    let mut problems = Vec::new();
    let mut ids: HashMap<String, (Option<usize>, String)> = existing
        .iter()
        .map(|(key, row)| (key.clone(), (None, row.id.clone())))
        .collect();
    let mut keys = Vec::with_capacity(inputs.len());
    for (index, input) in inputs.iter().enumerate() {
        let email = input.email.trim();
        if let Err(message) = check_email(email) {
            problems.push(InputProblem {
                index,
                field: "email",
                message,
            });
        }
        let key = email_key(email);
        match ids.get_mut(&key) {
            Some((Some(first), _)) => problems.push(InputProblem {
                index,
                field: "email",
                message: format!(
                    "`{email}` appears more than once (first at record {})",
                    *first + 1
                ),
            }),
            Some((seen @ None, _)) => *seen = Some(index),
            None => {
                ids.insert(key.clone(), (Some(index), uuid::Uuid::now_v7().to_string()));
            }
        }
        let texts = [
            ("given_name", &input.given_name),
            ("family_name", &input.family_name),
            ("display_name", &input.display_name),
            ("phone", &input.phone),
            ("title", &input.title),
            ("department", &input.department),
            ("employee_number", &input.employee_number),
        ];
        for (field, change) in texts {
            if let Change::Set(value) = change
                && let Err(message) = check_text(value)
            {
                problems.push(InputProblem {
                    index,
                    field,
                    message,
                });
            }
        }
        keys.push(key);
    }
    Validated {
        keys,
        ids,
        problems,
    }
}

/// The writes an import makes.
struct Plan {
    /// New employees.
    inserts: Vec<EmployeeRow>,
    /// Changed employees, with their next version.
    updates: Vec<EmployeeRow>,
    /// The ids of employees this import deactivates.
    deactivated: Vec<String>,
    /// Records that change nothing.
    unchanged: usize,
    /// How the departments' summaries move.
    departments: DepartmentChanges,
}

/// What importing `inputs` over `existing` changes, decided without the database: each
/// record's new row (its fields changed or kept, its manager resolved by email), sorted
/// into inserts, updates and records that change nothing — or every problem of the
/// input, in its order.
fn plan(
    tenant: &TenantId,
    inputs: &[EmployeeInput],
    existing: &HashMap<String, EmployeeRow>,
    validated: Validated,
    now: NaiveDateTime,
) -> Result<Plan> {
    let Validated {
        keys,
        ids,
        mut problems,
    } = validated;
    let mut plan = Plan {
        inserts: Vec::new(),
        updates: Vec::new(),
        deactivated: Vec::new(),
        unchanged: 0,
        departments: DepartmentChanges::default(),
    };
    for (index, (input, key)) in inputs.iter().zip(&keys).enumerate() {
        let Some((_, id)) = ids.get(key) else {
            continue;
        };
        let manager_id = match normalise(&input.manager_email) {
            Change::Keep => Change::Keep,
            Change::Set(None) => Change::Set(None),
            Change::Set(Some(manager_email)) => {
                let manager_key = email_key(&manager_email);
                match ids.get(&manager_key) {
                    _ if manager_key == *key => {
                        problems.push(InputProblem {
                            index,
                            field: "manager_email",
                            message: "an employee cannot be their own manager".into(),
                        });
                        Change::Keep
                    }
                    Some((_, manager_id)) => Change::Set(Some(manager_id.clone())),
                    None => {
                        problems.push(InputProblem {
                            index,
                            field: "manager_email",
                            message: format!(
                                "no employee `{manager_email}` in this workspace or this file; \
                                 add the manager first or leave the cell empty"
                            ),
                        });
                        Change::Keep
                    }
                }
            }
        };
        let before = existing.get(key);
        let base = before
            .cloned()
            .unwrap_or_else(|| EmployeeRow::blank(tenant, id, key, now));
        let row = EmployeeRow {
            email: input.email.trim().to_owned(),
            given_name: normalise(&input.given_name).apply(base.given_name.clone()),
            family_name: normalise(&input.family_name).apply(base.family_name.clone()),
            display_name: normalise(&input.display_name).apply(base.display_name.clone()),
            phone: normalise(&input.phone).apply(base.phone.clone()),
            title: normalise(&input.title).apply(base.title.clone()),
            department: normalise(&input.department).apply(base.department.clone()),
            employee_number: normalise(&input.employee_number).apply(base.employee_number.clone()),
            manager_id: manager_id.apply(base.manager_id.clone()),
            active: input.active.apply(base.active),
            role: input
                .role
                .apply(base.role.parse().unwrap_or(Role::Employee))
                .as_str()
                .to_owned(),
            ..base
        };
        match before {
            None => {
                plan.departments.employee(None, &row.as_member());
                plan.inserts.push(row);
            }
            Some(old) if old.same_content(&row) => plan.unchanged += 1,
            Some(old) => {
                plan.departments
                    .employee(Some(&old.as_member()), &row.as_member());
                if old.active && !row.active {
                    plan.deactivated.push(row.id.clone());
                }
                plan.updates.push(EmployeeRow {
                    updated_at: now,
                    version: old.version + 1,
                    ..row
                });
            }
        }
    }
    if !problems.is_empty() {
        problems.sort_by_key(|p| p.index);
        return Err(Error::InvalidInput(problems));
    }
    Ok(plan)
}

/// Writes a [`Plan`] in the caller's transaction: the rows, what deactivation ends, and
/// the departments' summaries.
fn apply(
    conn: &mut DbConnection,
    tenant: &TenantId,
    plan: Plan,
    now: NaiveDateTime,
) -> Result<ImportSummary> {
    insert_rows(conn, &plan.inserts)?;
    update_rows(conn, &plan.updates)?;
    end_employment(conn, tenant, &plan.deactivated)?;
    plan.departments.apply(conn, tenant, now)?;
    Ok(ImportSummary {
        created: plan.inserts.len(),
        updated: plan.updates.len(),
        unchanged: plan.unchanged,
        deactivated: plan.deactivated.len(),
    })
}

/// Checks, inside the caller's transaction, that `employee` is an active employee of
/// `tenant`; returns their email (for audit targets).
pub(crate) fn require_active(
    conn: &mut DbConnection,
    tenant: &TenantId,
    employee: &EmployeeId,
) -> Result<String> {
    let found: Option<(String, bool)> = employees::table
        .filter(employees::tenant_id.eq(tenant.as_str()))
        .filter(employees::id.eq(employee.as_str()))
        .select((employees::email, employees::active))
        .first(conn)
        .optional()?;
    match found {
        Some((email, true)) => Ok(email),
        Some((email, false)) => Err(Error::NotFound(format!(
            "`{email}` is deactivated in this workspace; activate them first"
        ))),
        None => Err(Error::NotFound(format!(
            "no employee `{employee}` in this workspace"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_shapes() {
        assert!(check_email("ada@acme.com").is_ok());
        assert!(check_email("ada+hr@localhost").is_ok());
        for bad in [
            "",
            "ada",
            "@acme.com",
            "ada@",
            "a da@acme.com",
            "a@b@c",
            "ada@acme.com\n",
        ] {
            assert!(check_email(bad).is_err(), "{bad:?}");
        }
        assert!(check_email(&format!("{}@acme.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn email_keys_fold_case() {
        assert_eq!(
            email_key(" Ada.Lovelace@ACME.com "),
            "ada.lovelace@acme.com"
        );
        assert_eq!(email_key("ÉLODIE@acme.fr"), "élodie@acme.fr");
    }

    fn input(email: &str, manager: Option<&str>, active: Option<bool>) -> EmployeeInput {
        EmployeeInput {
            email: email.into(),
            manager_email: manager.map_or(Change::Keep, |m| Change::Set(Some(m.into()))),
            active: active.map_or(Change::Keep, Change::Set),
            ..EmployeeInput::default()
        }
    }

    /// The plan is decided without the database: a manager who comes later in the same
    /// input resolves to the id they will get, and each record lands where it belongs.
    #[test]
    fn an_import_is_planned_without_the_database() {
        let tenant = TenantId("t".into());
        let now = clock::now();
        let mut kept = EmployeeRow::blank(&tenant, "e-kept", "kept@acme.com", now);
        kept.email = "kept@acme.com".into();
        let mut leaving = EmployeeRow::blank(&tenant, "e-leaving", "leaving@acme.com", now);
        leaving.email = "leaving@acme.com".into();
        let existing: HashMap<String, EmployeeRow> = [kept, leaving]
            .into_iter()
            .map(|row| (row.email_key.clone(), row))
            .collect();
        let inputs = [
            input("new@acme.com", Some("Boss@acme.com"), None),
            input("boss@acme.com", None, None),
            input("kept@acme.com", None, None),
            input("leaving@acme.com", None, Some(false)),
        ];
        let validated = validate(&inputs, &existing);
        assert!(validated.problems.is_empty());
        let plan = plan(&tenant, &inputs, &existing, validated, now).unwrap();
        let inserted: Vec<&str> = plan.inserts.iter().map(|r| r.email.as_str()).collect();
        assert_eq!(inserted, ["new@acme.com", "boss@acme.com"]);
        let boss = &plan.inserts[1];
        assert_eq!(
            plan.inserts[0].manager_id.as_deref(),
            Some(boss.id.as_str())
        );
        assert_eq!(plan.unchanged, 1);
        assert_eq!(plan.deactivated, ["e-leaving"]);
        assert_eq!(plan.updates.len(), 1);
        assert_eq!(plan.updates[0].version, 2);
    }

    /// Every problem of an input is reported, in its order, and nothing is planned.
    #[test]
    fn a_bad_input_plans_nothing_and_says_every_problem() {
        let tenant = TenantId("t".into());
        let existing = HashMap::new();
        let inputs = [
            input("ada@acme.com", Some("ghost@acme.com"), None),
            input("not an email", None, None),
            input("ADA@acme.com", Some("ada@acme.com"), None),
        ];
        let validated = validate(&inputs, &existing);
        let Err(Error::InvalidInput(problems)) =
            plan(&tenant, &inputs, &existing, validated, clock::now())
        else {
            panic!("the input should be refused");
        };
        let found: Vec<(usize, &str)> = problems.iter().map(|p| (p.index, p.field)).collect();
        assert_eq!(
            found,
            [
                (0, "manager_email"),
                (1, "email"),
                (2, "email"),
                (2, "manager_email")
            ]
        );
    }

    #[test]
    fn roles_parse_in_any_case() {
        assert_eq!("Admin".parse::<Role>().unwrap(), Role::Admin);
        assert_eq!("employee".parse::<Role>().unwrap(), Role::Employee);
        assert!("owner".parse::<Role>().is_err());
    }
}
