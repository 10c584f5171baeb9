//! `/api/v1/series`, `/api/v1/labels`, `/api/v1/label/<name>/values`.

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::response::Response;
use model::{Labels, Matcher, Timestamp};
use storage::{Querier, SelectHints};

use crate::error::ApiError;
use crate::handlers::query::TRUNCATED_WARNING;
use crate::handlers::{json_ok, respond, run_blocking, time_param};
use crate::json;
use crate::params::Params;
use crate::parse::{MAX_TIME, MIN_TIME, parse_limit};
use crate::state::ApiState;

/// `GET|POST /api/v1/series`.
pub async fn series(State(st): State<Arc<ApiState>>, req: Request) -> Response {
    respond(series_inner(st, req).await)
}

/// `GET|POST /api/v1/labels`.
pub async fn label_names(State(st): State<Arc<ApiState>>, req: Request) -> Response {
    respond(label_names_inner(st, req).await)
}

/// `GET|POST /api/v1/label/<name>/values`.
pub async fn label_values(
    State(st): State<Arc<ApiState>>,
    Path(name): Path<String>,
    req: Request,
) -> Response {
    respond(label_values_inner(st, name, req).await)
}

/// The common parameters: limit, start, end.
struct Window {
    limit: usize,
    start: Timestamp,
    end: Timestamp,
}

impl Window {
    fn parse(p: &Params) -> Result<Self, ApiError> {
        let limit = parse_limit(p.get("limit")).map_err(|e| ApiError::invalid_param("limit", e))?;
        let start = time_param(p, "start", MIN_TIME)?;
        let end = time_param(p, "end", MAX_TIME)?;
        Ok(Window { limit, start, end })
    }

    fn hints(&self) -> SelectHints {
        SelectHints {
            start: self.start,
            end: self.end,
            // One more than asked, so that truncation can be detected.
            limit: if self.limit > 0 {
                self.limit.saturating_add(1)
            } else {
                0
            },
        }
    }

    fn open(&self, st: &ApiState) -> Result<Box<dyn Querier>, ApiError> {
        st.queryable
            .querier(self.start, self.end)
            .map_err(|e| ApiError::execution(e.to_string()))
    }
}

/// Parses every `match[]`, each needing a matcher that refuses the empty string.
fn matcher_sets(values: &[&str]) -> Result<Vec<Vec<Matcher>>, String> {
    const EMPTY: &str = "match[] must contain at least one non-empty matcher";
    let mut sets = Vec::with_capacity(values.len());
    for v in values {
        // Prometheus parses match[] without the expression checks, so a selector
        // of only empty-matching matchers fails on this API's own check instead.
        let set = promql::parse_metric_selector(v).map_err(|e| {
            let e = e.to_string();
            if e.contains("at least one non-empty matcher") {
                EMPTY.to_string()
            } else {
                e
            }
        })?;
        if set.iter().all(Matcher::matches_empty) {
            return Err(EMPTY.to_string());
        }
        sets.push(set);
    }
    Ok(sets)
}

fn truncate<T>(items: &mut Vec<T>, limit: usize) -> Vec<String> {
    if limit > 0 && items.len() > limit {
        items.truncate(limit);
        return vec![TRUNCATED_WARNING.to_string()];
    }
    Vec::new()
}

async fn series_inner(st: Arc<ApiState>, req: Request) -> Result<Response, ApiError> {
    let p = Params::from_request(req, &st.request_limits).await?;
    let matches = p.all("match[]");
    if matches.is_empty() {
        return Err(ApiError::bad_data("no match[] parameter provided"));
    }
    let w = Window::parse(&p)?;
    let limit = w.limit;
    let sets = matcher_sets(&matches).map_err(|e| ApiError::invalid_param("match[]", e))?;
    let state = st.clone();
    let mut found: Vec<Labels> = run_blocking(st.query_timeout(), move || {
        let q = w.open(&state)?;
        let mut all = BTreeSet::new();
        for set in &sets {
            let found = q
                .series(&w.hints(), set)
                .map_err(|e| ApiError::execution(e.to_string()))?;
            all.extend(found);
        }
        Ok(all.into_iter().collect())
    })
    .await?;
    let warnings = truncate(&mut found, limit);
    let mut data = String::from("[");
    for (i, l) in found.iter().enumerate() {
        if i > 0 {
            data.push(',');
        }
        json::write_labels(&mut data, l);
    }
    data.push(']');
    Ok(json_ok(json::success(&data, &warnings)))
}

async fn label_names_inner(st: Arc<ApiState>, req: Request) -> Result<Response, ApiError> {
    let p = Params::from_request(req, &st.request_limits).await?;
    let w = Window::parse(&p)?;
    let limit = w.limit;
    let sets = matcher_sets(&p.all("match[]")).map_err(ApiError::bad_data)?;
    let state = st.clone();
    let mut names: Vec<String> = run_blocking(st.query_timeout(), move || {
        let q = w.open(&state)?;
        collect_union(&sets, |m| q.label_names(&w.hints(), m))
    })
    .await?;
    let warnings = truncate(&mut names, limit);
    let mut data = String::new();
    json::write_str_array(&mut data, &names);
    Ok(json_ok(json::success(&data, &warnings)))
}

async fn label_values_inner(
    st: Arc<ApiState>,
    name: String,
    req: Request,
) -> Result<Response, ApiError> {
    let name = match name.strip_prefix("U__") {
        Some(escaped) => unescape_name(escaped).unwrap_or(name),
        None => name,
    };
    if name.is_empty() {
        return Err(ApiError::bad_data(format!("invalid label name: {name:?}")));
    }
    let p = Params::from_request(req, &st.request_limits).await?;
    let w = Window::parse(&p)?;
    let limit = w.limit;
    let sets = matcher_sets(&p.all("match[]")).map_err(ApiError::bad_data)?;
    let state = st.clone();
    let mut values: Vec<String> = run_blocking(st.query_timeout(), move || {
        let q = w.open(&state)?;
        collect_union(&sets, |m| q.label_values(&w.hints(), &name, m))
    })
    .await?;
    let warnings = truncate(&mut values, limit);
    let mut data = String::new();
    json::write_str_array(&mut data, &values);
    Ok(json_ok(json::success(&data, &warnings)))
}

/// Runs `f` once without matchers or once per matcher set, merging the sorted,
/// de-duplicated results.
fn collect_union<F>(sets: &[Vec<Matcher>], f: F) -> Result<Vec<String>, ApiError>
where
    F: Fn(&[Matcher]) -> Result<Vec<String>, storage::StorageError>,
{
    let run = |m: &[Matcher]| f(m).map_err(|e| ApiError::execution(e.to_string()));
    if sets.is_empty() {
        let mut v = run(&[])?;
        v.sort();
        v.dedup();
        return Ok(v);
    }
    let mut all = BTreeSet::new();
    for set in sets {
        all.extend(run(set)?);
    }
    Ok(all.into_iter().collect())
}

/// Undoes Prometheus's `U__` value-encoding escape of a label name: `__` is
/// `_`, `_<hex>_` is the code point, anything else stands for itself.
fn unescape_name(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '_' {
            out.push(c);
            continue;
        }
        if chars.peek() == Some(&'_') {
            chars.next();
            out.push('_');
            continue;
        }
        let mut hex = String::new();
        loop {
            match chars.next() {
                Some('_') => break,
                Some(h) if h.is_ascii_hexdigit() && hex.len() < 8 => hex.push(h),
                _ => return None,
            }
        }
        out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_names() {
        assert_eq!(unescape_name("foo_2e_bar").as_deref(), Some("foo.bar"));
        assert_eq!(unescape_name("a__b").as_deref(), Some("a_b"));
        assert_eq!(unescape_name("bad_zz_"), None);
        assert_eq!(unescape_name("open_2e"), None);
    }

    #[test]
    fn matcher_sets_need_a_non_empty_matcher() {
        assert!(matcher_sets(&[r#"up"#]).is_ok());
        assert_eq!(
            matcher_sets(&[r#"{a=~".*"}"#]).expect_err("all match empty"),
            "match[] must contain at least one non-empty matcher"
        );
        assert!(matcher_sets(&["up{"]).is_err());
    }
}
