//! Persisted blocks: immutable directories that each hold the samples of a time range,
//! written once by compaction and read through mmap. Layout in FORMAT.md ("Blocks").
//!
//! ```text
//! <db>/blocks/<id>/meta.json   what the block holds (range, counts, level, sources)
//! <db>/blocks/<id>/index       symbols, series (labels + chunk references), postings
//! <db>/blocks/<id>/chunks      chunk bytes, each with its own CRC-32C
//! ```
//!
//! - [`BlockWriter`]: series in label order in, a finished directory out (written under
//!   `<id>.tmp`, fsynced, then renamed, so a crash never leaves a half block in place).
//! - [`Block`]: opens a directory, verifies the index checksums, resolves matchers to
//!   series, hands out chunk bytes after checking their CRC.
//!
//! Files: `meta` (meta.json), `ulid` (ids), `chunks` (the chunks file), `index` (the index
//! file and its reader), `writer`, `reader`, `dir` (listing and leftovers), `encoding`
//! (varints and the bounds-checked decoder).

mod chunks;
mod dir;
pub(crate) mod encoding;
mod index;
mod meta;
mod reader;
mod ulid;
mod writer;

pub use dir::{list_blocks, remove_leftovers};
pub use reader::Block;
pub use writer::BlockWriter;

use model::{Labels, Timestamp};

/// Chunk encoding: the XOR chunk of [`crate::chunk`] (the head's format).
pub const ENCODING_XOR: u8 = 1;

/// Counts recorded in meta.json.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlockStats {
    /// Series in the block.
    pub series: u64,
    /// Samples in the block.
    pub samples: u64,
    /// Chunks in the block.
    pub chunks: u64,
}

/// The contents of meta.json.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockMeta {
    /// Unique, time-sortable id (a ULID, 26 characters); also the directory name.
    pub id: String,
    /// Oldest sample time in the block, inclusive.
    pub min_t: Timestamp,
    /// Newest sample time in the block, inclusive.
    pub max_t: Timestamp,
    /// Counts.
    pub stats: BlockStats,
    /// 1 for a block cut from the head, one more than its highest source for a merge.
    pub level: u32,
    /// Ids of the level-1 blocks whose data this block holds (itself for level 1).
    pub sources: Vec<String>,
}

/// One chunk handed to [`BlockWriter::add_series`].
#[derive(Debug, Clone, Copy)]
pub struct ChunkInput<'a> {
    /// [`ENCODING_XOR`] or another encoding byte the reader passes back unchanged.
    pub encoding: u8,
    /// Oldest sample time in the chunk.
    pub min_t: Timestamp,
    /// Newest sample time in the chunk.
    pub max_t: Timestamp,
    /// Number of samples in the chunk.
    pub samples: u32,
    /// The encoded chunk.
    pub data: &'a [u8],
}

/// Where a chunk of a block's series is, and what span it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkMeta {
    /// Oldest sample time in the chunk.
    pub min_t: Timestamp,
    /// Newest sample time in the chunk.
    pub max_t: Timestamp,
    /// Number of samples in the chunk.
    pub samples: u32,
    /// Byte offset of the chunk's entry in the `chunks` file.
    pub offset: u64,
}

/// A series of a block: its labels and its chunks, oldest first, not overlapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockSeries {
    /// The labels.
    pub labels: Labels,
    /// The chunks.
    pub chunks: Vec<ChunkMeta>,
}
