//! The cold chunk: a column encoding for samples written into blocks, where a chunk is
//! encoded once (in background compaction) and read many times. It trades encode work
//! for size: every column tries a few transforms and keeps the smallest.
//!
//! Timestamps and values are two integer columns. Values become integers either as
//! decimal mantissas (`v == m / 10^d` exactly, checked bit for bit, as most scraped
//! values are short decimals) or, when that does not hold, as their bits mapped to an
//! order-preserving i64. An integer column is differenced 0, 1 or 2 times and the
//! residuals are bit-packed at one width relative to a base, scaled by their GCD, with
//! the few that do not fit stored apart (patched frame of reference). Lossless bit for
//! bit: any f64 bit pattern and any strictly increasing i64 timestamps round-trip.
//! The byte layout is in FORMAT.md, "Cold chunks".

use model::Sample;

use super::ChunkError;

/// The encoding byte blocks store next to a cold chunk (XOR is 1).
pub const ENCODING_COLD: u8 = 2;

/// Samples per cold chunk that compaction should cut a series' samples into.
///
/// Measured with benches/cold.rs on day-long series (5760 samples at 15 s): a chunk
/// has a fixed cost of about 15 bytes (count, first timestamp, interval, column
/// headers), so chunks of 1024 are 2.5% larger than one chunk for the whole day and 3%
/// smaller than chunks of 480; decoding a chunk of 1024, all a query touching one of its
/// samples pays, takes about 6 µs (11 µs for 2048, 32 µs for the whole day).
pub const COLD_CHUNK_SAMPLES: usize = 1024;

/// Most samples a chunk may claim; decode refuses more before allocating.
pub const MAX_COLD_SAMPLES: usize = 1 << 20;

/// Largest decimal exponent tried: 10^18 is exact as f64 and m stays within i64.
const MAX_DECIMALS: u8 = 18;

/// Value column modes (the byte after the timestamp column).
const MODE_DECIMAL: u8 = 0;
const MODE_BITS: u8 = 1;

/// Int column header: bits 0-1 differencing order; then flags for the optional parts
/// (absent is the common case: scale 1, no exception).
const ORDER_MASK: u8 = 0b11;
const HAS_SCALE: u8 = 1 << 2;
const HAS_EXCEPTIONS: u8 = 1 << 3;
const INT_FLAGS: u8 = ORDER_MASK | HAS_SCALE | HAS_EXCEPTIONS;

/// Set on a value mode byte when an exception list follows the decimal column.
const MODE_EXCEPTIONS: u8 = 0x80;

/// Encodes sorted, strictly increasing samples (debug-asserted), replacing nothing:
/// the chunk is appended to `out`.
pub fn encode(samples: &[Sample], out: &mut Vec<u8>) {
    debug_assert!(
        samples.windows(2).all(|w| w[0].t < w[1].t),
        "cold::encode needs strictly increasing timestamps"
    );
    put_uvarint(out, samples.len() as u64);
    if samples.is_empty() {
        return;
    }
    let ts: Vec<i64> = samples.iter().map(|s| s.t).collect();
    encode_ints(&ts, out);

    let mut decimal = Vec::new();
    match encode_decimal(samples, &mut decimal) {
        // Mantissas well below 2^52 step by more than an ulp, so differences of them
        // are smaller than those of the float bits: no need to try the bits mode.
        Decimal::Short => {
            out.extend_from_slice(&decimal);
            return;
        }
        Decimal::Long => {}
        Decimal::None => decimal.clear(),
    }
    let mut bits = vec![MODE_BITS];
    let ordered: Vec<i64> = samples.iter().map(|s| ordered(s.v.to_bits())).collect();
    encode_ints(&ordered, &mut bits);
    if !decimal.is_empty() && decimal.len() <= bits.len() {
        out.extend_from_slice(&decimal);
    } else {
        out.extend_from_slice(&bits);
    }
}

/// Decodes a chunk, appending its samples to `out`. Never panics; on error `out` keeps
/// what it held before.
pub fn decode(data: &[u8], out: &mut Vec<Sample>) -> Result<(), ChunkError> {
    let mut r = Reader { data, pos: 0 };
    let n = r.uvarint()?;
    if n > MAX_COLD_SAMPLES as u64 {
        return Err(ChunkError::Corrupt("cold chunk claims too many samples"));
    }
    let n = n as usize;
    if n == 0 {
        return if r.pos == data.len() {
            Ok(())
        } else {
            Err(ChunkError::Corrupt("bytes after an empty cold chunk"))
        };
    }
    let mut ts = vec![0i64; n];
    decode_ints(&mut r, &mut ts)?;
    for w in ts.windows(2) {
        if w[0] >= w[1] {
            return Err(ChunkError::Corrupt("timestamps do not increase"));
        }
    }
    // Values are decoded to their bits in `vs` and appended only once all is valid,
    // so a failed decode leaves `out` untouched.
    let mut vs = vec![0i64; n];
    let mode = r.u8()?;
    match mode & !MODE_EXCEPTIONS {
        MODE_DECIMAL => {
            let d = r.u8()?;
            let scale = *POW10
                .get(usize::from(d))
                .ok_or(ChunkError::Corrupt("decimal exponent too large"))?;
            decode_ints(&mut r, &mut vs)?;
            for x in vs.iter_mut() {
                *x = from_decimal(*x, scale).to_bits() as i64;
            }
            if mode & MODE_EXCEPTIONS != 0 {
                let mut idx = Indexes::new(r.uvarint()?, n)?;
                while let Some(i) = idx.next(&mut r)? {
                    vs[i] = r.u64_le()? as i64;
                }
            }
        }
        MODE_BITS if mode == MODE_BITS => {
            decode_ints(&mut r, &mut vs)?;
            for x in vs.iter_mut() {
                *x = ordered(*x as u64);
            }
        }
        _ => return Err(ChunkError::Corrupt("unknown cold value mode")),
    }
    if r.pos != data.len() {
        return Err(ChunkError::Corrupt("bytes after the cold chunk"));
    }
    out.reserve(n);
    out.extend(
        ts.iter()
            .zip(&vs)
            .map(|(&t, &b)| Sample::new(t, f64::from_bits(b as u64))),
    );
    Ok(())
}

/// Reads the increasing indexes of an exception list: the first as is, each next one
/// as the gap minus one.
struct Indexes {
    left: u64,
    next: u64,
    n: usize,
}

impl Indexes {
    fn new(count: u64, n: usize) -> Result<Self, ChunkError> {
        if count > n as u64 {
            return Err(ChunkError::Corrupt("more exceptions than values"));
        }
        Ok(Indexes {
            left: count,
            next: 0,
            n,
        })
    }

    fn next(&mut self, r: &mut Reader<'_>) -> Result<Option<usize>, ChunkError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let i = self
            .next
            .checked_add(r.uvarint()?)
            .filter(|&i| i < self.n as u64)
            .ok_or(ChunkError::Corrupt("exception index out of range"))?;
        self.next = i + 1;
        Ok(Some(i as usize))
    }
}

/// Powers of ten that are exact as f64, so `m / 10^d` is one correctly rounded division.
pub(crate) const POW10: [f64; MAX_DECIMALS as usize + 1] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18,
];

/// The value a decimal mantissa stands for. The encoder checks every value with this
/// very function, so whatever it returns is what round-trips.
#[inline]
pub(crate) fn from_decimal(m: i64, scale: f64) -> f64 {
    m as f64 / scale
}

/// The mantissa of `v` with `d` decimals, if `v` is exactly `from_decimal(m, 10^d)`.
pub(crate) fn to_decimal(v: f64, d: u8) -> Option<i64> {
    let scale = POW10[usize::from(d)];
    let m = (v * scale).round();
    // Outside this range (or NaN) `as i64` saturates; such values are not short
    // decimals anyway.
    if m.is_nan() || m.abs() >= 9.0e18 {
        return None;
    }
    let m = m as i64;
    (from_decimal(m, scale).to_bits() == v.to_bits()).then_some(m)
}

/// The fewest decimals that represent `v` exactly, if any.
fn decimals(v: f64) -> Option<u8> {
    if !v.is_finite() {
        return None;
    }
    (0..=MAX_DECIMALS).find(|&d| to_decimal(v, d).is_some())
}

/// What [`encode_decimal`] made of a chunk's values.
enum Decimal {
    /// No value is a decimal: nothing written.
    None,
    /// Written, every value a mantissa below 2^50.
    Short,
    /// Written, with exceptions or long mantissas: the bits mode may be smaller.
    Long,
}

/// Appends the decimal value column to `out`, if any value is a short decimal.
fn encode_decimal(samples: &[Sample], out: &mut Vec<u8>) -> Decimal {
    let n = samples.len();
    // How many values need exactly d decimals.
    let mut need = [0usize; MAX_DECIMALS as usize + 1];
    let mut exact = 0;
    for s in samples {
        if let Some(d) = decimals(s.v) {
            need[usize::from(d)] += 1;
            exact += 1;
        }
    }
    if exact == 0 {
        return Decimal::None;
    }
    // Each extra decimal costs log2(10) bits per value; each value left out costs an
    // exception (index + 8 bytes). Take the cheapest exponent by that estimate.
    let mut covered = 0;
    let mut best = (u64::MAX, 0u8);
    for (d, &k) in need.iter().enumerate() {
        covered += k;
        let cost = (n - covered) as u64 * 80 + n as u64 * 10 * d as u64 / 3;
        if cost < best.0 {
            best = (cost, d as u8);
        }
    }
    let d = best.1;
    let mut mantissas = Vec::with_capacity(n);
    let mut exceptions = Vec::new();
    // An exception's slot repeats the previous mantissa so the differences stay small.
    let mut prev = 0i64;
    for (i, s) in samples.iter().enumerate() {
        match to_decimal(s.v, d) {
            Some(m) => {
                mantissas.push(m);
                prev = m;
            }
            None => {
                mantissas.push(prev);
                exceptions.push((i, s.v.to_bits()));
            }
        }
    }
    out.push(if exceptions.is_empty() {
        MODE_DECIMAL
    } else {
        MODE_DECIMAL | MODE_EXCEPTIONS
    });
    out.push(d);
    encode_ints(&mantissas, out);
    if exceptions.is_empty() {
        let short = mantissas.iter().all(|m| m.unsigned_abs() < 1 << 50);
        return if short { Decimal::Short } else { Decimal::Long };
    }
    put_uvarint(out, exceptions.len() as u64);
    let mut last = 0usize;
    for (k, &(i, bits)) in exceptions.iter().enumerate() {
        // Indexes increase: store the gap minus one after the first.
        put_uvarint(out, if k == 0 { i } else { i - last - 1 } as u64);
        out.extend_from_slice(&bits.to_le_bytes());
        last = i;
    }
    Decimal::Long
}

/// Maps f64 bits to an i64 whose order follows the float order (for non-NaN), so
/// nearby values give small differences. The map is its own inverse.
#[inline]
fn ordered(bits: u64) -> i64 {
    let i = bits as i64;
    i ^ ((i >> 63) & i64::MAX)
}

/// Appends an integer column: the smallest of differencing 0, 1 or 2 times.
fn encode_ints(xs: &[i64], out: &mut Vec<u8>) {
    let mut best: Option<Vec<u8>> = None;
    for order in 0..=2u8 {
        if usize::from(order) > xs.len() {
            break;
        }
        let mut buf = Vec::new();
        encode_ints_order(xs, order, &mut buf);
        if best.as_ref().is_none_or(|b| buf.len() < b.len()) {
            best = Some(buf);
        }
    }
    if let Some(b) = best {
        out.extend_from_slice(&b);
    }
}

fn encode_ints_order(xs: &[i64], order: u8, out: &mut Vec<u8>) {
    let header = out.len();
    out.push(order);
    let mut res = xs.to_vec();
    // res[..order] become the seeds: the first value, then the first difference.
    for k in 0..usize::from(order) {
        for i in (k + 1..res.len()).rev() {
            res[i] = res[i].wrapping_sub(res[i - 1]);
        }
    }
    let k = usize::from(order);
    for &s in &res[..k] {
        put_uvarint(out, zigzag(s));
    }
    let flags = encode_for(&res[k..], out);
    out[header] |= flags;
}

/// Frame of reference with patches: picks a base, a scale (the GCD of the distances
/// to the minimum) and a width so that `base + scale * slot` gives most residuals;
/// the others are listed as exceptions. Chooses the width by estimated size. Returns
/// the header flags of the optional parts it wrote.
fn encode_for(res: &[i64], out: &mut Vec<u8>) -> u8 {
    let n = res.len();
    if n == 0 {
        return 0;
    }
    let min = res.iter().copied().min().unwrap_or(0);
    let mut scale = 0u64;
    for &r in res {
        scale = gcd(scale, r.wrapping_sub(min) as u64);
    }
    let scale = scale.max(1);
    // Distances to the minimum in units of scale, exact: each is below 2^64.
    let mut q: Vec<u64> = res
        .iter()
        .map(|&r| r.wrapping_sub(min) as u64 / scale)
        .collect();
    q.sort_unstable();
    let span = q[n - 1];
    let span_bits = 64 - span.leading_zeros();
    // Cost in bits of width w: packed slots plus, per exception, its index and its
    // residual (a zigzag varint, estimated at 10 bytes: exceptions are the far ones).
    let mut best = (u64::from(span_bits) * n as u64, span_bits, q[0]);
    for w in (0..span_bits).rev() {
        let (lo, covered) = widest_window(&q, w);
        let exceptions = (n - covered) as u64 * 96;
        // Narrower windows only lose values: once the exceptions alone cost more than
        // the best so far, no narrower width can win.
        if exceptions >= best.0 {
            break;
        }
        let cost = u64::from(w) * n as u64 + exceptions;
        if cost < best.0 {
            best = (cost, w, lo);
        }
    }
    let (_, w, lo) = best;
    let base = min.wrapping_add(lo.wrapping_mul(scale) as i64);
    let mut flags = 0;
    out.push(w as u8);
    put_uvarint(out, zigzag(base));
    if scale != 1 {
        put_uvarint(out, scale);
        flags |= HAS_SCALE;
    }
    let mut packer = BitPacker::new(out, w);
    let mut exceptions = Vec::new();
    for (i, &r) in res.iter().enumerate() {
        let d = r.wrapping_sub(min) as u64 / scale;
        match d.checked_sub(lo) {
            Some(slot) if w == 64 || slot >> w == 0 => packer.push(slot),
            _ => {
                packer.push(0);
                exceptions.push((i, r));
            }
        }
    }
    packer.finish();
    if !exceptions.is_empty() {
        flags |= HAS_EXCEPTIONS;
        put_uvarint(out, exceptions.len() as u64);
        let mut last = 0usize;
        for (k, &(i, r)) in exceptions.iter().enumerate() {
            put_uvarint(out, if k == 0 { i } else { i - last - 1 } as u64);
            put_uvarint(out, zigzag(r));
            last = i;
        }
    }
    flags
}

/// The start of the window of 2^w consecutive values holding most of sorted `q`, and
/// how many it holds.
fn widest_window(q: &[u64], w: u32) -> (u64, usize) {
    let mut best = (q[0], 0usize);
    let mut j = 0;
    for i in 0..q.len() {
        if j < i {
            j = i;
        }
        while j < q.len() && (q[j] - q[i]) >> w == 0 {
            j += 1;
        }
        if j - i > best.1 {
            best = (q[i], j - i);
        }
    }
    best
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Decodes an integer column of exactly `xs.len()` values.
fn decode_ints(r: &mut Reader<'_>, xs: &mut [i64]) -> Result<(), ChunkError> {
    let h = r.u8()?;
    if h & !INT_FLAGS != 0 || h & ORDER_MASK > 2 {
        return Err(ChunkError::Corrupt("bad integer column header"));
    }
    let order = usize::from(h & ORDER_MASK);
    if order > xs.len() {
        return Err(ChunkError::Corrupt("more seeds than values"));
    }
    for x in &mut xs[..order] {
        *x = unzigzag(r.uvarint()?);
    }
    let rest = &mut xs[order..];
    if rest.is_empty() {
        if h & (HAS_SCALE | HAS_EXCEPTIONS) != 0 {
            return Err(ChunkError::Corrupt("flags on an empty integer column"));
        }
    } else {
        decode_for(r, h, rest)?;
    }
    // Undo the differencing, innermost first; wrapping as the encoder wrapped.
    for k in (0..order).rev() {
        for i in k + 1..xs.len() {
            xs[i] = xs[i].wrapping_add(xs[i - 1]);
        }
    }
    Ok(())
}

fn decode_for(r: &mut Reader<'_>, h: u8, out: &mut [i64]) -> Result<(), ChunkError> {
    let n = out.len();
    let w = u32::from(r.u8()?);
    if w > 64 {
        return Err(ChunkError::Corrupt("bit width above 64"));
    }
    let base = unzigzag(r.uvarint()?);
    let scale = if h & HAS_SCALE != 0 { r.uvarint()? } else { 1 };
    let bytes = (n as u64 * u64::from(w)).div_ceil(8) as usize;
    let packed = r.take(bytes)?;
    unpack(packed, w, out);
    for x in out.iter_mut() {
        *x = base.wrapping_add(scale.wrapping_mul(*x as u64) as i64);
    }
    if h & HAS_EXCEPTIONS == 0 {
        return Ok(());
    }
    let mut idx = Indexes::new(r.uvarint()?, n)?;
    while let Some(i) = idx.next(r)? {
        out[i] = unzigzag(r.uvarint()?);
    }
    Ok(())
}

/// Unpacks `out.len()` little-endian `w`-bit slots (the caller checked that `packed`
/// holds them).
fn unpack(packed: &[u8], w: u32, out: &mut [i64]) {
    if w == 0 {
        out.fill(0);
        return;
    }
    let mask = if w == 64 { u64::MAX } else { (1u64 << w) - 1 };
    let mut bit = 0usize;
    for x in out.iter_mut() {
        let byte = bit / 8;
        let shift = (bit % 8) as u32;
        // Up to 71 bits span 9 bytes; read 16 (zero-filled past the end) as one u128.
        let mut buf = [0u8; 16];
        let end = packed.len().min(byte + 16);
        if let Some(src) = packed.get(byte..end) {
            buf[..src.len()].copy_from_slice(src);
        }
        *x = ((u128::from_le_bytes(buf) >> shift) as u64 & mask) as i64;
        bit += w as usize;
    }
}

/// Writes `w`-bit slots little-endian, low bits first.
struct BitPacker<'a> {
    out: &'a mut Vec<u8>,
    w: u32,
    acc: u128,
    bits: u32,
}

impl<'a> BitPacker<'a> {
    fn new(out: &'a mut Vec<u8>, w: u32) -> Self {
        BitPacker {
            out,
            w,
            acc: 0,
            bits: 0,
        }
    }

    fn push(&mut self, x: u64) {
        if self.w == 0 {
            return;
        }
        self.acc |= u128::from(x) << self.bits;
        self.bits += self.w;
        while self.bits >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.bits -= 8;
        }
    }

    fn finish(self) {
        if self.bits > 0 {
            self.out.push(self.acc as u8);
        }
    }
}

fn zigzag(x: i64) -> u64 {
    ((x << 1) ^ (x >> 63)) as u64
}

fn unzigzag(x: u64) -> i64 {
    ((x >> 1) as i64) ^ -((x & 1) as i64)
}

fn put_uvarint(out: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        out.push((x as u8) | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}

/// A bounds-checked cursor: every read that would pass the end is `Truncated`.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn u8(&mut self) -> Result<u8, ChunkError> {
        let b = *self.data.get(self.pos).ok_or(ChunkError::Truncated)?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], ChunkError> {
        let end = self.pos.checked_add(len).ok_or(ChunkError::Truncated)?;
        let s = self.data.get(self.pos..end).ok_or(ChunkError::Truncated)?;
        self.pos = end;
        Ok(s)
    }

    fn u64_le(&mut self) -> Result<u64, ChunkError> {
        let s = self.take(8)?;
        let mut b = [0u8; 8];
        b.copy_from_slice(s);
        Ok(u64::from_le_bytes(b))
    }

    fn uvarint(&mut self) -> Result<u64, ChunkError> {
        let mut x = 0u64;
        for i in 0..10 {
            let b = self.u8()?;
            let part = u64::from(b & 0x7f);
            if i == 9 && part > 1 {
                return Err(ChunkError::Corrupt("varint overflows 64 bits"));
            }
            x |= part << (7 * i);
            if b & 0x80 == 0 {
                return Ok(x);
            }
        }
        Err(ChunkError::Corrupt("varint longer than 10 bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(samples: &[Sample]) -> Vec<u8> {
        let mut buf = Vec::new();
        encode(samples, &mut buf);
        let mut got = vec![Sample::new(-1, 7.0)];
        decode(&buf, &mut got).expect("decodes");
        assert_eq!(got.len(), samples.len() + 1);
        assert!(
            got[0].bit_eq(&Sample::new(-1, 7.0)),
            "decode kept what out held"
        );
        for (a, b) in got[1..].iter().zip(samples) {
            assert!(
                a.bit_eq(b),
                "{a:?} != {b:?} ({:#x} vs {:#x})",
                a.v.to_bits(),
                b.v.to_bits()
            );
        }
        buf
    }

    fn regular(n: usize, mut f: impl FnMut(usize) -> f64) -> Vec<Sample> {
        (0..n)
            .map(|i| Sample::new(1_760_000_000_000 + 15_000 * i as i64, f(i)))
            .collect()
    }

    #[test]
    fn empty_and_single() {
        assert_eq!(round_trip(&[]), vec![0]);
        round_trip(&[Sample::new(i64::MIN, f64::NAN)]);
        round_trip(&[Sample::new(i64::MAX, -0.0)]);
        round_trip(&[Sample::new(0, 0.1)]);
    }

    #[test]
    fn special_values_round_trip() {
        let specials = [
            f64::NAN,
            -f64::NAN,
            f64::from_bits(model::STALE_NAN_BITS),
            f64::from_bits(0x7ff8_dead_beef_0001),
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.0,
            f64::MIN_POSITIVE,
            f64::from_bits(1),
            f64::MAX,
            f64::MIN,
            1e300,
            0.1 + 0.2,
            1.0 / 3.0,
        ];
        round_trip(&regular(specials.len(), |i| specials[i]));
        // Mostly decimals with the specials as exceptions.
        round_trip(&regular(300, |i| {
            if i % 20 == 7 {
                specials[i / 20]
            } else {
                i as f64 * 0.25
            }
        }));
    }

    #[test]
    fn extreme_timestamps_round_trip() {
        let ts = [
            i64::MIN,
            i64::MIN + 1,
            -5,
            0,
            1,
            1 << 40,
            i64::MAX - 1,
            i64::MAX,
        ];
        let s: Vec<Sample> = ts.iter().map(|&t| Sample::new(t, 1.0)).collect();
        round_trip(&s);
        round_trip(&[Sample::new(i64::MIN, 1.0), Sample::new(i64::MAX, 2.0)]);
    }

    #[test]
    fn typical_series_are_small() {
        let n = 480;
        let constant = round_trip(&regular(n, |_| 1.0));
        assert!(constant.len() < 20, "constant: {} bytes", constant.len());
        // A counter with two decimals growing by 8.00 .. 12.00 a scrape.
        let counter = round_trip(&regular(n, |i| {
            let mut total = 123_456.78f64;
            for k in 0..i {
                total = ((total + 8.0 + (k * 7919 % 401) as f64 / 100.0) * 100.0).round() / 100.0;
            }
            total
        }));
        // 401 distinct steps need 9 bits.
        assert!(
            counter.len() < n * 9 / 8 + 30,
            "counter: {} bytes",
            counter.len()
        );
        // Pages of memory: multiples of 4096.
        let pages = round_trip(&regular(n, |i| ((1 << 20) + (i * 37 % 64)) as f64 * 4096.0));
        assert!(pages.len() < n * 7 / 8 + 30, "pages: {} bytes", pages.len());
        // A missed scrape costs an exception, not a wider column.
        let mut gap = regular(n, |_| 1.0);
        gap.remove(100);
        let gap = round_trip(&gap);
        assert!(gap.len() < 40, "gap: {} bytes", gap.len());
    }

    #[test]
    fn full_precision_floats_round_trip() {
        let mut x = 1_000.0f64;
        round_trip(&regular(1000, |i| {
            x += (i as f64).sin() * 10.0 + 10.0;
            x
        }));
    }

    #[test]
    fn refuses_bad_input() {
        let mut out = Vec::new();
        assert_eq!(decode(&[], &mut out), Err(ChunkError::Truncated));
        let mut huge = Vec::new();
        put_uvarint(&mut huge, MAX_COLD_SAMPLES as u64 + 1);
        assert!(matches!(
            decode(&huge, &mut out),
            Err(ChunkError::Corrupt(_))
        ));
        let mut buf = Vec::new();
        encode(&regular(10, |i| i as f64), &mut buf);
        for len in 0..buf.len() {
            assert!(decode(&buf[..len], &mut out).is_err(), "prefix {len}");
        }
        buf.push(0);
        assert!(decode(&buf, &mut out).is_err());
        assert!(out.is_empty());
        assert!(matches!(
            super::super::decode_any(9, &[], &mut out),
            Err(ChunkError::Corrupt(_))
        ));
    }

    #[test]
    fn decode_any_reads_both_encodings() {
        let s = regular(50, |i| i as f64 * 1.5);
        let mut xor = crate::chunk::XorAppender::new();
        for x in &s {
            xor.push(x.t, x.v).expect("in order");
        }
        let mut cold = Vec::new();
        encode(&s, &mut cold);
        for (enc, data) in [(1, xor.bytes()), (ENCODING_COLD, &cold[..])] {
            let mut out = Vec::new();
            super::super::decode_any(enc, data, &mut out).expect("decodes");
            assert!(out.iter().zip(&s).all(|(a, b)| a.bit_eq(b)));
            assert_eq!(out.len(), s.len());
        }
    }

    /// Values drawn from the shapes cold chunks special-case, and from raw bits.
    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            any::<u64>().prop_map(f64::from_bits),
            Just(f64::from_bits(model::STALE_NAN_BITS)),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(-0.0),
            (-1_000_000i64..1_000_000).prop_map(|x| x as f64),
            (any::<i64>(), 0..19u32).prop_map(|(m, d)| m as f64 / 10f64.powi(d as i32)),
            any::<f64>(),
        ]
    }

    /// A series shape: all from one family, or mixed.
    fn values(n: usize) -> impl Strategy<Value = Vec<f64>> {
        prop_oneof![
            prop::collection::vec(value(), n),
            value().prop_map(move |v| vec![v; n]),
            (any::<i32>(), prop::collection::vec(0..1000i64, n)).prop_map(|(s, d)| {
                d.iter()
                    .scan(i64::from(s), |acc, x| {
                        *acc += x;
                        Some(*acc as f64 / 100.0)
                    })
                    .collect()
            }),
            (
                prop::collection::vec(0..4u8, n),
                prop::collection::vec(value(), 4)
            )
                .prop_map(|(pick, vals)| pick.iter().map(|&p| vals[usize::from(p)]).collect()),
        ]
    }

    /// Strictly increasing timestamps: regular, jittered, with huge gaps or at the extremes.
    fn timestamps(n: usize) -> impl Strategy<Value = Vec<i64>> {
        prop_oneof![
            (any::<i64>(), 1..100_000i64).prop_map(move |(start, step)| {
                (0..n as i64)
                    .map(|i| start.saturating_add(i * step))
                    .collect()
            }),
            prop::collection::vec(any::<i64>(), n),
            prop::collection::vec(prop_oneof![1..30u64, 1..u64::MAX / 1024], n).prop_map(|d| {
                d.iter()
                    .scan(i64::MIN, |acc, &x| {
                        *acc = acc.saturating_add_unsigned(x);
                        Some(*acc)
                    })
                    .collect()
            }),
        ]
        .prop_map(|mut ts: Vec<i64>| {
            ts.sort_unstable();
            ts.dedup();
            ts
        })
    }

    fn samples() -> impl Strategy<Value = Vec<Sample>> {
        (0..600usize).prop_flat_map(|n| {
            (timestamps(n), values(n)).prop_map(|(ts, vs)| {
                ts.into_iter()
                    .zip(vs)
                    .map(|(t, v)| Sample::new(t, v))
                    .collect()
            })
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn prop_round_trips_bit_for_bit(s in samples()) {
            round_trip(&s);
        }

        #[test]
        fn prop_decode_never_panics_on_random_bytes(data in prop::collection::vec(any::<u8>(), 0..300)) {
            let mut out = Vec::new();
            if decode(&data, &mut out).is_err() {
                prop_assert!(out.is_empty());
            }
        }

        #[test]
        fn prop_decode_never_panics_on_damaged_chunks(
            s in samples(),
            flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut buf = Vec::new();
            encode(&s, &mut buf);
            let mut out = Vec::new();
            let _ = decode(&buf[..cut.index(buf.len() + 1)], &mut out);
            for (at, x) in flips {
                let i = at.index(buf.len());
                buf[i] ^= x;
            }
            out.clear();
            if decode(&buf, &mut out).is_ok() {
                prop_assert!(out.windows(2).all(|w| w[0].t < w[1].t));
            } else {
                prop_assert!(out.is_empty());
            }
        }
    }
}
