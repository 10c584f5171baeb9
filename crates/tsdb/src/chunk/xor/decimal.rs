//! Decimal values in a head chunk: most scraped values are short decimals (`12.75`,
//! `0.005`, byte counts), whose float bits change almost entirely from one sample to the
//! next, so XOR saves little on them (tsbench's series: 303 bytes per 120-sample chunk).
//! A decimal chunk stores each value as an integer mantissa `m` with `v == m / 10^e`
//! (one exponent `e` per chunk, checked bit for bit), and the mantissas as
//! delta-of-deltas in variable-width buckets, as timestamps are.
//!
//! The mode is chosen at the first sample: decimal when the value is one, XOR otherwise.
//! A later value that needs more decimal places rescales the chunk (it is re-encoded
//! once with the larger exponent); a value that is no short decimal (NaN, the staleness
//! marker, -0.0, a float artefact like 0.30000000000000004) is written raw behind an
//! escape prefix, and a chunk with more than [`MAX_ESCAPES`] of them is re-encoded as
//! XOR. The layout is in FORMAT.md, "Decimal chunks".

use model::Sample;

use super::{ChunkError, XorAppender, XorIter, mask};
use crate::chunk::cold;

/// Largest exponent: values with up to 12 decimal places.
pub(super) const MAX_EXP: u8 = 12;

/// Raw values written in one decimal chunk before it turns to XOR instead.
pub(super) const MAX_ESCAPES: u8 = 4;

/// Flag in the header's sample count (its top bit) marking a decimal chunk.
pub(super) const DECIMAL_FLAG: u16 = 0x8000;

/// Mantissa delta-of-delta buckets after the `0` for zero: (prefix, prefix length,
/// zigzag value bits). Mantissas are below 2^53, so their delta-of-deltas fit 56 bits.
const BUCKETS: [(u64, u32, u32); 8] = [
    (0b10, 2, 4),
    (0b110, 3, 8),
    (0b1110, 4, 12),
    (0b11110, 5, 16),
    (0b111110, 6, 20),
    (0b1111110, 7, 24),
    (0b11111110, 8, 32),
    (0b111111110, 9, 56),
];

/// Prefix of a raw 64-bit value that is not a decimal at the chunk's exponent.
const ESCAPE: (u64, u32) = (0b111111111, 9);

/// After this many samples a decimal chunk compares itself with the XOR encoding of the
/// same samples and keeps the smaller: large integers that wander (free bytes, memory
/// in pages) keep more of their float bits under XOR than their delta-of-deltas need.
pub(super) const TRIAL_SAMPLES: u16 = 8;

/// The mantissa `m` with `m / 10^exp == v` exactly (same bits), if there is one below
/// 2^53 in magnitude: the cold chunks' decimal test, with the head's bound. The decoder
/// computes [`from_decimal`], the very expression checked, so a value that passes comes
/// back bit for bit.
#[inline]
pub(super) fn to_decimal(v: f64, exp: u8) -> Option<i64> {
    cold::to_decimal(v, exp.min(MAX_EXP)).filter(|m| m.unsigned_abs() < 1 << 53)
}

/// The value of mantissa `m` at exponent `exp`.
#[inline]
pub(super) fn from_decimal(m: i64, exp: u8) -> f64 {
    cold::from_decimal(m, cold::POW10[usize::from(exp.min(MAX_EXP))])
}

/// The smallest exponent at least `from` at which `v` is a decimal.
pub(super) fn exponent_for(v: f64, from: u8) -> Option<u8> {
    (from..=MAX_EXP).find(|&e| to_decimal(v, e).is_some())
}

fn zigzag(x: i64) -> u64 {
    ((x << 1) ^ (x >> 63)) as u64
}

fn unzigzag(x: u64) -> i64 {
    ((x >> 1) as i64) ^ -((x & 1) as i64)
}

impl XorAppender {
    /// Writes the value of a sample after the first in a decimal chunk (`m` is its
    /// mantissa, or `None` for a raw value). `lead_zero` first writes the `0` of a zero
    /// timestamp delta-of-delta, in the same store as the value's code (the usual sample
    /// is then one write of a few bits).
    pub(super) fn write_decimal(&mut self, lead_zero: bool, m: Option<i64>, bits: u64) {
        let lead = u32::from(lead_zero);
        let Some(m) = m else {
            self.write_bits(ESCAPE.0, ESCAPE.1 + lead);
            self.write_bits(bits, 64);
            self.escapes += 1;
            return;
        };
        let prev = self.v as i64;
        // |m|, |prev| < 2^53: no overflow in i64.
        let delta = m - prev;
        let dod = delta - self.dm;
        let z = zigzag(dod);
        if z == 0 {
            // A leading zero bit is the same value written one bit wider.
            self.write_bits(0, 1 + lead);
        } else {
            let (prefix, plen, width) = BUCKETS
                .into_iter()
                .find(|&(_, _, w)| z <= mask(w))
                .unwrap_or(BUCKETS[BUCKETS.len() - 1]);
            if lead + plen + width <= 64 {
                self.write_bits(prefix << width | z, lead + plen + width);
            } else {
                self.write_bits(prefix, lead + plen);
                self.write_bits(z, width);
            }
        }
        self.dm = delta;
        self.v = m as u64;
    }

    /// Appends `(t, v)` to a decimal chunk whose value `v` is not a decimal at its
    /// exponent: rescales when a larger exponent fits every decimal sample, writes it raw
    /// while escapes remain, else turns the chunk into XOR.
    pub(super) fn push_undecimal(&mut self, t: i64, v: f64) -> Result<(), ChunkError> {
        if let Some(e) = exponent_for(v, self.exp.saturating_add(1))
            && let Some(rescaled) = self.reencode(Some(e))
        {
            *self = rescaled;
            return self.push(t, v);
        }
        if self.escapes < MAX_ESCAPES {
            return self.push_decimal(t, v, None);
        }
        if let Some(xor) = self.reencode(None) {
            *self = xor;
        }
        self.push(t, v)
    }

    /// At the trial point, turns a decimal chunk into XOR when XOR is smaller so far.
    pub(super) fn trial(&mut self) {
        if let Some(xor) = self.reencode(None)
            && xor.buf.len() < self.buf.len()
        {
            *self = xor;
        }
    }

    /// The same samples encoded again, in decimal at `exp` or as XOR; `None` when a
    /// sample that was a decimal is not one at `exp` (or the chunk does not decode).
    fn reencode(&self, exp: Option<u8>) -> Option<XorAppender> {
        let samples: Vec<Sample> = self.iter().collect::<Result<_, _>>().ok()?;
        let mut out = XorAppender::with_mode(exp);
        for s in &samples {
            match exp {
                None => out.push(s.t, s.v).ok()?,
                Some(e) => {
                    let m = to_decimal(s.v, e);
                    if m.is_none() && to_decimal(s.v, self.exp).is_some() {
                        return None;
                    }
                    out.push_decimal(s.t, s.v, m).ok()?;
                }
            }
        }
        Some(out)
    }
}

impl XorIter<'_> {
    /// Reads the value of a sample after the first in a decimal chunk.
    pub(super) fn read_decimal(&mut self) -> Result<u64, ChunkError> {
        if !self.bit()? {
            return Ok(self.decimal_step(0));
        }
        for (_, _, width) in BUCKETS {
            if !self.bit()? {
                let z = self.bits(width)?;
                return Ok(self.decimal_step(unzigzag(z)));
            }
        }
        // The escape: a raw value, leaving the mantissa state as it was.
        self.escapes = self.escapes.saturating_add(1);
        self.bits(64)
    }

    /// Applies a mantissa delta-of-delta; returns the value's bits.
    fn decimal_step(&mut self, dod: i64) -> u64 {
        let delta = self.dm.wrapping_add(dod);
        self.m = self.m.wrapping_add(delta);
        self.dm = delta;
        from_decimal(self.m, self.exp).to_bits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_round_trip_bit_for_bit() {
        for (v, e) in [
            (0.0, 0),
            (12.75, 2),
            (0.005, 3),
            (-3.1, 1),
            (1e15, 0),
            (123456.789, 3),
            (1e-12, 12),
        ] {
            assert_eq!(exponent_for(v, 0), Some(e), "{v}");
            let m = to_decimal(v, e).expect("decimal");
            assert_eq!(from_decimal(m, e).to_bits(), v.to_bits(), "{v}");
        }
        for v in [
            f64::NAN,
            f64::INFINITY,
            -0.0,
            0.1 + 0.2,
            1.0 / 3.0,
            1e300,
            f64::from_bits(0x7ff0_0000_0000_0002),
        ] {
            assert_eq!(exponent_for(v, 0), None, "{v}");
        }
    }

    #[test]
    fn zigzag_round_trips_at_the_extremes() {
        for x in [0, 1, -1, i64::MAX >> 8, -(1 << 55), (1 << 55) - 1] {
            assert_eq!(unzigzag(zigzag(x)), x);
        }
        // The widest bucket holds every delta-of-delta of mantissas below 2^53.
        let widest = zigzag(-(1i64 << 55));
        assert!(widest <= mask(56));
    }
}
