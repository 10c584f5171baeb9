//! [`BlockWriter`]: chunks are streamed to the `chunks` file as series arrive; what the
//! index needs (labels as string ids, encoded chunk metas, postings) stays in memory
//! until `finish` writes the index, because the symbol table, which comes first, is only
//! known once every series has been seen.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use model::{Labels, Timestamp};

use super::encoding::{put_uvarint, put_varint};
use super::{BlockMeta, BlockStats, ChunkInput, chunks, dir, index, meta, ulid};
use crate::Error;

/// Writes one block. Series must be added in strictly increasing label order.
pub struct BlockWriter {
    parent: PathBuf,
    tmp: PathBuf,
    id: String,
    level: u32,
    sources: Vec<String>,
    // `None` once finished or after a write error.
    chunks: Option<BufWriter<File>>,
    chunks_pos: u64,
    entry: Vec<u8>,
    // String -> temporary id, in order of first use; sorted into symbols at finish.
    strings: HashMap<String, u32>,
    // Per series: (name id, value id) pairs, flat, and its encoded chunk metas, flat.
    label_ids: Vec<u32>,
    chunk_metas: Vec<u8>,
    // Per series: end of its part of `label_ids` and of `chunk_metas`.
    series_ends: Vec<(usize, usize)>,
    // (name id, value id) -> series numbers, ascending.
    postings: HashMap<(u32, u32), Vec<u32>>,
    last: Option<Labels>,
    min_t: Timestamp,
    max_t: Timestamp,
    stats: BlockStats,
    done: bool,
}

fn refuse(reason: String) -> Error {
    Error::BlockWrite { reason }
}

impl BlockWriter {
    /// Starts a block in `<parent>/<new id>.tmp` (creating `parent` if needed).
    /// `sources` empty means "this block itself" (a level-1 block cut from the head).
    pub fn create(parent: &Path, level: u32, sources: Vec<String>) -> Result<BlockWriter, Error> {
        if level == 0 {
            return Err(refuse("level 0: levels start at 1".to_string()));
        }
        fs::create_dir_all(parent).map_err(|e| Error::io("create directory", parent, e))?;
        let id = ulid::new();
        let tmp = parent.join(format!("{id}{}", dir::TMP_SUFFIX));
        fs::create_dir(&tmp).map_err(|e| Error::io("create directory", &tmp, e))?;
        let path = tmp.join(chunks::FILE);
        let mut w = BlockWriter {
            parent: parent.to_path_buf(),
            tmp,
            sources: if sources.is_empty() {
                vec![id.clone()]
            } else {
                sources
            },
            id,
            level,
            chunks: None,
            chunks_pos: 0,
            entry: Vec::new(),
            strings: HashMap::new(),
            label_ids: Vec::new(),
            chunk_metas: Vec::new(),
            series_ends: Vec::new(),
            postings: HashMap::new(),
            last: None,
            min_t: Timestamp::MAX,
            max_t: Timestamp::MIN,
            stats: BlockStats::default(),
            done: false,
        };
        // From here on, dropping `w` on an error removes the directory.
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| Error::io("create", &path, e))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        out.write_all(&chunks::header())
            .map_err(|e| Error::io("write", &path, e))?;
        w.chunks = Some(out);
        w.chunks_pos = chunks::HEADER_LEN;
        Ok(w)
    }

    /// The id the block will have.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Adds a series with its chunks (sorted by time, not overlapping, at least one).
    /// Refuses (with an error naming the series) labels not above the previous series'.
    pub fn add_series(&mut self, labels: &Labels, chunks: &[ChunkInput<'_>]) -> Result<(), Error> {
        self.check(labels, chunks)?;
        let path = self.tmp.join(chunks::FILE);
        let Some(out) = self.chunks.as_mut() else {
            return Err(refuse("an earlier write failed".to_string()));
        };
        let metas_start = self.chunk_metas.len();
        let mut prev: Option<(Timestamp, u64)> = None;
        put_uvarint(&mut self.chunk_metas, chunks.len() as u64);
        for c in chunks {
            let offset = self.chunks_pos;
            chunks::entry(c.encoding, c.data, &mut self.entry);
            if let Err(e) = out.write_all(&self.entry) {
                // The file now ends in a partial entry: nothing more can be added.
                self.chunks = None;
                return Err(Error::io("write", path, e));
            }
            self.chunks_pos += self.entry.len() as u64;
            // Deltas from the previous chunk keep a meta to a few bytes; `check` made
            // every difference non-negative, so wrapping subtraction gives it exactly.
            match prev {
                None => {
                    put_varint(&mut self.chunk_metas, c.min_t);
                    put_uvarint(&mut self.chunk_metas, c.max_t.wrapping_sub(c.min_t) as u64);
                    put_uvarint(&mut self.chunk_metas, u64::from(c.samples));
                    put_uvarint(&mut self.chunk_metas, offset);
                }
                Some((prev_max, prev_off)) => {
                    put_uvarint(&mut self.chunk_metas, c.min_t.wrapping_sub(prev_max) as u64);
                    put_uvarint(&mut self.chunk_metas, c.max_t.wrapping_sub(c.min_t) as u64);
                    put_uvarint(&mut self.chunk_metas, u64::from(c.samples));
                    put_uvarint(&mut self.chunk_metas, offset - prev_off);
                }
            }
            prev = Some((c.max_t, offset));
            self.stats.samples += u64::from(c.samples);
        }
        debug_assert!(self.chunk_metas.len() > metas_start);

        let n = u32::try_from(self.series_ends.len())
            .map_err(|_| refuse("more than 2^32 series in one block".to_string()))?;
        for l in labels.iter() {
            let name = intern(&mut self.strings, &l.name);
            let value = intern(&mut self.strings, &l.value);
            self.label_ids.extend([name, value]);
            self.postings.entry((name, value)).or_default().push(n);
        }
        self.series_ends
            .push((self.label_ids.len(), self.chunk_metas.len()));
        self.stats.series += 1;
        self.stats.chunks += chunks.len() as u64;
        self.min_t = self.min_t.min(chunks[0].min_t);
        self.max_t = self.max_t.max(chunks[chunks.len() - 1].max_t);
        self.last = Some(labels.clone());
        Ok(())
    }

    /// Refuses what the format cannot hold, before anything is written.
    fn check(&self, labels: &Labels, chunks: &[ChunkInput<'_>]) -> Result<(), Error> {
        if let Some(last) = &self.last
            && labels <= last
        {
            return Err(refuse(format!(
                "series {labels} is not after the previous series {last} in label order"
            )));
        }
        let ls = labels.as_slice();
        if ls.windows(2).any(|w| w[0].name >= w[1].name) || ls.iter().any(|l| l.value.is_empty()) {
            return Err(refuse(format!(
                "series {labels}: label names must be sorted and unique and values non-empty"
            )));
        }
        if chunks.is_empty() {
            return Err(refuse(format!("series {labels} has no chunks")));
        }
        for (i, c) in chunks.iter().enumerate() {
            if c.min_t > c.max_t || c.samples == 0 {
                return Err(refuse(format!(
                    "series {labels}: chunk {i} has min_t {} after max_t {} or no samples",
                    c.min_t, c.max_t
                )));
            }
            if i > 0 && c.min_t <= chunks[i - 1].max_t {
                return Err(refuse(format!(
                    "series {labels}: chunk {i} (from {}) is not after chunk {} (to {}): chunks must be sorted and not overlap",
                    c.min_t,
                    i - 1,
                    chunks[i - 1].max_t
                )));
            }
        }
        Ok(())
    }

    /// Writes the index and meta.json, fsyncs everything, renames the directory into place
    /// and fsyncs `parent`. Returns `None` (and leaves nothing behind) when no series was
    /// added. On an error the temporary directory is removed.
    pub fn finish(mut self) -> Result<Option<BlockMeta>, Error> {
        let chunks_path = self.tmp.join(chunks::FILE);
        let Some(out) = self.chunks.take() else {
            return Err(refuse("an earlier write failed".to_string()));
        };
        if self.series_ends.is_empty() {
            drop(out);
            // Dropping `self` removes the directory.
            return Ok(None);
        }
        let file = out
            .into_inner()
            .map_err(|e| Error::io("write", &chunks_path, e.into_error()))?;
        file.sync_all()
            .map_err(|e| Error::io("fsync", &chunks_path, e))?;
        drop(file);

        let index_path = self.tmp.join(index::FILE);
        self.write_index(&index_path)?;

        let meta = BlockMeta {
            id: self.id.clone(),
            min_t: self.min_t,
            max_t: self.max_t,
            stats: self.stats,
            level: self.level,
            sources: self.sources.clone(),
        };
        let meta_path = self.tmp.join(meta::FILE);
        write_synced(&meta_path, &meta::encode(&meta)?)?;
        dir::fsync_dir(&self.tmp)?;

        let target = self.parent.join(&self.id);
        fs::rename(&self.tmp, &target).map_err(|e| Error::io("rename", &self.tmp, e))?;
        self.done = true;
        dir::fsync_dir(&self.parent)?;
        tracing::debug!(
            block = %self.id,
            series = meta.stats.series,
            chunks = meta.stats.chunks,
            "block written"
        );
        Ok(Some(meta))
    }

    /// Writes and fsyncs the index file.
    fn write_index(&self, path: &Path) -> Result<(), Error> {
        let io = |e| Error::io("write", path, e);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| Error::io("create", path, e))?;
        let mut w = Sections::new(BufWriter::with_capacity(1 << 20, file));
        w.raw(&index::MAGIC).map_err(io)?;
        w.raw(&index::VERSION.to_le_bytes()).map_err(io)?;

        // Symbols sorted as strings; `remap` turns a temporary id into its final ref, so
        // ref order is string order and the reader compares refs instead of strings.
        let mut syms: Vec<(&str, u32)> = self
            .strings
            .iter()
            .map(|(s, &id)| (s.as_str(), id))
            .collect();
        syms.sort_unstable();
        let mut remap = vec![0u32; syms.len()];
        for (r, (_, id)) in syms.iter().enumerate() {
            remap[*id as usize] = r as u32;
        }
        let mut buf = Vec::new();
        let mut toc = Vec::new();
        put_uvarint(&mut buf, syms.len() as u64);
        w.start();
        w.data(&buf).map_err(io)?;
        for (s, _) in &syms {
            buf.clear();
            put_uvarint(&mut buf, s.len() as u64);
            buf.extend_from_slice(s.as_bytes());
            w.data(&buf).map_err(io)?;
        }
        let (off, len) = w.end().map_err(io)?;
        if u32::try_from(len).is_err() {
            return Err(refuse("symbol table over 4 GiB".to_string()));
        }
        toc.push((off, len));

        // Series, with each one's offset in the section for the postings.
        let mut offsets = Vec::with_capacity(self.series_ends.len());
        let (mut lstart, mut cstart) = (0usize, 0usize);
        let mut body = Vec::new();
        w.start();
        for &(lend, cend) in &self.series_ends {
            offsets.push(w.section_pos());
            body.clear();
            let ids = &self.label_ids[lstart..lend];
            put_uvarint(&mut body, (ids.len() / 2) as u64);
            for id in ids {
                put_uvarint(&mut body, u64::from(remap[*id as usize]));
            }
            body.extend_from_slice(&self.chunk_metas[cstart..cend]);
            buf.clear();
            put_uvarint(&mut buf, body.len() as u64);
            w.data(&buf).map_err(io)?;
            w.data(&body).map_err(io)?;
            (lstart, cstart) = (lend, cend);
        }
        toc.push(w.end().map_err(io)?);

        // Postings in (name, value) order, which is also the label table's order.
        let mut pairs: Vec<(u32, u32, &Vec<u32>)> = self
            .postings
            .iter()
            .map(|(&(n, v), list)| (remap[n as usize], remap[v as usize], list))
            .collect();
        pairs.sort_unstable_by_key(|&(n, v, _)| (n, v));
        let mut starts = Vec::with_capacity(pairs.len());
        w.start();
        for (_, _, list) in &pairs {
            starts.push(w.section_pos());
            buf.clear();
            put_uvarint(&mut buf, list.len() as u64);
            let mut prev = 0u64;
            for &s in list.iter() {
                let o = offsets[s as usize];
                put_uvarint(&mut buf, o - prev);
                prev = o;
            }
            w.data(&buf).map_err(io)?;
        }
        toc.push(w.end().map_err(io)?);

        // Label table: names, each with its values and postings offsets, delta-coded.
        buf.clear();
        let names = pairs.chunk_by(|a, b| a.0 == b.0).count();
        put_uvarint(&mut buf, names as u64);
        let mut prev_p: Option<u64> = None;
        let mut i = 0;
        for group in pairs.chunk_by(|a, b| a.0 == b.0) {
            put_uvarint(&mut buf, u64::from(group[0].0));
            put_uvarint(&mut buf, group.len() as u64);
            let mut prev_v: Option<u32> = None;
            for &(_, v, _) in group {
                put_uvarint(&mut buf, u64::from(v - prev_v.unwrap_or(0)));
                let p = starts[i];
                put_uvarint(&mut buf, p - prev_p.unwrap_or(0));
                (prev_v, prev_p) = (Some(v), Some(p));
                i += 1;
            }
        }
        w.start();
        w.data(&buf).map_err(io)?;
        toc.push(w.end().map_err(io)?);

        buf.clear();
        for (off, len) in toc {
            buf.extend_from_slice(&off.to_le_bytes());
            buf.extend_from_slice(&len.to_le_bytes());
        }
        buf.extend_from_slice(&self.chunks_pos.to_le_bytes());
        let crc = crc32c::crc32c(&buf);
        buf.extend_from_slice(&crc.to_le_bytes());
        w.raw(&buf).map_err(io)?;
        let file = w
            .out
            .into_inner()
            .map_err(|e| Error::io("write", path, e.into_error()))?;
        file.sync_all().map_err(|e| Error::io("fsync", path, e))
    }
}

impl Drop for BlockWriter {
    /// An abandoned or failed write leaves nothing behind (a crash leaves `*.tmp`, which
    /// [`super::remove_leftovers`] deletes at the next open).
    fn drop(&mut self) {
        if !self.done {
            self.chunks = None;
            if let Err(e) = fs::remove_dir_all(&self.tmp) {
                tracing::warn!(dir = %self.tmp.display(), error = %e, "cannot remove unfinished block directory");
            }
        }
    }
}

/// The temporary id of `s`, interning it.
fn intern(strings: &mut HashMap<String, u32>, s: &str) -> u32 {
    if let Some(&id) = strings.get(s) {
        return id;
    }
    let id = strings.len() as u32;
    strings.insert(s.to_string(), id);
    id
}

/// Creates `path` with `bytes` and fsyncs it.
fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| Error::io("create", path, e))?;
    f.write_all(bytes)
        .map_err(|e| Error::io("write", path, e))?;
    f.sync_all().map_err(|e| Error::io("fsync", path, e))
}

/// Writes the index, tracking the position and the running CRC of the open section.
struct Sections {
    out: BufWriter<File>,
    pos: u64,
    start: u64,
    crc: u32,
}

impl Sections {
    fn new(out: BufWriter<File>) -> Self {
        Sections {
            out,
            pos: 0,
            start: 0,
            crc: 0,
        }
    }

    /// Bytes outside any section (header, table of contents).
    fn raw(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.out.write_all(b)?;
        self.pos += b.len() as u64;
        Ok(())
    }

    fn start(&mut self) {
        self.start = self.pos;
        self.crc = 0;
    }

    /// Position relative to the start of the open section.
    fn section_pos(&self) -> u64 {
        self.pos - self.start
    }

    fn data(&mut self, b: &[u8]) -> std::io::Result<()> {
        self.crc = crc32c::crc32c_append(self.crc, b);
        self.raw(b)
    }

    /// Closes the section with its CRC; returns its (offset, length without the CRC).
    fn end(&mut self) -> std::io::Result<(u64, u64)> {
        let (start, len) = (self.start, self.pos - self.start);
        let crc = self.crc;
        self.raw(&crc.to_le_bytes())?;
        Ok((start, len))
    }
}
