//! The labels of stored series: scraped labels merged with the target's, metric relabelling,
//! and the labels of the `up`/`scrape_*` report series, as Prometheus builds them.

use model::{Label, Labels, LabelsBuilder};
use relabel::RelabelConfig;

use crate::cluster::ClusterLabel;

/// Prefix given to a scraped label that clashes with a target label.
pub const EXPORTED_LABEL_PREFIX: &str = "exported_";

/// Sets `exported_<name>` (or `exported_exported_<name>`... the first one free) to `value`.
pub(crate) fn set_exported(lb: &mut LabelsBuilder, name: &str, value: String) {
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
