//! The SQL functions the SCIM filter translation calls. PostgreSQL defines them in a
//! migration (`…_scim_text_functions`); SQLite gets the same semantics from Rust,
//! registered on every connection. Both match scim-filter's in-memory evaluator:
//! Unicode lower-casing, substring tests on characters, code-point (UTF-8 byte) order.

use diesel::sql_types::{Nullable, Text};

diesel::define_sql_function! {
    /// Case-folds text (Unicode lower case), as scim-filter's `fold` does.
    fn spark_fold(value: Text) -> Text;
}
diesel::define_sql_function! {
    /// `haystack` contains `needle`.
    fn spark_contains(haystack: Text, needle: Text) -> Bool;
}
diesel::define_sql_function! {
    /// `haystack` starts with `needle`.
    fn spark_starts_with(haystack: Text, needle: Text) -> Bool;
}
diesel::define_sql_function! {
    /// `haystack` ends with `needle`.
    fn spark_ends_with(haystack: Text, needle: Text) -> Bool;
}
diesel::define_sql_function! {
    /// A key that orders text by code point (its UTF-8 bytes), whatever the collation.
    fn spark_order_key(value: Text) -> Binary;
}

diesel::define_sql_function! {
    /// The sort key of case-insensitive text: the code points of its folded form; absent
    /// text has none.
    fn spark_sort_key(value: Nullable<Text>) -> Nullable<Binary>;
}

/// Registers the functions on a SQLite connection.
pub(crate) fn register_sqlite(conn: &mut diesel::SqliteConnection) -> diesel::QueryResult<()> {
    spark_fold_utils::register_impl(conn, |value: String| value.to_lowercase())?;
    spark_contains_utils::register_impl(conn, |haystack: String, needle: String| {
        haystack.contains(needle.as_str())
    })?;
    spark_starts_with_utils::register_impl(conn, |haystack: String, needle: String| {
        haystack.starts_with(needle.as_str())
    })?;
    spark_ends_with_utils::register_impl(conn, |haystack: String, needle: String| {
        haystack.ends_with(needle.as_str())
    })?;
    spark_order_key_utils::register_impl(conn, |value: String| value.into_bytes())?;
    spark_sort_key_utils::register_impl(conn, |value: Option<String>| {
        value.map(|v| v.to_lowercase().into_bytes())
    })?;
    Ok(())
}
