//! Sign-in steps that PostgreSQL does in one statement where SQLite needs a transaction:
//! data-modifying `WITH` queries, which SQLite does not have. Each is a static query
//! fragment, so diesel prepares it once per connection and PostgreSQL plans it once (a
//! `sql_query` would be parsed and planned on every call, which costs what the saved
//! round trips do). The SQLite path runs the equivalent diesel statements in a
//! transaction; the sign-in tests run both.

use std::sync::LazyLock;

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Nullable, Text, Timestamp};
use diesel::{PgConnection, QueryResult, RunQueryDsl};

/// The columns of a one-time code, in `codes::CodeRow`'s order (a test holds them to it).
const CODE_COLUMNS: [&str; 10] = [
    "code_hash",
    "purpose",
    "tenant_id",
    "employee_id",
    "return_to",
    "created_by",
    "created_at",
    "expires_at",
    "consumed_at",
    "browser_binding_hash",
];

/// A column list for SQL, each name quoted and preceded by `prefix` (a table, or nothing).
fn column_list(columns: &[&str], prefix: &str) -> String {
    columns
        .iter()
        .map(|column| format!("{prefix}\"{column}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

// Built once: the statements' SQL is written on every call (diesel walks a query to
// collect its binds even when the statement is prepared).
static CODES: LazyLock<String> = LazyLock::new(|| column_list(&CODE_COLUMNS, ""));
static EMPLOYEES: LazyLock<String> = LazyLock::new(|| column_list(&EMPLOYEE_COLUMNS, ""));
static EMPLOYEES_QUALIFIED: LazyLock<String> =
    LazyLock::new(|| column_list(&EMPLOYEE_COLUMNS, "\"employees\"."));

/// Marks a fresh code of `purpose` used — only while its employee is active, and when it
/// is bound to a browser only for that browser — and inserts the session from the code
/// so marked; yields the code's row (none when nothing was marked). Atomic: one
/// statement.
#[derive(Debug, QueryId)]
pub(super) struct RedeemCode {
    pub now: NaiveDateTime,
    pub code_hash: String,
    pub tenant_id: String,
    pub purpose: String,
    /// The presenting browser's binding hash (`= NULL` matches no bound code).
    pub browser_binding: Option<String>,
    pub token_hash: String,
    pub auth_method: String,
    pub csrf_token: String,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

impl QueryFragment<Pg> for RedeemCode {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH used AS (UPDATE one_time_codes SET consumed_at = ");
        out.push_bind_param::<Timestamp, _>(&self.now)?;
        out.push_sql(" WHERE code_hash = ");
        out.push_bind_param::<Text, _>(&self.code_hash)?;
        out.push_sql(" AND tenant_id = ");
        out.push_bind_param::<Text, _>(&self.tenant_id)?;
        out.push_sql(" AND purpose = ");
        out.push_bind_param::<Text, _>(&self.purpose)?;
        out.push_sql(" AND (browser_binding_hash IS NULL OR browser_binding_hash = ");
        out.push_bind_param::<Nullable<Text>, _>(&self.browser_binding)?;
        out.push_sql(") AND consumed_at IS NULL AND expires_at > ");
        out.push_bind_param::<Timestamp, _>(&self.now)?;
        out.push_sql(
            " AND EXISTS (SELECT 1 FROM employees \
               WHERE employees.tenant_id = one_time_codes.tenant_id \
                 AND employees.id = one_time_codes.employee_id AND employees.active) \
             RETURNING ",
        );
        out.push_sql(&CODES);
        out.push_sql(
            "), started AS (INSERT INTO sessions (token_hash, tenant_id, employee_id, \
             auth_method, csrf_token, created_at, last_seen_at, expires_at) SELECT ",
        );
        out.push_bind_param::<Text, _>(&self.token_hash)?;
        out.push_sql(", tenant_id, employee_id, ");
        out.push_bind_param::<Text, _>(&self.auth_method)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&self.csrf_token)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.created_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.last_seen_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.expires_at)?;
        out.push_sql(" FROM used) SELECT ");
        out.push_sql(&CODES);
        out.push_sql(" FROM used");
        Ok(())
    }
}

impl Query for RedeemCode {
    type SqlType = (
        Text,
        Text,
        Text,
        Text,
        Nullable<Text>,
        Text,
        Timestamp,
        Timestamp,
        Nullable<Timestamp>,
        Nullable<Text>,
    );
}

impl RunQueryDsl<PgConnection> for RedeemCode {}

/// The employees columns, in `EmployeeRow`'s order (a test holds them to it).
const EMPLOYEE_COLUMNS: [&str; 18] = [
    "id",
    "tenant_id",
    "email",
    "email_key",
    "external_id",
    "given_name",
    "family_name",
    "display_name",
    "phone",
    "title",
    "department",
    "employee_number",
    "manager_id",
    "active",
    "role",
    "created_at",
    "updated_at",
    "version",
];

/// A sign-in by an already linked Okta identity: yields the employee it is linked to
/// (none when the identity is not linked yet), and — only if that employee is active —
/// records the sign-in time on the link and stores the session hand-off code, bound to
/// the browser that signed in. Atomic: one statement.
#[derive(Debug, QueryId)]
pub(super) struct SignInLinked {
    pub tenant_id: String,
    pub issuer: String,
    pub subject: String,
    pub now: NaiveDateTime,
    pub code_hash: String,
    pub purpose: String,
    pub return_to: Option<String>,
    pub browser_binding: String,
    /// What `created_by` starts with; the employee's id completes it.
    pub created_by_prefix: String,
    pub expires_at: NaiveDateTime,
}

impl QueryFragment<Pg> for SignInLinked {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH linked AS (SELECT ");
        out.push_sql(&EMPLOYEES_QUALIFIED);
        out.push_sql(
            " FROM employee_identities JOIN employees \
               ON employees.tenant_id = employee_identities.tenant_id \
              AND employees.id = employee_identities.employee_id \
             WHERE employee_identities.tenant_id = ",
        );
        out.push_bind_param::<Text, _>(&self.tenant_id)?;
        out.push_sql(" AND employee_identities.issuer = ");
        out.push_bind_param::<Text, _>(&self.issuer)?;
        out.push_sql(" AND employee_identities.subject = ");
        out.push_bind_param::<Text, _>(&self.subject)?;
        out.push_sql("), touched AS (UPDATE employee_identities SET last_sign_in_at = ");
        out.push_bind_param::<Timestamp, _>(&self.now)?;
        out.push_sql(" WHERE tenant_id = ");
        out.push_bind_param::<Text, _>(&self.tenant_id)?;
        out.push_sql(" AND issuer = ");
        out.push_bind_param::<Text, _>(&self.issuer)?;
        out.push_sql(" AND subject = ");
        out.push_bind_param::<Text, _>(&self.subject)?;
        out.push_sql(
            " AND EXISTS (SELECT 1 FROM linked WHERE active)), \
             handed_off AS (INSERT INTO one_time_codes (",
        );
        out.push_sql(&CODES);
        out.push_sql(") SELECT ");
        out.push_bind_param::<Text, _>(&self.code_hash)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&self.purpose)?;
        out.push_sql(", tenant_id, id, ");
        out.push_bind_param::<Nullable<Text>, _>(&self.return_to)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&self.created_by_prefix)?;
        out.push_sql(" || id, ");
        out.push_bind_param::<Timestamp, _>(&self.now)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.expires_at)?;
        out.push_sql(", NULL, ");
        out.push_bind_param::<Text, _>(&self.browser_binding)?;
        out.push_sql(" FROM linked WHERE active) SELECT ");
        out.push_sql(&EMPLOYEES);
        out.push_sql(" FROM linked");
        Ok(())
    }
}

impl Query for SignInLinked {
    type SqlType = crate::schema::employees::SqlType;
}

impl RunQueryDsl<PgConnection> for SignInLinked {}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;

    use super::*;
    use crate::employees::EmployeeRow;
    use crate::schema::{employees, one_time_codes};
    use crate::sign_in::codes::CodeRow;

    #[test]
    fn the_column_lists_are_the_rows() {
        let employees_sql =
            diesel::debug_query::<Pg, _>(&employees::table.select(EmployeeRow::as_select()))
                .to_string();
        let ours = format!("SELECT {} FROM \"employees\"", *EMPLOYEES_QUALIFIED);
        assert!(employees_sql.starts_with(&ours), "{employees_sql}\n{ours}");
        let codes_sql =
            diesel::debug_query::<Pg, _>(&one_time_codes::table.select(CodeRow::as_select()))
                .to_string();
        let ours = format!(
            "SELECT {} FROM \"one_time_codes\"",
            column_list(&CODE_COLUMNS, "\"one_time_codes\".")
        );
        assert!(codes_sql.starts_with(&ours), "{codes_sql}\n{ours}");
    }
}
