//! The executor: walks a tree with a dot and variables, evaluates
//! pipelines, commands, fields and calls the way Go's `text/template` does
//! (including which node an error points at), within bounded work.
//!
//! `mod.rs` holds the state and walks nodes; `eval` evaluates pipelines,
//! commands and fields; `call` calls functions and methods and checks their
//! arguments.

mod call;
mod eval;

use crate::Template;
use crate::ast::{Arg, Branch, Command, List, Node, Pipe};
use crate::error::{TemplateError, line_col};
use crate::funcs::{Env, Func};
use crate::gofmt::print_action;
use crate::value::Value;
use gofmt::quote;

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
}
