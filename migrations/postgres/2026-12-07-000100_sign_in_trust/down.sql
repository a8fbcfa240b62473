ALTER TABLE one_time_codes DROP COLUMN browser_binding_hash;
ALTER TABLE login_transactions DROP COLUMN handoff_binding_hash;
ALTER TABLE okta_sso_configs DROP COLUMN custom_domain_approved_by;
DROP INDEX employee_identities_one_per_issuer;
