//! Label-set keys shared by aggregations and vector matching: grouping keys
//! (`by`/`without`) and match signatures (`on`/`ignoring`), computed once per
//! series rather than once per step, plus [`ByStep`], the step-major view of an
//! instant vector held over steps.
//!
//! `by (l...)` and `on (l...)` keep only the listed labels; `without (l...)`
//! and `ignoring (l...)` keep every label except the listed ones and
//! `__name__`. Both are a [`LabelSubset`]; a [`KeyTable`] gives every distinct
//! subset of labels a dense id, in order of first appearance (the order
//! Prometheus gives aggregation groups).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use model::{Label, Labels, METRIC_NAME_LABEL};
use xxhash_rust::xxh3::xxh3_64;

use crate::value::{Series, Steps};

/// Which labels of a series make up its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LabelSubset {
    /// Only these labels (sorted, unique): `by (...)`, `on (...)`.
    Only(Vec<String>),
    /// Every label except these (sorted, unique, `__name__` among them):
    /// `without (...)`, `ignoring (...)`.
    AllBut(Vec<String>),
}

impl LabelSubset {
    /// `by`/`on` these labels.
    pub fn only<S: AsRef<str>>(names: &[S]) -> Self {
        LabelSubset::Only(sorted_unique(names.iter().map(|s| s.as_ref().to_string())))
    }

    /// `without`/`ignoring` these labels (and always `__name__`).
    pub fn all_but<S: AsRef<str>>(names: &[S]) -> Self {
        let names = names
            .iter()
            .map(|s| s.as_ref().to_string())
            .chain(std::iter::once(METRIC_NAME_LABEL.to_string()));
        LabelSubset::AllBut(sorted_unique(names))
    }

    /// True when the label `name` is part of the key.
    pub fn keeps(&self, name: &str) -> bool {
        match self {
            LabelSubset::Only(n) => n.binary_search_by(|x| x.as_str().cmp(name)).is_ok(),
            LabelSubset::AllBut(n) => n.binary_search_by(|x| x.as_str().cmp(name)).is_err(),
        }
    }

    /// True when every label set has the same key (`by ()`, `on ()`).
    pub fn is_constant(&self) -> bool {
        matches!(self, LabelSubset::Only(n) if n.is_empty())
    }

    /// The labels of `labels` that are part of the key, in name order.
    pub fn select<'l>(&'l self, labels: &'l Labels) -> impl Iterator<Item = &'l Label> + 'l {
        labels.iter().filter(move |l| self.keeps(&l.name))
    }

    /// The key labels of `labels` as a label set.
    pub fn project(&self, labels: &Labels) -> Labels {
        if self.is_constant() {
            return Labels::empty();
        }
        Labels::from_sorted(self.select(labels).cloned().collect())
    }

    /// True when `a` and `b` have the same key.
    pub fn same_key(&self, a: &Labels, b: &Labels) -> bool {
        self.select(a).eq(self.select(b))
    }

    /// A 64-bit hash of the key of `labels`; `buf` is scratch space.
    pub fn hash(&self, labels: &Labels, buf: &mut Vec<u8>) -> u64 {
        buf.clear();
        for l in self.select(labels) {
            // 0xff never occurs in UTF-8, so it separates names and values unambiguously.
            buf.extend_from_slice(l.name.as_bytes());
            buf.push(0xff);
            buf.extend_from_slice(l.value.as_bytes());
            buf.push(0xff);
        }
        xxh3_64(buf)
    }
}

fn sorted_unique(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = names.collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// A hasher for keys that already are hashes.
#[derive(Default)]
pub struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only u64 keys are expected; fold anything else in so it still works.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A map keyed by precomputed hashes.
pub type HashKeyed<V> = HashMap<u64, V, BuildHasherDefault<PassThrough>>;

/// Gives each distinct key (a [`LabelSubset`] of a label set) a dense id, in
/// order of first appearance. Hash hits are confirmed by comparing labels, so
/// colliding keys still get distinct ids.
pub struct KeyTable<'a> {
    subset: LabelSubset,
    first: HashKeyed<u32>,
    /// Further ids whose hash collided with an earlier key's (practically never used).
    collided: Vec<(u64, u32)>,
    /// A label set of each key.
    reps: Vec<&'a Labels>,
    buf: Vec<u8>,
}

impl<'a> KeyTable<'a> {
    /// An empty table for keys made of `subset`.
    pub fn new(subset: LabelSubset) -> Self {
        KeyTable {
            subset,
            first: HashKeyed::default(),
            collided: Vec::new(),
            reps: Vec::new(),
            buf: Vec::with_capacity(256),
        }
    }

    /// The subset the keys are made of.
    pub fn subset(&self) -> &LabelSubset {
        &self.subset
    }

    /// The id of the key of `labels`, new if the key has not been seen.
    pub fn id(&mut self, labels: &'a Labels) -> u32 {
        if self.subset.is_constant() {
            if self.reps.is_empty() {
                self.reps.push(labels);
            }
            return 0;
        }
        let h = self.subset.hash(labels, &mut self.buf);
        match self.first.get(&h) {
            None => {
                let id = self.push(labels);
                self.first.insert(h, id);
                id
            }
            Some(&id) if self.subset.same_key(self.reps[id as usize], labels) => id,
            Some(_) => {
                for &(ch, id) in &self.collided {
                    if ch == h && self.subset.same_key(self.reps[id as usize], labels) {
                        return id;
                    }
                }
                let id = self.push(labels);
                self.collided.push((h, id));
                id
            }
        }
    }

    fn push(&mut self, labels: &'a Labels) -> u32 {
        let id = u32::try_from(self.reps.len()).unwrap_or(u32::MAX);
        self.reps.push(labels);
        id
    }

    /// Number of distinct keys seen.
    pub fn len(&self) -> usize {
        self.reps.len()
    }

    /// True when no key has been seen.
    pub fn is_empty(&self) -> bool {
        self.reps.is_empty()
    }

    /// The key labels of id `id` (the grouping labels of an aggregation group).
    pub fn labels_of(&self, id: u32) -> Labels {
        self.reps
            .get(id as usize)
            .map_or_else(Labels::empty, |l| self.subset.project(l))
    }

    /// The ids of the keys of all `series`, in order.
    pub fn ids_of(&mut self, series: &'a [Series]) -> Vec<u32> {
        series.iter().map(|s| self.id(&s.labels)).collect()
    }
}

/// One sample of an instant vector at one step: the series it belongs to and
/// its index among that series' samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At {
    /// Index of the series.
    pub series: u32,
    /// Index of the sample in the series.
    pub sample: u32,
}

/// The samples of an instant vector held over steps, regrouped by step (a
/// counting sort, so within a step they stay in series order). Lets operators
/// that must see a whole step at once (matching, topk) walk steps without a
/// cursor per series.
#[derive(Debug, Clone, Default)]
pub struct ByStep {
    offsets: Vec<usize>,
    entries: Vec<At>,
}

impl ByStep {
    /// Regroups the float samples of `series` (stamped with times of `steps`).
    /// Samples at other times are left out.
    pub fn new(series: &[Series], steps: &Steps) -> Self {
        Self::build(series, steps, false)
    }

    /// Regroups the samples of both kinds: histogram `j` of a series is entry
    /// `samples.len() + j` (for operators that treat samples as opaque).
    pub fn new_all(series: &[Series], steps: &Steps) -> Self {
        Self::build(series, steps, true)
    }

    fn build(series: &[Series], steps: &Steps, hists: bool) -> Self {
        let n = steps.len();
        let mut counts = vec![0usize; n + 1];
        for s in series {
            for t in sample_times(s, hists) {
                if let Some(i) = step_of(steps, t, n) {
                    counts[i + 1] += 1;
                }
            }
        }
        for i in 1..=n {
            counts[i] += counts[i - 1];
        }
        let mut fill = counts.clone();
        let mut entries = vec![
            At {
                series: 0,
                sample: 0
            };
            counts[n]
        ];
        for (si, s) in series.iter().enumerate() {
            for (pi, t) in sample_times(s, hists).enumerate() {
                if let Some(i) = step_of(steps, t, n) {
                    entries[fill[i]] = At {
                        series: si as u32,
                        sample: pi as u32,
                    };
                    fill[i] += 1;
                }
            }
        }
        ByStep {
            offsets: counts,
            entries,
        }
    }

    /// The samples at step `i`, in series order.
    pub fn at(&self, i: usize) -> &[At] {
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.entries[a..b],
            _ => &[],
        }
    }

    /// Number of samples over all steps.
    pub fn total(&self) -> usize {
        self.entries.len()
    }
}

/// The times of `s`'s float samples, then (with `hists`) of its histogram samples.
fn sample_times(s: &Series, hists: bool) -> impl Iterator<Item = model::Timestamp> + '_ {
    let h = if hists { &s.histograms[..] } else { &[] };
    s.samples.iter().map(|p| p.t).chain(h.iter().map(|p| p.t))
}

/// The index of step time `t`, when it is one of the `n` steps.
pub fn step_of(steps: &Steps, t: model::Timestamp, n: usize) -> Option<usize> {
    let d = t.checked_sub(steps.start)?;
    if d < 0 || d % steps.step.max(1) != 0 {
        return None;
    }
    let i = usize::try_from(d / steps.step.max(1)).ok()?;
    (i < n).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Sample;

    fn l(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn by_and_without_keys() {
        let a = l(&[("__name__", "x"), ("job", "a"), ("i", "1")]);
        let b = l(&[("__name__", "y"), ("job", "a"), ("i", "2")]);
        let c = l(&[("job", "b"), ("i", "1")]);
        let mut by = KeyTable::new(LabelSubset::only(&["job"]));
        assert_eq!([by.id(&a), by.id(&b), by.id(&c)], [0, 0, 1]);
        assert_eq!(by.labels_of(1), l(&[("job", "b")]));
        let mut without = KeyTable::new(LabelSubset::all_but(&["i"]));
        assert_eq!([without.id(&a), without.id(&b), without.id(&c)], [0, 0, 1]);
        assert_eq!(without.labels_of(0), l(&[("job", "a")]));
        let mut all = KeyTable::new(LabelSubset::only::<&str>(&[]));
        assert_eq!([all.id(&a), all.id(&c)], [0, 0]);
        assert_eq!(all.labels_of(0), Labels::empty());
    }

    #[test]
    fn separator_keeps_keys_apart() {
        // The classic missing-separator bug: {a="aa",b="bb"} vs {a="a",b="abb"}.
        let x = l(&[("a", "aa"), ("b", "bb")]);
        let y = l(&[("a", "a"), ("b", "abb")]);
        let mut t = KeyTable::new(LabelSubset::only(&["a", "b"]));
        assert_ne!(t.id(&x), t.id(&y));
    }

    #[test]
    fn collisions_are_confirmed() {
        let x = l(&[("a", "1")]);
        let y = l(&[("a", "2")]);
        let mut t = KeyTable::new(LabelSubset::only(&["a"]));
        let h = t.subset.hash(&y, &mut Vec::new());
        // Pretend y's hash belongs to x already.
        t.reps.push(&x);
        t.first.insert(h, 0);
        assert_eq!(t.id(&y), 1);
        assert_eq!(t.id(&y), 1);
        assert_eq!(t.labels_of(1), y);
    }

    #[test]
    fn by_step_regroups_in_series_order() {
        let steps = Steps {
            start: 0,
            end: 20,
            step: 10,
        };
        let s = |v: &[(i64, f64)]| {
            Series::new(
                Labels::empty(),
                v.iter().map(|&(t, x)| Sample::new(t, x)).collect(),
            )
        };
        let series = [
            s(&[(0, 1.0), (20, 2.0)]),
            s(&[(10, 3.0), (20, 4.0), (25, 9.0)]),
        ];
        let b = ByStep::new(&series, &steps);
        assert_eq!(b.total(), 4);
        assert_eq!(
            b.at(2),
            [
                At {
                    series: 0,
                    sample: 1
                },
                At {
                    series: 1,
                    sample: 1
                }
            ]
        );
        assert_eq!(b.at(1).len(), 1);
        assert!(b.at(3).is_empty());
    }
}
