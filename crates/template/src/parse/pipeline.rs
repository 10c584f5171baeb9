//! Pipelines (`$x := a | b c`), commands, operands and terms.

use super::number::new_number;
use super::{MAX_PIPELINE_CMDS, PResult, Parser};
use crate::ast::{Arg, Command, Pipe, Variable};
use crate::lex::ItemType;
use gofmt::{quote, unquote};

impl Parser<'_> {
    pub(super) fn pipeline(&mut self, context: &str, end: ItemType) -> PResult<Pipe> {
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

pub(super) fn variable(pos: usize, name: &str) -> Variable {
    Variable {
        pos,
        ident: name.split('.').map(String::from).collect(),
    }
}
