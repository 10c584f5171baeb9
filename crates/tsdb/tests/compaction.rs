//! The database's life beyond the head: head compaction into blocks, WAL checkpoints,
//! block merges, retention by time and size, graceful restarts, and damaged blocks.

use std::path::Path;
use std::time::Duration;

use model::{Labels, Matcher, MetricMetadata, MetricType, Sample};
use storage::{Appendable, Queryable, SelectHints, StorageError, WriteIdentity};
use tsdb::{Db, FsyncPolicy, Options};

const HOUR: i64 = 3_600_000;

fn opts() -> Options {
    Options {
        fsync: FsyncPolicy::Interval(Duration::from_secs(60)),
        wal_segment_size: 64 << 10,
        maintenance_interval: None,
        ..Options::default()
    }
}

fn lbl(i: usize) -> Labels {
    Labels::from_pairs([
        ("__name__", "m".to_string()),
        ("i", i.to_string()),
        ("job", format!("j{}", i % 3)),
    ])
}

/// `series` series with a sample every `step` ms over `[from, to)`; values vary so no
/// encoding gets them for free.
fn write(db: &Db, series: usize, from: i64, to: i64, step: i64) {
    let mut t = from;
    while t < to {
        let mut app = db.appender(&WriteIdentity::Anonymous);
        for i in 0..series {
            let v = ((t / step) as f64 * 1.37 + i as f64).sqrt();
            app.append(&lbl(i), t, v).expect("append");
        }
        app.commit().expect("commit");
        t += step;
    }
}

fn dump(db: &Db, mint: i64, maxt: i64) -> Vec<(Labels, Vec<Sample>)> {
    let q = db.querier(mint, maxt).expect("querier");
    q.select(&SelectHints::default(), &[Matcher::equal("__name__", "m")])
        .expect("select")
        .into_iter()
        .map(|s| (s.labels, s.samples))
        .collect()
}

fn bits(d: &[(Labels, Vec<Sample>)]) -> Vec<(Labels, Vec<(i64, u64)>)> {
    d.iter()
        .map(|(l, s)| (l.clone(), s.iter().map(|x| (x.t, x.v.to_bits())).collect()))
        .collect()
}

/// One small block per half hour `k` of `halves`: a restart that writes it and closes
/// gracefully.
fn blocks_by_restarts(dir: &Path, halves: std::ops::Range<i64>) {
    for k in halves {
        let db = Db::open(dir, opts()).expect("open");
        write(&db, 5, k * 30 * 60_000, (k + 1) * 30 * 60_000, 60_000);
        db.close().expect("close");
    }
}

/// The directory of the oldest-named block under `dir`.
fn first_block(dir: &Path) -> std::path::PathBuf {
    std::fs::read_dir(dir.join("blocks"))
        .expect("blocks")
        .map(|e| e.expect("entry").path())
        .min()
        .expect("a block")
}

/// Flips the bits of `mask` in the byte in the middle of `file`.
fn flip_middle_byte(file: &Path, mask: u8) {
    let mut bytes = std::fs::read(file).expect("read");
    let at = bytes.len() / 2;
    bytes[at] ^= mask;
    std::fs::write(file, &bytes).expect("write");
}

fn wal_segments(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join("wal"))
        .expect("wal dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn head_compaction_writes_aligned_blocks_and_truncates_the_wal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(dir.path(), opts()).expect("open");
    // 6 hours at 1-minute resolution: the boundary half a range behind the newest
    // sample is 4h, so two blocks leave the head.
    write(&db, 30, 0, 6 * HOUR, 60_000);
    let before = bits(&dump(&db, i64::MIN, i64::MAX));
    let segments_before = wal_segments(dir.path()).len();
    let report = db.compact().expect("compact");
    assert_eq!(report.head_blocks, 2, "[0,2h) and [2h,4h) leave the head");
    assert!(report.checkpointed);
    let blocks = db.blocks();
    assert_eq!(blocks.len(), 2);
    assert_eq!((blocks[0].min_t, blocks[0].max_t), (0, 2 * HOUR - 60_000));
    assert_eq!(
        (blocks[1].min_t, blocks[1].max_t),
        (2 * HOUR, 4 * HOUR - 60_000)
    );
    assert_eq!(blocks[0].stats.series, 30);
    assert_eq!(blocks[0].stats.samples, 30 * 120);
    let st = db.stats();
    assert_eq!(st.min_time, Some(4 * HOUR));
    assert_eq!(st.samples, 30 * 120);
    // Same answers wherever the samples live, including ranges across the boundaries.
    assert_eq!(bits(&dump(&db, i64::MIN, i64::MAX)), before);
    let mid = dump(&db, 2 * HOUR - 120_000, 2 * HOUR + 60_000);
    assert!(mid.iter().all(|(_, s)| s.len() == 4), "{mid:?}");
    // The WAL now starts at a checkpoint.
    let wal = wal_segments(dir.path());
    assert!(wal.iter().any(|f| f.starts_with("checkpoint.")), "{wal:?}");
    assert!(
        wal.len() < segments_before + 1,
        "{wal:?} vs {segments_before} segments"
    );
    // A crash now (no close) replays the checkpoint and later segments only.
    write(&db, 30, 6 * HOUR, 6 * HOUR + 600_000, 60_000);
    let all = bits(&dump(&db, i64::MIN, i64::MAX));
    drop(db);
    let db = Db::open(dir.path(), opts()).expect("reopen");
    assert_eq!(bits(&dump(&db, i64::MIN, i64::MAX)), all);
    assert_eq!(db.blocks().len(), 2);
}

#[test]
fn a_head_compaction_that_cannot_write_blocks_keeps_every_sample() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(dir.path(), opts()).expect("open");
    write(&db, 30, 0, 6 * HOUR, 60_000);
    let before = bits(&dump(&db, i64::MIN, i64::MAX));
    let samples = db.stats().samples;
    // No block can be created: the blocks directory is a file now.
    let blocks = dir.path().join("blocks");
    std::fs::remove_dir(&blocks).expect("remove blocks dir");
    std::fs::write(&blocks, b"not a directory").expect("write file");
    assert!(db.compact().is_err(), "the block write fails");
    assert_eq!(bits(&dump(&db, i64::MIN, i64::MAX)), before);
    assert_eq!(db.stats().samples, samples);
    assert!(db.blocks().is_empty());
    // The samples are still judged in the head: a duplicate is accepted, a conflict not.
    let v = (1.37f64).sqrt();
    let mut app = db.appender(&WriteIdentity::Anonymous);
    app.append(&lbl(0), 60_000, v).expect("exact duplicate");
    assert!(matches!(
        app.append(&lbl(0), 60_000, v + 1.0),
        Err(StorageError::DuplicateSampleForTimestamp { .. })
    ));
    app.commit().expect("commit");
    // Writable again: the next compaction writes the blocks, nothing lost or doubled,
    // and a restart reads the same.
    std::fs::remove_file(&blocks).expect("remove file");
    std::fs::create_dir(&blocks).expect("blocks dir");
    let report = db.compact().expect("compact");
    assert_eq!(report.head_blocks, 2);
    assert_eq!(bits(&dump(&db, i64::MIN, i64::MAX)), before);
    db.close().expect("close");
    drop(db);
    let db = Db::open(dir.path(), opts()).expect("reopen");
    assert_eq!(bits(&dump(&db, i64::MIN, i64::MAX)), before);
}

#[test]
fn graceful_close_persists_the_head_and_restart_replays_no_samples() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(dir.path(), opts()).expect("open");
    write(&db, 10, 0, HOUR, 15_000);
    let mut app = db.appender(&WriteIdentity::Anonymous);
    let meta = MetricMetadata {
        metric_type: MetricType::Gauge,
        help: "a gauge".into(),
        unit: String::new(),
    };
    app.update_metadata("m", &meta).expect("metadata");
    app.commit().expect("commit");
    let before = bits(&dump(&db, i64::MIN, i64::MAX));
    db.close().expect("close");
    drop(db);
    let wal = wal_segments(dir.path());
    assert_eq!(wal.len(), 1, "only the checkpoint is left: {wal:?}");
    // Every series moved to the block, so the checkpoint holds only the metadata.
    let checkpoint = std::fs::metadata(dir.path().join("wal").join(&wal[0])).expect("stat");
    assert!(
        checkpoint.len() < 100,
        "checkpoint of {} bytes",
        checkpoint.len()
    );
    let db = Db::open(dir.path(), opts()).expect("reopen");
    assert_eq!(
        db.stats().samples,
        0,
        "nothing to replay: the head went to a block"
    );
    assert_eq!(db.blocks().len(), 1);
    assert_eq!(bits(&dump(&db, i64::MIN, i64::MAX)), before);
    let q = db.querier(0, HOUR).expect("querier");
    assert_eq!(q.metadata(Some("m"), 0), vec![("m".to_string(), meta)]);
    // The out-of-order window still counts from the newest sample, now in a block.
    let mut app = db.appender(&WriteIdentity::Anonymous);
    let far = app.append(&lbl(0), -2 * 24 * HOUR, 1.0);
    assert!(
        matches!(far, Err(StorageError::OutOfBounds { .. })),
        "{far:?}"
    );
    // Samples continue the series in the head; a late one lands in the block's window.
    app.append(&lbl(0), HOUR, 7.0).expect("append");
    app.append(&lbl(0), 7_500, 8.0).expect("late append");
    app.commit().expect("commit");
    let s = &dump(&db, 0, HOUR)[0].1;
    assert_eq!(s.len(), 240 + 2);
    assert_eq!(s[1], Sample::new(7_500, 8.0));
}

#[test]
fn blocks_of_one_window_merge_once_the_window_is_complete() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Three blocks inside the first 2-hour window.
    blocks_by_restarts(dir.path(), 0..3);
    let db = Db::open(dir.path(), opts()).expect("open");
    assert_eq!(db.blocks().len(), 3);
    let before = bits(&dump(&db, i64::MIN, i64::MAX));
    let r = db.compact().expect("compact");
    assert_eq!(r.merges, 0, "the window is not complete yet");
    // Data past 3 hours completes the first window: the head compaction cuts at 2h.
    write(&db, 5, 90 * 60_000, 3 * HOUR + 60_000, 60_000);
    let all = bits(&dump(&db, i64::MIN, i64::MAX));
    assert!(all.len() == before.len());
    let r = db.compact().expect("compact");
    assert_eq!(r.head_blocks, 1);
    assert_eq!(r.merges, 1, "{r:?}");
    let blocks = db.blocks();
    assert_eq!(blocks[0].level, 2);
    assert_eq!(blocks[0].sources.len(), 4, "{blocks:?}");
    assert_eq!((blocks[0].min_t, blocks[0].max_t), (0, 2 * HOUR - 60_000));
    assert_eq!(bits(&dump(&db, i64::MIN, i64::MAX)), all);
    // Source directories are gone.
    let dirs = std::fs::read_dir(dir.path().join("blocks"))
        .expect("blocks")
        .count();
    assert_eq!(dirs, blocks.len());
}

#[test]
fn a_merge_that_fails_on_a_damaged_block_does_not_stop_retention() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Three blocks inside the first 2-hour window.
    blocks_by_restarts(dir.path(), 0..3);
    // One of them is damaged, so merging the window fails.
    flip_middle_byte(&first_block(dir.path()).join("chunks"), 0x40);
    // A size limit no block fits: retention deletes them all, the damaged one too.
    let o = Options {
        retention_bytes: 1,
        ..opts()
    };
    let db = Db::open(dir.path(), o).expect("open");
    assert_eq!(db.blocks().len(), 3);
    // Data past 3 hours completes the window, so its merge is due.
    write(&db, 5, 90 * 60_000, 3 * HOUR + 60_000, 60_000);
    let err = db.compact().expect_err("the merge reads the damaged chunk");
    assert!(err.to_string().contains("chunks"), "{err}");
    assert!(db.blocks().is_empty(), "retention ran: {:?}", db.blocks());
    // Nothing left to merge: the next round succeeds.
    db.compact().expect("compact");
}

#[test]
fn a_damaged_block_stops_only_the_merge_of_its_own_window() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Three blocks in each of the first two windows, [0, 2h) and [2h, 4h).
    blocks_by_restarts(dir.path(), 0..3);
    blocks_by_restarts(dir.path(), 4..7);
    // The oldest block (ids sort by creation time) is damaged.
    flip_middle_byte(&first_block(dir.path()).join("chunks"), 0x40);
    let db = Db::open(dir.path(), opts()).expect("open");
    assert_eq!(db.blocks().len(), 6);
    // Data past 5 hours completes both windows (the head's [3.5h, 4h) joins the second).
    write(&db, 5, 210 * 60_000, 5 * HOUR + 60_000, 60_000);
    let err = db
        .compact()
        .expect_err("the first window's merge reads the damage");
    assert!(err.to_string().contains("chunks"), "{err}");
    let in_window = |k: i64| {
        db.blocks()
            .into_iter()
            .filter(|b| b.min_t >= k * 2 * HOUR && b.max_t < (k + 1) * 2 * HOUR)
            .collect::<Vec<_>>()
    };
    assert_eq!(in_window(0).len(), 3, "the damaged window stays as it was");
    let second = in_window(1);
    assert_eq!(
        second.len(),
        1,
        "the second window merged all the same: {second:?}"
    );
    assert_eq!(second[0].sources.len(), 4);
    // The damaged window is not retried on every round.
    let r = db.compact().expect("compact");
    assert_eq!(r.merges, 0);
}

#[test]
fn blocks_in_a_larger_window_merge_into_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(dir.path(), opts()).expect("open");
    // 8 hours: blocks [0,2h) [2h,4h) [4h,6h) after compaction, then the 6-hour window
    // [0,6h) is complete and its three blocks merge.
    write(&db, 8, 0, 8 * HOUR, 120_000);
    let all = bits(&dump(&db, i64::MIN, i64::MAX));
    let r = db.compact().expect("compact");
    assert_eq!(r.head_blocks, 3);
    assert_eq!(r.merges, 1, "{r:?}");
    let blocks = db.blocks();
    assert_eq!(blocks.len(), 1);
    assert_eq!(blocks[0].level, 2);
    assert_eq!(blocks[0].stats.samples, 8 * 180);
    assert_eq!(bits(&dump(&db, i64::MIN, i64::MAX)), all);
}

#[test]
fn retention_by_time_and_by_size_deletes_the_oldest_blocks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = Options {
        retention_ms: 5 * HOUR,
        block_range_ms: HOUR,
        ..opts()
    };
    let db = Db::open(dir.path(), o.clone()).expect("open");
    write(&db, 4, 0, 10 * HOUR, 300_000);
    db.compact().expect("compact");
    let blocks = db.blocks();
    // Newest sample at ~10h: blocks ending before ~5h are gone.
    assert!(
        blocks
            .iter()
            .all(|b| b.max_t >= 10 * HOUR - 300_000 - 5 * HOUR),
        "{blocks:?}"
    );
    assert!(!blocks.is_empty());
    let oldest = dump(&db, i64::MIN, i64::MAX)[0].1[0].t;
    assert!(oldest >= 4 * HOUR, "oldest sample {oldest}");
    db.close().expect("close");
    drop(db);

    // A size limit below what is stored deletes blocks oldest first until it fits.
    let total: u64 = dir_size(&dir.path().join("blocks"));
    let limit = total / 2;
    let o = Options {
        retention_bytes: limit,
        ..o
    };
    let db = Db::open(dir.path(), o).expect("reopen");
    let n_before = db.blocks().len();
    let r = db.compact().expect("compact");
    assert!(r.deleted > 0 && db.blocks().len() < n_before, "{r:?}");
    assert!(dir_size(&dir.path().join("blocks")) + dir_size(&dir.path().join("wal")) <= limit);
    let newest = db.blocks().last().map(|b| b.max_t);
    assert_eq!(newest, Some(10 * HOUR - 300_000), "the newest data is kept");
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(dir).expect("dir") {
        let e = e.expect("entry");
        let m = e.metadata().expect("metadata");
        total += if m.is_dir() {
            dir_size(&e.path())
        } else {
            m.len()
        };
    }
    total
}

#[test]
fn a_damaged_block_is_refused_loudly_never_served_wrong() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(dir.path(), opts()).expect("open");
    write(&db, 5, 0, HOUR, 60_000);
    db.close().expect("close");
    drop(db);
    let block = first_block(dir.path());

    // A flipped byte in the chunks file: the query that needs it fails with the file named.
    flip_middle_byte(&block.join("chunks"), 0x40);
    let db = Db::open(dir.path(), opts()).expect("open");
    let q = db.querier(i64::MIN, i64::MAX).expect("querier");
    let err = q
        .select(&SelectHints::default(), &[Matcher::equal("__name__", "m")])
        .expect_err("a damaged chunk is an error, not data");
    assert!(err.to_string().contains("chunks"), "{err}");
    db.close().expect("close");
    drop(db);

    // A flipped byte in the index: the block is moved aside at open, the rest is served.
    flip_middle_byte(&block.join("index"), 0x01);
    let db = Db::open(dir.path(), opts()).expect("open");
    assert!(db.blocks().is_empty());
    assert!(block.with_extension("corrupt").exists());
    assert!(dump(&db, i64::MIN, i64::MAX).is_empty());
}

#[test]
fn a_select_over_the_sample_budget_fails_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = Options {
        max_samples_per_select: 1000,
        ..opts()
    };
    let db = Db::open(dir.path(), o).expect("open");
    write(&db, 10, 0, 3 * HOUR, 60_000);
    db.persist_head_before(2 * HOUR).expect("persist");
    let q = db.querier(i64::MIN, i64::MAX).expect("querier");
    let err = q
        .select(&SelectHints::default(), &[Matcher::equal("__name__", "m")])
        .expect_err("1,800 samples are over a budget of 1,000");
    assert!(err.to_string().contains("too many samples"), "{err}");
    // A narrower select fits.
    let q = db.querier(0, 10 * 60_000).expect("querier");
    assert!(
        q.select(&SelectHints::default(), &[Matcher::equal("i", "1")])
            .is_ok()
    );
}

/// The checkpoint policy's floor in the tests below: 200,000 samples' worth of replay.
const MIN_TAIL: u64 = 200_000;

/// A checkpoint comes when the WAL past the last one holds more replay work than the
/// policy allows (here its floor, a series counting as 32 samples), also when part of that
/// tail was replayed after a crash; none comes while the tail is shorter.
#[test]
fn a_checkpoint_comes_when_the_wal_tail_holds_enough_replay_work() {
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = || Options {
        checkpoint_min_tail: MIN_TAIL,
        ..opts()
    };
    let db = Db::open(dir.path(), opts()).expect("open");
    // 1,000 series (32,000) and 160,000 samples: under the floor.
    write(&db, 1_000, 0, 160, 1);
    let report = db.compact().expect("compact");
    assert_eq!(report.head_blocks, 0);
    assert!(!report.checkpointed, "{report:?}");
    drop(db); // a crash: the tail is replayed and counted again at open
    let db = Db::open(dir.path(), opts()).expect("reopen");
    assert!(!db.compact().expect("compact").checkpointed);
    // 10,000 more: past it.
    write(&db, 1_000, 160, 170, 1);
    assert!(db.compact().expect("compact").checkpointed);
    let wal = wal_segments(dir.path());
    assert!(wal.iter().any(|f| f.starts_with("checkpoint.")), "{wal:?}");
    // The tail starts again from nothing.
    assert!(!db.compact().expect("compact").checkpointed);
    assert_eq!(db.stats().samples, 170_000);
}

/// Between maintenance rounds (here an hour apart) the background thread still writes a
/// checkpoint as soon as the WAL tail is due for one (10,000 new series count as 330,000
/// samples of replay work, past the floor).
#[test]
fn a_due_checkpoint_does_not_wait_for_the_next_maintenance_round() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(
        dir.path(),
        Options {
            maintenance_interval: Some(Duration::from_secs(3600)),
            checkpoint_min_tail: MIN_TAIL,
            ..opts()
        },
    )
    .expect("open");
    write(&db, 10_000, 0, 1, 1);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !wal_segments(dir.path())
        .iter()
        .any(|f| f.starts_with("checkpoint."))
    {
        assert!(
            std::time::Instant::now() < deadline,
            "no checkpoint within 60 s: {:?}",
            wal_segments(dir.path())
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        db.blocks().is_empty(),
        "a checkpoint alone, no head compaction"
    );
    db.close().expect("close");
}
