//! The top-level document as written, and the `fleet:` section.

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::alerting::RawAlerting;
use crate::de::scalar_strings;
use crate::global::RawGlobal;
use crate::remote_write::RawRemoteWrite;
use crate::scrape_raw::RawScrapeConfig;

/// Fleetwatch's own `fleet:` section.
///
/// Reserved: it will describe the fleet (clusters, tenants, write identities). It takes no
/// keys yet, and any key in it is an error so that a typo is never silently ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetConfig {}

/// The whole document as written; `Spanned` keeps the lines that warnings and
/// resolution errors point at.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct RawConfig {
    pub global: Option<RawGlobal>,
    pub runtime: Option<Spanned<serde_json::Value>>,
    pub alerting: Option<Spanned<RawAlerting>>,
    pub rule_files: Option<Spanned<ScalarList>>,
    pub scrape_config_files: Option<Spanned<ScalarList>>,
    pub scrape_configs: Vec<Spanned<Option<RawScrapeConfig>>>,
    pub storage: Option<Spanned<serde_json::Value>>,
    pub tracing: Option<Spanned<serde_json::Value>>,
    pub remote_write: Vec<Spanned<Option<RawRemoteWrite>>>,
    pub remote_read: Option<Spanned<Vec<serde_json::Value>>>,
    pub otlp: Option<Spanned<serde_json::Value>>,
    pub fleet: Option<FleetConfig>,
}

/// A list of strings whose items may be any scalar.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ScalarList(#[serde(deserialize_with = "scalar_strings")] pub Vec<String>);
