//! What every admin page shares: the navigation, notices, copyable values, hidden CSRF
//! fields, and the one script (copy buttons; everything works without it).

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};

use super::shared::{Admin, MARKETPLACE_PAGE, SCIM_PAGE, SSO_PAGE};
use crate::error::PageError;
use crate::html::{self, escape};

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
pub fn links() -> String {
    let items: String = PAGES
        .iter()
        .map(|(path, name)| format!("<li><a href=\"{path}\">{name}</a></li>"))
        .collect();
    format!("<h2>Administration</h2><ul>{items}</ul>")
}

/// A whole admin page: navigation (the current page marked), the signed-in admin with
/// a sign-out button, then `body`.
pub fn page(admin: &Admin, current: &str, title: &str, body: &str) -> String {
    let nav: String = PAGES
        .iter()
        .map(|(path, name)| {
            let current = if *path == current {
                " aria-current=\"page\""
            } else {
                ""
            };
            format!("<a href=\"{path}\"{current}>{name}</a>")
        })
        .collect();
    let full = format!(
        "<nav class=\"admin\" aria-label=\"Administration\"><a href=\"/\">{}</a>{nav}\
         <span class=\"who\">{}</span>{}</nav><h1>{}</h1>{body}",
        escape(&admin.tenant.name),
        escape(&admin.employee.email),
        crate::session::logout_form(&admin.csrf_token),
        escape(title),
    );
    html::document(title, "wide", &full, Some(SCRIPT_PATH))
}

/// An HTML response of `status`.
pub fn respond(status: StatusCode, page: String) -> HttpResponse {
    html::respond(status, page)
}

/// A notice box: `kind` is `ok`, `warn` or `bad`; `text_html` is already escaped.
pub fn notice(kind: &str, id: &str, text_html: &str) -> String {
    let role = if kind == "bad" { "alert" } else { "status" };
    format!("<div class=\"notice {kind}\" id=\"{id}\" role=\"{role}\">{text_html}</div>")
}

/// A refusal's notice: `lead` ("Not saved", …), then the message and its stable code.
pub fn refusal(id: &str, lead: &str, error: &PageError) -> String {
    notice(
        "bad",
        id,
        &format!(
            "{}: {} <span class=\"code\">{}</span>",
            escape(lead),
            escape(error.message()),
            escape(error.code())
        ),
    )
}

/// The error shown under the form field `name` (its id `{name}-error`), when `error` is
/// about that field; else nothing.
pub fn field_error(name: &str, error: Option<&PageError>) -> String {
    error
        .filter(|e| e.field() == Some(name))
        .map(|e| {
            format!(
                "<p class=\"field-error\" id=\"{name}-error\">{} <span class=\"code\">{}</span></p>",
                escape(e.message()),
                escape(e.code())
            )
        })
        .unwrap_or_default()
}

/// A label of Okta's Admin Console, as the admin will find it there. Every one the pages
/// show is in the reviewed list docs/okta-facts.md with the Okta page it comes from (a
/// test holds the pages to it).
pub fn okta(label: &str) -> String {
    format!("<b class=\"okta\">{}</b>", escape(label))
}

/// A path through Okta's Admin Console: its labels, joined by arrows.
pub fn okta_path(labels: &[&str]) -> String {
    labels
        .iter()
        .map(|label| okta(label))
        .collect::<Vec<_>>()
        .join(" → ")
}

/// A read-only value with a copy button.
pub fn copyable(id: &str, label: &str, value: &str) -> String {
    format!(
        "<label for=\"{id}\">{}</label><div class=\"copyable\">\
         <input type=\"text\" id=\"{id}\" value=\"{}\" readonly>\
         <button type=\"button\" class=\"secondary\" data-copy=\"{id}\">Copy</button></div>",
        escape(label),
        escape(value)
    )
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(admin: &Admin) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        crate::csrf::FORM_FIELD,
        escape(&admin.csrf_token)
    )
}

/// A one-button POST form to `action` with hidden fields.
pub fn button_form(
    admin: &Admin,
    action: &str,
    fields: &[(&str, &str)],
    button_class: &str,
    label: &str,
) -> String {
    let hidden: String = fields
        .iter()
        .map(|(name, value)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(name),
                escape(value)
            )
        })
        .collect();
    format!(
        "<form method=\"post\" action=\"{}\">{}{hidden}\
         <button type=\"submit\" class=\"{}\">{}</button></form>",
        escape(action),
        csrf_field(admin),
        escape(button_class),
        escape(label)
    )
}
