//! What every admin page shares: the navigation, notices, copyable values, hidden CSRF
//! fields, and the one script (copy buttons; everything works without it).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use maud::{Markup, html};

use super::shared::{Admin, MARKETPLACE_PAGE, SCIM_PAGE, SSO_PAGE};
use crate::error::PageError;
use crate::html;

/// Where the copy-button script is served (same origin: the CSP allows only `'self'`).
pub const SCRIPT_PATH: &str = "/assets/admin.js";

/// Progressive enhancement: a `button[data-copy]` copies the value of the element whose
/// id it names, and says so. Without the script the value is still selectable text.
const SCRIPT: &str = r#""use strict";
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) return;
  const field = document.getElementById(button.dataset.copy);
  if (!field) return;
  const text = field.value !== undefined ? field.value : field.textContent;
  let copied = false;
  try {
    await navigator.clipboard.writeText(text);
    copied = true;
  } catch (_) {
    if (field.select) { field.select(); copied = document.execCommand("copy"); }
  }
  const label = button.textContent;
  button.textContent = copied ? "Copied" : "Press Ctrl+C to copy";
  setTimeout(() => { button.textContent = label; }, 2000);
});
"#;

/// `GET /assets/admin.js`.
pub async fn script() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "public, max-age=3600"))
        .body(SCRIPT)
}

/// The admin pages, for the navigation and the home page.
const PAGES: [(&str, &str); 3] = [
    (MARKETPLACE_PAGE, "Marketplace"),
    (SSO_PAGE, "Okta SSO"),
    (SCIM_PAGE, "Okta SCIM tokens"),
];

/// Links to the admin pages (the workspace home shows them to admins).
pub fn links() -> Markup {
    html! {
        h2 { "Administration" }
        ul {
            @for (path, name) in PAGES {
                li { a href=(path) { (name) } }
            }
        }
    }
}

/// A whole admin page: navigation (the current page marked), the signed-in admin with
/// a sign-out button, then `body`.
pub fn page(admin: &Admin, current: &str, title: &str, body: Markup) -> Markup {
    let full = html! {
        nav class="admin" aria-label="Administration" {
            a href="/" { (admin.tenant.name) }
            @for (path, name) in PAGES {
                a href=(path) aria-current=[(path == current).then_some("page")] { (name) }
            }
            span class="who" { (admin.employee.email) }
            (crate::session::logout_form(&admin.csrf_token))
        }
        h1 { (title) }
        (body)
    };
    html::document(title, "wide", full, Some(SCRIPT_PATH))
}

/// An HTML response of `status`.
pub fn respond(status: StatusCode, page: Markup) -> HttpResponse {
    html::respond(status, page)
}

/// A notice box: `kind` is `ok`, `warn` or `bad`.
pub fn notice(kind: &str, id: &str, content: Markup) -> Markup {
    let role = if kind == "bad" { "alert" } else { "status" };
    html! {
        div class={ "notice " (kind) } id=(id) role=(role) { (content) }
    }
}

/// A refusal's notice: `lead` ("Not saved", …), then the message and its stable code.
pub fn refusal(id: &str, lead: &str, error: &PageError) -> Markup {
    notice(
        "bad",
        id,
        html! {
            (lead) ": " (error.message()) " " span class="code" { (error.code()) }
        },
    )
}

/// The error shown under the form field `name` (its id `{name}-error`), when `error` is
/// about that field.
pub fn field_error(name: &str, error: Option<&PageError>) -> Option<Markup> {
    error.filter(|e| e.field() == Some(name)).map(|e| {
        html! {
            p class="field-error" id={ (name) "-error" } {
                (e.message()) " " span class="code" { (e.code()) }
            }
        }
    })
}

/// A label of Okta's Admin Console, as the admin will find it there. Every one the pages
/// show is in the reviewed list docs/okta-facts.md with the Okta page it comes from (a
/// test holds the pages to it).
pub fn okta(label: &str) -> Markup {
    html! { b class="okta" { (label) } }
}

/// A path through Okta's Admin Console: its labels, joined by arrows.
pub fn okta_path(labels: &[&str]) -> Markup {
    html! {
        @for (i, label) in labels.iter().enumerate() {
            @if i > 0 { " → " }
            (okta(label))
        }
    }
}

/// A read-only value with a copy button.
pub fn copyable(id: &str, label: &str, value: &str) -> Markup {
    html! {
        label for=(id) { (label) }
        div class="copyable" {
            input type="text" id=(id) value=(value) readonly;
            button type="button" class="secondary" data-copy=(id) { "Copy" }
        }
    }
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(admin: &Admin) -> Markup {
    html! {
        input type="hidden" name=(crate::csrf::FORM_FIELD) value=(admin.csrf_token);
    }
}

/// A one-button POST form to `action` with hidden fields.
pub fn button_form(
    admin: &Admin,
    action: &str,
    fields: &[(&str, &str)],
    button_class: &str,
    label: &str,
) -> Markup {
    html! {
        form method="post" action=(action) {
            (csrf_field(admin))
            @for (name, value) in fields {
                input type="hidden" name=(name) value=(value);
            }
            button type="submit" class=(button_class) { (label) }
        }
    }
}
