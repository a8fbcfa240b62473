//! The Okta users linked to employees, on the SSO settings page and its JSON API: who
//! signs in as whom, and unlinking. An employee is linked to one Okta user per org at
//! their first sign-in; another Okta user with the same email is refused
//! (`SIGNIN_IDENTITY_CONFLICT`) until an admin removes the old link here — for an Okta
//! account that was really replaced. Unlinking ends the employee's sessions and is
//! audited by persistence with the admin as actor.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web as aw};
use maud::{Markup, html};
use persistence::{LinkedIdentity, Unlinked};

use super::layout;
use super::shared::{Admin, ApiAdmin, ApiReader, SSO_PAGE};
use crate::GatewayState;
use crate::error::{ApiError, PageError, codes};
use crate::web::db;

/// The form field (and query parameter) naming the employee.
pub const EMAIL: &str = "email";

/// The links of the admin's workspace, only the employee with `email` when given.
pub async fn list(
    state: &GatewayState,
    admin: &Admin,
    email: Option<String>,
) -> Result<Vec<LinkedIdentity>, PageError> {
    let tenant = admin.tenant.id.clone();
    db(state, move |db| {
        Ok(db
            .employee_identities()
            .list(&tenant, email.as_deref().map(str::trim))?)
    })
    .await
}

/// Removes the links of the employee with `email` (audited; their sessions end).
pub async fn unlink(
    state: &GatewayState,
    admin: &Admin,
    email: String,
) -> Result<Unlinked, PageError> {
    let (tenant, actor) = (admin.tenant.id.clone(), admin.actor());
    let unlinked = db(state, move |db| {
        db.employee_identities()
            .unlink(&tenant, &email, &actor)
            .map_err(|e| match e {
                persistence::Error::NotFound(message) => PageError::new(
                    codes::OKTA_IDENTITY_NOT_FOUND,
                    StatusCode::NOT_FOUND,
                    format!("Nothing to unlink: {message}."),
                )
                .on_field(EMAIL),
                other => PageError::from(other),
            })
    })
    .await?;
    tracing::info!(
        tenant = %admin.tenant.workspace,
        employee_id = %admin.employee.id,
        links = unlinked.identities.len(),
        "okta identities unlinked"
    );
    Ok(unlinked)
}

fn describe(link: &LinkedIdentity) -> serde_json::Value {
    serde_json::json!({
        "email": link.email,
        "employee_id": link.employee_id.as_str(),
        "active": link.active,
        "issuer": link.issuer,
        "subject": link.subject,
        "linked_at": super::shared::rfc3339(link.linked_at),
        "last_sign_in_at": super::shared::rfc3339(link.last_sign_in_at),
    })
}

/// `GET /api/admin/integrations/okta/identities[?email=…]`.
pub async fn api_list(
    state: aw::Data<GatewayState>,
    ApiReader(admin): ApiReader,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let links = list(&state, &admin, searched(&request)).await?;
    Ok(super::shared::json(
        StatusCode::OK,
        &serde_json::json!({
            "identities": links.iter().map(describe).collect::<Vec<_>>(),
        }),
    ))
}

/// `DELETE /api/admin/integrations/okta/identities/{email}`: 200 with what was
/// removed, or 404 (`OKTA_IDENTITY_NOT_FOUND`).
pub async fn api_unlink(
    state: aw::Data<GatewayState>,
    ApiAdmin(admin): ApiAdmin,
    email: aw::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let unlinked = unlink(&state, &admin, email.into_inner()).await?;
    Ok(super::shared::json(
        StatusCode::OK,
        &serde_json::json!({
            "email": unlinked.email,
            "unlinked": unlinked
                .identities
                .iter()
                .map(|(issuer, subject)| serde_json::json!({ "issuer": issuer, "subject": subject }))
                .collect::<Vec<_>>(),
            "sessions_ended": unlinked.sessions_ended,
        }),
    ))
}

/// The `email` a page or API request searches for, if any.
pub fn searched(request: &HttpRequest) -> Option<String> {
    crate::rules::params(request.query_string())
        .ok()
        .and_then(|mut p| p.remove(EMAIL))
        .map(|e| e.trim().to_owned())
        .filter(|e| !e.is_empty())
}

/// The page's section: a search by email, and the links with an Unlink button each.
pub fn section(admin: &Admin, links: &[LinkedIdentity], searched: Option<&str>) -> Markup {
    html! {
        section class="card" id="linked-okta-users" {
            h2 { "Linked Okta users" }
            p {
                "At their first Okta sign-in an employee is linked to their Okta user; from \
                 then on only that Okta user signs in as them, whatever email another Okta \
                 user has. If an employee's Okta account was replaced, unlink the old one: \
                 their next sign-in links the new one. Unlinking also signs them out of Spark."
            }
            form method="get" action={ (SSO_PAGE) "#linked-okta-users" } class="search" {
                label for="identity-email" { "Employee email" }
                input type="email" id="identity-email" name=(EMAIL) value=(searched.unwrap_or(""));
                button type="submit" class="secondary" { "Find" }
            }
            @if links.is_empty() {
                @match searched {
                    Some(email) => {
                        p id="identities-empty" { "No Okta user is linked to " (email) "." }
                    }
                    None => {
                        p id="identities-empty" { "No one has signed in with Okta yet." }
                    }
                }
            } @else {
                table id="identities" {
                    thead {
                        tr {
                            th { "Employee" } th { "Okta user id" } th { "Okta org" }
                            th { "Linked" } th { "Last sign-in" } th {}
                        }
                    }
                    tbody {
                        @for link in links {
                            tr {
                                td {
                                    (link.email)
                                    @if !link.active { " (deactivated)" }
                                }
                                td class="code" { (link.subject) }
                                td class="code" { (link.issuer) }
                                td { time { (super::shared::rfc3339(link.linked_at)) } }
                                td { time { (super::shared::rfc3339(link.last_sign_in_at)) } }
                                td {
                                    (layout::button_form(
                                        admin,
                                        SSO_PAGE,
                                        &[("action", "unlink"), (EMAIL, &link.email)],
                                        "danger",
                                        "Unlink"
                                    ))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
