//! The parser: items into trees, one per template name (`define` and
//! `block` add more), checking functions and variables as Go does.
//! Pipelines and their operands are parsed in `pipeline`, number literals
//! in `number`.

use std::collections::HashMap;

use crate::ast::{Branch, List, Node, is_empty_tree};
use crate::lex::{Item, ItemType, lex};
use gofmt::{quote, unquote};

mod number;
mod pipeline;

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
}
