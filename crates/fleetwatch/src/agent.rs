//! `fleetwatch agent`: discover, scrape, stamp the cluster, queue on disk, remote-write.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use clap::Args;

use crate::scraping::{self, Scraping};
use crate::{procmetrics, serve};

/// Flags of `fleetwatch agent`.
#[derive(Args, Debug, Clone)]
pub struct AgentArgs {
    /// This cluster's name: every series gets `cluster="NAME"`.
    #[arg(long)]
    pub cluster: String,
    /// The hub's remote-write URL, e.g. http://hub:9090/api/v1/write.
    #[arg(long)]
    pub hub: String,
    /// Data directory (the on-disk queue).
    #[arg(long)]
    pub data: PathBuf,
    /// Prometheus configuration file with the scrape jobs.
    #[arg(long)]
    pub config: PathBuf,
    /// Address of the agent's own /metrics and health endpoints.
    #[arg(long, default_value = "0.0.0.0:9091")]
    pub listen: String,
    /// Bound on the on-disk queue; past it the oldest data is dropped (and counted).
    #[arg(long, default_value_t = 1 << 30)]
    pub max_queue_bytes: u64,
    /// Longest a partial batch waits before it is sent (default: the config's queue_config).
    #[arg(long, value_parser = crate::hub::parse_duration)]
    pub batch_send_deadline: Option<Duration>,
}

/// A running agent.
pub struct RunningAgent {
    /// The address of its own HTTP endpoints.
    pub addr: std::net::SocketAddr,
    /// Completes when the agent has stopped.
    pub done: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// Runs the agent until SIGINT/SIGTERM.
pub async fn run(args: AgentArgs) -> anyhow::Result<()> {
    let a = start(args, serve::shutdown_signal()).await?;
    a.done.await.context("agent task panicked")?
}

/// Starts the agent; it stops when `shutdown` completes.
pub async fn start(
    args: AgentArgs,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<RunningAgent> {
    let started = procmetrics::now_secs();
    if args.cluster.is_empty() {
        anyhow::bail!("--cluster must not be empty");
    }
    reqwest::Url::parse(&args.hub)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .with_context(|| format!("--hub {:?} is not an http(s) URL", args.hub))?;
    let cfg = scraping::load_config(&args.config)?;
    if !cfg.remote_write.is_empty() {
        tracing::warn!(
            "{}: remote_write sections are ignored by the agent, which sends to --hub only",
            args.config.display()
        );
    }

    std::fs::create_dir_all(&args.data)
        .with_context(|| format!("creating data directory {}", args.data.display()))?;
    let queue_dir = args.data.join("queue");
    let max_bytes = args.max_queue_bytes;
    let external = external_label_rules(&cfg.global.external_labels)?;
    let rw = tokio::task::spawn_blocking(move || {
        remote::RemoteWrite::open(&queue_dir, max_bytes, external)
    })
    .await
    .context("opening the queue panicked")?
    .with_context(|| format!("opening the on-disk queue in {}", args.data.display()))?;
    let rw = Arc::new(rw);

    let client = reqwest::Client::builder()
        .user_agent(concat!("Fleetwatch/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("building the HTTP client")?;
    let mut sender_cfg = remote::SenderConfig::new(args.hub.clone(), client);
    if let Some(d) = args.batch_send_deadline {
        sender_cfg.queue.batch_send_deadline = d;
    }
    let sender = rw.start(sender_cfg);

    let scraping = Arc::new(Scraping::start(
        &cfg,
        rw.appendable(),
        scrape::ClusterLabel::Force(args.cluster.clone()),
        storage::WriteIdentity::Local,
    ));
    let reload_path = args.config.clone();
    let s = scraping.clone();
    scraping::reload_on_sighup(reload_path.clone(), move |c| s.reload(c));

    let ready = Arc::new(AtomicBool::new(true));
    let router = agent_router(AgentState {
        rw: rw.clone(),
        scraping: scraping.clone(),
        hub: args.hub.clone(),
        config: reload_path,
        started,
        ready: ready.clone(),
    });
    let (listener, addr) = serve::bind(&args.listen, &format!("agent {}", args.cluster)).await?;
    let done = tokio::spawn(async move {
        let res = serve::serve(listener, router, shutdown).await;
        ready.store(false, Ordering::SeqCst);
        scraping.shutdown().await;
        sender.shutdown().await;
        let q = rw.queue().clone();
        let synced = tokio::task::spawn_blocking(move || q.sync())
            .await
            .context("syncing the queue panicked")?;
        synced.context("syncing the queue")?;
        res
    });
    Ok(RunningAgent { addr, done })
}

/// `global.external_labels` as write-relabel rules: each label is added to a series that
/// does not have it, as Prometheus does for remote write. The `cluster` stamp comes first,
/// so an external `cluster` label never overrides `--cluster`.
fn external_label_rules(labels: &model::Labels) -> anyhow::Result<Vec<relabel::RelabelConfig>> {
    labels
        .iter()
        .map(|l| {
            let mut r = relabel::RelabelConfig::new(relabel::Action::Replace);
            r.source_labels = Some(vec![l.name.to_string()]);
            // Anchored: matches only a missing (empty) label.
            r.regex = Some(model::PromRegex::new("").context("empty regex")?);
            r.target_label = l.name.to_string();
            r.replacement = l.value.replace('$', "$$");
            r.validate(relabel::NameValidationScheme::Utf8)
                .with_context(|| format!("external label {}", l.name))?;
            Ok(r)
        })
        .collect()
}

#[derive(Clone)]
struct AgentState {
    rw: Arc<remote::RemoteWrite>,
    scraping: Arc<Scraping>,
    hub: String,
    config: PathBuf,
    started: f64,
    ready: Arc<AtomicBool>,
}

fn agent_router(state: AgentState) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route(
            "/-/healthy",
            get(|| async { "Fleetwatch agent is Healthy.\n" }),
        )
        .route("/-/ready", get(ready))
        .route("/-/reload", post(reload))
        .with_state(state)
}

async fn metrics(axum::extract::State(st): axum::extract::State<AgentState>) -> impl IntoResponse {
    let mut out = String::new();
    procmetrics::render(&mut out, st.started);
    st.rw.render("hub", &st.hub, &mut out);
    crate::targetmetrics::render(&st.scraping.manager().targets(), &mut out);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
}

async fn ready(axum::extract::State(st): axum::extract::State<AgentState>) -> impl IntoResponse {
    if st.ready.load(Ordering::SeqCst) {
        (StatusCode::OK, "Fleetwatch agent is Ready.\n")
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "Fleetwatch agent is not ready.\n",
        )
    }
}

/// `POST /-/reload`, as Prometheus's lifecycle API: a bad file is refused and the old one kept.
async fn reload(axum::extract::State(st): axum::extract::State<AgentState>) -> impl IntoResponse {
    match scraping::load_config(&st.config) {
        Ok(cfg) => {
            st.scraping.reload(&cfg);
            (StatusCode::OK, String::new())
        }
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failed to reload config: {e:#}\n"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_labels_fill_only_missing_labels() {
        let ext = model::Labels::from_pairs([("region", "eu-$1"), ("cluster", "ext")]);
        let rules = external_label_rules(&ext).expect("valid rules");
        let with_cluster = model::Labels::from_pairs([("__name__", "up"), ("cluster", "spoke-1")]);
        let out = relabel::process(&with_cluster, &rules).expect("kept");
        assert_eq!(out.get("cluster"), Some("spoke-1"));
        assert_eq!(out.get("region"), Some("eu-$1"));
        let with_region = model::Labels::from_pairs([("__name__", "up"), ("region", "us")]);
        let out = relabel::process(&with_region, &rules).expect("kept");
        assert_eq!(out.get("region"), Some("us"));
        assert_eq!(out.get("cluster"), Some("ext"));
    }
}
