//! Committed data survives reopening; damaged WAL tails open cleanly with a prefix of the
//! data and never with wrong data.

use std::path::Path;
use std::time::Duration;

use model::{Labels, Matcher, MetricMetadata, MetricType, Sample};
use storage::{Appendable, Queryable, SelectHints, StorageError, WriteIdentity};
use tsdb::{Db, FsyncPolicy, Options};

fn opts() -> Options {
    Options {
        fsync: FsyncPolicy::Interval(Duration::from_millis(50)),
        // The minimum: WAL records are compact, so segments must be small to get several.
        wal_segment_size: 4096,
        ..Options::default()
    }
}

fn lbl(name: &str, i: usize) -> Labels {
    Labels::from_pairs([("__name__", name.to_string()), ("i", i.to_string())])
}

/// Every sample of every series, sorted by labels.
fn dump(db: &Db) -> Vec<(Labels, Vec<Sample>)> {
    let q = db.querier(i64::MIN, i64::MAX).expect("querier");
    let m = Matcher::new(model::MatchOp::Regex, "__name__", ".+").expect("matcher");
    q.select(&SelectHints::default(), &[m])
        .expect("select")
        .into_iter()
        .map(|s| (s.labels, s.samples))
        .collect()
}

/// Writes `commits` commits of 10 series x 5 samples each; returns what was committed.
/// Values are square roots (no short binary or decimal form), so records stay a few hundred
/// bytes and small segments fill up.
fn write_commits(db: &Db, commits: usize) {
    for c in 0..commits {
        let mut app = db.appender(&WriteIdentity::Anonymous);
        for i in 0..10 {
            for k in 0..5 {
                let t = (c * 5 + k) as i64 * 1000;
                app.append(&lbl("m", i), t, ((c * 100 + i * 10 + k) as f64).sqrt())
                    .expect("append");
            }
        }
        app.commit().expect("commit");
    }
}

/// Opens a database in `dir`, writes `commits` commits and drops it without closing, as
/// a crash leaves it (everything still in the WAL); returns what it held.
fn written_then_crashed(dir: &Path, commits: usize) -> Vec<(Labels, Vec<Sample>)> {
    let db = Db::open(dir, opts()).expect("open");
    write_commits(&db, commits);
    dump(&db)
}

fn segments(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir.join("wal"))
        .expect("wal dir")
        .map(|e| e.expect("entry").path())
        .collect();
    v.sort();
    v
}

#[test]
fn committed_data_and_metadata_survive_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let before = {
        let db = Db::open(dir.path(), opts()).expect("open");
        write_commits(&db, 30);
        let mut app = db.appender(&WriteIdentity::Local);
        let meta = MetricMetadata {
            metric_type: MetricType::Counter,
            help: "Help.".into(),
            unit: "seconds".into(),
        };
        app.update_metadata("m", &meta).expect("metadata");
        app.append(&lbl("m", 0), 1_000_000, model::stale_nan())
            .expect("stale marker");
        app.commit().expect("commit");
        let d = dump(&db);
        assert_eq!(d.len(), 10);
        // Dropped without close: everything acknowledged must already be in the kernel.
        d
    };
    assert!(segments(dir.path()).len() > 1, "small segments were cut");
    let db = Db::open(dir.path(), opts()).expect("reopen");
    let after = dump(&db);
    assert_eq!(after.len(), before.len());
    for ((la, sa), (lb, sb)) in before.iter().zip(&after) {
        assert_eq!(la, lb);
        assert_eq!(sa.len(), sb.len());
        assert!(sa.iter().zip(sb).all(|(a, b)| a.bit_eq(b)));
    }
    let last = after[0].1.last().expect("samples");
    assert!(model::is_stale_nan(last.v));
    let q = db.querier(0, 1).expect("querier");
    let md = q.metadata(Some("m"), 0);
    assert_eq!(md.len(), 1);
    assert_eq!(md[0].1.unit, "seconds");
    let st = db.stats();
    assert_eq!(st.series, 10);
    assert_eq!(st.samples, 30 * 50 + 1);
    assert_eq!(st.min_time, Some(0));
    assert_eq!(st.max_time, Some(1_000_000));
    // New series after reopen get fresh ids and survive another reopen.
    let mut app = db.appender(&WriteIdentity::Anonymous);
    app.append(&lbl("n", 1), 5, 1.0).expect("append");
    app.commit().expect("commit");
    db.close().expect("close");
    drop(db);
    let db = Db::open(dir.path(), opts()).expect("reopen twice");
    assert_eq!(dump(&db).len(), 11);
}

#[test]
fn rolled_back_samples_are_neither_visible_nor_replayed() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let db = Db::open(dir.path(), opts()).expect("open");
        let mut app = db.appender(&WriteIdentity::Anonymous);
        app.append(&lbl("m", 1), 1, 1.0).expect("append");
        app.rollback();
        assert!(dump(&db).is_empty());
    }
    let db = Db::open(dir.path(), opts()).expect("reopen");
    assert!(dump(&db).is_empty());
}

#[test]
fn always_policy_commits_are_fsynced_and_close_refuses_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(
        dir.path(),
        Options {
            fsync: FsyncPolicy::Always,
            ..opts()
        },
    )
    .expect("open");
    write_commits(&db, 3);
    db.close().expect("close");
    db.close().expect("close is idempotent");
    let mut app = db.appender(&WriteIdentity::Anonymous);
    assert!(matches!(
        app.append(&lbl("m", 1), 1, 1.0),
        Err(StorageError::Closed)
    ));
}

#[test]
fn a_second_open_of_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _db = Db::open(dir.path(), opts()).expect("open");
    let err = Db::open(dir.path(), opts()).err().expect("refused");
    assert!(matches!(err, tsdb::Error::Locked { .. }), "{err}");
}

/// Checks that the reopened data is a prefix of the commits: every series has the same
/// samples as before up to some count, and nothing that was not written.
fn assert_prefix(before: &[(Labels, Vec<Sample>)], after: &[(Labels, Vec<Sample>)]) {
    for (l, samples) in after {
        let orig = before
            .iter()
            .find(|(b, _)| b == l)
            .map(|(_, s)| s)
            .unwrap_or_else(|| panic!("series {l} was never written"));
        assert!(samples.len() <= orig.len(), "{l} grew");
        for (a, b) in samples.iter().zip(orig) {
            assert!(a.bit_eq(b), "{l}: {a:?} != {b:?}");
        }
    }
}

#[test]
fn truncated_last_segment_opens_with_a_prefix() {
    let src = tempfile::tempdir().expect("tempdir");
    let before = written_then_crashed(src.path(), 8);
    let segs = segments(src.path());
    let last = segs.last().expect("a segment");
    let data = std::fs::read(last).expect("read segment");
    assert!(data.len() > 100);
    let cuts = [
        0,
        1,
        7,
        8,
        9,
        data.len() / 3,
        data.len() / 2,
        data.len() - 1,
    ];
    let mut totals = Vec::new();
    for cut in cuts {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("wal")).expect("mkdir");
        for s in &segs {
            let name = s.file_name().expect("name");
            std::fs::copy(s, dir.path().join("wal").join(name)).expect("copy");
        }
        let target = dir.path().join("wal").join(last.file_name().expect("name"));
        std::fs::write(&target, &data[..cut]).expect("truncate");
        let db = Db::open(dir.path(), opts()).expect("opens despite a torn tail");
        let after = dump(&db);
        assert_prefix(&before, &after);
        let total: usize = after.iter().map(|(_, s)| s.len()).sum();
        totals.push(total);
        drop(db);
        // The bad tail was cut off: a second open sees a clean WAL and the same data.
        let db = Db::open(dir.path(), opts()).expect("reopen");
        assert_eq!(dump(&db), after);
    }
    let mut prev_total = 0;
    for t in totals {
        assert!(t >= prev_total, "longer prefixes keep more data");
        prev_total = t;
    }
}

#[test]
fn records_of_optional_types_are_skipped_not_taken_for_damage() {
    let dir = tempfile::tempdir().expect("tempdir");
    let before = written_then_crashed(dir.path(), 4);
    // What a later build might log (exemplars, say, as type 16; one compressed, type
    // 31), put right after the segment header, ahead of every record this build wrote.
    let last = segments(dir.path()).last().cloned().expect("a segment");
    let data = std::fs::read(&last).expect("read segment");
    let mut edited = data[..12].to_vec();
    for payload in [&[16u8, 1, 2, 3][..], &[31 | 0x80, 0xff, 0xff][..]] {
        edited.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        edited.extend_from_slice(&crc32c_of(payload).to_le_bytes());
        edited.extend_from_slice(payload);
    }
    edited.extend_from_slice(&data[12..]);
    std::fs::write(&last, &edited).expect("write segment");
    let db = Db::open(dir.path(), opts()).expect("open");
    assert_eq!(dump(&db), before, "every record after them replayed");
    drop(db);
    // Nothing was truncated: the segment still holds them and every record after them.
    assert_eq!(std::fs::read(&last).expect("read segment"), edited);
}

#[test]
fn flipped_byte_in_the_last_segment_loses_the_tail_only() {
    let src = tempfile::tempdir().expect("tempdir");
    let before = written_then_crashed(src.path(), 8);
    let segs = segments(src.path());
    let last = segs.last().expect("a segment");
    let data = std::fs::read(last).expect("read segment");
    for pos in [0, 3, 5, 9, data.len() / 2, data.len() - 1] {
        let mut bad = data.clone();
        bad[pos] ^= 0x10;
        std::fs::write(last, &bad).expect("write");
        let db = Db::open(src.path(), opts()).expect("opens despite corruption");
        assert_prefix(&before, &dump(&db));
        drop(db);
        // Restore the original for the next position (the open truncated the segment).
        std::fs::write(last, &data).expect("restore");
        // Remove the empty segment the open created so the damaged one stays last.
        for s in segments(src.path()) {
            if !segs.contains(&s) {
                std::fs::remove_file(s).expect("remove");
            }
        }
    }
}

#[test]
fn corruption_inside_an_older_segment_keeps_later_segments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let before = written_then_crashed(dir.path(), 40);
    let segs = segments(dir.path());
    assert!(segs.len() >= 3, "need several segments, got {}", segs.len());
    let first = &segs[0];
    let mut data = std::fs::read(first).expect("read");
    let mid = data.len() / 2;
    data[mid] ^= 0xff;
    std::fs::write(first, &data).expect("write");
    let db = Db::open(dir.path(), opts()).expect("opens");
    let after = dump(&db);
    // The last commit lives in the last segment and is still there.
    let last_t = before[0].1.last().expect("samples").t;
    assert!(
        after
            .iter()
            .all(|(_, s)| s.last().is_some_and(|x| x.t == last_t))
    );
    for (l, samples) in &after {
        let orig = &before.iter().find(|(b, _)| b == l).expect("known series").1;
        assert!(
            samples.iter().all(|s| orig.iter().any(|o| o.bit_eq(s))),
            "no invented samples"
        );
    }
}

#[test]
fn unchanged_metadata_is_logged_once_and_the_last_value_wins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let wal_bytes = |d: &Path| -> u64 {
        segments(d)
            .iter()
            .map(|p| std::fs::metadata(p).expect("stat").len())
            .sum()
    };
    let meta = |help: &str| MetricMetadata {
        metric_type: MetricType::Gauge,
        help: help.into(),
        unit: String::new(),
    };
    let db = Db::open(dir.path(), opts()).expect("open");
    let commit = |m: &[MetricMetadata]| {
        let mut app = db.appender(&WriteIdentity::Anonymous);
        for x in m {
            app.update_metadata("g", x).expect("metadata");
        }
        app.commit().expect("commit");
    };
    commit(&[meta("old"), meta("first")]);
    let once = wal_bytes(dir.path());
    assert!(once > 0);
    commit(&[meta("first")]);
    assert_eq!(
        wal_bytes(dir.path()),
        once,
        "an unchanged value is not logged again"
    );
    commit(&[meta("second")]);
    assert!(wal_bytes(dir.path()) > once);
    drop(db);
    let db = Db::open(dir.path(), opts()).expect("reopen");
    let q = db.querier(0, 1).expect("querier");
    assert_eq!(q.metadata(Some("g"), 0)[0].1.help, "second");
}

/// A segment of the first, unversioned WAL format (no header, 24-byte samples entries):
/// a series record for id 1 and one sample.
fn first_format_segment() -> Vec<u8> {
    let mut out = Vec::new();
    let mut series = vec![1u8];
    series.extend_from_slice(&1u64.to_le_bytes());
    series.extend_from_slice(&1u32.to_le_bytes());
    for s in ["__name__", "old"] {
        series.extend_from_slice(&(s.len() as u32).to_le_bytes());
        series.extend_from_slice(s.as_bytes());
    }
    let mut samples = vec![2u8];
    samples.extend_from_slice(&1u64.to_le_bytes());
    samples.extend_from_slice(&1000i64.to_le_bytes());
    samples.extend_from_slice(&42f64.to_bits().to_le_bytes());
    for payload in [series, samples] {
        out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        out.extend_from_slice(&crc32c_of(&payload).to_le_bytes());
        out.extend_from_slice(&payload);
    }
    out
}

/// CRC-32C (Castagnoli), bitwise: the test does not depend on the crate's implementation.
fn crc32c_of(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82f6_3b78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn a_segment_of_the_first_format_is_refused_and_left_alone() {
    for position in ["only", "older", "last"] {
        let dir = tempfile::tempdir().expect("tempdir");
        if position != "only" {
            let db = Db::open(dir.path(), opts()).expect("open");
            write_commits(&db, 2);
            // Dropped, not closed: a close would checkpoint the WAL and delete its segments.
            drop(db);
        }
        let wal = dir.path().join("wal");
        std::fs::create_dir_all(&wal).expect("mkdir");
        let name = match position {
            "older" => "00000000",
            _ => "00000099",
        };
        if position == "older" {
            // Keep the new-format segment after the old one.
            std::fs::rename(wal.join("00000000"), wal.join("00000050")).expect("rename");
        }
        let old = first_format_segment();
        std::fs::write(wal.join(name), &old).expect("write");
        let err = match Db::open(dir.path(), opts()) {
            Ok(_) => panic!("{position}: an old-format segment was accepted"),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("version 1"), "{position}: {err}");
        assert!(err.contains(name), "{position}: {err}");
        // Neither truncated nor replaced: the data is still there for the right build.
        assert_eq!(std::fs::read(wal.join(name)).expect("read"), old);
    }
}
