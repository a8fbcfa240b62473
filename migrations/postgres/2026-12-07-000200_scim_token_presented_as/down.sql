ALTER TABLE scim_tokens DROP COLUMN presented_as;
