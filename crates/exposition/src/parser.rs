//! The streaming parser: one pass over the page, entries borrow from it.
//!
//! The grammar follows Prometheus's own lexers (`promlex.l`, `openmetricslex.l`): the
//! text format skips blanks between tokens and allows blank lines and comments; the
//! OpenMetrics format allows exactly one space where the format has one, nothing else.

use std::borrow::Cow;

use model::{MetricType, Timestamp};

use crate::entry::{Entry, ExemplarRef, LabelPair, SampleRef};
use crate::error::ParseError;
use crate::float::{NORMAL_NAN_BITS, parse_go_float};
use crate::format::{Format, Mode};
use crate::strict::Validator;
use crate::unescape;

type PResult<T> = Result<T, (usize, String)>;

/// Which metadata line is being read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum MetaKind {
    Help,
    Type,
    Unit,
}

impl MetaKind {
    fn word(self) -> &'static str {
        match self {
            MetaKind::Help => "HELP",
            MetaKind::Type => "TYPE",
            MetaKind::Unit => "UNIT",
        }
    }
}

/// A streaming parser over one exposition page.
///
/// Call [`Parser::next`] until it returns `None`; after an error it returns `None`.
pub struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
    format: Format,
    mode: Mode,
    done: bool,
    labels: Vec<LabelPair<'a>>,
    exemplar_labels: Vec<LabelPair<'a>>,
    metric_type: MetricType,
    validator: Option<Validator>,
}

/// What a sample line held, before it is lent out.
struct ParsedSample<'a> {
    name: Cow<'a, str>,
    value: f64,
    timestamp: Option<Timestamp>,
    exemplar: Option<(f64, Option<Timestamp>)>,
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b':'
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b':'
}

fn is_label_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_label_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn normal_nan(v: f64) -> f64 {
    if v.is_nan() {
        f64::from_bits(NORMAL_NAN_BITS)
    } else {
        v
    }
}

impl<'a> Parser<'a> {
    /// A parser over `body` in `format`, checked as `mode` says.
    pub fn new(body: &'a [u8], format: Format, mode: Mode) -> Self {
        let strict_om = format == Format::OpenMetrics && mode == Mode::Strict;
        Parser {
            input: body,
            pos: 0,
            format,
            mode,
            done: false,
            labels: Vec::with_capacity(16),
            exemplar_labels: Vec::new(),
            metric_type: MetricType::Unknown,
            validator: strict_om.then(Validator::default),
        }
    }

    /// The format being parsed.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The next entry, `None` at the end of the page or after an error.
    #[allow(clippy::should_implement_trait)] // entries borrow the parser, so no Iterator
    pub fn next(&mut self) -> Option<Result<Entry<'_>, ParseError>> {
        if self.done {
            return None;
        }
        match self.step() {
            Ok(Some(Step::Meta(kind, name, text))) => Some(Ok(match kind {
                MetaKind::Help => Entry::Help { name, help: text },
                MetaKind::Unit => Entry::Unit { name, unit: text },
                MetaKind::Type => Entry::Type {
                    name,
                    metric_type: self.metric_type,
                },
            })),
            Ok(Some(Step::Comment(c))) => Some(Ok(Entry::Comment(c))),
            Ok(Some(Step::Eof)) => {
                self.done = true;
                Some(Ok(Entry::Eof))
            }
            Ok(Some(Step::Sample(s))) => {
                let exemplar = s.exemplar.map(|(value, timestamp)| ExemplarRef {
                    labels: &self.exemplar_labels,
                    value,
                    timestamp,
                });
                Some(Ok(Entry::Sample(SampleRef {
                    name: s.name,
                    labels: &self.labels,
                    value: s.value,
                    timestamp: s.timestamp,
                    exemplar,
                    metric_type: self.metric_type,
                })))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err((pos, msg)) => {
                self.done = true;
                Some(Err(ParseError::at(self.input, pos, msg)))
            }
        }
    }

    fn strict(&self) -> bool {
        self.mode == Mode::Strict && self.format == Format::OpenMetrics
    }

    fn peek(&self) -> Option<u8> {
        self.input.get(self.pos).copied()
    }

    fn peek_at(&self, off: usize) -> Option<u8> {
        self.input.get(self.pos + off).copied()
    }

    fn rest(&self) -> &'a [u8] {
        &self.input[self.pos.min(self.input.len())..]
    }

    fn str_at(&self, start: usize, end: usize) -> PResult<&'a str> {
        std::str::from_utf8(&self.input[start..end])
            .map_err(|_| (start, "invalid UTF-8".to_string()))
    }

    /// Skips blanks; only the text format has optional blanks between tokens.
    fn skip_blanks(&mut self) {
        if self.format == Format::PrometheusText {
            while matches!(self.peek(), Some(b' ' | b'\t')) {
                self.pos += 1;
            }
        }
    }

    fn step(&mut self) -> PResult<Option<Step<'a>>> {
        match self.format {
            Format::PrometheusText => self.step_text(),
            Format::OpenMetrics => self.step_om(),
        }
    }

    fn step_text(&mut self) -> PResult<Option<Step<'a>>> {
        loop {
            self.skip_blanks();
            match self.peek() {
                // Prometheus's lexer stops at a NUL where a line would start.
                None | Some(0) => return Ok(None),
                Some(b'\n') => self.pos += 1,
                Some(b'#') => return self.text_hash_line().map(Some),
                Some(_) => return self.sample_line().map(|s| Some(Step::Sample(s))),
            }
        }
    }

    fn step_om(&mut self) -> PResult<Option<Step<'a>>> {
        match self.peek() {
            None => Err((self.pos, "data does not end with # EOF".into())),
            Some(b'#') => {
                let rest = self.rest();
                if rest.starts_with(b"# EOF") {
                    let mut end = self.pos + 5;
                    if self.input.get(end) == Some(&b'\n') {
                        end += 1;
                    }
                    if end != self.input.len() {
                        return Err((end, "unexpected data after # EOF".into()));
                    }
                    if let Some(v) = self.validator.as_mut() {
                        v.eof().map_err(|m| (self.pos, m))?;
                    }
                    self.pos = end;
                    return Ok(Some(Step::Eof));
                }
                let kind = if rest.starts_with(b"# HELP ") {
                    MetaKind::Help
                } else if rest.starts_with(b"# TYPE ") {
                    MetaKind::Type
                } else if rest.starts_with(b"# UNIT ") {
                    MetaKind::Unit
                } else {
                    return Err((
                        self.pos,
                        "expected HELP, TYPE, UNIT or EOF after '# ' (OpenMetrics has no comments)"
                            .into(),
                    ));
                };
                self.pos += 7;
                self.metadata(kind).map(Some)
            }
            Some(_) => self.sample_line().map(|s| Some(Step::Sample(s))),
        }
    }

    /// A text-format line starting with `#`: HELP, TYPE, or a comment.
    fn text_hash_line(&mut self) -> PResult<Step<'a>> {
        let hash = self.pos;
        self.pos += 1;
        if matches!(self.peek(), Some(b' ' | b'\t')) {
            self.skip_blanks();
            let rest = self.rest();
            let kind = if rest.starts_with(b"HELP") {
                Some(MetaKind::Help)
            } else if rest.starts_with(b"TYPE") {
                Some(MetaKind::Type)
            } else {
                None
            };
            if let Some(kind) = kind
                && matches!(self.peek_at(4), Some(b' ' | b'\t'))
            {
                self.pos += 4;
                self.skip_blanks();
                return self.metadata(kind);
            }
        }
        let end = self.line_end(self.pos);
        let text = String::from_utf8_lossy(&self.input[self.pos..end]);
        self.pos = end;
        let _ = hash;
        Ok(Step::Comment(text))
    }

    fn line_end(&self, from: usize) -> usize {
        self.input[from..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(self.input.len(), |i| from + i)
    }

    /// The rest of a metadata line, after the keyword and its blank.
    fn metadata(&mut self, kind: MetaKind) -> PResult<Step<'a>> {
        let name = self.metadata_name(kind)?;
        let om = self.format == Format::OpenMetrics;
        let end = self.line_end(self.pos);
        let text_start = if om {
            // OpenMetrics: exactly one space, then the text, then a newline.
            if self.peek() != Some(b' ') || end == self.input.len() {
                return Err((self.pos, format!("expected text in {}", kind.word())));
            }
            self.pos + 1
        } else {
            // Prometheus drops the one character that separates the name from the text.
            (self.pos + 1).min(end)
        };
        let text_raw = self.str_at(text_start, end)?;
        self.pos = (end + 1).min(self.input.len());
        let text: Cow<'a, str> = match kind {
            MetaKind::Help if om => unescape::label_value(text_raw),
            MetaKind::Help => unescape::text_help(text_raw),
            MetaKind::Type => {
                self.metric_type = parse_type(text_raw, om)
                    .ok_or_else(|| (text_start, format!("invalid metric type {text_raw:?}")))?;
                Cow::Borrowed(text_raw)
            }
            MetaKind::Unit => {
                if !text_raw.is_empty() && !unit_is_suffix(&name, text_raw) {
                    return Err((
                        text_start,
                        format!("unit {text_raw:?} not a suffix of metric {name:?}"),
                    ));
                }
                Cow::Borrowed(text_raw)
            }
        };
        if let Some(v) = self.validator.as_mut() {
            v.metadata(kind, &name, &text, self.metric_type)
                .map_err(|m| (text_start, m))?;
        }
        Ok(Step::Meta(kind, name, text))
    }

    fn metadata_name(&mut self, kind: MetaKind) -> PResult<Cow<'a, str>> {
        match self.peek() {
            Some(b'"') if !self.strict() => {
                let (raw, _) = self.quoted(true)?;
                Ok(unescape::label_value(raw))
            }
            Some(c) if is_name_start(c) => Ok(Cow::Borrowed(self.metric_name_token())),
            _ => Err((
                self.pos,
                format!("expected metric name after {}", kind.word()),
            )),
        }
    }

    /// `[a-zA-Z_:][a-zA-Z0-9_:]*` at the cursor (the first byte is already checked).
    fn metric_name_token(&mut self) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(is_name_char) {
            self.pos += 1;
        }
        // Only ASCII was consumed, so this cannot fail.
        std::str::from_utf8(&self.input[start..self.pos]).unwrap_or_default()
    }

    /// A quoted string at the cursor; returns the raw content and whether it had escapes.
    fn quoted(&mut self, newline_ok: bool) -> PResult<(&'a str, bool)> {
        let open = self.pos;
        self.pos += 1;
        let start = self.pos;
        let mut escaped = false;
        loop {
            match self.peek() {
                None => return Err((open, "unterminated quoted string".into())),
                Some(b'"') => break,
                Some(b'\\') => {
                    escaped = true;
                    if self.peek_at(1).is_none() {
                        return Err((open, "unterminated quoted string".into()));
                    }
                    self.pos += 2;
                }
                Some(b'\n') if !newline_ok => {
                    return Err((self.pos, "newline in quoted string".into()));
                }
                Some(_) => self.pos += 1,
            }
        }
        let raw = self.str_at(start, self.pos)?;
        self.pos += 1;
        Ok((raw, escaped))
    }

    fn sample_line(&mut self) -> PResult<ParsedSample<'a>> {
        let line_start = self.pos;
        self.labels.clear();
        self.exemplar_labels.clear();
        let mut name: Option<Cow<'a, str>> = None;
        match self.peek() {
            Some(c) if is_name_start(c) => {
                name = Some(Cow::Borrowed(self.metric_name_token()));
                self.skip_blanks();
                if self.peek() == Some(b'{') {
                    self.label_set(&mut name, false)?;
                }
            }
            Some(b'{') => self.label_set(&mut name, false)?,
            _ => return Err((self.pos, "expected a metric name or '{'".into())),
        }
        let Some(name) = name else {
            return Err((line_start, "metric name not set".into()));
        };
        let value = self.value_token("metric")?;
        let mut timestamp = None;
        let mut exemplar = None;
        if self.format == Format::PrometheusText {
            self.skip_blanks();
            if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
                let digits = self.str_at(start, self.pos)?;
                timestamp = Some(
                    digits
                        .parse::<i64>()
                        .map_err(|_| (start, format!("timestamp {digits} out of range")))?,
                );
                self.skip_blanks();
            }
            match self.peek() {
                None => {}
                Some(b'\n') => self.pos += 1,
                Some(_) => return Err((self.pos, "expected timestamp or new record".into())),
            }
        } else {
            if self.at_exemplar() {
                exemplar = Some(self.exemplar()?);
            } else if self.peek() == Some(b' ') {
                timestamp = Some(self.om_timestamp("timestamp")?);
                if self.at_exemplar() {
                    exemplar = Some(self.exemplar()?);
                } else {
                    self.om_newline("timestamp")?;
                }
            } else {
                self.om_newline("value")?;
            }
        }
        let sample = ParsedSample {
            name,
            value,
            timestamp,
            exemplar,
        };
        if let Some(v) = self.validator.as_mut() {
            v.sample(
                &sample.name,
                &self.labels,
                sample.value,
                sample.timestamp,
                sample
                    .exemplar
                    .is_some()
                    .then_some(&self.exemplar_labels[..]),
            )
            .map_err(|m| (line_start, m))?;
        }
        Ok(sample)
    }

    fn at_exemplar(&self) -> bool {
        self.rest().starts_with(b" # {")
    }

    fn om_newline(&mut self, after: &str) -> PResult<()> {
        match self.peek() {
            Some(b'\n') => {
                self.pos += 1;
                Ok(())
            }
            None => Err((self.pos, "data does not end with # EOF".into())),
            Some(_) => Err((self.pos, format!("expected a newline after the {after}"))),
        }
    }

    /// An OpenMetrics timestamp: one space, float seconds; returned in milliseconds.
    fn om_timestamp(&mut self, what: &str) -> PResult<Timestamp> {
        self.pos += 1;
        let start = self.pos;
        while self.peek().is_some_and(|c| c != b' ' && c != b'\n') {
            self.pos += 1;
        }
        let tok = self.str_at(start, self.pos)?;
        let secs = (if tok.is_empty() {
            None
        } else {
            parse_go_float(tok)
        })
        .ok_or_else(|| (start, format!("invalid {what} {tok:?}")))?;
        if !secs.is_finite() {
            return Err((start, format!("invalid {what} {tok:?}")));
        }
        // Go's int64(ts*1000) truncates toward zero; Rust's `as` does too (and saturates).
        Ok((secs * 1000.0) as i64)
    }

    fn exemplar(&mut self) -> PResult<(f64, Option<Timestamp>)> {
        self.pos += 3; // " # ", leaving the cursor on '{'
        let mut no_name = None;
        self.label_set(&mut no_name, true)?;
        let value = self.value_token("exemplar labels")?;
        let mut ts = None;
        if self.peek() == Some(b' ') {
            ts = Some(self.om_timestamp("exemplar timestamp")?);
        }
        self.om_newline("exemplar")?;
        Ok((value, ts))
    }

    /// The value after a metric name or label set (and, in OpenMetrics, its one space).
    fn value_token(&mut self, after: &str) -> PResult<f64> {
        let start;
        if self.format == Format::PrometheusText {
            self.skip_blanks();
            start = self.pos;
            while self
                .peek()
                .is_some_and(|c| !matches!(c, b'{' | b' ' | b'\t' | b'\n'))
            {
                self.pos += 1;
            }
        } else {
            if self.peek() != Some(b' ') {
                return Err((self.pos, format!("expected value after {after}")));
            }
            self.pos += 1;
            start = self.pos;
            while self.peek().is_some_and(|c| c != b' ' && c != b'\n') {
                self.pos += 1;
            }
        }
        if start == self.pos {
            return Err((start, format!("expected value after {after}")));
        }
        let tok = self.str_at(start, self.pos)?;
        parse_go_float(tok)
            .map(normal_nan)
            .ok_or_else(|| (start, format!("invalid value {tok:?}")))
    }

    /// `{...}` at the cursor, into the sample's (or the exemplar's) label list.
    fn label_set(&mut self, name: &mut Option<Cow<'a, str>>, exemplar: bool) -> PResult<()> {
        let om = self.format == Format::OpenMetrics;
        let strict = self.strict();
        self.pos += 1; // '{'
        let mut after_comma = false;
        loop {
            self.skip_blanks();
            let tok_start = self.pos;
            let (lname, quoted): (Cow<'a, str>, bool) = match self.peek() {
                Some(b'}') => {
                    if after_comma && strict {
                        return Err((self.pos, "trailing comma in label set".into()));
                    }
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'"') if !strict => {
                    let (raw, _) = self.quoted(true)?;
                    (unescape::label_value(raw), true)
                }
                Some(c) if is_label_start(c) => {
                    while self.peek().is_some_and(is_label_char) {
                        self.pos += 1;
                    }
                    (Cow::Borrowed(self.str_at(tok_start, self.pos)?), false)
                }
                _ => return Err((self.pos, "expected label name".into())),
            };
            self.skip_blanks();
            if quoted && matches!(self.peek(), Some(b',' | b'}')) {
                // A lone quoted string is the metric name (Prometheus 3 UTF-8 syntax).
                if exemplar {
                    return Err((tok_start, "expected label name".into()));
                }
                if name.is_some() {
                    return Err((tok_start, "metric name already set".into()));
                }
                *name = Some(lname);
                if self.peek() == Some(b',') {
                    self.pos += 1;
                    after_comma = true;
                    continue;
                }
                self.pos += 1;
                return Ok(());
            }
            if self.peek() != Some(b'=') {
                return Err((self.pos, "expected equal".into()));
            }
            self.pos += 1;
            self.skip_blanks();
            if self.peek() != Some(b'"') {
                return Err((self.pos, "expected label value".into()));
            }
            let (raw, escaped) = self.quoted(!om)?;
            let value = if escaped {
                unescape::label_value(raw)
            } else {
                Cow::Borrowed(raw)
            };
            let list = if exemplar {
                &mut self.exemplar_labels
            } else {
                &mut self.labels
            };
            if list.iter().any(|(n, _)| *n == lname) {
                return Err((tok_start, format!("duplicate label name {lname:?}")));
            }
            list.push((lname, value));
            self.skip_blanks();
            after_comma = false;
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    after_comma = true;
                }
                Some(b'}') => {}
                // The text format tolerates a missing comma between labels.
                _ if !om => {}
                _ => return Err((self.pos, "expected comma or brace close".into())),
            }
        }
    }
}

enum Step<'a> {
    Meta(MetaKind, Cow<'a, str>, Cow<'a, str>),
    Comment(Cow<'a, str>),
    Sample(ParsedSample<'a>),
    Eof,
}

fn parse_type(s: &str, om: bool) -> Option<MetricType> {
    Some(match s {
        "counter" => MetricType::Counter,
        "gauge" => MetricType::Gauge,
        "histogram" => MetricType::Histogram,
        "summary" => MetricType::Summary,
        "untyped" if !om => MetricType::Unknown,
        "unknown" if om => MetricType::Unknown,
        "gaugehistogram" if om => MetricType::GaugeHistogram,
        "info" if om => MetricType::Info,
        "stateset" if om => MetricType::StateSet,
        _ => return None,
    })
}

/// True when `name` ends with `_` + `unit`.
pub(crate) fn unit_is_suffix(name: &str, unit: &str) -> bool {
    name.len() > unit.len()
        && name.ends_with(unit)
        && name.as_bytes()[name.len() - unit.len() - 1] == b'_'
}
