//! Prometheus's number and time formatting functions: `humanize`,
//! `humanize1024`, `humanizeDuration`, `humanizePercentage`,
//! `humanizeTimestamp`, `toTime`, `toDuration`, `parseDuration`.

use crate::gofmt::{g4, sprint_v};
use crate::value::Value;
use gofmt::{GoTime, parse_float};

/// Prometheus's `ConvertToFloat`: floats, numeric strings, integers, and
/// durations (as seconds).
pub(crate) fn to_float(v: &Value) -> Result<f64, String> {
    match v {
        Value::Float(f) => Ok(*f),
        Value::Str(s) => parse_float(s),
        Value::Int(i) => Ok(*i as f64),
        Value::Duration(d, false) => Ok(*d as f64 / 1e9),
        v => Err(format!("can't convert {} to float", v.type_name())),
    }
}

/// `humanize`: SI prefixes, four significant digits.
pub(crate) fn humanize(v: f64) -> String {
    if v == 0.0 || v.is_nan() || v.is_infinite() {
        return g4(v);
    }
    let mut v = v;
    let mut prefix = "";
    if v.abs() >= 1.0 {
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"] {
            if v.abs() < 1000.0 {
                break;
            }
            prefix = p;
            v /= 1000.0;
        }
    } else {
        for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
            if v.abs() >= 1.0 {
                break;
            }
            prefix = p;
            v *= 1000.0;
        }
    }
    format!("{}{prefix}", g4(v))
}

/// `humanize1024`: binary prefixes above 1.
pub(crate) fn humanize1024(v: f64) -> String {
    if v.abs() <= 1.0 || v.is_nan() || v.is_infinite() {
        return g4(v);
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"] {
        if v.abs() < 1024.0 {
            break;
        }
        prefix = p;
        v /= 1024.0;
    }
    format!("{}{prefix}", g4(v))
}

/// `humanizeDuration`: seconds as `1d 2h 3m 4s`, or with SI prefixes below
/// one second.
pub(crate) fn humanize_duration(v: f64) -> String {
    if v.is_nan() || v.is_infinite() {
        return g4(v);
    }
    if v == 0.0 {
        return format!("{}s", g4(v));
    }
    if v.abs() >= 1.0 {
        let sign = if v < 0.0 { "-" } else { "" };
        let v = v.abs();
        let d = v as i64;
        let (secs, mins, hours, days) = (d % 60, d / 60 % 60, d / 3600 % 24, d / 86_400);
        if days != 0 {
            return format!("{sign}{days}d {hours}h {mins}m {secs}s");
        }
        if hours != 0 {
            return format!("{sign}{hours}h {mins}m {secs}s");
        }
        if mins != 0 {
            return format!("{sign}{mins}m {secs}s");
        }
        return format!("{sign}{}s", g4(v));
    }
    let mut v = v;
    let mut prefix = "";
    for p in ["m", "u", "n", "p", "f", "a", "z", "y"] {
        if v.abs() >= 1.0 {
            break;
        }
        prefix = p;
        v *= 1000.0;
    }
    format!("{}{prefix}s", g4(v))
}

/// `humanizePercentage`: a ratio as a percentage.
pub(crate) fn humanize_percentage(v: f64) -> String {
    format!("{}%", g4(v * 100.0))
}

/// Prometheus's `floatToTime`: seconds to a time, truncated to
/// milliseconds; `Err(None)` for NaN and infinities.
pub(crate) fn float_to_time(v: f64) -> Result<GoTime, Option<String>> {
    if v.is_nan() || v.is_infinite() {
        return Err(None);
    }
    let ts = v * 1e9;
    if ts > i64::MAX as f64 || ts < i64::MIN as f64 {
        return Err(Some(format!(
            "{} cannot be represented as a nanoseconds timestamp since it overflows int64",
            sprint_v(&Value::Float(v))
        )));
    }
    let ms = (ts as i64) / 1_000_000;
    Ok(GoTime::unix(ms / 1000, (ms % 1000) * 1_000_000))
}

/// `humanizeTimestamp`: seconds since the epoch as a UTC time.
pub(crate) fn humanize_timestamp(v: f64) -> Result<String, String> {
    match float_to_time(v) {
        Ok(t) => Ok(t.go_string()),
        Err(None) => Ok(g4(v)),
        Err(Some(e)) => Err(e),
    }
}

/// `toTime`.
pub(crate) fn to_time(v: f64) -> Result<Value, String> {
    match float_to_time(v) {
        Ok(t) => Ok(Value::Time(t, true)),
        Err(None) => Err("value is NaN or Inf".into()),
        Err(Some(e)) => Err(e),
    }
}

/// `toDuration`: seconds to a `*time.Duration`.
pub(crate) fn to_duration(v: f64) -> Value {
    Value::Duration((v * 1e9) as i64, true)
}

const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 86_400 * 1_000_000_000),
    ("w", 7 * 86_400 * 1_000_000_000),
    ("d", 86_400 * 1_000_000_000),
    ("h", 3_600 * 1_000_000_000),
    ("m", 60 * 1_000_000_000),
    ("s", 1_000_000_000),
    ("ms", 1_000_000),
];

/// `parseDuration`: a Prometheus duration (a leading `-` allowed) in
/// seconds.
pub(crate) fn parse_duration(s: &str) -> Result<f64, String> {
    let (neg, body) = match s.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, s),
    };
    let ns = parse_prom_duration(body)?;
    let secs = ns as f64 / 1e9;
    Ok(if neg { -secs } else { secs })
}

fn parse_prom_duration(orig: &str) -> Result<u64, String> {
    match orig {
        "0" => return Ok(0),
        "" => return Err("empty duration string".into()),
        _ => {}
    }
    let invalid = || format!("not a valid duration string: {}", gofmt::quote(orig));
    let mut s = orig;
    let mut dur: u64 = 0;
    let mut last_unit = 0;
    while !s.is_empty() {
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid());
        }
        let v: u64 = s[..digits].parse().map_err(|_| invalid())?;
        s = &s[digits..];
        let ulen = s.bytes().take_while(|b| !b.is_ascii_digit()).count();
        if ulen == 0 {
            return Err(invalid());
        }
        let unit = &s[..ulen];
        s = &s[ulen..];
        let Some(pos) = UNITS.iter().position(|(u, _)| *u == unit) else {
            return Err(format!(
                "unknown unit {} in duration {}",
                gofmt::quote(unit),
                gofmt::quote(orig)
            ));
        };
        if pos < last_unit {
            return Err(invalid());
        }
        last_unit = pos + 1;
        let mult = UNITS[pos].1;
        if v > (1u64 << 63) / mult {
            return Err("duration out of range".into());
        }
        dur = dur.saturating_add(v * mult);
        if dur > i64::MAX as u64 {
            return Err("duration out of range".into());
        }
    }
    Ok(dur)
}
