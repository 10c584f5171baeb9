//! The executor: walks a tree with a dot and variables, evaluates
//! pipelines, commands, fields and calls the way Go's `text/template` does
//! (including which node an error points at), within bounded work.

use std::rc::Rc;

use crate::Template;
use crate::ast::{Arg, Branch, Command, List, Node, Number, Pipe, Variable};
use crate::error::{TemplateError, line_col};
use crate::funcs::{Env, Func, Param, lookup};
use crate::gofmt::print_action;
use crate::methods::method;
use crate::strconv::quote;
use crate::value::Value;

/// Most bytes a template may output.
pub const MAX_OUTPUT: usize = 1 << 20;
/// Most nested `{{template}}` calls.
pub const MAX_TEMPLATE_DEPTH: usize = 100;
/// Most nested control structures, template calls and parentheses at run time.
pub const MAX_NESTING: usize = 150;
/// Most steps (nodes walked, calls made) one execution may take.
pub const MAX_STEPS: u64 = 1_000_000;
/// Most bytes of strings functions may produce in one execution.
pub const MAX_ALLOCATED: usize = 16 << 20;
/// Longest node text an error quotes.
const MAX_CONTEXT: usize = 1024;

/// Errors are boxed: results stay small, and so do the recursive frames.
type R<T> = Result<T, Box<TemplateError>>;

/// The node an error points at (Go's `state.node`).
#[derive(Clone, Copy)]
enum At<'t> {
    Node(&'t Node),
    Pipe(&'t Pipe),
    Cmd(&'t Command),
    Arg(&'t Arg),
}

impl At<'_> {
    fn pos(&self) -> usize {
        match self {
            At::Node(n) => n.pos(),
            At::Pipe(p) => p.pos,
            At::Cmd(c) => c.pos,
            At::Arg(a) => a.pos(),
        }
    }

    /// The node as Go prints it in errors; very long nodes (whole bodies,
    /// large text) are cut at [`MAX_CONTEXT`] bytes.
    fn context(&self) -> String {
        let mut s = match self {
            At::Node(n) => n.to_string(),
            At::Pipe(p) => p.to_string(),
            At::Cmd(c) => c.to_string(),
            At::Arg(a) => a.to_string(),
        };
        if s.len() > MAX_CONTEXT {
            let mut end = MAX_CONTEXT;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            s.truncate(end);
            s.push_str("...");
        }
        s
    }
}

/// How a list ended: normally, or by `{{break}}`/`{{continue}}`.
#[derive(PartialEq)]
enum Flow {
    Normal,
    Break,
    Continue,
}

/// What is called: a function, or a method bound to its receiver.
enum Callee {
    Func(&'static Func),
    Method(&'static Func, Value),
}

/// One execution of a template.
pub(crate) struct Exec<'t, 'e> {
    tmpl: &'t Template,
    tree_name: &'t str,
    node: Option<At<'t>>,
    vars: Vec<(&'t str, Value)>,
    depth: usize,
    nesting: usize,
    allocated: usize,
    out: String,
    env: Env<'e>,
}

impl<'t, 'e> Exec<'t, 'e> {
    /// Runs the template's own tree with `dot`.
    pub fn run(tmpl: &'t Template, dot: Value, env: Env<'e>) -> Result<String, TemplateError> {
        let mut ex = Exec {
            tmpl,
            tree_name: &tmpl.name,
            node: None,
            vars: vec![("$", dot.clone())],
            depth: 0,
            nesting: 0,
            allocated: 0,
            out: String::new(),
            env,
        };
        let Some(root) = tmpl.trees.get(&tmpl.name) else {
            return Err(*ex.errorf(format!(
                "{} is an incomplete or empty template",
                quote(&tmpl.name)
            )));
        };
        ex.walk_list(&dot, root).map_err(|e| *e)?;
        Ok(ex.out)
    }

    fn at(&mut self, at: At<'t>) {
        self.node = Some(at);
    }

    fn errorf(&self, message: impl Into<String>) -> Box<TemplateError> {
        let message = message.into();
        let (line, col, context) = match self.node {
            Some(at) => {
                let (line, col) = line_col(&self.tmpl.text, at.pos());
                (line, col, at.context())
            }
            None => (0, 0, String::new()),
        };
        Box::new(TemplateError::Exec {
            name: self.tmpl.name.clone(),
            template: self.tree_name.to_string(),
            line,
            col,
            context,
            message,
        })
    }

    fn step(&mut self) -> R<()> {
        self.env.steps += 1;
        if self.env.steps > MAX_STEPS {
            return Err(self.errorf(format!("template execution exceeded {MAX_STEPS} steps")));
        }
        Ok(())
    }

    fn nest(&mut self) -> R<()> {
        if self.nesting >= MAX_NESTING {
            return Err(self.errorf(format!("exceeded maximum nesting depth ({MAX_NESTING})")));
        }
        self.nesting += 1;
        Ok(())
    }

    fn write(&mut self, s: &str) -> R<()> {
        if self.out.len() + s.len() > MAX_OUTPUT {
            return Err(self.errorf(format!("template output exceeds {MAX_OUTPUT} bytes")));
        }
        self.out.push_str(s);
        Ok(())
    }

    fn walk_list(&mut self, dot: &Value, list: &'t List) -> R<Flow> {
        for n in &list.nodes {
            let flow = self.walk(dot, n)?;
            if flow != Flow::Normal {
                return Ok(flow);
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Value, node: &'t Node) -> R<Flow> {
        self.step()?;
        self.at(At::Node(node));
        match node {
            Node::Text { text, .. } => self.write(text)?,
            Node::Action { pipe, .. } => {
                let v = self.eval_pipeline(dot, pipe)?;
                if pipe.decl.is_empty() {
                    self.at(At::Node(node));
                    self.write(&print_action(&v))?;
                }
            }
            Node::If(b) | Node::With(b) => {
                self.nest()?;
                let flow = self.walk_if_or_with(matches!(node, Node::With(_)), dot, b)?;
                self.nesting -= 1;
                return Ok(flow);
            }
            Node::Range(b) => {
                self.nest()?;
                self.walk_range(dot, node, b)?;
                self.nesting -= 1;
            }
            Node::Template { name, pipe, .. } => {
                self.nest()?;
                self.walk_template(dot, name, pipe.as_deref())?;
                self.nesting -= 1;
            }
            Node::Break { .. } => return Ok(Flow::Break),
            Node::Continue { .. } => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    fn walk_if_or_with(&mut self, with: bool, dot: &Value, b: &'t Branch) -> R<Flow> {
        let mark = self.vars.len();
        let val = self.eval_pipeline(dot, &b.pipe)?;
        let flow = if val.truth() {
            if with {
                self.walk_list(&val, &b.list)?
            } else {
                self.walk_list(dot, &b.list)?
            }
        } else if let Some(e) = &b.else_list {
            self.walk_list(dot, e)?
        } else {
            Flow::Normal
        };
        self.vars.truncate(mark);
        Ok(flow)
    }

    fn walk_range(&mut self, dot: &Value, node: &'t Node, r: &'t Branch) -> R<()> {
        self.at(At::Node(node));
        let mark0 = self.vars.len();
        let val = self.eval_pipeline(dot, &r.pipe)?;
        let items: Vec<(Value, Value)> = match &val {
            Value::Samples(s) => s
                .iter()
                .enumerate()
                .map(|(i, x)| (Value::Int(i as i64), Value::Sample(x.clone())))
                .collect(),
            Value::Labels(l) => l
                .iter()
                .map(|l| (Value::str(&l.name), Value::str(&l.value)))
                .collect(),
            Value::Map(m) => m.iter().map(|(k, v)| (Value::str(k), v.clone())).collect(),
            Value::Int(n) => {
                if r.pipe.decl.len() > 1 {
                    return Err(self.errorf(format!(
                        "can't use {n} to iterate over more than one variable"
                    )));
                }
                let n = (*n).clamp(0, MAX_STEPS as i64);
                (0..n).map(|i| (Value::Int(i), Value::Int(i))).collect()
            }
            Value::Nil => Vec::new(),
            v => return Err(self.errorf(format!("range can't iterate over {}", print_action(v)))),
        };
        let mark = self.vars.len();
        let empty = items.is_empty();
        for (index, elem) in items {
            self.step()?;
            self.iteration(r, mark, index, &elem)?;
            let flow = self.walk_list(&elem, &r.list)?;
            self.vars.truncate(mark);
            if flow == Flow::Break {
                break;
            }
        }
        if empty && let Some(e) = &r.else_list {
            self.walk_list(dot, e)?;
        }
        self.vars.truncate(mark0);
        Ok(())
    }

    /// Sets a range's variables for one element.
    fn iteration(&mut self, r: &'t Branch, mark: usize, index: Value, elem: &Value) -> R<()> {
        let decl = &r.pipe.decl;
        if let Some(first) = decl.first() {
            if r.pipe.is_assign {
                let v = if decl.len() > 1 {
                    index.clone()
                } else {
                    elem.clone()
                };
                self.set_var(&first.ident[0], v)?;
            } else if let Some(top) = self.vars.get_mut(mark.wrapping_sub(1)) {
                top.1 = elem.clone();
            }
        }
        if let Some(second) = decl.get(1) {
            if r.pipe.is_assign {
                self.set_var(&second.ident[0], elem.clone())?;
            } else if let Some(v) = self.vars.get_mut(mark.wrapping_sub(2)) {
                v.1 = index;
            }
        }
        Ok(())
    }

    fn walk_template(&mut self, dot: &Value, name: &'t str, pipe: Option<&'t Pipe>) -> R<()> {
        let Some(tree) = self.tmpl.trees.get(name) else {
            return Err(self.errorf(format!("template {} not defined", quote(name))));
        };
        if self.depth >= MAX_TEMPLATE_DEPTH {
            return Err(self.errorf(format!(
                "exceeded maximum template depth ({MAX_TEMPLATE_DEPTH})"
            )));
        }
        let dot = match pipe {
            Some(p) => self.eval_pipeline(dot, p)?,
            None => Value::Nil,
        };
        let vars = std::mem::replace(&mut self.vars, vec![("$", dot.clone())]);
        let tree_name = std::mem::replace(&mut self.tree_name, name);
        self.depth += 1;
        let r = self.walk_list(&dot, tree);
        self.depth -= 1;
        self.tree_name = tree_name;
        self.vars = vars;
        r.map(|_| ())
    }

    fn var_value(&self, name: &str) -> R<Value> {
        match self.vars.iter().rev().find(|(n, _)| *n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => Err(self.errorf(format!("undefined variable: {name}"))),
        }
    }

    fn set_var(&mut self, name: &str, value: Value) -> R<()> {
        match self.vars.iter_mut().rev().find(|(n, _)| *n == name) {
            Some(slot) => {
                slot.1 = value;
                Ok(())
            }
            None => Err(self.errorf(format!("undefined variable: {name}"))),
        }
    }

    fn eval_pipeline(&mut self, dot: &Value, pipe: &'t Pipe) -> R<Value> {
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

    fn not_a_function(&self, args: &[Arg], fin: &Option<Value>) -> R<()> {
        if args.len() > 1 || fin.is_some() {
            let first = args.first().map(|a| a.to_string()).unwrap_or_default();
            return Err(self.errorf(format!("can't give argument to non-function {first}")));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Value, cmd: &'t Command, fin: Option<Value>) -> R<Value> {
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

    fn eval_nested_pipeline(&mut self, dot: &Value, p: &'t Pipe) -> R<Value> {
        self.nest()?;
        let v = self.eval_pipeline(dot, p)?;
        self.nesting -= 1;
        Ok(v)
    }

    /// A number whose type nothing dictates: its syntax decides.
    fn ideal_constant(&mut self, arg: &'t Arg, n: &Number) -> R<Value> {
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

    fn eval_field_node(
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

    fn eval_chain_node(
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

    fn eval_variable_node(
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

    fn eval_field_chain(
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

    fn eval_field(
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

    fn eval_function(
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

    fn eval_call(
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

    fn validate_type(&self, value: Value, typ: Option<Param>) -> R<Value> {
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

    fn eval_arg(&mut self, dot: &Value, typ: Option<Param>, n: &'t Arg) -> R<Value> {
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

    fn cant_handle(&self, n: &Arg, t: Param) -> Box<TemplateError> {
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
