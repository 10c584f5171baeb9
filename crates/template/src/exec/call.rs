//! Calling functions and methods: Go's argument counting, argument
//! evaluation against parameter types, and `wrong type` checks.

use super::{At, Callee, Exec, MAX_ALLOCATED, R};
use crate::ast::Arg;
use crate::error::TemplateError;
use crate::funcs::{Param, lookup};
use crate::value::Value;
use gofmt::quote;

impl<'t> Exec<'t, '_> {
    pub(super) fn eval_function(
        &mut self,
        dot: &Value,
        ident: &'t Arg,
        name: &str,
        node: At<'t>,
        args: &'t [Arg],
        fin: Option<Value>,
    ) -> R<Value> {
        self.at(At::Arg(ident));
        let Some(f) = lookup(name) else {
            return Err(self.errorf(format!("{} is not a defined function", quote(name))));
        };
        self.eval_call(dot, Callee::Func(f), node, name, args, fin)
    }

    pub(super) fn eval_call(
        &mut self,
        dot: &Value,
        callee: Callee,
        node: At<'t>,
        name: &str,
        args: &'t [Arg],
        fin: Option<Value>,
    ) -> R<Value> {
        self.step()?;
        let args = args.get(1..).unwrap_or(&[]);
        let f = match &callee {
            Callee::Func(f) | Callee::Method(f, _) => *f,
        };
        let builtin = matches!(callee, Callee::Func(_));
        let num_in = args.len() + usize::from(fin.is_some());
        let num_fixed = if f.variadic.is_some() {
            f.params.len()
        } else {
            args.len()
        };
        if f.variadic.is_some() {
            if num_in < f.params.len() {
                return Err(self.errorf(format!(
                    "wrong number of args for {name}: want at least {} got {}",
                    f.params.len(),
                    args.len()
                )));
            }
        } else if num_in != f.params.len() {
            return Err(self.errorf(format!(
                "wrong number of args for {name}: want {} got {num_in}",
                f.params.len()
            )));
        }
        if builtin && (name == "and" || name == "or") {
            let mut v = Value::Nil;
            for a in args {
                v = self.eval_arg(dot, Some(Param::Reflect), a)?;
                if v.truth() == (name == "or") {
                    return Ok(v);
                }
            }
            if let Some(f) = fin {
                v = f;
            }
            return Ok(v);
        }
        let mut argv = Vec::with_capacity(num_in + 1);
        if let Callee::Method(_, recv) = &callee {
            argv.push(recv.clone());
        }
        let mut i = 0;
        while i < num_fixed && i < args.len() {
            argv.push(self.eval_arg(dot, Some(f.params[i]), &args[i])?);
            i += 1;
        }
        if let Some(vt) = f.variadic {
            while i < args.len() {
                argv.push(self.eval_arg(dot, Some(vt), &args[i])?);
                i += 1;
            }
        }
        if let Some(fv) = fin {
            let t = match f.variadic {
                Some(vt) if num_in > num_fixed => vt,
                _ => f.params[(num_in - 1).min(f.params.len().saturating_sub(1))],
            };
            argv.push(self.validate_type(fv, Some(t))?);
        }
        if builtin && name == "call" {
            self.at(node);
            let msg = match argv.first() {
                None | Some(Value::Nil) => "call of nil".to_string(),
                Some(v) => {
                    let callee = args.first().map(|a| a.to_string()).unwrap_or_default();
                    format!("non-function {callee} of type {}", v.type_name())
                }
            };
            return Err(self.errorf(format!("error calling call: {msg}")));
        }
        match (f.call)(&mut self.env, &argv) {
            Ok(v) => {
                if let Some(s) = v.as_str() {
                    self.allocated += s.len();
                    if self.allocated > MAX_ALLOCATED {
                        self.at(node);
                        return Err(self.errorf(format!(
                            "template functions produced more than {MAX_ALLOCATED} bytes"
                        )));
                    }
                }
                Ok(v)
            }
            Err(e) => {
                self.at(node);
                Err(self.errorf(format!("error calling {name}: {e}")))
            }
        }
    }

    pub(super) fn validate_type(&self, value: Value, typ: Option<Param>) -> R<Value> {
        let Some(t) = typ else {
            return Ok(value);
        };
        let ok = match (&value, t) {
            (Value::Nil, t) if t.can_be_nil() => true,
            (Value::Nil, t) => {
                return Err(self.errorf(format!("invalid value; expected {}", t.type_name())));
            }
            (_, Param::Any | Param::Reflect) => true,
            (Value::Str(_), Param::Str)
            | (Value::Sample(_), Param::Sample)
            | (Value::Samples(_), Param::Samples) => true,
            (Value::Duration(d, _), Param::Duration) => return Ok(Value::Duration(*d, false)),
            (Value::Time(x, _), Param::Time) => return Ok(Value::Time(*x, false)),
            _ => false,
        };
        if !ok {
            return Err(self.errorf(format!(
                "wrong type for value; expected {}; got {}",
                t.type_name(),
                value.type_name()
            )));
        }
        Ok(value)
    }

    pub(super) fn eval_arg(&mut self, dot: &Value, typ: Option<Param>, n: &'t Arg) -> R<Value> {
        self.at(At::Arg(n));
        let v = match n {
            Arg::Dot { .. } => dot.clone(),
            Arg::Nil { .. } => {
                return match typ {
                    Some(t) if !t.can_be_nil() => {
                        Err(self.errorf(format!("cannot assign nil to {}", t.type_name())))
                    }
                    _ => Ok(Value::Nil),
                };
            }
            Arg::Field { ident, .. } => {
                self.eval_field_node(dot, n, ident, std::slice::from_ref(n), None)?
            }
            Arg::Variable(v) => self.eval_variable_node(dot, n, v, &[], None)?,
            Arg::Pipe(p) => self.eval_nested_pipeline(dot, p)?,
            Arg::Identifier { name, .. } => {
                self.eval_function(dot, n, name, At::Arg(n), &[], None)?
            }
            Arg::Chain { node, fields, .. } => {
                self.eval_chain_node(dot, n, node, fields, &[], None)?
            }
            Arg::Bool { value, .. } => {
                return match typ {
                    None | Some(Param::Any | Param::Reflect) => Ok(Value::Bool(*value)),
                    Some(t) => Err(self.cant_handle(n, t)),
                };
            }
            Arg::Number { num, .. } => {
                return match typ {
                    None | Some(Param::Any | Param::Reflect) => self.ideal_constant(n, num),
                    Some(Param::Duration) if num.is_int => Ok(Value::Duration(num.int, false)),
                    Some(Param::Duration) => {
                        Err(self.errorf(format!("expected integer; found {n}")))
                    }
                    Some(Param::Str) => Err(self.errorf(format!("expected string; found {n}"))),
                    Some(t) => Err(self.cant_handle(n, t)),
                };
            }
            Arg::String { text, .. } => {
                return match typ {
                    None | Some(Param::Any | Param::Reflect | Param::Str) => Ok(Value::str(text)),
                    Some(Param::Duration) => {
                        Err(self.errorf(format!("expected integer; found {n}")))
                    }
                    Some(t) => Err(self.cant_handle(n, t)),
                };
            }
        };
        self.validate_type(v, typ)
    }

    pub(super) fn cant_handle(&self, n: &Arg, t: Param) -> Box<TemplateError> {
        match t {
            Param::Str => self.errorf(format!("expected string; found {n}")),
            Param::Duration => self.errorf(format!("expected integer; found {n}")),
            t => self.errorf(format!(
                "can't handle {n} for arg of type {}",
                t.type_name()
            )),
        }
    }
}
