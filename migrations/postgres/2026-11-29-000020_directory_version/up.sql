-- Raised by one in the same transaction as every change to a tenant's employees, so a
-- service can tell with one primary-key read whether anything it derived from the
-- directory (a result count, say) is still current.
ALTER TABLE tenants ADD COLUMN directory_version BIGINT NOT NULL DEFAULT 0;
