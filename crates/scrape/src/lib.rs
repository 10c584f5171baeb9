//! Scrape loops: targets, HTTP fetch, parse, relabel, `up`/`scrape_*` series, staleness, limits.
//!
//! - [`ScrapeManager`]: one pool per job, fed by discovery's target sets; [`TargetStatus`].
//! - [`ClusterLabel`]: the `cluster` stamp (forced on an agent, a default on a hub).
//! - [`target`]: target labels exactly as Prometheus's `PopulateLabels`, URL, offset.
//! - [`series`]: scraped labels merged with target labels (`honor_labels`, `exported_`).
//! - [`append`]: one page into an appender: limits, staleness markers, metadata, report series.
//! - [`client`]: the HTTP client of a job (auth, TLS via [`tls`], bounded bodies).
//! - pools and loops (private): starting and stopping one tokio task per target.

pub mod append;
pub mod client;
mod cluster;
mod error;
mod manager;
mod pool;
mod prehashed;
mod scrape_loop;
pub mod series;
pub mod target;
pub mod tls;

pub use cluster::{CLUSTER_LABEL, ClusterLabel};
pub use error::{ClientError, ScrapeError};
pub use manager::{DroppedTarget, ScrapeManager, TargetStatus};
pub use scrape_loop::{Health, LastScrape};

/// Now, in milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> model::Timestamp {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as model::Timestamp)
        .unwrap_or(0)
}
