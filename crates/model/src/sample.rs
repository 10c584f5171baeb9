//! Samples, timestamps and Prometheus's staleness marker.

/// Milliseconds since the Unix epoch, as Prometheus stores them.
pub type Timestamp = i64;

/// The bit pattern Prometheus uses for its staleness marker: a NaN that no
/// arithmetic produces, so it can be told apart from a scraped NaN.
pub const STALE_NAN_BITS: u64 = 0x7ff0_0000_0000_0002;

/// The staleness marker as a float.
pub fn stale_nan() -> f64 {
    f64::from_bits(STALE_NAN_BITS)
}

/// True when `v` is exactly the staleness marker (not any NaN).
pub fn is_stale_nan(v: f64) -> bool {
    v.to_bits() == STALE_NAN_BITS
}

/// One float sample of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// When, in milliseconds since the epoch.
    pub t: Timestamp,
    /// The value; may be the staleness marker.
    pub v: f64,
}

impl Sample {
    /// A sample at `t` with value `v`.
    pub fn new(t: Timestamp, v: f64) -> Self {
        Sample { t, v }
    }

    /// Bit-for-bit equality, so NaNs (and the staleness marker) compare equal to themselves.
    pub fn bit_eq(&self, other: &Sample) -> bool {
        self.t == other.t && self.v.to_bits() == other.v.to_bits()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_marker_is_distinct_from_plain_nan() {
        assert!(is_stale_nan(stale_nan()));
        assert!(stale_nan().is_nan());
        assert!(!is_stale_nan(f64::NAN));
    }
}
