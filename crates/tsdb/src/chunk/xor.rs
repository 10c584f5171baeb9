//! The XOR chunk: timestamps as delta-of-delta in variable-width buckets, values as the
//! XOR of their bits with the previous value's, keeping only the meaningful window
//! (after Pelkonen et al., "Gorilla: A Fast, Scalable, In-Memory Time Series Database",
//! VLDB 2015). Lossless bit for bit: any f64 bit pattern and any strictly increasing i64
//! timestamps round-trip exactly. The byte layout is described in FORMAT.md.
//!
//! [`XorAppender`] builds a chunk sample by sample; [`XorAppender::finish`] freezes it
//! into an [`XorChunk`]; both iterate with [`XorIter`], which stops with an error on a
//! corrupt chunk instead of panicking.

mod decimal;

use std::fmt;

use model::{Sample, Timestamp};

use self::decimal::{DECIMAL_FLAG, exponent_for, from_decimal, to_decimal};

/// Bytes before the bit stream: the sample count, u16 big-endian (its top bit marks a
/// decimal chunk, whose exponent follows in one more byte).
const HEADER: usize = 2;

/// Most samples one chunk can hold (15 bits of the count).
pub const MAX_SAMPLES: usize = 0x7fff;

/// `exp` of an appender whose mode the first sample decides.
const UNDECIDED: u8 = 0xfe;

/// `exp` of an XOR-mode appender.
const XOR: u8 = 0xff;

/// Delta-of-delta buckets after their prefix: (prefix bits, prefix length, value bits).
/// `0` alone means a delta-of-delta of zero; the last bucket holds any 64-bit value.
const DOD_BUCKETS: [(u64, u32, u32); 3] = [(0b10, 2, 6), (0b110, 3, 16), (0b1110, 4, 32)];

/// Prefix of the 64-bit delta-of-delta bucket.
const DOD_WIDE: (u64, u32) = (0b1111, 4);

/// Leading zeros of an XOR are stored in 5 bits, so at most 31 are counted.
const MAX_LEADING: u32 = 31;

/// Why a chunk cannot be appended to or decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkError {
    /// The timestamp is not after the chunk's newest one.
    OutOfOrder {
        /// The refused timestamp.
        t: Timestamp,
        /// The chunk's newest timestamp.
        max_t: Timestamp,
    },
    /// The chunk already holds [`MAX_SAMPLES`] samples.
    Full,
    /// The bytes end before the samples the header announces.
    Truncated,
    /// The bytes do not describe a valid chunk.
    Corrupt(&'static str),
}

impl fmt::Display for ChunkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChunkError::OutOfOrder { t, max_t } => {
                write!(
                    f,
                    "chunk: sample at {t} is not after the newest one at {max_t}"
                )
            }
            ChunkError::Full => write!(f, "chunk: full ({MAX_SAMPLES} samples)"),
            ChunkError::Truncated => write!(f, "chunk: truncated"),
            ChunkError::Corrupt(why) => write!(f, "chunk: corrupt: {why}"),
        }
    }
}

impl std::error::Error for ChunkError {}

/// An immutable, encoded chunk with its time bounds.
#[derive(Clone, PartialEq, Eq)]
pub struct XorChunk {
    data: Box<[u8]>,
    min_t: Timestamp,
    max_t: Timestamp,
}

impl fmt::Debug for XorChunk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XorChunk")
            .field("len", &self.len())
            .field("bytes", &self.data.len())
            .field("min_t", &self.min_t)
            .field("max_t", &self.max_t)
            .finish()
    }
}

impl XorChunk {
    /// A chunk from its encoded bytes, checked by decoding every sample.
    pub fn from_bytes(data: impl Into<Box<[u8]>>) -> Result<Self, ChunkError> {
        let data = data.into();
        let mut min_t = Timestamp::MAX;
        let mut max_t = Timestamp::MIN;
        for s in XorIter::new(&data) {
            let s = s?;
            min_t = min_t.min(s.t);
            max_t = s.t;
        }
        Ok(XorChunk { data, min_t, max_t })
    }

    /// A chunk from bytes this crate encoded and the time range it already knows, without
    /// decoding them again.
    pub(crate) fn from_trusted(data: &[u8], min_t: Timestamp, max_t: Timestamp) -> Self {
        XorChunk {
            data: data.into(),
            min_t,
            max_t,
        }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        count(&self.data)
    }

    /// True when the chunk holds no sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Oldest timestamp (`i64::MAX` when empty).
    pub fn min_t(&self) -> Timestamp {
        self.min_t
    }

    /// Newest timestamp (`i64::MIN` when empty).
    pub fn max_t(&self) -> Timestamp {
        self.max_t
    }

    /// Encoded size in bytes.
    pub fn byte_size(&self) -> usize {
        self.data.len()
    }

    /// The encoded bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// The samples, oldest first.
    pub fn iter(&self) -> XorIter<'_> {
        XorIter::new(&self.data)
    }
}

/// Builds a chunk one sample at a time; timestamps must strictly increase.
#[derive(Clone)]
pub struct XorAppender {
    buf: Vec<u8>,
    // Bits used in the last byte of `buf` (0 = the last byte is full, or `buf` is the header).
    used: u8,
    leading: u8,
    trailing: u8,
    count: u16,
    // The decimal exponent, or XOR / UNDECIDED.
    exp: u8,
    // Raw values written in decimal mode.
    escapes: u8,
    t: Timestamp,
    delta: u64,
    // The last value's bits (XOR mode) or mantissa (decimal mode).
    v: u64,
    // The last mantissa delta (decimal mode).
    dm: i64,
}

impl Default for XorAppender {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for XorAppender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XorAppender")
            .field("len", &self.len())
            .field("bytes", &self.buf.len())
            .field("min_t", &self.min_t())
            .field("max_t", &self.max_t())
            .finish()
    }
}

impl XorAppender {
    /// An empty chunk; its first sample decides between decimal and XOR values.
    pub fn new() -> Self {
        XorAppender {
            buf: vec![0; HEADER],
            used: 0,
            leading: u8::MAX,
            trailing: 0,
            count: 0,
            exp: UNDECIDED,
            escapes: 0,
            t: Timestamp::MIN,
            delta: 0,
            v: 0,
            dm: 0,
        }
    }

    /// An empty chunk in decimal mode at exponent `exp`, or XOR mode for `None`.
    fn with_mode(exp: Option<u8>) -> Self {
        let mut a = XorAppender::new();
        match exp {
            Some(e) => {
                a.exp = e;
                a.buf.push(e);
            }
            None => a.exp = XOR,
        }
        a
    }

    /// True for a chunk whose values are decimal mantissas.
    fn is_decimal(&self) -> bool {
        self.exp <= decimal::MAX_EXP
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        usize::from(self.count)
    }

    /// True when no sample was appended.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Oldest timestamp (`i64::MAX` when empty).
    pub fn min_t(&self) -> Timestamp {
        if self.count == 0 {
            return Timestamp::MAX;
        }
        // The first timestamp is the stream's first field, byte-aligned: read from the
        // bytes rather than kept in every series (one field less per active series).
        let start = HEADER + usize::from(self.is_decimal());
        let mut x = 0u64;
        for (i, b) in self.buf.iter().skip(start).take(10).enumerate() {
            x |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                break;
            }
        }
        unzigzag(x)
    }

    /// Newest timestamp (`i64::MIN` when empty).
    pub fn max_t(&self) -> Timestamp {
        if self.count == 0 {
            Timestamp::MIN
        } else {
            self.t
        }
    }

    /// Encoded size in bytes so far.
    pub fn byte_size(&self) -> usize {
        self.buf.len()
    }

    /// The encoded bytes so far (a valid chunk).
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Asks the CPU to fetch the chunk's last bytes, which the next append rewrites.
    /// Appends touch a different series every time, so that line is rarely cached: when
    /// the fetch starts as the sample is accepted, it overlaps the work before the
    /// append instead of stalling it.
    #[inline]
    pub fn prefetch_tail(&self) {
        let last = self
            .buf
            .as_ptr()
            .wrapping_add(self.buf.len().saturating_sub(1));
        crate::prefetch::prefetch(last);
    }

    /// The samples, oldest first.
    pub fn iter(&self) -> XorIter<'_> {
        XorIter::new(&self.buf)
    }

    /// The appender that wrote `data`, ready to append after its last sample: a chunk
    /// read back (from a checkpoint) continues without being re-encoded. Decodes the
    /// whole chunk to check it and to recover the encoder's state.
    pub fn from_bytes(data: &[u8]) -> Result<XorAppender, ChunkError> {
        let mut it = XorIter::new(data);
        for s in it.by_ref() {
            s?;
        }
        if it.read == 0 {
            return Ok(XorAppender::new());
        }
        // The writer's buffer ends with the byte holding the last bit written.
        if it.pos.div_ceil(8) != data.len() {
            return Err(ChunkError::Corrupt("bytes after the last sample"));
        }
        let count = u16::try_from(it.read).map_err(|_| ChunkError::Corrupt("sample count"))?;
        Ok(XorAppender {
            buf: data.to_vec(),
            used: (it.pos % 8) as u8,
            leading: u8::try_from(it.leading).unwrap_or(u8::MAX),
            trailing: u8::try_from(it.trailing).unwrap_or(0),
            count,
            exp: it.exp,
            escapes: it.escapes,
            t: it.t,
            delta: it.delta,
            v: if it.exp == XOR { it.v } else { it.m as u64 },
            dm: it.dm,
        })
    }

    /// Freezes the chunk, dropping spare capacity.
    pub fn finish(self) -> XorChunk {
        let min_t = self.min_t();
        let max_t = self.max_t();
        XorChunk {
            data: self.buf.into_boxed_slice(),
            min_t,
            max_t,
        }
    }

    /// Appends a sample; `t` must be after every timestamp already in the chunk.
    pub fn push(&mut self, t: Timestamp, v: f64) -> Result<(), ChunkError> {
        if self.exp == UNDECIDED {
            match exponent_for(v, 0) {
                Some(e) => {
                    self.exp = e;
                    self.buf.push(e);
                }
                None => self.exp = XOR,
            }
        }
        if self.is_decimal() {
            match to_decimal(v, self.exp) {
                Some(m) => self.push_decimal(t, v, Some(m))?,
                None => self.push_undecimal(t, v)?,
            }
            if self.count == decimal::TRIAL_SAMPLES && self.is_decimal() {
                self.trial();
            }
            return Ok(());
        }
        let bits = v.to_bits();
        match self.count {
            0 => {
                self.write_varint(zigzag(t));
                self.write_bits(bits, 64);
            }
            MAX_COUNT => return Err(ChunkError::Full),
            n => {
                if t <= self.t {
                    return Err(ChunkError::OutOfOrder { t, max_t: self.t });
                }
                let delta = t.abs_diff(self.t);
                if n == 1 {
                    self.write_varint(delta);
                } else {
                    self.write_dod(delta);
                }
                self.write_value(bits);
                self.delta = delta;
            }
        }
        self.t = t;
        self.v = bits;
        self.count += 1;
        self.buf[..HEADER].copy_from_slice(&self.count.to_be_bytes());
        Ok(())
    }

    /// Appends a sample to a decimal chunk: the mantissa `m` of `v`, or `v` raw.
    fn push_decimal(&mut self, t: Timestamp, v: f64, m: Option<i64>) -> Result<(), ChunkError> {
        match self.count {
            0 => {
                let m = m.ok_or(ChunkError::Corrupt(
                    "a decimal chunk starts with a raw value",
                ))?;
                self.write_varint(zigzag(t));
                self.write_varint(zigzag(m));
                self.v = m as u64;
                self.dm = 0;
            }
            MAX_COUNT => return Err(ChunkError::Full),
            n => {
                if t <= self.t {
                    return Err(ChunkError::OutOfOrder { t, max_t: self.t });
                }
                let delta = t.abs_diff(self.t);
                let regular = n > 1 && delta == self.delta;
                if n == 1 {
                    self.write_varint(delta);
                } else if !regular {
                    self.write_dod(delta);
                }
                self.write_decimal(regular, m, v.to_bits());
                self.delta = delta;
            }
        }
        self.t = t;
        self.count += 1;
        self.buf[..HEADER].copy_from_slice(&(self.count | DECIMAL_FLAG).to_be_bytes());
        Ok(())
    }

    fn write_dod(&mut self, delta: u64) {
        let dod = i128::from(delta) - i128::from(self.delta);
        if dod == 0 {
            self.write_bits(0, 1);
            return;
        }
        for (prefix, plen, width) in DOD_BUCKETS {
            let half = 1i128 << (width - 1);
            if (-half..half).contains(&dod) {
                self.write_bits(prefix, plen);
                // Two's complement, truncated to `width` bits.
                self.write_bits(dod as u64 & mask(width), width);
                return;
            }
        }
        self.write_bits(DOD_WIDE.0, DOD_WIDE.1);
        // Modulo 2^64; the reader adds it back with wrapping arithmetic.
        self.write_bits(delta.wrapping_sub(self.delta), 64);
    }

    fn write_value(&mut self, bits: u64) {
        let xor = bits ^ self.v;
        if xor == 0 {
            self.write_bits(0, 1);
            return;
        }
        let leading = xor.leading_zeros().min(MAX_LEADING);
        let trailing = xor.trailing_zeros();
        let sig = 64 - leading - trailing;
        let (l, t) = (u32::from(self.leading), u32::from(self.trailing));
        // Reuse the previous window when the value fits in it and that is not longer
        // than describing a new one (Gorilla reuses whenever it fits).
        if self.leading != u8::MAX && leading >= l && trailing >= t && 64 - l - t <= sig + 11 {
            self.write_bits(0b10, 2);
            self.write_bits(xor >> t, 64 - l - t);
            return;
        }
        self.write_bits(0b11, 2);
        self.write_bits(u64::from(leading), 5);
        // 64 significant bits are written as 0.
        self.write_bits(u64::from(sig & 63), 6);
        self.write_bits(xor >> trailing, sig);
        // leading <= 31 and trailing <= 63 as xor != 0.
        self.leading = leading as u8;
        self.trailing = trailing as u8;
    }

    fn write_varint(&mut self, mut x: u64) {
        while x >= 0x80 {
            self.write_bits((x & 0x7f) | 0x80, 8);
            x >>= 7;
        }
        self.write_bits(x, 8);
    }

    /// Writes the low `n` bits of `x` (n <= 64), most significant first.
    fn write_bits(&mut self, x: u64, n: u32) {
        if n == 0 {
            return;
        }
        // The bits already in a partly written last byte, then the new ones, left-aligned
        // in one 128-bit word and stored as whole bytes: one copy instead of a loop over
        // bytes (this runs several times per sample on the ingestion path).
        let used = u32::from(self.used);
        let mut acc = u128::from(x & mask(n));
        if used > 0 {
            let partial = self.buf.pop().map_or(0, |b| u128::from(b >> (8 - used)));
            acc |= partial << n;
        }
        let total = used + n; // at most 7 + 64 bits
        let bytes = total.div_ceil(8) as usize;
        let aligned = (acc << (128 - total)).to_be_bytes();
        if self.buf.len() + bytes > self.buf.capacity() {
            // Grow by about an eighth instead of doubling: an open chunk lives as long as
            // its series is active, and doubling left up to half unused.
            self.buf.reserve_exact((self.buf.len() / 8).max(16));
        }
        self.buf
            .extend_from_slice(aligned.get(..bytes).unwrap_or_default());
        self.used = (total % 8) as u8;
    }
}

const MAX_COUNT: u16 = MAX_SAMPLES as u16;

/// The low `n` bits set (n <= 64).
fn mask(n: u32) -> u64 {
    if n >= 64 { u64::MAX } else { (1u64 << n) - 1 }
}

fn zigzag(x: i64) -> u64 {
    ((x << 1) ^ (x >> 63)) as u64
}

fn unzigzag(x: u64) -> i64 {
    ((x >> 1) as i64) ^ -((x & 1) as i64)
}

/// The sample count of encoded bytes (0 when the header is missing).
pub(crate) fn count(data: &[u8]) -> usize {
    match data {
        [a, b, ..] => usize::from(u16::from_be_bytes([*a, *b]) & !DECIMAL_FLAG),
        _ => 0,
    }
}

/// The exponent of a decimal chunk, `None` for XOR (or too short to say).
fn decimal_exp(data: &[u8]) -> Option<u8> {
    match data {
        [a, _, e, ..] if u16::from(*a) << 8 & DECIMAL_FLAG != 0 => Some(*e),
        _ => None,
    }
}

/// Decodes a chunk's samples in order. After an error it yields nothing more.
#[derive(Clone)]
pub struct XorIter<'a> {
    data: &'a [u8],
    // Read position in bits from the start of `data`.
    pos: usize,
    left: usize,
    read: usize,
    t: Timestamp,
    delta: u64,
    v: u64,
    leading: u32,
    trailing: u32,
    failed: bool,
    // Decimal chunks: the exponent (XOR for an XOR chunk), mantissa, mantissa delta and
    // raw values read.
    exp: u8,
    m: i64,
    dm: i64,
    escapes: u8,
}

impl<'a> XorIter<'a> {
    /// An iterator over encoded chunk bytes.
    pub fn new(data: &'a [u8]) -> Self {
        let exp = decimal_exp(data);
        let (left, failed) = if data.len() < HEADER {
            (0, !data.is_empty())
        } else if data[0] & 0x80 != 0 && exp.is_none_or(|e| e > decimal::MAX_EXP) {
            // A decimal flag without a valid exponent byte.
            (0, true)
        } else {
            (count(data), false)
        };
        XorIter {
            data,
            pos: (HEADER + usize::from(exp.is_some())) * 8,
            left,
            read: 0,
            t: 0,
            delta: 0,
            v: 0,
            leading: u32::MAX,
            trailing: 0,
            failed,
            exp: exp.unwrap_or(XOR),
            m: 0,
            dm: 0,
            escapes: 0,
        }
    }

    fn bit(&mut self) -> Result<bool, ChunkError> {
        let byte = *self.data.get(self.pos / 8).ok_or(ChunkError::Truncated)?;
        let b = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Ok(b == 1)
    }

    /// Reads `n` bits (n <= 64), most significant first. One unaligned
    /// big-endian word load (plus one byte when the bits straddle it) instead
    /// of a loop per byte: decoding is most of a query's time in the head.
    #[inline]
    fn bits(&mut self, n: u32) -> Result<u64, ChunkError> {
        if n == 0 {
            return Ok(0);
        }
        let end = self.pos + n as usize;
        if end > self.data.len() * 8 {
            return Err(ChunkError::Truncated);
        }
        let byte = self.pos / 8;
        let off = (self.pos % 8) as u32;
        let word = load_be(&self.data[byte..]);
        let mut out = (word << off) >> (64 - n);
        if off + n > 64 {
            // The last `extra` bits are in the byte after the word.
            let extra = off + n - 64;
            let next = u64::from(self.data.get(byte + 8).copied().unwrap_or(0));
            out |= next >> (8 - extra);
        }
        self.pos = end;
        Ok(out)
    }

    fn varint(&mut self) -> Result<u64, ChunkError> {
        let mut x = 0u64;
        for i in 0..10 {
            let b = self.bits(8)?;
            let part = b & 0x7f;
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

    fn dod(&mut self) -> Result<u64, ChunkError> {
        if !self.bit()? {
            return Ok(0);
        }
        for (_, _, width) in DOD_BUCKETS {
            if !self.bit()? {
                let raw = self.bits(width)?;
                // Sign-extend from `width` bits.
                let shift = 64 - width;
                return Ok((((raw << shift) as i64) >> shift) as u64);
            }
        }
        self.bits(64)
    }

    fn value(&mut self) -> Result<u64, ChunkError> {
        if !self.bit()? {
            return Ok(self.v);
        }
        if self.bit()? {
            let leading = self.bits(5)? as u32;
            let sig = match self.bits(6)? as u32 {
                0 => 64,
                n => n,
            };
            if leading + sig > 64 {
                return Err(ChunkError::Corrupt("XOR window wider than 64 bits"));
            }
            self.leading = leading;
            self.trailing = 64 - leading - sig;
        } else if self.leading == u32::MAX {
            return Err(ChunkError::Corrupt("XOR window reused before one was set"));
        }
        let sig = 64 - self.leading - self.trailing;
        let xor = self.bits(sig)?;
        let xor = if self.trailing >= 64 {
            0
        } else {
            xor << self.trailing
        };
        Ok(self.v ^ xor)
    }

    fn step(&mut self) -> Result<Sample, ChunkError> {
        match self.read {
            0 => {
                self.t = unzigzag(self.varint()?);
                if self.exp == XOR {
                    self.v = self.bits(64)?;
                } else {
                    self.m = unzigzag(self.varint()?);
                    self.v = from_decimal(self.m, self.exp).to_bits();
                }
            }
            n => {
                let delta = if n == 1 {
                    self.varint()?
                } else {
                    self.delta.wrapping_add(self.dod()?)
                };
                if delta == 0 {
                    return Err(ChunkError::Corrupt("timestamps do not increase"));
                }
                self.t = self
                    .t
                    .checked_add_unsigned(delta)
                    .ok_or(ChunkError::Corrupt("timestamp overflows"))?;
                self.delta = delta;
                self.v = if self.exp == XOR {
                    self.value()?
                } else {
                    self.read_decimal()?
                };
            }
        }
        self.read += 1;
        Ok(Sample::new(self.t, f64::from_bits(self.v)))
    }
}

/// The first 8 bytes of `b` as a big-endian word, zero-padded when shorter.
#[inline]
fn load_be(b: &[u8]) -> u64 {
    match b.first_chunk::<8>() {
        Some(w) => u64::from_be_bytes(*w),
        None => {
            let mut w = [0u8; 8];
            w[..b.len()].copy_from_slice(b);
            u64::from_be_bytes(w)
        }
    }
}

impl Iterator for XorIter<'_> {
    type Item = Result<Sample, ChunkError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            self.failed = false;
            self.left = 0;
            return Some(Err(ChunkError::Truncated));
        }
        if self.left == 0 {
            return None;
        }
        match self.step() {
            Ok(s) => {
                self.left -= 1;
                Some(Ok(s))
            }
            Err(e) => {
                self.left = 0;
                Some(Err(e))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left + usize::from(self.failed)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode(samples: &[(i64, u64)]) -> XorAppender {
        let mut a = XorAppender::new();
        for &(t, v) in samples {
            a.push(t, f64::from_bits(v)).expect("push");
        }
        a
    }

    fn decode(data: &[u8]) -> Vec<(i64, u64)> {
        XorIter::new(data)
            .map(|s| s.map(|s| (s.t, s.v.to_bits())).expect("decode"))
            .collect()
    }

    fn round_trip(samples: &[(i64, u64)]) {
        // An appender rebuilt from the bytes continues exactly as the original would.
        if samples.len() > 1 {
            let (head, tail) = samples.split_at(samples.len() / 2);
            let mut resumed = XorAppender::from_bytes(encode(head).bytes()).expect("resumes");
            for &(t, v) in tail {
                resumed.push(t, f64::from_bits(v)).expect("push");
            }
            assert_eq!(resumed.bytes(), encode(samples).bytes());
        }
        let a = encode(samples);
        assert_eq!(a.len(), samples.len());
        assert_eq!(decode(a.bytes()), samples);
        let c = a.finish();
        assert_eq!(decode(c.bytes()), samples);
        let again = XorChunk::from_bytes(c.bytes().to_vec()).expect("valid");
        assert_eq!(again, c);
        if let (Some(first), Some(last)) = (samples.first(), samples.last()) {
            assert_eq!((c.min_t(), c.max_t()), (first.0, last.0));
        }
    }

    #[test]
    fn empty_chunk() {
        let a = XorAppender::new();
        assert!(a.is_empty());
        assert_eq!((a.min_t(), a.max_t()), (i64::MAX, i64::MIN));
        assert_eq!(a.iter().count(), 0);
        let c = a.finish();
        assert!(c.is_empty());
        assert_eq!(c.byte_size(), HEADER);
        assert_eq!(XorIter::new(&[]).count(), 0);
    }

    #[test]
    fn tricky_values_round_trip() {
        let values = [
            model::STALE_NAN_BITS,
            f64::NAN.to_bits(),
            0x7ff8_dead_beef_0001, // quiet NaN with a payload
            0xfff0_0000_0000_0001, // negative signalling NaN
            f64::INFINITY.to_bits(),
            f64::NEG_INFINITY.to_bits(),
            (-0.0f64).to_bits(),
            0.0f64.to_bits(),
            f64::MIN_POSITIVE.to_bits(),
            1, // smallest subnormal
            f64::MAX.to_bits(),
            f64::MIN.to_bits(),
            u64::MAX,
            0x8000_0000_0000_0001,
            1.5f64.to_bits(),
            1.5f64.to_bits(),
            model::STALE_NAN_BITS,
        ];
        let samples: Vec<(i64, u64)> = values
            .iter()
            .enumerate()
            .map(|(i, &v)| (i as i64 * 15_000 - 30_000, v))
            .collect();
        round_trip(&samples);
    }

    #[test]
    fn extreme_timestamps_round_trip() {
        round_trip(&[(i64::MIN, 1), (i64::MAX, 2)]);
        round_trip(&[(i64::MIN, 1), (0, 2), (i64::MAX, 3)]);
        round_trip(&[(i64::MIN, 1), (i64::MIN + 1, 2), (i64::MAX, 3)]);
        round_trip(&[(-5, 1), (-4, 1), (-2, 1), (1 << 40, 1), ((1 << 40) + 1, 1)]);
        round_trip(&[(i64::MAX, 0)]);
        round_trip(&[(i64::MIN, 0)]);
        // Every bucket edge, both signs.
        let mut t = 0i64;
        let mut delta = 1_000_000i64;
        let mut s = vec![(t, 0u64)];
        for width in [6u32, 16, 32] {
            let half = 1i64 << (width - 1);
            for dod in [half - 1, half, -half, -half - 1, 1, -1] {
                delta += dod;
                t += delta;
                s.push((t, 0));
            }
        }
        round_trip(&s);
    }

    #[test]
    fn refuses_out_of_order_and_full() {
        let mut a = encode(&[(10, 0)]);
        assert_eq!(
            a.push(10, 1.0),
            Err(ChunkError::OutOfOrder { t: 10, max_t: 10 })
        );
        assert!(a.push(9, 1.0).is_err());
        let mut a = XorAppender::new();
        for t in 0..MAX_SAMPLES as i64 {
            a.push(t, 1.0).expect("room");
        }
        assert_eq!(a.push(i64::MAX, 1.0), Err(ChunkError::Full));
        assert_eq!(a.iter().count(), MAX_SAMPLES);
    }

    #[test]
    fn corrupt_chunks_error_without_panicking() {
        let a = encode(&[(1_000, 1), (16_000, 2), (31_001, 7), (46_001, 7)]);
        let good = a.bytes().to_vec();
        // Every truncation.
        for n in 0..good.len() {
            let r: Result<Vec<_>, _> = XorIter::new(&good[..n]).collect();
            assert!(r.is_err() || n == 0, "truncated to {n} bytes");
            assert!(XorChunk::from_bytes(good[..n].to_vec()).is_err() || n == 0);
        }
        // Every single-bit flip, and a claimed count larger than the data.
        for i in 0..good.len() * 8 {
            let mut bad = good.clone();
            bad[i / 8] ^= 1 << (i % 8);
            let _ = XorIter::new(&bad).count();
            let _ = XorChunk::from_bytes(bad);
        }
        let mut bad = good.clone();
        bad[0] = 0xff;
        assert!(XorChunk::from_bytes(bad).is_err());
        assert!(XorIter::new(&[0xff, 0xff, 0xff]).any(|s| s.is_err()));
    }

    /// A realistic scrape: 15 s interval with +-5 ms jitter.
    fn jittered_times(n: usize, seed: u64) -> Vec<i64> {
        let mut rng = seed;
        (0..n as i64)
            .map(|i| {
                rng = rng
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                1_700_000_000_000 + i * 15_000 + ((rng >> 33) % 11) as i64 - 5
            })
            .collect()
    }

    fn bytes_per_sample(samples: &[(i64, f64)]) -> f64 {
        // In chunks of 120, as the head cuts them.
        let mut total = 0;
        for part in samples.chunks(120) {
            let mut a = XorAppender::new();
            for &(t, v) in part {
                a.push(t, v).expect("push");
            }
            let decoded: Vec<_> = a.iter().map(|s| s.expect("decode")).collect();
            assert!(
                decoded
                    .iter()
                    .zip(part)
                    .all(|(d, &(t, v))| d.t == t && d.v.to_bits() == v.to_bits())
            );
            total += a.finish().byte_size();
        }
        total as f64 / samples.len() as f64
    }

    #[test]
    fn decimal_chunks_rescale_escape_and_fall_back_to_xor() {
        let t = |i: usize| i as i64 * 15_000;
        // A counter that starts at an integer, then needs two decimal places: rescaled
        // once, still decimal; a staleness marker at the end is one raw value.
        let mut counter: Vec<(i64, u64)> = (0..120)
            .map(|i| (t(i), (100.0 + i as f64 * 0.25).to_bits()))
            .collect();
        counter.push((t(120), model::STALE_NAN_BITS));
        round_trip(&counter);
        let a = encode(&counter);
        assert_eq!(decimal_exp(a.bytes()), Some(2));
        assert!(a.byte_size() < 60, "{} bytes", a.byte_size());
        // Values no short decimal describes, past the escape budget: XOR from then on.
        let mut mixed: Vec<(i64, u64)> = (0..10).map(|i| (t(i), (i as f64).to_bits())).collect();
        mixed.extend((10..20).map(|i| (t(i), (i as f64 / 3.0).to_bits())));
        round_trip(&mixed);
        assert_eq!(decimal_exp(encode(&mixed).bytes()), None);
        // A first value that is no short decimal makes an XOR chunk from the start.
        assert_eq!(
            decimal_exp(encode(&[(0, (0.1f64 + 0.2).to_bits())]).bytes()),
            None
        );
    }

    #[test]
    fn scraped_decimals_take_about_a_byte_per_sample() {
        // CPU seconds with two decimals growing by a varying amount, as node_exporter's:
        // XOR needs most of the mantissa for each; decimals need the dod of hundredths.
        let mut total = 1234.56;
        let samples: Vec<(i64, u64)> = (0..120)
            .map(|i| {
                total += (1400 + (i * 7919) % 37) as f64 / 100.0;
                total = (total * 100.0).round() / 100.0;
                (i as i64 * 15_000, total.to_bits())
            })
            .collect();
        round_trip(&samples);
        let per = encode(&samples).byte_size() as f64 / 120.0;
        assert!(per < 1.2, "{per} bytes per sample");
    }

    #[test]
    fn realistic_series_take_under_three_bytes_per_sample() {
        let ts = jittered_times(1000, 7);
        // A counter: requests served, growing by a varying amount each scrape.
        let mut total = 0.0;
        let counter: Vec<(i64, f64)> = ts
            .iter()
            .enumerate()
            .map(|(i, &t)| {
                total += (40 + (i * 7919) % 23) as f64;
                (t, total)
            })
            .collect();
        // A slowly changing gauge: resident memory in 4 KiB pages, changing every few scrapes.
        let gauge: Vec<(i64, f64)> = ts
            .iter()
            .enumerate()
            .map(|(i, &t)| (t, (50_000 + (i / 4) * 3 % 97) as f64 * 4096.0))
            .collect();
        let c = bytes_per_sample(&counter);
        let g = bytes_per_sample(&gauge);
        assert!(c < 3.0, "counter takes {c} bytes per sample");
        assert!(g < 3.0, "gauge takes {g} bytes per sample");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn random_sequences_round_trip(
            start in any::<i64>(),
            steps in proptest::collection::vec(
                (prop_oneof![
                    4 => 14_990u64..15_010,
                    2 => 1u64..100,
                    1 => 1u64..u64::MAX,
                ], prop_oneof![
                    3 => any::<u64>(),
                    2 => (0u32..1000).prop_map(|x| f64::from(x).to_bits()),
                    // Short decimals of varying precision: rescaling and escapes.
                    3 => (-100_000i64..100_000, 0i32..5)
                        .prop_map(|(m, e)| (m as f64 / 10f64.powi(e)).to_bits()),
                    1 => Just(model::STALE_NAN_BITS),
                    1 => Just(f64::NAN.to_bits()),
                    1 => Just((-0.0f64).to_bits()),
                ]),
                0..300,
            ),
        ) {
            let mut samples = Vec::new();
            let mut t = start;
            for (i, (step, v)) in steps.into_iter().enumerate() {
                if i > 0 {
                    match t.checked_add_unsigned(step) {
                        Some(n) => t = n,
                        None => break,
                    }
                }
                samples.push((t, v));
            }
            let a = encode(&samples);
            prop_assert_eq!(decode(a.bytes()), samples);
        }
    }
}
