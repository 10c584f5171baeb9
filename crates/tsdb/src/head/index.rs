//! The inverted index: label name -> value -> sorted series ids, and string interning.
//! Resolves matchers the way Prometheus's `PostingsForMatchers` does.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use model::Matcher;

use crate::postings;

use super::idlist::IdList;
use super::labelhash::StrHashState;
use super::symbols::Symbols;

/// A series leaving the head: its id and label pairs.
pub(crate) type GoneSeries = (u64, Vec<(Arc<str>, Arc<str>)>);

/// Postings and interned strings of the head.
#[derive(Default)]
pub(crate) struct Index {
    // Each distinct string once, with its symbol id in `symbols`.
    strings: HashMap<Arc<str>, u32, StrHashState>,
    symbols: Arc<Symbols>,
    postings: BTreeMap<Arc<str>, BTreeMap<Arc<str>, IdList>>,
    all: IdList,
}

impl Index {
    /// The shared copy of `s`, so each distinct string is held once.
    #[cfg(test)]
    pub(crate) fn intern(&mut self, s: &str) -> Arc<str> {
        self.intern_symbol(s).1
    }

    /// The symbol id and shared copy of `s`, interning it if new.
    pub(crate) fn intern_symbol(&mut self, s: &str) -> (u32, Arc<str>) {
        if let Some((a, &id)) = self.strings.get_key_value(s) {
            return (id, Arc::clone(a));
        }
        let id = u32::try_from(self.strings.len()).expect("fewer than 2^32 distinct strings");
        let a: Arc<str> = Arc::from(s);
        self.symbols.set(id, Arc::clone(&a));
        self.strings.insert(Arc::clone(&a), id);
        (id, a)
    }

    /// The string table symbol ids refer to.
    pub(crate) fn symbols(&self) -> &Arc<Symbols> {
        &self.symbols
    }

    /// Cardinality lists from the postings, each sorted largest first (ties by name) and
    /// cut at `limit`, as Prometheus's `MemPostings.Stats` computes them.
    pub(crate) fn cardinality(&self, limit: usize, status: &mut storage::TsdbStatus) {
        fn top(mut v: Vec<(String, u64)>, limit: usize) -> Vec<(String, u64)> {
            v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            v.truncate(limit);
            v
        }
        let (mut metrics, mut values, mut memory, mut pairs) = (vec![], vec![], vec![], vec![]);
        let mut num_pairs = 0u64;
        for (name, vals) in &self.postings {
            values.push((name.to_string(), vals.len() as u64));
            let mut size = 0u64;
            for (value, ids) in vals {
                let n = ids.len() as u64;
                if name.as_ref() == model::METRIC_NAME_LABEL {
                    metrics.push((value.to_string(), n));
                }
                pairs.push((format!("{name}={value}"), n));
                size += value.len() as u64 * n;
                num_pairs += 1;
            }
            memory.push((name.to_string(), size));
        }
        status.num_label_pairs = num_pairs;
        status.series_count_by_metric_name = top(metrics, limit);
        status.label_value_count_by_label_name = top(values, limit);
        status.memory_in_bytes_by_label_name = top(memory, limit);
        status.series_count_by_label_value_pair = top(pairs, limit);
    }

    /// Adds series `id` with interned `labels`.
    pub(crate) fn add(&mut self, id: u64, labels: &[(Arc<str>, Arc<str>)]) {
        self.all.insert(id);
        for (n, v) in labels {
            let values = self.postings.entry(Arc::clone(n)).or_default();
            match values.entry(Arc::clone(v)) {
                // Exactly one slot: many values (pod, instance) belong to one series only,
                // and a first push would reserve four.
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(IdList::single(id));
                }
                std::collections::btree_map::Entry::Occupied(mut e) => {
                    e.get_mut().insert(id);
                }
            }
        }
    }

    /// Removes many series at once: each postings list is filtered once, however many of
    /// its ids go (one by one, a head compaction that drops most series shifted every
    /// list once per series: quadratic). `gone` holds each series' id and label pairs.
    pub(crate) fn remove_many(&mut self, gone: &[GoneSeries]) {
        if gone.is_empty() {
            return;
        }
        let mut all_gone: Vec<u64> = gone.iter().map(|(id, _)| *id).collect();
        all_gone.sort_unstable();
        self.all.retain(|id| all_gone.binary_search(&id).is_err());
        let mut per_list: HashMap<(Arc<str>, Arc<str>), Vec<u64>> = HashMap::new();
        for (id, pairs) in gone {
            for (n, v) in pairs {
                per_list
                    .entry((Arc::clone(n), Arc::clone(v)))
                    .or_default()
                    .push(*id);
            }
        }
        for ((n, v), mut ids) in per_list {
            ids.sort_unstable();
            let Some(values) = self.postings.get_mut(&n) else {
                continue;
            };
            if let Some(list) = values.get_mut(&v) {
                list.retain(|id| ids.binary_search(&id).is_err());
                if list.is_empty() {
                    values.remove(&v);
                }
            }
            if values.is_empty() {
                self.postings.remove(&n);
            }
        }
    }

    /// Label names present, sorted.
    pub(crate) fn names(&self) -> impl Iterator<Item = &Arc<str>> {
        self.postings.keys()
    }

    /// Values of `name` with their postings, sorted by value.
    pub(crate) fn values(&self, name: &str) -> impl Iterator<Item = (&Arc<str>, &IdList)> {
        self.postings.get(name).into_iter().flat_map(|m| m.iter())
    }

    /// Sorted ids of series matching all `matchers` (all series when there are none).
    pub(crate) fn resolve(&self, matchers: &[Matcher]) -> Vec<u64> {
        match postings::resolve(
            matchers,
            |m, want| Ok::<_, std::convert::Infallible>(self.matching(m, want)),
            || Ok(self.all.to_vec()),
        ) {
            Ok(ids) => ids,
            Err(never) => match never {},
        }
    }

    /// Sorted union of postings of values `v` of the matcher's label where
    /// `m.matches(v) == want`. Literal values are looked up; anything else scans the values.
    fn matching(&self, m: &Matcher, want: bool) -> Vec<u64> {
        let Some(values) = self.postings.get(m.name.as_str()) else {
            return Vec::new();
        };
        let lists: Vec<Vec<u64>> = match postings::literals(m, want) {
            Some(lits) => lits
                .iter()
                .filter_map(|l| values.get(*l).map(IdList::to_vec))
                .collect(),
            None => values
                .iter()
                .filter(|(v, _)| m.matches(v) == want)
                .map(|(_, p)| p.to_vec())
                .collect(),
        };
        postings::union(lists)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::MatchOp;

    fn index() -> Index {
        let mut ix = Index::default();
        let rows: [&[(&str, &str)]; 4] = [
            &[("__name__", "up"), ("job", "a")],
            &[("__name__", "up"), ("job", "b"), ("env", "prod")],
            &[("__name__", "up"), ("job", "c"), ("env", "")],
            &[("__name__", "down"), ("env", "dev")],
        ];
        for (id, row) in rows.iter().enumerate() {
            let labels: Vec<(Arc<str>, Arc<str>)> = row
                .iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(n, v)| (ix.intern(n), ix.intern(v)))
                .collect();
            ix.add(id as u64, &labels);
        }
        ix
    }

    #[test]
    fn removed_series_leave_the_postings() {
        let mut ix = index();
        let (up, b, job, env, prod) = (
            ix.intern("up"),
            ix.intern("b"),
            ix.intern("job"),
            ix.intern("env"),
            ix.intern("prod"),
        );
        let name = ix.intern("__name__");
        ix.remove_many(&[(1, vec![(name, up), (job, b), (env, prod)])]);
        assert_eq!(
            ix.resolve(&[m(MatchOp::Equal, "job", "b")]),
            Vec::<u64>::new()
        );
        assert_eq!(
            ix.resolve(&[m(MatchOp::Equal, "__name__", "up")]),
            vec![0, 2]
        );
        assert_eq!(ix.resolve(&[]), vec![0, 2, 3]);
        assert!(ix.values("env").all(|(v, _)| v.as_ref() != "prod"));
    }

    fn m(op: MatchOp, n: &str, v: &str) -> Matcher {
        Matcher::new(op, n, v).expect("valid matcher")
    }

    #[test]
    fn equality_and_regex_literals() {
        let ix = index();
        assert_eq!(
            ix.resolve(&[m(MatchOp::Equal, "__name__", "up")]),
            vec![0, 1, 2]
        );
        assert_eq!(ix.resolve(&[m(MatchOp::Regex, "job", "a|c")]), vec![0, 2]);
        assert_eq!(ix.resolve(&[m(MatchOp::Regex, "job", "[ab]")]), vec![0, 1]);
        assert_eq!(
            ix.resolve(&[
                m(MatchOp::Equal, "__name__", "up"),
                m(MatchOp::NotEqual, "job", "a")
            ]),
            vec![1, 2]
        );
    }

    #[test]
    fn empty_matching_matchers_select_series_without_the_label() {
        let ix = index();
        assert_eq!(ix.resolve(&[m(MatchOp::Equal, "env", "")]), vec![0, 2]);
        assert_eq!(ix.resolve(&[m(MatchOp::NotRegex, "env", ".+")]), vec![0, 2]);
        assert_eq!(ix.resolve(&[m(MatchOp::NotEqual, "env", "")]), vec![1, 3]);
        assert_eq!(
            ix.resolve(&[m(MatchOp::Regex, "env", "prod|")]),
            vec![0, 1, 2]
        );
        assert_eq!(
            ix.resolve(&[m(MatchOp::NotEqual, "env", "prod")]),
            vec![0, 2, 3]
        );
        assert_eq!(
            ix.resolve(&[m(MatchOp::Regex, "nope", ".*")]),
            vec![0, 1, 2, 3]
        );
        assert!(ix.resolve(&[m(MatchOp::Regex, "nope", ".+")]).is_empty());
        assert_eq!(
            ix.resolve(&[
                m(MatchOp::Equal, "__name__", "up"),
                m(MatchOp::Equal, "env", "")
            ]),
            vec![0, 2]
        );
    }

    #[test]
    fn interning_shares_strings() {
        let mut ix = Index::default();
        let a = ix.intern("x");
        let b = ix.intern("x");
        assert!(Arc::ptr_eq(&a, &b));
    }

    mod prop {
        use proptest::prelude::*;

        use super::*;

        const NAMES: [&str; 3] = ["__name__", "a", "b"];
        const VALUES: [&str; 4] = ["", "x", "y", "xy"];
        const PATTERNS: [&str; 9] = ["", "x", "y", "x|y", "y|", ".*", ".+", "x.*", "(x|xy)"];

        fn matcher() -> impl Strategy<Value = Matcher> {
            (0..4usize, 0..NAMES.len(), 0..PATTERNS.len()).prop_map(|(op, n, p)| {
                let op = [
                    MatchOp::Equal,
                    MatchOp::NotEqual,
                    MatchOp::Regex,
                    MatchOp::NotRegex,
                ][op];
                Matcher::new(op, NAMES[n], PATTERNS[p]).expect("valid pattern")
            })
        }

        proptest! {
            #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

            /// The index gives what filtering every series with `Matcher::matches`
            /// (a missing label read as "") gives: Prometheus's definition.
            #[test]
            fn resolve_equals_naive_filter(
                rows in proptest::collection::vec(proptest::collection::vec(0..VALUES.len(), NAMES.len()), 0..12),
                matchers in proptest::collection::vec(matcher(), 0..4),
            ) {
                let mut ix = Index::default();
                for (id, row) in rows.iter().enumerate() {
                    let labels: Vec<(Arc<str>, Arc<str>)> = row
                        .iter()
                        .enumerate()
                        .filter(|(_, v)| !VALUES[**v].is_empty())
                        .map(|(n, v)| (ix.intern(NAMES[n]), ix.intern(VALUES[*v])))
                        .collect();
                    ix.add(id as u64, &labels);
                }
                let naive: Vec<u64> = rows
                    .iter()
                    .enumerate()
                    .filter(|(_, row)| {
                        matchers.iter().all(|m| {
                            let n = NAMES.iter().position(|n| *n == m.name).expect("known name");
                            m.matches(VALUES[row[n]])
                        })
                    })
                    .map(|(id, _)| id as u64)
                    .collect();
                prop_assert_eq!(ix.resolve(&matchers), naive);
            }
        }
    }
}
