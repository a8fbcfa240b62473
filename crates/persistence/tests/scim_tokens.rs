//! SCIM tokens stored by persistence, driven through token-store's lifecycle rules, on
//! both backends.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use chrono::{Duration, SubsecRound, Utc};
use persistence::{Actor, Database, Tenant, Workspace, backend_tests};
use token_store::scim::{ScimTokens, VerifyError};
use token_store::{BearerForm, TenantId as TokenTenant, TokenId};

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
        let hash_of = |t: &token_store::scim::MintedToken| {
            token_store::TokenHash::of_presented(token_store::SecretKind::ScimToken, t.token.expose_secret()).unwrap()
        };
        // Our token on our workspace: found, and verifies from what was found.
        let (tenant, okta, found) = db.tenants().find_with_okta_and_token("ACME", &hash_of(&ours)).unwrap().unwrap();
        assert_eq!((tenant.id.clone(), okta.is_activated()), (acme.id.clone(), false));
        assert_eq!(found.as_ref().map(|f| f.record.id.clone()), Some(ours.record.id.clone()));
        let store = db.scim_tokens(&actor).with_found(&tenant.id, &hash_of(&ours), found);
        assert!(ScimTokens::new(store).verify(&TokenTenant::from(&acme.id), ours.token.expose_secret(), Utc::now()).is_ok());
        // Another workspace's token: the tenant, but no token; verification says unknown.
        let (tenant, _, found) = db.tenants().find_with_okta_and_token("acme", &hash_of(&theirs)).unwrap().unwrap();
        assert!(found.is_none());
        let store = db.scim_tokens(&actor).with_found(&tenant.id, &hash_of(&theirs), found);
        assert!(matches!(ScimTokens::new(store).verify(&TokenTenant::from(&acme.id), theirs.token.expose_secret(), Utc::now()), Err(VerifyError::Unknown)));
        // Revoked: found, and refused as revoked.
        tokens.revoke(&TokenTenant::from(&acme.id), &ours.record.id, Utc::now()).unwrap();
        let (tenant, _, found) = db.tenants().find_with_okta_and_token("acme", &hash_of(&ours)).unwrap().unwrap();
        let store = db.scim_tokens(&actor).with_found(&tenant.id, &hash_of(&ours), found);
        assert!(matches!(ScimTokens::new(store).verify(&TokenTenant::from(&acme.id), ours.token.expose_secret(), Utc::now()), Err(VerifyError::Revoked { .. })));
        // No such workspace.
        assert!(db.tenants().find_with_okta_and_token("nowhere", &hash_of(&ours)).unwrap().is_none());
    }
}
