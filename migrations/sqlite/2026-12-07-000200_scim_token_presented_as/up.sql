-- How the Authorization header carried the token when it last authenticated a request:
-- 'bearer' (`Bearer <token>`), 'no_scheme' (`<token>` alone) or 'doubled_bearer'
-- (`Bearer Bearer <token>`). Written with last_used_at, and only when it changes, so the
-- SCIM token page can tell the admin to tidy Okta's setting.
ALTER TABLE scim_tokens ADD COLUMN presented_as TEXT NOT NULL DEFAULT 'bearer';
