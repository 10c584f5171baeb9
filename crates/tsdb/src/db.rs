//! Opening (WAL replay), the background fsync thread, stats and closing.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use model::Sample;
use parking_lot::Mutex;

use crate::head::{Head, Stats};
use crate::turnstile::Turnstile;
use crate::wal::reader::read_segment;
use crate::wal::record::Record;
use crate::wal::{self, WalWriter};
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
}

/// The embedded time-series database. Share it as `Arc<Db>`; it implements
/// [`storage::Appendable`] and [`storage::Queryable`].
pub struct Db {
    pub(crate) inner: Arc<Inner>,
    fsync_thread: Mutex<Option<(Sender<()>, JoinHandle<()>)>>,
    // Held until close or drop: its lock keeps a second database out of the directory.
    lock: Mutex<Option<File>>,
}

/// What replay found, for the log line at open.
#[derive(Debug, Default)]
struct ReplayCounts {
    series: u64,
    samples: u64,
    conflicts: u64,
    unknown_series: u64,
    bad_series: u64,
}

impl Db {
    /// Opens (creating if needed) the database in `dir`, replaying its WAL. A torn or
    /// corrupt tail of the last WAL segment is truncated with a warning; corruption inside
    /// an older segment ends the replay of that segment only, with a warning.
    pub fn open(dir: &Path, opts: Options) -> Result<Db, Error> {
        opts.validate()?;
        let wal_dir = dir.join("wal");
        std::fs::create_dir_all(&wal_dir)
            .map_err(|e| Error::io("create directory", &wal_dir, e))?;
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

        let head = Head::new();
        let segments = wal::list_segments(&wal_dir)?;
        let counts = replay(&head, &wal_dir, &segments)?;
        if !segments.is_empty() {
            tracing::info!(
                dir = %wal_dir.display(),
                segments = segments.len(),
                series = counts.series,
                samples = counts.samples,
                "replayed WAL"
            );
        }
        if counts.conflicts + counts.unknown_series + counts.bad_series > 0 {
            tracing::warn!(
                dir = %wal_dir.display(),
                conflicting_samples = counts.conflicts,
                samples_of_unknown_series = counts.unknown_series,
                inconsistent_series_records = counts.bad_series,
                "WAL replay dropped records"
            );
        }
        // New writes go to a fresh segment so nothing is ever appended after a bad tail.
        let next = segments.last().map_or(0, |l| l + 1);
        let writer = WalWriter::create(&wal_dir, next, opts.wal_segment_size)?;
        let durable = writer.durable();
        let inner = Arc::new(Inner {
            head,
            wal: Mutex::new(writer),
            opts,
            closed: AtomicBool::new(false),
            tickets: AtomicU64::new(0),
            turnstile: Turnstile::default(),
            sync_lock: Mutex::new(()),
            durable,
            wal_dir,
        });
        let fsync_thread = match inner.opts.fsync {
            FsyncPolicy::Always => None,
            FsyncPolicy::Interval(every) => Some(spawn_fsync(Arc::downgrade(&inner), every)?),
        };
        Ok(Db {
            inner,
            fsync_thread: Mutex::new(fsync_thread),
            lock: Mutex::new(Some(lock)),
        })
    }

    /// Series and sample counts and the head's time range.
    pub fn stats(&self) -> Stats {
        self.inner.head.stats()
    }

    /// Stops accepting writes (appenders still held then fail with `Closed`), fsyncs the
    /// WAL, stops the fsync thread and releases the directory. Idempotent.
    pub fn close(&self) -> Result<(), Error> {
        let synced = {
            let mut w = self.inner.wal.lock();
            self.inner.closed.store(true, Ordering::Release);
            w.sync()
        };
        self.stop_fsync_thread();
        self.lock.lock().take();
        synced.map_err(|e| Error::io("fsync WAL in", &self.inner.wal_dir, e))
    }

    fn stop_fsync_thread(&self) {
        if let Some((stop, handle)) = self.fsync_thread.lock().take() {
            drop(stop);
            if handle.join().is_err() {
                tracing::error!("the WAL fsync thread panicked");
            }
        }
    }
}

impl Drop for Db {
    /// Like a crash as far as fsync goes (nothing more is flushed), but appenders that
    /// outlive the handle stop writing, so the directory can be opened again.
    fn drop(&mut self) {
        {
            let _w = self.inner.wal.lock();
            self.inner.closed.store(true, Ordering::Release);
        }
        self.stop_fsync_thread();
    }
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

/// Replays every segment into `head`, truncating a bad tail of the last one.
fn replay(head: &Head, wal_dir: &Path, segments: &[u64]) -> Result<ReplayCounts, Error> {
    let mut counts = ReplayCounts::default();
    for (i, &index) in segments.iter().enumerate() {
        let path = wal_dir.join(wal::segment_name(index));
        let end = read_segment(&path, |rec| apply_record(head, rec, &mut counts))?;
        let Some(reason) = end.corruption else {
            continue;
        };
        if i + 1 == segments.len() {
            tracing::warn!(
                file = %path.display(),
                offset = end.valid_len,
                reason = %reason,
                "torn or corrupt WAL tail: truncating the segment there"
            );
            let f = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(|e| Error::io("open WAL segment", &path, e))?;
            f.set_len(end.valid_len)
                .and_then(|()| f.sync_all())
                .map_err(|e| Error::io("truncate WAL segment", &path, e))?;
        } else {
            tracing::warn!(
                file = %path.display(),
                offset = end.valid_len,
                reason = %reason,
                "corrupt record inside an older WAL segment: skipping the rest of that segment"
            );
        }
    }
    Ok(counts)
}

fn apply_record(head: &Head, rec: Record, counts: &mut ReplayCounts) {
    match rec {
        Record::Series(series) => {
            for s in series {
                match head.restore_series(s.id, &s.labels) {
                    Ok(()) => counts.series += 1,
                    Err(reason) => {
                        counts.bad_series += 1;
                        tracing::warn!(%reason, "inconsistent WAL series record ignored");
                    }
                }
            }
        }
        Record::Samples(samples) => {
            // Commits write a series' samples next to each other: apply them per run.
            let mut run: Vec<Sample> = Vec::new();
            let mut i = 0;
            while i < samples.len() {
                let id = samples[i].id;
                run.clear();
                while i < samples.len() && samples[i].id == id {
                    run.push(Sample::new(samples[i].t, samples[i].v));
                    i += 1;
                }
                match head.series_by_id(id) {
                    Some(s) => {
                        counts.conflicts += head.apply(&s, &run);
                        counts.samples += run.len() as u64;
                    }
                    None => counts.unknown_series += run.len() as u64,
                }
            }
        }
        Record::Metadata(entries) => {
            for (metric, meta) in entries {
                head.set_metadata(metric, meta);
            }
        }
    }
}
