//! The agent's on-disk queue: append-only segment files of checksummed records and a
//! persisted read cursor, bounded in bytes (oldest segments dropped first).
//!
//! The layout is documented in `QUEUE_FORMAT.md`. Appends are written with one write(2)
//! before `append` returns, so they survive a process kill; segments are fsynced when cut
//! and every `fsync_interval`. The cursor only moves past acknowledged data.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::Notify;

/// Magic and version at the start of every segment file.
const SEGMENT_MAGIC: &[u8; 8] = b"FWQSEG\x00\x01";
/// Bytes before the first record of a segment.
const SEGMENT_HEADER: u64 = SEGMENT_MAGIC.len() as u64;
/// Bytes of a record frame before its payload: length, crc32c, sample count.
const RECORD_HEADER: u64 = 12;
/// Largest payload a record may carry; bounds what a corrupt length can make us allocate.
pub const MAX_RECORD_BYTES: u64 = 256 << 20;
/// How often an advancing cursor is written to disk. A crash can resend what was
/// acknowledged in this window (the hub takes exact duplicates idempotently); writing the
/// cursor on every acknowledgement cost three syscalls and a file per request.
const CURSOR_PERSIST_EVERY: Duration = Duration::from_secs(1);

/// Name of the cursor file inside the queue directory.
const CURSOR_FILE: &str = "cursor";
/// Suffix of segment files.
const SEGMENT_SUFFIX: &str = ".seg";

/// Where in the queue: a segment number and a byte offset inside it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Position {
    /// Segment sequence number.
    pub segment: u64,
    /// Byte offset inside that segment.
    pub offset: u64,
}

/// One record read back from the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Position just past this record: acknowledging it moves the cursor here.
    pub end: Position,
    /// How many samples the payload holds (for accounting of drops).
    pub samples: u32,
    /// The payload as appended.
    pub payload: Vec<u8>,
}

/// Tuning of a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueOptions {
    /// Upper bound on the bytes of all segment files together.
    pub max_bytes: u64,
    /// A segment is cut (sealed, fsynced, a new one started) once it reaches this size.
    pub segment_bytes: u64,
    /// How often the head segment is fsynced while appends arrive.
    pub fsync_interval: Duration,
}

impl QueueOptions {
    /// Options for a bound of `max_bytes`, with segments an eighth of it (4 KiB to 64 MiB)
    /// so that dropping the oldest segment frees a modest share.
    pub fn with_max_bytes(max_bytes: u64) -> Self {
        QueueOptions {
            max_bytes,
            segment_bytes: (max_bytes / 8).clamp(4 << 10, 64 << 20),
            fsync_interval: Duration::from_secs(1),
        }
    }
}

/// Why a queue operation failed.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// A file operation failed.
    #[error("queue {op} {path}: {source}")]
    Io {
        /// What was being done.
        op: &'static str,
        /// On which file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A record is larger than a queue may hold.
    #[error("record of {size} bytes exceeds the queue's record limit of {limit} bytes")]
    RecordTooLarge {
        /// The payload size.
        size: u64,
        /// The limit.
        limit: u64,
    },
}

/// Counters describing the queue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Bytes of all segment files.
    pub bytes: u64,
    /// Number of segment files.
    pub segments: usize,
    /// Samples in segments dropped unread because the queue was full.
    pub dropped_samples: u64,
    /// Records dropped unread because the queue was full.
    pub dropped_records: u64,
}

/// A durable FIFO of byte records with an acknowledged-read cursor.
pub struct DiskQueue {
    dir: PathBuf,
    opts: QueueOptions,
    inner: Mutex<Inner>,
    notify: Notify,
    dropped_samples: AtomicU64,
    dropped_records: AtomicU64,
}

struct Inner {
    /// Every segment on disk and its size in bytes.
    segments: BTreeMap<u64, u64>,
    /// The segment being appended to (always the last in `segments`).
    head: File,
    head_seq: u64,
    /// Next record handed to the reader.
    read_pos: Position,
    /// Everything before this is acknowledged.
    cursor: Position,
    /// What the cursor file holds; it trails `cursor` by at most [`CURSOR_PERSIST_EVERY`].
    persisted: Position,
    last_cursor_write: Instant,
    last_sync: Instant,
    /// An open handle on the segment being read, to avoid reopening per record.
    reader: Option<(u64, File)>,
}

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> QueueError + 'a {
    move |source| QueueError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

impl DiskQueue {
    /// Opens (or creates) the queue in `dir`, truncating a torn tail left by a crash and
    /// resuming reads at the persisted cursor.
    pub fn open(dir: &Path, opts: QueueOptions) -> Result<Self, QueueError> {
        fs::create_dir_all(dir).map_err(io_err("create directory", dir))?;
        let mut segments = BTreeMap::new();
        for entry in fs::read_dir(dir).map_err(io_err("list", dir))? {
            let entry = entry.map_err(io_err("list", dir))?;
            let name = entry.file_name();
            let Some(seq) = name
                .to_str()
                .and_then(|n| n.strip_suffix(SEGMENT_SUFFIX))
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            let len = entry
                .metadata()
                .map_err(io_err("stat", &entry.path()))?
                .len();
            segments.insert(seq, len);
        }
        let cursor = read_cursor(dir);
        // Segments wholly before the cursor were acknowledged; a crash may have left them.
        let stale: Vec<u64> = segments
            .keys()
            .copied()
            .filter(|&s| cursor.is_some_and(|c| s < c.segment))
            .collect();
        for s in stale {
            let p = segment_path(dir, s);
            fs::remove_file(&p).map_err(io_err("remove", &p))?;
            segments.remove(&s);
        }
        // Only the last segment can have a torn tail: earlier ones were fsynced when cut.
        if let Some((&last, len)) = segments.iter_mut().next_back() {
            *len = repair_segment(&segment_path(dir, last))?;
        }
        let (head_seq, head) = match segments.iter().next_back() {
            Some((&s, &len)) if len < opts.segment_bytes => {
                let p = segment_path(dir, s);
                let f = OpenOptions::new()
                    .append(true)
                    .open(&p)
                    .map_err(io_err("open", &p))?;
                (s, f)
            }
            last => {
                let next = last.map_or(cursor.map_or(0, |c| c.segment), |(&s, _)| s + 1);
                let f = create_segment(dir, next)?;
                segments.insert(next, SEGMENT_HEADER);
                (next, f)
            }
        };
        let first = *segments.keys().next().unwrap_or(&head_seq);
        let start = Position {
            segment: first,
            offset: SEGMENT_HEADER,
        };
        let cursor = match cursor {
            Some(c) if segments.get(&c.segment).is_some_and(|&len| c.offset <= len) => c,
            _ => start,
        };
        Ok(DiskQueue {
            dir: dir.to_path_buf(),
            opts,
            inner: Mutex::new(Inner {
                segments,
                head,
                head_seq,
                read_pos: cursor,
                cursor,
                persisted: cursor,
                last_cursor_write: Instant::now(),
                last_sync: Instant::now(),
                reader: None,
            }),
            notify: Notify::new(),
            dropped_samples: AtomicU64::new(0),
            dropped_records: AtomicU64::new(0),
        })
    }

    /// Appends one record carrying `samples` samples. It is written to the file before this
    /// returns. Oldest segments are dropped (and their unread samples counted) to stay
    /// within `max_bytes`.
    pub fn append(&self, payload: &[u8], samples: u32) -> Result<(), QueueError> {
        let size = payload.len() as u64;
        let frame_len = RECORD_HEADER + size;
        let limit = MAX_RECORD_BYTES.min(
            self.opts
                .max_bytes
                .saturating_sub(SEGMENT_HEADER + RECORD_HEADER),
        );
        if size > limit {
            return Err(QueueError::RecordTooLarge { size, limit });
        }
        let mut frame = Vec::with_capacity(frame_len as usize);
        frame.extend_from_slice(&(size as u32).to_le_bytes());
        let mut crc = crc32c::crc32c(&samples.to_le_bytes());
        crc = crc32c::crc32c_append(crc, payload);
        frame.extend_from_slice(&crc.to_le_bytes());
        frame.extend_from_slice(&samples.to_le_bytes());
        frame.extend_from_slice(payload);

        let mut inner = self.inner.lock();
        let head_len = inner.segments.get(&inner.head_seq).copied().unwrap_or(0);
        if head_len > SEGMENT_HEADER && head_len + frame_len > self.opts.segment_bytes {
            self.cut(&mut inner)?;
        }
        self.make_room(&mut inner, frame_len)?;
        let path = segment_path(&self.dir, inner.head_seq);
        inner
            .head
            .write_all(&frame)
            .map_err(io_err("write", &path))?;
        let seq = inner.head_seq;
        *inner.segments.entry(seq).or_insert(SEGMENT_HEADER) += frame_len;
        if inner.last_sync.elapsed() >= self.opts.fsync_interval {
            inner.head.sync_data().map_err(io_err("fsync", &path))?;
            inner.last_sync = Instant::now();
        }
        drop(inner);
        self.notify.notify_one();
        Ok(())
    }

    /// Seals the head segment and starts the next one.
    fn cut(&self, inner: &mut Inner) -> Result<(), QueueError> {
        let old = segment_path(&self.dir, inner.head_seq);
        inner.head.sync_all().map_err(io_err("fsync", &old))?;
        let next = inner.head_seq + 1;
        inner.head = create_segment(&self.dir, next)?;
        inner.head_seq = next;
        inner.segments.insert(next, SEGMENT_HEADER);
        inner.last_sync = Instant::now();
        Ok(())
    }

    /// Drops oldest sealed segments until `extra` more bytes fit within `max_bytes`.
    fn make_room(&self, inner: &mut Inner, extra: u64) -> Result<(), QueueError> {
        loop {
            let total: u64 = inner.segments.values().sum();
            if total + extra <= self.opts.max_bytes {
                return Ok(());
            }
            let Some((&oldest, _)) = inner.segments.iter().next() else {
                return Ok(());
            };
            if oldest == inner.head_seq {
                // Only the head is left: cut so its bytes can go too.
                if inner.segments.get(&oldest).copied().unwrap_or(0) <= SEGMENT_HEADER {
                    return Ok(());
                }
                self.cut(inner)?;
                continue;
            }
            self.drop_segment(inner, oldest)?;
        }
    }

    /// Deletes a sealed segment, counting the records the reader had not yet taken.
    fn drop_segment(&self, inner: &mut Inner, seq: u64) -> Result<(), QueueError> {
        let path = segment_path(&self.dir, seq);
        if inner.read_pos.segment <= seq {
            let from = if inner.read_pos.segment == seq {
                inner.read_pos.offset
            } else {
                SEGMENT_HEADER
            };
            let (records, samples) = count_records(&path, from)?;
            self.dropped_records.fetch_add(records, Ordering::Relaxed);
            self.dropped_samples.fetch_add(samples, Ordering::Relaxed);
        }
        if inner.reader.as_ref().is_some_and(|(s, _)| *s == seq) {
            inner.reader = None;
        }
        fs::remove_file(&path).map_err(io_err("remove", &path))?;
        inner.segments.remove(&seq);
        let next = Position {
            segment: seq + 1,
            offset: SEGMENT_HEADER,
        };
        inner.read_pos = inner.read_pos.max(next);
        if inner.cursor < next {
            inner.cursor = next;
        }
        // The cursor file must never point into a deleted segment.
        persist_cursor(&self.dir, inner)?;
        Ok(())
    }

    /// Takes up to `max_records` records (and about `max_bytes` of payload) after the last
    /// ones taken. They stay on disk until acknowledged with [`DiskQueue::ack`].
    pub fn read(&self, max_records: usize, max_bytes: usize) -> Result<Vec<Record>, QueueError> {
        let mut inner = self.inner.lock();
        let mut out = Vec::new();
        let mut bytes = 0usize;
        while out.len() < max_records && bytes < max_bytes {
            let pos = inner.read_pos;
            let Some(&seg_len) = inner.segments.get(&pos.segment) else {
                // The segment went away (dropped); continue at the next one present.
                match inner.segments.range(pos.segment..).next() {
                    Some((&s, _)) => {
                        inner.read_pos = Position {
                            segment: s,
                            offset: SEGMENT_HEADER,
                        };
                        continue;
                    }
                    None => break,
                }
            };
            if pos.offset >= seg_len {
                if pos.segment == inner.head_seq {
                    break;
                }
                inner.read_pos = Position {
                    segment: pos.segment + 1,
                    offset: SEGMENT_HEADER,
                };
                continue;
            }
            let path = segment_path(&self.dir, pos.segment);
            if inner.reader.as_ref().is_none_or(|(s, _)| *s != pos.segment) {
                let f = File::open(&path).map_err(io_err("open", &path))?;
                inner.reader = Some((pos.segment, f));
            }
            let Some((_, file)) = inner.reader.as_ref() else {
                break;
            };
            match read_record(file, pos.offset, seg_len) {
                Ok(Some((samples, payload))) => {
                    let end = Position {
                        segment: pos.segment,
                        offset: pos.offset + RECORD_HEADER + payload.len() as u64,
                    };
                    bytes += payload.len();
                    inner.read_pos = end;
                    out.push(Record {
                        end,
                        samples,
                        payload,
                    });
                }
                Ok(None) => {
                    // A corrupt record inside a sealed segment: skip the rest of it.
                    tracing::warn!(segment = %path.display(), offset = pos.offset, "corrupt queue record, skipping rest of segment");
                    inner.read_pos = Position {
                        segment: pos.segment,
                        offset: seg_len,
                    };
                }
                Err(e) => return Err(io_err("read", &path)(e)),
            }
        }
        Ok(out)
    }

    /// Marks everything before `upto` as delivered: persists the cursor and deletes
    /// segments that are wholly behind it. The cursor never moves backwards.
    pub fn ack(&self, upto: Position) -> Result<(), QueueError> {
        let mut inner = self.inner.lock();
        if upto <= inner.cursor {
            return Ok(());
        }
        inner.cursor = upto;
        let done: Vec<u64> = inner
            .segments
            .range(..upto.segment)
            .map(|(&s, _)| s)
            .collect();
        // Persist before deleting segments (the file must never point into a deleted one),
        // else at most every CURSOR_PERSIST_EVERY.
        if !done.is_empty() || inner.last_cursor_write.elapsed() >= CURSOR_PERSIST_EVERY {
            persist_cursor(&self.dir, &mut inner)?;
        }
        for s in done {
            let p = segment_path(&self.dir, s);
            fs::remove_file(&p).map_err(io_err("remove", &p))?;
            inner.segments.remove(&s);
            if inner.reader.as_ref().is_some_and(|(r, _)| *r == s) {
                inner.reader = None;
            }
        }
        Ok(())
    }

    /// Forgets what was taken but not acknowledged, so it is read again.
    pub fn rewind(&self) {
        let mut inner = self.inner.lock();
        inner.read_pos = inner.cursor;
    }

    /// The acknowledged position (what a restart resumes from).
    pub fn cursor(&self) -> Position {
        self.inner.lock().cursor
    }

    /// True when every appended record has been taken by the reader.
    pub fn is_drained(&self) -> bool {
        let inner = self.inner.lock();
        let head_len = inner.segments.get(&inner.head_seq).copied().unwrap_or(0);
        inner.read_pos
            >= Position {
                segment: inner.head_seq,
                offset: head_len,
            }
    }

    /// Waits until a record may have been appended since the last wake-up.
    pub async fn appended(&self) {
        self.notify.notified().await
    }

    /// Fsyncs the head segment and writes the cursor (for shutdown).
    pub fn sync(&self) -> Result<(), QueueError> {
        let mut inner = self.inner.lock();
        persist_cursor(&self.dir, &mut inner)?;
        let path = segment_path(&self.dir, inner.head_seq);
        inner.head.sync_data().map_err(io_err("fsync", &path))?;
        inner.last_sync = Instant::now();
        Ok(())
    }

    /// Current sizes and drop counters.
    pub fn stats(&self) -> QueueStats {
        let inner = self.inner.lock();
        QueueStats {
            bytes: inner.segments.values().sum(),
            segments: inner.segments.len(),
            dropped_samples: self.dropped_samples.load(Ordering::Relaxed),
            dropped_records: self.dropped_records.load(Ordering::Relaxed),
        }
    }
}

fn segment_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{seq:020}{SEGMENT_SUFFIX}"))
}

fn create_segment(dir: &Path, seq: u64) -> Result<File, QueueError> {
    let p = segment_path(dir, seq);
    let mut f = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(&p)
        .map_err(io_err("create", &p))?;
    f.write_all(SEGMENT_MAGIC).map_err(io_err("write", &p))?;
    // Make the new file's directory entry durable so a crash cannot lose a whole segment.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(f)
}

/// Reads the record at `offset`: `Ok(None)` when it is torn or fails its checksum.
fn read_record(file: &File, offset: u64, seg_len: u64) -> std::io::Result<Option<(u32, Vec<u8>)>> {
    if offset + RECORD_HEADER > seg_len {
        return Ok(None);
    }
    let mut head = [0u8; RECORD_HEADER as usize];
    file.read_exact_at(&mut head, offset)?;
    let len = u64::from(u32::from_le_bytes([head[0], head[1], head[2], head[3]]));
    let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    let samples_bytes = [head[8], head[9], head[10], head[11]];
    if len > MAX_RECORD_BYTES || offset + RECORD_HEADER + len > seg_len {
        return Ok(None);
    }
    let mut payload = vec![0u8; len as usize];
    match file.read_exact_at(&mut payload, offset + RECORD_HEADER) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let actual = crc32c::crc32c_append(crc32c::crc32c(&samples_bytes), &payload);
    if actual != crc {
        return Ok(None);
    }
    Ok(Some((u32::from_le_bytes(samples_bytes), payload)))
}

/// Truncates a segment after its last whole, valid record; returns its new length.
fn repair_segment(path: &Path) -> Result<u64, QueueError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(io_err("open", path))?;
    let len = file.metadata().map_err(io_err("stat", path))?.len();
    let mut magic = [0u8; SEGMENT_HEADER as usize];
    let header_ok = len >= SEGMENT_HEADER
        && file.read_exact_at(&mut magic, 0).is_ok()
        && &magic == SEGMENT_MAGIC;
    if !header_ok {
        // Even the header is torn: rewrite it so the segment can be appended to.
        file.set_len(0).map_err(io_err("truncate", path))?;
        file.write_all_at(SEGMENT_MAGIC, 0)
            .map_err(io_err("write", path))?;
        return Ok(SEGMENT_HEADER);
    }
    let mut off = SEGMENT_HEADER;
    while let Some((_, payload)) = read_record(&file, off, len).map_err(io_err("read", path))? {
        off += RECORD_HEADER + payload.len() as u64;
    }
    if off < len {
        tracing::warn!(segment = %path.display(), valid = off, length = len, "truncating torn queue tail");
        file.set_len(off).map_err(io_err("truncate", path))?;
        file.sync_all().map_err(io_err("fsync", path))?;
    }
    Ok(off)
}

/// Counts records and samples from `from` to the end of a segment.
fn count_records(path: &Path, from: u64) -> Result<(u64, u64), QueueError> {
    let file = File::open(path).map_err(io_err("open", path))?;
    let len = file.metadata().map_err(io_err("stat", path))?.len();
    let (mut records, mut samples) = (0u64, 0u64);
    let mut off = from;
    while off + RECORD_HEADER <= len {
        let mut head = [0u8; RECORD_HEADER as usize];
        file.read_exact_at(&mut head, off)
            .map_err(io_err("read", path))?;
        let n = u64::from(u32::from_le_bytes([head[0], head[1], head[2], head[3]]));
        records += 1;
        samples += u64::from(u32::from_le_bytes([head[8], head[9], head[10], head[11]]));
        off += RECORD_HEADER + n;
    }
    Ok((records, samples))
}

/// The persisted cursor, if the file exists and its checksum holds.
fn read_cursor(dir: &Path) -> Option<Position> {
    let b = fs::read(dir.join(CURSOR_FILE)).ok()?;
    if b.len() != 20 {
        tracing::warn!(dir = %dir.display(), "ignoring queue cursor file of unexpected size");
        return None;
    }
    let (body, crc) = b.split_at(16);
    if crc32c::crc32c(body).to_le_bytes() != crc {
        tracing::warn!(dir = %dir.display(), "ignoring queue cursor file with bad checksum");
        return None;
    }
    let mut seg = [0u8; 8];
    let mut off = [0u8; 8];
    seg.copy_from_slice(&body[..8]);
    off.copy_from_slice(&body[8..]);
    Some(Position {
        segment: u64::from_le_bytes(seg),
        offset: u64::from_le_bytes(off),
    })
}

/// Writes `inner.cursor` to the cursor file when it moved since the last write.
fn persist_cursor(dir: &Path, inner: &mut Inner) -> Result<(), QueueError> {
    if inner.persisted != inner.cursor {
        write_cursor(dir, inner.cursor)?;
        inner.persisted = inner.cursor;
    }
    inner.last_cursor_write = Instant::now();
    Ok(())
}

/// Writes the cursor to a temporary file and renames it into place, so a reader of the
/// directory sees either the old or the new cursor, never a torn one.
fn write_cursor(dir: &Path, pos: Position) -> Result<(), QueueError> {
    let mut b = Vec::with_capacity(20);
    b.extend_from_slice(&pos.segment.to_le_bytes());
    b.extend_from_slice(&pos.offset.to_le_bytes());
    let crc = crc32c::crc32c(&b);
    b.extend_from_slice(&crc.to_le_bytes());
    let tmp = dir.join("cursor.tmp");
    fs::write(&tmp, &b).map_err(io_err("write", &tmp))?;
    let dst = dir.join(CURSOR_FILE);
    fs::rename(&tmp, &dst).map_err(io_err("rename", &dst))?;
    Ok(())
}
