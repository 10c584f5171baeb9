//! Compressed chunks of float samples (format in FORMAT.md, "Chunks").
//!
//! - [`xor`]: Gorilla-style encoding: delta-of-delta timestamps, XOR'ed float bits.

pub mod xor;

pub use xor::{ChunkError, XorAppender, XorChunk, XorIter};
