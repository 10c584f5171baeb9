//! Methods templates call on values (`(now | toTime).Format "2006"`,
//! `(1800 | toDuration).String`): those of Go's `time.Time` and
//! `time.Duration`. The receiver is passed as the first argument.

use crate::funcs::{Func, Param};
use crate::value::Value;
use gofmt::{GoTime, duration_string};

/// Argument `i` as a time (0: the receiver, 1: the other time), the epoch if it is not one.
fn time_at(a: &[Value], i: usize) -> GoTime {
    match a.get(i) {
        Some(Value::Time(t, _)) => *t,
        _ => GoTime::unix(0, 0),
    }
}

fn dur(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::Duration(d, _)) => *d,
        _ => 0,
    }
}

macro_rules! method {
    ($name:literal, [$($p:expr),*], $call:expr) => {
        Func { name: $name, params: &[$($p),*], variadic: None, call: $call }
    };
}

static TIME_METHODS: &[Func] = &[
    method!("Format", [Param::Str], |_, a| {
        Ok(Value::str(
            &time_at(a, 0).format(a.get(1).and_then(Value::as_str).unwrap_or("")),
        ))
    }),
    method!("String", [], |_, a| Ok(Value::str(
        &time_at(a, 0).go_string()
    ))),
    method!("Unix", [], |_, a| Ok(Value::Int(time_at(a, 0).secs))),
    method!("UnixMilli", [], |_, a| Ok(Value::Int(
        time_at(a, 0).unix_nano() / 1_000_000
    ))),
    method!("UnixMicro", [], |_, a| Ok(Value::Int(
        time_at(a, 0).unix_nano() / 1_000
    ))),
    method!("UnixNano", [], |_, a| Ok(Value::Int(
        time_at(a, 0).unix_nano()
    ))),
    method!("Add", [Param::Duration], |_, a| Ok(Value::Time(
        time_at(a, 0).add(dur(a.get(1))),
        false
    ))),
    method!("Sub", [Param::Time], |_, a| {
        Ok(Value::Duration(time_at(a, 0).sub(&time_at(a, 1)), false))
    }),
    method!("Before", [Param::Time], |_, a| Ok(Value::Bool(
        time_at(a, 0) < time_at(a, 1)
    ))),
    method!("After", [Param::Time], |_, a| Ok(Value::Bool(
        time_at(a, 0) > time_at(a, 1)
    ))),
    method!("Equal", [Param::Time], |_, a| Ok(Value::Bool(
        time_at(a, 0) == time_at(a, 1)
    ))),
    method!("IsZero", [], |_, a| {
        Ok(Value::Bool(time_at(a, 0) == GoTime::ZERO))
    }),
    method!("UTC", [], |_, a| Ok(Value::Time(time_at(a, 0), false))),
    method!("Local", [], |_, a| Ok(Value::Time(time_at(a, 0), false))),
    method!("Year", [], |_, a| Ok(Value::Int(time_at(a, 0).date().0))),
    method!("YearDay", [], |_, a| Ok(Value::Int(
        time_at(a, 0).year_day() as i64
    ))),
    method!("Day", [], |_, a| Ok(Value::Int(
        time_at(a, 0).date().2 as i64
    ))),
    method!("Hour", [], |_, a| Ok(Value::Int(
        time_at(a, 0).clock().0 as i64
    ))),
    method!("Minute", [], |_, a| Ok(Value::Int(
        time_at(a, 0).clock().1 as i64
    ))),
    method!("Second", [], |_, a| Ok(Value::Int(
        time_at(a, 0).clock().2 as i64
    ))),
    method!("Nanosecond", [], |_, a| Ok(Value::Int(
        time_at(a, 0).nanos as i64
    ))),
];

static DURATION_METHODS: &[Func] = &[
    method!("String", [], |_, a| Ok(Value::str(&duration_string(dur(
        a.first()
    ))))),
    method!("Seconds", [], |_, a| Ok(Value::Float(
        dur(a.first()) as f64 / 1e9
    ))),
    method!("Minutes", [], |_, a| Ok(Value::Float(
        dur(a.first()) as f64 / 6e10
    ))),
    method!("Hours", [], |_, a| Ok(Value::Float(
        dur(a.first()) as f64 / 3.6e12
    ))),
    method!("Milliseconds", [], |_, a| Ok(Value::Int(
        dur(a.first()) / 1_000_000
    ))),
    method!("Microseconds", [], |_, a| Ok(Value::Int(
        dur(a.first()) / 1_000
    ))),
    method!("Nanoseconds", [], |_, a| Ok(Value::Int(dur(a.first())))),
    method!("Abs", [], |_, a| {
        let d = dur(a.first());
        Ok(Value::Duration(
            if d == i64::MIN { i64::MAX } else { d.abs() },
            false,
        ))
    }),
    method!("Truncate", [Param::Duration], |_, a| {
        let (d, m) = (dur(a.first()), dur(a.get(1)));
        Ok(Value::Duration(if m <= 0 { d } else { d - d % m }, false))
    }),
];

/// The method `name` of `receiver`'s type, if it has one.
pub(crate) fn method(receiver: &Value, name: &str) -> Option<&'static Func> {
    let table = match receiver {
        Value::Time(..) => TIME_METHODS,
        Value::Duration(..) => DURATION_METHODS,
        _ => return None,
    };
    table.iter().find(|m| m.name == name)
}
