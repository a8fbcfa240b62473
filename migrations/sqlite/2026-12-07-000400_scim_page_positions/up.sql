-- Where the pages of an import walk start, shared by every scim-api process: after a
-- page of a `startIndex` walk, the id its next page starts after. A cache (a missing
-- entry only makes one page use OFFSET): one row per (tenant, walk, index), overwritten
-- by the next walk.
CREATE TABLE scim_page_positions (
    tenant_id TEXT NOT NULL,
    walk TEXT NOT NULL,
    start_index BIGINT NOT NULL,
    after_id TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant_id, walk, start_index)
);
