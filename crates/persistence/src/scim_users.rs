//! Employees as SCIM Users: validated scim-filter expressions translated to SQL, sorting,
//! and pages that never skip or repeat — by offset, or after a known id (keyset), which
//! costs the same on the last page as on the first.
//!
//! The translation reproduces scim-filter's in-memory semantics exactly (a test compares
//! the two on both backends): absent values match no comparison, `not` is two-valued,
//! strings honour `caseExact` through `spark_fold`, substring tests and string order use
//! the `spark_*` functions (see `sql_functions`), and date-times compare as instants at
//! the columns' microsecond precision.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};
use diesel::dsl::not;
use diesel::expression::{AppearsOnTable, BoxableExpression, SelectableExpression, ValidGrouping};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Bool, Nullable, Text, Timestamp};
use scim_filter::{CompareOp, Expr, TypedValue};
use scim_model::{AttributeDef, EmployeeRecord, ManagerRef, ResolvedAttribute, urn};

use crate::clock;
use crate::connection::DbConnection;
use crate::employees::Employees;
use crate::error::{Error, Result};
use crate::ids::TenantId;
use crate::integration::{IntegrationRow, OktaIntegration};
use crate::names::{IdAndNames, display_name_of};
use crate::schema::employees;
use crate::scim_positions::{NextPosition, kept_after_page};
use crate::scim_tokens::TokenRow;
use crate::sql_functions::{
    spark_contains, spark_ends_with, spark_fold, spark_order_key, spark_sort_key, spark_starts_with,
};
use crate::tenants::{Tenant, TenantRow};
use token_store::{StoredToken, TokenHash};

type Db = <DbConnection as diesel::Connection>::Backend;
type Condition = Box<dyn BoxableExpression<employees::table, Db, SqlType = Bool>>;

/// How to order a page of users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserOrder {
    /// By id: the default, stable, and the one keyset paging follows.
    #[default]
    Id,
    /// By an attribute (`sortBy`), then by id; absent values last.
    By(SortKey, SortDirection),
}

/// The attributes users can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// `userName` / `emails.value` (case-insensitive).
    UserName,
    /// `name.givenName`.
    GivenName,
    /// `name.familyName`.
    FamilyName,
    /// `displayName`.
    DisplayName,
    /// `title`.
    Title,
    /// enterprise `department`.
    Department,
    /// enterprise `employeeNumber`.
    EmployeeNumber,
    /// `meta.created`.
    Created,
    /// `meta.lastModified`.
    LastModified,
    /// `active`.
    Active,
    /// `externalId`.
    ExternalId,
}

/// `ascending` or `descending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortDirection {
    /// Smallest first (the SCIM default).
    #[default]
    Ascending,
    /// Largest first.
    Descending,
}

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageStart {
    /// Skip this many matching users (`startIndex - 1`).
    Offset(u64),
    /// The users after this id, in id order (only with [`UserOrder::Id`]).
    AfterId(String),
    /// The page at this 1-based `startIndex` of a walk in id order (`walk` names the
    /// query: filter and order). It continues where the page before it ended: from
    /// `known_after` when the caller remembers that (the same process served the page
    /// before), else from where any replica's page before it ended a little earlier (see
    /// `scim_positions`), else by skipping. In another order, the same as `Offset`.
    ///
    /// Where the next page starts is written to the database for whichever replica
    /// serves it — unless the caller remembered this page's start: then the walk stays
    /// with the caller, whose own memory serves the next page, and the database's
    /// position is moved on only if the walk went on elsewhere in between
    /// (`went_elsewhere`).
    Index {
        /// The 1-based index of the page's first user.
        start_index: u64,
        /// What identifies the walk's query.
        walk: String,
        /// The id the page starts after, as the caller remembers it.
        known_after: Option<String>,
        /// Whether the walk moved forward on other replicas since the last page of it the
        /// caller served: the caller's position for this page (from an earlier walk) is
        /// still right, but the database must hear where the walk goes next.
        went_elsewhere: bool,
    },
}

/// Where a `startIndex` page started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resumed {
    /// By skipping rows (OFFSET): the first page, or nobody remembered this one.
    No,
    /// From the position the caller remembered.
    FromCaller,
    /// From the position the database kept (another replica, or this one before a
    /// restart, served the page before).
    FromDatabase,
}

/// One page of a user query.
#[derive(Debug, Clone)]
pub struct UserPage {
    /// How many users match the filter in all.
    pub total: u64,
    /// Whether `total` was counted (rather than given, or told by a page that ends the
    /// results): worth remembering.
    pub counted: bool,
    /// Where a `startIndex` page started.
    pub resumed: Resumed,
    /// Where the next page of a `startIndex` walk starts — its `startIndex` and the id
    /// it starts after — when this page was full: for the caller to remember.
    pub next: Option<(u64, String)>,
    /// For a page the caller remembered after the walk went elsewhere
    /// (`went_elsewhere`): whether the database's position was this page's and now
    /// points at the next — the walk goes through other replicas. `Some(false)`: no
    /// replica is walking it through the database, so the caller need not try again.
    pub followed_elsewhere: Option<bool>,
    /// The page, in order.
    pub users: Vec<EmployeeRecord>,
}

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
fn translate(expr: &Expr) -> Result<Condition> {
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

fn tenant_users(tenant: &TenantId) -> employees::BoxedQuery<'static, Db> {
    employees::table
        .filter(employees::tenant_id.eq(tenant.as_str().to_owned()))
        .into_boxed()
}

// The employees again, as the managers of a page's employees.
diesel::alias! {
    const MANAGERS: Alias<ManagersAlias> = employees as managers;
}

/// A manager's names: display, given, family.
type NameRow = (Option<String>, Option<String>, Option<String>);

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

/// The columns of an employee a SCIM user shows.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = employees)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct ScimUserRow {
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
    manager_id: Option<String>,
    active: bool,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    version: i64,
}

impl ScimUserRow {
    fn into_record(self, manager_name: Option<String>) -> EmployeeRecord {
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

/// `query` narrowed by a SCIM filter, kept as a prepared statement only when the filter
/// is one of the few shapes worth it ([`worth_preparing`]).
fn filtered(
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
fn worth_preparing(filter: &Expr, order: UserOrder) -> bool {
    order == UserOrder::Id
        && match filter {
            Expr::Compare { op, .. } => *op == CompareOp::Eq,
            // `emails[value eq "…"]` is the same SQL as `emails.value eq "…"`.
            Expr::ValuePath { filter, .. } => worth_preparing(filter, order),
            _ => false,
        }
}

impl Employees<'_> {
    /// One page of the tenant's employees as SCIM user records: those matching `filter`
    /// (all when `None`), in `order`, from `start`, at most `limit`. `known_total` skips
    /// counting when the caller knows the count for this filter at the tenant's current
    /// directory version (counting is the one part that grows with the directory).
    pub fn scim_users(
        &self,
        tenant: &TenantId,
        filter: Option<&Expr>,
        order: UserOrder,
        start: &PageStart,
        limit: u64,
        known_total: Option<u64>,
    ) -> Result<UserPage> {
        let mut conn = self.db.conn()?;
        let conn = &mut *conn;
        if let PageStart::Index {
            start_index,
            walk,
            known_after,
            went_elsewhere,
        } = start
        {
            let now = clock::now();
            let offset = start_index.saturating_sub(1);
            // Where the next page starts, if this one is full: kept in the database for
            // whichever replica serves it — by the page's own statement where it can —
            // unless the walk stays with the caller (it remembered this page's start).
            let next_index = start_index.saturating_add(limit);
            let next_position = NextPosition::new(tenant, walk, next_index, now);
            let keep = (order == UserOrder::Id).then_some(&next_position);
            let by_skipping = |conn: &mut DbConnection| {
                let skipping = PageStart::Offset(offset);
                page_in(
                    conn,
                    tenant,
                    filter,
                    order,
                    &skipping,
                    limit,
                    known_total,
                    keep,
                )
                .map(|(page, kept)| (page, kept, Resumed::No))
            };
            let (mut page, kept, resumed) = match (order, known_after) {
                (UserOrder::Id, Some(after)) => {
                    let from = PageStart::AfterId(after.clone());
                    let (page, _) =
                        page_in(conn, tenant, filter, order, &from, limit, known_total, None)?;
                    (page, false, Resumed::FromCaller)
                }
                (UserOrder::Id, None) if offset > 0 => {
                    // From where another replica's page before it ended, read by the
                    // page's own query; no rows means nobody kept it (or the walk is past
                    // its end), and skipping tells which.
                    let (users, kept) = users_in(conn, tenant, filter, order, start, limit, keep)?;
                    if users.is_empty() {
                        by_skipping(conn)?
                    } else {
                        let page =
                            with_total(conn, tenant, filter, start, limit, known_total, users)?;
                        (page, kept, Resumed::FromDatabase)
                    }
                }
                _ => by_skipping(conn)?,
            };
            page.resumed = resumed;
            // Only a full page has a next one: a look-up (`userName eq`, one user in a
            // page of 100) or a walk's last page remembers nothing.
            let full = page.users.len() as u64 == limit;
            if let (UserOrder::Id, Some(last), true) = (order, page.users.last(), full) {
                // A walk that came back to the caller from other replicas moves the
                // database's position on only if it was this page's. A cache: a failed
                // write only costs the next page its keyset start.
                match (resumed, went_elsewhere) {
                    (Resumed::FromCaller, false) => {}
                    (Resumed::FromCaller, true) => {
                        page.followed_elsewhere = crate::scim_positions::advance(
                            conn,
                            tenant,
                            walk,
                            *start_index,
                            next_index,
                            &last.id,
                            now,
                        )
                        .ok();
                    }
                    _ if kept => {}
                    _ => {
                        let _ = next_position.keep(conn, &last.id);
                    }
                }
                page.next = Some((next_index, last.id.clone()));
            }
            return Ok(page);
        }
        let (page, _) = page_in(conn, tenant, filter, order, start, limit, known_total, None)?;
        Ok(page)
    }

    /// One employee as a SCIM user record, if it belongs to the tenant.
    pub fn scim_user(&self, tenant: &TenantId, id: &str) -> Result<Option<EmployeeRecord>> {
        let mut conn = self.db.conn()?;
        let conn = &mut *conn;
        let rows: Vec<ScimUserRow> = tenant_users(tenant)
            .filter(employees::id.eq(id.to_owned()))
            .select(ScimUserRow::as_select())
            .load(conn)?;
        Ok(with_managers(conn, tenant, rows)?.into_iter().next())
    }
}

/// A filter [`Condition`] over the employees, in a query that joins them with other
/// tables: the condition names employees' columns only, so it holds wherever the
/// employees table is joined in (the bound on `QS` asks that it is). Shared, because a
/// join's condition must be `Clone`.
#[derive(Clone)]
struct OnEmployees(std::rc::Rc<Condition>);

impl Expression for OnEmployees {
    type SqlType = Bool;
}

impl<QS> AppearsOnTable<QS> for OnEmployees where employees::id: AppearsOnTable<QS> {}

impl<QS> SelectableExpression<QS> for OnEmployees where employees::id: SelectableExpression<QS> {}

impl ValidGrouping<()> for OnEmployees {
    type IsAggregate = diesel::expression::is_aggregate::No;
}

impl QueryId for OnEmployees {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Db> for OnEmployees {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Db>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, backend: &Db) -> QueryResult<bool> {
        self.0.is_safe_to_cache_prepared(backend)
    }
}

/// What [`Employees::scim_lookup`] found: the caller's side — the workspace's tenant,
/// its integration and its token with the presented hash, for the caller to judge
/// (`token_store::scim::check`) — and the look-up's page, read only for a live token.
#[derive(Debug)]
pub struct ScimLookup {
    /// The workspace's tenant.
    pub tenant: Tenant,
    /// Its Okta integration.
    pub okta: OktaIntegration,
    /// The tenant's token with the presented hash, if there is one.
    pub token: Option<StoredToken>,
    /// The first page of the users the filter matches, in id order: empty unless the
    /// token is stored and not revoked.
    pub page: UserPage,
}

impl Employees<'_> {
    /// Okta's look-up (`filter=userName eq "…"`, or any filter) and the caller's
    /// credentials in one statement — the first page, in id order — where checking the
    /// token first and then reading the users would take two round trips. `None` when no
    /// tenant has this workspace name. The token is only fetched here: the caller judges
    /// it, and uses the page only if it lets the caller in.
    pub fn scim_lookup(
        &self,
        workspace: &str,
        hash: &TokenHash,
        filter: &Expr,
        limit: u64,
    ) -> Result<Option<ScimLookup>> {
        use crate::schema::{okta_integrations, scim_tokens, tenants};
        let slug = workspace.trim().to_ascii_lowercase();
        let matches = OnEmployees(std::rc::Rc::new(translate(filter)?));
        // One row per matching user, or one with no user: the workspace's tenant, and
        // its token with this hash if any; its users only with a live token.
        let mut query = tenants::table
            .inner_join(okta_integrations::table)
            .left_join(
                scim_tokens::table.on(scim_tokens::tenant_id
                    .eq(tenants::id)
                    .and(scim_tokens::token_hash.eq(hash.to_hex()))),
            )
            .left_join(
                employees::table.on(employees::tenant_id
                    .eq(tenants::id)
                    .and(scim_tokens::id.is_not_null())
                    .and(scim_tokens::revoked_at.is_null())
                    .and(matches)),
            )
            .left_join(MANAGERS.on(managing!()))
            .filter(tenants::workspace.eq(slug))
            .select((
                TenantRow::as_select(),
                IntegrationRow::as_select(),
                Option::<TokenRow>::as_select(),
                Option::<ScimUserRow>::as_select(),
                manager_names!(),
            ))
            // Boxed, like the filter inside it: the two-backend connection takes it.
            .into_boxed()
            .order(employees::id.nullable().asc())
            // At least one row, so that `count=0` still finds the caller.
            .limit(i64::try_from(limit.max(1)).unwrap_or(i64::MAX));
        if !worth_preparing(filter, UserOrder::Id) {
            query = query.filter(diesel::dsl::sql::<Bool>("TRUE"));
        }
        let mut conn = self.db.conn()?;
        let conn = &mut *conn;
        type Row = (
            TenantRow,
            IntegrationRow,
            Option<TokenRow>,
            Option<ScimUserRow>,
            Option<NameRow>,
        );
        let mut caller = None;
        let mut users = Vec::new();
        for (tenant, okta, token, user, manager) in query.load::<Row>(conn)? {
            caller.get_or_insert((tenant, okta, token));
            if let Some(user) = user {
                let manager_name = manager
                    .and_then(|(display, given, family)| display_name_of(display, given, family));
                users.push(user.into_record(manager_name));
            }
        }
        let Some((tenant, okta, token)) = caller else {
            return Ok(None);
        };
        let tenant = Tenant::from(tenant);
        users.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        // A first page that is not full ends the results: its count needs no statement.
        let first = PageStart::Offset(0);
        let page = with_total(conn, &tenant.id, Some(filter), &first, limit, None, users)?;
        Ok(Some(ScimLookup {
            tenant,
            okta: okta.into(),
            token: token.map(TokenRow::into_stored).transpose()?,
            page,
        }))
    }
}

/// [`Employees::scim_users`] from a start that is an offset or an id, on a connection:
/// the page first, then — only when the page cannot tell — the count; and whether the
/// page's statement kept `keep` (see [`users_in`]).
#[allow(clippy::too_many_arguments)]
fn page_in(
    conn: &mut DbConnection,
    tenant: &TenantId,
    filter: Option<&Expr>,
    order: UserOrder,
    start: &PageStart,
    limit: u64,
    known_total: Option<u64>,
    keep: Option<&NextPosition>,
) -> Result<(UserPage, bool)> {
    let (users, kept) = users_in(conn, tenant, filter, order, start, limit, keep)?;
    let page = with_total(conn, tenant, filter, start, limit, known_total, users)?;
    Ok((page, kept))
}

/// A page of `users` read from `start`, with the count of all that match: given, told by
/// the page itself, or counted.
fn with_total(
    conn: &mut DbConnection,
    tenant: &TenantId,
    filter: Option<&Expr>,
    start: &PageStart,
    limit: u64,
    known_total: Option<u64>,
    users: Vec<EmployeeRecord>,
) -> Result<UserPage> {
    let served = users.len() as u64;
    let (total, counted) = match (known_total, start) {
        (Some(total), _) => (total, false),
        // A page that starts at an offset inside the results and is not full ends them:
        // the count is the offset plus the page (a look-up by userName is such a page).
        (None, PageStart::Offset(offset)) if served < limit && (served > 0 || *offset == 0) => {
            (offset + served, false)
        }
        (None, _) => {
            let mut count = tenant_users(tenant);
            if let Some(filter) = filter {
                count = filtered(count, filter, UserOrder::Id)?;
            }
            let total: i64 = count.count().get_result(conn)?;
            (u64::try_from(total).unwrap_or_default(), true)
        }
    };
    Ok(UserPage {
        total,
        counted,
        resumed: Resumed::No,
        next: None,
        followed_elsewhere: None,
        users,
    })
}

/// The users of one page, and whether its statement also kept `keep`, where the walk's
/// next page starts (Okta's walk on PostgreSQL: see [`NextPosition::kept_by`]).
fn users_in(
    conn: &mut DbConnection,
    tenant: &TenantId,
    filter: Option<&Expr>,
    order: UserOrder,
    start: &PageStart,
    limit: u64,
    keep: Option<&NextPosition>,
) -> Result<(Vec<EmployeeRecord>, bool)> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    // Okta's import walk — no filter, id order, from the start or after the last id
    // of the previous page — as static queries that bring each manager's name along
    // (one round trip); both backends reuse their prepared statements (a boxed query
    // is compiled to SQL anew on every call).
    if filter.is_none() && matches!(order, UserOrder::Id) {
        let mine = employees::table
            .left_join(MANAGERS.on(managing!()))
            .filter(employees::tenant_id.eq(tenant.as_str()));
        // A macro, not a value: the selection names its backend.
        macro_rules! select {
            () => {
                (ScimUserRow::as_select(), manager_names!())
            };
        }
        // On PostgreSQL the page's statement keeps where the next page starts, too.
        macro_rules! load_keeping {
            ($query:expr) => {{
                match (keep, &mut *conn) {
                    (Some(next), DbConnection::Postgresql(pg)) => Some((
                        next.kept_by($query, limit)
                            .load::<(ScimUserRow, Option<NameRow>)>(pg)?,
                        true,
                    )),
                    (_, conn) => {
                        Some(($query.load::<(ScimUserRow, Option<NameRow>)>(conn)?, false))
                    }
                }
            }};
        }
        let rows = match start {
            PageStart::AfterId(after) => load_keeping!(
                mine.filter(employees::id.gt(after.as_str()))
                    .order(employees::id.asc())
                    .limit(limit)
                    .select(select!())
            ),
            PageStart::Offset(0) => {
                load_keeping!(
                    mine.order(employees::id.asc())
                        .limit(limit)
                        .select(select!())
                )
            }
            PageStart::Index {
                start_index, walk, ..
            } => load_keeping!(
                mine.filter(employees::id.nullable().gt(kept_after_page(
                    tenant,
                    walk,
                    *start_index,
                )))
                .order(employees::id.asc())
                .limit(limit)
                .select(select!())
            ),
            PageStart::Offset(_) => None,
        };
        if let Some((rows, kept)) = rows {
            let users = rows
                .into_iter()
                .map(|(row, manager)| {
                    let manager_name = manager.and_then(|(display, given, family)| {
                        display_name_of(display, given, family)
                    });
                    row.into_record(manager_name)
                })
                .collect();
            return Ok((users, kept));
        }
    }
    let mut page = tenant_users(tenant);
    if let Some(filter) = filter {
        page = filtered(page, filter, order)?;
    }
    page = match order {
        UserOrder::Id => page.order(employees::id.asc()),
        UserOrder::By(key, direction) => sorted(page, key, direction),
    };
    page = match (start, order) {
        (PageStart::AfterId(after), UserOrder::Id) => page.filter(employees::id.gt(after.clone())),
        (PageStart::AfterId(_), UserOrder::By(..)) => {
            return Err(Error::Invalid(
                "keyset paging follows the id order only".into(),
            ));
        }
        (PageStart::Offset(offset), _) => page.offset(i64::try_from(*offset).unwrap_or(i64::MAX)),
        // After where the walk's page before it ended, as any replica kept it.
        (
            PageStart::Index {
                start_index, walk, ..
            },
            UserOrder::Id,
        ) => page.filter(
            employees::id
                .nullable()
                .gt(kept_after_page(tenant, walk, *start_index)),
        ),
        (PageStart::Index { .. }, UserOrder::By(..)) => {
            return Err(Error::Invalid(
                "keyset paging follows the id order only".into(),
            ));
        }
    };
    let rows: Vec<ScimUserRow> = page
        .limit(limit)
        .select(ScimUserRow::as_select())
        .load(conn)?;
    Ok((with_managers(conn, tenant, rows)?, false))
}

fn sorted(
    page: employees::BoxedQuery<'static, Db>,
    key: SortKey,
    direction: SortDirection,
) -> employees::BoxedQuery<'static, Db> {
    use employees::dsl as e;
    let descending = direction == SortDirection::Descending;
    macro_rules! by {
        ($expr:expr, $nullable:expr) => {{
            let page = if $nullable {
                page.order(($expr).is_null().asc())
            } else {
                page.order(e::id.is_null().asc())
            };
            let page = if descending {
                page.then_order_by(($expr).desc())
            } else {
                page.then_order_by(($expr).asc())
            };
            page.then_order_by(e::id.asc())
        }};
    }
    match key {
        SortKey::UserName => by!(spark_order_key(e::email_key), false),
        SortKey::GivenName => by!(spark_sort_key(e::given_name), true),
        SortKey::FamilyName => by!(spark_sort_key(e::family_name), true),
        SortKey::DisplayName => by!(spark_sort_key(e::display_name), true),
        SortKey::Title => by!(spark_sort_key(e::title), true),
        SortKey::Department => by!(spark_sort_key(e::department), true),
        SortKey::EmployeeNumber => by!(spark_sort_key(e::employee_number), true),
        // externalId is case-exact; the id breaks ties either way.
        SortKey::ExternalId => by!(e::external_id, true),
        SortKey::Created => by!(e::created_at, false),
        SortKey::LastModified => by!(e::updated_at, false),
        SortKey::Active => by!(e::active, false),
    }
}

/// Builds the records, looking up the managers' display names in one query.
fn with_managers(
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

#[cfg(test)]
mod tests {
    use diesel::pg::Pg;
    use diesel::query_builder::QueryFragment;
    use scim_filter::ValidatedFilter;
    use scim_model::USER_RESOURCE;

    use super::*;

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
