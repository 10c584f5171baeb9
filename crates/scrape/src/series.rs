//! The labels of stored series: scraped labels merged with the target's, metric relabelling,
//! and the labels of the `up`/`scrape_*` report series, as Prometheus builds them.

use model::{Label, Labels, LabelsBuilder};
use relabel::RelabelConfig;

use crate::cluster::ClusterLabel;

/// Prefix given to a scraped label that clashes with a target label.
pub const EXPORTED_LABEL_PREFIX: &str = "exported_";

/// Sets `exported_<name>` (or `exported_exported_<name>`... the first one free) to `value`.
pub(crate) fn set_exported(lb: &mut LabelsBuilder, name: &str, value: model::LabelStr) {
    let mut new_name = name.to_string();
    loop {
        new_name.insert_str(0, EXPORTED_LABEL_PREFIX);
        if lb.get(&new_name).is_none() {
            lb.set(new_name, value);
            return;
        }
    }
}

/// The stored labels of a scraped series, or `None` when metric relabelling drops it.
///
/// With `honor_labels`, scraped labels win and target labels only fill gaps. Without it,
/// target labels win and clashing scraped labels are kept as `exported_<name>`, shorter
/// names first. Then `metric_relabel_configs`, then a forced cluster.
pub fn sample_labels(
    scraped: Labels,
    target: &Labels,
    honor_labels: bool,
    metric_relabel: &[RelabelConfig],
    cluster: &ClusterLabel,
) -> Option<Labels> {
    let mut lb = LabelsBuilder::new(scraped);
    if honor_labels {
        for l in target {
            if lb.get(&l.name).is_none() {
                lb.set(l.name.as_str(), l.value.as_str());
            }
        }
    } else {
        let mut conflicts: Vec<Label> = Vec::new();
        for l in target {
            if let Some(v) = lb.get(&l.name) {
                conflicts.push(Label::new(l.name.as_str(), v));
            }
            lb.set(l.name.as_str(), l.value.as_str());
        }
        // Stable sort by name length, as Prometheus resolves conflicts.
        conflicts.sort_by_key(|l| l.name.len());
        for l in conflicts {
            set_exported(&mut lb, &l.name, l.value);
        }
    }
    if !metric_relabel.is_empty() && !relabel::process_builder(&mut lb, metric_relabel) {
        return None;
    }
    // A set relabelled down to nothing is dropped, as an empty series cannot be stored.
    lb.iter().next()?;
    cluster.force(&mut lb, honor_labels);
    Some(lb.build())
}

/// The stored labels of a scraped series as borrowed pairs sorted by name, when they can
/// be had without allocating: no metric relabelling, no label value Prometheus rewrites,
/// no clash between scraped and target labels, no conflicting `cluster`. `None` sends the
/// caller to [`sample_labels`], which handles every case; both give the same labels.
pub fn fast_sample_pairs<'a>(
    sample: &'a exposition::SampleRef<'a>,
    target: &'a Labels,
    honor_labels: bool,
    metric_relabel: &[RelabelConfig],
    cluster: &'a ClusterLabel,
) -> Option<Vec<(&'a str, &'a str)>> {
    if !metric_relabel.is_empty() || sample.name.is_empty() || sample.needs_normalization() {
        return None;
    }
    let mut v: Vec<(&str, &str)> = Vec::with_capacity(sample.labels.len() + target.len() + 2);
    v.push((model::METRIC_NAME_LABEL, sample.name.as_ref()));
    // An empty scraped value means the label is absent, as in a `Labels`.
    v.extend(
        sample
            .labels
            .iter()
            .filter(|(_, val)| !val.is_empty())
            .map(|(n, val)| (n.as_ref(), val.as_ref())),
    );
    let scraped = v.len();
    for l in target {
        if v[..scraped].iter().any(|(n, _)| *n == l.name) {
            if honor_labels {
                continue;
            }
            return None; // becomes exported_<name>
        }
        v.push((l.name.as_str(), l.value.as_str()));
    }
    if let ClusterLabel::Force(name) = cluster {
        match v.iter().find(|(n, _)| *n == crate::cluster::CLUSTER_LABEL) {
            Some((_, val)) if *val == name.as_str() => {}
            Some(_) => return None,
            None => v.push((crate::cluster::CLUSTER_LABEL, name.as_str())),
        }
    }
    v.sort_unstable_by(|a, b| a.0.cmp(b.0));
    if v.windows(2).any(|w| w[0].0 == w[1].0) {
        return None;
    }
    Some(v)
}

/// The labels of a report series (`up`, `scrape_*`): the target's labels win, a clashing
/// name is kept as `exported_<name>`, then the forced cluster.
pub fn report_labels(name: &str, target: &Labels, cluster: &ClusterLabel) -> Labels {
    let mut lb = LabelsBuilder::new(Labels::from_pairs([(model::METRIC_NAME_LABEL, name)]));
    for l in target {
        if let Some(v) = lb.get(&l.name) {
            let v = v.to_string();
            lb.set(format!("{EXPORTED_LABEL_PREFIX}{}", l.name), v);
        }
        lb.set(l.name.as_str(), l.value.as_str());
    }
    cluster.force(&mut lb, false);
    lb.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_pairs_agree_with_the_general_path() {
        use std::borrow::Cow;
        let scraped_sets: Vec<Vec<(&str, &str)>> = vec![
            vec![],
            vec![("a", "1")],
            vec![("job", "scraped"), ("z", "")],
            vec![("cluster", "west"), ("instance", "x")],
            vec![("cluster", "east")],
            vec![("le", "1"), ("exported_job", "q")],
        ];
        let targets = [
            Labels::from_pairs([("job", "t"), ("instance", "i:1")]),
            Labels::from_pairs([("job", "t"), ("cluster", "west")]),
            Labels::empty(),
        ];
        let clusters = [
            ClusterLabel::None,
            ClusterLabel::Force("east".into()),
            ClusterLabel::Default("hub".into()),
        ];
        let mut fast_taken = 0;
        for scraped in &scraped_sets {
            let pairs: Vec<exposition::LabelPair> = scraped
                .iter()
                .map(|(n, v)| (Cow::Borrowed(*n), Cow::Borrowed(*v)))
                .collect();
            for metric_type in [model::MetricType::Gauge, model::MetricType::Histogram] {
                let sample = exposition::SampleRef {
                    name: Cow::Borrowed("m"),
                    labels: &pairs,
                    value: 1.0,
                    timestamp: None,
                    exemplar: None,
                    metric_type,
                };
                for target in &targets {
                    for cluster in &clusters {
                        for honor in [false, true] {
                            let general =
                                sample_labels(sample.to_labels(), target, honor, &[], cluster);
                            if let Some(fast) =
                                fast_sample_pairs(&sample, target, honor, &[], cluster)
                            {
                                fast_taken += 1;
                                let built = Labels::from_pairs(fast.iter().copied());
                                assert_eq!(
                                    Some(built),
                                    general,
                                    "{scraped:?} {target:?} {cluster:?} honor={honor}"
                                );
                                assert_eq!(
                                    model::hash_label_pairs(fast.iter().copied()),
                                    general.as_ref().map(Labels::stable_hash).unwrap_or(0)
                                );
                            }
                        }
                    }
                }
            }
        }
        assert!(
            fast_taken > 50,
            "the fast path was taken only {fast_taken} times"
        );
    }

    fn l(pairs: &[(&str, &str)]) -> Labels {
        Labels::from_pairs(pairs.iter().copied())
    }

    #[test]
    fn honor_labels_keeps_scraped_values() {
        let s = sample_labels(
            l(&[("__name__", "m"), ("job", "scraped")]),
            &l(&[("job", "target"), ("instance", "i")]),
            true,
            &[],
            &ClusterLabel::None,
        )
        .expect("kept");
        assert_eq!(
            s,
            l(&[("__name__", "m"), ("job", "scraped"), ("instance", "i")])
        );
    }

    #[test]
    fn conflicts_become_exported_recursively() {
        let s = sample_labels(
            l(&[
                ("__name__", "m"),
                ("job", "a"),
                ("exported_job", "b"),
                ("instance", "c"),
            ]),
            &l(&[("job", "t"), ("exported_job", "u"), ("instance", "i")]),
            false,
            &[],
            &ClusterLabel::None,
        )
        .expect("kept");
        // job (shorter) first: exported_job is taken by the target, so exported_exported_job.
        assert_eq!(s.get("job"), Some("t"));
        assert_eq!(s.get("exported_job"), Some("u"));
        assert_eq!(s.get("exported_exported_job"), Some("a"));
        assert_eq!(s.get("exported_instance"), Some("c"));
        assert_eq!(s.get("exported_exported_exported_job"), Some("b"));
    }

    #[test]
    fn report_labels_carry_target_and_cluster() {
        let r = report_labels(
            "up",
            &l(&[("job", "j"), ("instance", "i")]),
            &ClusterLabel::Force("c1".into()),
        );
        assert_eq!(
            r,
            l(&[
                ("__name__", "up"),
                ("job", "j"),
                ("instance", "i"),
                ("cluster", "c1")
            ])
        );
    }
}
