//! The `{{...}}` notation of Prometheus's test files (promtool's rule tests and
//! the PromQL test scripts): `{{schema:1 sum:-0.3 count:32.1 z_bucket:7.1
//! z_bucket_w:0.05 buckets:[5.1 10 7] offset:-3 n_buckets:[4.1 5] n_offset:-5
//! counter_reset_hint:not_reset custom_values:[1 2]}}`, read as Prometheus's
//! series-description grammar reads it, and printed as its `TestExpression`.

use gofmt::{go_g, parse_float, parse_int_base0};

use super::{CUSTOM_BUCKETS_SCHEMA, CounterResetHint, FloatHistogram, Span};

/// A histogram literal that does not parse: what is wrong and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad histogram literal at character {}: {msg}", .pos + 1)]
pub struct HistogramParseError {
    /// Byte offset of the problem in the text given to the parser.
    pub pos: usize,
    /// What is wrong.
    pub msg: String,
}

/// A parsed histogram literal.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedHistogram {
    /// The histogram.
    pub histogram: FloatHistogram,
    /// `counter_reset_hint` was written out (the PromQL test scripts then compare it).
    pub hint_set: bool,
}

/// Parses the histogram literal at the start of `s`; returns it and the rest of `s`.
pub fn parse_histogram(s: &str) -> Result<(ParsedHistogram, &str), HistogramParseError> {
    let mut p = Parser { s, pos: 0 };
    let h = p.literal()?;
    Ok((h, &s[p.pos..]))
}

/// The values a literal sets, before they become a histogram.
#[derive(Default)]
struct Fields {
    schema: Option<i64>,
    sum: Option<f64>,
    count: Option<f64>,
    zero_count: Option<f64>,
    zero_threshold: Option<f64>,
    custom_values: Option<Vec<f64>>,
    buckets: Option<Vec<f64>>,
    offset: Option<i64>,
    n_buckets: Option<Vec<f64>>,
    n_offset: Option<i64>,
    hint: Option<CounterResetHint>,
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn err<T>(&self, pos: usize, msg: impl Into<String>) -> Result<T, HistogramParseError> {
        Err(HistogramParseError {
            pos,
            msg: msg.into(),
        })
    }

    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn eat(&mut self, tok: &str) -> bool {
        if self.rest().starts_with(tok) {
            self.pos += tok.len();
            true
        } else {
            false
        }
    }

    fn spaces(&mut self) -> bool {
        let n = self
            .rest()
            .bytes()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            .count();
        self.pos += n;
        n > 0
    }

    fn literal(&mut self) -> Result<ParsedHistogram, HistogramParseError> {
        if !self.eat("{{") {
            return self.err(self.pos, "expected \"{{\"");
        }
        let mut f = Fields::default();
        // `{{}}` and `{{ }}`; otherwise items separated by spaces, a space allowed before `}}`.
        let spaced = self.spaces();
        if !self.eat("}}") {
            if spaced {
                return self.err(self.pos, "unexpected space after \"{{\"");
            }
            loop {
                self.item(&mut f)?;
                let spaced = self.spaces();
                if self.eat("}}") {
                    break;
                }
                if self.rest().is_empty() {
                    return self.err(self.pos, "unclosed histogram literal, expected \"}}\"");
                }
                if !spaced {
                    return self.err(
                        self.pos,
                        format!(
                            "unexpected {:?} in histogram description",
                            first(self.rest())
                        ),
                    );
                }
            }
        }
        let hint_set = f.hint.is_some();
        Ok(ParsedHistogram {
            histogram: build(f),
            hint_set,
        })
    }

    /// One `key:value`.
    fn item(&mut self, f: &mut Fields) -> Result<(), HistogramParseError> {
        let start = self.pos;
        let key_len = self
            .rest()
            .bytes()
            .take_while(|b| b.is_ascii_alphabetic() || *b == b'_')
            .count();
        if key_len == 0 {
            return self.err(
                start,
                format!(
                    "unexpected {:?}, expected a histogram description key, e.g. buckets:[5 10 7]",
                    first(self.rest())
                ),
            );
        }
        let key = self.rest()[..key_len].to_ascii_lowercase();
        self.pos += key_len;
        if !self.eat(":") {
            return self.err(
                self.pos,
                format!("missing \":\" after histogram key {key:?}"),
            );
        }
        let dup = |p: &Self| p.err(start, format!("duplicate key {key:?} in histogram"));
        macro_rules! set {
            ($field:expr, $value:expr) => {{
                if $field.is_some() {
                    return dup(self);
                }
                $field = Some($value);
            }};
        }
        match key.as_str() {
            "schema" => set!(f.schema, self.int()?),
            "sum" => set!(f.sum, self.number(true)?),
            "count" => set!(f.count, self.number(true)?),
            "z_bucket" => set!(f.zero_count, self.number(true)?),
            "z_bucket_w" => set!(f.zero_threshold, self.number(false)?),
            "custom_values" => set!(f.custom_values, self.bucket_list()?),
            "buckets" => set!(f.buckets, self.bucket_list()?),
            "offset" => set!(f.offset, self.int()?),
            "n_buckets" => set!(f.n_buckets, self.bucket_list()?),
            "n_offset" => set!(f.n_offset, self.int()?),
            "counter_reset_hint" => set!(f.hint, self.hint()?),
            _ => return self.err(start, format!("bad histogram descriptor found: {key:?}")),
        }
        Ok(())
    }

    /// A decimal integer, `-` allowed.
    fn int(&mut self) -> Result<i64, HistogramParseError> {
        let start = self.pos;
        let neg = self.eat("-");
        let digits = self.rest().bytes().take_while(u8::is_ascii_digit).count();
        let text = &self.rest()[..digits];
        self.pos += digits;
        let v: i64 = match text.parse::<u64>().ok().and_then(|v| i64::try_from(v).ok()) {
            Some(v) => v,
            None => return self.err(start, "expected an integer"),
        };
        if self
            .rest()
            .starts_with(|c: char| c.is_ascii_alphanumeric() || c == '.')
        {
            return self.err(start, "expected an integer");
        }
        let v = if neg { -v } else { v };
        if i32::try_from(v).is_err() {
            return self.err(start, format!("integer {v} out of range"));
        }
        Ok(v)
    }

    /// A number as the PromQL lexer reads one (`1`, `-0.5`, `1e3`, `0x1f`, `Inf`,
    /// `NaN`); a sign only when `signed`.
    fn number(&mut self, signed: bool) -> Result<f64, HistogramParseError> {
        let start = self.pos;
        let neg = if signed {
            if self.eat("-") {
                true
            } else {
                self.eat("+");
                false
            }
        } else {
            false
        };
        let b = self.rest().as_bytes();
        let mut n = 0;
        while n < b.len() {
            let c = b[n];
            let exp_sign = matches!(c, b'+' | b'-')
                && n > 0
                && matches!(b[n - 1], b'e' | b'E')
                && !self.rest()[..n].to_ascii_lowercase().starts_with("0x");
            if c.is_ascii_alphanumeric() || c == b'.' || c == b'_' || exp_sign {
                n += 1;
            } else {
                break;
            }
        }
        let text = &self.rest()[..n];
        if text.is_empty() || text.starts_with(['+', '-']) {
            return self.err(start, "expected a number");
        }
        let v = match parse_int_base0(text) {
            Some(i) => i as f64,
            None => match parse_float(text) {
                Ok(v) => v,
                Err(_) => return self.err(start, format!("bad number {text:?}")),
            },
        };
        self.pos += n;
        Ok(if neg { -v } else { v })
    }

    /// `[n n ...]`: at least one number, a space allowed before `]`.
    fn bucket_list(&mut self) -> Result<Vec<f64>, HistogramParseError> {
        if !self.eat("[") {
            return self.err(self.pos, "expected \"[\" to start a bucket list");
        }
        let mut out = vec![self.number(true)?];
        loop {
            let spaced = self.spaces();
            if self.eat("]") {
                return Ok(out);
            }
            if !spaced || self.rest().is_empty() {
                return self.err(self.pos, "expected a space or \"]\" in the bucket list");
            }
            out.push(self.number(true)?);
        }
    }

    fn hint(&mut self) -> Result<CounterResetHint, HistogramParseError> {
        let start = self.pos;
        let n = self
            .rest()
            .bytes()
            .take_while(|b| b.is_ascii_alphabetic() || *b == b'_')
            .count();
        let word = self.rest()[..n].to_ascii_lowercase();
        self.pos += n;
        Ok(match word.as_str() {
            "unknown" => CounterResetHint::Unknown,
            "reset" => CounterResetHint::Reset,
            "not_reset" => CounterResetHint::NotReset,
            "gauge" => CounterResetHint::Gauge,
            _ => {
                return self.err(
                    start,
                    format!(
                        "bad counter_reset_hint {word:?}, expected unknown, reset, not_reset or gauge"
                    ),
                );
            }
        })
    }
}

fn first(s: &str) -> String {
    s.chars()
        .next()
        .map_or_else(|| "end of input".to_string(), String::from)
}

/// The histogram a literal's fields describe (Prometheus's `buildHistogramFromMap`).
fn build(f: Fields) -> FloatHistogram {
    let spans = |buckets: &Option<Vec<f64>>, offset: Option<i64>| match buckets {
        Some(b) if !b.is_empty() => vec![Span {
            offset: offset.unwrap_or(0) as i32,
            length: b.len() as u32,
        }],
        _ => Vec::new(),
    };
    FloatHistogram {
        counter_reset_hint: f.hint.unwrap_or_default(),
        schema: f.schema.unwrap_or(0) as i32,
        zero_threshold: f.zero_threshold.unwrap_or(0.0),
        zero_count: f.zero_count.unwrap_or(0.0),
        count: f.count.unwrap_or(0.0),
        sum: f.sum.unwrap_or(0.0),
        positive_spans: spans(&f.buckets, f.offset),
        negative_spans: spans(&f.n_buckets, f.n_offset),
        positive_buckets: f.buckets.unwrap_or_default(),
        negative_buckets: f.n_buckets.unwrap_or_default(),
        custom_values: f.custom_values.unwrap_or_default(),
    }
}

impl FloatHistogram {
    /// Prometheus's `TestExpression`: the literal that describes this histogram,
    /// compacted to one span per sign; zero fields and the unknown hint left out.
    pub fn test_expression(&self) -> String {
        let mut m = self.clone();
        m.compact(usize::MAX);
        let mut res: Vec<String> = Vec::new();
        if m.schema != 0 {
            res.push(format!("schema:{}", m.schema));
        }
        if m.count != 0.0 {
            res.push(format!("count:{}", go_g(m.count)));
        }
        if m.sum != 0.0 {
            res.push(format!("sum:{}", go_g(m.sum)));
        }
        if m.zero_count != 0.0 {
            res.push(format!("z_bucket:{}", go_g(m.zero_count)));
        }
        if m.zero_threshold != 0.0 {
            res.push(format!("z_bucket_w:{}", go_g(m.zero_threshold)));
        }
        if m.schema == CUSTOM_BUCKETS_SCHEMA {
            res.push(format!("custom_values:{}", float_list(&m.custom_values)));
        }
        if m.counter_reset_hint != CounterResetHint::Unknown {
            res.push(format!(
                "counter_reset_hint:{}",
                m.counter_reset_hint.as_str()
            ));
        }
        for (spans, buckets, bkey, okey) in [
            (&m.positive_spans, &m.positive_buckets, "buckets", "offset"),
            (
                &m.negative_spans,
                &m.negative_buckets,
                "n_buckets",
                "n_offset",
            ),
        ] {
            // Compaction left at most one span.
            if let Some(s) = spans.first()
                && s.offset != 0
            {
                res.push(format!("{okey}:{}", s.offset));
            }
            if !buckets.is_empty() {
                res.push(format!("{bkey}:{}", float_list(buckets)));
            }
        }
        format!("{{{{{}}}}}", res.join(" "))
    }
}

/// Go's `%g` of a `[]float64`: `[1 2.5 3]`.
fn float_list(v: &[f64]) -> String {
    let items: Vec<String> = v.iter().map(|x| go_g(*x)).collect();
    format!("[{}]", items.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> ParsedHistogram {
        let (h, rest) = parse_histogram(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(rest, "", "{s}");
        h
    }

    #[test]
    fn reads_every_key() {
        let p = parse(
            "{{schema:1 sum:-0.3 count:32.1 z_bucket:7.1 z_bucket_w:0.05 buckets:[5.1 10 7] offset:-3 n_buckets:[4.1 5] n_offset:-5}}",
        );
        let h = p.histogram;
        assert!(!p.hint_set);
        assert_eq!((h.schema, h.sum, h.count), (1, -0.3, 32.1));
        assert_eq!((h.zero_count, h.zero_threshold), (7.1, 0.05));
        assert_eq!(
            h.positive_spans,
            [Span {
                offset: -3,
                length: 3
            }]
        );
        assert_eq!(h.positive_buckets, [5.1, 10.0, 7.0]);
        assert_eq!(
            h.negative_spans,
            [Span {
                offset: -5,
                length: 2
            }]
        );
        let p = parse(
            "{{counter_reset_hint:NOT_RESET custom_values:[1 2 ] schema:-53 sum:Inf count:+0x10}}",
        );
        assert!(p.hint_set);
        assert_eq!(p.histogram.counter_reset_hint, CounterResetHint::NotReset);
        assert_eq!(p.histogram.custom_values, [1.0, 2.0]);
        assert_eq!((p.histogram.sum, p.histogram.count), (f64::INFINITY, 16.0));
        assert_eq!(parse("{{}}").histogram, FloatHistogram::default());
        assert_eq!(parse("{{ }}").histogram, FloatHistogram::default());
        assert_eq!(parse("{{count:1 }}").histogram.count, 1.0);
        let (_, rest) = parse_histogram("{{count:1}}x3").expect("parses");
        assert_eq!(rest, "x3");
    }

    #[test]
    fn errors_say_what_and_where() {
        let e = |s: &str| parse_histogram(s).expect_err(s);
        assert_eq!(
            e("{{count:1 count:2}}").msg,
            "duplicate key \"count\" in histogram"
        );
        assert_eq!(e("{{count:1 count:2}}").pos, 10);
        assert!(e("{{bogus:1}}").msg.contains("bad histogram descriptor"));
        assert!(e("{{count 1}}").msg.contains("missing \":\""));
        assert!(e("{{count:1").msg.contains("unclosed"));
        assert!(e("{{count:x}}").msg.contains("bad number"));
        assert!(e("{{schema:1.5}}").msg.contains("integer"));
        assert!(e("{{buckets:[]}}").msg.contains("number"));
        assert!(e("{{z_bucket_w:-1}}").msg.contains("number"));
        assert!(e("{{counter_reset_hint:maybe}}").msg.contains("maybe"));
        assert!(e("{{ count:1}}").msg.contains("space"));
        assert!(e("count:1").msg.contains("{{"));
        assert_eq!(
            e("{{sum:1 foo:2}}").to_string(),
            "bad histogram literal at character 9: bad histogram descriptor found: \"foo\""
        );
    }

    #[test]
    fn test_expression_round_trips() {
        for s in [
            "{{schema:1 count:32.1 sum:-0.3 z_bucket:7.1 z_bucket_w:0.05 offset:-3 buckets:[5.1 10 7] n_offset:-5 n_buckets:[4.1 5]}}",
            "{{count:2 sum:3 counter_reset_hint:not_reset buckets:[2]}}",
            "{{schema:-53 count:3 custom_values:[1 2.5] buckets:[1 0 2]}}",
            "{{}}",
        ] {
            assert_eq!(parse(s).histogram.test_expression(), s);
        }
        // Leading and trailing empty buckets go, inner ones stay.
        assert_eq!(
            parse("{{buckets:[0 1 0 2 0] offset:2}}")
                .histogram
                .test_expression(),
            "{{offset:3 buckets:[1 0 2]}}"
        );
        assert_eq!(
            parse("{{sum:NaN count:1e21}}").histogram.test_expression(),
            "{{count:1e+21 sum:NaN}}"
        );
    }
}
