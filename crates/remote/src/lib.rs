//! Remote write 1.0: codec, sender with an on-disk queue, receiver decoding with limits.
//!
//! Hub side:
//! - [`codec`]: the `WriteRequest` wire types and snappy-block encode/decode with limits.
//! - [`receive`]: what the hub's write endpoint does with a request body.
//!
//! Agent side:
//! - [`queue`]: the durable, bounded on-disk queue (format in `QUEUE_FORMAT.md`).
//! - [`appender`]: the `Appendable` the scrape engine writes into (relabel, encode, queue).
//! - [`sender`]: shards, batching, retries, cursor advance on acknowledgement.
//! - [`metrics`]: the sender's counters in Prometheus text format.
//! - [`agent`]: one destination wired together ([`RemoteWrite`]).

pub mod agent;
pub mod appender;
pub mod codec;
pub mod metrics;
pub mod queue;
pub mod receive;
pub mod sender;

pub use agent::RemoteWrite;
pub use appender::QueueAppendable;
pub use metrics::{MetricsSnapshot, SenderMetrics};
pub use queue::{DiskQueue, Position, QueueError, QueueOptions, QueueStats};
pub use receive::{ReceiveError, ReceiveLimits, WriteStats, handle_write};
pub use sender::{QueueConfig, SenderConfig, SenderHandle};
