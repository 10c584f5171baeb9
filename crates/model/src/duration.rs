//! Prometheus durations: `1y2w3d4h5m6s7ms`, units in that order, each at most once.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A duration that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid duration string: {0:?}")]
pub struct DurationError(pub String);

/// A duration written the way Prometheus writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct PromDuration(pub Duration);

const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 3600 * 1000),
    ("w", 7 * 24 * 3600 * 1000),
    ("d", 24 * 3600 * 1000),
    ("h", 3600 * 1000),
    ("m", 60 * 1000),
    ("s", 1000),
    ("ms", 1),
];

impl PromDuration {
    /// From whole milliseconds.
    pub fn from_millis(ms: u64) -> Self {
        PromDuration(Duration::from_millis(ms))
    }

    /// Whole milliseconds.
    pub fn as_millis(&self) -> i64 {
        i64::try_from(self.0.as_millis()).unwrap_or(i64::MAX)
    }

    /// The std duration.
    pub fn std(&self) -> Duration {
        self.0
    }
}

impl FromStr for PromDuration {
    type Err = DurationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || DurationError(s.to_string());
        if s == "0" {
            return Ok(PromDuration::default());
        }
        if s.is_empty() {
            return Err(err());
        }
        let b = s.as_bytes();
        let mut i = 0;
        let mut next_unit = 0;
        let mut total: u64 = 0;
        while i < b.len() {
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == start {
                return Err(err());
            }
            let n: u64 = s[start..i].parse().map_err(|_| err())?;
            let ustart = i;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            let unit = &s[ustart..i];
            let pos = UNITS[next_unit..]
                .iter()
                .position(|(u, _)| *u == unit)
                .ok_or_else(err)?;
            let (_, mult) = UNITS[next_unit + pos];
            next_unit += pos + 1;
            total = n
                .checked_mul(mult)
                .and_then(|v| total.checked_add(v))
                .filter(|v| *v <= i64::MAX as u64)
                .ok_or_else(err)?;
        }
        Ok(PromDuration::from_millis(total))
    }
}

impl fmt::Display for PromDuration {
    /// Renders as Prometheus does: largest units first, `0s` for zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = self.0.as_millis() as u64;
        if ms == 0 {
            return f.write_str("0s");
        }
        for (unit, mult) in UNITS {
            // Prometheus prints weeks only when they divide exactly, and never years
            // unless exact; the simple greedy form is the same for whole values.
            if ms >= mult {
                let n = ms / mult;
                if (unit == "y" || unit == "w") && !ms.is_multiple_of(mult) {
                    continue;
                }
                write!(f, "{n}{unit}")?;
                ms -= n * mult;
            }
        }
        Ok(())
    }
}

impl<'de> serde::Deserialize<'de> for PromDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for PromDuration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let d: PromDuration = "1m30s".parse().expect("valid");
        assert_eq!(d.as_millis(), 90_000);
        assert_eq!(d.to_string(), "1m30s");
        assert_eq!(
            "0".parse::<PromDuration>().expect("valid").to_string(),
            "0s"
        );
        assert_eq!(
            "1d".parse::<PromDuration>().expect("valid").as_millis(),
            86_400_000
        );
        assert_eq!(
            "250ms".parse::<PromDuration>().expect("valid").as_millis(),
            250
        );
        assert!("1s1m".parse::<PromDuration>().is_err());
        assert!("1x".parse::<PromDuration>().is_err());
        assert!("5".parse::<PromDuration>().is_err());
        assert!("".parse::<PromDuration>().is_err());
    }
}
