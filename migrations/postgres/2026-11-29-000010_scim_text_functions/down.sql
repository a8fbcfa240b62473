DROP FUNCTION spark_sort_key(text);
DROP FUNCTION spark_order_key(text);
DROP FUNCTION spark_ends_with(text, text);
DROP FUNCTION spark_starts_with(text, text);
DROP FUNCTION spark_contains(text, text);
DROP FUNCTION spark_fold(text);
