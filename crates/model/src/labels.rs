//! Label sets: the identity of a series.

use std::fmt;

use crate::label_str::LabelStr;

/// The label that carries the metric name.
pub const METRIC_NAME_LABEL: &str = "__name__";
/// The label scrape sets to the job name.
pub const JOB_LABEL: &str = "job";
/// The label scrape sets to the target's address.
pub const INSTANCE_LABEL: &str = "instance";
/// The upper bound label of a classic histogram bucket.
pub const BUCKET_LABEL: &str = "le";
/// The quantile label of a summary.
pub const QUANTILE_LABEL: &str = "quantile";
/// The label that names an alert.
pub const ALERT_NAME_LABEL: &str = "alertname";

/// A reference to a series inside one store; only meaningful to the store that issued it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SeriesRef(pub u64);

/// One name/value pair.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    /// Label name.
    pub name: LabelStr,
    /// Label value; never empty inside a `Labels` (empty means absent).
    pub value: LabelStr,
}

impl Label {
    /// A label from anything string-like.
    pub fn new(name: impl Into<LabelStr>, value: impl Into<LabelStr>) -> Self {
        Label {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// A set of labels sorted by name, names unique, no empty values.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Labels(Vec<Label>);

impl Labels {
    /// The empty set.
    pub fn empty() -> Self {
        Labels(Vec::new())
    }

    /// Builds from pairs in any order; the last value of a repeated name wins and
    /// empty values are dropped, as Prometheus's label builder does.
    pub fn from_pairs<N: Into<LabelStr>, V: Into<LabelStr>>(
        pairs: impl IntoIterator<Item = (N, V)>,
    ) -> Self {
        let mut b = LabelsBuilder::new(Labels::empty());
        for (n, v) in pairs {
            b.set(n, v);
        }
        b.build()
    }

    /// Takes labels already sorted by name with unique names (checked in debug builds).
    pub fn from_sorted(v: Vec<Label>) -> Self {
        debug_assert!(v.windows(2).all(|w| w[0].name < w[1].name));
        Labels(v)
    }

    /// Builds from borrowed (name, value) pairs already sorted by name with unique names.
    pub fn from_sorted_pairs(pairs: &[(&str, &str)]) -> Self {
        Self::from_sorted(pairs.iter().map(|(n, v)| Label::new(*n, *v)).collect())
    }

    /// The value of `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .binary_search_by(|l| l.name.as_str().cmp(name))
            .ok()
            .map(|i| self.0[i].value.as_str())
    }

    /// The value of `name`, or "" when absent (Prometheus's convention).
    pub fn get_or_empty(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// True when `name` is present.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The metric name, if any.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME_LABEL)
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no labels.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The labels in name order.
    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.0.iter()
    }

    /// The labels as a slice, in name order.
    pub fn as_slice(&self) -> &[Label] {
        &self.0
    }

    /// Consumes the set into its sorted vector.
    pub fn into_vec(self) -> Vec<Label> {
        self.0
    }

    /// A copy without the metric name.
    pub fn without_metric_name(&self) -> Labels {
        Labels(
            self.0
                .iter()
                .filter(|l| l.name != METRIC_NAME_LABEL)
                .cloned()
                .collect(),
        )
    }

    /// A stable 64-bit hash of the set, the same across processes and versions.
    pub fn stable_hash(&self) -> u64 {
        hash_label_pairs(self.0.iter().map(|l| (l.name.as_str(), l.value.as_str())))
    }

    /// Approximate heap bytes held, for accounting.
    pub fn heap_size(&self) -> usize {
        self.0.capacity() * std::mem::size_of::<Label>()
            + self
                .0
                .iter()
                // Shared strings are counted in full by every holder: an upper bound.
                .map(|l| l.name.len() + l.value.len())
                .sum::<usize>()
    }
}

impl<'a> IntoIterator for &'a Labels {
    type Item = &'a Label;
    type IntoIter = std::slice::Iter<'a, Label>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for Labels {
    /// Prometheus's form: `name{a="b", c="d"}`, or `{a="b"}` without a name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.metric_name();
        if let Some(n) = name {
            f.write_str(n)?;
        }
        let rest: Vec<&Label> = self
            .0
            .iter()
            .filter(|l| l.name != METRIC_NAME_LABEL)
            .collect();
        if rest.is_empty() && name.is_some() {
            return Ok(());
        }
        f.write_str("{")?;
        for (i, l) in rest.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}=\"", l.name)?;
            for c in l.value.chars() {
                match c {
                    '\\' => f.write_str("\\\\")?,
                    '"' => f.write_str("\\\"")?,
                    '\n' => f.write_str("\\n")?,
                    c => write!(f, "{c}")?,
                }
            }
            f.write_str("\"")?;
        }
        f.write_str("}")
    }
}

/// Edits a label set: set, delete, then build a sorted `Labels`.
#[derive(Debug, Clone, Default)]
pub struct LabelsBuilder {
    // Kept sorted by name; small sets make a sorted Vec faster than a map.
    labels: Vec<Label>,
}

impl LabelsBuilder {
    /// Starts from `base`.
    pub fn new(base: Labels) -> Self {
        LabelsBuilder { labels: base.0 }
    }

    /// The current value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.labels
            .binary_search_by(|l| l.name.as_str().cmp(name))
            .ok()
            .map(|i| self.labels[i].value.as_str())
    }

    /// Sets `name` to `value`; an empty value deletes the label.
    pub fn set(&mut self, name: impl Into<LabelStr>, value: impl Into<LabelStr>) -> &mut Self {
        let name: LabelStr = name.into();
        let value: LabelStr = value.into();
        match self
            .labels
            .binary_search_by(|l| l.name.as_str().cmp(name.as_str()))
        {
            Ok(i) if value.is_empty() => {
                self.labels.remove(i);
            }
            Ok(i) => self.labels[i].value = value,
            Err(_) if value.is_empty() => {}
            Err(i) => self.labels.insert(i, Label { name, value }),
        }
        self
    }

    /// Removes `name` if present.
    pub fn del(&mut self, name: &str) -> &mut Self {
        if let Ok(i) = self.labels.binary_search_by(|l| l.name.as_str().cmp(name)) {
            self.labels.remove(i);
        }
        self
    }

    /// Keeps only labels for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&Label) -> bool) -> &mut Self {
        self.labels.retain(|l| keep(l));
        self
    }

    /// The labels as they stand, sorted.
    pub fn iter(&self) -> std::slice::Iter<'_, Label> {
        self.labels.iter()
    }

    /// Finishes the set.
    pub fn build(self) -> Labels {
        Labels(self.labels)
    }
}

/// [`Labels::stable_hash`] of labels given as (name, value) pairs sorted by name, so code
/// that holds borrowed labels gets the same hash without building a `Labels`.
pub fn hash_label_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> u64 {
    // Eight bytes at a time, each word multiplied in; every string's length is mixed in
    // after it, so `("a","bc")` and `("ab","c")` differ. Deterministic, no dependency, and
    // several times faster than a byte-wise FNV on the scrape hot path.
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    fn mix(h: u64, w: u64) -> u64 {
        let x = (h ^ w).wrapping_mul(K);
        x ^ (x >> 29)
    }
    fn add(mut h: u64, s: &str) -> u64 {
        let b = s.as_bytes();
        let mut chunks = b.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            h = mix(h, u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            h = mix(h, u64::from_le_bytes(w));
        }
        mix(h, b.len() as u64 | 0xff00_0000_0000_0000)
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (n, v) in pairs {
        h = add(h, n);
        h = add(h, v);
    }
    // Final avalanche (splitmix64's finaliser) so every output bit depends on every input bit.
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// Labels as Go's `labels.Labels.String()` prints them: `{a="x", b="y"}`, `__name__` as a
/// plain label, names that are not legacy-valid quoted. Takes (name, value) pairs so callers
/// holding labels in other shapes need not build a [`Labels`].
pub fn go_labels_string<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut s = String::from("{");
    for (i, (name, value)) in pairs.into_iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        if is_valid_label_name(name) {
            s.push_str(name);
        } else {
            s.push_str(&gofmt::quote(name));
        }
        s.push('=');
        s.push_str(&gofmt::quote(value));
    }
    s.push('}');
    s
}

/// True when `name` is a legacy (pre-UTF-8) valid label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_valid_label_name(name: &str) -> bool {
    valid_name(name.as_bytes(), LABEL_FIRST, LABEL_REST)
}

/// True when `name` is a legacy valid metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub fn is_valid_metric_name(name: &str) -> bool {
    valid_name(name.as_bytes(), METRIC_FIRST, METRIC_REST)
}

// Character classes of legacy names, one bit each, looked up per byte: every ingested
// series checks a dozen names, so this is a table lookup rather than a chain of ranges.
const LABEL_FIRST: u8 = 1;
const LABEL_REST: u8 = 2;
const METRIC_FIRST: u8 = 4;
const METRIC_REST: u8 = 8;

static NAME_CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        let alpha = b.is_ascii_alphabetic() || b == b'_';
        let digit = b.is_ascii_digit();
        let mut bits = 0;
        if alpha {
            bits |= LABEL_FIRST | LABEL_REST | METRIC_FIRST | METRIC_REST;
        }
        if digit {
            bits |= LABEL_REST | METRIC_REST;
        }
        if b == b':' {
            bits |= METRIC_FIRST | METRIC_REST;
        }
        t[c] = bits;
        c += 1;
    }
    t
};

#[inline]
fn valid_name(b: &[u8], first: u8, rest: u8) -> bool {
    match b.split_first() {
        Some((&c, tail)) => {
            NAME_CLASSES[usize::from(c)] & first != 0
                && tail
                    .iter()
                    .all(|&c| NAME_CLASSES[usize::from(c)] & rest != 0)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_labels_string_label_sets() {
        let s = |l: &Labels| go_labels_string(l.iter().map(|l| (&*l.name, &*l.value)));
        let l = Labels::from_pairs([("__name__", "up"), ("a.b", "x")]);
        assert_eq!(s(&l), r#"{__name__="up", "a.b"="x"}"#);
        let l = Labels::from_pairs([("__name__", "t"), ("a", "x\"y")]);
        assert_eq!(s(&l), r#"{__name__="t", a="x\"y"}"#);
    }

    #[test]
    fn from_pairs_sorts_dedups_and_drops_empty() {
        let l = Labels::from_pairs([("b", "2"), ("a", "1"), ("b", "3"), ("c", "")]);
        assert_eq!(l.len(), 2);
        assert_eq!(l.get("b"), Some("3"));
        assert_eq!(l.get("c"), None);
        assert_eq!(l.as_slice()[0].name, "a");
    }

    #[test]
    fn display_matches_prometheus() {
        let l = Labels::from_pairs([("__name__", "up"), ("job", "a\"b")]);
        assert_eq!(l.to_string(), r#"up{job="a\"b"}"#);
        assert_eq!(Labels::from_pairs([("__name__", "up")]).to_string(), "up");
        assert_eq!(Labels::from_pairs([("a", "b")]).to_string(), r#"{a="b"}"#);
    }

    #[test]
    fn hash_has_no_collisions_on_similar_series() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..20_000 {
            for (a, b) in [("cpu", "mode"), ("cpux", "mod"), ("device", "le")] {
                let l = Labels::from_pairs([
                    ("__name__", "node_cpu_seconds_total"),
                    (a, &*format!("{}", i % 97)),
                    (b, &*format!("{}", i / 97)),
                ]);
                assert!(seen.insert(l.stable_hash()), "collision at {l}");
            }
        }
        // Embedded zero bytes and lengths that are multiples of 8 are distinguished.
        let x = Labels::from_pairs([("a", "12345678"), ("b", "\0")]);
        let y = Labels::from_pairs([("a", "12345678\0"), ("b", "")]);
        assert_ne!(x.stable_hash(), y.stable_hash());
    }

    #[test]
    fn hash_depends_on_boundaries() {
        let a = Labels::from_pairs([("a", "bc")]);
        let b = Labels::from_pairs([("ab", "c")]);
        assert_ne!(a.stable_hash(), b.stable_hash());
    }

    #[test]
    fn name_validity() {
        // Every one- and two-byte name agrees with the grammar's character ranges.
        let label_ok = |b: &[u8]| {
            b.first()
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
        };
        let metric_ok = |b: &[u8]| {
            b.first()
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_' || *c == b':')
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b':')
        };
        for a in 0..128u8 {
            for b in 0..128u8 {
                for name in [vec![a], vec![a, b]] {
                    let s = std::str::from_utf8(&name).unwrap_or("");
                    assert_eq!(is_valid_label_name(s), label_ok(&name), "{name:?}");
                    assert_eq!(is_valid_metric_name(s), metric_ok(&name), "{name:?}");
                }
            }
        }
        assert!(!is_valid_label_name("é"));
        assert!(is_valid_label_name("_a1"));
        assert!(!is_valid_label_name("1a"));
        assert!(!is_valid_label_name("a:b"));
        assert!(is_valid_metric_name("a:b"));
        assert!(!is_valid_metric_name(""));
    }
}
