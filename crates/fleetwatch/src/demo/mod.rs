//! `fleetwatch demo`: a hub and agents for two clusters (`demo-east`, `demo-west`) on
//! loopback, each agent scraping synthetic node_exporter, kube-state-metrics and
//! cAdvisor targets that the demo serves itself; the hub evaluates the demo's rules
//! (`rules`), and an alert fires for each cluster.

mod rules;
mod targets;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::routing::get;
use clap::Args;
use tokio::sync::watch;

use crate::{agent, hub, serve};
pub use targets::{Kind, Target};

/// The clusters the demo simulates.
pub const CLUSTERS: [&str; 2] = ["demo-east", "demo-west"];
const NODES: [&str; 2] = ["node-1", "node-2"];

/// Flags of `fleetwatch demo`.
#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Where the hub serves its API.
    #[arg(long, default_value = "127.0.0.1:9300")]
    pub listen: String,
    /// Keep data here instead of a temporary directory.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Scrape interval of the simulated clusters.
    #[arg(long, default_value = "5s", value_parser = hub::parse_duration)]
    pub scrape_interval: Duration,
}

/// Runs the demo until SIGINT/SIGTERM.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let tmp;
    let data: PathBuf = match &args.data {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::Builder::new()
                .prefix("fleetwatch-demo-")
                .tempdir()
                .context("creating a temporary data directory")?;
            tmp.path().to_path_buf()
        }
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = move || {
        let mut rx = stop_rx.clone();
        async move {
            let _ = rx.wait_for(|s| *s).await;
        }
    };

    let hub_config = rules::write_hub_config(&data.join("hub-config"), args.scrape_interval)?;
    let hub = hub::start(
        hub::HubArgs {
            listen: args.listen.clone(),
            data: data.join("hub"),
            config: Some(hub_config.clone()),
            cluster: "hub".into(),
            wal_fsync: hub::FsyncMode::Interval,
            wal_fsync_interval: Duration::from_secs(1),
            retention_time: Duration::ZERO,
            retention_size: 0,
            out_of_order_window: Duration::from_secs(24 * 3600),
            min_block_duration: Duration::from_secs(2 * 3600),
            maintenance_interval: Duration::from_secs(60),
        },
        stopped(),
    )
    .await?;
    let write_url = format!("http://{}/api/v1/write", hub.addr);

    let mut agents = Vec::new();
    for cluster in CLUSTERS {
        let dir = data.join(cluster);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let config = serve_targets(cluster, &dir, args.scrape_interval, stopped()).await?;
        let a = agent::start(
            agent::AgentArgs {
                cluster: cluster.to_string(),
                hub: write_url.clone(),
                data: dir.join("agent"),
                config,
                listen: "127.0.0.1:0".into(),
                max_queue_bytes: 256 << 20,
                batch_send_deadline: Some(Duration::from_secs(1)),
            },
            stopped(),
        )
        .await?;
        agents.push(a);
    }

    let url = format!("http://{}", hub.addr);
    println!();
    println!(
        "Fleetwatch demo: a hub and two clusters ({}) on loopback.",
        CLUSTERS.join(", ")
    );
    println!("  hub API:      {url}/api/v1/query?query=up");
    println!(
        "  try:          curl -s '{url}/api/v1/query' --data-urlencode 'query=up{{job=\"node-exporter\"}}'"
    );
    println!("  or:           promtool query instant {url} 'node_load1'");
    println!("  rules:        {url}/api/v1/rules");
    println!(
        "  alerts:       {url}/api/v1/alerts ({} fires for both clusters)",
        rules::FIRING_ALERT
    );
    println!(
        "  rule file:    {} (edit, then: curl -X POST {url}/-/reload)",
        hub_config.with_file_name("demo-rules.yml").display()
    );
    println!("  remote write: {write_url}");
    for (cluster, a) in CLUSTERS.iter().zip(&agents) {
        println!("  agent {cluster}: http://{}/metrics", a.addr);
    }
    println!(
        "  data:         {}{}",
        data.display(),
        if args.data.is_none() {
            " (temporary)"
        } else {
            ""
        }
    );
    let secs = args.scrape_interval.as_secs().max(1);
    println!(
        "Series from both clusters appear within {}s, alerts within {}s. Ctrl-C stops the demo.",
        secs * 2 + 5,
        secs * 6 + 5
    );
    println!();

    serve::shutdown_signal().await;
    let _ = stop_tx.send(true);
    for a in agents {
        if let Err(e) = a.done.await.context("agent task panicked")? {
            tracing::warn!("agent stopped with an error: {e:#}");
        }
    }
    hub.done.await.context("hub task panicked")??;
    Ok(())
}

/// Starts one cluster's synthetic targets and writes the agent configuration that scrapes them.
async fn serve_targets(
    cluster: &str,
    dir: &Path,
    interval: Duration,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<PathBuf> {
    let nodes: Vec<String> = NODES.iter().map(|n| n.to_string()).collect();
    let mut router = Router::new();
    let mut jobs = String::new();
    // One listener for all targets keeps the demo light; each target has its own path,
    // and `instance` is set per target so series stay apart.
    let (listener, addr) =
        serve::bind("127.0.0.1:0", &format!("{cluster} synthetic targets")).await?;
    let mut node_targets = String::new();
    let mut cadvisor_targets = String::new();
    for node in &nodes {
        for (kind, list) in [
            (Kind::NodeExporter, &mut node_targets),
            (Kind::Cadvisor, &mut cadvisor_targets),
        ] {
            let t = Target {
                kind,
                cluster: cluster.to_string(),
                node: node.clone(),
                nodes: nodes.clone(),
            };
            let path = match kind {
                Kind::NodeExporter => format!("/{node}/node-exporter/metrics"),
                _ => format!("/{node}/kubelet/metrics/cadvisor"),
            };
            router = router.route(&path, get(move || async move { t.render() }));
            list.push_str(&format!(
                "      - targets: ['{addr}']\n        labels: {{instance: '{node}', node: '{node}', __metrics_path__: '{path}'}}\n"
            ));
        }
    }
    let ksm = Target {
        kind: Kind::KubeStateMetrics,
        cluster: cluster.to_string(),
        node: nodes[0].clone(),
        nodes: nodes.clone(),
    };
    router = router.route(
        "/kube-state-metrics/metrics",
        get(move || async move { ksm.render() }),
    );
    let secs = interval.as_secs().max(1);
    jobs.push_str(&format!(
        "  - job_name: node-exporter\n    static_configs:\n{node_targets}\
         \n  - job_name: kubelet\n    metrics_path: /metrics/cadvisor\n    static_configs:\n{cadvisor_targets}\
         \n  - job_name: kube-state-metrics\n    metrics_path: /kube-state-metrics/metrics\n    static_configs:\n      - targets: ['{addr}']\n        labels: {{instance: 'kube-state-metrics'}}\n"
    ));
    let yaml = format!(
        "# Written by `fleetwatch demo` for cluster {cluster}.\nglobal:\n  scrape_interval: {secs}s\n  scrape_timeout: {secs}s\nscrape_configs:\n{jobs}"
    );
    let path = dir.join("agent.yml");
    std::fs::write(&path, yaml).with_context(|| format!("writing {}", path.display()))?;
    tokio::spawn(async move {
        if let Err(e) = serve::serve(listener, router, shutdown).await {
            tracing::warn!("synthetic targets stopped: {e:#}");
        }
    });
    Ok(path)
}
