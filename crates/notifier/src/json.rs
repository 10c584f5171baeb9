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

use gofmt::{GoTime, RFC3339_MILLIS};
use model::Labels;

use crate::alert::Alert;

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
        // An unset end is Go's zero time.
        let ends_at = a.ends_at.map_or(GoTime::ZERO, GoTime::unix_milli);
        out.push_str(&ends_at.format(RFC3339_MILLIS));
        out.push_str("\",\"startsAt\":\"");
        out.push_str(&GoTime::unix_milli(a.starts_at).format(RFC3339_MILLIS));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_millis_utc() {
        // The layout itself is gofmt's millisecond_layout test; here, start and end.
        let a = Alert {
            labels: Labels::from_pairs([("alertname", "A")]),
            starts_at: -1,
            ends_at: Some(951_782_400_000),
            ..Alert::default()
        };
        let got = String::from_utf8(encode_alerts(&[Arc::new(a)])).expect("utf8");
        assert_eq!(
            got,
            r#"[{"endsAt":"2000-02-29T00:00:00.000Z","startsAt":"1969-12-31T23:59:59.999Z","labels":{"alertname":"A"}}]"#
        );
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
