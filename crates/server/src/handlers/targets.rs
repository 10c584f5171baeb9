//! `/api/v1/targets` and `/api/v1/scrape_pools`: the hub's own scrape targets and
//! the agents' targets, which the hub knows only from the `up` series they send.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::response::Response;
use model::{Labels, LabelsBuilder, Matcher, PromDuration, Timestamp, is_stale_nan};
use storage::{SelectHints, Series};

use crate::error::ApiError;
use crate::handlers::{json_ok, respond, run_blocking};
use crate::info::{ActiveTarget, DroppedTarget, ScrapeTargets, TargetHealth};
use crate::json;
use crate::params::Params;
use crate::state::ApiState;

/// How far back an agent's `up` series makes a target: a target whose last `up`
/// sample is older is gone.
pub const AGENT_TARGET_WINDOW_MS: i64 = 5 * 60 * 1000;

/// `GET /api/v1/targets?state=active|dropped|any&scrapePool=...`.
pub async fn targets(State(st): State<Arc<ApiState>>, req: Request) -> Response {
    respond(targets_inner(st, req).await)
}

/// `GET /api/v1/scrape_pools`: the pools of the hub's and the agents' targets.
pub async fn scrape_pools(State(st): State<Arc<ApiState>>) -> Response {
    respond(pools_inner(st).await)
}

async fn targets_inner(st: Arc<ApiState>, req: Request) -> Result<Response, ApiError> {
    let p = Params::from_request(req, &st.request_limits).await?;
    let state = p.get("state").to_ascii_lowercase();
    let pool = p.get("scrapePool").to_string();
    let show_active = matches!(state.as_str(), "" | "any" | "active");
    let show_dropped = matches!(state.as_str(), "" | "any" | "dropped");
    let own = st.info.scrape_targets();
    let mut active = if show_active {
        let mut all = own.active.clone();
        all.extend(agent_targets_blocking(&st, &own).await?);
        all
    } else {
        Vec::new()
    };
    active.retain(|t| pool.is_empty() || t.scrape_pool == pool);
    active.sort_by(|a, b| (&a.scrape_pool, &a.labels).cmp(&(&b.scrape_pool, &b.labels)));
    let mut dropped: Vec<&DroppedTarget> = own
        .dropped
        .iter()
        .filter(|t| show_dropped && (pool.is_empty() || t.scrape_pool == pool))
        .collect();
    dropped.sort_by(|a, b| {
        (&a.scrape_pool, &a.discovered_labels).cmp(&(&b.scrape_pool, &b.discovered_labels))
    });

    let mut d = String::from(r#"{"activeTargets":["#);
    for (i, t) in active.iter().enumerate() {
        if i > 0 {
            d.push(',');
        }
        write_active(&mut d, t);
    }
    d.push_str(r#"],"droppedTargets":["#);
    for (i, t) in dropped.iter().enumerate() {
        if i > 0 {
            d.push(',');
        }
        d.push_str(r#"{"discoveredLabels":"#);
        json::write_labels(&mut d, &t.discovered_labels);
        d.push_str(r#","scrapePool":"#);
        json::write_str(&mut d, &t.scrape_pool);
        d.push('}');
    }
    // Prometheus sends null counts when dropped targets were not asked for.
    d.push_str(r#"],"droppedTargetCounts":"#);
    if show_dropped {
        let counts: BTreeMap<&str, usize> = own
            .dropped_counts
            .iter()
            .map(|(k, v)| (k.as_str(), *v))
            .collect();
        d.push('{');
        for (i, (k, v)) in counts.iter().enumerate() {
            if i > 0 {
                d.push(',');
            }
            json::write_str(&mut d, k);
            d.push_str(&format!(":{v}"));
        }
        d.push('}');
    } else {
        d.push_str("null");
    }
    d.push('}');
    Ok(json_ok(json::success(&d, &[])))
}

async fn pools_inner(st: Arc<ApiState>) -> Result<Response, ApiError> {
    let own = st.info.scrape_targets();
    let mut pools: BTreeSet<String> = own.active.iter().map(|t| t.scrape_pool.clone()).collect();
    pools.extend(own.dropped_counts.iter().map(|(k, _)| k.clone()));
    pools.extend(
        agent_targets_blocking(&st, &own)
            .await?
            .into_iter()
            .map(|t| t.scrape_pool),
    );
    let pools: Vec<String> = pools.into_iter().collect();
    let mut d = String::from(r#"{"scrapePools":"#);
    json::write_str_array(&mut d, &pools);
    d.push('}');
    Ok(json_ok(json::success(&d, &[])))
}

fn write_active(d: &mut String, t: &ActiveTarget) {
    d.push_str(r#"{"discoveredLabels":"#);
    json::write_labels(d, &t.discovered_labels);
    d.push_str(r#","labels":"#);
    json::write_labels(d, &t.labels);
    d.push_str(r#","scrapePool":"#);
    json::write_str(d, &t.scrape_pool);
    d.push_str(r#","scrapeUrl":"#);
    json::write_str(d, &t.scrape_url);
    d.push_str(r#","globalUrl":"#);
    json::write_str(d, &t.scrape_url);
    d.push_str(r#","lastError":"#);
    json::write_str(d, &t.last_error);
    d.push_str(r#","lastScrape":"#);
    match t.last_scrape {
        Some(when) => json::write_go_time(d, when),
        None => json::write_str(d, gofmt::ZERO_TIME),
    }
    let dur = if t.last_scrape_duration.is_finite() {
        t.last_scrape_duration
    } else {
        0.0
    };
    d.push_str(r#","lastScrapeDuration":"#);
    d.push_str(&json::format_float(dur));
    d.push_str(r#","health":"#);
    json::write_str(d, t.health.as_str());
    d.push_str(r#","scrapeInterval":"#);
    json::write_str(d, &t.scrape_interval);
    d.push_str(r#","scrapeTimeout":"#);
    json::write_str(d, &t.scrape_timeout);
    d.push('}');
}

async fn agent_targets_blocking(
    st: &Arc<ApiState>,
    own: &ScrapeTargets,
) -> Result<Vec<ActiveTarget>, ApiError> {
    let state = st.clone();
    let own = own.clone();
    let now = (st.now_ms)();
    run_blocking(st.query_timeout(), move || {
        agent_targets(&state, &own, now).map_err(ApiError::internal)
    })
    .await
}

/// Targets from the `up` series of the last [`AGENT_TARGET_WINDOW_MS`] before `now`,
/// minus the hub's own targets (whose `up` series carry the hub's cluster).
fn agent_targets(
    st: &ApiState,
    own: &ScrapeTargets,
    now: Timestamp,
) -> Result<Vec<ActiveTarget>, String> {
    let mint = now.saturating_sub(AGENT_TARGET_WINDOW_MS);
    let q = st.queryable.querier(mint, now).map_err(|e| e.to_string())?;
    let hints = SelectHints {
        start: mint,
        end: now,
        limit: 0,
    };
    let select = |name: &str| -> Result<Vec<Series>, String> {
        let m = [Matcher::equal(model::METRIC_NAME_LABEL, name)];
        q.select(&hints, &m).map_err(|e| e.to_string())
    };
    let durations: BTreeMap<Labels, Series> = select("scrape_duration_seconds")?
        .into_iter()
        .map(|s| (s.labels.without_metric_name(), s))
        .collect();
    let own_keys: BTreeSet<Labels> = own
        .active
        .iter()
        .map(|t| without_cluster(&t.labels))
        .collect();
    let mut out = Vec::new();
    for s in select("up")? {
        let in_window: Vec<_> = s
            .samples
            .iter()
            .filter(|p| p.t >= mint && p.t <= now)
            .collect();
        let Some(last) = in_window.last() else {
            continue;
        };
        // A staleness marker means the agent stopped scraping the target.
        if is_stale_nan(last.v) {
            continue;
        }
        let labels = s.labels.without_metric_name();
        if own
            .local_cluster
            .as_deref()
            .is_some_and(|c| labels.get("cluster") == Some(c))
            && own_keys.contains(&without_cluster(&labels))
        {
            continue;
        }
        let health = if last.v == 1.0 {
            TargetHealth::Up
        } else if last.v == 0.0 {
            TargetHealth::Down
        } else {
            TargetHealth::Unknown
        };
        let duration = durations.get(&labels).and_then(|d| {
            d.samples
                .iter()
                .rev()
                .find(|p| p.t <= last.t && !is_stale_nan(p.v))
                .map(|p| p.v)
        });
        // The interval is read off the spacing of the last two scrapes.
        let interval = match in_window.len() {
            n if n >= 2 => {
                let gap = last.t - in_window[n - 2].t;
                u64::try_from(gap)
                    .ok()
                    .filter(|g| *g > 0)
                    .map(|g| PromDuration::from_millis(g).to_string())
                    .unwrap_or_default()
            }
            _ => String::new(),
        };
        out.push(ActiveTarget {
            scrape_pool: labels.get_or_empty("job").to_string(),
            scrape_url: scrape_url(labels.get_or_empty("instance")),
            labels,
            discovered_labels: Labels::empty(),
            last_error: String::new(),
            last_scrape: ms_to_time(last.t),
            last_scrape_duration: duration.unwrap_or(0.0),
            health,
            scrape_interval: interval,
            scrape_timeout: String::new(),
        });
    }
    Ok(out)
}

fn without_cluster(l: &Labels) -> Labels {
    let mut b = LabelsBuilder::new(l.clone());
    b.del("cluster");
    b.build()
}

/// The URL an `instance` most likely names: itself when it has a scheme, else
/// `http://<instance>/metrics` (Prometheus's defaults).
fn scrape_url(instance: &str) -> String {
    if instance.is_empty() {
        String::new()
    } else if instance.contains("://") {
        instance.to_string()
    } else {
        format!("http://{instance}/metrics")
    }
}

fn ms_to_time(t: Timestamp) -> Option<SystemTime> {
    let ms = u64::try_from(t).ok()?;
    UNIX_EPOCH.checked_add(Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_from_instances() {
        assert_eq!(scrape_url("a:9100"), "http://a:9100/metrics");
        assert_eq!(scrape_url("https://x/probe"), "https://x/probe");
        assert_eq!(scrape_url(""), "");
    }
}
