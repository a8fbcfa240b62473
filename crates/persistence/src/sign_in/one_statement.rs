//! Sign-in steps that PostgreSQL does in one statement where SQLite needs a transaction:
//! data-modifying `WITH` queries, which SQLite does not have. The SQL lives in `sql/`, read
//! as SQL; each statement here binds its parameters into it. Each is a static query
//! fragment, so diesel prepares it once per connection and PostgreSQL plans it once (a
//! `sql_query` would be parsed and planned on every call, which costs what the saved
//! round trips do). The SQLite path runs the equivalent diesel statements in a
//! transaction; the sign-in tests run both, and compare what the two paths write.

use std::sync::LazyLock;

use chrono::NaiveDateTime;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Nullable, Text, Timestamp};
use diesel::{PgConnection, QueryResult, RunQueryDsl};

/// A statement of `sql/`: its text cut at each parameter (`$1`, `$2`, …), once. Each
/// piece is the SQL before a parameter and that parameter's number (none after the last).
type Pieces = Vec<(&'static str, Option<usize>)>;

/// Cuts `sql` at its parameters. A `$` not followed by a digit is left in the text.
fn pieces(sql: &'static str) -> Pieces {
    let mut pieces = Vec::new();
    let mut rest = sql;
    let mut from = 0;
    while let Some(at) = rest[from..].find('$').map(|at| at + from) {
        let digits = rest[at + 1..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        match rest[at + 1..at + 1 + digits].parse::<usize>() {
            Ok(number) => {
                pieces.push((&rest[..at], Some(number)));
                rest = &rest[at + 1 + digits..];
                from = 0;
            }
            Err(_) => from = at + 1,
        }
    }
    pieces.push((rest, None));
    pieces
}

/// Writes a statement of `sql/`, binding parameter `n` with `bind(n, out)` wherever the
/// text names it (diesel numbers the binds anew, in order).
fn walk_pieces<'b>(
    pieces: &'static Pieces,
    mut out: AstPass<'_, 'b, Pg>,
    mut bind: impl FnMut(usize, &mut AstPass<'_, 'b, Pg>) -> QueryResult<()>,
) -> QueryResult<()> {
    for (sql, parameter) in pieces {
        out.push_sql(sql);
        if let Some(number) = parameter {
            bind(*number, &mut out)?;
        }
    }
    Ok(())
}

/// A parameter number the statement's text names but the statement does not bind.
fn unknown_parameter(number: usize) -> diesel::result::Error {
    diesel::result::Error::QueryBuilderError(format!("no parameter ${number} here").into())
}

static REDEEM_CODE: LazyLock<Pieces> =
    LazyLock::new(|| pieces(include_str!("sql/redeem_code.sql")));
static SIGN_IN_LINKED: LazyLock<Pieces> =
    LazyLock::new(|| pieces(include_str!("sql/sign_in_linked.sql")));

/// Marks a fresh code of `purpose` used — only while its employee is active, and when it
/// is bound to a browser only for that browser — and inserts the session from the code
/// so marked; yields the code's row (none when nothing was marked). Atomic: one
/// statement (`sql/redeem_code.sql`).
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
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        walk_pieces(&REDEEM_CODE, out, |number, out| match number {
            1 => out.push_bind_param::<Timestamp, _>(&self.now),
            2 => out.push_bind_param::<Text, _>(&self.code_hash),
            3 => out.push_bind_param::<Text, _>(&self.tenant_id),
            4 => out.push_bind_param::<Text, _>(&self.purpose),
            5 => out.push_bind_param::<Nullable<Text>, _>(&self.browser_binding),
            6 => out.push_bind_param::<Text, _>(&self.token_hash),
            7 => out.push_bind_param::<Text, _>(&self.auth_method),
            8 => out.push_bind_param::<Text, _>(&self.csrf_token),
            9 => out.push_bind_param::<Timestamp, _>(&self.created_at),
            10 => out.push_bind_param::<Timestamp, _>(&self.last_seen_at),
            11 => out.push_bind_param::<Timestamp, _>(&self.expires_at),
            other => Err(unknown_parameter(other)),
        })
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

/// A sign-in by an already linked Okta identity: yields the employee it is linked to
/// (none when the identity is not linked yet), and — only if that employee is active —
/// records the sign-in time on the link and stores the session hand-off code, bound to
/// the browser that signed in. Atomic: one statement (`sql/sign_in_linked.sql`).
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
    fn walk_ast<'b>(&'b self, out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        walk_pieces(&SIGN_IN_LINKED, out, |number, out| match number {
            1 => out.push_bind_param::<Text, _>(&self.tenant_id),
            2 => out.push_bind_param::<Text, _>(&self.issuer),
            3 => out.push_bind_param::<Text, _>(&self.subject),
            4 => out.push_bind_param::<Timestamp, _>(&self.now),
            5 => out.push_bind_param::<Text, _>(&self.code_hash),
            6 => out.push_bind_param::<Text, _>(&self.purpose),
            7 => out.push_bind_param::<Nullable<Text>, _>(&self.return_to),
            8 => out.push_bind_param::<Text, _>(&self.created_by_prefix),
            9 => out.push_bind_param::<Timestamp, _>(&self.expires_at),
            10 => out.push_bind_param::<Text, _>(&self.browser_binding),
            other => Err(unknown_parameter(other)),
        })
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

    /// The column list diesel selects for `query`'s rows, unqualified.
    fn columns(query: &impl QueryFragment<Pg>, table: &str) -> String {
        let sql = diesel::debug_query::<Pg, _>(query).to_string();
        let list = sql
            .trim_start_matches("SELECT ")
            .split(" FROM ")
            .next()
            .unwrap_or_default();
        list.replace(&format!("\"{table}\"."), "")
    }

    /// Whitespace as one space, for comparing SQL laid out over lines.
    fn flat(sql: &str) -> String {
        sql.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// The statements yield their rows in the order the row structs read them.
    #[test]
    fn the_statements_yield_the_rows_the_structs_read() {
        let code = columns(
            &one_time_codes::table.select(CodeRow::as_select()),
            "one_time_codes",
        );
        let employee = columns(
            &employees::table.select(EmployeeRow::as_select()),
            "employees",
        );
        let redeem = flat(include_str!("sql/redeem_code.sql"));
        assert!(
            redeem.ends_with(&format!("SELECT {code} FROM used")),
            "{redeem}"
        );
        let linked = flat(include_str!("sql/sign_in_linked.sql"));
        assert!(
            linked.ends_with(&format!("SELECT {employee} FROM linked")),
            "{linked}"
        );
        assert!(
            linked.contains(&format!("INSERT INTO one_time_codes ({code})")),
            "{linked}"
        );
    }

    #[test]
    fn statements_are_cut_at_their_parameters() {
        let cut = pieces("SELECT $1, $12 || '$x', $1 FROM t");
        assert_eq!(
            cut,
            [
                ("SELECT ", Some(1)),
                (", ", Some(12)),
                (" || '$x', ", Some(1)),
                (" FROM t", None)
            ]
        );
        let numbers = |pieces: &Pieces| {
            let mut found: Vec<usize> = pieces.iter().filter_map(|(_, n)| *n).collect();
            found.sort_unstable();
            found.dedup();
            found
        };
        assert_eq!(numbers(&REDEEM_CODE), (1..=11).collect::<Vec<_>>());
        assert_eq!(numbers(&SIGN_IN_LINKED), (1..=10).collect::<Vec<_>>());
    }
}
