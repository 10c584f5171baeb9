//! Go's `text/template` builtin functions: comparisons, `index`, `slice`,
//! `len`, `not`, the printers and the escapers. (`and`, `or` and `call` are
//! special cases of the executor.)

use std::rc::Rc;

use crate::gofmt::{sprint, sprint_printable, sprintf, sprintln};
use crate::gonet::query_escape;
use crate::value::{Kind, Value};

type FnResult = Result<Value, String>;

/// Go's `basicKind`: the comparable scalar kinds.
fn basic_kind(v: &Value) -> Option<Kind> {
    match v.kind() {
        k @ (Kind::Bool | Kind::Int | Kind::Uint | Kind::Float | Kind::Complex | Kind::String) => {
            Some(k)
        }
        _ => None,
    }
}

fn as_i64(v: &Value) -> i64 {
    match v {
        Value::Int(i) | Value::Duration(i, false) => *i,
        _ => 0,
    }
}

fn as_u64(v: &Value) -> u64 {
    match v {
        Value::Byte(b) => *b as u64,
        _ => 0,
    }
}

fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Float(f) => *f,
        _ => 0.0,
    }
}

/// Identity of pointer-like values, for `eq` on comparable non-basic types.
fn same_pointer(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Sample(x), Value::Sample(y)) => Rc::ptr_eq(x, y),
        (Value::Time(x, false), Value::Time(y, false)) => x == y,
        _ => false,
    }
}

fn comparable(v: &Value) -> bool {
    !matches!(v.kind(), Kind::Map | Kind::Slice) && !matches!(v, Value::Data(_))
}

/// `eq arg1 arg2...`: arg1 equals any of the others.
pub(crate) fn eq(args: &[Value]) -> FnResult {
    let Some((a1, rest)) = args.split_first() else {
        return Err("missing argument for comparison".into());
    };
    if rest.is_empty() {
        return Err("missing argument for comparison".into());
    }
    let k1 = basic_kind(a1);
    for a in rest {
        let k2 = basic_kind(a);
        let truth = if k1 != k2 {
            match (k1, k2) {
                (Some(Kind::Int), Some(Kind::Uint)) => {
                    as_i64(a1) >= 0 && as_i64(a1) as u64 == as_u64(a)
                }
                (Some(Kind::Uint), Some(Kind::Int)) => {
                    as_i64(a) >= 0 && as_u64(a1) == as_i64(a) as u64
                }
                _ => {
                    if !matches!(a1, Value::Nil) && !matches!(a, Value::Nil) {
                        return Err(format!(
                            "incompatible types for comparison: {} and {}",
                            a1.type_name(),
                            a.type_name()
                        ));
                    }
                    false
                }
            }
        } else {
            match k1 {
                Some(Kind::Bool) => matches!((a1, a), (Value::Bool(x), Value::Bool(y)) if x == y),
                Some(Kind::Complex) => match (a1, a) {
                    (Value::Complex(r1, i1), Value::Complex(r2, i2)) => r1 == r2 && i1 == i2,
                    _ => false,
                },
                Some(Kind::Float) => as_f64(a1) == as_f64(a),
                Some(Kind::Int) => as_i64(a1) == as_i64(a),
                Some(Kind::String) => a1.as_str() == a.as_str(),
                Some(Kind::Uint) => as_u64(a1) == as_u64(a),
                _ => {
                    let (n1, n2) = (matches!(a1, Value::Nil), matches!(a, Value::Nil));
                    if a1.kind() != a.kind() && !n1 && !n2 {
                        return Err(format!(
                            "non-comparable types {}: {}, {}: {}",
                            sprint(std::slice::from_ref(a1)),
                            a1.type_name(),
                            a.type_name(),
                            sprint(std::slice::from_ref(a))
                        ));
                    }
                    if n1 || n2 {
                        n1 == n2
                    } else if !comparable(a) {
                        return Err(format!(
                            "non-comparable type {}: {}",
                            sprint(std::slice::from_ref(a)),
                            a.type_name()
                        ));
                    } else {
                        same_pointer(a1, a)
                    }
                }
            }
        };
        if truth {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

/// `ne a b`.
pub(crate) fn ne(args: &[Value]) -> FnResult {
    match eq(args)? {
        Value::Bool(b) => Ok(Value::Bool(!b)),
        v => Ok(v),
    }
}

fn less(a: &Value, b: &Value) -> Result<bool, String> {
    let bad = || "invalid type for comparison".to_string();
    let k1 = basic_kind(a).ok_or_else(bad)?;
    let k2 = basic_kind(b).ok_or_else(bad)?;
    if k1 != k2 {
        return match (k1, k2) {
            (Kind::Int, Kind::Uint) => Ok(as_i64(a) < 0 || (as_i64(a) as u64) < as_u64(b)),
            (Kind::Uint, Kind::Int) => Ok(as_i64(b) >= 0 && as_u64(a) < as_i64(b) as u64),
            _ => Err(format!(
                "incompatible types for comparison: {} and {}",
                a.type_name(),
                b.type_name()
            )),
        };
    }
    match k1 {
        Kind::Bool | Kind::Complex => Err(bad()),
        Kind::Float => Ok(as_f64(a) < as_f64(b)),
        Kind::Int => Ok(as_i64(a) < as_i64(b)),
        Kind::String => Ok(a.as_str() < b.as_str()),
        _ => Ok(as_u64(a) < as_u64(b)),
    }
}

fn two(args: &[Value]) -> (Value, Value) {
    let get = |i: usize| args.get(i).cloned().unwrap_or(Value::Nil);
    (get(0), get(1))
}

/// `lt a b`.
pub(crate) fn lt(args: &[Value]) -> FnResult {
    let (a, b) = two(args);
    less(&a, &b).map(Value::Bool)
}

/// `le a b`: less, or equal.
pub(crate) fn le(args: &[Value]) -> FnResult {
    let (a, b) = two(args);
    if less(&a, &b)? {
        return Ok(Value::Bool(true));
    }
    eq(&[a, b])
}

/// `gt a b`: not `le`.
pub(crate) fn gt(args: &[Value]) -> FnResult {
    match le(args)? {
        Value::Bool(b) => Ok(Value::Bool(!b)),
        v => Ok(v),
    }
}

/// `ge a b`: not `lt`.
pub(crate) fn ge(args: &[Value]) -> FnResult {
    let (a, b) = two(args);
    less(&a, &b).map(|l| Value::Bool(!l))
}

/// `not x`.
pub(crate) fn not(args: &[Value]) -> FnResult {
    Ok(Value::Bool(!args.first().is_some_and(Value::truth)))
}

/// `len x`.
pub(crate) fn len(args: &[Value]) -> FnResult {
    match args.first() {
        None | Some(Value::Nil) => Err("reflect: call of reflect.Value.Type on zero Value".into()),
        Some(v) => match v.len() {
            Some(n) => Ok(Value::Int(n as i64)),
            None => {
                let t = match v {
                    Value::Sample(_) => "template.sample",
                    Value::Time(..) => "time.Time",
                    Value::Duration(..) => "time.Duration",
                    v => v.type_name(),
                };
                Err(format!("len of type {t}"))
            }
        },
    }
}

/// An index argument as Go's `indexArg` takes it.
fn index_arg(v: &Value, cap: usize) -> Result<usize, String> {
    let x = match v {
        Value::Int(i) | Value::Duration(i, false) => *i,
        Value::Byte(b) => *b as i64,
        Value::Nil => return Err("cannot index slice/array with nil".into()),
        v => {
            return Err(format!(
                "cannot index slice/array with type {}",
                v.type_name()
            ));
        }
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

fn map_key(v: &Value) -> Result<&str, String> {
    match v {
        Value::Str(s) => Ok(s),
        Value::Nil => Err("value is nil; should be of type string".into()),
        v => Err(format!(
            "value has type {}; should be string",
            v.type_name()
        )),
    }
}

/// `index x i j...`: `x[i][j]...` over strings, maps and query results.
pub(crate) fn index(args: &[Value]) -> FnResult {
    let Some((item, indexes)) = args.split_first() else {
        return Err("index of untyped nil".into());
    };
    let mut item = item.clone();
    if let Value::Nil = item {
        return Err("index of untyped nil".into());
    }
    for ix in indexes {
        item = match &item {
            Value::Samples(s) => {
                let x = index_arg(ix, s.len())?;
                let smp = s.get(x).ok_or("reflect: slice index out of range")?;
                Value::Sample(smp.clone())
            }
            Value::Str(s) | Value::Html(s) => {
                let x = index_arg(ix, s.len())?;
                Value::Byte(
                    *s.as_bytes()
                        .get(x)
                        .ok_or("reflect: string index out of range")?,
                )
            }
            Value::Labels(l) => Value::str(l.get(map_key(ix)?).unwrap_or("")),
            Value::Map(m) => m.get(map_key(ix)?).cloned().unwrap_or(Value::Nil),
            Value::Sample(_) => return Err("can't index item of type template.sample".into()),
            Value::Nil => return Err("index of nil pointer".into()),
            v => return Err(format!("can't index item of type {}", v.type_name())),
        };
    }
    Ok(item)
}

/// `slice x i j`: `x[i:j]` over strings and query results.
pub(crate) fn slice(args: &[Value]) -> FnResult {
    let Some((item, indexes)) = args.split_first() else {
        return Err("slice of untyped nil".into());
    };
    if indexes.len() > 3 {
        return Err(format!("too many slice indexes: {}", indexes.len()));
    }
    let len = match item {
        Value::Nil => return Err("slice of untyped nil".into()),
        Value::Str(s) | Value::Html(s) => {
            if indexes.len() == 3 {
                return Err("cannot 3-index slice a string".into());
            }
            s.len()
        }
        Value::Samples(s) => s.len(),
        v => return Err(format!("can't slice item of type {}", v.type_name())),
    };
    let mut idx = [0, len, len];
    for (i, ix) in indexes.iter().enumerate() {
        idx[i] = index_arg(ix, len)?;
    }
    if idx[0] > idx[1] {
        return Err(format!("invalid slice index: {} > {}", idx[0], idx[1]));
    }
    if indexes.len() == 3 && idx[1] > idx[2] {
        return Err(format!("invalid slice index: {} > {}", idx[1], idx[2]));
    }
    Ok(match item {
        Value::Samples(s) => Value::Samples(Rc::new(s[idx[0]..idx[1]].to_vec())),
        v => {
            let bytes = v.as_str().unwrap_or("").as_bytes();
            let s = String::from_utf8_lossy(&bytes[idx[0]..idx[1]]);
            match v {
                Value::Html(_) => Value::Html(Rc::from(s.as_ref())),
                _ => Value::str(&s),
            }
        }
    })
}

/// `print`.
pub(crate) fn print(args: &[Value]) -> FnResult {
    Ok(Value::str(&sprint(args)))
}

/// `println`.
pub(crate) fn println(args: &[Value]) -> FnResult {
    Ok(Value::str(&sprintln(args)))
}

/// `printf format args...`.
pub(crate) fn printf(args: &[Value]) -> FnResult {
    let (format, rest) = args.split_first().ok_or("missing format")?;
    Ok(Value::str(&sprintf(format.as_str().unwrap_or(""), rest)))
}

/// `html`: Go's `HTMLEscapeString` of the printed arguments.
pub(crate) fn html(args: &[Value]) -> FnResult {
    let s = sprint_printable(args);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\0' => out.push('\u{fffd}'),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    Ok(Value::str(&out))
}

/// `js`: Go's `JSEscapeString` of the printed arguments.
pub(crate) fn js(args: &[Value]) -> FnResult {
    let s = sprint_printable(args);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04X}", c as u32)),
            c if !c.is_ascii() && !gofmt::is_print(c) => {
                out.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => out.push(c),
        }
    }
    Ok(Value::str(&out))
}

/// `urlquery`: Go's `url.QueryEscape` of the printed arguments.
pub(crate) fn urlquery(args: &[Value]) -> FnResult {
    Ok(Value::str(&query_escape(&sprint_printable(args))))
}
