DROP TABLE scim_page_positions;
CREATE UNLOGGED TABLE scim_page_positions (
    tenant_id TEXT NOT NULL,
    walk TEXT NOT NULL,
    start_index BIGINT NOT NULL,
    after_id TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, walk, start_index)
);
