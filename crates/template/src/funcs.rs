//! The function table: Go's builtins and Prometheus's template functions,
//! with the parameter types Go's reflection checks arguments against.

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use regex::Regex;

use crate::QueryFn;
use crate::builtins as b;
use crate::gonet::{is_ip, join_host_port, query_escape, split_host_port, url_path};
use crate::humanize as h;
use crate::value::{Sample, Value};
use gofmt::{can_backquote, quote};

/// A parameter type, as Go's reflection checks arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Param {
    /// `interface {}`
    Any,
    /// `reflect.Value` (builtins taking anything)
    Reflect,
    Str,
    Sample,
    Samples,
    Duration,
    Time,
}

impl Param {
    /// Go's name of the type.
    pub fn type_name(self) -> &'static str {
        match self {
            Param::Any => "interface {}",
            Param::Reflect => "reflect.Value",
            Param::Str => "string",
            Param::Sample => "*template.sample",
            Param::Samples => "template.queryResult",
            Param::Duration => "time.Duration",
            Param::Time => "time.Time",
        }
    }

    /// Whether an untyped nil may be passed.
    pub fn can_be_nil(self) -> bool {
        matches!(
            self,
            Param::Any | Param::Reflect | Param::Sample | Param::Samples
        )
    }
}

/// The implementation of a function or method.
pub(crate) type Call = fn(&mut Env<'_>, &[Value]) -> Result<Value, String>;

/// A function (or method) with its Go signature.
pub(crate) struct Func {
    pub name: &'static str,
    pub params: &'static [Param],
    pub variadic: Option<Param>,
    pub call: Call,
}

/// What functions may use while a template runs.
pub(crate) struct Env<'a> {
    pub query: Option<&'a dyn QueryFn>,
    pub external_url: &'a str,
    /// Seconds since the epoch, for `now`.
    pub now: f64,
    /// Work done so far (bounded).
    pub steps: u64,
    regexes: HashMap<String, Rc<Regex>>,
}

/// How many compiled regexes one execution keeps.
const REGEX_CACHE: usize = 64;
/// What one query costs against the step budget.
const QUERY_STEPS: u64 = 10_000;

impl<'a> Env<'a> {
    /// A fresh environment.
    pub fn new(query: Option<&'a dyn QueryFn>, external_url: &'a str, now: f64) -> Self {
        Env {
            query,
            external_url,
            now,
            steps: 0,
            regexes: HashMap::new(),
        }
    }

    /// Compiles (or reuses) a Go regexp; the error is Go's wording.
    fn regex(&mut self, pattern: &str) -> Result<Rc<Regex>, String> {
        if let Some(r) = self.regexes.get(pattern) {
            return Ok(r.clone());
        }
        let re = Regex::new(&go_regex_syntax(pattern)).map_err(|e| {
            let msg = e.to_string();
            let last = msg
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            let last = go_regex_error(last.trim().trim_start_matches("error: "));
            let shown = if can_backquote(pattern) {
                format!("`{pattern}`")
            } else {
                quote(pattern)
            };
            format!("error parsing regexp: {last}: {shown}")
        })?;
        let re = Rc::new(re);
        if self.regexes.len() >= REGEX_CACHE {
            self.regexes.clear();
        }
        self.regexes.insert(pattern.to_string(), re.clone());
        Ok(re)
    }
}

/// Go's wording for the commonest regexp syntax errors.
fn go_regex_error(rust: &str) -> &str {
    match rust {
        "unclosed group" => "missing closing )",
        "unopened group" => "unexpected )",
        "unclosed character class" => "missing closing ]",
        "repetition operator missing expression" => "missing argument to repetition operator",
        "unrecognized escape sequence"
        | "incomplete escape sequence, reached end of pattern prematurely" => {
            "invalid escape sequence"
        }
        "invalid character class range, the start must be <= the end" => {
            "invalid character class range"
        }
        other => other,
    }
}

/// Go's `\d \w \s \b` are ASCII; Rust's are Unicode. Rewrites them (and
/// their negations) to ASCII forms.
fn go_regex_syntax(p: &str) -> String {
    let mut out = String::with_capacity(p.len() + 8);
    let mut in_class = 0usize;
    let mut chars = p.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(n) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let class = match n {
                    'd' => Some("0-9"),
                    'w' => Some("0-9A-Za-z_"),
                    's' => Some("\\t\\n\\x0C\\r "),
                    _ => None,
                };
                let negated = match n {
                    'D' => Some("0-9"),
                    'W' => Some("0-9A-Za-z_"),
                    'S' => Some("\\t\\n\\x0C\\r "),
                    _ => None,
                };
                match (class, negated, n) {
                    (Some(c), _, _) if in_class > 0 => out.push_str(c),
                    (Some(c), _, _) => out.push_str(&format!("[{c}]")),
                    (_, Some(c), _) => out.push_str(&format!("[^{c}]")),
                    (_, _, 'b' | 'B') if in_class == 0 => out.push_str(&format!("(?-u:\\{n})")),
                    _ => {
                        out.push('\\');
                        out.push(n);
                    }
                }
            }
            '[' => {
                in_class += 1;
                out.push('[');
                // A leading `]` (or `^]`) is literal.
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push_str("\\]");
                    chars.next();
                }
            }
            ']' if in_class > 0 => {
                in_class -= 1;
                out.push(']');
            }
            c => out.push(c),
        }
    }
    out
}

/// The `i`th argument's text ("" when it is not a string).
fn s(args: &[Value], i: usize) -> &str {
    args.get(i).and_then(Value::as_str).unwrap_or("")
}

fn sample(args: &[Value], i: usize) -> Result<&Sample, String> {
    match args.get(i) {
        Some(Value::Sample(s)) => Ok(s),
        _ => Err("runtime error: invalid memory address or nil pointer dereference".into()),
    }
}

fn samples(args: &[Value], i: usize) -> Rc<Vec<Rc<Sample>>> {
    match args.get(i) {
        Some(Value::Samples(s)) => s.clone(),
        _ => Rc::new(Vec::new()),
    }
}

fn string_fn(f: fn(&str) -> String) -> impl Fn(&[Value]) -> Result<Value, String> {
    move |a| Ok(Value::str(&f(s(a, 0))))
}

fn query(env: &mut Env<'_>, a: &[Value]) -> Result<Value, String> {
    env.steps = env.steps.saturating_add(QUERY_STEPS);
    let q = env.query.ok_or("no query function is available")?;
    let result = q.query(s(a, 0))?;
    Ok(Value::Samples(Rc::new(
        result
            .into_iter()
            .map(|r| {
                Rc::new(Sample {
                    labels: r.labels,
                    value: r.value,
                })
            })
            .collect(),
    )))
}

fn re_replace_all(env: &mut Env<'_>, a: &[Value]) -> Result<Value, String> {
    let (pattern, repl, text) = (s(a, 0), s(a, 1), s(a, 2));
    let re = env.regex(pattern).map_err(|e| {
        let shown = if can_backquote(pattern) {
            format!("`{pattern}`")
        } else {
            quote(pattern)
        };
        format!("regexp: Compile({shown}): {e}")
    })?;
    Ok(Value::str(&re.replace_all(text, repl)))
}

fn title(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        let word_start = c.is_alphabetic()
            && match i.checked_sub(1).map(|j| chars[j]) {
                None => true,
                Some(p) if p.is_alphanumeric() || p == '_' => false,
                Some('\'' | '.' | ':' | '’' | '·') => {
                    !(i >= 2 && chars[i - 2].is_alphanumeric())
                }
                Some(_) => true,
            };
        if !word_start {
            out.push(c);
            continue;
        }
        let mut up = c.to_uppercase();
        match (up.next(), up.next()) {
            (Some(u), None) => out.push(u),
            (Some(u), Some(second)) => {
                out.push(u);
                out.extend(second.to_lowercase());
                up.for_each(|r| out.extend(r.to_lowercase()));
            }
            _ => out.push(c),
        }
    }
    out
}

/// Go's `strings.ToUpper`/`ToLower`: one character for one character.
fn map_case(s: &str, upper: bool) -> String {
    s.chars()
        .map(|c| {
            if !upper && c == '\u{130}' {
                return 'i';
            }
            let mut m: Box<dyn Iterator<Item = char>> = if upper {
                Box::new(c.to_uppercase())
            } else {
                Box::new(c.to_lowercase())
            };
            match (m.next(), m.next()) {
                (Some(x), None) => x,
                _ => c,
            }
        })
        .collect()
}

fn strip_port(hp: &str) -> String {
    split_host_port(hp).map_or(hp, |(h, _)| h).to_string()
}

fn strip_domain(hp: &str) -> String {
    let (host, port) = split_host_port(hp).unwrap_or((hp, ""));
    if is_ip(host) {
        return hp.to_string();
    }
    let host = host.split('.').next().unwrap_or("");
    if port.is_empty() {
        host.to_string()
    } else {
        join_host_port(host, port)
    }
}

fn float_arg(a: &[Value]) -> Result<f64, String> {
    h::to_float(a.first().unwrap_or(&Value::Nil))
}

fn sort_by_label(a: &[Value]) -> Value {
    let label = s(a, 0);
    let mut v: Vec<Rc<Sample>> = samples(a, 1).as_ref().clone();
    v.sort_by(|x, y| {
        x.labels
            .get_or_empty(label)
            .cmp(y.labels.get_or_empty(label))
    });
    Value::Samples(Rc::new(v))
}

use Param::{Any, Reflect, Str};

macro_rules! func {
    ($name:literal, [$($p:expr),*], $var:expr, $call:expr) => {
        Func { name: $name, params: &[$($p),*], variadic: $var, call: $call }
    };
}

static FUNCS: &[Func] = &[
    // Go's builtins.
    func!("and", [Reflect], Some(Reflect), |_, _| Ok(Value::Nil)),
    func!("or", [Reflect], Some(Reflect), |_, _| Ok(Value::Nil)),
    func!("call", [Reflect], Some(Reflect), |_, _| Err(
        "call of nil".into()
    )),
    func!("html", [], Some(Any), |_, a| b::html(a)),
    func!("index", [Reflect], Some(Reflect), |_, a| b::index(a)),
    func!("slice", [Reflect], Some(Reflect), |_, a| b::slice(a)),
    func!("js", [], Some(Any), |_, a| b::js(a)),
    func!("len", [Reflect], None, |_, a| b::len(a)),
    func!("not", [Reflect], None, |_, a| b::not(a)),
    func!("print", [], Some(Any), |_, a| b::print(a)),
    func!("printf", [Str], Some(Any), |_, a| b::printf(a)),
    func!("println", [], Some(Any), |_, a| b::println(a)),
    func!("urlquery", [], Some(Any), |_, a| b::urlquery(a)),
    func!("eq", [Reflect], Some(Reflect), |_, a| b::eq(a)),
    func!("ge", [Reflect, Reflect], None, |_, a| b::ge(a)),
    func!("gt", [Reflect, Reflect], None, |_, a| b::gt(a)),
    func!("le", [Reflect, Reflect], None, |_, a| b::le(a)),
    func!("lt", [Reflect, Reflect], None, |_, a| b::lt(a)),
    func!("ne", [Reflect, Reflect], None, |_, a| b::ne(a)),
    // Prometheus's functions.
    func!("query", [Str], None, query),
    func!("first", [Param::Samples], None, |_, a| {
        samples(a, 0)
            .first()
            .map(|s| Value::Sample(s.clone()))
            .ok_or_else(|| "first() called on vector with no elements".into())
    }),
    func!("label", [Str, Param::Sample], None, |_, a| {
        let s = sample(a, 1)?;
        Ok(Value::str(s.labels.get_or_empty(self::s(a, 0))))
    }),
    func!("value", [Param::Sample], None, |_, a| Ok(Value::Float(
        sample(a, 0)?.value
    ))),
    func!("strvalue", [Param::Sample], None, |_, a| {
        Ok(Value::str(sample(a, 0)?.labels.get_or_empty("__value__")))
    }),
    func!("args", [], Some(Any), |_, a| {
        let m: BTreeMap<String, Value> = a
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("arg{i}"), v.clone()))
            .collect();
        Ok(Value::Map(Rc::new(m)))
    }),
    func!("reReplaceAll", [Str, Str, Str], None, re_replace_all),
    func!("safeHtml", [Str], None, |_, a| Ok(Value::Html(Rc::from(
        s(a, 0)
    )))),
    func!("match", [Str, Str], None, |env, a| {
        let re = env.regex(s(a, 0))?;
        Ok(Value::Bool(re.is_match(s(a, 1))))
    }),
    func!("title", [Str], None, |_, a| string_fn(title)(a)),
    func!("toUpper", [Str], None, |_, a| string_fn(|s| map_case(
        s, true
    ))(a)),
    func!("toLower", [Str], None, |_, a| string_fn(|s| map_case(
        s, false
    ))(a)),
    func!("graphLink", [Str], None, |_, a| {
        string_fn(|e| format!("/graph?g0.expr={}&g0.tab=0", query_escape(e)))(a)
    }),
    func!("tableLink", [Str], None, |_, a| {
        string_fn(|e| format!("/graph?g0.expr={}&g0.tab=1", query_escape(e)))(a)
    }),
    func!("sortByLabel", [Str, Param::Samples], None, |_, a| Ok(
        sort_by_label(a)
    )),
    func!("stripPort", [Str], None, |_, a| string_fn(strip_port)(a)),
    func!("stripDomain", [Str], None, |_, a| string_fn(strip_domain)(
        a
    )),
    func!("humanize", [Any], None, |_, a| Ok(Value::str(
        &h::humanize(float_arg(a)?)
    ))),
    func!("humanize1024", [Any], None, |_, a| {
        Ok(Value::str(&h::humanize1024(float_arg(a)?)))
    }),
    func!("humanizeDuration", [Any], None, |_, a| {
        Ok(Value::str(&h::humanize_duration(float_arg(a)?)))
    }),
    func!("humanizePercentage", [Any], None, |_, a| {
        Ok(Value::str(&h::humanize_percentage(float_arg(a)?)))
    }),
    func!("humanizeTimestamp", [Any], None, |_, a| {
        Ok(Value::str(&h::humanize_timestamp(float_arg(a)?)?))
    }),
    func!("toTime", [Any], None, |_, a| h::to_time(float_arg(a)?)),
    func!("toDuration", [Any], None, |_, a| Ok(h::to_duration(
        float_arg(a)?
    ))),
    func!("now", [], None, |env, _| Ok(Value::Float(env.now))),
    func!("pathPrefix", [], None, |env, _| Ok(Value::str(&url_path(
        env.external_url
    )))),
    func!("externalURL", [], None, |env, _| Ok(Value::str(
        env.external_url
    ))),
    func!("parseDuration", [Str], None, |_, a| {
        h::parse_duration(s(a, 0)).map(Value::Float)
    }),
    func!("urlQueryEscape", [Str], None, |_, a| string_fn(
        query_escape
    )(a)),
];

/// The function called `name`, if any.
pub(crate) fn lookup(name: &str) -> Option<&'static Func> {
    FUNCS.iter().find(|f| f.name == name)
}

/// Whether `name` is a function (for the parser).
pub(crate) fn exists(name: &str) -> bool {
    lookup(name).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regex_translation() {
        assert_eq!(go_regex_syntax(r"\d+"), "[0-9]+");
        assert_eq!(go_regex_syntax(r"[\d.]"), "[0-9.]");
        assert_eq!(go_regex_syntax(r"\bx\B"), r"(?-u:\b)x(?-u:\B)");
        assert_eq!(go_regex_syntax(r"[]a]"), r"[\]a]");
        assert!(Regex::new(&go_regex_syntax(r"\bfoo\b")).is_ok());
        let mut env = Env::new(None, "", 0.0);
        assert!(
            env.regex("(")
                .unwrap_err()
                .starts_with("error parsing regexp: ")
        );
        assert!(env.regex("٣").is_ok());
        assert!(!env.regex(r"^\d$").is_ok_and(|r| r.is_match("٣")));
    }

    #[test]
    fn text_functions() {
        assert_eq!(title("aa bb CC"), "Aa Bb CC");
        assert_eq!(
            title("foo-bar it's example.com 'quoted'"),
            "Foo-Bar It's Example.com 'Quoted'"
        );
        assert_eq!(map_case("aA ß", true), "AA ß");
        assert_eq!(map_case("İX", false), "ix");
        assert_eq!(strip_domain("foo.example.com:12345"), "foo:12345");
        assert_eq!(strip_domain("[2001:0DB8::1]:12345"), "[2001:0DB8::1]:12345");
        assert_eq!(strip_port("[2001:0DB8::1]:12345"), "2001:0DB8::1");
    }
}
