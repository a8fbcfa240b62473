ALTER TABLE tenants DROP COLUMN directory_version;
