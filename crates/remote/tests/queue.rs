//! Behaviour of the on-disk queue: order, restart, cursor, bound, torn tails.

use std::fs::OpenOptions;
use std::io::Write;

use remote::{DiskQueue, QueueOptions};

fn opts(max_bytes: u64, segment_bytes: u64) -> QueueOptions {
    QueueOptions {
        max_bytes,
        segment_bytes,
        fsync_interval: std::time::Duration::from_secs(1),
    }
}

fn payloads(q: &DiskQueue) -> Vec<Vec<u8>> {
    q.read(usize::MAX, usize::MAX)
        .expect("read")
        .into_iter()
        .map(|r| r.payload)
        .collect()
}

#[test]
fn append_then_read_in_order_across_segments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let q = DiskQueue::open(dir.path(), opts(1 << 20, 64)).expect("open");
    for i in 0..20u8 {
        q.append(&[i; 30], 1).expect("append");
    }
    assert!(q.stats().segments > 5);
    let got = payloads(&q);
    assert_eq!(got.len(), 20);
    for (i, p) in got.iter().enumerate() {
        assert_eq!(p, &vec![i as u8; 30]);
    }
    assert!(q.is_drained());
    assert!(payloads(&q).is_empty());
}

#[test]
fn reopen_resumes_at_acknowledged_cursor() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let q = DiskQueue::open(dir.path(), opts(1 << 20, 100)).expect("open");
        for i in 0..10u8 {
            q.append(&[i; 20], 2).expect("append");
        }
        let recs = q.read(4, usize::MAX).expect("read");
        assert_eq!(recs.len(), 4);
        // Only the first three are acknowledged; the fourth was in flight at the crash.
        q.ack(recs[2].end).expect("ack");
    }
    let q = DiskQueue::open(dir.path(), opts(1 << 20, 100)).expect("reopen");
    let got = payloads(&q);
    assert_eq!(got.len(), 7);
    assert_eq!(got[0], vec![3u8; 20]);
    assert_eq!(got[6], vec![9u8; 20]);
    // Appends after the restart come after the old data.
    q.append(b"new", 1).expect("append");
    assert_eq!(payloads(&q), vec![b"new".to_vec()]);
}

#[test]
fn ack_deletes_consumed_segments_and_rewind_rereads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let q = DiskQueue::open(dir.path(), opts(1 << 20, 64)).expect("open");
    for i in 0..10u8 {
        q.append(&[i; 30], 1).expect("append");
    }
    let before = q.stats().segments;
    let recs = q.read(usize::MAX, usize::MAX).expect("read");
    q.ack(recs[7].end).expect("ack");
    assert!(q.stats().segments < before);
    q.rewind();
    let again = payloads(&q);
    assert_eq!(again, vec![vec![8u8; 30], vec![9u8; 30]]);
}

#[test]
fn full_queue_drops_oldest_and_counts_samples() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Each record is 12 + 100 bytes; segments hold 2 records; the bound holds ~4 segments.
    let q = DiskQueue::open(dir.path(), opts(1000, 8 + 2 * 112)).expect("open");
    for i in 0..40u8 {
        q.append(&[i; 100], 5).expect("append");
    }
    let st = q.stats();
    assert!(st.bytes <= 1000, "{st:?}");
    let left = payloads(&q);
    assert!(!left.is_empty());
    // Whatever is left is the newest data, in order, and everything else was counted.
    assert_eq!(left.last().expect("last"), &vec![39u8; 100]);
    let first = left[0][0] as usize;
    assert_eq!(left.len(), 40 - first);
    assert_eq!(st.dropped_records as usize, first);
    assert_eq!(st.dropped_samples as usize, first * 5);
}

#[test]
fn records_already_taken_are_not_counted_as_dropped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let q = DiskQueue::open(dir.path(), opts(1000, 8 + 2 * 112)).expect("open");
    for i in 0..4u8 {
        q.append(&[i; 100], 5).expect("append");
    }
    assert_eq!(q.read(usize::MAX, usize::MAX).expect("read").len(), 4);
    for i in 4..40u8 {
        q.append(&[i; 100], 5).expect("append");
    }
    let left = payloads(&q).len() as u64;
    assert_eq!(q.stats().dropped_records, 36 - left);
}

#[test]
fn torn_tail_is_truncated_on_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let q = DiskQueue::open(dir.path(), opts(1 << 20, 1 << 20)).expect("open");
        q.append(b"one", 1).expect("append");
        q.append(b"two", 1).expect("append");
    }
    let seg = std::fs::read_dir(dir.path())
        .expect("ls")
        .map(|e| e.expect("entry").path())
        .find(|p| p.extension().is_some_and(|e| e == "seg"))
        .expect("segment");
    let whole = std::fs::metadata(&seg).expect("stat").len();
    // Half a record: a header promising 50 bytes and only 5 of them.
    let mut f = OpenOptions::new()
        .append(true)
        .open(&seg)
        .expect("open seg");
    f.write_all(&50u32.to_le_bytes()).expect("w");
    f.write_all(&[0u8; 13]).expect("w");
    drop(f);
    let q = DiskQueue::open(dir.path(), opts(1 << 20, 1 << 20)).expect("reopen");
    assert_eq!(std::fs::metadata(&seg).expect("stat").len(), whole);
    q.append(b"three", 1).expect("append");
    assert_eq!(
        payloads(&q),
        vec![b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]
    );
}

#[test]
fn corrupt_cursor_falls_back_to_oldest() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let q = DiskQueue::open(dir.path(), opts(1 << 20, 1 << 20)).expect("open");
        q.append(b"a", 1).expect("append");
        q.append(b"b", 1).expect("append");
        let r = q.read(1, usize::MAX).expect("read");
        q.ack(r[0].end).expect("ack");
    }
    std::fs::write(dir.path().join("cursor"), b"garbage").expect("write");
    let q = DiskQueue::open(dir.path(), opts(1 << 20, 1 << 20)).expect("reopen");
    assert_eq!(payloads(&q), vec![b"a".to_vec(), b"b".to_vec()]);
}

#[test]
fn oversized_record_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let q = DiskQueue::open(dir.path(), opts(100, 4096)).expect("open");
    let e = q.append(&[0u8; 200], 1).expect_err("too large");
    assert!(e.to_string().contains("exceeds"), "{e}");
}

#[test]
fn cursor_file_trails_acks_but_never_loses_data_and_sync_catches_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let q = DiskQueue::open(dir.path(), opts(1 << 20, 1 << 20)).expect("open");
        for i in 0..10u8 {
            q.append(&[i; 8], 1).expect("append");
        }
        let recs = q.read(usize::MAX, usize::MAX).expect("read");
        q.ack(recs[2].end).expect("ack 3");
        q.ack(recs[5].end).expect("ack 6");
        // Dropped without sync, as after kill -9: the file may trail the acks, so a
        // restart resends some acknowledged records, but never skips unacknowledged ones.
    }
    {
        let q = DiskQueue::open(dir.path(), opts(1 << 20, 1 << 20)).expect("reopen");
        let got = payloads(&q);
        assert!(
            got.len() >= 4,
            "unacknowledged records lost: {} left",
            got.len()
        );
        assert_eq!(got.last(), Some(&vec![9u8; 8]));
        q.rewind();
        let recs = q.read(usize::MAX, usize::MAX).expect("read");
        let last = recs.last().expect("records").end;
        q.ack(last).expect("ack all");
        q.sync().expect("sync");
    }
    let q = DiskQueue::open(dir.path(), opts(1 << 20, 1 << 20)).expect("reopen");
    assert!(payloads(&q).is_empty(), "sync must persist the cursor");
}
