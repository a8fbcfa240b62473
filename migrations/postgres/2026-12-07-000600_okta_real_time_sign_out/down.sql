DROP TABLE okta_revocations;
DROP TABLE okta_service_apps;
