//! SCIM tokens stored by persistence, driven through token-store's lifecycle rules, on
//! both backends.

use chrono::{Duration, SubsecRound, Utc};
use persistence::{Actor, Database, Tenant, Workspace, backend_tests};
use token_store::scim::{MintedToken, ScimTokens, VerifyError, check};
use token_store::{BearerForm, TenantId as TokenTenant, TokenId};

fn hash_of(token: &MintedToken) -> token_store::TokenHash {
    token_store::TokenHash::of_presented(
        token_store::SecretKind::ScimToken,
        token.token.expose_secret(),
    )
    .unwrap()
}

fn tenant(db: &Database, slug: &str) -> Tenant {
    let actor = Actor::operator("test");
    db.tenants()
        .create(&Workspace::parse(slug).unwrap(), slug, &actor)
        .unwrap()
}

backend_tests! {
    fn mint_verify_list_rotate_revoke(db) {
        let acme = tenant(db, "acme");
        let t = TokenTenant::from(&acme.id);
        let admin = Actor::employee("admin-1");
        let mut tokens = ScimTokens::new(db.scim_tokens(&admin));
        let now = Utc::now();
        let minted = tokens.mint(&t, "Okta production", "admin@acme.com", now).unwrap();
        let secret = minted.token.into_exposed_secret();

        let record = tokens.verify(&t, &secret, now).unwrap();
        assert_eq!(record.id, minted.record.id);
        assert_eq!(record.label, "Okta production");
        assert!(record.last_used_at.is_some(), "first use is recorded");

        // Only the hash is stored.
        let listed = tokens.list(&t).unwrap();
        assert_eq!(listed.len(), 1);
        assert!(!format!("{listed:?}").contains(&secret));

        let rotated = tokens.rotate(&t, &record.id, "admin@acme.com", now + Duration::seconds(5)).unwrap();
        let new_secret = rotated.token.into_exposed_secret();
        assert!(matches!(tokens.verify(&t, &secret, now), Err(VerifyError::Revoked { .. })));
        tokens.verify(&t, &new_secret, now).unwrap();

        tokens.revoke(&t, &rotated.record.id, now + Duration::seconds(9)).unwrap();
        assert!(matches!(tokens.verify(&t, &new_secret, now), Err(VerifyError::Revoked { .. })));
        let listed = tokens.list(&t).unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed.iter().all(|r| r.revoked_at.is_some()));

        let actions: Vec<_> = db.audit().recent(&acme.id, 3).unwrap().into_iter().map(|e| (e.action, e.actor)).collect();
        assert_eq!(actions, [
            ("scim_token.revoked".to_owned(), "employee:admin-1".to_owned()),
            ("scim_token.rotated".to_owned(), "employee:admin-1".to_owned()),
            ("scim_token.minted".to_owned(), "employee:admin-1".to_owned()),
        ]);
    }

    fn another_tenants_token_is_unknown(db) {
        let acme = TokenTenant::from(&tenant(db, "acme").id);
        let globex = TokenTenant::from(&tenant(db, "globex").id);
        let mut tokens = ScimTokens::new(db.scim_tokens(&Actor::system()));
        let minted = tokens.mint(&acme, "Okta", "ops", Utc::now()).unwrap();
        let secret = minted.token.into_exposed_secret();
        assert!(matches!(tokens.verify(&globex, &secret, Utc::now()), Err(VerifyError::Unknown)));
        assert!(tokens.list(&globex).unwrap().is_empty());
        assert!(tokens.revoke(&globex, &minted.record.id, Utc::now()).is_err());
        tokens.verify(&acme, &secret, Utc::now()).unwrap();
    }

    fn last_used_is_written_at_most_once_a_minute(db) {
        let acme = TokenTenant::from(&tenant(db, "acme").id);
        let mut tokens = ScimTokens::new(db.scim_tokens(&Actor::system()));
        // Stored instants have microsecond precision.
        let t0 = Utc::now().trunc_subsecs(6);
        let secret = tokens.mint(&acme, "Okta", "ops", t0).unwrap().token.into_exposed_secret();
        let first = tokens.verify(&acme, &secret, t0).unwrap().last_used_at.unwrap();
        let soon = tokens.verify(&acme, &secret, t0 + Duration::seconds(30)).unwrap();
        assert_eq!(soon.last_used_at.unwrap(), first);
        let later = tokens.verify(&acme, &secret, t0 + Duration::seconds(61)).unwrap();
        assert!(later.last_used_at.unwrap() > first);
    }

    fn the_form_okta_sent_is_stored_with_last_used(db) {
        let acme = TokenTenant::from(&tenant(db, "acme").id);
        let mut tokens = ScimTokens::new(db.scim_tokens(&Actor::system()));
        let t0 = Utc::now().trunc_subsecs(6);
        let secret = tokens.mint(&acme, "Okta", "ops", t0).unwrap().token.into_exposed_secret();
        assert_eq!(tokens.list(&acme).unwrap()[0].presented_as, BearerForm::Standard);
        tokens.verify(&acme, &secret, t0).unwrap();
        // Within the minute, but in another form: written at once, as the page shows it.
        tokens.verify_as(&acme, &secret, BearerForm::WithoutScheme, t0 + Duration::seconds(5)).unwrap();
        let listed = tokens.list(&acme).unwrap();
        assert_eq!(listed[0].presented_as, BearerForm::WithoutScheme);
        assert_eq!(listed[0].last_used_at, Some(t0 + Duration::seconds(5)));
        // A fresh store (another request) reads it back from the row.
        let mut again = ScimTokens::new(db.scim_tokens(&Actor::system()));
        let record = again.verify_as(&acme, &secret, BearerForm::WithoutScheme, t0 + Duration::seconds(6)).unwrap();
        assert_eq!((record.presented_as, record.last_used_at), (BearerForm::WithoutScheme, Some(t0 + Duration::seconds(5))), "same form, same minute: no write");
        again.verify_as(&acme, &secret, BearerForm::DoubledScheme, t0 + Duration::seconds(7)).unwrap();
        assert_eq!(again.list(&acme).unwrap()[0].presented_as, BearerForm::DoubledScheme);
        again.verify(&acme, &secret, t0 + Duration::seconds(8)).unwrap();
        assert_eq!(again.list(&acme).unwrap()[0].presented_as, BearerForm::Standard);
    }

    fn rotating_a_revoked_or_unknown_token_is_refused(db) {
        let acme = TokenTenant::from(&tenant(db, "acme").id);
        let mut tokens = ScimTokens::new(db.scim_tokens(&Actor::system()));
        let minted = tokens.mint(&acme, "Okta", "ops", Utc::now()).unwrap();
        tokens.revoke(&acme, &minted.record.id, Utc::now()).unwrap();
        assert!(tokens.rotate(&acme, &minted.record.id, "ops", Utc::now()).is_err());
        assert!(tokens.rotate(&acme, &TokenId::new("no-such-token"), "ops", Utc::now()).is_err());
        assert_eq!(tokens.list(&acme).unwrap().len(), 1);
    }

    fn the_tenant_and_its_token_are_found_in_one_query(db) {
        let acme = tenant(db, "acme");
        let globex = tenant(db, "globex");
        let actor = Actor::operator("test");
        let mut tokens = ScimTokens::new(db.scim_tokens(&actor));
        let ours = tokens.mint(&TokenTenant::from(&acme.id), "Okta", "test", Utc::now()).unwrap();
        let theirs = tokens.mint(&TokenTenant::from(&globex.id), "Okta", "test", Utc::now()).unwrap();
        let acme_tokens = TokenTenant::from(&acme.id);
        let judge = |found, token: &MintedToken| {
            check::<()>(found, &acme_tokens, &hash_of(token), BearerForm::Standard, Utc::now())
        };
        // Our token on our workspace: found, and lets the caller in (a first use is due
        // its last-used write).
        let (tenant, okta, found) = db.tenants().find_with_okta_and_token("ACME", &hash_of(&ours)).unwrap().unwrap();
        assert_eq!((tenant.id.clone(), okta.is_activated()), (acme.id.clone(), false));
        assert_eq!(found.as_ref().map(|f| f.record.id.clone()), Some(ours.record.id.clone()));
        let verdict = judge(found, &ours).unwrap();
        assert_eq!(verdict.record.id, ours.record.id);
        assert!(verdict.touch);
        // Another workspace's token: the tenant, but no token; unknown.
        let (_, _, found) = db.tenants().find_with_okta_and_token("acme", &hash_of(&theirs)).unwrap().unwrap();
        assert!(found.is_none());
        assert!(matches!(judge(found, &theirs), Err(VerifyError::Unknown)));
        // A row that is not this hash's (a loose match) is unknown too.
        let (_, _, found) = db.tenants().find_with_okta_and_token("acme", &hash_of(&ours)).unwrap().unwrap();
        assert!(matches!(judge(found, &theirs), Err(VerifyError::Unknown)));
        // Revoked: found, and refused as revoked.
        tokens.revoke(&TokenTenant::from(&acme.id), &ours.record.id, Utc::now()).unwrap();
        let (_, _, found) = db.tenants().find_with_okta_and_token("acme", &hash_of(&ours)).unwrap().unwrap();
        assert!(matches!(judge(found, &ours), Err(VerifyError::Revoked { .. })));
        // No such workspace.
        assert!(db.tenants().find_with_okta_and_token("nowhere", &hash_of(&ours)).unwrap().is_none());
    }

    /// Okta's look-up in one statement: the workspace's tenant and the token with the
    /// presented hash always come back for the caller to judge, but users only with a
    /// live token of that workspace.
    fn a_lookup_and_its_caller_come_in_one_query_and_users_only_for_a_live_token(db) {
        let acme = tenant(db, "acme");
        let globex = tenant(db, "globex");
        let actor = Actor::operator("test");
        let people = [("boss@acme.com", ""), ("ada@acme.com", "boss@acme.com")].map(|(email, manager)| persistence::EmployeeInput {
            email: email.into(),
            display_name: persistence::Change::Set(Some(format!("Name of {email}"))),
            manager_email: persistence::Change::Set((!manager.is_empty()).then(|| manager.to_owned())),
            ..persistence::EmployeeInput::default()
        });
        db.employees().upsert_many(&acme.id, &people, &actor).unwrap();
        db.employees().upsert_many(&globex.id, &people[..1], &actor).unwrap();
        let mut tokens = ScimTokens::new(db.scim_tokens(&actor));
        let ours = tokens.mint(&TokenTenant::from(&acme.id), "Okta", "test", Utc::now()).unwrap();
        let theirs = tokens.mint(&TokenTenant::from(&globex.id), "Okta", "test", Utc::now()).unwrap();
        let lookup_of = |workspace: &str, token: &MintedToken, filter: &str, limit| {
            let filter = scim_filter::ValidatedFilter::parse(filter, &scim_model::USER_RESOURCE).unwrap();
            db.employees().scim_lookup(workspace, &hash_of(token), filter.expr(), limit).unwrap()
        };
        let lookup = |workspace: &str, token: &MintedToken, filter: &str| lookup_of(workspace, token, filter, 100);
        let emails = |found: &persistence::ScimLookup| found.page.users.iter().map(|u| u.email.clone()).collect::<Vec<_>>();
        let ada = r#"userName eq "ADA@acme.com""#;
        let found = lookup("acme", &ours, ada).unwrap();
        assert_eq!(found.tenant.id, acme.id);
        assert_eq!(found.token.as_ref().map(|t| t.record.id.clone()), Some(ours.record.id.clone()));
        assert_eq!((emails(&found), found.page.total), (vec!["ada@acme.com".to_owned()], 1));
        let manager = found.page.users[0].manager.clone().unwrap();
        assert_eq!(manager.display_name.as_deref(), Some("Name of boss@acme.com"));
        // The same records as the page the usual way.
        let filter = scim_filter::ValidatedFilter::parse(ada, &scim_model::USER_RESOURCE).unwrap();
        let page = db.employees().scim_users(&acme.id, Some(filter.expr()), persistence::UserOrder::Id, &persistence::PageStart::Offset(0), 100, None).unwrap();
        assert_eq!(format!("{:?}", page.users), format!("{:?}", found.page.users));
        // Nobody matches: the caller, and an empty page.
        let nobody = lookup("acme", &ours, r#"userName eq "nobody@acme.com""#).unwrap();
        assert!(nobody.token.is_some());
        assert_eq!((nobody.page.total, nobody.page.users.len()), (0, 0));
        // Two match, one asked for: the count comes along; none asked for: the count alone.
        let everyone = r#"userName co "@acme.com""#;
        let one = lookup_of("acme", &ours, everyone, 1).unwrap();
        assert_eq!((one.page.total, one.page.users.len()), (2, 1));
        let none = lookup_of("acme", &ours, everyone, 0).unwrap();
        assert_eq!((none.page.total, none.page.users.len()), (2, 0));
        // Another workspace's token on this workspace, and this token on another
        // workspace where the same userName exists: the tenant asked, no token, no users.
        let other = lookup("acme", &theirs, ada).unwrap();
        assert_eq!((other.tenant.id.clone(), other.token.is_none(), other.page.users.len()), (acme.id.clone(), true, 0));
        let other = lookup("globex", &ours, r#"userName eq "boss@acme.com""#).unwrap();
        assert_eq!((other.tenant.id.clone(), other.token.is_none(), other.page.users.len()), (globex.id.clone(), true, 0));
        assert!(lookup("nowhere", &ours, ada).is_none());
        // Revoked: the token, for the caller to refuse, and no users.
        tokens.revoke(&TokenTenant::from(&acme.id), &ours.record.id, Utc::now()).unwrap();
        let revoked = lookup("acme", &ours, ada).unwrap();
        assert!(revoked.token.unwrap().record.is_revoked());
        assert_eq!(revoked.page.users.len(), 0);
    }
}
