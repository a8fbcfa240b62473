//! The tenant admin's pages on a workspace host, each with its JSON API: the Marketplace
//! (connect / disconnect Okta), the SSO settings (org URL, client id, write-only client
//! secret, test connection; the Okta users linked to employees, and unlinking; real-time
//! sign-out as an Okta API service app, and the sign-outs sent to Okta) and the
//! SCIM tokens (mint — shown once —, list, revoke, rotate).
//!
//! Every route needs a live session of an employee with the `admin` role: anonymous
//! visitors are sent to `/login` (the JSON API answers 401), other employees get a 403.
//! Every state-changing request passes [`crate::csrf`] with
//! [`Policy::OriginAndToken`](crate::csrf::Policy), and persistence audits every change
//! with the admin as actor. Pages are plain forms that work without scripts (one small
//! script adds copy buttons); a page's form and its JSON API call the same operation, so
//! both follow the same rules. What this module does not know: how sign-in works (the
//! session is found by [`crate::session::current`]) or how anything is stored.

mod identities;
mod layout;
mod marketplace;
mod real_time_sign_out;
mod scim_tokens;
mod shared;
mod sso;

use actix_web::{HttpResponse, web as aw};

use crate::error::{ApiError, PageError};

pub use layout::links;
pub use shared::{MARKETPLACE_PAGE, SCIM_PAGE, SSO_PAGE};

pub fn routes(cfg: &mut aw::ServiceConfig) {
    let json_only = || {
        aw::to(|| async { Err::<HttpResponse, _>(ApiError::from(PageError::method_not_allowed())) })
    };
    let html_only = || aw::to(|| async { Err::<HttpResponse, _>(PageError::method_not_allowed()) });
    cfg.service(
        aw::resource(MARKETPLACE_PAGE)
            .get(marketplace::page)
            .post(marketplace::form)
            .default_service(html_only()),
    )
    .service(
        aw::resource("/api/marketplace/integrations")
            .get(marketplace::api_list)
            .default_service(json_only()),
    )
    .service(
        aw::resource("/api/marketplace/integrations/okta/{step}")
            .post(marketplace::api_step)
            .default_service(json_only()),
    )
    .service(
        aw::resource(SSO_PAGE)
            .get(sso::page)
            .post(sso::form)
            .default_service(html_only()),
    )
    .service(
        aw::resource("/api/admin/integrations/okta/sso")
            .get(sso::api_get)
            .put(sso::api_put)
            .delete(sso::api_delete)
            .default_service(json_only()),
    )
    .service(
        aw::resource("/api/admin/integrations/okta/sso/test")
            .post(sso::api_test)
            .default_service(json_only()),
    )
    .service(
        aw::resource("/api/admin/integrations/okta/identities")
            .get(identities::api_list)
            .default_service(json_only()),
    )
    .service(
        aw::resource("/api/admin/integrations/okta/identities/{email}")
            .delete(identities::api_unlink)
            .default_service(json_only()),
    )
    .service(
        aw::resource("/api/admin/integrations/okta/real-time-sign-out")
            .get(real_time_sign_out::api_get)
            .put(real_time_sign_out::api_put)
            .delete(real_time_sign_out::api_delete)
            .default_service(json_only()),
    )
    .service(
        aw::resource("/api/admin/integrations/okta/real-time-sign-out/key")
            .post(real_time_sign_out::api_key)
            .default_service(json_only()),
    )
    .service(
        aw::resource("/api/admin/integrations/okta/real-time-sign-out/test")
            .post(real_time_sign_out::api_test)
            .default_service(json_only()),
    )
    .service(
        aw::resource(SCIM_PAGE)
            .get(scim_tokens::page)
            .post(scim_tokens::form)
            .default_service(html_only()),
    )
    .service(
        aw::resource("/api/my-settings/integrations/okta-scim/tokens")
            .get(scim_tokens::api_list)
            .post(scim_tokens::api_mint)
            .default_service(json_only()),
    )
    .service(
        aw::resource("/api/my-settings/integrations/okta-scim/tokens/{id}")
            .delete(scim_tokens::api_revoke)
            .default_service(json_only()),
    )
    .service(
        aw::resource("/api/my-settings/integrations/okta-scim/tokens/{id}/rotate")
            .post(scim_tokens::api_rotate)
            .default_service(json_only()),
    )
    .route(layout::SCRIPT_PATH, aw::get().to(layout::script));
}
