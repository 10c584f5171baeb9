//! The head's series by id: a table of the series themselves, each found by the id it
//! holds. A map keyed by id would store every id a second time beside its series: 8 more
//! bytes an entry, 13 per series at the table's usual load.

use std::sync::Arc;

use hashbrown::HashTable;

use super::series::MemSeries;
use super::u64map::spread;

/// Series keyed by their own `id`.
#[derive(Default)]
pub(crate) struct ById(HashTable<Arc<MemSeries>>);

impl ById {
    /// The series with this id.
    pub(crate) fn get(&self, id: u64) -> Option<&Arc<MemSeries>> {
        self.0.find(spread(id), |s| s.id == id)
    }

    /// Adds `s`, replacing a series with the same id (ids are never reused, so that is a
    /// bug, flagged in debug builds: the other maps would still hold the old series).
    pub(crate) fn insert(&mut self, s: Arc<MemSeries>) {
        match self
            .0
            .entry(spread(s.id), |o| o.id == s.id, |o| spread(o.id))
        {
            hashbrown::hash_table::Entry::Occupied(mut e) => {
                debug_assert!(false, "series id {} inserted twice", s.id);
                *e.get_mut() = s;
            }
            hashbrown::hash_table::Entry::Vacant(e) => {
                e.insert(s);
            }
        }
    }

    /// Removes the series with this id.
    pub(crate) fn remove(&mut self, id: u64) -> Option<Arc<MemSeries>> {
        let e = self.0.find_entry(spread(id), |s| s.id == id).ok()?;
        Some(e.remove().0)
    }

    /// Every series, in no particular order.
    pub(crate) fn values(&self) -> impl Iterator<Item = &Arc<MemSeries>> {
        self.0.iter()
    }

    /// Number of series.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::head::series::LabelPairs;

    fn series(id: u64) -> Arc<MemSeries> {
        Arc::new(MemSeries::new(id, LabelPairs::new(&[]), false))
    }

    #[test]
    fn finds_inserts_and_removes_by_id() {
        let mut t = ById::default();
        for id in 0..1000 {
            t.insert(series(id));
        }
        assert_eq!(t.len(), 1000);
        assert!((0..1000).all(|id| t.get(id).is_some_and(|s| s.id == id)));
        assert!(t.get(1000).is_none());
        let seven = t.get(7).cloned().expect("present");
        assert!(t.remove(7).is_some_and(|s| Arc::ptr_eq(&s, &seven)));
        assert!(t.remove(7).is_none());
        assert!(t.get(7).is_none());
        assert_eq!(t.len(), 999);
        assert_eq!(t.values().count(), 999);
        assert!(t.values().all(|s| s.id != 7));
    }
}
