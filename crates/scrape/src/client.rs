//! The HTTP side of a scrape: one client per scrape configuration, credentials read at
//! request time (files re-read on every scrape, as Prometheus does), a bounded body.

use std::time::Duration;

use config::{Authorization, BasicAuth, HttpClientConfig};
use http::header;

use crate::error::{ClientError, ScrapeError};

/// What is sent as `User-Agent`.
pub const USER_AGENT: &str = concat!("Fleetwatch/", env!("CARGO_PKG_VERSION"));

/// Body bound when `body_size_limit` is 0 (no limit configured).
pub const DEFAULT_BODY_SIZE_LIMIT: u64 = 256 << 20;

/// A page fetched from a target.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The (decompressed) body.
    pub body: Vec<u8>,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
}

/// A reqwest client builder for `cfg`: TLS, `User-Agent`, redirects, no proxy, HTTP/2 or
/// HTTP/1 only. Shared by scrape and notifier clients so that both speak HTTP alike.
pub fn client_builder(cfg: &HttpClientConfig) -> Result<reqwest::ClientBuilder, ClientError> {
    let tls = crate::tls::client_config(&cfg.tls_config, cfg.enable_http2)?;
    let mut b = reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .user_agent(USER_AGENT)
        .redirect(if cfg.follow_redirects {
            reqwest::redirect::Policy::limited(10)
        } else {
            reqwest::redirect::Policy::none()
        })
        .no_proxy();
    if !cfg.enable_http2 {
        b = b.http1_only();
    }
    Ok(b)
}

/// The HTTP client of one scrape configuration.
#[derive(Debug, Clone)]
pub struct ScrapeClient {
    http: reqwest::Client,
    basic_auth: Option<BasicAuth>,
    authorization: Option<Authorization>,
    compression: bool,
}

impl ScrapeClient {
    /// Builds the client of a job: TLS, redirects, HTTP/2, compression.
    pub fn new(cfg: &HttpClientConfig, enable_compression: bool) -> Result<Self, ClientError> {
        let http = client_builder(cfg)?
            .gzip(enable_compression)
            .build()
            .map_err(|e| ClientError::Build(e.to_string()))?;
        Ok(ScrapeClient {
            http,
            basic_auth: cfg.basic_auth.clone(),
            authorization: cfg.authorization.clone(),
            compression: enable_compression,
        })
    }

    /// GETs `url` within `timeout`, refusing bodies of `limit` bytes or more and non-2xx statuses.
    /// `size_hint` (the previous body's size) sizes the buffer up front.
    pub async fn fetch(
        &self,
        url: &str,
        timeout: Duration,
        limit: u64,
        size_hint: usize,
    ) -> Result<Fetched, ScrapeError> {
        let mut req = self
            .http
            .get(url)
            .header(header::ACCEPT, exposition::SCRAPE_ACCEPT_HEADER)
            .header(
                "X-Prometheus-Scrape-Timeout-Seconds",
                format_seconds(timeout),
            );
        if !self.compression {
            req = req.header(header::ACCEPT_ENCODING, "identity");
        }
        req = authorize(
            req,
            self.authorization.as_ref(),
            self.basic_auth.as_ref(),
            secret_or_file,
        )?;
        let run = async {
            let http_err = |e: reqwest::Error| ScrapeError::Http {
                url: url.to_string(),
                message: error_chain(&e),
            };
            let mut resp = req.send().await.map_err(http_err)?;
            if !resp.status().is_success() {
                return Err(ScrapeError::Status(resp.status().to_string()));
            }
            let content_type = resp
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let mut body = Vec::with_capacity(size_hint.min(limit as usize));
            while let Some(chunk) = resp.chunk().await.map_err(http_err)? {
                // Reaching the limit already fails, as in Prometheus.
                if (body.len() + chunk.len()) as u64 >= limit {
                    return Err(ScrapeError::BodySizeLimit(limit));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Fetched { body, content_type })
        };
        tokio::time::timeout(timeout, run)
            .await
            .map_err(|_| ScrapeError::Timeout {
                url: url.to_string(),
                timeout,
            })?
    }
}

/// An inline secret, or the trimmed content of its file read now.
fn secret_or_file(inline: &str, file: &str, what: &'static str) -> Result<String, ScrapeError> {
    read_secret(inline, file).map_err(|message| ScrapeError::CredentialsFile {
        what,
        path: file.to_string(),
        message,
    })
}

/// Adds `authorization` or `basic_auth` credentials to a request, reading their files
/// now through `secret` (inline value, file, what it is), whose error the caller chooses.
pub fn authorize<E>(
    mut req: reqwest::RequestBuilder,
    authorization: Option<&Authorization>,
    basic_auth: Option<&BasicAuth>,
    secret: impl Fn(&str, &str, &'static str) -> Result<String, E>,
) -> Result<reqwest::RequestBuilder, E> {
    if let Some(a) = authorization {
        let creds = secret(
            a.credentials.expose(),
            &a.credentials_file,
            "authorization credentials",
        )?;
        req = req.header(
            reqwest::header::AUTHORIZATION,
            format!("{} {}", a.kind, creds),
        );
    }
    if let Some(b) = basic_auth {
        let user = secret(&b.username, &b.username_file, "basic auth username")?;
        let pass = secret(b.password.expose(), &b.password_file, "basic auth password")?;
        req = req.basic_auth(user, Some(pass));
    }
    Ok(req)
}

/// An inline secret, or the trimmed content of `file` (when set) read now, as every
/// client configuration's `*_file` settings are; the error says why the file failed.
pub fn read_secret(inline: &str, file: &str) -> Result<String, String> {
    if file.is_empty() {
        return Ok(inline.to_string());
    }
    // Credential files are tiny; a bound keeps a mistaken path from loading a huge file.
    const MAX: u64 = 1 << 20;
    let meta = std::fs::metadata(file).map_err(|e| e.to_string())?;
    if meta.len() > MAX {
        return Err(format!("file is larger than {MAX} bytes"));
    }
    let s = std::fs::read_to_string(file).map_err(|e| e.to_string())?;
    Ok(s.trim().to_string())
}

/// Seconds as Go's `strconv.FormatFloat(s, 'f', -1, 64)` writes them: `10`, `0.5`.
fn format_seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    format!("{s}")
}

/// An error with its causes, so that "connection refused" is not hidden behind "error sending request".
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cur = c.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_like_go() {
        assert_eq!(format_seconds(Duration::from_secs(10)), "10");
        assert_eq!(format_seconds(Duration::from_millis(500)), "0.5");
    }

    #[test]
    fn credentials_file_is_trimmed_and_named_in_errors() {
        let dir = std::env::temp_dir().join(format!("scrape-cred-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let f = dir.join("token");
        std::fs::write(&f, "  abc\n").expect("write");
        let p = f.to_string_lossy().into_owned();
        assert_eq!(secret_or_file("", &p, "x").expect("read"), "abc");
        assert_eq!(secret_or_file("inline", "", "x").expect("inline"), "inline");
        let missing = dir.join("nope").to_string_lossy().into_owned();
        let e = secret_or_file("", &missing, "authorization credentials").expect_err("missing");
        assert!(e.to_string().contains(&missing), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
