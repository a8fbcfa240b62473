-- Okta Universal Logout: each revocation request's JWT (`jti`, per issuer) is accepted
-- once. A row is kept until the token expires (at most an hour ahead), then purged.
CREATE TABLE universal_logout_tokens (
    issuer TEXT NOT NULL,
    token_id TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    PRIMARY KEY (issuer, token_id)
);
CREATE INDEX universal_logout_tokens_expiry ON universal_logout_tokens (expires_at);
