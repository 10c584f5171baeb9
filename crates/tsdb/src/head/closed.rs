//! A series' closed head chunks, packed into one allocation.
//!
//! A head that spans two hours at a 15 s scrape holds four to six closed chunks per
//! series. As separate boxes each cost a 32-byte `XorChunk` plus an allocation (its header
//! and rounding, and the fragmentation of thousands of ~200-byte blocks freed at
//! different times); packed, a chunk costs a 20-byte header in the series' one block.
//! Chunks close every 120 samples, so rebuilding the block on a change is cheap.

use model::Timestamp;

use crate::chunk::{XorChunk, XorIter};

/// Bytes before each chunk's data: its oldest and newest timestamps (i64 LE) and the
/// length of its data (u32 LE).
const HEADER: usize = 20;

/// Closed chunks, oldest first: for each, [`HEADER`] then its encoded bytes.
#[derive(Default)]
pub(super) struct ClosedChunks(Box<[u8]>);

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

/// Reads the chunks of a packed block in order.
pub(super) struct Iter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Iter<'a> {
    type Item = ClosedChunk<'a>;

    fn next(&mut self) -> Option<ClosedChunk<'a>> {
        let (header, rest) = self.rest.split_first_chunk::<HEADER>()?;
        let (min, rest_header) = header.split_first_chunk::<8>()?;
        let (max, len) = rest_header.split_first_chunk::<8>()?;
        let len = u32::from_le_bytes(*len.first_chunk::<4>()?) as usize;
        // Written by `pack` only: a length past the end would be a bug; stop there.
        let (data, rest) = rest.split_at_checked(len)?;
        self.rest = rest;
        Some(ClosedChunk {
            min_t: i64::from_le_bytes(*min),
            max_t: i64::from_le_bytes(*max),
            data,
        })
    }
}

impl ClosedChunks {
    /// The chunks, oldest first.
    pub(super) fn iter(&self) -> Iter<'_> {
        Iter { rest: &self.0 }
    }

    /// Number of chunks.
    pub(super) fn len(&self) -> usize {
        self.iter().count()
    }

    /// True when there is no closed chunk.
    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Chunk `i`, oldest first.
    pub(super) fn get(&self, i: usize) -> Option<ClosedChunk<'_>> {
        self.iter().nth(i)
    }

    /// The oldest chunk.
    pub(super) fn first(&self) -> Option<ClosedChunk<'_>> {
        self.iter().next()
    }

    /// The newest chunk.
    pub(super) fn last(&self) -> Option<ClosedChunk<'_>> {
        self.iter().last()
    }

    /// The number of leading chunks for which `pred` holds (chunks are in time order, so a
    /// time predicate splits them in two, as `slice::partition_point` does).
    pub(super) fn partition_point(&self, pred: impl Fn(&ClosedChunk<'_>) -> bool) -> usize {
        self.iter().take_while(|c| pred(c)).count()
    }

    /// Appends a chunk newer than every closed one, given by its time range and bytes.
    pub(super) fn push(&mut self, min_t: Timestamp, max_t: Timestamp, data: &[u8]) {
        let mut v = Vec::with_capacity(self.0.len() + HEADER + data.len());
        v.extend_from_slice(&self.0);
        put(&mut v, min_t, max_t, data);
        self.0 = v.into_boxed_slice();
    }

    /// Changes the chunks as owned values, then packs them again.
    pub(super) fn edit<R>(&mut self, f: impl FnOnce(&mut Vec<XorChunk>) -> R) -> R {
        let mut v: Vec<XorChunk> = self.iter().map(ClosedChunk::to_chunk).collect();
        let r = f(&mut v);
        *self = ClosedChunks::from(v);
        r
    }
}

impl From<Vec<XorChunk>> for ClosedChunks {
    fn from(v: Vec<XorChunk>) -> Self {
        let size = v.iter().map(|c| HEADER + c.byte_size()).sum();
        let mut out = Vec::with_capacity(size);
        for c in &v {
            put(&mut out, c.min_t(), c.max_t(), c.bytes());
        }
        ClosedChunks(out.into_boxed_slice())
    }
}

fn put(out: &mut Vec<u8>, min_t: Timestamp, max_t: Timestamp, data: &[u8]) {
    out.extend_from_slice(&min_t.to_le_bytes());
    out.extend_from_slice(&max_t.to_le_bytes());
    // A head chunk holds at most a few hundred samples: far under 4 GiB.
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
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
        let mut c = ClosedChunks::default();
        assert!(c.is_empty() && c.first().is_none() && c.last().is_none());
        let all = [chunk(0, 120), chunk(120, 1), chunk(121, 200)];
        for x in &all {
            c.push(x.min_t(), x.max_t(), x.bytes());
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
        let dropped = c.edit(|v| v.drain(..2).count());
        assert_eq!(dropped, 2);
        assert_eq!(c.len(), 1);
        assert_eq!(c.first().map(|x| x.bytes()), Some(all[2].bytes()));
        c.edit(Vec::clear);
        assert!(c.is_empty());
    }
}
