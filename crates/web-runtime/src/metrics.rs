//! Prometheus metrics: the HTTP request counts and latencies every service has, plus a
//! registry each service adds its own counters to. Exposed at `/metrics` in the text
//! format — but never on the public hosts ([`metrics_route`]): Prometheus scrapes each
//! replica's own address.
//!
//! Every label comes from a fixed set, so no request can create series: the method is
//! one of the standard ones or `OTHER`, the route is the matched pattern or `unmatched`.

use std::sync::{Arc, Mutex};

use actix_web::http::Method;
use actix_web::{HttpResponse, guard, web};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of the HTTP metrics: the route pattern (never the raw path, so ids do not
/// explode the series), the method and the status code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// The matched route pattern, e.g. `/scim/v2/Users/{id}`, or `unmatched`.
    pub route: String,
    /// The HTTP method: [`method_label`].
    pub method: &'static str,
    /// The response status code.
    pub status: u16,
}

fn latency_histogram() -> Histogram {
    // 0.25 ms … ~8 s.
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

/// The metrics of one service process. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
    requests: Family<RouteLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
}

impl Metrics {
    /// A registry with the HTTP metrics registered, names prefixed with `service`
    /// (`scim_api_http_requests_total`, …).
    pub fn new(service: &str) -> Self {
        let mut registry = Registry::with_prefix(service);
        let requests = Family::<RouteLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            latency.clone(),
        );
        Self {
            registry: Arc::new(Mutex::new(registry)),
            requests,
            latency,
        }
    }

    /// Adds a service-specific metric.
    pub fn register(
        &self,
        name: &str,
        help: &str,
        metric: impl prometheus_client::registry::Metric,
    ) {
        if let Ok(mut registry) = self.registry.lock() {
            registry.register(name, help, metric);
        }
    }

    /// Records one answered request.
    pub fn observe(&self, labels: RouteLabels, seconds: f64) {
        self.latency.get_or_create(&labels).observe(seconds);
        self.requests.get_or_create(&labels).inc();
    }

    /// The text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Ok(registry) = self.registry.lock() {
            let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        }
        out
    }
}

/// The label of a request's method: the standard methods by name, anything else (a
/// client may send any token) `OTHER`.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// The `GET /metrics` route, answering only requests whose `Host` is not a public host
/// of `base_domain` (`auth.{base_domain}`, a workspace's `{workspace}.{base_domain}`):
/// on those it does not exist, and the service answers its own 404. Prometheus reaches a
/// replica by its own address; what load balancers route to the public hosts never
/// shows the metrics, whatever paths they pass on.
pub fn metrics_route(base_domain: &str) -> actix_web::Route {
    let suffix = format!(
        ".{}",
        base_domain.trim_end_matches('.').to_ascii_lowercase()
    );
    web::get()
        .guard(guard::fn_guard(move |ctx| {
            let host = ctx
                .head()
                .headers()
                .get(actix_web::http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
                .or_else(|| ctx.head().uri.authority().map(|a| a.as_str().to_owned()))
                .unwrap_or_default();
            !is_public_host(&host, &suffix)
        }))
        .to(metrics_endpoint)
}

/// Whether `host` (a `Host` header: a name, maybe a port) is under `.{base_domain}`.
fn is_public_host(host: &str, suffix: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host,
    };
    name.trim_end_matches('.')
        .to_ascii_lowercase()
        .ends_with(suffix)
}

/// `GET /metrics`.
pub async fn metrics_endpoint(metrics: web::Data<Metrics>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(metrics.encode())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_a_fixed_set() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        for random in ["FOO", "X-7f3a", "PROPFIND", "get"] {
            let method = Method::from_bytes(random.as_bytes()).unwrap();
            assert_eq!(method_label(&method), "OTHER", "{random}");
        }
    }

    #[test]
    fn public_hosts_are_the_base_domains_subdomains() {
        let suffix = ".spark.work";
        for public in [
            "auth.spark.work",
            "acme.spark.work:443",
            "ACME.Spark.Work.",
            "a.b.spark.work",
        ] {
            assert!(is_public_host(public, suffix), "{public}");
        }
        for private in [
            "10.0.3.7:8081",
            "127.0.0.1",
            "localhost:8080",
            "spark.work",
            "evilspark.work",
            "",
        ] {
            assert!(!is_public_host(private, suffix), "{private}");
        }
    }
}
