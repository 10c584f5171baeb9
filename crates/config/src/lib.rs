//! Prometheus's YAML configuration, loaded as it is, plus Fleetwatch's `fleet:` section.
//!
//! - [`Config::load_file`] / [`Config::load_str`] → [`Loaded`] (config + [`Warning`]s), or a
//!   one-line [`ConfigError`] `FILE:LINE: FIELD: message`; [`check_config`] for the CLI.
//! - [`GlobalConfig`], [`ScrapeProtocol`]: the `global:` section.
//! - [`ScrapeConfig`], [`StaticConfig`], [`FileSdConfig`], [`UnsupportedSdConfig`]: scrape jobs,
//!   with every default resolved.
//! - [`HttpClientConfig`], [`BasicAuth`], [`Authorization`], [`TlsConfig`], [`Secret`].
//! - [`RemoteWriteConfig`], [`QueueConfig`], [`MetadataConfig`], [`ProtobufMessage`].
//! - [`AlertingConfig`], [`AlertmanagerConfig`], [`AlertmanagerApiVersion`]: `alerting:`.
//! - [`FleetConfig`].
//! - [`parse_base2_bytes`]: Prometheus's `10MB` sizes.
//! - [`yaml_error`]: YAML parse errors reworded for people (shared with the rule-file loader).

mod alerting;
mod de;
mod env;
mod error;
mod global;
mod http;
mod load;
mod remote_write;
mod scrape;
mod scrape_raw;
mod sections;
mod text;
mod units;
pub mod yaml_error;

pub use alerting::{AlertingConfig, AlertmanagerApiVersion, AlertmanagerConfig};
pub use error::{ConfigError, Position, Warning};
pub use global::{GlobalConfig, ScrapeProtocol};
pub use http::{
    Authorization, BasicAuth, HttpClientConfig, HttpHeader, Secret, TlsConfig, TlsVersion,
};
pub use load::{Config, Loaded, MAX_CONFIG_BYTES, check_config};
pub use relabel::{NameValidationScheme, RelabelConfig};
pub use remote_write::{
    MetadataConfig, ProtobufMessage, QueueConfig, RemoteWriteConfig, is_http_url,
};
pub use scrape::{
    FileSdConfig, ScrapeConfig, StaticConfig, UnsupportedSdConfig, is_valid_file_sd_name,
};
pub use sections::FleetConfig;
pub use units::parse_base2_bytes;
