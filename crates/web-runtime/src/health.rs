//! `/healthz` (the process answers) and `/readyz` (it can reach its database).

use actix_web::{HttpResponse, web};
use persistence::Database;

/// Liveness: 200 while the process serves requests at all.
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(r#"{"status":"ok"}"#)
}

/// Readiness: 200 when a database connection can be had and answers, else 503, so a
/// load balancer stops sending traffic while the database is away and resumes when it
/// returns — no restart needed.
pub async fn readyz(db: web::Data<Database>) -> HttpResponse {
    let db = db.get_ref().clone();
    let ready = crate::blocking(move || db.ping()).await;
    match ready {
        Some(Ok(())) => HttpResponse::Ok()
            .content_type("application/json")
            .body(r#"{"status":"ready","database":"ok"}"#),
        _ => HttpResponse::ServiceUnavailable()
            .content_type("application/json")
            .body(r#"{"status":"not ready","database":"unreachable"}"#),
    }
}
