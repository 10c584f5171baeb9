//! Matcher resolution over postings, shared by the head's index and the blocks' indexes:
//! the way Prometheus's `PostingsForMatchers` combines matchers, and the sorted-list
//! operations under it.

use model::{MatchOp, Matcher};

/// The values to look up directly when `m.matches(v) == want` holds exactly for a known
/// list of values (equality, or a regex that is a literal alternation); `None` when the
/// values must be scanned.
pub(crate) fn literals(m: &Matcher, want: bool) -> Option<Vec<&str>> {
    match (m.op, want) {
        (MatchOp::Equal, true) | (MatchOp::NotEqual, false) => Some(vec![m.value.as_str()]),
        (MatchOp::Regex, true) | (MatchOp::NotRegex, false) => m
            .regex()
            .and_then(|r| r.literal_alternatives())
            .map(|l| l.iter().map(String::as_str).collect()),
        _ => None,
    }
}

/// Sorted ids of series matching all `matchers`, given `matching(m, want)` (the sorted
/// union of postings of the values `v` of `m`'s label with `m.matches(v) == want`) and
/// `all` (every id). A matcher that matches the empty string also selects series
/// without its label: it takes every series minus those whose value it refuses (so
/// `a=""` drops every series with `a`).
pub(crate) fn resolve<E>(
    matchers: &[Matcher],
    mut matching: impl FnMut(&Matcher, bool) -> Result<Vec<u64>, E>,
    all: impl FnOnce() -> Result<Vec<u64>, E>,
) -> Result<Vec<u64>, E> {
    let mut keep: Vec<Vec<u64>> = Vec::new();
    let mut drop: Vec<u64> = Vec::new();
    for m in matchers {
        if m.matches_empty() {
            drop.extend(matching(m, false)?);
        } else {
            let list = matching(m, true)?;
            if list.is_empty() {
                return Ok(Vec::new());
            }
            keep.push(list);
        }
    }
    let mut out = if keep.is_empty() {
        all()?
    } else {
        keep.sort_by_key(Vec::len);
        let mut it = keep.into_iter();
        let first = it.next().unwrap_or_default();
        it.fold(first, |acc, next| intersect(&acc, &next))
    };
    if !drop.is_empty() {
        drop.sort_unstable();
        drop.dedup();
        out.retain(|id| drop.binary_search(id).is_err());
    }
    Ok(out)
}

/// Ids in both sorted lists.
pub(crate) fn intersect(a: &[u64], b: &[u64]) -> Vec<u64> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len().min(b.len()));
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// Ids in any of the sorted lists, sorted and unique.
pub(crate) fn union(mut lists: Vec<Vec<u64>>) -> Vec<u64> {
    match lists.len() {
        0 => Vec::new(),
        1 => lists.pop().unwrap_or_default(),
        _ => {
            let mut out: Vec<u64> = lists.into_iter().flatten().collect();
            out.sort_unstable();
            out.dedup();
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intersection_and_union_of_sorted_lists() {
        assert_eq!(intersect(&[1, 3, 5, 7], &[2, 3, 7, 9]), vec![3, 7]);
        assert!(intersect(&[], &[1]).is_empty());
        assert_eq!(union(vec![vec![1, 4], vec![2, 4, 9]]), vec![1, 2, 4, 9]);
        assert_eq!(union(vec![vec![3]]), vec![3]);
        assert!(union(Vec::new()).is_empty());
    }
}
