//! Block directories in their parent: listing complete ones, removing crash leftovers,
//! and the fsyncs that make a rename durable.

use std::fs::{self, File};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use super::meta;
use crate::Error;

/// Suffix of a directory a writer has not finished.
pub(crate) const TMP_SUFFIX: &str = ".tmp";

/// Fsyncs a directory, so entries created, renamed or removed in it survive a crash.
pub(crate) fn fsync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io("fsync directory", dir, e))
}

/// Subdirectories of `parent` with their names; nothing when `parent` does not exist.
fn subdirs(parent: &Path) -> Result<Vec<(String, PathBuf)>, Error> {
    let entries = match fs::read_dir(parent) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("read directory", parent, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("read directory", parent, e))?;
        let is_dir = entry
            .file_type()
            .map_err(|e| Error::io("stat", entry.path(), e))?
            .is_dir();
        // A name that is not UTF-8 is no block of ours (ids are ASCII).
        if let (true, Some(name)) = (is_dir, entry.file_name().to_str()) {
            out.push((name.to_string(), entry.path()));
        }
    }
    Ok(out)
}

/// Deletes `*.tmp` directories left in `parent` by a crash during a write.
pub fn remove_leftovers(parent: &Path) -> Result<(), Error> {
    let mut removed = false;
    for (name, path) in subdirs(parent)? {
        if name.ends_with(TMP_SUFFIX) {
            tracing::info!(dir = %path.display(), "removing unfinished block directory");
            fs::remove_dir_all(&path).map_err(|e| Error::io("remove directory", &path, e))?;
            removed = true;
        }
    }
    if removed {
        fsync_dir(parent)?;
    }
    Ok(())
}

/// Block directories in `parent` (complete ones: with meta.json), by name.
pub fn list_blocks(parent: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut out: Vec<(String, PathBuf)> = subdirs(parent)?
        .into_iter()
        .filter(|(name, path)| !name.ends_with(TMP_SUFFIX) && path.join(meta::FILE).is_file())
        .collect();
    out.sort();
    Ok(out.into_iter().map(|(_, p)| p).collect())
}
