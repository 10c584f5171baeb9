//! Closed head chunks kept off the heap: appended to files created in
//! `<data>/chunks_head/` and read through a read-only mapping, as Prometheus maps its
//! head chunks. A head spanning two hours holds four to six closed chunks per series: in
//! files they cost page cache the kernel can reclaim, not heap.
//!
//! The files are a place to keep bytes, not a log: the WAL and checkpoints hold every
//! sample. Each file is unlinked as soon as it is mapped, so nothing is ever found or
//! deleted by name: its space goes when its last chunk is dropped or the process exits
//! (a crash leaves nothing behind), and `du` does not count it.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use memmap2::{MmapOptions, MmapRaw};
use parking_lot::Mutex;

use crate::Error;

/// Size of one chunk file (sparse until written).
const FILE_BYTES: u64 = 64 << 20;

// Offsets and lengths inside a file are kept as u32.
const _: () = assert!(FILE_BYTES <= u32::MAX as u64);

/// Chunks larger than this stay on the heap (head chunks are a few hundred bytes).
const MAX_CHUNK_BYTES: usize = 1 << 20;

/// After a file cannot be created or written, chunks stay on the heap this long before
/// files are tried again (a full disk must not cost a failing syscall per chunk).
const BACK_OFF: Duration = Duration::from_secs(60);

/// The chunk files of one head.
pub(crate) struct ChunkFiles {
    dir: PathBuf,
    current: Mutex<Current>,
}

/// The file being appended to, and where the next chunk goes.
#[derive(Default)]
struct Current {
    file: Option<Arc<ChunkFile>>,
    end: u64,
    next_index: u64,
    /// Files are not tried before this instant (after a failure).
    paused_until: Option<Instant>,
}

/// One mapped (and unlinked) chunk file.
pub(crate) struct ChunkFile {
    map: MmapRaw,
    file: File,
}

/// A chunk's bytes in a chunk file.
pub(crate) struct FileChunk {
    file: Arc<ChunkFile>,
    off: u32,
    len: u32,
}

impl ChunkFiles {
    /// Chunk files created in `dir`, emptied first (an older build left files there).
    pub(crate) fn open(dir: &Path) -> Result<Self, Error> {
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| Error::io("empty", dir, e))?;
        }
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        Ok(ChunkFiles {
            dir: dir.to_path_buf(),
            current: Mutex::new(Current::default()),
        })
    }

    /// Appends `data`; `None` when it cannot (the caller keeps the bytes on the heap).
    pub(crate) fn append(&self, data: &[u8]) -> Option<FileChunk> {
        self.append_all(&[data]).pop().flatten()
    }

    /// Appends each of `parts` (one write for all); `None` for those that cannot be (the
    /// caller keeps them on the heap).
    pub(crate) fn append_all(&self, parts: &[&[u8]]) -> Vec<Option<FileChunk>> {
        let fits = |p: &[u8]| !p.is_empty() && p.len() <= MAX_CHUNK_BYTES;
        let total: u64 = parts
            .iter()
            .filter(|p| fits(p))
            .map(|p| p.len() as u64)
            .sum();
        if total == 0 || total > FILE_BYTES {
            return unplaced(parts);
        }
        // Reserve the region under the lock; write it outside, so that writers (replay's
        // workers, ingesting threads) do not queue behind one another's syscalls.
        let (file, start) = {
            let mut cur = self.current.lock();
            if cur.paused_until.is_some_and(|t| Instant::now() < t) {
                return unplaced(parts);
            }
            if cur.file.is_none() || cur.end + total > FILE_BYTES {
                let index = cur.next_index;
                cur.next_index += 1;
                match ChunkFile::create(&self.dir.join(format!("{index:08}"))) {
                    Ok(f) => {
                        cur.file = Some(Arc::new(f));
                        cur.end = 0;
                        cur.paused_until = None;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, pause_seconds = BACK_OFF.as_secs(), "cannot create a head chunk file; closed chunks stay on the heap for now");
                        cur.file = None;
                        cur.paused_until = Some(Instant::now() + BACK_OFF);
                        return unplaced(parts);
                    }
                }
            }
            let Some(file) = cur.file.as_ref().map(Arc::clone) else {
                return unplaced(parts);
            };
            let start = cur.end;
            cur.end += total;
            (file, start)
        };
        let written = if let [one] = parts {
            file.file.write_all_at(one, start)
        } else {
            let mut buf = Vec::with_capacity(total as usize);
            for p in parts.iter().filter(|p| fits(p)) {
                buf.extend_from_slice(p);
            }
            file.file.write_all_at(&buf, start)
        };
        if let Err(e) = written {
            // The reserved region is left unused; nothing else writes it.
            let mut cur = self.current.lock();
            if cur.paused_until.is_none() {
                tracing::warn!(error = %e, pause_seconds = BACK_OFF.as_secs(), "cannot write a head chunk file; closed chunks stay on the heap for now");
            }
            cur.file = None;
            cur.paused_until = Some(Instant::now() + BACK_OFF);
            return unplaced(parts);
        }
        let mut off = start;
        parts
            .iter()
            .map(|p| {
                if !fits(p) {
                    return None;
                }
                let c = FileChunk {
                    file: Arc::clone(&file),
                    // Inside FILE_BYTES, which fits u32 (checked above).
                    off: off as u32,
                    len: p.len() as u32,
                };
                off += p.len() as u64;
                Some(c)
            })
            .collect()
    }
}

/// The answer for parts none of which went to a file.
fn unplaced(parts: &[&[u8]]) -> Vec<Option<FileChunk>> {
    parts.iter().map(|_| None).collect()
}

impl ChunkFile {
    fn create(path: &Path) -> Result<Self, Error> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| Error::io("create head chunk file", path, e))?;
        // Unlinked whatever happens next: the open file and its mapping are all we use.
        let unlinked = std::fs::remove_file(path);
        let mapped = file
            .set_len(FILE_BYTES)
            .map_err(|e| Error::io("size head chunk file", path, e))
            .and_then(|()| {
                MmapOptions::new()
                    .len(FILE_BYTES as usize)
                    .map_raw_read_only(&file)
                    .map_err(|e| Error::io("mmap head chunk file", path, e))
            });
        unlinked.map_err(|e| Error::io("unlink head chunk file", path, e))?;
        Ok(ChunkFile { map: mapped?, file })
    }
}

impl FileChunk {
    /// The chunk's bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        let (off, len) = (self.off as usize, self.len as usize);
        debug_assert!(off + len <= self.file.map.len());
        // SAFETY: the mapping covers the file's FILE_BYTES and lives as long as
        // `self.file`, which this chunk holds, so `off..off + len` (inside FILE_BYTES, as
        // `append_all` checked) stays mapped while the returned slice borrows `self`.
        // `append_all` reserved that region for this chunk alone under the lock and wrote
        // it (`write_all_at` returned) before handing the chunk out; nothing writes it
        // again, since every write goes to a region reserved past all earlier ones. The
        // file is ours alone: created with `create_new` in the locked database directory
        // and unlinked right after, so no other process opens it by name later, and it is
        // never truncated.
        // So the bytes are initialised and do not change while borrowed.
        unsafe { std::slice::from_raw_parts(self.file.map.as_ptr().add(off), len) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_read_back_and_files_leave_no_name_behind() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path().join("chunks_head");
        let files = ChunkFiles::open(&d).expect("open");
        let a = files.append(b"first chunk").expect("appended");
        let b = files.append(&[7u8; 300]).expect("appended");
        let many = files.append_all(&[b"x", &[], b"yz"]);
        assert_eq!(a.bytes(), b"first chunk");
        assert_eq!(b.bytes(), &[7u8; 300][..]);
        assert_eq!(many.len(), 3);
        assert_eq!(many[0].as_ref().map(FileChunk::bytes), Some(&b"x"[..]));
        assert!(many[1].is_none(), "empty parts stay on the heap");
        assert_eq!(many[2].as_ref().map(FileChunk::bytes), Some(&b"yz"[..]));
        assert!(files.append(&[]).is_none());
        // Mapped and unlinked: the directory stays empty.
        assert_eq!(std::fs::read_dir(&d).expect("list").count(), 0);
        drop(files);
        assert_eq!(a.bytes(), b"first chunk", "a chunk outlives the writer");
    }

    #[test]
    fn opening_empties_the_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path().join("chunks_head");
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::write(d.join("00000007"), b"left by an older build").expect("write");
        let files = ChunkFiles::open(&d).expect("open");
        assert!(!d.join("00000007").exists());
        let c = files.append(b"x").expect("appended");
        assert_eq!(c.bytes(), b"x");
    }

    #[test]
    fn a_file_that_cannot_be_created_pauses_files_and_keeps_chunks_on_the_heap() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path().join("chunks_head");
        let files = ChunkFiles::open(&d).expect("open");
        std::fs::remove_dir(&d).expect("rmdir");
        assert!(files.append(b"x").is_none());
        // Paused: even with the directory back, no file is tried for a while.
        std::fs::create_dir(&d).expect("mkdir");
        assert!(files.append(b"x").is_none());
        assert!(files.current.lock().paused_until.is_some());
    }
}
