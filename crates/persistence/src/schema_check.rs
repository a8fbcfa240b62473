//! Schema invariant tests: both migration trees have the same migrations, and applying
//! them builds the same tables, columns, keys and indexes on SQLite and PostgreSQL.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};

use crate::connection::DbConnection;
use crate::testing::TestDatabase;
use crate::{Backend, migrations};

/// A backend-neutral description of a migrated database.
#[derive(Debug, Default, PartialEq, Eq)]
struct SchemaShape {
    /// table -> column -> (type, nullable)
    columns: BTreeMap<String, BTreeMap<String, (String, bool)>>,
    /// table -> primary key columns, in order
    primary_keys: BTreeMap<String, Vec<String>>,
    /// index name -> (table, unique, columns)
    indexes: BTreeMap<String, (String, bool, Vec<String>)>,
    /// (table, column) -> (referenced table, referenced column, on delete)
    foreign_keys: BTreeMap<(String, String), (String, String, String)>,
}

fn canonical_type(declared: &str) -> String {
    match declared.to_ascii_lowercase().as_str() {
        "text" => "text",
        "timestamp" | "timestamp without time zone" => "timestamp",
        "boolean" => "bool",
        "bigint" => "bigint",
        "blob" | "bytea" => "binary",
        other => return format!("unknown:{other}"),
    }
    .to_owned()
}

const MIGRATIONS_TABLE: &str = "__diesel_schema_migrations";

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

#[derive(QueryableByName)]
struct SqliteColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text, column_name = "type")]
    declared: String,
    #[diesel(sql_type = Bool)]
    notnull: bool,
    #[diesel(sql_type = BigInt)]
    pk: i64,
}

#[derive(QueryableByName)]
struct SqliteIndex {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bool)]
    unique: bool,
    #[diesel(sql_type = Text)]
    origin: String,
}

#[derive(QueryableByName)]
struct SqliteForeignKey {
    #[diesel(sql_type = Text)]
    table: String,
    #[diesel(sql_type = Text)]
    from: String,
    #[diesel(sql_type = Nullable<Text>)]
    to: Option<String>,
    #[diesel(sql_type = Text)]
    on_delete: String,
}

fn sqlite_shape(conn: &mut diesel::SqliteConnection) -> SchemaShape {
    let mut shape = SchemaShape::default();
    let tables: Vec<Name> = diesel::sql_query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .load(conn)
    .unwrap();
    for Name { name: table } in tables.into_iter().filter(|t| t.name != MIGRATIONS_TABLE) {
        let columns: Vec<SqliteColumn> = diesel::sql_query(format!("PRAGMA table_info({table})"))
            .load(conn)
            .unwrap();
        let mut pk: Vec<(i64, String)> = Vec::new();
        for c in columns {
            if c.pk > 0 {
                pk.push((c.pk, c.name.clone()));
            }
            shape
                .columns
                .entry(table.clone())
                .or_default()
                .insert(c.name, (canonical_type(&c.declared), !c.notnull));
        }
        pk.sort();
        shape
            .primary_keys
            .insert(table.clone(), pk.into_iter().map(|(_, n)| n).collect());
        let indexes: Vec<SqliteIndex> = diesel::sql_query(format!("PRAGMA index_list({table})"))
            .load(conn)
            .unwrap();
        for index in indexes.into_iter().filter(|i| i.origin == "c") {
            let columns: Vec<Name> = diesel::sql_query(format!(
                "SELECT name FROM pragma_index_info('{}') ORDER BY seqno",
                index.name
            ))
            .load(conn)
            .unwrap();
            shape.indexes.insert(
                index.name,
                (
                    table.clone(),
                    index.unique,
                    columns.into_iter().map(|c| c.name).collect(),
                ),
            );
        }
        let fks: Vec<SqliteForeignKey> =
            diesel::sql_query(format!("PRAGMA foreign_key_list({table})"))
                .load(conn)
                .unwrap();
        for fk in fks {
            shape.foreign_keys.insert(
                (table.clone(), fk.from),
                (
                    fk.table,
                    fk.to.unwrap_or_default(),
                    fk.on_delete.to_ascii_uppercase(),
                ),
            );
        }
    }
    shape
}

#[derive(QueryableByName)]
struct PgColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    data_type: String,
    #[diesel(sql_type = Text)]
    is_nullable: String,
}

#[derive(QueryableByName)]
struct PgIndex {
    #[diesel(sql_type = Text)]
    index_name: String,
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Bool)]
    is_unique: bool,
    #[diesel(sql_type = Bool)]
    is_primary: bool,
    #[diesel(sql_type = Text)]
    columns: String,
}

#[derive(QueryableByName)]
struct PgForeignKey {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    definition: String,
}

fn pg_shape(conn: &mut diesel::PgConnection) -> SchemaShape {
    let mut shape = SchemaShape::default();
    let columns: Vec<PgColumn> = diesel::sql_query(
        "SELECT table_name::text, column_name::text, data_type::text, is_nullable::text \
         FROM information_schema.columns WHERE table_schema = 'public'",
    )
    .load(conn)
    .unwrap();
    for c in columns
        .into_iter()
        .filter(|c| c.table_name != MIGRATIONS_TABLE)
    {
        shape.columns.entry(c.table_name).or_default().insert(
            c.column_name,
            (canonical_type(&c.data_type), c.is_nullable == "YES"),
        );
    }
    let indexes: Vec<PgIndex> = diesel::sql_query(
        "SELECT i.relname::text AS index_name, t.relname::text AS table_name, \
                ix.indisunique AS is_unique, ix.indisprimary AS is_primary, \
                string_agg(a.attname::text, ',' ORDER BY k.ord) AS columns \
         FROM pg_index ix \
         JOIN pg_class i ON i.oid = ix.indexrelid \
         JOIN pg_class t ON t.oid = ix.indrelid \
         JOIN pg_namespace n ON n.oid = t.relnamespace \
         CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord) \
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
         WHERE n.nspname = 'public' \
         GROUP BY i.relname, t.relname, ix.indisunique, ix.indisprimary",
    )
    .load(conn)
    .unwrap();
    for index in indexes
        .into_iter()
        .filter(|i| i.table_name != MIGRATIONS_TABLE)
    {
        let columns: Vec<String> = index.columns.split(',').map(str::to_owned).collect();
        if index.is_primary {
            shape.primary_keys.insert(index.table_name, columns);
        } else {
            shape.indexes.insert(
                index.index_name,
                (index.table_name, index.is_unique, columns),
            );
        }
    }
    let fks: Vec<PgForeignKey> = diesel::sql_query(
        "SELECT c.conrelid::regclass::text AS table_name, pg_get_constraintdef(c.oid) AS definition \
         FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
         WHERE c.contype = 'f' AND n.nspname = 'public'",
    )
    .load(conn)
    .unwrap();
    for fk in fks {
        // "FOREIGN KEY (col) REFERENCES other(id) ON DELETE CASCADE [DEFERRABLE …]"
        let def = fk.definition;
        let between = |start: &str, end: &str| -> String {
            let from = def.find(start).map(|i| i + start.len()).unwrap();
            let to = def[from..].find(end).map(|i| i + from).unwrap();
            def[from..to].trim().to_owned()
        };
        let column = between("FOREIGN KEY (", ")");
        let target = between("REFERENCES ", ")");
        let (ref_table, ref_column) = target.split_once('(').unwrap();
        let on_delete = if def.contains("ON DELETE CASCADE") {
            "CASCADE"
        } else if def.contains("ON DELETE SET NULL") {
            "SET NULL"
        } else {
            "NO ACTION"
        };
        shape.foreign_keys.insert(
            (fk.table_name, column),
            (
                ref_table.to_owned(),
                ref_column.to_owned(),
                on_delete.to_owned(),
            ),
        );
    }
    shape
}

fn shape_of(db: &TestDatabase) -> SchemaShape {
    let mut conn = db.conn().unwrap();
    match &mut *conn {
        DbConnection::Sqlite(c) => sqlite_shape(c),
        DbConnection::Postgresql(c) => pg_shape(c),
    }
}

#[test]
fn both_trees_have_the_same_migrations() {
    let sqlite = migrations::known_versions(Backend::Sqlite);
    let postgres = migrations::known_versions(Backend::Postgres);
    assert!(!sqlite.is_empty());
    assert_eq!(
        sqlite, postgres,
        "migrations/sqlite and migrations/postgres must stay in lockstep"
    );
}

#[test]
#[ignore = "needs PostgreSQL"]
fn both_trees_build_the_same_schema() {
    let sqlite = shape_of(&TestDatabase::new(Backend::Sqlite));
    let postgres = shape_of(&TestDatabase::new(Backend::Postgres));
    assert!(sqlite.columns.contains_key("employees"), "{sqlite:#?}");
    assert!(
        sqlite
            .columns
            .values()
            .flatten()
            .all(|(_, (ty, _))| !ty.starts_with("unknown")),
        "a column type outside the shared set: {sqlite:#?}"
    );
    assert_eq!(sqlite.columns, postgres.columns);
    assert_eq!(sqlite.primary_keys, postgres.primary_keys);
    assert_eq!(sqlite.indexes, postgres.indexes);
    assert_eq!(sqlite.foreign_keys, postgres.foreign_keys);
}

crate::backend_tests! {
    fn migrating_twice_applies_nothing_the_second_time(db) {
        assert!(db.migrate().unwrap().is_empty(), "{}", db.backend());
    }
}

/// `replicas_migrating_at_once_all_succeed::{sqlite, postgres}`, like `backend_tests!`
/// (which hands its tests migrated databases).
mod replicas_migrating_at_once_all_succeed {
    use super::*;

    #[test]
    fn sqlite() {
        replicas_migrating_at_once(Backend::Sqlite);
    }

    #[test]
    #[ignore = "needs PostgreSQL"]
    fn postgres() {
        replicas_migrating_at_once(Backend::Postgres);
    }
}

fn replicas_migrating_at_once(backend: Backend) {
    let fresh = TestDatabase::new_unmigrated(backend);
    let applied: Vec<usize> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let url = fresh.url().clone();
                s.spawn(move || {
                    crate::Database::open(&url)
                        .unwrap()
                        .migrate()
                        .unwrap()
                        .len()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    // Exactly one replica applied the migrations; the others found nothing to do.
    let total: usize = applied.iter().sum();
    assert_eq!(
        total,
        migrations::known_versions(backend).len(),
        "{backend}: {applied:?}"
    );
    assert_eq!(
        applied.iter().filter(|n| **n > 0).count(),
        1,
        "{backend}: {applied:?}"
    );
}
