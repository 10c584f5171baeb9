//! `/federate`: the newest sample of every series matching `match[]`, within the
//! lookback window before now, in the text exposition format, as Prometheus's
//! federation endpoint serves it to another Prometheus.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use model::{Labels, METRIC_NAME_LABEL, Matcher, Timestamp, is_stale_nan};
use storage::SelectHints;

use crate::handlers::run_blocking;
use crate::params::Params;
use crate::state::ApiState;

/// The content type Prometheus 3 negotiates for a client without an `Accept` header.
pub const FEDERATE_CONTENT_TYPE: &str =
    "text/plain; version=0.0.4; charset=utf-8; escaping=underscores";

/// `GET|POST /federate?match[]=...`. Without `match[]` the answer is empty, as
/// Prometheus's. Errors are plain text, as Prometheus's `http.Error`.
pub async fn federate(State(st): State<Arc<ApiState>>, req: Request) -> Response {
    let p = match Params::from_request(req, &st.request_limits).await {
        Ok(p) => p,
        Err(e) => return plain(e.status(), &e.message),
    };
    let mut sets = Vec::new();
    for m in p.all("match[]") {
        match promql::parse_metric_selector(m) {
            Ok(set) => sets.push(set),
            Err(e) => return plain(StatusCode::BAD_REQUEST, &e.to_string()),
        }
    }
    let now = (st.now_ms)();
    let mint = now.saturating_sub(st.lookback_delta_ms());
    let state = st.clone();
    let found = run_blocking(st.query_timeout(), move || {
        latest_samples(&state, &sets, mint, now).map_err(crate::error::ApiError::internal)
    })
    .await;
    match found {
        Ok(samples) => {
            let body = render(&samples, &st.info.external_labels());
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, FEDERATE_CONTENT_TYPE)],
                body,
            )
                .into_response()
        }
        Err(e) => plain(e.status(), &e.message),
    }
}

fn plain(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response()
}

/// The newest non-stale sample in `[mint, maxt]` of each series any set matches,
/// sorted by labels (hence grouped by metric name).
fn latest_samples(
    st: &ApiState,
    sets: &[Vec<Matcher>],
    mint: Timestamp,
    maxt: Timestamp,
) -> Result<Vec<(Labels, Timestamp, f64)>, String> {
    let q = st
        .queryable
        .querier(mint, maxt)
        .map_err(|e| e.to_string())?;
    let hints = SelectHints {
        start: mint,
        end: maxt,
        limit: 0,
    };
    let mut out = BTreeMap::new();
    for set in sets {
        for s in q.select(&hints, set).map_err(|e| e.to_string())? {
            let last = s.samples.iter().rev().find(|p| p.t >= mint && p.t <= maxt);
            // The text format cannot carry a staleness marker: a series whose newest
            // sample is one is left out, as Prometheus does.
            if let Some(p) = last
                && !is_stale_nan(p.v)
            {
                out.insert(s.labels, (p.t, p.v));
            }
        }
    }
    let mut v: Vec<(Labels, Timestamp, f64)> =
        out.into_iter().map(|(l, (t, v))| (l, t, v)).collect();
    // Stable, so series of one name keep their label order.
    v.sort_by(|a, b| {
        a.0.get_or_empty(METRIC_NAME_LABEL)
            .cmp(b.0.get_or_empty(METRIC_NAME_LABEL))
    });
    Ok(v)
}

/// The text exposition of `samples`, with `external` labels appended to series that
/// lack them and `instance=""` when no external label names `instance`.
fn render(samples: &[(Labels, Timestamp, f64)], external: &Labels) -> String {
    let mut ext: BTreeMap<&str, &str> = external
        .iter()
        .map(|l| (l.name.as_str(), l.value.as_str()))
        .collect();
    ext.entry("instance").or_insert("");
    let mut out = String::new();
    let mut last_name: Option<&str> = None;
    for (labels, t, v) in samples {
        let name = labels.get_or_empty(METRIC_NAME_LABEL);
        // Nameless series cannot be exposed.
        if name.is_empty() {
            continue;
        }
        if last_name != Some(name) {
            let _ = writeln!(out, "# TYPE {} untyped", escape_name(name));
            last_name = Some(name);
        }
        out.push_str(&escape_name(name));
        let mut parts: Vec<(&str, &str)> = labels
            .iter()
            .filter(|l| l.name != METRIC_NAME_LABEL && !l.value.is_empty())
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect();
        for (n, val) in &ext {
            if !parts.iter().any(|(pn, _)| pn == n) {
                parts.push((n, val));
            }
        }
        if !parts.is_empty() {
            out.push('{');
            for (i, (n, val)) in parts.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&escape_name(n));
                out.push_str("=\"");
                escape_value(&mut out, val);
                out.push('"');
            }
            out.push('}');
        }
        // The text format writes floats as Go's `%g`.
        let _ = writeln!(out, " {} {t}", gofmt::go_g(*v));
    }
    out
}

/// A name as the `underscores` escaping scheme writes it: characters outside the
/// legacy set (and a leading digit) become `_`.
fn escape_name(name: &str) -> String {
    name.chars()
        .enumerate()
        .map(|(i, c)| {
            let ok =
                c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit());
            if ok { c } else { '_' }
        })
        .collect()
}

fn escape_value(out: &mut String, v: &str) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_like_go_g() {
        for (v, want) in [
            (1.0, "1"),
            (123456.0, "123456"),
            (1234567.0, "1.234567e+06"),
            (1e6, "1e+06"),
            (0.0001, "0.0001"),
            (0.00001234, "1.234e-05"),
            (-0.0, "-0"),
            (0.0, "0"),
            (1e21, "1e+21"),
            (1.5e300, "1.5e+300"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Inf"),
        ] {
            assert_eq!(gofmt::go_g(v), want, "{v}");
        }
    }

    #[test]
    fn exposition_grouped_with_external_labels() {
        let s = vec![
            (
                Labels::from_pairs([("__name__", "a"), ("job", "x"), ("z", "q\"\n\\")]),
                1000,
                1.0,
            ),
            (
                Labels::from_pairs([("__name__", "a"), ("instance", "i"), ("job", "y")]),
                2000,
                2.5,
            ),
            (Labels::from_pairs([("__name__", "b.c"), ("e", "")]), 3, 0.0),
            (Labels::from_pairs([("job", "nameless")]), 3, 0.0),
        ];
        let ext = Labels::from_pairs([("dc", "eu"), ("job", "ignored")]);
        assert_eq!(
            render(&s, &ext),
            "# TYPE a untyped\n\
             a{job=\"x\",z=\"q\\\"\\n\\\\\",dc=\"eu\",instance=\"\"} 1 1000\n\
             a{instance=\"i\",job=\"y\",dc=\"eu\"} 2.5 2000\n\
             # TYPE b_c untyped\n\
             b_c{dc=\"eu\",instance=\"\",job=\"ignored\"} 0 3\n"
        );
    }
}
