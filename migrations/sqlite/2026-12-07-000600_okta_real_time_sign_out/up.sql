-- Real-time sign-out: Spark as an Okta API service app of the workspace's org (its key
-- pair, the private half sealed like the client secret), and the revocations a
-- deactivation queues in its own transaction (an outbox), sent by any replica's worker.
CREATE TABLE okta_service_apps (
    tenant_id TEXT PRIMARY KEY NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    client_id TEXT,
    key_id TEXT NOT NULL,
    private_key_ciphertext BLOB NOT NULL,
    private_key_key_id TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE okta_revocations (
    id TEXT PRIMARY KEY NOT NULL,
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    employee_id TEXT NOT NULL,
    email TEXT NOT NULL,
    issuer TEXT NOT NULL,
    okta_user_id TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    lease_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP
);
CREATE INDEX okta_revocations_due ON okta_revocations (status, next_attempt_at);
CREATE INDEX okta_revocations_tenant_created_at ON okta_revocations (tenant_id, created_at);
