//! Label sets as Prometheus (Go) prints them in errors and annotations.

use gofmt::quote;
use model::{Labels, is_valid_label_name};

/// Labels as Go's `labels.Labels.String()` prints them: `{a="x", b="y"}`,
/// `__name__` as a plain label, names that are not legacy-valid quoted.
pub(crate) fn go_labels(l: &Labels) -> String {
    let mut s = String::from("{");
    for (i, label) in l.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        if is_valid_label_name(&label.name) {
            s.push_str(&label.name);
        } else {
            s.push_str(&quote(&label.name));
        }
        s.push('=');
        s.push_str(&quote(&label.value));
    }
    s.push('}');
    s
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
