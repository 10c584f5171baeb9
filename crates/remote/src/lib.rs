//! Remote write 1.0: codec, sender with an on-disk queue, receiver decoding with limits.
//!
//! - [`codec`]: the `WriteRequest` wire types and snappy-block encode/decode with limits.
//! - [`receive`]: what the hub's write endpoint does with a request body.
//! - [`queue`]: the agent's durable, bounded on-disk queue (format in `QUEUE_FORMAT.md`).

pub mod codec;
pub mod queue;
pub mod receive;

pub use queue::{DiskQueue, Position, QueueError, QueueOptions, QueueStats};
pub use receive::{ReceiveError, ReceiveLimits, WriteStats, handle_write};
