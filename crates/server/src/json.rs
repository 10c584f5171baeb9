//! Prometheus's JSON encoding, byte for byte: the response envelope, label sets,
//! timestamps as seconds with millisecond digits, sample values as strings.
//!
//! Written by hand rather than through serde because Prometheus's codec has
//! its own rules (HTML-safe string escaping, `"+Inf"`, exponent switch-over)
//! that clients compare against.

use std::fmt::Write as _;

use model::{Labels, Timestamp};

/// Appends `s` as a JSON string escaped the way Prometheus's codec
/// (jsoniter in standard-library-compatible mode) escapes it.
pub fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // HTML-sensitive characters and the JavaScript line separators are
            // escaped as Go's encoder does with HTML escaping on.
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends a millisecond timestamp as seconds: `1435781451.781`, `12`, `-1.5`
/// is written `-1.500` (the fraction always has three digits when present).
pub fn write_timestamp(out: &mut String, t: Timestamp) {
    if t < 0 {
        out.push('-');
    }
    let abs = t.unsigned_abs();
    let _ = write!(out, "{}", abs / 1000);
    let frac = abs % 1000;
    if frac != 0 {
        let _ = write!(out, ".{frac:03}");
    }
}

/// Formats a sample value as Go's `strconv.FormatFloat(v, 'f', -1, 64)`, switching
/// to the `e` form below 1e-6 and from 1e21 as Prometheus does; `NaN`, `+Inf`, `-Inf`.
pub fn format_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    let abs = v.abs();
    if abs != 0.0 && !(1e-6..1e21).contains(&abs) {
        // Go's `strconv.FormatFloat(v, 'e', -1, 64)`: `1.5e-07`, `1e+21`.
        return gofmt::format_float(v, b'e', -1);
    }
    // Rust's shortest round-trip decimal form equals Go's 'f' with precision -1.
    format!("{v}")
}

/// Appends a sample value as a quoted string.
pub fn write_float(out: &mut String, v: f64) {
    out.push('"');
    out.push_str(&format_float(v));
    out.push('"');
}

/// Appends a label set as a JSON object in label order.
pub fn write_labels(out: &mut String, labels: &Labels) {
    out.push('{');
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, &l.name);
        out.push(':');
        write_str(out, &l.value);
    }
    out.push('}');
}

/// Appends a `[<seconds>,"<value>"]` pair.
pub fn write_point(out: &mut String, t: Timestamp, v: f64) {
    out.push('[');
    write_timestamp(out, t);
    out.push(',');
    write_float(out, v);
    out.push(']');
}

/// Appends a native histogram as Prometheus's API writes one (`jsonutil.MarshalHistogram`):
/// `{"count":"..","sum":"..","buckets":[[boundaries,"lower","upper","count"],...]}`, the
/// populated buckets from the lowest up; `boundaries` is 0 (upper bound inclusive), 1
/// (lower), 2 (neither) or 3 (both).
pub fn write_histogram(out: &mut String, h: &model::FloatHistogram) {
    out.push_str(r#"{"count":"#);
    write_float(out, h.count);
    out.push_str(r#","sum":"#);
    write_float(out, h.sum);
    let mut buckets = h.all_buckets();
    buckets.retain(|b| b.count != 0.0);
    if !buckets.is_empty() {
        out.push_str(r#","buckets":["#);
        for (i, b) in buckets.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let boundaries = match (b.lower_inclusive, b.upper_inclusive) {
                (false, true) => 0,
                (true, false) => 1,
                (false, false) => 2,
                (true, true) => 3,
            };
            let _ = write!(out, "[{boundaries},");
            write_float(out, b.lower);
            out.push(',');
            write_float(out, b.upper);
            out.push(',');
            write_float(out, b.count);
            out.push(']');
        }
        out.push(']');
    }
    out.push('}');
}

/// Appends a `[<seconds>,{histogram}]` pair.
pub fn write_histogram_point(out: &mut String, t: Timestamp, h: &model::FloatHistogram) {
    out.push('[');
    write_timestamp(out, t);
    out.push(',');
    write_histogram(out, h);
    out.push(']');
}

/// Appends a JSON array of strings.
pub fn write_str_array(out: &mut String, items: &[String]) {
    out.push('[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, s);
    }
    out.push(']');
}

/// The success envelope around already-encoded `data`; `warnings` left out when empty.
pub fn success(data: &str, warnings: &[String]) -> String {
    success_annotated(data, warnings, &[])
}

/// The success envelope with `warnings` and `infos`, each left out when empty.
pub fn success_annotated(data: &str, warnings: &[String], infos: &[String]) -> String {
    let mut out = String::with_capacity(data.len() + 64);
    out.push_str(r#"{"status":"success","data":"#);
    out.push_str(data);
    if !warnings.is_empty() {
        out.push_str(r#","warnings":"#);
        write_str_array(&mut out, warnings);
    }
    if !infos.is_empty() {
        out.push_str(r#","infos":"#);
        write_str_array(&mut out, infos);
    }
    out.push('}');
    out
}

/// Appends a time as Go's `time.Time` JSON form (RFC 3339 with nanoseconds, trailing
/// zeros of the fraction dropped, UTC as `Z`): `2024-02-29T10:00:00.5Z`.
pub fn write_go_time(out: &mut String, t: std::time::SystemTime) {
    out.push('"');
    out.push_str(&gofmt::rfc3339_nano(Some(t)));
    out.push('"');
}

/// The error envelope: `{"status":"error","errorType":...,"error":...}`.
pub fn error(error_type: &str, message: &str) -> String {
    let mut out = String::with_capacity(message.len() + 64);
    out.push_str(r#"{"status":"error","errorType":"#);
    write_str(&mut out, error_type);
    out.push_str(r#","error":"#);
    write_str(&mut out, message);
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exponent form as it was written here before using `gofmt::format_float`.
    fn old_exponent_form(v: f64) -> String {
        let s = format!("{v:e}");
        let Some((mantissa, exp)) = s.split_once('e') else {
            return s;
        };
        let (sign, digits) = match exp.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exp),
        };
        let pad = if digits.len() < 2 { "0" } else { "" };
        format!("{mantissa}e{sign}{pad}{digits}")
    }

    #[test]
    fn exponent_form_matches_the_former_one() {
        let mut values = vec![
            f64::MIN_POSITIVE,
            f64::MAX,
            5e-324,
            1e-7,
            1.5e-7,
            1e-6f64.next_down(),
            1e21f64.next_up(),
            1e21,
            1.2345678901234567e21,
            1e100,
            1e-100,
            123456789e300,
        ];
        // A spread of magnitudes and mantissas, xorshift-driven for repeatability.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = f64::from_bits(x);
            if v.is_finite() {
                values.push(v);
            }
        }
        for e in -330..=308 {
            values.push(10f64.powi(e));
            values.push(1.5 * 10f64.powi(e));
            values.push(std::f64::consts::PI * 10f64.powi(e));
        }
        let mut checked = 0;
        for v in values.into_iter().flat_map(|v| [v, -v]) {
            let abs = v.abs();
            if !v.is_finite() || abs == 0.0 || (1e-6..1e21).contains(&abs) {
                continue;
            }
            assert_eq!(format_float(v), old_exponent_form(v), "{v:e}");
            checked += 1;
        }
        assert!(checked > 100_000, "{checked}");
    }

    #[test]
    fn floats_like_go() {
        let cases = [
            (1.0, "1"),
            (0.5, "0.5"),
            (-0.0, "-0"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.5e-7, "1.5e-07"),
            (1e-6, "0.000001"),
            (123456789.125, "123456789.125"),
            (2.5e300, "2.5e+300"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
            (0.1 + 0.2, "0.30000000000000004"),
        ];
        for (v, want) in cases {
            assert_eq!(format_float(v), want, "{v}");
        }
    }

    #[test]
    fn timestamps_like_prometheus() {
        let cases = [
            (1435781451781, "1435781451.781"),
            (1000, "1"),
            (1005, "1.005"),
            (1050, "1.050"),
            (-1500, "-1.500"),
            (0, "0"),
        ];
        for (t, want) in cases {
            let mut s = String::new();
            write_timestamp(&mut s, t);
            assert_eq!(s, want);
        }
    }

    #[test]
    fn strings_html_safe() {
        let mut s = String::new();
        write_str(&mut s, "a<b>&\"\\\n\u{1}\u{2028}é");
        assert_eq!(s, r#""a\u003cb\u003e\u0026\"\\\n\u0001\u2028é""#);
    }

    #[test]
    fn go_times() {
        use std::time::{Duration, UNIX_EPOCH};
        // The formatting itself is gofmt::rfc3339_nano's tests; here, the quoting.
        let mut s = String::new();
        write_go_time(
            &mut s,
            UNIX_EPOCH + Duration::new(1_709_200_800, 500_000_000),
        );
        assert_eq!(s, r#""2024-02-29T10:00:00.5Z""#);
    }

    #[test]
    fn envelope() {
        assert_eq!(success("[]", &[]), r#"{"status":"success","data":[]}"#);
        assert_eq!(
            success("[]", &["w".to_string()]),
            r#"{"status":"success","data":[],"warnings":["w"]}"#
        );
        assert_eq!(
            success_annotated("1", &[], &["i".to_string()]),
            r#"{"status":"success","data":1,"infos":["i"]}"#
        );
        assert_eq!(
            error("bad_data", "x"),
            r#"{"status":"error","errorType":"bad_data","error":"x"}"#
        );
    }
}
