//! A series' labels as symbol ids into the head's string table, packed as varints.
//!
//! Every active series holds one, so its size is paid per series: names are among the
//! first strings interned (ids below 128, one byte) and most values' ids fit two bytes,
//! so a pair takes about three bytes instead of eight for two `u32`s (tsbench's seven
//! pairs: 15 bytes instead of 56). Reading decodes sequentially, which is how labels are
//! read (compared in order, copied out in order).
//!
//! Up to [`INLINE`] bytes of ids live inside the series itself, so a lookup that has
//! loaded the series compares its labels without another cache miss (and saves the
//! 32-byte allocation they took); longer label sets go to the heap.

use std::sync::Arc;

use super::symbols::Symbols;
use crate::block::encoding::put_uvarint;

/// Interned label pairs, sorted by name: the pair count, then (name id, value id) per
/// pair, all LEB128 varints. The table is the head's (one per head, append-only), passed
/// in to read them rather than referenced from every series.
pub(crate) struct LabelPairs {
    data: Data,
}

/// Encoded ids kept inline up to this length: 32 bytes with the tag and length, 14 pairs
/// of one-byte ids or 9 with two-byte values. The series' allocation is in the same malloc
/// size class (160 bytes) as with a 22-byte room, so the larger room costs nothing.
const INLINE: usize = 30;

/// Where a series' encoded ids are.
enum Data {
    /// In place: the first `len` bytes.
    Inline { len: u8, bytes: [u8; INLINE] },
    /// Longer sets.
    Heap(Box<[u8]>),
}

const _: () = assert!(std::mem::size_of::<LabelPairs>() == 32);

/// The varint at `*pos` (0 past the end: only our own encoder writes these bytes).
#[inline]
fn get(data: &[u8], pos: &mut usize) -> u32 {
    // Most ids fit one byte (names) or two.
    let b0 = data.get(*pos).copied().unwrap_or(0);
    if b0 < 0x80 {
        *pos += 1;
        return u32::from(b0);
    }
    let mut x = 0u32;
    for shift in (0..35).step_by(7) {
        let b = data.get(*pos).copied().unwrap_or(0);
        *pos += 1;
        x |= u32::from(b & 0x7f) << shift;
        if b < 0x80 {
            break;
        }
    }
    x
}

impl LabelPairs {
    /// Pairs of symbol ids set in the head's table, sorted by name.
    pub(crate) fn new(ids: &[(u32, u32)]) -> Self {
        let mut data = Vec::with_capacity(1 + ids.len() * 4);
        put_uvarint(&mut data, ids.len() as u64);
        for &(n, v) in ids {
            put_uvarint(&mut data, u64::from(n));
            put_uvarint(&mut data, u64::from(v));
        }
        let mut bytes = [0; INLINE];
        let data = match bytes.get_mut(..data.len()) {
            Some(head) => {
                head.copy_from_slice(&data);
                Data::Inline {
                    len: data.len() as u8,
                    bytes,
                }
            }
            None => Data::Heap(data.into_boxed_slice()),
        };
        LabelPairs { data }
    }

    /// The encoded ids.
    #[inline]
    fn bytes(&self) -> &[u8] {
        match &self.data {
            Data::Inline { len, bytes } => bytes.get(..usize::from(*len)).unwrap_or_default(),
            Data::Heap(b) => b,
        }
    }

    /// Number of pairs.
    pub(crate) fn len(&self) -> usize {
        get(self.bytes(), &mut 0) as usize
    }

    /// The pairs, sorted by name, read from the head's table `symbols`.
    pub(crate) fn iter<'a>(&'a self, symbols: &'a Symbols) -> Pairs<'a> {
        let data = self.bytes();
        let mut pos = 0;
        let left = get(data, &mut pos) as usize;
        Pairs {
            data,
            pos,
            left,
            symbols,
        }
    }
}

/// Iterator over a series' (name, value) strings.
pub(crate) struct Pairs<'a> {
    data: &'a [u8],
    pos: usize,
    left: usize,
    symbols: &'a Symbols,
}

impl<'a> Iterator for Pairs<'a> {
    type Item = (&'a Arc<str>, &'a Arc<str>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let n = get(self.data, &mut self.pos);
        let v = get(self.data, &mut self.pos);
        Some((self.symbols.get(n), self.symbols.get(v)))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Pairs<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_every_width_round_trip() {
        let symbols = Symbols::default();
        let ids: Vec<u32> = vec![0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152];
        for &id in &ids {
            symbols.set(id, Arc::from(id.to_string()));
        }
        let pairs: Vec<(u32, u32)> = ids
            .iter()
            .zip(ids.iter().rev())
            .map(|(&a, &b)| (a, b))
            .collect();
        let l = LabelPairs::new(&pairs);
        assert_eq!(l.len(), pairs.len());
        let got: Vec<(String, String)> = l
            .iter(&symbols)
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect();
        let want: Vec<(String, String)> = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        assert_eq!(got, want);
        assert_eq!(l.iter(&symbols).len(), pairs.len());
        assert_eq!(LabelPairs::new(&[]).len(), 0);
        // Seven pairs of small ids take 15 bytes, not 56.
        let small: Vec<(u32, u32)> = (0..7).map(|i| (i, 100 + i)).collect();
        let small = LabelPairs::new(&small);
        assert_eq!(small.bytes().len(), 15);
        assert!(matches!(small.data, Data::Inline { .. }));
        // Exactly the inline room, and one byte past it.
        for (pairs, inline) in [(14, true), (15, false)] {
            let ids: Vec<(u32, u32)> = (0..pairs).map(|i| (i, i)).collect();
            let l = LabelPairs::new(&ids);
            assert_eq!(l.bytes().len(), 1 + 2 * pairs as usize);
            assert_eq!(
                matches!(l.data, Data::Inline { .. }),
                inline,
                "{pairs} pairs"
            );
            assert_eq!(l.len(), pairs as usize);
        }
        // Past the inline room the ids go to the heap, and read back the same.
        let long: Vec<(u32, u32)> = (0..20).map(|i| (i, 1000 + i)).collect();
        for &(n, v) in &long {
            symbols.set(n + 10_000, Arc::from(format!("n{n}")));
            symbols.set(v + 10_000, Arc::from(format!("v{v}")));
        }
        let ids: Vec<(u32, u32)> = long
            .iter()
            .map(|&(n, v)| (n + 10_000, v + 10_000))
            .collect();
        let l = LabelPairs::new(&ids);
        assert!(matches!(l.data, Data::Heap(_)));
        assert_eq!(l.len(), 20);
        let got: Vec<String> = l.iter(&symbols).map(|(n, v)| format!("{n}={v}")).collect();
        assert_eq!(got.first().map(String::as_str), Some("n0=v1000"));
        assert_eq!(got.len(), 20);
    }
}
