//! What readers see besides the head: the open blocks, and the chunks on their way from
//! the head into a block while one is being written.

use std::sync::Arc;

use model::{Labels, Matcher, Sample, Timestamp};
use parking_lot::Mutex;

use crate::Error;
use crate::block::Block;
use crate::chunk::XorChunk;
use crate::head::series::Fit;
use crate::head::u64map::U64Map;

/// A consistent set of blocks; replaced as a whole when blocks come and go.
#[derive(Default)]
pub(crate) struct Persisted {
    /// Open blocks, sorted by oldest sample time.
    pub blocks: Vec<Arc<Block>>,
    /// Chunks taken out of the head for a block that is not published yet.
    pub pending: Option<Arc<Pending>>,
}

impl Persisted {
    /// A set of `blocks` (in any order) and in-flight chunks.
    pub(crate) fn new(mut blocks: Vec<Arc<Block>>, pending: Option<Arc<Pending>>) -> Self {
        blocks.sort_by(|a, b| (a.meta().min_t, &a.meta().id).cmp(&(b.meta().min_t, &b.meta().id)));
        Persisted { blocks, pending }
    }

    /// Blocks with samples in `[mint, maxt]`.
    pub(crate) fn overlapping(
        &self,
        mint: Timestamp,
        maxt: Timestamp,
    ) -> impl Iterator<Item = &Arc<Block>> {
        self.blocks
            .iter()
            .filter(move |b| b.meta().min_t <= maxt && b.meta().max_t >= mint)
    }

    /// How a sample of head series `id` at `t` with value `v` fits with what the
    /// blocks and the in-flight chunks hold; `labels` gives its labels, built only when a
    /// block has to be searched.
    pub(crate) fn fit(
        &self,
        labels: impl FnOnce() -> Labels,
        id: u64,
        t: Timestamp,
        v: f64,
    ) -> Result<Fit, Error> {
        let mut found: Vec<Sample> = Vec::new();
        if let Some(p) = &self.pending {
            found.extend(p.samples(id, t, t));
        }
        let mut candidates = self.overlapping(t, t).peekable();
        if found.is_empty() && candidates.peek().is_some() {
            let labels = &labels();
            let matchers: Vec<Matcher> = labels
                .iter()
                .map(|l| Matcher::equal(l.name.as_str(), l.value.as_str()))
                .collect();
            for b in candidates {
                for s in b.select(&matchers)? {
                    if s.labels != *labels {
                        continue;
                    }
                    let mut samples = Vec::new();
                    for c in s.chunks.iter().filter(|c| c.min_t <= t && c.max_t >= t) {
                        b.decode_chunk(c, &mut samples)?;
                    }
                    found.extend(samples.into_iter().filter(|x| x.t == t));
                }
                if !found.is_empty() {
                    break;
                }
            }
        }
        Ok(match found.first() {
            None => Fit::New,
            Some(x) if x.v.to_bits() == v.to_bits() => Fit::Same,
            Some(_) => Fit::Conflict,
        })
    }

    /// The newest sample time over all blocks.
    pub(crate) fn max_time(&self) -> Option<Timestamp> {
        self.blocks.iter().map(|b| b.meta().max_t).max()
    }
}

/// Head chunks in flight to a block, by head series id. A series' chunks are put here
/// while the series is locked, so a reader that missed them in the head finds them here.
#[derive(Default)]
pub(crate) struct Pending {
    // Shared out of the lock, so readers and block writers decode without holding it.
    chunks: Mutex<U64Map<Arc<Vec<XorChunk>>>>,
}

impl Pending {
    /// Records the chunks taken from series `id`.
    pub(crate) fn insert(&self, id: u64, chunks: Vec<XorChunk>) {
        self.chunks.lock().insert(id, Arc::new(chunks));
    }

    /// The samples of series `id` in `[mint, maxt]` held here.
    pub(crate) fn samples(&self, id: u64, mint: Timestamp, maxt: Timestamp) -> Vec<Sample> {
        let Some(chunks) = self.chunks.lock().get(&id).cloned() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for c in chunks
            .iter()
            .filter(|c| c.min_t() <= maxt && c.max_t() >= mint)
        {
            for s in c.iter() {
                match s {
                    Ok(s) if s.t >= mint && s.t <= maxt => out.push(s),
                    Ok(_) => {}
                    // Head chunks are encoded in memory: undecodable means a bug, not data.
                    Err(e) => {
                        tracing::error!(error = %e, "undecodable head chunk; rest skipped");
                        break;
                    }
                }
            }
        }
        out
    }

    /// True when series `id` has a chunk here overlapping `[mint, maxt]`.
    pub(crate) fn has_range(&self, id: u64, mint: Timestamp, maxt: Timestamp) -> bool {
        self.chunks.lock().get(&id).is_some_and(|chunks| {
            chunks
                .iter()
                .any(|c| c.min_t() <= maxt && c.max_t() >= mint)
        })
    }

    /// Every series' samples, for writing them out or putting them back.
    pub(crate) fn all_samples(&self, id: u64) -> Vec<Sample> {
        self.samples(id, Timestamp::MIN, Timestamp::MAX)
    }

    /// Ids of the series with chunks here.
    pub(crate) fn ids(&self) -> Vec<u64> {
        self.chunks.lock().keys().copied().collect()
    }
}
