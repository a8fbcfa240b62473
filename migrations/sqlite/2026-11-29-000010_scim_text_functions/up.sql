-- SQLite has no stored functions: every connection registers spark_fold,
-- spark_contains, spark_starts_with, spark_ends_with, spark_order_key and spark_sort_key in Rust
-- (persistence::connection). This migration keeps the two trees in lockstep.
SELECT 1;
