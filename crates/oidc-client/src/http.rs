//! The HTTP client every request to an org goes through: it never follows a redirect,
//! gives up after the configured timeouts, reads at most a set number of bytes of an
//! answer, and says what went wrong in terms an Okta admin can act on. Also the one
//! deadline over several requests.

use std::future::Future;
use std::time::Duration;

use crate::error::{ErrorCode, OidcError, config_error};

/// A JSON document as read, and how long it was.
pub(crate) struct Document {
    /// The parsed document.
    pub(crate) json: serde_json::Value,
    /// Its length on the wire, in bytes (what a cache of it counts).
    pub(crate) bytes: usize,
}

/// The HTTP client, and the most bytes of an answer it reads. Cheap to clone.
#[derive(Clone)]
pub(crate) struct HttpClient {
    client: reqwest::Client,
    max_document_bytes: usize,
}

impl HttpClient {
    /// A client that never follows redirects, with these timeouts, reading at most
    /// `max_document_bytes` of an answer.
    ///
    /// # Errors
    /// `OIDC_CONFIG_INVALID` when the client cannot be built (no TLS backend).
    pub(crate) fn new(
        connect_timeout: Duration,
        request_timeout: Duration,
        max_document_bytes: usize,
    ) -> Result<Self, OidcError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(connect_timeout)
            .timeout(request_timeout)
            .user_agent(concat!("spark-oidc-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| config_error(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            client,
            max_document_bytes,
        })
    }

    /// The underlying client, for openidconnect's requests.
    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// A POST request to `url`.
    pub(crate) fn post(&self, url: &str) -> reqwest::RequestBuilder {
        self.client.post(url)
    }

    /// GETs a JSON document, following no redirect; `code` is the error of every failure
    /// but an answer that is not JSON, which for discovery is `OKTA_DISCOVERY_INVALID`.
    pub(crate) async fn get_json(
        &self,
        url: &str,
        code: ErrorCode,
        what: &str,
    ) -> Result<Document, OidcError> {
        let response = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| {
                let why = if e.is_timeout() {
                    "it did not answer in time".to_owned()
                } else if e.is_connect() {
                    "it cannot be reached (check the org URL and that the org exists)".to_owned()
                } else {
                    "the request failed".to_owned()
                };
                OidcError::new(code, format!("fetching the {what} at {url} failed: {why}"))
            })?;
        let status = response.status();
        if status.is_redirection() {
            let to = response
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .unwrap_or("elsewhere");
            return Err(OidcError::new(
                code,
                format!(
                    "the {what} at {url} redirects to {to}; enter the Okta org URL itself \
                     (redirects are not followed)"
                ),
            ));
        }
        if !status.is_success() {
            return Err(OidcError::new(
                code,
                format!("the {what} at {url} answered HTTP {status}; check the Okta org URL"),
            ));
        }
        let not_json = || {
            OidcError::new(
                if code == ErrorCode::OktaDiscoveryUnreachable {
                    ErrorCode::OktaDiscoveryInvalid
                } else {
                    code
                },
                format!("the {what} at {url} is not JSON; is this an Okta org URL?"),
            )
        };
        let body = self.read_bounded(response, url, code, what).await?;
        let json = serde_json::from_slice(&body).map_err(|_| not_json())?;
        Ok(Document {
            json,
            bytes: body.len(),
        })
    }

    /// A response's body, refused as soon as it is longer than the most this client
    /// reads ([`ClientOptions::max_document_bytes`](crate::ClientOptions)).
    pub(crate) async fn read_bounded(
        &self,
        mut response: reqwest::Response,
        url: &str,
        code: ErrorCode,
        what: &str,
    ) -> Result<Vec<u8>, OidcError> {
        let limit = self.max_document_bytes;
        let too_long = || {
            OidcError::new(
                code,
                format!(
                    "the {what} at {url} is longer than {} KiB, far more than an Okta org \
                     sends; check the org URL",
                    limit / 1024
                ),
            )
        };
        if response
            .content_length()
            .is_some_and(|length| length > limit as u64)
        {
            return Err(too_long());
        }
        let mut body = Vec::new();
        loop {
            let chunk = response.chunk().await.map_err(|e| {
                let why = if e.is_timeout() {
                    "it did not finish answering in time"
                } else {
                    "the answer broke off"
                };
                OidcError::new(code, format!("fetching the {what} at {url} failed: {why}"))
            })?;
            let Some(chunk) = chunk else {
                return Ok(body);
            };
            if body.len() + chunk.len() > limit {
                return Err(too_long());
            }
            body.extend_from_slice(&chunk);
        }
    }
}

/// What `work` gives, or `late()` when it takes longer than `deadline` altogether (one
/// deadline over several requests, each of which has its own timeout too).
pub(crate) async fn within<T>(
    deadline: Duration,
    work: impl Future<Output = Result<T, OidcError>>,
    late: impl FnOnce() -> OidcError,
) -> Result<T, OidcError> {
    match tokio::time::timeout(deadline, work).await {
        Ok(result) => result,
        Err(_) => Err(late()),
    }
}
