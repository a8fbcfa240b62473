//! The request-id middleware: every request gets an id (the caller's `X-Request-Id` when
//! it is a sane token, else a new UUID), every log line written while serving it carries
//! the id, the response echoes it, and the request is counted in the metrics.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use tracing::Instrument;

use crate::metrics::{Metrics, RouteLabels};

/// The header that carries the request id, both ways.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The id of the request being served (in the request's extensions).
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// A caller's id is kept when it is 1–64 characters of `[A-Za-z0-9._-]`; anything else
/// is replaced, so a log line can never be forged through it.
fn accepted(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The middleware, for `App::wrap(actix_web::middleware::from_fn(observe))`. Needs a
/// [`Metrics`] in the app data.
pub async fn observe(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let started = Instant::now();
    let id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| accepted(v))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    request.extensions_mut().insert(RequestId(id.clone()));
    let method = crate::metrics::method_label(request.method());
    let metrics = request.app_data::<web::Data<Metrics>>().cloned();
    let span =
        tracing::info_span!("request", request_id = %id, method = %method, path = %request.path());
    let result = next.call(request).instrument(span.clone()).await;
    let mut response = result?;
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    span.in_scope(|| {
        tracing::info!(status, route = %route, duration_ms = elapsed.as_secs_f64() * 1000.0, "answered");
    });
    if let Some(metrics) = metrics {
        metrics.observe(
            RouteLabels {
                route,
                method,
                status,
            },
            elapsed.as_secs_f64(),
        );
    }
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::accepted;

    #[test]
    fn only_sane_ids_are_kept() {
        assert!(accepted("abc-123_x.y"));
        assert!(!accepted(""));
        assert!(!accepted("a b"));
        assert!(!accepted("line\nbreak"));
        assert!(!accepted(&"x".repeat(65)));
    }
}
