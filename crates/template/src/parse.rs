//! The parser: items into trees, one per template name (`define` and
//! `block` add more), checking functions and variables as Go does.

use std::collections::HashMap;

use crate::ast::{Arg, Branch, Command, List, Node, Number, Pipe, Variable, is_empty_tree};
use crate::lex::{Item, ItemType, lex};
use crate::strconv::{
    Unquoted, parse_float, parse_int_base0, parse_uint_base0, quote, unquote, unquote_char,
};

/// Deepest nesting of control structures and parentheses a template may have.
pub const MAX_PARSE_DEPTH: usize = 100;
/// Most commands one pipeline may have.
const MAX_PIPELINE_CMDS: usize = 10_000;

/// A parse failure: Go's message, and where the parser was.
#[derive(Debug)]
pub(crate) struct ParseError {
    pub line: usize,
    pub pos: usize,
    pub message: String,
}

/// Errors are boxed: results stay small, and so do the recursive frames.
type PResult<T> = Result<T, Box<ParseError>>;

/// Parses `text`; the top-level tree is named `name`. `has_function` says
/// which identifiers are functions.
pub(crate) fn parse(
    name: &str,
    text: &str,
    has_function: &dyn Fn(&str) -> bool,
) -> PResult<HashMap<String, List>> {
    let mut p = Parser {
        items: lex(text),
        idx: 0,
        furthest: 0,
        parse_name: name,
        vars: vec!["$".into()],
        trees: HashMap::new(),
        action_line: 0,
        range_depth: 0,
        depth: 0,
        has_function,
    };
    let root = p.parse_top()?;
    p.add(name, root)?;
    Ok(p.trees)
}

/// What `textOrAction` found: a node, or the `{{end}}`/`{{else}}` that
/// closes the enclosing list.
enum Parsed {
    Node(Node),
    End,
    Else,
}

impl Parsed {
    fn describe(&self) -> &'static str {
        match self {
            Parsed::End => "{{end}}",
            Parsed::Else => "{{else}}",
            Parsed::Node(_) => "node",
        }
    }
}

struct Parser<'a> {
    items: Vec<Item>,
    idx: usize,
    /// The furthest item read: Go reports errors on the line of the most
    /// recently lexed item.
    furthest: usize,
    parse_name: &'a str,
    vars: Vec<String>,
    trees: HashMap<String, List>,
    action_line: usize,
    range_depth: usize,
    depth: usize,
    has_function: &'a dyn Fn(&str) -> bool,
}

impl Parser<'_> {
    fn item(&mut self, i: usize) -> Item {
        let i = i.min(self.items.len().saturating_sub(1));
        self.furthest = self.furthest.max(i);
        self.items.get(i).cloned().unwrap_or(Item {
            typ: ItemType::Eof,
            pos: 0,
            val: String::new(),
            line: 1,
        })
    }

    fn next(&mut self) -> Item {
        let it = self.item(self.idx);
        if self.idx < self.items.len() {
            self.idx += 1;
        }
        it
    }

    fn backup(&mut self) {
        self.idx = self.idx.saturating_sub(1);
    }

    fn peek(&mut self) -> Item {
        self.item(self.idx)
    }

    fn next_non_space(&mut self) -> Item {
        loop {
            let t = self.next();
            if t.typ != ItemType::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Item {
        let t = self.next_non_space();
        self.backup();
        t
    }

    fn errorf(&mut self, message: String) -> Box<ParseError> {
        let at = self.item(self.furthest);
        Box::new(ParseError {
            line: at.line,
            pos: at.pos,
            message,
        })
    }

    fn unexpected<T>(&mut self, tok: &Item, context: &str) -> PResult<T> {
        if tok.typ == ItemType::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != tok.line {
                extra = format!(
                    " in action started at {}:{}",
                    self.parse_name, self.action_line
                );
                if tok.val.ends_with(" action") {
                    extra = extra[" in action".len()..].to_string();
                }
            }
            return Err(self.errorf(format!("{tok}{extra}")));
        }
        Err(self.errorf(format!("unexpected {tok} in {context}")))
    }

    fn expect(&mut self, typ: ItemType, context: &str) -> PResult<Item> {
        let tok = self.next_non_space();
        if tok.typ != typ {
            return self.unexpected(&tok, context);
        }
        Ok(tok)
    }

    fn enter(&mut self) -> PResult<()> {
        if self.depth >= MAX_PARSE_DEPTH {
            return Err(self.errorf("max expression depth exceeded".into()));
        }
        self.depth += 1;
        Ok(())
    }

    fn add(&mut self, name: &str, root: List) -> PResult<()> {
        match self.trees.get(name) {
            Some(old) if !is_empty_tree(old) => {
                if !is_empty_tree(&root) {
                    return Err(self.errorf(format!(
                        "template: multiple definition of template {}",
                        quote(name)
                    )));
                }
            }
            _ => {
                self.trees.insert(name.to_string(), root);
            }
        }
        Ok(())
    }

    fn parse_top(&mut self) -> PResult<List> {
        let mut root = List { nodes: Vec::new() };
        while self.peek().typ != ItemType::Eof {
            if self.peek().typ == ItemType::LeftDelim {
                let save = self.idx;
                self.next();
                if self.next_non_space().typ == ItemType::Define {
                    self.parse_definition()?;
                    continue;
                }
                self.idx = save;
            }
            match self.text_or_action()? {
                Parsed::Node(n) => root.nodes.push(n),
                other => return Err(self.errorf(format!("unexpected {}", other.describe()))),
            }
        }
        Ok(root)
    }

    /// A body parsed as its own tree (`define`, `block`): fresh variables.
    fn sub_tree(&mut self, context: &str) -> PResult<List> {
        let vars = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let range_depth = std::mem::take(&mut self.range_depth);
        let action_line = std::mem::take(&mut self.action_line);
        let (list, end) = self.item_list()?;
        if !matches!(end, Parsed::End) {
            return Err(self.errorf(format!("unexpected {} in {context}", end.describe())));
        }
        self.vars = vars;
        self.range_depth = range_depth;
        self.action_line = action_line;
        Ok(list)
    }

    fn parse_definition(&mut self) -> PResult<()> {
        const CONTEXT: &str = "define clause";
        let tok = self.next_non_space();
        if !matches!(tok.typ, ItemType::String | ItemType::RawString) {
            return self.unexpected(&tok, CONTEXT);
        }
        let name = unquote(&tok.val).map_err(|_| self.errorf("invalid syntax".into()))?;
        self.expect(ItemType::RightDelim, CONTEXT)?;
        let list = self.sub_tree(CONTEXT)?;
        self.add(&name, list)
    }

    fn item_list(&mut self) -> PResult<(List, Parsed)> {
        self.peek_non_space();
        let mut list = List { nodes: Vec::new() };
        while self.peek_non_space().typ != ItemType::Eof {
            match self.text_or_action()? {
                Parsed::Node(n) => list.nodes.push(n),
                end => return Ok((list, end)),
            }
        }
        Err(self.errorf("unexpected EOF".into()))
    }

    fn text_or_action(&mut self) -> PResult<Parsed> {
        let tok = self.next_non_space();
        match tok.typ {
            ItemType::Text => Ok(Parsed::Node(Node::Text {
                pos: tok.pos,
                text: tok.val,
            })),
            ItemType::LeftDelim => {
                self.action_line = tok.line;
                let r = self.action();
                self.action_line = 0;
                r
            }
            _ => self.unexpected(&tok, "input"),
        }
    }

    fn action(&mut self) -> PResult<Parsed> {
        let tok = self.next_non_space();
        match tok.typ {
            ItemType::Block => return self.block_control().map(Parsed::Node),
            ItemType::Break | ItemType::Continue => {
                let word = if tok.typ == ItemType::Break {
                    "break"
                } else {
                    "continue"
                };
                let t = self.next_non_space();
                if t.typ != ItemType::RightDelim {
                    return self.unexpected(&t, &format!("{{{{{word}}}}}"));
                }
                if self.range_depth == 0 {
                    return Err(self.errorf(format!("{{{{{word}}}}} outside {{{{range}}}}")));
                }
                return Ok(Parsed::Node(if tok.typ == ItemType::Break {
                    Node::Break { pos: tok.pos }
                } else {
                    Node::Continue { pos: tok.pos }
                }));
            }
            ItemType::Else => return self.else_control(),
            ItemType::End => {
                self.expect(ItemType::RightDelim, "end")?;
                return Ok(Parsed::End);
            }
            ItemType::If => return self.if_control().map(Parsed::Node),
            ItemType::Range => {
                let b = self.parse_control("range")?;
                return Ok(Parsed::Node(Node::Range(Box::new(b))));
            }
            ItemType::Template => return self.template_control().map(Parsed::Node),
            ItemType::With => return self.with_control().map(Parsed::Node),
            _ => {}
        }
        self.backup();
        let pos = self.peek().pos;
        let pipe = self.pipeline("command", ItemType::RightDelim)?;
        Ok(Parsed::Node(Node::Action {
            pos,
            pipe: Box::new(pipe),
        }))
    }

    fn if_control(&mut self) -> PResult<Node> {
        self.parse_control("if").map(|b| Node::If(Box::new(b)))
    }

    fn with_control(&mut self) -> PResult<Node> {
        self.parse_control("with").map(|b| Node::With(Box::new(b)))
    }

    fn parse_control(&mut self, context: &str) -> PResult<Branch> {
        self.enter()?;
        let vars = self.vars.len();
        let pipe = self.pipeline(context, ItemType::RightDelim)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let (list, next) = self.item_list()?;
        if context == "range" {
            self.range_depth -= 1;
        }
        let mut else_list = None;
        if let Parsed::Else = next {
            let chained = match (context, self.peek().typ) {
                ("if", ItemType::If) => Some(true),
                ("with", ItemType::With) => Some(false),
                _ => None,
            };
            if let Some(is_if) = chained {
                self.next();
                let node = if is_if {
                    self.if_control()?
                } else {
                    self.with_control()?
                };
                else_list = Some(List { nodes: vec![node] });
            } else {
                let (l, n) = self.item_list()?;
                if !matches!(n, Parsed::End) {
                    return Err(self.errorf(format!("expected end; found {}", n.describe())));
                }
                else_list = Some(l);
            }
        }
        self.vars.truncate(vars);
        self.depth -= 1;
        Ok(Branch {
            pos: pipe.pos,
            pipe,
            list,
            else_list,
        })
    }

    fn else_control(&mut self) -> PResult<Parsed> {
        if matches!(self.peek_non_space().typ, ItemType::If | ItemType::With) {
            return Ok(Parsed::Else);
        }
        self.expect(ItemType::RightDelim, "else")?;
        Ok(Parsed::Else)
    }

    fn template_name(&mut self, tok: &Item, context: &str) -> PResult<String> {
        match tok.typ {
            ItemType::String | ItemType::RawString => {
                unquote(&tok.val).map_err(|_| self.errorf("invalid syntax".into()))
            }
            _ => self.unexpected(tok, context),
        }
    }

    fn block_control(&mut self) -> PResult<Node> {
        const CONTEXT: &str = "block clause";
        let tok = self.next_non_space();
        let name = self.template_name(&tok, CONTEXT)?;
        let pipe = self.pipeline(CONTEXT, ItemType::RightDelim)?;
        self.enter()?;
        let list = self.sub_tree(CONTEXT)?;
        self.depth -= 1;
        self.add(&name, list)?;
        Ok(Node::Template {
            pos: tok.pos,
            name,
            pipe: Some(Box::new(pipe)),
        })
    }

    fn template_control(&mut self) -> PResult<Node> {
        const CONTEXT: &str = "template clause";
        let tok = self.next_non_space();
        let name = self.template_name(&tok, CONTEXT)?;
        let mut pipe = None;
        if self.next_non_space().typ != ItemType::RightDelim {
            self.backup();
            pipe = Some(Box::new(self.pipeline(CONTEXT, ItemType::RightDelim)?));
        }
        Ok(Node::Template {
            pos: tok.pos,
            name,
            pipe,
        })
    }

    fn pipeline(&mut self, context: &str, end: ItemType) -> PResult<Pipe> {
        let pos = self.peek_non_space().pos;
        let mut pipe = Pipe {
            pos,
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        loop {
            let v = self.peek_non_space();
            if v.typ != ItemType::Variable {
                break;
            }
            let at_variable = self.idx;
            self.next();
            let next = self.peek_non_space();
            match next.typ {
                ItemType::Assign | ItemType::Declare => {
                    pipe.is_assign = next.typ == ItemType::Assign;
                    self.next_non_space();
                    pipe.decl.push(variable(v.pos, &v.val));
                    self.vars.push(v.val);
                    break;
                }
                ItemType::Char if next.val == "," => {
                    self.next_non_space();
                    pipe.decl.push(variable(v.pos, &v.val));
                    self.vars.push(v.val);
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().typ {
                            ItemType::Variable | ItemType::RightDelim | ItemType::RightParen => {
                                continue;
                            }
                            _ => {
                                return Err(
                                    self.errorf("range can only initialize variables".into())
                                );
                            }
                        }
                    }
                    return Err(self.errorf(format!("too many declarations in {context}")));
                }
                _ => {
                    self.idx = at_variable;
                    break;
                }
            }
        }
        loop {
            let tok = self.next_non_space();
            match tok.typ {
                t if t == end => {
                    self.check_pipeline(&pipe, context)?;
                    return Ok(pipe);
                }
                ItemType::Bool
                | ItemType::CharConstant
                | ItemType::Complex
                | ItemType::Dot
                | ItemType::Field
                | ItemType::Identifier
                | ItemType::Number
                | ItemType::Nil
                | ItemType::RawString
                | ItemType::String
                | ItemType::Variable
                | ItemType::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                    if pipe.cmds.len() > MAX_PIPELINE_CMDS {
                        return Err(self.errorf("pipeline too long".into()));
                    }
                }
                _ => return self.unexpected(&tok, context),
            }
        }
    }

    fn check_pipeline(&mut self, pipe: &Pipe, context: &str) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return Err(self.errorf(format!("missing value for {context}")));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                c.args.first(),
                Some(
                    Arg::Bool { .. }
                        | Arg::Dot { .. }
                        | Arg::Nil { .. }
                        | Arg::Number { .. }
                        | Arg::String { .. }
                )
            ) {
                return Err(self.errorf(format!(
                    "non executable command in pipeline stage {}",
                    i + 1
                )));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> PResult<Command> {
        let pos = self.peek_non_space().pos;
        let mut args = Vec::new();
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                args.push(op);
            }
            let tok = self.next();
            match tok.typ {
                ItemType::Space => continue,
                ItemType::RightDelim | ItemType::RightParen => self.backup(),
                ItemType::Pipe => {}
                _ => return self.unexpected(&tok, "operand"),
            }
            break;
        }
        if args.is_empty() {
            return Err(self.errorf("empty command".into()));
        }
        Ok(Command { pos, args })
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().typ != ItemType::Field {
            return Ok(Some(node));
        }
        let pos = self.peek().pos;
        let mut fields = Vec::new();
        while self.peek().typ == ItemType::Field {
            let f = self.next();
            fields.push(f.val.get(1..).unwrap_or_default().to_string());
        }
        Ok(Some(match node {
            Arg::Field { mut ident, .. } => {
                ident.extend(fields);
                Arg::Field { pos, ident }
            }
            Arg::Variable(mut v) => {
                v.ident.extend(fields);
                v.pos = pos;
                Arg::Variable(v)
            }
            Arg::Bool { .. }
            | Arg::String { .. }
            | Arg::Number { .. }
            | Arg::Nil { .. }
            | Arg::Dot { .. } => {
                return Err(self.errorf(format!(
                    "unexpected . after term {}",
                    quote(&node.to_string())
                )));
            }
            node => Arg::Chain {
                pos,
                node: Box::new(node),
                fields,
            },
        }))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let tok = self.next_non_space();
        let pos = tok.pos;
        Ok(Some(match tok.typ {
            ItemType::Identifier => {
                if !(self.has_function)(&tok.val) {
                    return Err(self.errorf(format!("function {} not defined", quote(&tok.val))));
                }
                Arg::Identifier { pos, name: tok.val }
            }
            ItemType::Dot => Arg::Dot { pos },
            ItemType::Nil => Arg::Nil { pos },
            ItemType::Variable => {
                let v = variable(pos, &tok.val);
                if !self.vars.iter().any(|n| *n == v.ident[0]) {
                    return Err(self.errorf(format!("undefined variable {}", quote(&v.ident[0]))));
                }
                Arg::Variable(v)
            }
            ItemType::Field => Arg::Field {
                pos,
                ident: tok
                    .val
                    .get(1..)
                    .unwrap_or_default()
                    .split('.')
                    .map(String::from)
                    .collect(),
            },
            ItemType::Bool => Arg::Bool {
                pos,
                value: tok.val == "true",
            },
            ItemType::CharConstant | ItemType::Complex | ItemType::Number => {
                let num = new_number(&tok.val, tok.typ).map_err(|m| self.errorf(m))?;
                Arg::Number {
                    pos,
                    num: Box::new(num),
                }
            }
            ItemType::LeftParen => {
                self.enter()?;
                let p = self.pipeline("parenthesized pipeline", ItemType::RightParen)?;
                self.depth -= 1;
                Arg::Pipe(Box::new(p))
            }
            ItemType::String | ItemType::RawString => {
                let text = unquote(&tok.val).map_err(|_| self.errorf("invalid syntax".into()))?;
                Arg::String {
                    pos,
                    quoted: tok.val,
                    text,
                }
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

fn variable(pos: usize, name: &str) -> Variable {
    Variable {
        pos,
        ident: name.split('.').map(String::from).collect(),
    }
}

const TWO_63: f64 = 9_223_372_036_854_775_808.0;

fn exact_int(f: f64) -> Option<i64> {
    (f.fract() == 0.0 && (-TWO_63..TWO_63).contains(&f)).then_some(f as i64)
}

fn exact_uint(f: f64) -> Option<u64> {
    (f.fract() == 0.0 && (0.0..2.0 * TWO_63).contains(&f)).then_some(f as u64)
}

fn simplify_complex(n: &mut Number) {
    let (re, im) = n.complex;
    n.is_float = im == 0.0;
    if n.is_float {
        n.float = re;
        if let Some(i) = exact_int(re) {
            n.is_int = true;
            n.int = i;
        }
        if let Some(u) = exact_uint(re) {
            n.is_uint = true;
            n.uint = u;
        }
    }
}

/// Go's `newNumber`: the value under every type that holds it exactly.
fn new_number(text: &str, typ: ItemType) -> Result<Number, String> {
    let mut n = Number {
        text: text.to_string(),
        ..Number::default()
    };
    match typ {
        ItemType::CharConstant => {
            let inner = text.get(1..).ok_or("invalid syntax")?;
            let (v, tail) = unquote_char(inner, b'\'').map_err(|_| "invalid syntax")?;
            if tail != "'" {
                return Err(format!("malformed character constant: {text}"));
            }
            let r = match v {
                Unquoted::Char(c) => c as u32,
                Unquoted::Byte(b) => b as u32,
            };
            n.is_int = true;
            n.int = r as i64;
            n.is_uint = true;
            n.uint = r as u64;
            n.is_float = true;
            n.float = r as f64;
            return Ok(n);
        }
        ItemType::Complex => {
            let split = text
                .char_indices()
                .skip(1)
                .filter(|(i, c)| {
                    matches!(c, '+' | '-')
                        && !matches!(text.as_bytes()[i - 1], b'e' | b'E' | b'p' | b'P')
                })
                .map(|(i, _)| i)
                .last()
                .ok_or_else(|| format!("illegal number syntax: {}", quote(text)))?;
            let re = parse_float(&text[..split]);
            let im = parse_float(text[split..].trim_end_matches('i'));
            match (re, im) {
                (Ok(re), Ok(im)) => n.complex = (re, im),
                _ => return Err(format!("illegal number syntax: {}", quote(text))),
            }
            n.is_complex = true;
            simplify_complex(&mut n);
            return Ok(n);
        }
        _ => {}
    }
    if let Some(body) = text.strip_suffix('i')
        && let Ok(f) = parse_float(body)
    {
        n.is_complex = true;
        n.complex = (0.0, f);
        simplify_complex(&mut n);
        return Ok(n);
    }
    let u = parse_uint_base0(text);
    if let Some(u) = u {
        n.is_uint = true;
        n.uint = u;
    }
    if let Some(i) = parse_int_base0(text) {
        n.is_int = true;
        n.int = i;
        if i == 0 {
            n.is_uint = true;
            n.uint = u.unwrap_or(0);
        }
    }
    if n.is_int {
        n.is_float = true;
        n.float = n.int as f64;
    } else if n.is_uint {
        n.is_float = true;
        n.float = n.uint as f64;
    } else if let Ok(f) = parse_float(text) {
        if !text.contains(['.', 'e', 'E', 'p', 'P']) {
            return Err(format!("integer overflow: {}", quote(text)));
        }
        n.is_float = true;
        n.float = f;
        if let Some(i) = exact_int(f) {
            n.is_int = true;
            n.int = i;
        }
        if let Some(u) = exact_uint(f) {
            n.is_uint = true;
            n.uint = u;
        }
    }
    if !n.is_int && !n.is_uint && !n.is_float {
        return Err(format!("illegal number syntax: {}", quote(text)));
    }
    Ok(n)
}
