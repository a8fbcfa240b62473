-- Text functions the SCIM filter translation uses, with exactly the semantics the SQLite
-- connection registers in Rust (persistence::connection) and scim-filter's in-memory
-- evaluator applies: Unicode lower-casing (ICU's, as Rust's to_lowercase), substring
-- tests on characters, and code-point order for comparisons (bytes of UTF-8).
CREATE FUNCTION spark_fold(value text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT lower(value COLLATE "und-x-icu") $$;
CREATE FUNCTION spark_contains(haystack text, needle text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT strpos(haystack, needle) > 0 $$;
CREATE FUNCTION spark_starts_with(haystack text, needle text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT left(haystack, length(needle)) = needle $$;
CREATE FUNCTION spark_ends_with(haystack text, needle text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT right(haystack, length(needle)) = needle $$;
CREATE FUNCTION spark_order_key(value text) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT convert_to(value, 'UTF8') $$;
CREATE FUNCTION spark_sort_key(value text) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT convert_to(lower(value COLLATE "und-x-icu"), 'UTF8') $$;
