//! The body of Alertmanager API v2's `POST /api/v2/alerts`, byte for byte what Prometheus
//! sends: Go's `encoding/json` of the OpenAPI `PostableAlerts` model.
//!
//! - Fields in the model's order: `annotations` (left out when empty), `endsAt`, `startsAt`,
//!   `generatorURL` (left out when empty), `labels`.
//! - Times as go-openapi's `strfmt.DateTime`: RFC 3339 with milliseconds, here in UTC
//!   (`2024-05-01T12:00:00.000Z`). An unset end is Go's zero time,
//!   `0001-01-01T00:00:00.000Z` (the model's `omitempty` does not apply to structs), which
//!   Alertmanager reads as "not set".
//! - Strings escaped as Go escapes them, HTML characters included (`<` is `\u003c`).

use std::sync::Arc;

use model::Labels;

use crate::alert::Alert;

/// What Go's zero `time.Time` formats as.
const ZERO_TIME: &str = "0001-01-01T00:00:00.000Z";

/// Encodes a batch as the JSON array Alertmanager's v2 API takes.
pub fn encode_alerts(alerts: &[Arc<Alert>]) -> Vec<u8> {
    let mut out = String::with_capacity(alerts.len() * 256 + 2);
    out.push('[');
    for (i, a) in alerts.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('{');
        if !a.annotations.is_empty() {
            out.push_str("\"annotations\":");
            write_label_set(&mut out, &a.annotations);
            out.push(',');
        }
        out.push_str("\"endsAt\":\"");
        match a.ends_at {
            Some(ms) => write_rfc3339_millis(&mut out, ms),
            None => out.push_str(ZERO_TIME),
        }
        out.push_str("\",\"startsAt\":\"");
        write_rfc3339_millis(&mut out, a.starts_at);
        out.push('"');
        if !a.generator_url.is_empty() {
            out.push_str(",\"generatorURL\":");
            write_string(&mut out, &a.generator_url);
        }
        out.push_str(",\"labels\":");
        write_label_set(&mut out, &a.labels);
        out.push('}');
    }
    out.push(']');
    out.into_bytes()
}

/// A label set as a JSON object; Go sorts map keys bytewise, the order `Labels` keeps.
fn write_label_set(out: &mut String, labels: &Labels) {
    out.push('{');
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(out, &l.name);
        out.push(':');
        write_string(out, &l.value);
    }
    out.push('}');
}

/// A JSON string as Go's `encoding/json` writes it (HTML-safe escaping on, `\b` and `\f`
/// short forms as since Go 1.22, U+2028/U+2029 escaped).
fn write_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c if (c as u32) < 0x20 || c == '<' || c == '>' || c == '&' => {
                let b = c as u32 as usize;
                out.push_str("\\u00");
                out.push(HEX[b >> 4] as char);
                out.push(HEX[b & 0xf] as char);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `ms` since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ` (Go's layout
/// `2006-01-02T15:04:05.000Z07:00` in UTC; years before 1 get a minus sign as in Go).
pub(crate) fn write_rfc3339_millis(out: &mut String, ms: i64) {
    use std::fmt::Write as _;
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    if y < 0 {
        let _ = write!(out, "-{:04}", -y);
    } else {
        let _ = write!(out, "{y:04}");
    }
    let _ = write!(
        out,
        "-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    );
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rfc(ms: i64) -> String {
        let mut s = String::new();
        write_rfc3339_millis(&mut s, ms);
        s
    }

    #[test]
    fn times_are_rfc3339_millis_utc() {
        assert_eq!(rfc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc(1_714_564_800_123), "2024-05-01T12:00:00.123Z");
        assert_eq!(rfc(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc(-1), "1969-12-31T23:59:59.999Z");
        // Go's zero time is 62135596800 s before the epoch.
        assert_eq!(rfc(-62_135_596_800_000), ZERO_TIME);
    }

    #[test]
    fn batch_matches_prometheus_bytes() {
        let a = Alert {
            labels: Labels::from_pairs([("alertname", "High<Load>"), ("job", "a&b")]),
            annotations: Labels::from_pairs([("summary", "line1\nline2 \"q\" \u{2028}")]),
            starts_at: 1_714_564_800_000,
            ends_at: Some(1_714_565_100_500),
            generator_url: "http://prom/graph?g0.expr=up".into(),
        };
        let b = Alert {
            labels: Labels::from_pairs([("alertname", "B")]),
            starts_at: 1_714_564_800_000,
            ..Alert::default()
        };
        let got = String::from_utf8(encode_alerts(&[Arc::new(a), Arc::new(b)])).expect("utf8");
        let want = concat!(
            r#"[{"annotations":{"summary":"line1\nline2 \"q\" \u2028"},"#,
            r#""endsAt":"2024-05-01T12:05:00.500Z","startsAt":"2024-05-01T12:00:00.000Z","#,
            r#""generatorURL":"http://prom/graph?g0.expr=up","#,
            r#""labels":{"alertname":"High\u003cLoad\u003e","job":"a\u0026b"}},"#,
            r#"{"endsAt":"0001-01-01T00:00:00.000Z","startsAt":"2024-05-01T12:00:00.000Z","#,
            r#""labels":{"alertname":"B"}}]"#
        );
        assert_eq!(got, want);
        assert_eq!(encode_alerts(&[]), b"[]");
    }

    #[test]
    fn control_characters_use_go_escapes() {
        let mut s = String::new();
        write_string(&mut s, "\u{1}\u{8}\u{c}\u{1f}\té");
        assert_eq!(s, r#""\u0001\b\f\u001f\té""#);
    }

    #[test]
    fn output_is_valid_json() {
        let a = Alert {
            labels: Labels::from_pairs([("alertname", "x\u{0}y")]),
            ..Alert::default()
        };
        let v: serde_json::Value =
            serde_json::from_slice(&encode_alerts(&[Arc::new(a)])).expect("valid JSON");
        assert_eq!(v[0]["labels"]["alertname"], "x\u{0}y");
    }
}
