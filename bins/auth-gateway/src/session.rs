//! The session a workspace request carries: the tenant of its host and the live session
//! of its cookie, and the form that ends it. Used by the workspace's own pages and by
//! the admin pages alike.

use actix_web::HttpRequest;
use chrono::Utc;
use maud::{Markup, html};
use persistence::{SignedInSession, Tenant};
use token_store::{SecretKind, TokenHash};

use crate::GatewayState;
use crate::error::PageError;
use crate::web::{cookie, db};

/// The tenant of this workspace host and the live session the request carries, if any.
pub(crate) async fn current(
    state: &GatewayState,
    request: &HttpRequest,
    workspace: String,
) -> Result<(Option<Tenant>, Option<SignedInSession>), PageError> {
    let hash = cookie(request, state.session_cookie())
        .and_then(|value| TokenHash::of_presented(SecretKind::Session, &value).ok());
    let policy = state.session_policy;
    let tenants = state.tenants.clone();
    db(state, move |db| {
        let Some(tenant) = tenants.find(db, &workspace)? else {
            return Ok((None, None));
        };
        let session = match hash {
            Some(hash) => db.sessions().find(&tenant.id, &hash, Utc::now(), &policy)?,
            None => None,
        };
        Ok((Some(tenant), session))
    })
    .await
}

/// The sign-out form (a POST with the session's CSRF token).
pub(crate) fn logout_form(csrf: &str) -> Markup {
    html! {
        form method="post" action="/logout" {
            input type="hidden" name="csrf_token" value=(csrf);
            button type="submit" { "Sign out" }
        }
    }
}
