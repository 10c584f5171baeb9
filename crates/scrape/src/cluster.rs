//! The `cluster` label: forced onto every series by an agent, or a default target label on a hub.

use model::LabelsBuilder;

use crate::series::set_exported;

/// The label naming the cluster a series came from.
pub const CLUSTER_LABEL: &str = "cluster";

/// How the scrape manager stamps the cluster on what it scrapes.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub enum ClusterLabel {
    /// No stamping.
    #[default]
    None,
    /// A target without a `cluster` label (after relabelling) gets this one; the usual
    /// `honor_labels` / `exported_` rules then apply to scraped series.
    Default(String),
    /// Every series gets `cluster` set to this after metric relabelling; a different scraped
    /// value is kept as `exported_cluster` unless `honor_labels` is on.
    Force(String),
}

impl ClusterLabel {
    /// Stamps a forced cluster onto a finished series.
    pub(crate) fn force(&self, lb: &mut LabelsBuilder, honor_labels: bool) {
        let ClusterLabel::Force(name) = self else {
            return;
        };
        match lb.get(CLUSTER_LABEL) {
            Some(v) if v == name => return,
            Some(v) if !honor_labels => {
                let old = v.to_string();
                set_exported(lb, CLUSTER_LABEL, old.into());
            }
            _ => {}
        }
        lb.set(CLUSTER_LABEL, name.as_str());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::Labels;

    #[test]
    fn force_keeps_a_different_value_unless_honoring() {
        let c = ClusterLabel::Force("east".into());
        let mut lb = LabelsBuilder::new(Labels::from_pairs([("cluster", "west")]));
        c.force(&mut lb, false);
        let l = lb.build();
        assert_eq!(l.get("cluster"), Some("east"));
        assert_eq!(l.get("exported_cluster"), Some("west"));
        let mut lb = LabelsBuilder::new(Labels::from_pairs([("cluster", "west")]));
        c.force(&mut lb, true);
        let l = lb.build();
        assert_eq!(l.get("cluster"), Some("east"));
        assert_eq!(l.get("exported_cluster"), None);
        let mut lb = LabelsBuilder::new(Labels::from_pairs([("a", "b")]));
        ClusterLabel::None.force(&mut lb, false);
        assert_eq!(lb.build().get("cluster"), None);
    }
}
