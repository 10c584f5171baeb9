//! The write-ahead log: numbered segment files in `dir/wal/`, each a versioned header and
//! framed records (length + crc32c). Layout in FORMAT.md.

pub(crate) mod checkpoint;
pub(crate) mod reader;
pub(crate) mod record;

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::Error;

/// Bytes of a record header: payload length and crc32c, both u32 little-endian.
pub(crate) const HEADER_BYTES: usize = 8;
/// Largest payload a reader accepts; anything larger is corruption.
pub(crate) const MAX_RECORD_BYTES: usize = 64 << 20;
/// First bytes of every segment.
pub(crate) const SEGMENT_MAGIC: [u8; 4] = *b"FWAL";
/// The record format this build writes. Version 3 added chunks records with time ranges
/// (type 5): a build that reads only version 2 refuses such a file instead of taking the
/// unknown record for damage. Version 1 was the unversioned first cut (fixed-width
/// records, no segment header); it is refused, never misread.
pub(crate) const FORMAT_VERSION: u32 = 3;
/// The oldest format version this build still reads (2: everything but type 5).
pub(crate) const OLDEST_READABLE_VERSION: u32 = 2;
/// Bytes of a segment header: magic, format version (u32 LE), crc32c of the first 8 bytes.
pub(crate) const SEGMENT_HEADER_BYTES: usize = 12;

/// The header every segment starts with.
pub(crate) fn segment_header() -> [u8; SEGMENT_HEADER_BYTES] {
    let mut h = [0u8; SEGMENT_HEADER_BYTES];
    h[..4].copy_from_slice(&SEGMENT_MAGIC);
    h[4..8].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    let crc = crc32c::crc32c(&h[..8]);
    h[8..].copy_from_slice(&crc.to_le_bytes());
    h
}

/// Appends one framed record to `out`; `fill` writes the payload (type byte first), which
/// is snappy-compressed when that pays off.
pub(crate) fn frame_with(out: &mut Vec<u8>, fill: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&[0u8; HEADER_BYTES]);
    fill(out);
    record::compress_payload(out, start + HEADER_BYTES);
    let payload = &out[start + HEADER_BYTES..];
    // Payload size is bounded by the encoders (chunked records, label size limit).
    let len = payload.len() as u32;
    let crc = crc32c::crc32c(payload);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// Appends framed series records for `series` to `out`, closing a record once it passes
/// the soft record size (a series' labels are at most 16 MiB).
pub(crate) fn frame_series(
    out: &mut Vec<u8>,
    symbols: &crate::head::symbols::Symbols,
    series: &[&crate::head::series::MemSeries],
) {
    let mut rest = series;
    while !rest.is_empty() {
        let mut size = 0;
        let mut take = 0;
        while take < rest.len() && size <= record::SOFT_RECORD_BYTES {
            size += 12
                + rest[take]
                    .labels
                    .iter(symbols)
                    .map(|(n, v)| 8 + n.len() + v.len())
                    .sum::<usize>();
            take += 1;
        }
        let (batch, tail) = rest.split_at(take);
        // The WAL encoder takes string pairs; the head keeps symbol ids.
        let pairs: Vec<Vec<(Arc<str>, Arc<str>)>> = batch
            .iter()
            .map(|s| {
                s.labels
                    .iter(symbols)
                    .map(|(n, v)| (Arc::clone(n), Arc::clone(v)))
                    .collect()
            })
            .collect();
        frame_with(out, |b| {
            record::encode_series(b, batch.iter().zip(&pairs).map(|(s, p)| (s.id, &p[..])))
        });
        rest = tail;
    }
}

/// The file name of segment `index`.
pub(crate) fn segment_name(index: u64) -> String {
    format!("{index:08}")
}

/// Segment indexes found in `dir`, ascending. Files that are not segments are ignored.
pub(crate) fn list_segments(dir: &Path) -> Result<Vec<u64>, Error> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io("list WAL directory", dir, e))?;
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| Error::io("list WAL directory", dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.is_empty()
            && name.bytes().all(|b| b.is_ascii_digit())
            && let Ok(i) = name.parse::<u64>()
        {
            out.push(i);
        }
    }
    out.sort_unstable();
    Ok(out)
}

/// fsyncs a directory so that a file created in it survives power loss.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Writes framed records to the current segment and cuts new ones.
pub(crate) struct WalWriter {
    dir: PathBuf,
    max_segment: u64,
    index: u64,
    file: Arc<File>,
    size: u64,
    // Bytes written since the last fsync of the current segment.
    dirty: bool,
    // A failed write may have left a partial record: the next write starts a new segment.
    broken: bool,
    // Bytes written over all segments of this writer: a position in the log.
    position: u64,
    // Log position up to which everything is fsynced; shared with group-commit syncers.
    durable: Arc<AtomicU64>,
}

impl WalWriter {
    /// Creates segment `index` in `dir` and writes there.
    pub(crate) fn create(dir: &Path, index: u64, max_segment: u64) -> Result<Self, Error> {
        let file = open_segment(dir, index)
            .map_err(|e| Error::io("create WAL segment", dir.join(segment_name(index)), e))?;
        Ok(WalWriter {
            dir: dir.to_path_buf(),
            max_segment,
            index,
            file: Arc::new(file),
            size: SEGMENT_HEADER_BYTES as u64,
            dirty: false,
            broken: false,
            position: 0,
            durable: Arc::new(AtomicU64::new(0)),
        })
    }

    /// Writes `buf` (whole framed records) straight to the kernel, with no userspace buffer,
    /// so it survives the process being killed once this returns. A batch never spans segments.
    pub(crate) fn write(&mut self, buf: &[u8]) -> io::Result<()> {
        let has_records = self.size > SEGMENT_HEADER_BYTES as u64;
        if self.broken || (has_records && self.size + buf.len() as u64 > self.max_segment) {
            self.cut()?;
        }
        if let Err(e) = (&*self.file).write_all(buf) {
            // Drop the partial tail so later records are not hidden behind it on replay.
            if self.file.set_len(self.size).is_err() {
                self.broken = true;
            }
            return Err(self.annotate("write", e));
        }
        self.size += buf.len() as u64;
        self.position += buf.len() as u64;
        self.dirty = true;
        Ok(())
    }

    /// fsyncs the current segment if anything was written since the last fsync.
    pub(crate) fn sync(&mut self) -> io::Result<()> {
        if self.dirty {
            self.file
                .sync_data()
                .map_err(|e| self.annotate("fsync", e))?;
            self.dirty = false;
            self.durable.fetch_max(self.position, Ordering::AcqRel);
        }
        Ok(())
    }

    /// The current segment if it has unsynced writes, marked clean: the caller fsyncs it
    /// outside the writer's lock so that commits are not held up by the disk.
    pub(crate) fn take_dirty(&mut self) -> Option<Arc<File>> {
        if self.dirty {
            self.dirty = false;
            Some(Arc::clone(&self.file))
        } else {
            None
        }
    }

    /// Log position after the last write (bytes over all segments since open).
    pub(crate) fn position(&self) -> u64 {
        self.position
    }

    /// The current segment file.
    pub(crate) fn file(&self) -> Arc<File> {
        Arc::clone(&self.file)
    }

    /// The shared watermark of fsynced log bytes.
    pub(crate) fn durable(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.durable)
    }

    /// Marks the segment unsynced again (after a failed background fsync).
    pub(crate) fn mark_dirty(&mut self) {
        self.dirty = true;
    }

    /// Index of the segment being written.
    pub(crate) fn segment_index(&self) -> u64 {
        self.index
    }

    /// Finishes the current segment (fsynced) and starts the next; returns the index of
    /// the finished one. A checkpoint covers segments up to it.
    pub(crate) fn cut_now(&mut self) -> io::Result<u64> {
        let finished = self.index;
        self.cut()?;
        Ok(finished)
    }

    /// Finishes the current segment (fsynced, so everything before a cut is durable) and
    /// starts the next one.
    fn cut(&mut self) -> io::Result<()> {
        if !self.broken {
            self.file
                .sync_data()
                .map_err(|e| self.annotate("fsync", e))?;
            // Everything before the cut is now on disk, whoever waits for it.
            self.durable.fetch_max(self.position, Ordering::AcqRel);
        }
        let next = self.index + 1;
        let file = open_segment(&self.dir, next).map_err(|e| self.annotate("create", e))?;
        self.file = Arc::new(file);
        self.index = next;
        self.size = SEGMENT_HEADER_BYTES as u64;
        self.dirty = false;
        self.broken = false;
        Ok(())
    }

    fn annotate(&self, op: &str, e: io::Error) -> io::Error {
        let path = self.dir.join(segment_name(self.index));
        io::Error::new(
            e.kind(),
            format!("{op} WAL segment {}: {e}", path.display()),
        )
    }
}

/// Creates segment `index` with its header. The header reaches the disk with the first
/// fsync of the segment; a crash before that leaves an empty or torn header, which replay
/// treats as a torn tail.
fn open_segment(dir: &Path, index: u64) -> io::Result<File> {
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(dir.join(segment_name(index)))?;
    file.write_all(&segment_header())?;
    sync_dir(dir)?;
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_header_holds_length_and_crc() {
        let mut out = Vec::new();
        frame_with(&mut out, |b| b.extend_from_slice(b"hello"));
        assert_eq!(&out[0..4], &5u32.to_le_bytes());
        assert_eq!(&out[4..8], &crc32c::crc32c(b"hello").to_le_bytes());
        assert_eq!(&out[8..], b"hello");
    }

    #[test]
    fn writer_cuts_segments_at_size() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut w = WalWriter::create(dir.path(), 3, 4096).expect("create");
        let rec = vec![0u8; 3000];
        w.write(&rec).expect("write");
        assert_eq!(w.segment_index(), 3);
        w.write(&rec).expect("write");
        assert_eq!(w.segment_index(), 4);
        assert_eq!(list_segments(dir.path()).expect("list"), vec![3, 4]);
    }
}
