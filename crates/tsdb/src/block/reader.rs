//! [`Block`]: an open block. Matchers resolve over the postings exactly as the head's
//! index does (`head/index.rs`); only the selected series are decoded.

use std::fs;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use model::Matcher;

use super::index::{self, Index};
use super::{BlockMeta, BlockSeries, ChunkMeta, chunks, meta};
use crate::{Error, postings};

/// An open block: files mapped, index checked.
pub struct Block {
    dir: PathBuf,
    meta: BlockMeta,
    index: Index,
    chunks: Mmap,
    chunks_path: PathBuf,
    size: u64,
}

impl Block {
    /// Opens the block in `dir`: reads meta.json, maps `index` and `chunks`, verifies the
    /// index's checksums. Damage is [`Error::Corrupt`] naming the file and offset.
    pub fn open(dir: &Path) -> Result<Block, Error> {
        let meta_path = dir.join(meta::FILE);
        let meta_bytes = fs::read(&meta_path).map_err(|e| Error::io("read", &meta_path, e))?;
        let dir_name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let meta = meta::decode(&meta_path, &meta_bytes, dir_name)?;

        let index = Index::open(&dir.join(index::FILE))?;
        let chunks_path = dir.join(chunks::FILE);
        let chunks = index::map(&chunks_path)?;
        chunks::check_header(&chunks_path, &chunks)?;
        // The index records the chunks file's length: a truncated or extended file is
        // caught here rather than at the first read of a lost chunk.
        if chunks.len() as u64 != index.chunks_len() {
            return Err(Error::corrupt(
                &chunks_path,
                chunks.len() as u64,
                format!(
                    "{} bytes, the index says {} (truncated?)",
                    chunks.len(),
                    index.chunks_len()
                ),
            ));
        }
        let size = meta_bytes.len() as u64 + index.file_len() + chunks.len() as u64;
        Ok(Block {
            dir: dir.to_path_buf(),
            meta,
            index,
            chunks,
            chunks_path,
            size,
        })
    }

    /// What meta.json says.
    pub fn meta(&self) -> &BlockMeta {
        &self.meta
    }

    /// The block's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Bytes the block takes on disk (all its files).
    pub fn size_bytes(&self) -> u64 {
        self.size
    }

    /// Series matching all `matchers`, sorted by labels; as the head does it, a matcher
    /// that matches the empty string also selects series without its label.
    pub fn select(&self, matchers: &[Matcher]) -> Result<Vec<BlockSeries>, Error> {
        self.resolve(matchers)?
            .into_iter()
            .map(|off| self.index.series(off).map(|(s, _)| s))
            .collect()
    }

    /// Offsets of series matching all `matchers` (every series when there are none),
    /// ascending, which is label order.
    fn resolve(&self, matchers: &[Matcher]) -> Result<Vec<u64>, Error> {
        postings::resolve(
            matchers,
            |m, want| self.matching(m, want),
            || self.index.all_series(),
        )
    }

    /// Sorted union of the postings of values `v` of the matcher's label where
    /// `m.matches(v) == want`. Literal values are looked up; anything else scans values.
    fn matching(&self, m: &Matcher, want: bool) -> Result<Vec<u64>, Error> {
        let offsets: Vec<u64> = match postings::literals(m, want) {
            Some(lits) => lits
                .iter()
                .filter_map(|v| self.index.lookup(&m.name, v))
                .collect(),
            None => {
                let mut out = Vec::new();
                for (v, p) in self.index.values(&m.name) {
                    if m.matches(v?) == want {
                        out.push(p);
                    }
                }
                out
            }
        };
        let lists = offsets
            .into_iter()
            .map(|p| self.index.postings(p))
            .collect::<Result<Vec<_>, Error>>()?;
        Ok(postings::union(lists))
    }

    /// Every series in label order, read lazily (compaction walks blocks with this).
    pub fn series_iter(&self) -> impl Iterator<Item = Result<BlockSeries, Error>> + '_ {
        let mut next = Some(0u64);
        std::iter::from_fn(move || {
            let off = next.filter(|&o| o < self.index.series_len())?;
            match self.index.series(off) {
                Ok((s, end)) => {
                    next = Some(end);
                    Some(Ok(s))
                }
                Err(e) => {
                    // Past damage the entry boundaries are unknown: stop.
                    next = None;
                    Some(Err(e))
                }
            }
        })
    }

    /// Sorted label names of the block's series.
    pub fn label_names(&self) -> Vec<String> {
        // Symbols were checked at open, so a failure here cannot happen; skipping beats
        // panicking should it ever.
        self.index
            .names()
            .filter_map(|n| n.ok().map(str::to_string))
            .collect()
    }

    /// Sorted values of label `name`.
    pub fn label_values(&self, name: &str) -> Vec<String> {
        self.index
            .values(name)
            .filter_map(|(v, _)| v.ok().map(str::to_string))
            .collect()
    }

    /// The encoding byte and bytes of a chunk, after checking its CRC.
    pub fn chunk(&self, meta: &ChunkMeta) -> Result<(u8, &[u8]), Error> {
        chunks::read(&self.chunks_path, &self.chunks, meta.offset)
    }

    /// Appends the samples of a chunk to `out`, after checking its CRC; a chunk that
    /// does not decode is [`Error::Corrupt`] naming the chunks file and the chunk's offset.
    pub fn decode_chunk(
        &self,
        meta: &ChunkMeta,
        out: &mut Vec<model::Sample>,
    ) -> Result<(), Error> {
        let (encoding, data) = self.chunk(meta)?;
        crate::chunk::decode_any(encoding, data, out)
            .map_err(|e| Error::corrupt(&self.chunks_path, meta.offset, e.to_string()))
    }
}
