//! The HTTP side: one client per distinct HTTP configuration, a JSON POST bounded by the
//! set's timeout, credentials read at request time (files re-read on every push, as
//! Prometheus does).

use std::time::Duration;

use config::{Authorization, BasicAuth, HttpClientConfig};
use reqwest::header;

use crate::error::SendError;

/// What is sent as `User-Agent` (the scrape clients' one: both are built alike).
pub use scrape::client::USER_AGENT;

/// Bytes of an error response kept for the log line.
const ERROR_BODY_EXCERPT: usize = 512;
/// Bytes of a response body read before the connection is given up instead of reused.
const MAX_BODY_READ: usize = 1 << 20;

/// A reqwest client with the credentials of one `alertmanagers` entry.
#[derive(Debug, Clone)]
pub(crate) struct HttpClient {
    http: reqwest::Client,
    basic_auth: Option<BasicAuth>,
    authorization: Option<Authorization>,
}

impl HttpClient {
    /// Builds the client: TLS, redirects, HTTP/2, as scrape clients are built.
    pub(crate) fn new(cfg: &HttpClientConfig) -> Result<Self, String> {
        let http = scrape::client::client_builder(cfg)
            .map_err(|e| e.to_string())?
            .build()
            .map_err(|e| scrape::client::error_chain(&e))?;
        Ok(HttpClient {
            http,
            basic_auth: cfg.basic_auth.clone(),
            authorization: cfg.authorization.clone(),
        })
    }

    /// POSTs `body` as JSON to `url`; any 2xx is success. The whole exchange, body
    /// included, is bounded by `timeout`.
    pub(crate) async fn post_json(
        &self,
        url: &str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<(), SendError> {
        let mut req = self
            .http
            .post(url)
            .header(header::CONTENT_TYPE, "application/json")
            .body(body);
        req = scrape::client::authorize(
            req,
            self.authorization.as_ref(),
            self.basic_auth.as_ref(),
            secret_or_file,
        )?;
        let exchange = async {
            let mut resp = req
                .send()
                .await
                .map_err(|e| SendError::Http(scrape::client::error_chain(&e)))?;
            let status = resp.status();
            // Read what the server sends (bounded) so that the connection can be reused.
            let mut excerpt = Vec::new();
            let mut read = 0usize;
            while read < MAX_BODY_READ {
                match resp.chunk().await {
                    Ok(Some(c)) => {
                        read += c.len();
                        let room = ERROR_BODY_EXCERPT.saturating_sub(excerpt.len());
                        excerpt.extend_from_slice(&c[..c.len().min(room)]);
                    }
                    Ok(None) | Err(_) => break,
                }
            }
            if status.is_success() {
                Ok(())
            } else {
                Err(SendError::Status {
                    status: status.to_string(),
                    body: String::from_utf8_lossy(&excerpt).trim().to_string(),
                })
            }
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| SendError::Timeout(timeout))?
    }
}

/// An inline secret, or the trimmed content of its file read now.
fn secret_or_file(inline: &str, file: &str, what: &'static str) -> Result<String, SendError> {
    scrape::client::read_secret(inline, file).map_err(|message| SendError::CredentialsFile {
        what,
        path: file.to_string(),
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_file_is_trimmed_and_named_in_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("token");
        std::fs::write(&f, "  abc\n").expect("write");
        let p = f.to_string_lossy().into_owned();
        assert_eq!(secret_or_file("", &p, "x").expect("read"), "abc");
        assert_eq!(secret_or_file("inline", "", "x").expect("inline"), "inline");
        let missing = dir.path().join("nope").to_string_lossy().into_owned();
        let e = secret_or_file("", &missing, "basic auth password").expect_err("missing");
        assert!(e.to_string().contains(&missing), "{e}");
    }
}
