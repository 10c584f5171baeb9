//! Service discovery: static and file target groups, published per job on a channel.
//!
//! - [`TargetGroup`]: targets (each with `__address__`) plus labels shared by the group.
//! - [`static_groups`]: `static_configs` as target groups.
//! - [`file`]: `file_sd_configs`: reading, validating and watching JSON/YAML target files.
//! - [`DiscoveryManager`]: runs every job's discovery and publishes the full set of groups
//!   per job on a `tokio::sync::watch` channel, throttled.

pub mod file;
mod group;
mod manager;

pub use file::{FileSdError, parse_target_groups};
pub use group::{ADDRESS_LABEL, TargetGroup, static_groups};
pub use manager::{DiscoveryManager, JobDiscoveryConfig, TargetSets};
