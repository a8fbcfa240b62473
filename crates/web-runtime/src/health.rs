//! `/healthz` (the process answers) and `/readyz` (it can reach its database, and is not
//! shutting down).

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
/// returns — no restart needed. Also 503 once the process is shutting down
/// ([`crate::Lifecycle`]), so the load balancer takes it out before it stops.
pub async fn readyz(
    db: web::Data<Database>,
    lifecycle: Option<web::Data<crate::Lifecycle>>,
) -> HttpResponse {
    if lifecycle.is_some_and(|l| l.is_draining()) {
        return HttpResponse::ServiceUnavailable()
            .content_type("application/json")
            .body(r#"{"status":"not ready","shutting_down":true}"#);
    }
    let db = db.get_ref().clone();
    let ready = crate::blocking(db.acquire_timeout(), move || db.ping()).await;
    match ready {
        Ok(Ok(())) => HttpResponse::Ok()
            .content_type("application/json")
            .body(r#"{"status":"ready","database":"ok"}"#),
        Err(crate::NotDone::Shed) => HttpResponse::ServiceUnavailable()
            .content_type("application/json")
            .body(r#"{"status":"not ready","overloaded":true}"#),
        _ => HttpResponse::ServiceUnavailable()
            .content_type("application/json")
            .body(r#"{"status":"not ready","database":"unreachable"}"#),
    }
}
