//! Closed head chunks kept off the heap: appended to files under `<data>/chunks_head/` and
//! read through a read-only mapping, as Prometheus maps its head chunks. A head spanning
//! two hours holds four to six closed chunks per series: in files they cost the process
//! page cache the kernel can reclaim, not heap.
//!
//! The files are a place to keep bytes, not a log: the WAL and checkpoints hold every
//! sample, and the directory is emptied when the database opens. A file is deleted when
//! the last chunk in it is dropped.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memmap2::{MmapOptions, MmapRaw};
use parking_lot::Mutex;

use crate::Error;

/// Size of one chunk file (sparse until written).
const FILE_BYTES: u64 = 64 << 20;

/// Chunks larger than this stay on the heap (head chunks are a few hundred bytes).
const MAX_CHUNK_BYTES: usize = 1 << 20;

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
}

/// One mapped chunk file.
pub(crate) struct ChunkFile {
    map: MmapRaw,
    file: File,
    path: PathBuf,
}

/// A chunk's bytes in a chunk file.
pub(crate) struct FileChunk {
    file: Arc<ChunkFile>,
    off: u32,
    len: u32,
}

impl ChunkFiles {
    /// Chunk files in `dir`, which is emptied (what a previous run left is not used).
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

    /// Deletes every chunk file, for a graceful close: their chunks are in blocks or the
    /// checkpoint, and mapped ones stay readable until dropped.
    pub(crate) fn remove_all(&self) -> Result<(), Error> {
        let mut cur = self.current.lock();
        cur.file = None;
        let rd = std::fs::read_dir(&self.dir).map_err(|e| Error::io("list", &self.dir, e))?;
        for entry in rd {
            let path = entry.map_err(|e| Error::io("list", &self.dir, e))?.path();
            std::fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
        }
        Ok(())
    }

    /// Appends `data`; `None` when it cannot (the caller keeps the bytes on the heap).
    pub(crate) fn append(&self, data: &[u8]) -> Option<FileChunk> {
        if data.is_empty() || data.len() > MAX_CHUNK_BYTES {
            return None;
        }
        let mut cur = self.current.lock();
        if cur.file.is_none() || cur.end + data.len() as u64 > FILE_BYTES {
            let index = cur.next_index;
            cur.next_index += 1;
            match ChunkFile::create(&self.dir.join(format!("{index:08}"))) {
                Ok(f) => {
                    cur.file = Some(Arc::new(f));
                    cur.end = 0;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot create a head chunk file; chunks stay on the heap");
                    cur.file = None;
                    return None;
                }
            }
        }
        let file = Arc::clone(cur.file.as_ref()?);
        let off = cur.end;
        if let Err(e) = file.file.write_all_at(data, off) {
            tracing::warn!(file = %file.path.display(), error = %e, "cannot write a head chunk file; chunks stay on the heap");
            // The next chunk starts a new file: this one may hold a partial write.
            cur.file = None;
            return None;
        }
        cur.end = off + data.len() as u64;
        Some(FileChunk {
            file,
            // Under FILE_BYTES (64 MiB): fits.
            off: off as u32,
            len: data.len() as u32,
        })
    }
}

impl ChunkFile {
    fn create(path: &Path) -> Result<Self, Error> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)
            .map_err(|e| Error::io("create head chunk file", path, e))?;
        file.set_len(FILE_BYTES)
            .map_err(|e| Error::io("size head chunk file", path, e))?;
        let map = MmapOptions::new()
            .len(FILE_BYTES as usize)
            .map_raw_read_only(&file)
            .map_err(|e| Error::io("mmap head chunk file", path, e))?;
        Ok(ChunkFile {
            map,
            file,
            path: path.to_path_buf(),
        })
    }
}

impl Drop for ChunkFile {
    fn drop(&mut self) {
        // The last chunk in it is gone (a graceful close may have emptied the directory).
        match std::fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(file = %self.path.display(), error = %e, "cannot delete a head chunk file");
            }
        }
    }
}

impl FileChunk {
    /// The chunk's bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        let (off, len) = (self.off as usize, self.len as usize);
        debug_assert!(off + len <= self.file.map.len());
        // SAFETY: the mapping covers the file's FILE_BYTES and lives as long as
        // `self.file`, which this chunk holds, so `off..off + len` (inside FILE_BYTES, as
        // `append` checked) stays mapped while the returned slice borrows `self`. Those
        // bytes were written by `append` (`write_all_at` returned) before this chunk was
        // handed out, and nothing writes them again: `append` only writes past the end
        // of what it wrote before, and the file is ours alone (created with `create_new`
        // in the database's directory, which the database lock guards; it is truncated
        // and deleted only when its last chunk is dropped). So the bytes are initialised
        // and do not change while borrowed.
        unsafe { std::slice::from_raw_parts(self.file.map.as_ptr().add(off), len) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_read_back_and_files_go_with_their_last_chunk() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = ChunkFiles::open(&dir.path().join("chunks_head")).expect("open");
        let a = files.append(b"first chunk").expect("appended");
        let b = files.append(&[7u8; 300]).expect("appended");
        assert_eq!(a.bytes(), b"first chunk");
        assert_eq!(b.bytes(), &[7u8; 300][..]);
        assert!(files.append(&[]).is_none());
        let path = dir.path().join("chunks_head").join("00000000");
        assert!(path.exists());
        // The writer still holds the current file; it goes once that and every chunk are gone.
        drop(files);
        drop(a);
        assert!(path.exists());
        drop(b);
        assert!(!path.exists());
    }

    #[test]
    fn opening_empties_the_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path().join("chunks_head");
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::write(d.join("00000007"), b"left by a crash").expect("write");
        let files = ChunkFiles::open(&d).expect("open");
        assert!(!d.join("00000007").exists());
        let c = files.append(b"x").expect("appended");
        assert_eq!(c.bytes(), b"x");
    }
}
