//! Sorted lists of series ids for the head's postings, 4 bytes an id.
//!
//! Series ids are handed out from 0, so they fit in 32 bits for the first four
//! billion series a head ever creates; postings hold one id per label pair of every
//! series, and halving them saved ~45 bytes per series. A list switches to 8-byte
//! ids if a larger one ever arrives, so nothing breaks past that point.

/// Sorted, unique series ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IdList {
    /// Every id fits in 32 bits.
    Small(Vec<u32>),
    /// Some id does not.
    Big(Vec<u64>),
}

impl Default for IdList {
    fn default() -> Self {
        IdList::Small(Vec::new())
    }
}

impl IdList {
    /// A list of one id, with exactly one slot (many label values belong to one series).
    pub(crate) fn single(id: u64) -> Self {
        match u32::try_from(id) {
            Ok(small) => IdList::Small(vec![small]),
            Err(_) => IdList::Big(vec![id]),
        }
    }

    /// Number of ids.
    pub(crate) fn len(&self) -> usize {
        match self {
            IdList::Small(v) => v.len(),
            IdList::Big(v) => v.len(),
        }
    }

    /// True when empty.
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds `id`, keeping the list sorted and unique; ids mostly arrive in increasing order.
    pub(crate) fn insert(&mut self, id: u64) {
        if let IdList::Small(v) = self {
            match u32::try_from(id) {
                Ok(small) => return insert_sorted(v, small),
                Err(_) => {
                    let wide = v.iter().map(|&x| u64::from(x)).collect();
                    *self = IdList::Big(wide);
                }
            }
        }
        if let IdList::Big(v) = self {
            insert_sorted(v, id);
        }
    }

    /// Keeps the ids for which `keep` is true, in one pass (removing many ids one by one
    /// would shift the list once per id).
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(u64) -> bool) {
        match self {
            IdList::Small(v) => v.retain(|&x| keep(u64::from(x))),
            IdList::Big(v) => v.retain(|&x| keep(x)),
        }
    }

    /// The ids, ascending.
    pub(crate) fn iter(&self) -> Box<dyn Iterator<Item = u64> + '_> {
        match self {
            IdList::Small(v) => Box::new(v.iter().map(|&x| u64::from(x))),
            IdList::Big(v) => Box::new(v.iter().copied()),
        }
    }

    /// The ids as 8-byte values, ascending.
    pub(crate) fn to_vec(&self) -> Vec<u64> {
        match self {
            IdList::Small(v) => v.iter().map(|&x| u64::from(x)).collect(),
            IdList::Big(v) => v.clone(),
        }
    }
}

fn insert_sorted<T: Ord + Copy>(v: &mut Vec<T>, id: T) {
    if v.last().is_none_or(|&l| l < id) {
        if v.len() == v.capacity() {
            // Grow by an eighth, not double: lists only grow while the head does, and
            // doubling left a quarter of every list unused on average. The extra
            // reallocations copy little per id (an eighth of a list per eighth added).
            v.reserve_exact((v.len() / 8).max(4));
        }
        v.push(id);
    } else if let Err(i) = v.binary_search(&id) {
        v.insert(i, id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_unique_and_widens_past_32_bits() {
        let mut l = IdList::single(5);
        for id in [3, 9, 5, 7] {
            l.insert(id);
        }
        assert_eq!(l.to_vec(), [3, 5, 7, 9]);
        assert!(matches!(l, IdList::Small(_)));
        let big = u64::from(u32::MAX) + 10;
        l.insert(big);
        assert!(matches!(l, IdList::Big(_)));
        assert_eq!(l.to_vec(), [3, 5, 7, 9, big]);
        l.retain(|x| ![5, big, 1234].contains(&x));
        assert_eq!(l.iter().collect::<Vec<_>>(), [3, 7, 9]);
        assert_eq!(l.len(), 3);
        let mut s = IdList::single(1);
        s.retain(|x| x != 1);
        assert!(s.is_empty());
    }
}
