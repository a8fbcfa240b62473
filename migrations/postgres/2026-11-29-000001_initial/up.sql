-- The whole product's tables. Kept in lockstep with migrations/sqlite: same tables,
-- columns, nullability, keys and indexes (a persistence test compares both).
-- Ids are TEXT (UUIDs), timestamps are UTC TIMESTAMPs, secrets only ever as hashes or
-- ciphertext.

CREATE TABLE tenants (
    id TEXT PRIMARY KEY NOT NULL,
    workspace TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX tenants_workspace ON tenants (workspace);

CREATE TABLE okta_integrations (
    tenant_id TEXT PRIMARY KEY NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    activated_at TIMESTAMP,
    activated_by TEXT,
    connected_at TIMESTAMP,
    connected_by TEXT,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE employees (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,
    external_id TEXT,
    given_name TEXT,
    family_name TEXT,
    display_name TEXT,
    phone TEXT,
    title TEXT,
    department TEXT,
    employee_number TEXT,
    manager_id TEXT REFERENCES employees (id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED,
    active BOOLEAN NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('employee', 'admin')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE UNIQUE INDEX employees_tenant_email_key ON employees (tenant_id, email_key);
CREATE UNIQUE INDEX employees_tenant_id ON employees (tenant_id, id);
CREATE INDEX employees_tenant_updated_at ON employees (tenant_id, updated_at, id);
CREATE INDEX employees_tenant_external_id ON employees (tenant_id, external_id);
CREATE INDEX employees_tenant_department ON employees (tenant_id, department);
CREATE INDEX employees_manager_id ON employees (manager_id);

CREATE TABLE employee_identities (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    employee_id TEXT NOT NULL REFERENCES employees (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    last_sign_in_at TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, issuer, subject)
);
CREATE INDEX employee_identities_employee_id ON employee_identities (employee_id);

CREATE TABLE scim_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    label TEXT NOT NULL,
    hint TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    created_by TEXT NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP,
    replaced_by TEXT
);
CREATE UNIQUE INDEX scim_tokens_token_hash ON scim_tokens (token_hash);
CREATE INDEX scim_tokens_tenant_created_at ON scim_tokens (tenant_id, created_at);

CREATE TABLE okta_sso_configs (
    tenant_id TEXT PRIMARY KEY NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    org_url TEXT NOT NULL,
    client_id TEXT NOT NULL,
    client_secret_ciphertext BYTEA NOT NULL,
    client_secret_key_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE INDEX okta_sso_configs_org_url ON okta_sso_configs (org_url);

CREATE TABLE login_transactions (
    state_hash TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    browser_binding_hash TEXT NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    login_hint TEXT,
    return_to TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    consumed_at TIMESTAMP
);
CREATE INDEX login_transactions_expires_at ON login_transactions (expires_at);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    employee_id TEXT NOT NULL REFERENCES employees (id) ON DELETE CASCADE,
    auth_method TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_employee_id ON sessions (employee_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE one_time_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    purpose TEXT NOT NULL CHECK (purpose IN ('session_handoff', 'login_link')),
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    employee_id TEXT NOT NULL REFERENCES employees (id) ON DELETE CASCADE,
    return_to TEXT,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    consumed_at TIMESTAMP
);
CREATE INDEX one_time_codes_expires_at ON one_time_codes (expires_at);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT REFERENCES tenants (id) ON DELETE CASCADE,
    occurred_at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    details TEXT NOT NULL
);
CREATE INDEX audit_events_tenant_occurred_at ON audit_events (tenant_id, occurred_at);
