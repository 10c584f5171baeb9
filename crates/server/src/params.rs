//! Request parameters the way Go's `Request.FormValue` / `Request.Form` see
//! them: form-body values first, then query-string values, repeated keys kept,
//! every input under a size bound.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{Method, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::error::ApiError;

/// Size bounds on API request parameters.
#[derive(Debug, Clone)]
pub struct RequestLimits {
    /// Largest accepted `application/x-www-form-urlencoded` body, in bytes.
    pub max_form_bytes: usize,
    /// Longest accepted `query` / `match[]` expression, in bytes.
    pub max_expr_bytes: usize,
    /// Most `match[]` values in one request.
    pub max_matchers: usize,
}

impl Default for RequestLimits {
    fn default() -> Self {
        RequestLimits {
            max_form_bytes: 1 << 20,
            max_expr_bytes: 256 << 10,
            max_matchers: 1024,
        }
    }
}

/// Reads a whole body, refusing more than `limit` bytes with 413.
pub async fn read_body_limited(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(ApiError::too_large(
            format!("request body too large: more than {limit} bytes"),
        )),
        Err(e) => Err(ApiError::bad_data(format!(
            "error reading request body: {e}"
        ))),
    }
}

/// The decoded parameters of one request.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Collects parameters from the query string and, for POST/PUT/PATCH with a
    /// form content type, from the body (body values first, as Go orders them).
    pub async fn from_request(req: Request, limits: &RequestLimits) -> Result<Self, ApiError> {
        let (parts, body) = req.into_parts();
        let mut pairs = Vec::new();
        let has_form_body = matches!(parts.method, Method::POST | Method::PUT | Method::PATCH)
            && parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .is_some_and(|m| {
                    m.trim()
                        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
                });
        if has_form_body {
            let bytes = read_body_limited(body, limits.max_form_bytes).await?;
            pairs.extend(
                form_urlencoded::parse(&bytes).map(|(k, v)| (k.into_owned(), v.into_owned())),
            );
        }
        if let Some(q) = parts.uri.query() {
            pairs.extend(
                form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())),
            );
        }
        let params = Params { pairs };
        params.check(limits)?;
        Ok(params)
    }

    /// Parameters from explicit pairs (tests, other callers).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Params { pairs }
    }

    fn check(&self, limits: &RequestLimits) -> Result<(), ApiError> {
        let matchers = self.all("match[]");
        if matchers.len() > limits.max_matchers {
            return Err(ApiError::bad_data(format!(
                "too many match[] parameters: {}, at most {} are accepted",
                matchers.len(),
                limits.max_matchers
            )));
        }
        for m in matchers {
            if m.len() > limits.max_expr_bytes {
                return Err(ApiError::too_large(format!(
                    "match[] selector is {} bytes long, at most {} are accepted",
                    m.len(),
                    limits.max_expr_bytes
                )));
            }
        }
        let q = self.get("query");
        if q.len() > limits.max_expr_bytes {
            return Err(ApiError::too_large(format!(
                "query is {} bytes long, at most {} are accepted",
                q.len(),
                limits.max_expr_bytes
            )));
        }
        Ok(())
    }

    /// The first value of `name`, or "" when absent (Go's `FormValue`).
    pub fn get(&self, name: &str) -> &str {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }

    /// Every parameter, in order (body values first).
    pub fn pairs(&self) -> Vec<(&str, &str)> {
        self.pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(uri: &str, body: &str) -> Request {
        Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(
                header::CONTENT_TYPE,
                "application/x-www-form-urlencoded; charset=utf-8",
            )
            .body(Body::from(body.to_string()))
            .expect("request")
    }

    #[tokio::test]
    async fn body_before_query_string() {
        let p = Params::from_request(
            post("/x?query=b&match[]=3", "query=a&match%5B%5D=1&match[]=2"),
            &RequestLimits::default(),
        )
        .await
        .expect("params");
        assert_eq!(p.get("query"), "a");
        assert_eq!(p.all("match[]"), vec!["1", "2", "3"]);
        assert_eq!(p.get("absent"), "");
    }

    #[tokio::test]
    async fn bounds() {
        let limits = RequestLimits {
            max_form_bytes: 8,
            max_expr_bytes: 4,
            max_matchers: 1,
        };
        let e = Params::from_request(post("/x", "query=123456789"), &limits)
            .await
            .expect_err("body too large");
        assert_eq!(e.status().as_u16(), 413);
        let e = Params::from_request(post("/x?query=12345", ""), &limits)
            .await
            .expect_err("query too long");
        assert_eq!(e.status().as_u16(), 413);
        let e = Params::from_request(post("/x?match[]=a&match[]=b", ""), &limits)
            .await
            .expect_err("too many matchers");
        assert_eq!(e.status().as_u16(), 400);
    }
}
