//! Compressed chunks of float samples (format in FORMAT.md, "Chunks" and "Cold chunks").
//!
//! - [`xor`]: Gorilla-style encoding: delta-of-delta timestamps, XOR'ed float bits. The
//!   head's chunks; encoding 1 in blocks.
//! - [`cold`]: column encoding for blocks (encoding 2): decimal or ordered-bit integers,
//!   differenced and bit-packed; smaller, written once by compaction.

pub mod cold;
pub mod xor;

use model::Sample;

pub use cold::{COLD_CHUNK_SAMPLES, ENCODING_COLD, MAX_COLD_SAMPLES};
pub use xor::{ChunkError, XorAppender, XorChunk, XorIter};

/// The encoding byte blocks store next to an XOR chunk.
pub const ENCODING_XOR: u8 = 1;

/// Decodes a chunk stored with encoding byte `encoding`, appending its samples to `out`.
/// On error `out` keeps what it held before; an unknown encoding is `Corrupt`.
pub fn decode_any(encoding: u8, data: &[u8], out: &mut Vec<Sample>) -> Result<(), ChunkError> {
    match encoding {
        ENCODING_XOR => {
            let start = out.len();
            for s in XorIter::new(data) {
                match s {
                    Ok(s) => out.push(s),
                    Err(e) => {
                        out.truncate(start);
                        return Err(e);
                    }
                }
            }
            Ok(())
        }
        ENCODING_COLD => cold::decode(data, out),
        _ => Err(ChunkError::Corrupt("unknown chunk encoding")),
    }
}
