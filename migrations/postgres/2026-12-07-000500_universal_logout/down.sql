DROP TABLE universal_logout_tokens;
