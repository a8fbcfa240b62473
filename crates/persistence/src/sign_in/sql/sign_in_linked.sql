-- A sign-in by an already linked Okta identity in one statement (PostgreSQL): yields the
-- employee it is linked to (nothing when the identity is not linked yet), and only if
-- that employee is active records the sign-in time on the link and stores the session
-- hand-off code, bound to the browser that signed in.
--
-- Parameters: 1 tenant id, 2 issuer, 3 subject, 4 now, 5 code hash, 6 purpose,
-- 7 return-to path (or NULL), 8 created-by prefix (the employee's id completes it),
-- 9 expires at, 10 the browser's binding hash.
WITH linked AS (
    SELECT "employees"."id", "employees"."tenant_id", "employees"."email",
           "employees"."email_key", "employees"."external_id", "employees"."given_name",
           "employees"."family_name", "employees"."display_name", "employees"."phone",
           "employees"."title", "employees"."department", "employees"."employee_number",
           "employees"."manager_id", "employees"."active", "employees"."role",
           "employees"."created_at", "employees"."updated_at", "employees"."version"
      FROM employee_identities
      JOIN employees
        ON employees.tenant_id = employee_identities.tenant_id
       AND employees.id = employee_identities.employee_id
     WHERE employee_identities.tenant_id = $1
       AND employee_identities.issuer = $2
       AND employee_identities.subject = $3
), touched AS (
    UPDATE employee_identities
       SET last_sign_in_at = $4
     WHERE tenant_id = $1
       AND issuer = $2
       AND subject = $3
       AND EXISTS (SELECT 1 FROM linked WHERE active)
), handed_off AS (
    INSERT INTO one_time_codes ("code_hash", "purpose", "tenant_id", "employee_id",
                                "return_to", "created_by", "created_at", "expires_at",
                                "consumed_at", "browser_binding_hash")
    SELECT $5, $6, tenant_id, id, $7, $8 || id, $4, $9, NULL, $10
      FROM linked
     WHERE active
)
SELECT "id", "tenant_id", "email", "email_key", "external_id", "given_name", "family_name",
       "display_name", "phone", "title", "department", "employee_number", "manager_id",
       "active", "role", "created_at", "updated_at", "version"
  FROM linked
