-- A session hand-off redeemed in one statement (PostgreSQL): the code is marked used
-- only while it is fresh, bound to this browser (or to none) and its employee is active;
-- the session is inserted from the code so marked. Yields the code's row, or nothing
-- when nothing was marked.
--
-- Parameters: 1 now, 2 code hash, 3 tenant id, 4 purpose, 5 the presenting browser's
-- binding hash (NULL matches no bound code), 6 session token hash, 7 auth method,
-- 8 CSRF token, 9 created at, 10 last seen at, 11 expires at.
WITH used AS (
    UPDATE one_time_codes
       SET consumed_at = $1
     WHERE code_hash = $2
       AND tenant_id = $3
       AND purpose = $4
       AND (browser_binding_hash IS NULL OR browser_binding_hash = $5)
       AND consumed_at IS NULL
       AND expires_at > $1
       AND EXISTS (
           SELECT 1 FROM employees
            WHERE employees.tenant_id = one_time_codes.tenant_id
              AND employees.id = one_time_codes.employee_id
              AND employees.active)
    RETURNING "code_hash", "purpose", "tenant_id", "employee_id", "return_to", "created_by",
              "created_at", "expires_at", "consumed_at", "browser_binding_hash"
), started AS (
    INSERT INTO sessions (token_hash, tenant_id, employee_id, auth_method, csrf_token,
                          created_at, last_seen_at, expires_at)
    SELECT $6, tenant_id, employee_id, $7, $8, $9, $10, $11 FROM used
)
SELECT "code_hash", "purpose", "tenant_id", "employee_id", "return_to", "created_by",
       "created_at", "expires_at", "consumed_at", "browser_binding_hash"
  FROM used
