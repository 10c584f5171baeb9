//! Dynamically typed template values, standing in for the Go types
//! Prometheus's templates see: their Go type names, kinds, and truth.

use std::collections::BTreeMap;
use std::rc::Rc;

use model::Labels;

use gofmt::GoTime;

/// A query result sample (Go: `*template.sample`).
#[derive(Debug)]
pub(crate) struct Sample {
    pub labels: Labels,
    pub value: f64,
}

/// The alert data `.` holds (Go: an anonymous struct).
#[derive(Debug)]
pub(crate) struct DataValue {
    pub labels: Rc<Labels>,
    pub external_labels: Rc<Labels>,
    pub external_url: Rc<str>,
    pub value: f64,
}

/// Go's type of the alert data, as errors name it.
pub(crate) const DATA_TYPE: &str = "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value interface {} }";

/// A value during execution.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    /// No value (Go: an invalid `reflect.Value`, or a nil interface).
    Nil,
    Bool(bool),
    /// Go `int`.
    Int(i64),
    /// Go `uint8` (indexing a string).
    Byte(u8),
    Float(f64),
    Complex(f64, f64),
    Str(Rc<str>),
    /// `template.HTML` (from `safeHtml`).
    Html(Rc<str>),
    /// `map[string]string`: label sets.
    Labels(Rc<Labels>),
    /// `map[string]interface {}` (from `args`).
    Map(Rc<BTreeMap<String, Value>>),
    /// `template.queryResult`: the samples of a query.
    Samples(Rc<Vec<Rc<Sample>>>),
    /// `*template.sample`.
    Sample(Rc<Sample>),
    /// `time.Time`; the flag marks a pointer (`*time.Time`).
    Time(GoTime, bool),
    /// `time.Duration` in nanoseconds; the flag marks a pointer.
    Duration(i64, bool),
    /// The alert data.
    Data(Rc<DataValue>),
}

/// Go's `reflect.Kind`, as far as templates need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Invalid,
    Bool,
    Int,
    Uint,
    Float,
    Complex,
    String,
    Map,
    Slice,
    Ptr,
    Struct,
}

impl Value {
    /// A string value.
    pub fn str(s: &str) -> Value {
        Value::Str(Rc::from(s))
    }

    /// Go's name for the value's type (`%T`).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "<nil>",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Byte(_) => "uint8",
            Value::Float(_) => "float64",
            Value::Complex(..) => "complex128",
            Value::Str(_) => "string",
            Value::Html(_) => "template.HTML",
            Value::Labels(_) => "map[string]string",
            Value::Map(_) => "map[string]interface {}",
            Value::Samples(_) => "template.queryResult",
            Value::Sample(_) => "*template.sample",
            Value::Time(_, true) => "*time.Time",
            Value::Time(_, false) => "time.Time",
            Value::Duration(_, true) => "*time.Duration",
            Value::Duration(_, false) => "time.Duration",
            Value::Data(_) => DATA_TYPE,
        }
    }

    /// Go's kind of the value.
    pub fn kind(&self) -> Kind {
        match self {
            Value::Nil => Kind::Invalid,
            Value::Bool(_) => Kind::Bool,
            Value::Int(_) | Value::Duration(_, false) => Kind::Int,
            Value::Byte(_) => Kind::Uint,
            Value::Float(_) => Kind::Float,
            Value::Complex(..) => Kind::Complex,
            Value::Str(_) | Value::Html(_) => Kind::String,
            Value::Labels(_) | Value::Map(_) => Kind::Map,
            Value::Samples(_) => Kind::Slice,
            Value::Sample(_) | Value::Time(_, true) | Value::Duration(_, true) => Kind::Ptr,
            Value::Time(_, false) | Value::Data(_) => Kind::Struct,
        }
    }

    /// Go's truth for `if`, `with`, `and`, `or`, `not`: not the zero value.
    pub fn truth(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) | Value::Duration(i, false) => *i != 0,
            Value::Byte(b) => *b != 0,
            Value::Float(f) => *f != 0.0,
            Value::Complex(r, i) => *r != 0.0 || *i != 0.0,
            Value::Str(s) | Value::Html(s) => !s.is_empty(),
            Value::Labels(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Samples(s) => !s.is_empty(),
            Value::Sample(_) | Value::Time(..) | Value::Duration(_, true) | Value::Data(_) => true,
        }
    }

    /// The text of a string-kinded value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) | Value::Html(s) => Some(s),
            _ => None,
        }
    }

    /// Length as Go's `len` sees it, for strings, maps and slices.
    pub fn len(&self) -> Option<usize> {
        match self {
            Value::Str(s) | Value::Html(s) => Some(s.len()),
            Value::Labels(l) => Some(l.len()),
            Value::Map(m) => Some(m.len()),
            Value::Samples(s) => Some(s.len()),
            _ => None,
        }
    }
}
