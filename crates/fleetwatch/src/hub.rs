//! `fleetwatch hub`: receive remote write, store in the embedded TSDB, answer the
//! Prometheus HTTP API, scrape the targets of its own configuration, evaluate its rules
//! and send their alerts to Alertmanager (`alerting`), reload on SIGHUP and `/-/reload`
//! (`reload`).

mod alerting;
mod info;
mod reload;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use crate::scraping::{self, Scraping};
use crate::{procmetrics, serve};
use alerting::Alerting;
pub use alerting::RulesArgs;
use info::HubInfo;
use reload::Reloader;

/// When the write-ahead log is fsynced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FsyncMode {
    /// Before every acknowledgement.
    Always,
    /// Every `--wal.fsync-interval` (a write is in the kernel before it is acknowledged).
    Interval,
}

/// Every flag of `fleetwatch hub`: storage and serving, the query engine's, then rule
/// evaluation and alert delivery.
#[derive(Args, Debug, Clone)]
pub struct HubCli {
    /// Storage and serving.
    #[command(flatten)]
    pub hub: HubArgs,
    /// The query engine.
    #[command(flatten)]
    pub query: QueryArgs,
    /// Rules and alerts.
    #[command(flatten)]
    pub rules: RulesArgs,
}

/// The query engine's flags, named as Prometheus names them.
#[derive(Args, Debug, Clone, PartialEq)]
pub struct QueryArgs {
    /// Longest a query may run before it is cancelled.
    #[arg(long = "query.timeout", default_value = "2m", value_parser = parse_positive_duration)]
    pub timeout: Duration,
    /// Most samples a query may load into memory (also the store's bound per select).
    #[arg(long = "query.max-samples", default_value_t = 50_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_samples: u64,
    /// Queries evaluated at once; more wait for a slot (until their timeout).
    #[arg(long = "query.max-concurrency", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_concurrency: u64,
    /// How far back an instant lookup reaches for a sample.
    #[arg(long = "query.lookback-delta", default_value = "5m", value_parser = parse_positive_duration)]
    pub lookback_delta: Duration,
}

impl Default for QueryArgs {
    /// The flags' defaults (Prometheus's).
    fn default() -> Self {
        QueryArgs {
            timeout: Duration::from_secs(120),
            max_samples: 50_000_000,
            max_concurrency: 20,
            lookback_delta: Duration::from_secs(300),
        }
    }
}

impl QueryArgs {
    fn max_samples(&self) -> usize {
        usize::try_from(self.max_samples).unwrap_or(usize::MAX)
    }

    /// The engine's settings.
    pub fn engine_options(&self) -> server::EngineOptions {
        server::EngineOptions {
            lookback_delta_ms: millis(self.lookback_delta),
            max_samples: self.max_samples(),
            timeout: self.timeout,
            max_concurrency: usize::try_from(self.max_concurrency).unwrap_or(usize::MAX),
            ..server::EngineOptions::default()
        }
    }
}

/// Flags of `fleetwatch hub` for storage and serving.
#[derive(Args, Debug, Clone)]
pub struct HubArgs {
    /// Address to serve the API and the write endpoint on (port 0 picks one).
    #[arg(long, default_value = "0.0.0.0:9090")]
    pub listen: String,
    /// Data directory (WAL and blocks).
    #[arg(long)]
    pub data: PathBuf,
    /// Prometheus configuration file (scrape_configs are scraped by the hub itself).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// The `cluster` label of series the hub scrapes whose targets do not name one.
    #[arg(long, default_value = "hub")]
    pub cluster: String,
    /// WAL fsync policy.
    #[arg(long = "wal.fsync", value_enum, default_value = "interval")]
    pub wal_fsync: FsyncMode,
    /// Interval of the `interval` fsync policy.
    #[arg(long = "wal.fsync-interval", default_value = "1s", value_parser = parse_duration)]
    pub wal_fsync_interval: Duration,
    /// How long to keep samples. Unset or "0s", it is 15d unless a size limit is set,
    /// which is then the only limit (as Prometheus).
    #[arg(long = "storage.tsdb.retention.time", default_value = "0s", value_parser = parse_duration)]
    pub retention_time: Duration,
    /// Most bytes blocks and WAL may take; the oldest blocks go first ("0" = no limit).
    /// Units B, KB, MB, GB, TB, PB (powers of 1024), as Prometheus.
    #[arg(long = "storage.tsdb.retention.size", default_value = "0", value_parser = parse_bytes)]
    pub retention_size: u64,
    /// How far behind the newest sample a sample is still accepted. The default covers an
    /// agent's queue replaying a day-long hub outage.
    #[arg(long = "storage.tsdb.out-of-order-time-window", default_value = "1d", value_parser = parse_duration)]
    pub out_of_order_window: Duration,
    /// Time range of a block cut from the head.
    #[arg(long = "storage.tsdb.min-block-duration", default_value = "2h", value_parser = parse_duration, hide = true)]
    pub min_block_duration: Duration,
    /// How often head compaction, block merges, retention and checkpoints are considered.
    #[arg(long = "storage.tsdb.maintenance-interval", default_value = "1m", value_parser = parse_duration, hide = true)]
    pub maintenance_interval: Duration,
}

impl HubArgs {
    /// The time limit in effect (zero: none): the flag's, or 15d when neither limit is
    /// set, as Prometheus decides it.
    fn effective_retention_time(&self) -> Duration {
        if self.retention_time.is_zero() && self.retention_size == 0 {
            Duration::from_millis(tsdb::DEFAULT_RETENTION_MS.unsigned_abs())
        } else {
            self.retention_time
        }
    }
}

/// Parses a byte size as Prometheus's `--storage.tsdb.retention.size` does: a whole
/// number with an optional unit B, KB, MB, GB, TB, PB or EB (powers of 1024; the KiB
/// spellings too).
pub fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let digits = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(digits);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a byte size such as 512MB or 10GB"))?;
    let shift = match unit.trim() {
        "" | "B" => 0,
        "KB" | "KiB" => 10,
        "MB" | "MiB" => 20,
        "GB" | "GiB" => 30,
        "TB" | "TiB" => 40,
        "PB" | "PiB" => 50,
        "EB" | "EiB" => 60,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {s:?}: use B, KB, MB, GB, TB, PB or EB"
            ));
        }
    };
    n.checked_mul(1u64 << shift)
        .ok_or_else(|| format!("{s:?} is too large"))
}

fn millis(d: Duration) -> i64 {
    model::PromDuration(d).as_millis()
}

/// Parses a Prometheus duration flag (`1s`, `5m`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    s.parse::<model::PromDuration>()
        .map(|d| d.std())
        .map_err(|e| e.to_string())
}

/// Parses a Prometheus duration flag that must be above zero.
pub fn parse_positive_duration(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d.is_zero() {
        return Err("must be greater than 0s".to_string());
    }
    Ok(d)
}

/// Every flag's value as a string, under its long name, for `/api/v1/status/flags`.
fn flag_values(a: &HubArgs, q: &QueryArgs, r: &RulesArgs) -> Vec<(String, String)> {
    let dur = info::duration_string;
    let path = |p: &std::path::Path| p.display().to_string();
    let fsync = match a.wal_fsync {
        FsyncMode::Always => "always",
        FsyncMode::Interval => "interval",
    };
    [
        ("listen", a.listen.clone()),
        ("data", path(&a.data)),
        ("config", a.config.as_deref().map(path).unwrap_or_default()),
        ("cluster", a.cluster.clone()),
        ("wal.fsync", fsync.to_string()),
        ("wal.fsync-interval", dur(a.wal_fsync_interval)),
        (
            "storage.tsdb.retention.time",
            dur(a.effective_retention_time()),
        ),
        ("storage.tsdb.retention.size", a.retention_size.to_string()),
        (
            "storage.tsdb.out-of-order-time-window",
            dur(a.out_of_order_window),
        ),
        ("storage.tsdb.min-block-duration", dur(a.min_block_duration)),
        (
            "storage.tsdb.maintenance-interval",
            dur(a.maintenance_interval),
        ),
        ("query.timeout", dur(q.timeout)),
        ("query.max-samples", q.max_samples.to_string()),
        ("query.max-concurrency", q.max_concurrency.to_string()),
        ("query.lookback-delta", dur(q.lookback_delta)),
    ]
    .into_iter()
    .chain(r.flag_values())
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

/// A hub that is up: its address and how to stop it (used by the demo).
pub struct RunningHub {
    /// The bound address.
    pub addr: std::net::SocketAddr,
    /// Completes when the hub has stopped.
    pub done: tokio::task::JoinHandle<anyhow::Result<()>>,
}

/// Runs the hub until SIGINT/SIGTERM.
pub async fn run(cli: HubCli) -> anyhow::Result<()> {
    let hub = start_with(cli, serve::shutdown_signal()).await?;
    hub.done.await.context("hub task panicked")?
}

/// Starts the hub with the default query and rule settings; it stops when `shutdown`
/// completes.
pub async fn start(
    args: HubArgs,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<RunningHub> {
    let cli = HubCli {
        hub: args,
        query: QueryArgs::default(),
        rules: RulesArgs::default(),
    };
    start_with(cli, shutdown).await
}

/// Starts the hub; it stops when `shutdown` completes.
pub async fn start_with(
    cli: HubCli,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<RunningHub> {
    let HubCli {
        hub: args,
        query,
        rules,
    } = cli;
    let started = procmetrics::now_secs();
    let loaded = match &args.config {
        Some(path) => Some(scraping::load_config(path)?),
        None => None,
    };
    let config_text = args.config.as_deref().map(info::read_config_text);

    let fsync = match args.wal_fsync {
        FsyncMode::Always => tsdb::FsyncPolicy::Always,
        FsyncMode::Interval => tsdb::FsyncPolicy::Interval(args.wal_fsync_interval),
    };
    let opts = tsdb::Options {
        fsync,
        retention_ms: millis(args.effective_retention_time()),
        retention_bytes: args.retention_size,
        out_of_order_window_ms: millis(args.out_of_order_window),
        block_range_ms: millis(args.min_block_duration),
        maintenance_interval: Some(args.maintenance_interval).filter(|d| !d.is_zero()),
        // One select may load no more than a whole query may.
        max_samples_per_select: query.max_samples(),
        ..tsdb::Options::default()
    };
    std::fs::create_dir_all(&args.data)
        .with_context(|| format!("creating data directory {}", args.data.display()))?;
    let data = args.data.clone();
    let db = tokio::task::spawn_blocking(move || tsdb::Db::open(&data, opts))
        .await
        .context("opening the database panicked")?
        .with_context(|| format!("opening the database in {}", args.data.display()))?;
    let db = Arc::new(db);
    crate::memtrim::spawn(std::time::Duration::from_secs(2));
    let stats = db.stats();
    tracing::info!(
        series = stats.series,
        samples = stats.samples,
        "database open"
    );

    let scraper = loaded.as_ref().map(|cfg| {
        Arc::new(Scraping::start(
            cfg,
            db.clone(),
            scrape::ClusterLabel::Default(args.cluster.clone()),
            storage::WriteIdentity::Local,
        ))
    });
    let hub_info = Arc::new(HubInfo::new(
        flag_values(&args, &query, &rules),
        info::retention_string(args.effective_retention_time(), args.retention_size),
        args.cluster.clone(),
        scraper.clone(),
        config_text.as_deref().zip(loaded.as_ref()),
    ));

    let (listener, addr) = serve::bind(&args.listen, "hub").await?;
    // Rules share the queries' engine, as in Prometheus: its concurrency limit and
    // timeout bound both.
    let engine = Arc::new(promql::Engine::new(query.engine_options()));
    let external_url = rules.external_url(addr)?;
    let alerting = Arc::new(Alerting::start(
        &rules,
        engine.clone(),
        db.clone(),
        &external_url,
    ));
    if let Some(cfg) = &loaded
        && let Err(e) = alerting.apply(cfg).await
    {
        // As Prometheus: a configuration that cannot be applied at start is fatal.
        alerting.shutdown().await;
        anyhow::bail!("applying the configuration: {e}");
    }
    let reloader = Arc::new(Reloader::new(
        args.config.clone(),
        scraper.clone(),
        alerting.clone(),
        hub_info.clone(),
    ));
    reloader.clone().on_sighup();

    let ready = Arc::new(AtomicBool::new(false));
    let metrics_db = db.clone();
    let metrics_alerting = alerting.clone();
    let metrics: server::state::MetricsFn = Arc::new(move || {
        let mut out = String::new();
        procmetrics::render(&mut out, started);
        render_db_metrics(&mut out, &metrics_db.stats(), &metrics_db.blocks());
        out.push_str(&metrics_alerting.metrics_text());
        out
    });
    let mut state = server::ApiState::new(db.clone(), db.clone(), metrics, ready.clone());
    state.engine = engine;
    state.info = hub_info;
    state.rules = Some(alerting.clone());
    state.reload = Some(reloader.hook());
    state.write_slots = server::state::write_slots(matches!(args.wal_fsync, FsyncMode::Always));
    let router = server::router(state);

    tracing::info!(%external_url, "hub ready");
    ready.store(true, Ordering::SeqCst);
    let done = tokio::spawn(async move {
        let res = serve::serve(listener, router, shutdown).await;
        // Rules first: they query and write the store and hand alerts to the notifier.
        alerting.shutdown().await;
        if let Some(s) = scraper {
            s.shutdown().await;
        }
        let closed = tokio::task::spawn_blocking(move || db.close())
            .await
            .context("closing the database panicked")?;
        closed.context("closing the database")?;
        res
    });
    Ok(RunningHub { addr, done })
}

fn render_db_metrics(out: &mut String, s: &tsdb::Stats, blocks: &[tsdb::block::BlockMeta]) {
    use std::fmt::Write as _;
    let _ = writeln!(
        out,
        "# HELP fleetwatch_tsdb_blocks_loaded Persisted blocks open."
    );
    let _ = writeln!(out, "# TYPE fleetwatch_tsdb_blocks_loaded gauge");
    let _ = writeln!(out, "fleetwatch_tsdb_blocks_loaded {}", blocks.len());
    let _ = writeln!(
        out,
        "# HELP fleetwatch_tsdb_blocks_samples Samples in persisted blocks."
    );
    let _ = writeln!(out, "# TYPE fleetwatch_tsdb_blocks_samples gauge");
    let _ = writeln!(
        out,
        "fleetwatch_tsdb_blocks_samples {}",
        blocks.iter().map(|b| b.stats.samples).sum::<u64>()
    );
    let _ = writeln!(
        out,
        "# HELP fleetwatch_tsdb_head_series Series in the head."
    );
    let _ = writeln!(out, "# TYPE fleetwatch_tsdb_head_series gauge");
    let _ = writeln!(out, "fleetwatch_tsdb_head_series {}", s.series);
    let _ = writeln!(
        out,
        "# HELP fleetwatch_tsdb_head_samples Samples in the head."
    );
    let _ = writeln!(out, "# TYPE fleetwatch_tsdb_head_samples gauge");
    let _ = writeln!(out, "fleetwatch_tsdb_head_samples {}", s.samples);
    if let (Some(min), Some(max)) = (s.min_time, s.max_time) {
        let _ = writeln!(
            out,
            "# HELP fleetwatch_tsdb_head_min_time Oldest sample in the head, ms."
        );
        let _ = writeln!(out, "# TYPE fleetwatch_tsdb_head_min_time gauge");
        let _ = writeln!(out, "fleetwatch_tsdb_head_min_time {min}");
        let _ = writeln!(
            out,
            "# HELP fleetwatch_tsdb_head_max_time Newest sample in the head, ms."
        );
        let _ = writeln!(out, "# TYPE fleetwatch_tsdb_head_max_time gauge");
        let _ = writeln!(out, "fleetwatch_tsdb_head_max_time {max}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_defaults_match_the_flags() {
        let cmd = HubCli::augment_args(clap::Command::new("hub"));
        let m = cmd
            .try_get_matches_from(["hub", "--data", "d"])
            .expect("parses");
        let cli = <HubCli as clap::FromArgMatches>::from_arg_matches(&m).expect("builds");
        assert_eq!(cli.query, QueryArgs::default());
        assert_eq!(cli.rules, RulesArgs::default());
        let o = cli.query.engine_options();
        assert_eq!((o.lookback_delta_ms, o.max_concurrency), (300_000, 20));
    }

    #[test]
    fn every_flag_is_listed() {
        let cmd = HubCli::augment_args(clap::Command::new("hub"));
        let listed: Vec<String> = flag_values(
            &HubArgs {
                listen: String::new(),
                data: PathBuf::new(),
                config: None,
                cluster: String::new(),
                wal_fsync: FsyncMode::Always,
                wal_fsync_interval: Duration::ZERO,
                retention_time: Duration::ZERO,
                retention_size: 0,
                out_of_order_window: Duration::ZERO,
                min_block_duration: Duration::ZERO,
                maintenance_interval: Duration::ZERO,
            },
            &QueryArgs::default(),
            &RulesArgs::default(),
        )
        .into_iter()
        .map(|(k, _)| k)
        .collect();
        for a in cmd.get_arguments() {
            if let Some(long) = a.get_long() {
                assert!(listed.iter().any(|k| k == long), "--{long} not in flags");
            }
        }
    }

    #[test]
    fn retention_time_defaults_to_15d_unless_only_a_size_limit_is_set() {
        let parse = |extra: &[&str]| {
            let cmd = HubCli::augment_args(clap::Command::new("hub"));
            let m = cmd
                .try_get_matches_from(["hub", "--data", "d"].iter().chain(extra))
                .expect("parses");
            let cli = <HubCli as clap::FromArgMatches>::from_arg_matches(&m).expect("builds");
            cli.hub.effective_retention_time()
        };
        let day = 24 * 3600;
        assert_eq!(parse(&[]), Duration::from_secs(15 * day));
        assert_eq!(
            parse(&["--storage.tsdb.retention.size", "10GB"]),
            Duration::ZERO
        );
        let both = [
            "--storage.tsdb.retention.size",
            "10GB",
            "--storage.tsdb.retention.time",
            "2d",
        ];
        assert_eq!(parse(&both), Duration::from_secs(2 * day));
        // Zero means unset, as in Prometheus: with no size limit the default applies.
        assert_eq!(
            parse(&["--storage.tsdb.retention.time", "0s"]),
            Duration::from_secs(15 * day)
        );
    }

    #[test]
    fn zero_durations_are_refused_for_queries() {
        assert!(parse_positive_duration("0s").is_err());
        assert_eq!(parse_positive_duration("2m"), Ok(Duration::from_secs(120)));
    }

    #[test]
    fn byte_sizes_parse_as_prometheus_does() {
        assert_eq!(parse_bytes("0"), Ok(0));
        assert_eq!(parse_bytes("512MB"), Ok(512 << 20));
        assert_eq!(parse_bytes("10GiB"), Ok(10 << 30));
        assert_eq!(parse_bytes("100B"), Ok(100));
        assert!(parse_bytes("10 parsecs").is_err());
        assert!(parse_bytes("GB").is_err());
        assert!(parse_bytes("99999999999EB").is_err());
    }
}
