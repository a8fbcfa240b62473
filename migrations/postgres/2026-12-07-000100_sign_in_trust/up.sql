-- An employee is linked to at most one Okta user per issuer: a second Okta user who
-- carries the same email is refused instead of taking the employee over. Links that an
-- earlier version let a second Okta user make are removed, keeping each employee's first
-- link; each removal is audited and ends the employee's sessions, as unlinking does.
CREATE TEMPORARY TABLE later_links AS
SELECT i.tenant_id, i.issuer, i.subject, i.employee_id, e.email
FROM employee_identities i
JOIN employees e ON e.tenant_id = i.tenant_id AND e.id = i.employee_id
WHERE EXISTS (
    SELECT 1 FROM employee_identities first
    WHERE first.tenant_id = i.tenant_id AND first.issuer = i.issuer
      AND first.employee_id = i.employee_id
      AND (first.created_at, first.subject) < (i.created_at, i.subject)
);
INSERT INTO audit_events (id, tenant_id, occurred_at, actor, action, target, details)
SELECT gen_random_uuid()::text, tenant_id, (now() AT TIME ZONE 'UTC')::timestamp(6),
       'system', 'okta_identity.unlinked', email,
       json_build_object('issuer', issuer, 'subject', subject,
                         'reason', 'a second Okta user was linked to this employee')::text
FROM later_links;
DELETE FROM employee_identities i USING later_links l
WHERE i.tenant_id = l.tenant_id AND i.issuer = l.issuer AND i.subject = l.subject;
DELETE FROM sessions s USING later_links l
WHERE s.tenant_id = l.tenant_id AND s.employee_id = l.employee_id;
DROP TABLE later_links;
CREATE UNIQUE INDEX employee_identities_one_per_issuer
    ON employee_identities (tenant_id, issuer, employee_id);

-- An org URL on a host Okta does not operate (a custom URL domain) is used only once the
-- Spark team approved it for the workspace: who approved it, for this org URL.
ALTER TABLE okta_sso_configs ADD COLUMN custom_domain_approved_by TEXT;

-- A sign-in's hand-off to the workspace host works only in the browser that started the
-- sign-in: the hash of that browser's binding cookie on the workspace host.
ALTER TABLE login_transactions ADD COLUMN handoff_binding_hash TEXT;
ALTER TABLE one_time_codes ADD COLUMN browser_binding_hash TEXT;
