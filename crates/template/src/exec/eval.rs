//! Evaluating pipelines, commands, constants, fields and variables.

use std::rc::Rc;

use super::{At, Callee, Exec, R};
use crate::ast::{Arg, Command, Number, Pipe, Variable};
use crate::methods::method;
use crate::value::Value;

impl<'t> Exec<'t, '_> {
    pub(super) fn eval_pipeline(&mut self, dot: &Value, pipe: &'t Pipe) -> R<Value> {
        self.at(At::Pipe(pipe));
        let mut value = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?);
        }
        let value = value.unwrap_or(Value::Nil);
        for v in &pipe.decl {
            if pipe.is_assign {
                self.set_var(&v.ident[0], value.clone())?;
            } else {
                self.vars.push((&v.ident[0], value.clone()));
            }
        }
        Ok(value)
    }

    pub(super) fn not_a_function(&self, args: &[Arg], fin: &Option<Value>) -> R<()> {
        if args.len() > 1 || fin.is_some() {
            let first = args.first().map(|a| a.to_string()).unwrap_or_default();
            return Err(self.errorf(format!("can't give argument to non-function {first}")));
        }
        Ok(())
    }

    pub(super) fn eval_command(
        &mut self,
        dot: &Value,
        cmd: &'t Command,
        fin: Option<Value>,
    ) -> R<Value> {
        let Some(first) = cmd.args.first() else {
            return Err(self.errorf("empty command"));
        };
        match first {
            Arg::Field { ident, .. } => {
                return self.eval_field_node(dot, first, ident, &cmd.args, fin);
            }
            Arg::Chain { node, fields, .. } => {
                return self.eval_chain_node(dot, first, node, fields, &cmd.args, fin);
            }
            Arg::Identifier { name, .. } => {
                return self.eval_function(dot, first, name, At::Cmd(cmd), &cmd.args, fin);
            }
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, &fin)?;
                return self.eval_nested_pipeline(dot, p);
            }
            Arg::Variable(v) => return self.eval_variable_node(dot, first, v, &cmd.args, fin),
            _ => {}
        }
        self.at(At::Arg(first));
        self.not_a_function(&cmd.args, &fin)?;
        match first {
            Arg::Bool { value, .. } => Ok(Value::Bool(*value)),
            Arg::Dot { .. } => Ok(dot.clone()),
            Arg::Number { num, .. } => self.ideal_constant(first, num),
            Arg::String { text, .. } => Ok(Value::str(text)),
            _ => Err(self.errorf("nil is not a command")),
        }
    }

    pub(super) fn eval_nested_pipeline(&mut self, dot: &Value, p: &'t Pipe) -> R<Value> {
        self.nest()?;
        let v = self.eval_pipeline(dot, p)?;
        self.nesting -= 1;
        Ok(v)
    }

    /// A number whose type nothing dictates: its syntax decides.
    pub(super) fn ideal_constant(&mut self, arg: &'t Arg, n: &Number) -> R<Value> {
        self.at(At::Arg(arg));
        let t = &n.text;
        let hex_int = t.len() > 2
            && t.starts_with('0')
            && matches!(t.as_bytes()[1], b'x' | b'X')
            && !t.contains(['p', 'P']);
        if n.is_complex {
            return Ok(Value::Complex(n.complex.0, n.complex.1));
        }
        if n.is_float && !hex_int && !t.starts_with('\'') && t.contains(['.', 'e', 'E', 'p', 'P']) {
            return Ok(Value::Float(n.float));
        }
        if n.is_int {
            return Ok(Value::Int(n.int));
        }
        if n.is_uint {
            return Err(self.errorf(format!("{t} overflows int")));
        }
        Ok(Value::Nil)
    }

    pub(super) fn eval_field_node(
        &mut self,
        dot: &Value,
        field: &'t Arg,
        ident: &[String],
        args: &'t [Arg],
        fin: Option<Value>,
    ) -> R<Value> {
        self.at(At::Arg(field));
        self.eval_field_chain(dot, dot.clone(), field, ident, args, fin)
    }

    pub(super) fn eval_chain_node(
        &mut self,
        dot: &Value,
        chain: &'t Arg,
        node: &'t Arg,
        fields: &[String],
        args: &'t [Arg],
        fin: Option<Value>,
    ) -> R<Value> {
        self.at(At::Arg(chain));
        if let Arg::Nil { .. } = node {
            return Err(self.errorf(format!("indirection through explicit nil in {chain}")));
        }
        let receiver = self.eval_arg(dot, None, node)?;
        self.eval_field_chain(dot, receiver, chain, fields, args, fin)
    }

    pub(super) fn eval_variable_node(
        &mut self,
        dot: &Value,
        arg: &'t Arg,
        v: &'t Variable,
        args: &'t [Arg],
        fin: Option<Value>,
    ) -> R<Value> {
        self.at(At::Arg(arg));
        let value = self.var_value(&v.ident[0])?;
        if v.ident.len() == 1 {
            self.not_a_function(args, &fin)?;
            return Ok(value);
        }
        self.eval_field_chain(dot, value, arg, &v.ident[1..], args, fin)
    }

    pub(super) fn eval_field_chain(
        &mut self,
        dot: &Value,
        receiver: Value,
        node: &'t Arg,
        ident: &[String],
        args: &'t [Arg],
        fin: Option<Value>,
    ) -> R<Value> {
        let Some((last, init)) = ident.split_last() else {
            return Ok(receiver);
        };
        let mut r = receiver;
        for name in init {
            r = self.eval_field(dot, name, node, &[], None, r)?;
        }
        self.eval_field(dot, last, node, args, fin, r)
    }

    pub(super) fn eval_field(
        &mut self,
        dot: &Value,
        name: &str,
        node: &'t Arg,
        args: &'t [Arg],
        fin: Option<Value>,
        receiver: Value,
    ) -> R<Value> {
        if let Value::Nil = receiver {
            return Ok(Value::Nil);
        }
        if let Some(m) = method(&receiver, name) {
            let callee = Callee::Method(m, receiver);
            return self.eval_call(dot, callee, At::Arg(node), name, args, fin);
        }
        let has_args = args.len() > 1 || fin.is_some();
        let field = match &receiver {
            Value::Data(d) => match name {
                "Labels" => Some(Value::Labels(d.labels.clone())),
                "ExternalLabels" => Some(Value::Labels(d.external_labels.clone())),
                "ExternalURL" => Some(Value::Str(d.external_url.clone())),
                "Value" => Some(Value::Float(d.value)),
                _ => None,
            },
            Value::Sample(s) => match name {
                "Labels" => Some(Value::Labels(Rc::new(s.labels.clone()))),
                "Value" => Some(Value::Float(s.value)),
                _ => None,
            },
            Value::Labels(l) => {
                if has_args {
                    return Err(self.errorf(format!("{name} is not a method but has arguments")));
                }
                return Ok(Value::str(l.get(name).unwrap_or("")));
            }
            Value::Map(m) => {
                if has_args {
                    return Err(self.errorf(format!("{name} is not a method but has arguments")));
                }
                return Ok(m.get(name).cloned().unwrap_or(Value::Nil));
            }
            _ => None,
        };
        match field {
            Some(_) if has_args => Err(self.errorf(format!(
                "{name} has arguments but cannot be invoked as function"
            ))),
            Some(v) => Ok(v),
            None => Err(self.errorf(format!(
                "can't evaluate field {name} in type {}",
                receiver.type_name()
            ))),
        }
    }
}
