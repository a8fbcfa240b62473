-- Departments (served as SCIM Groups), summarised as employees change, in the same
-- transaction: listing groups without their members reads this small table instead of
-- every employee. `version` moves with every change of a department's members (who is
-- in it, and how they are named); `created_at` is when it first had a member.
CREATE TABLE departments (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    members BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
INSERT INTO departments (tenant_id, name, members, created_at, updated_at, version)
SELECT tenant_id, department, count(*), min(created_at), max(updated_at), 1
FROM employees
WHERE department IS NOT NULL AND department <> ''
GROUP BY tenant_id, department;

-- A department's members in id order, a page at a time.
DROP INDEX employees_tenant_department;
CREATE INDEX employees_tenant_department ON employees (tenant_id, department, id);
