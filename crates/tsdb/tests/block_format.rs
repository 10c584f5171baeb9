//! The persisted block format: what is written is read back bit for bit, matchers select
//! what a naive filter selects, and any damage to a file is reported as corruption of
//! that file instead of being misread.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use model::{Labels, MatchOp, Matcher};
use tsdb::Error;
use tsdb::block::{
    Block, BlockMeta, BlockSeries, BlockWriter, ChunkInput, ENCODING_XOR, list_blocks,
    remove_leftovers,
};
use tsdb::chunk::{XorAppender, XorChunk};

/// A deterministic pseudo-random generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A real XOR chunk of `n` samples starting at `t0`.
fn xor_chunk(rng: &mut Rng, t0: i64, n: usize) -> XorChunk {
    let mut app = XorAppender::new();
    let mut t = t0;
    for _ in 0..n {
        let v = match rng.below(4) {
            0 => f64::from_bits(rng.next()),
            1 => rng.below(1000) as f64,
            2 => f64::NAN,
            _ => -0.0,
        };
        app.push(t, v).expect("increasing timestamps");
        t += 1 + rng.below(30_000) as i64;
    }
    app.finish()
}

/// Series to write: labels ascending, each with 1..=4 chunks of real XOR data.
fn random_series(rng: &mut Rng, count: usize) -> Vec<(Labels, Vec<XorChunk>)> {
    let mut labels = BTreeSet::new();
    while labels.len() < count {
        let mut pairs = vec![("__name__".to_string(), format!("m{}", rng.below(5)))];
        for name in ["job", "instance", "zone", "ünïcode"] {
            if rng.below(3) > 0 {
                pairs.push((name.to_string(), format!("v{}", rng.below(20))));
            }
        }
        labels.insert(Labels::from_pairs(pairs));
    }
    labels
        .into_iter()
        .map(|l| {
            let mut t = rng.below(1_000_000) as i64 - 500_000;
            let chunks = (0..1 + rng.below(4))
                .map(|_| {
                    let n = 1 + rng.below(150) as usize;
                    let c = xor_chunk(rng, t, n);
                    t = c.max_t() + 1 + rng.below(10) as i64;
                    c
                })
                .collect();
            (l, chunks)
        })
        .collect()
}

fn inputs(chunks: &[XorChunk]) -> Vec<ChunkInput<'_>> {
    chunks
        .iter()
        .map(|c| ChunkInput {
            encoding: ENCODING_XOR,
            min_t: c.min_t(),
            max_t: c.max_t(),
            samples: c.len() as u32,
            data: c.bytes(),
        })
        .collect()
}

fn write(parent: &Path, series: &[(Labels, Vec<XorChunk>)]) -> BlockMeta {
    let mut w = BlockWriter::create(parent, 1, Vec::new()).expect("create");
    for (l, c) in series {
        w.add_series(l, &inputs(c)).expect("add series");
    }
    w.finish().expect("finish").expect("a block with series")
}

/// A small block of real chunks; returns its directory.
fn small_block(parent: &Path, seed: u64, count: usize) -> (PathBuf, Vec<(Labels, Vec<XorChunk>)>) {
    let series = random_series(&mut Rng(seed), count);
    let meta = write(parent, &series);
    (parent.join(&meta.id), series)
}

fn assert_same(got: &BlockSeries, want: &(Labels, Vec<XorChunk>), block: &Block) {
    assert_eq!(got.labels, want.0);
    assert_eq!(got.chunks.len(), want.1.len(), "{}", want.0);
    for (m, c) in got.chunks.iter().zip(&want.1) {
        assert_eq!(
            (m.min_t, m.max_t, m.samples as usize),
            (c.min_t(), c.max_t(), c.len())
        );
        let (enc, data) = block.chunk(m).expect("chunk");
        assert_eq!(enc, ENCODING_XOR);
        assert_eq!(data, c.bytes());
        let back = XorChunk::from_bytes(data.to_vec()).expect("decodes");
        let a: Vec<_> = back.iter().map(|s| s.expect("sample")).collect();
        let b: Vec<_> = c.iter().map(|s| s.expect("sample")).collect();
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!((x.t, x.v.to_bits()), (y.t, y.v.to_bits()));
        }
    }
}

fn is_corrupt_in(err: &Error, file: &str) -> bool {
    matches!(err, Error::Corrupt { path, .. } if path.file_name().is_some_and(|n| n == file))
}

#[test]
fn round_trip_bit_for_bit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, series) = small_block(dir.path(), 42, 300);
    let block = Block::open(&path).expect("open");
    let meta = block.meta();
    assert_eq!(meta.stats.series, series.len() as u64);
    let chunks: usize = series.iter().map(|s| s.1.len()).sum();
    let samples: usize = series.iter().flat_map(|s| &s.1).map(XorChunk::len).sum();
    assert_eq!(meta.stats.chunks, chunks as u64);
    assert_eq!(meta.stats.samples, samples as u64);
    assert_eq!(meta.level, 1);
    assert_eq!(meta.sources, vec![meta.id.clone()]);
    let min_t = series.iter().map(|s| s.1[0].min_t()).min();
    let max_t = series
        .iter()
        .map(|s| s.1.last().expect("chunk").max_t())
        .max();
    assert_eq!((Some(meta.min_t), Some(meta.max_t)), (min_t, max_t));
    assert_eq!(block.dir(), path);

    let all: Vec<BlockSeries> = block.series_iter().collect::<Result<_, _>>().expect("iter");
    assert_eq!(all.len(), series.len());
    for (got, want) in all.iter().zip(&series) {
        assert_same(got, want, &block);
    }
    assert_eq!(block.select(&[]).expect("select all"), all);

    let mut values: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (l, _) in &series {
        for label in l.iter() {
            values
                .entry(label.name.to_string())
                .or_default()
                .insert(label.value.to_string());
        }
    }
    assert_eq!(
        block.label_names(),
        values.keys().cloned().collect::<Vec<_>>()
    );
    for (name, vals) in &values {
        assert_eq!(
            block.label_values(name),
            vals.iter().cloned().collect::<Vec<_>>()
        );
    }
    assert!(block.label_values("nope").is_empty());

    let files: u64 = ["meta.json", "index", "chunks"]
        .iter()
        .map(|f| fs::metadata(path.join(f)).expect("stat").len())
        .sum();
    assert_eq!(block.size_bytes(), files);
    assert_eq!(list_blocks(dir.path()).expect("list"), vec![path]);
}

#[test]
fn select_follows_the_heads_matcher_semantics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rows: [&[(&str, &str)]; 4] = [
        &[("__name__", "up"), ("job", "a")],
        &[("__name__", "up"), ("job", "b"), ("env", "prod")],
        &[("__name__", "up"), ("job", "c")],
        &[("__name__", "down"), ("env", "dev")],
    ];
    let mut rng = Rng(7);
    let mut series: Vec<(Labels, Vec<XorChunk>)> = rows
        .iter()
        .map(|r| {
            (
                Labels::from_pairs(r.iter().copied()),
                vec![xor_chunk(&mut rng, 0, 3)],
            )
        })
        .collect();
    series.sort_by(|a, b| a.0.cmp(&b.0));
    let block = Block::open(&dir.path().join(write(dir.path(), &series).id)).expect("open");
    let m = |op, n: &str, v: &str| Matcher::new(op, n, v).expect("matcher");
    let sel = |ms: &[Matcher]| -> Vec<String> {
        block
            .select(ms)
            .expect("select")
            .iter()
            .map(|s| s.labels.to_string())
            .collect()
    };
    let names = |want: &[usize]| -> Vec<String> {
        let mut v: Vec<Labels> = want
            .iter()
            .map(|&i| Labels::from_pairs(rows[i].iter().copied()))
            .collect();
        v.sort();
        v.iter().map(ToString::to_string).collect()
    };
    assert_eq!(
        sel(&[m(MatchOp::Equal, "__name__", "up")]),
        names(&[0, 1, 2])
    );
    assert_eq!(sel(&[m(MatchOp::Regex, "job", "a|c")]), names(&[0, 2]));
    assert_eq!(sel(&[m(MatchOp::Regex, "job", "[ab]")]), names(&[0, 1]));
    assert_eq!(sel(&[m(MatchOp::Equal, "env", "")]), names(&[0, 2]));
    assert_eq!(sel(&[m(MatchOp::NotEqual, "env", "")]), names(&[1, 3]));
    assert_eq!(sel(&[m(MatchOp::NotRegex, "env", ".+")]), names(&[0, 2]));
    assert_eq!(sel(&[m(MatchOp::Regex, "env", "prod|")]), names(&[0, 1, 2]));
    assert_eq!(
        sel(&[m(MatchOp::NotEqual, "env", "prod")]),
        names(&[0, 2, 3])
    );
    assert_eq!(
        sel(&[m(MatchOp::Regex, "nope", ".*")]),
        names(&[0, 1, 2, 3])
    );
    assert!(sel(&[m(MatchOp::Regex, "nope", ".+")]).is_empty());
    assert!(sel(&[m(MatchOp::Equal, "job", "zzz")]).is_empty());
    assert_eq!(
        sel(&[
            m(MatchOp::Equal, "__name__", "up"),
            m(MatchOp::NotEqual, "job", "a")
        ]),
        names(&[1, 2])
    );
}

mod prop {
    use proptest::prelude::*;

    use super::*;

    const NAMES: [&str; 3] = ["__name__", "a", "b"];
    const VALUES: [&str; 4] = ["", "x", "y", "xy"];
    const PATTERNS: [&str; 9] = ["", "x", "y", "x|y", "y|", ".*", ".+", "x.*", "(x|xy)"];

    fn matcher() -> impl Strategy<Value = Matcher> {
        (0..4usize, 0..NAMES.len() + 1, 0..PATTERNS.len()).prop_map(|(op, n, p)| {
            let op = [
                MatchOp::Equal,
                MatchOp::NotEqual,
                MatchOp::Regex,
                MatchOp::NotRegex,
            ][op];
            // One name no series has, to cover absent labels.
            let name = NAMES.get(n).copied().unwrap_or("absent");
            Matcher::new(op, name, PATTERNS[p]).expect("valid pattern")
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// `select` gives what filtering every written series with `Matcher::matches`
        /// (a missing label read as "") gives, in label order, chunks intact.
        #[test]
        fn select_equals_naive_filter(
            rows in proptest::collection::vec(proptest::collection::vec(0..VALUES.len(), NAMES.len()), 1..24),
            matchers in proptest::collection::vec(matcher(), 0..4),
            seed in 1u64..u64::MAX,
        ) {
            let mut rng = Rng(seed);
            let labels: BTreeSet<Labels> = rows
                .iter()
                .map(|r| Labels::from_pairs(r.iter().enumerate().map(|(n, v)| (NAMES[n], VALUES[*v]))))
                .collect();
            let series: Vec<(Labels, Vec<XorChunk>)> = labels
                .into_iter()
                .map(|l| {
                    let (t0, n) = (rng.below(100) as i64, 1 + rng.below(5) as usize);
                    let c = xor_chunk(&mut rng, t0, n);
                    (l, vec![c])
                })
                .collect();
            let dir = tempfile::tempdir().expect("tempdir");
            let meta = write(dir.path(), &series);
            let block = Block::open(&dir.path().join(&meta.id)).expect("open");
            let want: Vec<&(Labels, Vec<XorChunk>)> = series
                .iter()
                .filter(|(l, _)| matchers.iter().all(|m| m.matches(l.get_or_empty(&m.name))))
                .collect();
            let got = block.select(&matchers).expect("select");
            prop_assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(want) {
                assert_same(g, w, &block);
            }
        }
    }
}

#[test]
fn every_flipped_byte_of_the_index_is_caught_at_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, _) = small_block(dir.path(), 3, 20);
    let index = path.join("index");
    let good = fs::read(&index).expect("read index");
    assert!(good.len() > 200, "a realistic index: {} bytes", good.len());
    for i in 0..good.len() {
        for flip in [0x01, 0xff] {
            let mut bad = good.clone();
            bad[i] ^= flip;
            fs::write(&index, &bad).expect("write");
            match Block::open(&path) {
                Err(e) if is_corrupt_in(&e, "index") => {}
                Err(e) => panic!("byte {i} ^ {flip:#x}: not an index corruption: {e}"),
                Ok(_) => panic!("byte {i} ^ {flip:#x}: opened a damaged index"),
            }
        }
    }
    fs::write(&index, &good).expect("write");
    Block::open(&path).expect("open the restored index");
}

#[test]
fn a_flipped_byte_in_chunks_fails_only_the_affected_chunk() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, _) = small_block(dir.path(), 5, 10);
    let chunks = path.join("chunks");
    let good = fs::read(&chunks).expect("read chunks");
    let metas: Vec<_> = {
        let block = Block::open(&path).expect("open");
        block
            .series_iter()
            .flat_map(|s| s.expect("series").chunks)
            .collect()
    };
    // Each chunk's entry spans from its offset to the next one's (or the file's end).
    let mut starts: Vec<u64> = metas.iter().map(|m| m.offset).collect();
    starts.push(good.len() as u64);
    let step = (good.len() / 2000).max(1);
    for i in (0..good.len()).step_by(step) {
        let mut bad = good.clone();
        bad[i] ^= 0x20;
        fs::write(&chunks, &bad).expect("write");
        let block = match Block::open(&path) {
            Ok(b) => b,
            Err(e) => {
                assert!(i < 8 && is_corrupt_in(&e, "chunks"), "byte {i}: {e}");
                continue;
            }
        };
        assert!(i >= 8, "header byte {i} flipped but the block opened");
        for (k, m) in metas.iter().enumerate() {
            let hit = (starts[k]..starts[k + 1]).contains(&(i as u64));
            match block.chunk(m) {
                Err(Error::Corrupt { path, offset, .. }) if hit => {
                    assert!(path.ends_with("chunks"));
                    assert_eq!(offset, m.offset);
                }
                Ok(_) if !hit => {}
                Err(e) => panic!("byte {i}, chunk {k} (hit: {hit}): {e}"),
                Ok(_) => panic!("byte {i}: damaged chunk {k} read without error"),
            }
        }
    }
}

#[test]
fn truncated_files_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, _) = small_block(dir.path(), 9, 10);
    for file in ["index", "chunks"] {
        let p = path.join(file);
        let good = fs::read(&p).expect("read");
        for len in [0, 1, 7, 8, 9, good.len() / 2, good.len() - 1] {
            fs::write(&p, &good[..len]).expect("write");
            let err = Block::open(&path).err().expect("truncated file refused");
            assert!(is_corrupt_in(&err, file), "{file} cut to {len}: {err}");
        }
        // Extended, too: the index records the chunks file's length.
        let mut longer = good.clone();
        longer.push(0);
        fs::write(&p, &longer).expect("write");
        let err = Block::open(&path).err().expect("extended file refused");
        assert!(is_corrupt_in(&err, file), "{file} extended: {err}");
        fs::write(&p, &good).expect("restore");
    }
    Block::open(&path).expect("restored");
}

#[test]
fn bad_meta_json_is_reported_naming_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, _) = small_block(dir.path(), 11, 3);
    let meta = path.join("meta.json");
    let good = fs::read_to_string(&meta).expect("read");
    for bad in ["", "{", "garbage", "[]", "{\"version\": 1}"] {
        fs::write(&meta, bad).expect("write");
        let err = Block::open(&path).err().expect("garbage refused");
        assert!(is_corrupt_in(&err, "meta.json"), "{bad:?}: {err}");
        assert!(err.to_string().contains("meta.json"), "{err}");
    }
    fs::write(&meta, good.replace("\"version\": 1", "\"version\": 7")).expect("write");
    let err = Block::open(&path).err().expect("version 7 refused");
    assert!(
        err.to_string().contains("version 7 is not supported"),
        "{err}"
    );
    fs::remove_file(&meta).expect("remove");
    assert!(matches!(Block::open(&path), Err(Error::Io { .. })));
}

#[test]
fn leftovers_are_removed_and_not_listed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing");
    assert!(list_blocks(&missing).expect("list").is_empty());
    remove_leftovers(&missing).expect("nothing to remove");

    let (a, _) = small_block(dir.path(), 1, 2);
    let (b, _) = small_block(dir.path(), 2, 2);
    let tmp = dir.path().join("01ARZ3NDEKTSV4RRFFQ69G5FAV.tmp");
    fs::create_dir(&tmp).expect("mkdir");
    fs::write(tmp.join("meta.json"), "{}").expect("write");
    fs::create_dir(dir.path().join("no-meta")).expect("mkdir");
    fs::write(dir.path().join("stray-file"), "x").expect("write");
    assert_eq!(
        list_blocks(dir.path()).expect("list"),
        vec![a.clone(), b.clone()]
    );
    assert!(a < b, "ids sort by creation");

    remove_leftovers(dir.path()).expect("remove");
    assert!(!tmp.exists());
    assert!(a.exists() && b.exists() && dir.path().join("no-meta").exists());

    // An abandoned writer cleans up after itself.
    let mut w = BlockWriter::create(dir.path(), 1, Vec::new()).expect("create");
    let id = w.id().to_string();
    let c = xor_chunk(&mut Rng(1), 0, 2);
    w.add_series(
        &Labels::from_pairs([("a", "b")]),
        &inputs(std::slice::from_ref(&c)),
    )
    .expect("add");
    assert!(dir.path().join(format!("{id}.tmp")).exists());
    drop(w);
    assert!(!dir.path().join(format!("{id}.tmp")).exists());
}

#[test]
fn finishing_an_empty_writer_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let parent = dir.path().join("blocks");
    let w = BlockWriter::create(&parent, 1, Vec::new()).expect("create");
    assert_eq!(w.id().len(), 26);
    assert!(w.finish().expect("finish").is_none());
    assert_eq!(fs::read_dir(&parent).expect("read dir").count(), 0);
}

#[test]
fn writer_refuses_what_the_format_cannot_hold() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut rng = Rng(3);
    let c1 = xor_chunk(&mut rng, 0, 10);
    let c2 = xor_chunk(&mut rng, c1.max_t() + 1, 10);
    let both = [c1.clone(), c2.clone()];
    let mut w = BlockWriter::create(dir.path(), 2, vec!["x".into(), "y".into()]).expect("create");
    let b = Labels::from_pairs([("job", "b")]);
    let a = Labels::from_pairs([("job", "a")]);
    w.add_series(&b, &inputs(&both)).expect("first series");
    let refused = |r: Result<(), Error>, what: &str| {
        let e = r.expect_err(what);
        assert!(matches!(e, Error::BlockWrite { .. }), "{what}: {e}");
        e.to_string()
    };
    let msg = refused(w.add_series(&a, &inputs(&both)), "out of order");
    assert!(msg.contains("job=\"a\""), "names the series: {msg}");
    refused(w.add_series(&b, &inputs(&both)), "duplicate");
    let c = Labels::from_pairs([("job", "c")]);
    refused(w.add_series(&c, &[]), "no chunks");
    refused(
        w.add_series(&c, &inputs(&[c2.clone(), c1.clone()])),
        "unsorted",
    );
    refused(
        w.add_series(&c, &inputs(&[c1.clone(), c1.clone()])),
        "overlapping",
    );
    // Refusals leave the writer usable.
    w.add_series(&c, &inputs(std::slice::from_ref(&c1)))
        .expect("valid series");
    let meta = w.finish().expect("finish").expect("block");
    assert_eq!(
        (meta.level, meta.sources.clone()),
        (2, vec!["x".to_string(), "y".to_string()])
    );
    let block = Block::open(&dir.path().join(&meta.id)).expect("open");
    let got: Vec<Labels> = block
        .series_iter()
        .map(|s| s.expect("series").labels)
        .collect();
    assert_eq!(got, vec![b, c]);
    assert!(BlockWriter::create(dir.path(), 0, Vec::new()).is_err());
}

/// Damage that keeps every checksum valid (a flipped byte whose section CRC is then
/// recomputed, as a buggy writer would produce) never makes the reader panic: every
/// call returns data or an error.
#[test]
fn damage_behind_valid_checksums_never_panics() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (path, _) = small_block(dir.path(), 13, 12);
    let index = path.join("index");
    let good = fs::read(&index).expect("read index");
    let toc = good.len() - 76;
    let u64_at =
        |b: &[u8], i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("8 bytes")) as usize;
    let sections: Vec<(usize, usize)> = (0..4)
        .map(|s| (u64_at(&good, toc + 16 * s), u64_at(&good, toc + 16 * s + 8)))
        .collect();
    let matchers = [
        Matcher::equal("__name__", "m1"),
        Matcher::new(MatchOp::Regex, "job", "v1.*").expect("matcher"),
        Matcher::new(MatchOp::NotEqual, "zone", "v3").expect("matcher"),
    ];
    let mut opened = 0;
    for &(off, len) in &sections {
        for i in off..off + len {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut bad = good.clone();
                bad[i] ^= flip;
                let crc = crc32c::crc32c(&bad[off..off + len]);
                bad[off + len..off + len + 4].copy_from_slice(&crc.to_le_bytes());
                fs::write(&index, &bad).expect("write");
                let Ok(block) = Block::open(&path) else {
                    continue;
                };
                opened += 1;
                let _ = block.label_names();
                for name in ["__name__", "job", "zone"] {
                    let _ = block.label_values(name);
                }
                for s in block.series_iter().flatten() {
                    for c in &s.chunks {
                        let _ = block.chunk(c);
                    }
                }
                let _ = block.select(&[]);
                for m in &matchers {
                    let _ = block.select(std::slice::from_ref(m));
                }
                let _ = block.select(&matchers);
            }
        }
    }
    assert!(
        opened > 0,
        "some damage passes the open checks and is exercised"
    );
}
