//! Label sets as Prometheus (Go) prints them in errors and annotations.

use model::Labels;

/// Labels as Go's `labels.Labels.String()` prints them: `{a="x", b="y"}`,
/// `__name__` as a plain label, names that are not legacy-valid quoted.
pub(crate) fn go_labels(l: &Labels) -> String {
    model::go_labels_string(l.iter().map(|l| (&*l.name, &*l.value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_sets() {
        let l = Labels::from_pairs([("__name__", "up"), ("a.b", "x")]);
        assert_eq!(go_labels(&l), r#"{__name__="up", "a.b"="x"}"#);
        let l = Labels::from_pairs([("__name__", "t"), ("a", "x\"y")]);
        assert_eq!(go_labels(&l), r#"{__name__="t", a="x\"y"}"#);
    }
}
