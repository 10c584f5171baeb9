//! The `index` file: layout constants shared with the writer, and the reader.
//!
//! ```text
//! header    "FWIX", version u32 LE
//! symbols   sorted unique strings               + CRC-32C
//! series    one entry per series, label order   + CRC-32C
//! postings  one list per (name, value) pair     + CRC-32C
//! labels    name -> values -> postings offsets  + CRC-32C
//! toc       4 × (offset u64, len u64), chunks file length u64, CRC-32C
//! ```
//!
//! Sections follow each other with no gap, so every byte is covered by the header check
//! or a CRC. At open all CRCs are verified and the symbol offsets and the label table are
//! loaded (small: one entry per string and per label pair); series entries and postings
//! lists stay in the map and are decoded on demand.

use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};

use memmap2::Mmap;
use model::{Label, Labels};

use super::encoding::Decoder;
use super::{BlockSeries, ChunkMeta};
use crate::Error;

/// Name of the file inside a block directory.
pub(crate) const FILE: &str = "index";

/// First four bytes of the file.
pub(crate) const MAGIC: [u8; 4] = *b"FWIX";

/// Format version, u32 little-endian after the magic.
pub(crate) const VERSION: u32 = 1;

/// Bytes of magic and version.
pub(crate) const HEADER_LEN: u64 = 8;

/// Sections, in file order.
pub(crate) const SECTIONS: [&str; 4] = ["symbols", "series", "postings", "labels"];

/// Table of contents: (offset, length) per section, the chunks file length, its CRC.
pub(crate) const TOC_LEN: u64 = SECTIONS.len() as u64 * 16 + 8 + 4;

/// One label name of the label table: its values (symbol refs, ascending, hence sorted
/// as strings) and where each value's postings list starts in the postings section.
struct LabelName {
    name: u32,
    values: Vec<u32>,
    postings: Vec<u64>,
}

/// A mapped, verified index file.
pub(crate) struct Index {
    path: PathBuf,
    map: Mmap,
    symbols: Range<usize>,
    // Start of each symbol (its length varint) relative to `symbols.start`; u32 because
    // the writer keeps the symbols section under 4 GiB.
    sym_offsets: Vec<u32>,
    series: Range<usize>,
    postings: Range<usize>,
    names: Vec<LabelName>,
    chunks_len: u64,
}

/// Maps `path` (refusing an empty file, which cannot be mapped).
pub(crate) fn map(path: &Path) -> Result<Mmap, Error> {
    let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
    let len = file
        .metadata()
        .map_err(|e| Error::io("stat", path, e))?
        .len();
    if len == 0 {
        return Err(Error::corrupt(path, 0, "empty file"));
    }
    // SAFETY: block files are written once under `<id>.tmp`, fsynced, and renamed into
    // place; nothing writes to or truncates them afterwards, so the mapped bytes never
    // change under us. Deleting a block unlinks the files, which on Linux keeps the pages
    // of an existing mapping valid until it is dropped.
    unsafe { Mmap::map(&file) }.map_err(|e| Error::io("mmap", path, e))
}

impl Index {
    /// Maps and verifies the index at `path`.
    pub(crate) fn open(path: &Path) -> Result<Index, Error> {
        let map = map(path)?;
        let file: &[u8] = &map;
        let len = file.len() as u64;
        let corrupt = |offset: u64, reason: String| Error::corrupt(path, offset, reason);
        if len < HEADER_LEN + TOC_LEN {
            return Err(corrupt(
                0,
                format!("{len} bytes: truncated (no room for header and table of contents)"),
            ));
        }
        if file[..4] != MAGIC {
            return Err(corrupt(0, "not an index file (bad magic)".into()));
        }
        let mut d = Decoder::new(&file[4..8], 4, path);
        let version = d.u32_le()?;
        if version != VERSION {
            return Err(corrupt(
                4,
                format!(
                    "index format version {version} is not supported (this build reads {VERSION})"
                ),
            ));
        }

        // The table of contents, checked before any offset in it is trusted.
        let toc_at = len - TOC_LEN;
        let toc = &file[toc_at as usize..];
        let body = &toc[..toc.len() - 4];
        let mut d = Decoder::new(&toc[toc.len() - 4..], len - 4, path);
        let stored = d.u32_le()?;
        if crc32c::crc32c(body) != stored {
            return Err(corrupt(
                toc_at,
                "table of contents checksum mismatch (damaged or truncated file)".into(),
            ));
        }
        let mut d = Decoder::new(body, toc_at, path);
        let mut ranges: Vec<Range<usize>> = Vec::with_capacity(SECTIONS.len());
        let mut expect = HEADER_LEN;
        for name in SECTIONS {
            let off = d.u64_le()?;
            let slen = d.u64_le()?;
            // Contiguous sections: no byte of the file escapes a checksum.
            let end = off.checked_add(slen).and_then(|e| e.checked_add(4));
            match end {
                Some(end) if off == expect && end <= toc_at => {
                    ranges.push(off as usize..(off + slen) as usize);
                    expect = end;
                }
                _ => {
                    return Err(corrupt(
                        toc_at,
                        format!(
                            "{name} section at {off} (+{slen}) is not where it must be ({expect})"
                        ),
                    ));
                }
            }
        }
        if expect != toc_at {
            return Err(corrupt(
                toc_at,
                format!(
                    "{} unaccounted bytes before the table of contents",
                    toc_at - expect
                ),
            ));
        }
        let chunks_len = d.u64_le()?;

        for (name, r) in SECTIONS.iter().zip(&ranges) {
            let mut d = Decoder::new(&file[r.end..r.end + 4], r.end as u64, path);
            let stored = d.u32_le()?;
            let crc = crc32c::crc32c(&file[r.clone()]);
            if crc != stored {
                return Err(corrupt(
                    r.start as u64,
                    format!(
                        "{name} section checksum mismatch (stored {stored:#010x}, computed {crc:#010x})"
                    ),
                ));
            }
        }
        let [symbols, series, postings, labels] = <[Range<usize>; 4]>::try_from(ranges)
            .map_err(|_| corrupt(toc_at, "table of contents incomplete".into()))?;

        let sym_offsets = read_symbols(path, &file[symbols.clone()], symbols.start as u64)?;
        let names = read_labels(
            path,
            &file[labels.clone()],
            labels.start as u64,
            sym_offsets.len(),
            postings.len() as u64,
        )?;
        Ok(Index {
            path: path.to_path_buf(),
            map,
            symbols,
            sym_offsets,
            series,
            postings,
            names,
            chunks_len,
        })
    }

    /// Length the chunks file must have.
    pub(crate) fn chunks_len(&self) -> u64 {
        self.chunks_len
    }

    /// Bytes of the index file.
    pub(crate) fn file_len(&self) -> u64 {
        self.map.len() as u64
    }

    /// Symbol `r`'s bytes (valid UTF-8: checked at open).
    fn symbol_bytes(&self, r: u32) -> Result<&[u8], Error> {
        let Some(&rel) = self.sym_offsets.get(r as usize) else {
            return Err(Error::corrupt(
                &self.path,
                self.symbols.start as u64,
                format!(
                    "symbol {r} out of range ({} symbols)",
                    self.sym_offsets.len()
                ),
            ));
        };
        let sec = &self.map[self.symbols.clone()];
        let mut d = Decoder::new(
            &sec[rel as usize..],
            (self.symbols.start + rel as usize) as u64,
            &self.path,
        );
        let n = d.uvarint()?;
        let n = usize::try_from(n).map_err(|_| d.err("symbol length overflows"))?;
        d.bytes(n)
    }

    /// Symbol `r` as a string.
    pub(crate) fn symbol(&self, r: u32) -> Result<&str, Error> {
        let b = self.symbol_bytes(r)?;
        std::str::from_utf8(b).map_err(|_| {
            Error::corrupt(&self.path, self.symbols.start as u64, "symbol is not UTF-8")
        })
    }

    /// The ref of symbol `s`, if the block has it (symbols are sorted: binary search).
    fn find_symbol(&self, s: &str) -> Option<u32> {
        let (mut lo, mut hi) = (0usize, self.sym_offsets.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.symbol_bytes(mid as u32).ok()?.cmp(s.as_bytes()) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid as u32),
            }
        }
        None
    }

    fn label_name(&self, name: &str) -> Option<&LabelName> {
        let r = self.find_symbol(name)?;
        let i = self.names.binary_search_by_key(&r, |n| n.name).ok()?;
        self.names.get(i)
    }

    /// Label names, sorted.
    pub(crate) fn names(&self) -> impl Iterator<Item = Result<&str, Error>> + '_ {
        self.names.iter().map(|n| self.symbol(n.name))
    }

    /// Values of `name` with the postings offset of each, sorted by value.
    pub(crate) fn values(
        &self,
        name: &str,
    ) -> impl Iterator<Item = (Result<&str, Error>, u64)> + '_ {
        self.label_name(name).into_iter().flat_map(move |n| {
            n.values
                .iter()
                .zip(&n.postings)
                .map(move |(&v, &p)| (self.symbol(v), p))
        })
    }

    /// The postings offset of `name=value`, if any series has that pair.
    pub(crate) fn lookup(&self, name: &str, value: &str) -> Option<u64> {
        let n = self.label_name(name)?;
        let v = self.find_symbol(value)?;
        let i = n.values.binary_search(&v).ok()?;
        n.postings.get(i).copied()
    }

    /// The series offsets of the postings list at `off` in the postings section.
    pub(crate) fn postings(&self, off: u64) -> Result<Vec<u64>, Error> {
        let sec = &self.map[self.postings.clone()];
        let base = self.postings.start as u64;
        if off >= sec.len() as u64 {
            return Err(Error::corrupt(
                &self.path,
                base,
                format!("postings offset {off} outside the section"),
            ));
        }
        let mut d = Decoder::new(&sec[off as usize..], base + off, &self.path);
        let n = d.count("postings")?;
        let mut out = Vec::with_capacity(n);
        let mut prev = 0u64;
        for i in 0..n {
            let at = d.offset();
            let delta = d.uvarint()?;
            let next = prev.checked_add(delta).filter(|&x| i == 0 || x > prev);
            match next {
                Some(x) if x < self.series.len() as u64 => {
                    out.push(x);
                    prev = x;
                }
                _ => {
                    return Err(Error::corrupt(
                        &self.path,
                        at,
                        "postings not increasing or past the series section",
                    ));
                }
            }
        }
        Ok(out)
    }

    /// Offsets of every series, in order.
    pub(crate) fn all_series(&self) -> Result<Vec<u64>, Error> {
        let mut out = Vec::new();
        let mut off = 0u64;
        while off < self.series.len() as u64 {
            out.push(off);
            off = self.series_end(off)?;
        }
        Ok(out)
    }

    /// Offset just past the series entry at `off`.
    fn series_end(&self, off: u64) -> Result<u64, Error> {
        let sec = &self.map[self.series.clone()];
        let base = self.series.start as u64;
        if off >= sec.len() as u64 {
            return Err(Error::corrupt(
                &self.path,
                base,
                format!("series offset {off} outside the section"),
            ));
        }
        let mut d = Decoder::new(&sec[off as usize..], base + off, &self.path);
        let n = d.uvarint()?;
        if n == 0 || n > d.remaining() as u64 {
            return Err(d.err(format!(
                "series entry of {n} bytes does not fit the section"
            )));
        }
        Ok(off + d.pos() as u64 + n)
    }

    /// The series at `off` in the series section, and the offset of the next one.
    pub(crate) fn series(&self, off: u64) -> Result<(BlockSeries, u64), Error> {
        let end = self.series_end(off)?;
        let sec = &self.map[self.series.clone()];
        let base = self.series.start as u64;
        let mut d = Decoder::new(&sec[off as usize..end as usize], base + off, &self.path);
        d.uvarint()?;
        let nlabels = d.count("label")?;
        let mut labels = Vec::with_capacity(nlabels);
        let mut prev_name: Option<u32> = None;
        for _ in 0..nlabels {
            let at = d.offset();
            let n = d.uvarint_u32("symbol ref")?;
            let v = d.uvarint_u32("symbol ref")?;
            // Refs ascend as names do (the symbol table is sorted): checks order and
            // uniqueness, which `Labels` relies on.
            if prev_name.is_some_and(|p| n <= p) {
                return Err(Error::corrupt(
                    &self.path,
                    at,
                    "label names not in ascending order",
                ));
            }
            prev_name = Some(n);
            let (name, value) = (self.symbol(n)?, self.symbol(v)?);
            if value.is_empty() {
                return Err(Error::corrupt(
                    &self.path,
                    at,
                    format!("label {name} has an empty value"),
                ));
            }
            labels.push(Label::new(name, value));
        }
        let nchunks = d.count("chunk")?;
        if nchunks == 0 {
            return Err(d.err("series without chunks"));
        }
        let mut chunks: Vec<ChunkMeta> = Vec::with_capacity(nchunks);
        for i in 0..nchunks {
            let at = d.offset();
            let bad = |what: &str| Error::corrupt(&self.path, at, format!("chunk {i}: {what}"));
            let min_t = match chunks.last() {
                None => d.varint()?,
                Some(p) => {
                    let gap = d.uvarint()?;
                    p.max_t
                        .checked_add_unsigned(gap)
                        .filter(|_| gap > 0)
                        .ok_or_else(|| bad("overlaps the previous one or overflows"))?
                }
            };
            let span = d.uvarint()?;
            let max_t = min_t
                .checked_add_unsigned(span)
                .ok_or_else(|| bad("time overflows"))?;
            let samples = d.uvarint_u32("sample count")?;
            let o = d.uvarint()?;
            let offset = match chunks.last() {
                None => o,
                Some(p) => p
                    .offset
                    .checked_add(o)
                    .filter(|_| o > 0)
                    .ok_or_else(|| bad("offset not after the previous chunk's"))?,
            };
            chunks.push(ChunkMeta {
                min_t,
                max_t,
                samples,
                offset,
            });
        }
        if d.remaining() != 0 {
            return Err(d.err(format!(
                "{} bytes left over in the series entry",
                d.remaining()
            )));
        }
        let series = BlockSeries {
            labels: Labels::from_sorted(labels),
            chunks,
        };
        Ok((series, end))
    }

    /// Length of the series section (iteration stops there).
    pub(crate) fn series_len(&self) -> u64 {
        self.series.len() as u64
    }
}

/// Start offsets of the symbols, checked: UTF-8, strictly ascending, filling the section.
fn read_symbols(path: &Path, sec: &[u8], base: u64) -> Result<Vec<u32>, Error> {
    if u32::try_from(sec.len()).is_err() {
        return Err(Error::corrupt(path, base, "symbols section over 4 GiB"));
    }
    let mut d = Decoder::new(sec, base, path);
    let n = d.count("symbol")?;
    let mut offsets = Vec::with_capacity(n);
    let mut prev: Option<&[u8]> = None;
    for _ in 0..n {
        let at = d.pos();
        let len = d.uvarint()?;
        let len = usize::try_from(len).map_err(|_| d.err("symbol length overflows"))?;
        let s = d.bytes(len)?;
        if std::str::from_utf8(s).is_err() {
            return Err(Error::corrupt(
                path,
                base + at as u64,
                "symbol is not UTF-8",
            ));
        }
        if prev.is_some_and(|p| p >= s) {
            return Err(Error::corrupt(
                path,
                base + at as u64,
                "symbols not sorted and unique",
            ));
        }
        prev = Some(s);
        offsets.push(at as u32);
    }
    if d.remaining() != 0 {
        return Err(d.err("bytes left over after the symbols"));
    }
    Ok(offsets)
}

/// The label table, checked: refs in range, names and values ascending, postings offsets
/// ascending inside the postings section.
fn read_labels(
    path: &Path,
    sec: &[u8],
    base: u64,
    nsyms: usize,
    postings_len: u64,
) -> Result<Vec<LabelName>, Error> {
    let mut d = Decoder::new(sec, base, path);
    let n = d.count("label name")?;
    let mut names: Vec<LabelName> = Vec::with_capacity(n);
    let mut prev_p: Option<u64> = None;
    for _ in 0..n {
        let at = d.offset();
        let name = d.uvarint_u32("symbol ref")?;
        if name as usize >= nsyms || names.last().is_some_and(|l| l.name >= name) {
            return Err(Error::corrupt(
                path,
                at,
                "label name ref out of range or out of order",
            ));
        }
        let nv = d.count("label value")?;
        if nv == 0 {
            return Err(Error::corrupt(path, at, "label name without values"));
        }
        let mut values = Vec::with_capacity(nv);
        let mut postings = Vec::with_capacity(nv);
        for _ in 0..nv {
            let at = d.offset();
            let dv = d.uvarint()?;
            let dp = d.uvarint()?;
            let v = match values.last() {
                None => Some(dv),
                Some(&p) => u64::from(p).checked_add(dv).filter(|_| dv > 0),
            };
            // Postings lists are written in table order: offsets ascend across names too.
            let p = match prev_p {
                Some(pp) => pp.checked_add(dp).filter(|_| dp > 0),
                None => Some(dp),
            };
            let (Some(v), Some(p)) = (
                v.filter(|&v| v < nsyms as u64),
                p.filter(|&p| p < postings_len),
            ) else {
                return Err(Error::corrupt(
                    path,
                    at,
                    "label value ref or postings offset out of order or range",
                ));
            };
            values.push(v as u32);
            postings.push(p);
            prev_p = Some(p);
        }
        names.push(LabelName {
            name,
            values,
            postings,
        });
    }
    if d.remaining() != 0 {
        return Err(d.err("bytes left over after the label table"));
    }
    Ok(names)
}
