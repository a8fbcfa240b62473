//! SCIM filters as SQL: attribute paths to columns, a validated scim-filter expression
//! to a two-valued condition over `employees`, and which filtered queries are kept as
//! prepared statements.
//!
//! The translation reproduces scim-filter's in-memory semantics exactly (a test compares
//! the two on both backends): absent values match no comparison, `not` is two-valued,
//! strings honour `caseExact` through `spark_fold`, substring tests and string order use
//! the `spark_*` functions (see `sql_functions`), and date-times compare as instants at
//! the columns' microsecond precision.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::dsl::not;
use diesel::expression::BoxableExpression;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text, Timestamp};
use scim_filter::{CompareOp, Expr, TypedValue};
use scim_model::{AttributeDef, ResolvedAttribute, urn};

use super::query::{SortKey, UserOrder};
use crate::connection::Db;
use crate::error::{Error, Result};
use crate::schema::employees;
use crate::sql_functions::{
    spark_contains, spark_ends_with, spark_fold, spark_order_key, spark_starts_with,
};

/// A condition a filter becomes.
pub(super) type Condition = Box<dyn BoxableExpression<employees::table, Db, SqlType = Bool>>;

/// Why a filter or sort cannot run as SQL.
fn unsupported(what: &str) -> Error {
    Error::Unsupported(format!(
        "filtering or sorting on `{what}` is not supported; use userName, name.givenName, \
         name.familyName, displayName, title, active, emails, phoneNumbers, externalId, id, \
         meta.created, meta.lastModified, or the enterprise department, employeeNumber and \
         manager.value"
    ))
}

impl SortKey {
    /// The sort key for a resolved `sortBy` attribute.
    pub fn of(attr: &ResolvedAttribute) -> Result<Self> {
        let key = match column_of(attr)? {
            Column::Text(TextColumn::EmailKey) => SortKey::UserName,
            Column::Text(TextColumn::GivenName) => SortKey::GivenName,
            Column::Text(TextColumn::FamilyName) => SortKey::FamilyName,
            Column::Text(TextColumn::DisplayName) => SortKey::DisplayName,
            Column::Text(TextColumn::Title) => SortKey::Title,
            Column::Text(TextColumn::Department) => SortKey::Department,
            Column::Text(TextColumn::EmployeeNumber) => SortKey::EmployeeNumber,
            Column::Text(TextColumn::ExternalId) => SortKey::ExternalId,
            Column::Time(TimeColumn::Created) => SortKey::Created,
            Column::Time(TimeColumn::LastModified) => SortKey::LastModified,
            Column::Active => SortKey::Active,
            _ => return Err(unsupported(&attr.to_string())),
        };
        Ok(key)
    }
}

/// The stored text columns a filter can reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TextColumn {
    Id,
    /// The email as entered (for a case-exact comparison).
    Email,
    /// The folded email (userName and emails.value are case-insensitive).
    EmailKey,
    ExternalId,
    GivenName,
    FamilyName,
    DisplayName,
    Title,
    Phone,
    Department,
    EmployeeNumber,
    ManagerId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TimeColumn {
    Created,
    LastModified,
}

/// What an attribute path reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Text(TextColumn),
    Time(TimeColumn),
    Active,
    /// A value every user has (`emails.type` is "work", `meta.resourceType` "User").
    ConstantText(&'static str),
    /// `emails.primary`: true for the one email every user has.
    ConstantTrue,
    /// `phoneNumbers.type`: "work" when the user has a phone.
    PhoneType,
    /// `phoneNumbers.primary`: true when the user has a phone.
    PhonePrimary,
}

fn column_of(attr: &ResolvedAttribute) -> Result<Column> {
    let sub = attr.sub_attribute.map(|s| s.name);
    let column = match (attr.schema.id, attr.attribute.name, sub) {
        (urn::ENTERPRISE_USER, "department", None) => Column::Text(TextColumn::Department),
        (urn::ENTERPRISE_USER, "employeeNumber", None) => Column::Text(TextColumn::EmployeeNumber),
        (urn::ENTERPRISE_USER, "manager", Some("value")) => Column::Text(TextColumn::ManagerId),
        (urn::ENTERPRISE_USER, _, _) => return Err(unsupported(&attr.to_string())),
        (_, "id", None) => Column::Text(TextColumn::Id),
        (_, "externalId", None) => Column::Text(TextColumn::ExternalId),
        (_, "userName", None) | (_, "emails", Some("value")) => Column::Text(TextColumn::EmailKey),
        (_, "emails", Some("type")) => Column::ConstantText("work"),
        (_, "emails", Some("primary")) => Column::ConstantTrue,
        (_, "phoneNumbers", Some("value")) => Column::Text(TextColumn::Phone),
        (_, "phoneNumbers", Some("type")) => Column::PhoneType,
        (_, "phoneNumbers", Some("primary")) => Column::PhonePrimary,
        (_, "name", Some("givenName")) => Column::Text(TextColumn::GivenName),
        (_, "name", Some("familyName")) => Column::Text(TextColumn::FamilyName),
        (_, "displayName", None) => Column::Text(TextColumn::DisplayName),
        (_, "title", None) => Column::Text(TextColumn::Title),
        (_, "active", None) => Column::Active,
        (_, "meta", Some("created")) => Column::Time(TimeColumn::Created),
        (_, "meta", Some("lastModified")) => Column::Time(TimeColumn::LastModified),
        (_, "meta", Some("resourceType")) => Column::ConstantText("User"),
        _ => return Err(unsupported(&attr.to_string())),
    };
    Ok(column)
}

/// A text column as a nullable SQL expression.
fn text_expr(
    column: TextColumn,
) -> Box<dyn BoxableExpression<employees::table, Db, SqlType = Nullable<Text>>> {
    use employees::dsl as e;
    match column {
        TextColumn::Id => Box::new(e::id.nullable()),
        TextColumn::Email => Box::new(e::email.nullable()),
        TextColumn::EmailKey => Box::new(e::email_key.nullable()),
        TextColumn::ExternalId => Box::new(e::external_id),
        TextColumn::GivenName => Box::new(e::given_name),
        TextColumn::FamilyName => Box::new(e::family_name),
        TextColumn::DisplayName => Box::new(e::display_name),
        TextColumn::Title => Box::new(e::title),
        TextColumn::Phone => Box::new(e::phone),
        TextColumn::Department => Box::new(e::department),
        TextColumn::EmployeeNumber => Box::new(e::employee_number),
        TextColumn::ManagerId => Box::new(e::manager_id),
    }
}

fn time_expr(
    column: TimeColumn,
) -> Box<dyn BoxableExpression<employees::table, Db, SqlType = Timestamp>> {
    match column {
        TimeColumn::Created => Box::new(employees::created_at),
        TimeColumn::LastModified => Box::new(employees::updated_at),
    }
}

fn constant(value: bool) -> Condition {
    Box::new(value.into_sql::<Bool>())
}

/// Empty stored text is treated as absent, as the SCIM mapping omits it.
fn present_text(column: TextColumn) -> Condition {
    Box::new(
        text_expr(column)
            .is_not_null()
            .and(text_expr(column).ne(""))
            .assume_not_null(),
    )
}

/// Translates a validated expression to a two-valued SQL condition.
pub(super) fn translate(expr: &Expr) -> Result<Condition> {
    Ok(match expr {
        Expr::And(terms) => {
            let mut conditions = terms.iter().map(translate);
            let first = conditions
                .next()
                .transpose()?
                .unwrap_or_else(|| constant(true));
            conditions.try_fold(first, |acc, next| {
                Ok::<_, Error>(Box::new(acc.and(next?)) as Condition)
            })?
        }
        Expr::Or(terms) => {
            let mut conditions = terms.iter().map(translate);
            let first = conditions
                .next()
                .transpose()?
                .unwrap_or_else(|| constant(false));
            conditions.try_fold(first, |acc, next| {
                Ok::<_, Error>(Box::new(acc.or(next?)) as Condition)
            })?
        }
        Expr::Not(inner) => Box::new(not(translate(inner)?)),
        // Every multi-valued attribute served has at most one value per user, so "some
        // value satisfies the inner filter" is the inner filter on that value.
        Expr::ValuePath { filter, .. } => translate(filter)?,
        Expr::Present(attr) => present(attr)?,
        Expr::Compare { attr, op, value } => compare(attr, *op, value)?,
    })
}

fn present(attr: &ResolvedAttribute) -> Result<Condition> {
    if attr.sub_attribute.is_none() && attr.attribute.is_complex() {
        // A complex attribute is present when one of its translatable parts is.
        return Ok(match (attr.schema.id, attr.attribute.name) {
            (urn::ENTERPRISE_USER, "manager") => present_text(TextColumn::ManagerId),
            (_, "emails") | (_, "meta") => constant(true),
            (_, "phoneNumbers") => present_text(TextColumn::Phone),
            (_, "name") => Box::new(
                present_text(TextColumn::GivenName).or(present_text(TextColumn::FamilyName)),
            ),
            _ => return Err(unsupported(&attr.to_string())),
        });
    }
    Ok(match column_of(attr)? {
        Column::Text(column) => present_text(column),
        Column::PhoneType | Column::PhonePrimary => present_text(TextColumn::Phone),
        Column::Time(_) | Column::Active | Column::ConstantText(_) | Column::ConstantTrue => {
            constant(true)
        }
    })
}

fn compare(attr: &ResolvedAttribute, op: CompareOp, value: &TypedValue) -> Result<Condition> {
    let def: &AttributeDef = attr.target();
    match (column_of(attr)?, value) {
        (Column::Text(column), TypedValue::String(text)) => {
            let (column, fold) = match (column, def.case_exact) {
                // The email's folded copy is indexed: case-insensitive look-ups use it.
                (TextColumn::EmailKey, true) => (TextColumn::Email, false),
                (TextColumn::EmailKey, false) => (TextColumn::EmailKey, false),
                (column, case_exact) => (column, !case_exact),
            };
            let needle = if def.case_exact {
                text.as_str().to_owned()
            } else {
                text.as_str().to_lowercase()
            };
            Ok(compare_text(column, fold, op, needle))
        }
        (Column::PhoneType, TypedValue::String(text)) => {
            let holds = compare_constant("work", text.as_str(), def.case_exact, op);
            Ok(if holds {
                present_text(TextColumn::Phone)
            } else {
                constant(false)
            })
        }
        (Column::ConstantText(stored), TypedValue::String(text)) => Ok(constant(compare_constant(
            stored,
            text.as_str(),
            def.case_exact,
            op,
        ))),
        (Column::PhonePrimary, TypedValue::Boolean(b)) => {
            // The one number a user may have is primary: `eq true` and `ne false` hold
            // exactly for users with a phone, anything else for nobody.
            let holds = match op {
                CompareOp::Eq => *b,
                CompareOp::Ne => !*b,
                _ => false,
            };
            Ok(if holds {
                present_text(TextColumn::Phone)
            } else {
                constant(false)
            })
        }
        (Column::ConstantTrue, TypedValue::Boolean(b)) => Ok(constant(match op {
            CompareOp::Eq => *b,
            CompareOp::Ne => !*b,
            _ => false,
        })),
        (Column::Active, TypedValue::Boolean(b)) => Ok(match op {
            CompareOp::Eq => Box::new(employees::active.eq(*b)),
            CompareOp::Ne => Box::new(employees::active.ne(*b)),
            _ => constant(false),
        }),
        (Column::Time(column), TypedValue::DateTime(at)) => Ok(compare_time(column, op, *at)),
        _ => Err(unsupported(&attr.to_string())),
    }
}

fn compare_constant(stored: &str, value: &str, case_exact: bool, op: CompareOp) -> bool {
    let (stored, value) = if case_exact {
        (stored.to_owned(), value.to_owned())
    } else {
        (stored.to_lowercase(), value.to_lowercase())
    };
    match op {
        CompareOp::Eq => stored == value,
        CompareOp::Ne => stored != value,
        CompareOp::Co => stored.contains(&value),
        CompareOp::Sw => stored.starts_with(&value),
        CompareOp::Ew => stored.ends_with(&value),
        CompareOp::Gt => stored > value,
        CompareOp::Ge => stored >= value,
        CompareOp::Lt => stored < value,
        CompareOp::Le => stored <= value,
    }
}

fn compare_text(column: TextColumn, fold: bool, op: CompareOp, needle: String) -> Condition {
    let stored = || -> Box<dyn BoxableExpression<employees::table, Db, SqlType = Text>> {
        let raw = text_expr(column).assume_not_null();
        if fold {
            Box::new(spark_fold(raw))
        } else {
            Box::new(raw)
        }
    };
    let key = || spark_order_key(needle.clone());
    let holds: Condition = match op {
        CompareOp::Eq => Box::new(stored().eq(needle.clone())),
        CompareOp::Ne => Box::new(stored().ne(needle.clone())),
        CompareOp::Co => Box::new(spark_contains(stored(), needle.clone())),
        CompareOp::Sw => Box::new(spark_starts_with(stored(), needle.clone())),
        CompareOp::Ew => Box::new(spark_ends_with(stored(), needle.clone())),
        CompareOp::Gt => Box::new(spark_order_key(stored()).gt(key())),
        CompareOp::Ge => Box::new(spark_order_key(stored()).ge(key())),
        CompareOp::Lt => Box::new(spark_order_key(stored()).lt(key())),
        CompareOp::Le => Box::new(spark_order_key(stored()).le(key())),
    };
    // Absent (NULL or empty) values match nothing, `ne` included.
    Box::new(present_text(column).and(holds))
}

/// Date-time comparisons at the columns' microsecond precision: a filter instant finer
/// than that is rounded so that the comparison means what it says.
fn compare_time(column: TimeColumn, op: CompareOp, at: DateTime<Utc>) -> Condition {
    let exact = at.naive_utc();
    let floor: NaiveDateTime = at.naive_utc().trunc_subsecs(6);
    let aligned = exact == floor;
    let stored = || time_expr(column);
    let instant = || instant_literal(floor);
    match op {
        CompareOp::Eq if aligned => Box::new(stored().eq(instant())),
        CompareOp::Eq => constant(false),
        CompareOp::Ne if aligned => Box::new(stored().ne(instant())),
        CompareOp::Ne => constant(true),
        CompareOp::Gt => Box::new(stored().gt(instant())),
        CompareOp::Ge if aligned => Box::new(stored().ge(instant())),
        CompareOp::Ge => Box::new(stored().gt(instant())),
        CompareOp::Lt if aligned => Box::new(stored().lt(instant())),
        CompareOp::Lt => Box::new(stored().le(instant())),
        CompareOp::Le => Box::new(stored().le(instant())),
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => constant(false),
    }
}

/// An instant written into the SQL rather than bound, so that the database plans the
/// query for it. Okta's incremental import asks for `meta.lastModified gt` its last run:
/// planned for that instant, the `(tenant_id, updated_at)` index finds the few rows
/// changed since; planned for "some instant" (a bound parameter, which PostgreSQL plans
/// generically on these connections, see `connection::postgres_connection`), the
/// planner expects a third of the directory to match and walks all of it in id order.
/// The text is the format diesel stores on SQLite (`%F %T%.f`, compared as text there)
/// and a timestamp literal on PostgreSQL; it holds digits and separators only.
fn instant_literal(at: NaiveDateTime) -> diesel::expression::SqlLiteral<Timestamp> {
    diesel::dsl::sql::<Timestamp>(&format!("'{}'", at.format("%F %T%.f")))
}
/// `query` narrowed by a SCIM filter, kept as a prepared statement only when the filter
/// is one of the few shapes worth it ([`worth_preparing`]).
pub(super) fn filtered(
    query: employees::BoxedQuery<'static, Db>,
    filter: &Expr,
    order: UserOrder,
) -> Result<employees::BoxedQuery<'static, Db>> {
    let query = query.filter(translate(filter)?);
    Ok(if worth_preparing(filter, order) {
        query
    } else {
        // A literal makes diesel run the statement once instead of caching it.
        query.filter(diesel::dsl::sql::<Bool>("TRUE"))
    })
}

/// Whether a filtered query is kept as a prepared statement on its connection: only a
/// single equality test (Okta's look-ups by `userName`, `externalId`, `id`, `emails`) in
/// the id order. Everything else runs as a one-shot statement, for two reasons:
///
/// - Bounded memory. Diesel caches a boxed query by its SQL text, so every new filter
///   shape (`a or b`, `a or b or c`, …) would add a statement to each connection — on
///   the client and in the PostgreSQL backend — for as long as the connection lives.
///   With this rule the cache holds at most one statement per attribute and paging
///   form, however many shapes clients send.
/// - Plans that suit. The connection plans statements generically (see
///   `connection::postgres_connection`), which suits equality tests and costs nothing
///   more for a one-shot statement; instants are written into the SQL, so a
///   `meta.lastModified gt` filter is planned for its instant (see [`instant_literal`]).
pub(super) fn worth_preparing(filter: &Expr, order: UserOrder) -> bool {
    order == UserOrder::Id
        && match filter {
            Expr::Compare { op, .. } => *op == CompareOp::Eq,
            // `emails[value eq "…"]` is the same SQL as `emails.value eq "…"`.
            Expr::ValuePath { filter, .. } => worth_preparing(filter, order),
            _ => false,
        }
}

#[cfg(test)]
mod tests {
    use diesel::pg::Pg;
    use diesel::query_builder::QueryFragment;
    use scim_filter::ValidatedFilter;
    use scim_model::USER_RESOURCE;

    use super::*;
    use crate::ids::TenantId;
    use crate::scim_users::query::SortDirection;
    use crate::scim_users::rows::tenant_users;

    /// Whether diesel keeps the query as a prepared statement (which PostgreSQL then
    /// plans generically) or runs it once (planned for its values).
    fn cached(filter: &str, order: UserOrder) -> bool {
        let filter = ValidatedFilter::parse(filter, &USER_RESOURCE).unwrap();
        let tenant = TenantId("t".into());
        let query = filtered(tenant_users(&tenant), filter.expr(), order).unwrap();
        QueryFragment::<Db>::is_safe_to_cache_prepared(&query, &Db::Postgresql(Pg)).unwrap()
    }

    #[test]
    fn only_single_equality_tests_in_id_order_are_prepared() {
        let id = UserOrder::Id;
        assert!(cached(r#"userName eq "ada@acme.com""#, id));
        assert!(cached(r#"externalId eq "x""#, id));
        assert!(cached(r#"emails[value eq "ada@acme.com"]"#, id));
        assert!(!cached(
            r#"meta.lastModified gt "2026-01-01T00:00:00Z""#,
            id
        ));
        assert!(!cached(r#"externalId eq "x" or emails.value pr"#, id));
        assert!(!cached(r#"active eq true and not (title le "m")"#, id));
        assert!(!cached(r#"emails[value eq "a" or value ge "b"]"#, id));
        let sorted = UserOrder::By(SortKey::GivenName, SortDirection::Ascending);
        assert!(!cached(r#"userName eq "ada@acme.com""#, sorted));
    }
}
