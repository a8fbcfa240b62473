DROP INDEX employees_tenant_department;
CREATE INDEX employees_tenant_department ON employees (tenant_id, department);
DROP TABLE departments;
