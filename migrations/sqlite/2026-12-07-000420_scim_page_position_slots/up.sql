-- The walk positions, one slot per walk instead of one row per page: the table's size
-- no longer depends on what clients send. A cache, so its rows are dropped, not moved.
-- Where the pages of an import walk start, shared by every scim-api process: after a
-- page of a `startIndex` walk, where its next page starts (the index, and the id it
-- starts after). A cache (a missing entry only makes one page use OFFSET). Each tenant
-- has a fixed number of slots, each holding one walk's next position, so the table's
-- size depends on the number of tenants only, whatever filters and indexes clients send.
DROP TABLE scim_page_positions;
CREATE TABLE scim_page_positions (
    tenant_id TEXT NOT NULL,
    slot BIGINT NOT NULL,
    walk TEXT NOT NULL,
    start_index BIGINT NOT NULL,
    after_id TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, slot)
);
