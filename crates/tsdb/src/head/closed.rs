//! A series' closed head chunks: time ranges on the heap, bytes in the head's chunk files
//! (`chunkfile`), or on the heap when there are none.
//!
//! A head that spans two hours at a 15 s scrape holds four to six closed chunks per
//! series; kept this way one costs 32 bytes of heap in the series' one block of them.
//! Changes (a cut, an out-of-order insert, a head compaction) rebuild that block but write
//! only the chunks they create: the others keep their bytes where they are.

use model::Timestamp;

use super::chunkfile::{ChunkFiles, FileChunk};
use crate::chunk::{XorChunk, XorIter};

/// Closed chunks, oldest first.
#[derive(Default)]
pub(super) struct ClosedChunks(Box<[Stored]>);

/// One closed chunk as kept: its time range and where its bytes are.
struct Stored {
    min_t: Timestamp,
    max_t: Timestamp,
    bytes: Bytes,
}

/// Where a closed chunk's bytes are.
enum Bytes {
    /// In a head chunk file (the usual place).
    File(FileChunk),
    /// On the heap: no chunk files (a head without a directory), or writing failed.
    /// Boxed twice so the variant is one thin pointer: the compiler then tells the
    /// variants apart by the file variant's non-null pointer, with no tag, and a chunk
    /// costs 32 bytes instead of 40 (most series hold a few). The fallback pays an extra
    /// small allocation per chunk instead.
    Heap(Box<Box<[u8]>>),
}

// The layout the comment above relies on (on 64-bit targets).
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Stored>() == 32);

/// One closed chunk, read in place.
#[derive(Clone, Copy)]
pub(super) struct ClosedChunk<'a> {
    min_t: Timestamp,
    max_t: Timestamp,
    data: &'a [u8],
}

impl<'a> ClosedChunk<'a> {
    /// Oldest timestamp.
    pub(super) fn min_t(&self) -> Timestamp {
        self.min_t
    }

    /// Newest timestamp.
    pub(super) fn max_t(&self) -> Timestamp {
        self.max_t
    }

    /// Number of samples.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        crate::chunk::xor::count(self.data)
    }

    /// The encoded bytes.
    #[cfg(test)]
    pub(super) fn bytes(&self) -> &'a [u8] {
        self.data
    }

    /// The samples, oldest first.
    pub(super) fn iter(&self) -> XorIter<'a> {
        XorIter::new(self.data)
    }

    /// An owned copy.
    pub(super) fn to_chunk(self) -> XorChunk {
        XorChunk::from_trusted(self.data, self.min_t, self.max_t)
    }
}

impl Bytes {
    /// `data` where a chunk file took it (`placed`), else copied to the heap.
    fn new(data: &[u8], placed: Option<FileChunk>) -> Self {
        match placed {
            Some(c) => Bytes::File(c),
            None => Bytes::Heap(Box::new(data.into())),
        }
    }
}

impl Stored {
    fn view(&self) -> ClosedChunk<'_> {
        ClosedChunk {
            min_t: self.min_t,
            max_t: self.max_t,
            data: match &self.bytes {
                Bytes::File(c) => c.bytes(),
                Bytes::Heap(b) => b,
            },
        }
    }
}

impl ClosedChunks {
    /// The chunks, oldest first.
    pub(super) fn iter(&self) -> impl Iterator<Item = ClosedChunk<'_>> {
        self.0.iter().map(Stored::view)
    }

    /// Number of chunks.
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there is no closed chunk.
    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Chunk `i`, oldest first.
    pub(super) fn get(&self, i: usize) -> Option<ClosedChunk<'_>> {
        self.0.get(i).map(Stored::view)
    }

    /// The oldest chunk.
    pub(super) fn first(&self) -> Option<ClosedChunk<'_>> {
        self.0.first().map(Stored::view)
    }

    /// The newest chunk.
    pub(super) fn last(&self) -> Option<ClosedChunk<'_>> {
        self.0.last().map(Stored::view)
    }

    /// The number of leading chunks for which `pred` holds (chunks are in time order, so a
    /// time predicate splits them in two, as `slice::partition_point` does).
    pub(super) fn partition_point(&self, pred: impl Fn(&ClosedChunk<'_>) -> bool) -> usize {
        self.0.partition_point(|s| pred(&s.view()))
    }

    /// Appends a chunk newer than every closed one, given by its time range and bytes,
    /// which go to a chunk file when there is one.
    pub(super) fn push(
        &mut self,
        min_t: Timestamp,
        max_t: Timestamp,
        data: &[u8],
        files: Option<&ChunkFiles>,
    ) {
        // Exactly sized from the start: no growth and shrink for every cut.
        let mut v = Vec::with_capacity(self.0.len() + 1);
        v.extend(std::mem::take(&mut self.0).into_vec());
        v.push(Stored {
            min_t,
            max_t,
            bytes: Bytes::new(data, files.and_then(|f| f.append(data))),
        });
        self.0 = v.into_boxed_slice();
    }

    /// Replaces chunk `i` by `parts` (an out-of-order insert re-encoded it; a head
    /// compaction split it). The other chunks keep their bytes where they are.
    pub(super) fn replace(&mut self, i: usize, parts: Vec<XorChunk>, files: Option<&ChunkFiles>) {
        let mut v = std::mem::take(&mut self.0).into_vec();
        let at = i.min(v.len());
        let end = (at + 1).min(v.len());
        v.splice(at..end, Self::from_chunks(parts, files).0.into_vec());
        self.0 = v.into_boxed_slice();
    }

    /// Appends chunks newer than every closed one.
    pub(super) fn extend(&mut self, parts: Vec<XorChunk>, files: Option<&ChunkFiles>) {
        if parts.is_empty() {
            return;
        }
        let mut v = std::mem::take(&mut self.0).into_vec();
        v.extend(Self::from_chunks(parts, files).0.into_vec());
        self.0 = v.into_boxed_slice();
    }

    /// Removes the `n` oldest chunks and returns owned copies of them.
    pub(super) fn take_front(&mut self, n: usize) -> Vec<XorChunk> {
        let mut v = std::mem::take(&mut self.0).into_vec();
        let n = n.min(v.len());
        let out = v[..n].iter().map(|s| s.view().to_chunk()).collect();
        v.drain(..n);
        self.0 = v.into_boxed_slice();
        out
    }

    /// Closed chunks holding `v` (their bytes written to `files` in one write).
    pub(super) fn from_chunks(v: Vec<XorChunk>, files: Option<&ChunkFiles>) -> Self {
        let parts: Vec<&[u8]> = v.iter().map(XorChunk::bytes).collect();
        let mut placed = match files {
            Some(f) => f.append_all(&parts),
            None => Vec::new(),
        }
        .into_iter();
        ClosedChunks(
            v.iter()
                .map(|c| Stored {
                    min_t: c.min_t(),
                    max_t: c.max_t(),
                    bytes: Bytes::new(c.bytes(), placed.next().flatten()),
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chunk::XorAppender;

    fn chunk(from: i64, n: i64) -> XorChunk {
        let mut a = XorAppender::new();
        for t in from..from + n {
            a.push(t * 10, t as f64 * 0.5).expect("in order");
        }
        a.finish()
    }

    #[test]
    fn chunks_read_back_as_written_through_pushes_and_edits() {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = ChunkFiles::open(dir.path()).expect("chunk files");
        for files in [None, Some(&files)] {
            read_back(files);
        }
    }

    fn read_back(files: Option<&ChunkFiles>) {
        let mut c = ClosedChunks::default();
        assert!(c.is_empty() && c.first().is_none() && c.last().is_none());
        let all = [chunk(0, 120), chunk(120, 1), chunk(121, 200)];
        for x in &all {
            c.push(x.min_t(), x.max_t(), x.bytes(), files);
        }
        assert_eq!(c.len(), 3);
        for (got, want) in c.iter().zip(&all) {
            assert_eq!((got.min_t(), got.max_t()), (want.min_t(), want.max_t()));
            assert_eq!(got.len(), want.len());
            assert_eq!(got.bytes(), want.bytes());
            let samples: Vec<_> = got.iter().map(|s| s.expect("decodes").t).collect();
            assert_eq!(samples.first().copied(), Some(want.min_t()));
            assert_eq!(samples.len(), want.len());
        }
        assert_eq!(c.partition_point(|x| x.max_t() < 1200), 1);
        assert_eq!(c.get(2).map(|x| x.min_t()), Some(1210));
        assert_eq!(c.last().map(|x| x.max_t()), Some(3200));
        let taken = c.take_front(2);
        assert_eq!(taken.len(), 2);
        assert_eq!(taken[1].bytes(), all[1].bytes());
        assert_eq!(c.len(), 1);
        assert_eq!(c.first().map(|x| x.bytes()), Some(all[2].bytes()));
        // Replacing the one left by two, then appending one more.
        c.replace(0, vec![chunk(121, 100), chunk(221, 100)], files);
        c.extend(vec![chunk(400, 5)], files);
        let mins: Vec<_> = c.iter().map(|x| x.min_t()).collect();
        assert_eq!(mins, vec![1210, 2210, 4000]);
        assert_eq!(c.take_front(9).len(), 3);
        assert!(c.is_empty());
    }
}
