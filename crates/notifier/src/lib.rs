//! Delivery of alerts to Alertmanager, as Prometheus's notifier does it.
//!
//! - [`Notifier`], [`NotifierOptions`]: the entry point. [`Notifier::apply_config`] takes
//!   `alerting:` (one set per `alertmanagers` entry, Alertmanagers from `static_configs`
//!   and `file_sd_configs`, then `relabel_configs`); [`Notifier::send`] queues alerts
//!   after external labels and `alert_relabel_configs`; [`Notifier::run`] sends.
//! - [`Alert`]: what the rules manager hands over.
//! - [`NotifierError`], [`SendError`]: a configuration that cannot be used; a failed push.
//! - [`encode_alerts`]: the API v2 JSON body, byte for byte as Prometheus writes it.
//! - Private: the per-Alertmanager queue and its task (`send_loop`: queue, batches, no
//!   retries — see there), the HTTP client (`client`), Alertmanager URLs from target groups
//!   (`targets`), the `prometheus_notifications_*` metrics (`metrics`).

mod alert;
mod client;
mod error;
mod json;
mod metrics;
mod notifier;
mod send_loop;
mod targets;

pub use alert::Alert;
pub use client::USER_AGENT;
pub use error::{NotifierError, SendError};
pub use json::encode_alerts;
pub use notifier::{Notifier, NotifierOptions};
