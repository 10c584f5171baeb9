//! Cardinality statistics for `/api/v1/status/tsdb`.

use model::Labels;
use storage::{Appendable, Queryable, WriteIdentity};

#[test]
fn cardinality_lists_count_series_values_and_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = tsdb::Db::open(dir.path(), tsdb::Options::default()).expect("open");
    let mut app = db.appender(&WriteIdentity::Local);
    for (name, pod) in [("up", "a"), ("up", "bb"), ("up", "ccc"), ("load", "a")] {
        let l = Labels::from_pairs([("__name__", name), ("pod", pod)]);
        app.append(&l, 1_000, 1.0).expect("append");
        app.append(&l, 2_000, 1.0).expect("append");
    }
    app.commit().expect("commit");
    let s = db.status(2).expect("the tsdb keeps statistics");
    assert_eq!(s.num_series, 4);
    // __name__=up, __name__=load, pod=a, pod=bb, pod=ccc
    assert_eq!(s.num_label_pairs, 5);
    assert_eq!(s.chunk_count, 4);
    assert_eq!((s.min_time, s.max_time), (Some(1_000), Some(2_000)));
    let owned = |v: &[(&str, u64)]| {
        v.iter()
            .map(|(n, c)| (n.to_string(), *c))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        s.series_count_by_metric_name,
        owned(&[("up", 3), ("load", 1)])
    );
    assert_eq!(
        s.label_value_count_by_label_name,
        owned(&[("pod", 3), ("__name__", 2)])
    );
    // __name__: 2*3 ("up" x3) + 4 ("load") = 10; pod: 1*2 + 2 + 3 = 7.
    assert_eq!(
        s.memory_in_bytes_by_label_name,
        owned(&[("__name__", 10), ("pod", 7)])
    );
    assert_eq!(
        s.series_count_by_label_value_pair,
        owned(&[("__name__=up", 3), ("pod=a", 2)])
    );
    db.close().expect("close");
}
