//! Opening (blocks, checkpoint, WAL replay), the background fsync and maintenance
//! threads, checkpoints, stats and closing.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};

use crate::block::{self, Block, BlockMeta};
use crate::compact::{self, MaintenanceReport};
use crate::head::chunkfile::ChunkFiles;
use crate::head::{Head, Stats};
use crate::persisted::{Pending, Persisted};
use crate::turnstile::Turnstile;
use crate::wal::{WalWriter, checkpoint};
use crate::{Error, FsyncPolicy, Options};

/// State shared by the database handle, its appenders and its queriers.
pub(crate) struct Inner {
    pub(crate) head: Head,
    pub(crate) wal: Mutex<WalWriter>,
    pub(crate) opts: Options,
    pub(crate) closed: AtomicBool,
    /// Commit tickets, taken under the WAL lock so ticket order is WAL order.
    pub(crate) tickets: AtomicU64,
    /// Applies commits to the head in ticket order.
    pub(crate) turnstile: Turnstile,
    /// Blocks and in-flight chunks, swapped as a whole.
    persisted: RwLock<Arc<Persisted>>,
    /// One compaction, merge, retention or checkpoint at a time.
    pub(crate) compact_lock: Mutex<()>,
    /// Every head sample before this time has been written to blocks at some point.
    pub(crate) compacted_until: AtomicI64,
    /// Blocks whose merge found damage: their windows are not merged again until restart,
    /// so one damaged block does not stop every other merge.
    pub(crate) unmergeable: Mutex<std::collections::HashSet<String>>,
    /// The newest sample time in any block (i64::MIN when none): with the head's, the
    /// reference of the out-of-order window.
    blocks_max_t: AtomicI64,
    /// Replay work (samples, and series weighted by `checkpoint::SERIES_WORK`) logged
    /// since the last checkpoint's cut, to decide when the next one is due. Changed under
    /// the WAL lock.
    pub(crate) logged_work: AtomicU64,
    pub(crate) blocks_dir: PathBuf,
    // One fsync at a time; a committer whose bytes a finished fsync covered skips its own.
    sync_lock: Mutex<()>,
    durable: Arc<AtomicU64>,
    wal_dir: PathBuf,
}

impl Inner {
    /// Returns once the WAL is fsynced at least up to log position `pos`.
    pub(crate) fn sync_to(&self, pos: u64) -> std::io::Result<()> {
        let _one_at_a_time = self.sync_lock.lock();
        if self.durable.load(Ordering::Acquire) >= pos {
            return Ok(());
        }
        // The current segment holds every unsynced byte: a cut fsyncs the old one.
        let (file, upto) = {
            let w = self.wal.lock();
            (w.file(), w.position())
        };
        file.sync_data().map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("fsync WAL segment in {}: {e}", self.wal_dir.display()),
            )
        })?;
        self.durable.fetch_max(upto, Ordering::AcqRel);
        Ok(())
    }

    /// The current blocks and in-flight chunks.
    pub(crate) fn persisted(&self) -> Arc<Persisted> {
        Arc::clone(&self.persisted.read())
    }

    /// Sets (or clears) the chunks in flight from the head.
    pub(crate) fn set_pending(&self, pending: Option<Arc<Pending>>) {
        let mut p = self.persisted.write();
        *p = Arc::new(Persisted {
            blocks: p.blocks.clone(),
            pending,
        });
    }

    /// Adds `added`, removes `removed` (deleting their directories) and sets `pending`, in
    /// one step for readers.
    pub(crate) fn publish(
        &self,
        added: Vec<Arc<Block>>,
        removed: &[Arc<Block>],
        pending: Option<Arc<Pending>>,
    ) {
        {
            let mut p = self.persisted.write();
            let blocks: Vec<Arc<Block>> = p
                .blocks
                .iter()
                .filter(|b| !removed.iter().any(|r| Arc::ptr_eq(r, b)))
                .cloned()
                .chain(added)
                .collect();
            let next = Persisted::new(blocks, pending);
            self.blocks_max_t
                .store(next.max_time().unwrap_or(i64::MIN), Ordering::Release);
            *p = Arc::new(next);
        }
        // Readers still holding a removed block keep its mapped files until they finish.
        for b in removed {
            if let Err(e) = std::fs::remove_dir_all(b.dir()) {
                tracing::error!(dir = %b.dir().display(), error = %e, "cannot delete block directory");
            }
        }
    }

    /// Writes a checkpoint of the head covering every WAL segment written so far, then
    /// deletes those segments. The caller holds the compaction lock.
    pub(crate) fn checkpoint(&self) -> Result<(), Error> {
        // Cut under the WAL lock: every commit in the finished segments has a ticket
        // below `tickets`; once those have passed the turnstile the head holds them.
        // `closing` is read with the cut: a checkpoint that cut a segment must keep every
        // series, since commits may have gone on into the next segment before a close.
        let (covered, ticket, closing, tail) = {
            let mut w = self.wal.lock();
            let closing = self.closed.load(Ordering::Acquire);
            let covered = if closing {
                // No more writes: the current segment can be covered as it is.
                w.sync()
                    .map_err(|e| Error::io("fsync WAL in", &self.wal_dir, e))?;
                w.segment_index()
            } else {
                w.cut_now()
                    .map_err(|e| Error::io("cut WAL segment in", &self.wal_dir, e))?
            };
            let tail = self.logged_work.swap(0, Ordering::Relaxed);
            (covered, self.tickets.load(Ordering::Acquire), closing, tail)
        };
        self.turnstile.wait_past(ticket);
        let started = Instant::now();
        let stats = match checkpoint::write(&self.wal_dir, covered, &self.head, closing) {
            Ok(stats) => stats,
            Err(e) => {
                // The segments stay: so does the replay work they hold.
                self.logged_work.fetch_add(tail, Ordering::Relaxed);
                return Err(e);
            }
        };
        tracing::info!(
            segment = covered,
            series = stats.series,
            chunks = stats.chunks,
            bytes = stats.bytes,
            seconds = started.elapsed().as_secs_f64(),
            "wrote WAL checkpoint"
        );
        Ok(())
    }

    /// The newest sample time in the head or any block.
    pub(crate) fn max_time(&self) -> Option<model::Timestamp> {
        let b = self.blocks_max_t.load(Ordering::Acquire);
        match self.head.max_time() {
            Some(h) => Some(h.max(b)),
            None => (b != i64::MIN).then_some(b),
        }
    }

    /// Bytes of the WAL directory: segments and checkpoint.
    pub(crate) fn wal_bytes(&self) -> u64 {
        dir_bytes(&self.wal_dir)
    }
}

/// Total size of the files directly in `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

/// The embedded time-series database. Share it as `Arc<Db>`; it implements
/// [`storage::Appendable`] and [`storage::Queryable`].
pub struct Db {
    pub(crate) inner: Arc<Inner>,
    fsync_thread: Mutex<Option<(Sender<()>, JoinHandle<()>)>>,
    maintenance_thread: Mutex<Option<(Sender<()>, JoinHandle<()>)>>,
    // Held until close or drop: its lock keeps a second database out of the directory.
    lock: Mutex<Option<File>>,
}

impl Db {
    /// Opens (creating if needed) the database in `dir`: its blocks, then the newest WAL
    /// checkpoint and the WAL segments after it. A torn or corrupt tail of the last WAL
    /// segment is truncated with a warning; corruption inside an older segment ends the
    /// replay of that segment only, with a warning. A block that fails its checks is moved
    /// aside (renamed `<id>.corrupt`) with an error in the log, and the rest is served.
    pub fn open(dir: &Path, opts: Options) -> Result<Db, Error> {
        opts.validate()?;
        let started = Instant::now();
        let wal_dir = dir.join("wal");
        let blocks_dir = dir.join("blocks");
        for d in [&wal_dir, &blocks_dir] {
            std::fs::create_dir_all(d).map_err(|e| Error::io("create directory", d, e))?;
        }
        let lock_path = dir.join("lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| Error::io("open lock file", &lock_path, e))?;
        lock.try_lock().map_err(|e| match e {
            std::fs::TryLockError::WouldBlock => Error::Locked {
                path: lock_path.clone(),
            },
            std::fs::TryLockError::Error(e) => Error::io("lock", &lock_path, e),
        })?;

        let blocks = open_blocks(&blocks_dir)?;
        let blocks_done = started.elapsed();
        let chunk_dir = dir.join("chunks_head");
        let files = ChunkFiles::open(&chunk_dir)
            .inspect_err(|e| {
                tracing::warn!(dir = %chunk_dir.display(), error = %e, "no head chunk files; closed chunks stay on the heap");
            })
            .ok();
        let head = Head::with_chunk_files(files);
        let (counts, next) = crate::replay::replay(&head, &wal_dir)?;
        tracing::info!(
            dir = %dir.display(),
            blocks = blocks.len(),
            blocks_seconds = blocks_done.as_secs_f64(),
            checkpoint = ?counts.checkpoint,
            segments = counts.segments,
            series = head.stats().series,
            samples = counts.samples,
            chunks = counts.chunks,
            seconds = started.elapsed().as_secs_f64(),
            "opened database"
        );
        if counts.conflicts + counts.unknown_series + counts.bad_series + counts.bad_chunks > 0 {
            tracing::warn!(
                dir = %wal_dir.display(),
                conflicting_samples = counts.conflicts,
                samples_of_unknown_series = counts.unknown_series,
                inconsistent_series_records = counts.bad_series,
                undecodable_chunks = counts.bad_chunks,
                "WAL replay dropped records"
            );
        }
        if counts.optional_skipped > 0 {
            tracing::info!(
                dir = %wal_dir.display(),
                records = counts.optional_skipped,
                "WAL replay skipped records of optional types this build does not read"
            );
        }
        // New writes go to a fresh segment so nothing is ever appended after a bad tail.
        let writer = WalWriter::create(&wal_dir, next, opts.wal_segment_size)?;
        let durable = writer.durable();
        let compacted_until = blocks
            .iter()
            .map(|b| b.meta().max_t.saturating_add(1))
            .max()
            .unwrap_or(i64::MIN);
        let persisted = Persisted::new(blocks, None);
        let persisted_max = persisted.max_time();
        let inner = Arc::new(Inner {
            head,
            wal: Mutex::new(writer),
            opts,
            closed: AtomicBool::new(false),
            tickets: AtomicU64::new(0),
            turnstile: Turnstile::default(),
            persisted: RwLock::new(Arc::new(persisted)),
            compact_lock: Mutex::new(()),
            compacted_until: AtomicI64::new(compacted_until),
            unmergeable: Mutex::default(),
            blocks_max_t: AtomicI64::new(persisted_max.unwrap_or(i64::MIN)),
            logged_work: AtomicU64::new(counts.logged_work),
            blocks_dir,
            sync_lock: Mutex::new(()),
            durable,
            wal_dir,
        });
        let fsync_thread = match inner.opts.fsync {
            FsyncPolicy::Always => None,
            FsyncPolicy::Interval(every) => Some(spawn_fsync(Arc::downgrade(&inner), every)?),
        };
        let maintenance_thread = match inner.opts.maintenance_interval {
            None => None,
            Some(every) => Some(spawn_maintenance(Arc::downgrade(&inner), every)?),
        };
        Ok(Db {
            inner,
            fsync_thread: Mutex::new(fsync_thread),
            maintenance_thread: Mutex::new(maintenance_thread),
            lock: Mutex::new(Some(lock)),
        })
    }

    /// Series and sample counts and the head's time range.
    pub fn stats(&self) -> Stats {
        self.inner.head.stats()
    }

    /// What the blocks hold, oldest first.
    pub fn blocks(&self) -> Vec<BlockMeta> {
        self.inner
            .persisted()
            .blocks
            .iter()
            .map(|b| b.meta().clone())
            .collect()
    }

    /// Runs one maintenance round now (what the background thread does every
    /// `maintenance_interval`): head compaction when due, block merges, retention, and a
    /// WAL checkpoint when it pays.
    pub fn compact(&self) -> Result<MaintenanceReport, Error> {
        compact::maintain(&self.inner)
    }

    /// Writes every head sample older than `before` into blocks now, whatever the head's
    /// span, and checkpoints the WAL. Returns the number of blocks written.
    pub fn persist_head_before(&self, before: model::Timestamp) -> Result<usize, Error> {
        let _one_at_a_time = self.inner.compact_lock.lock();
        let n = compact::persist_head(&self.inner, before)?;
        self.inner.checkpoint()?;
        Ok(n)
    }

    /// Stops accepting writes (appenders still held then fail with `Closed`), waits for
    /// commits in flight, writes the head into blocks (with `persist_head_on_close`), writes
    /// a WAL checkpoint, stops the background threads and releases the directory.
    /// Idempotent.
    pub fn close(&self) -> Result<(), Error> {
        let (was_closed, ticket) = {
            let _w = self.inner.wal.lock();
            (
                self.inner.closed.swap(true, Ordering::AcqRel),
                self.inner.tickets.load(Ordering::Acquire),
            )
        };
        self.stop_threads();
        if was_closed || self.lock.lock().is_none() {
            return Ok(());
        }
        self.inner.turnstile.wait_past(ticket);
        let result = {
            let _one_at_a_time = self.inner.compact_lock.lock();
            let persisted = if self.inner.opts.persist_head_on_close {
                compact::persist_head(&self.inner, i64::MAX).map(|_| ())
            } else {
                Ok(())
            };
            persisted.and_then(|()| self.inner.checkpoint())
        };
        self.lock.lock().take();
        result
    }

    fn stop_threads(&self) {
        for slot in [&self.fsync_thread, &self.maintenance_thread] {
            if let Some((stop, handle)) = slot.lock().take() {
                drop(stop);
                if handle.join().is_err() {
                    tracing::error!("a tsdb background thread panicked");
                }
            }
        }
    }
}

impl Drop for Db {
    /// Like a crash as far as the disk goes (nothing more is flushed or checkpointed), but
    /// appenders that outlive the handle stop writing, so the directory can be opened again.
    fn drop(&mut self) {
        {
            let _w = self.inner.wal.lock();
            self.inner.closed.store(true, Ordering::Release);
        }
        self.stop_threads();
    }
}

/// Opens every block in `dir`, deleting unfinished ones and moving damaged ones aside.
fn open_blocks(dir: &Path) -> Result<Vec<Arc<Block>>, Error> {
    block::remove_leftovers(dir)?;
    let mut out = Vec::new();
    for path in block::list_blocks(dir)? {
        match Block::open(&path) {
            Ok(b) => out.push(Arc::new(b)),
            Err(e) => {
                let aside = path.with_extension("corrupt");
                tracing::error!(
                    block = %path.display(),
                    error = %e,
                    moved_to = %aside.display(),
                    "block failed its checks: moved aside, its data is not served"
                );
                std::fs::rename(&path, &aside)
                    .map_err(|e| Error::io("move damaged block aside", &path, e))?;
            }
        }
    }
    Ok(out)
}

/// Starts the thread that fsyncs the WAL every `every` until its sender is dropped.
fn spawn_fsync(inner: Weak<Inner>, every: Duration) -> Result<(Sender<()>, JoinHandle<()>), Error> {
    let (tx, rx) = mpsc::channel::<()>();
    let handle = std::thread::Builder::new()
        .name("tsdb-wal-fsync".to_string())
        .spawn(move || {
            while let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(every) {
                let Some(inner) = inner.upgrade() else { return };
                // Take the file under the lock but flush outside it: commits go on meanwhile.
                let file = inner.wal.lock().take_dirty();
                if let Some(f) = file
                    && let Err(e) = f.sync_data()
                {
                    tracing::error!(dir = %inner.wal_dir.display(), error = %e, "WAL fsync failed");
                    inner.wal.lock().mark_dirty();
                }
            }
        })
        .map_err(Error::Thread)?;
    Ok((tx, handle))
}

/// How often the maintenance thread checks, between rounds, whether the WAL tail is due
/// for a checkpoint: at a million samples a second, waiting a whole round (a minute)
/// would add 60 M samples to what a crash replays.
const CHECKPOINT_POLL: Duration = Duration::from_secs(2);

/// Starts the thread that runs a maintenance round every `every`, and a checkpoint as
/// soon as one is due, until its sender is dropped.
fn spawn_maintenance(
    inner: Weak<Inner>,
    every: Duration,
) -> Result<(Sender<()>, JoinHandle<()>), Error> {
    let (tx, rx) = mpsc::channel::<()>();
    let handle = std::thread::Builder::new()
        .name("tsdb-maintenance".to_string())
        .spawn(move || {
            let mut last_round = Instant::now();
            while let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(every.min(CHECKPOINT_POLL)) {
                let Some(inner) = inner.upgrade() else { return };
                if inner.closed.load(Ordering::Acquire) {
                    return;
                }
                let done = if last_round.elapsed() >= every {
                    last_round = Instant::now();
                    compact::maintain(&inner).map(|_| ())
                } else {
                    compact::checkpoint_if_due(&inner).map(|_| ())
                };
                if let Err(e) = done {
                    tracing::error!(error = %e, "tsdb maintenance failed; retrying next round");
                }
            }
        })
        .map_err(Error::Thread)?;
    Ok((tx, handle))
}
