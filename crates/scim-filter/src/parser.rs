//! Parser for filters and paths.
//!
//! Precedence is `not` > `and` > `or`. The parser does not recurse: open groups (`(`,
//! `not (`, `[`) live on an explicit stack, each push counted against
//! [`Limits::max_depth`] (capped at [`Limits::HARD_MAX_DEPTH`]). Hostile nesting costs heap,
//! bounded by the depth limit, never call stack.
//!
//! Keywords (`and`, `or`, `not`, operators, `true`, `false`, `null`) are ASCII
//! case-insensitive. `and`, `or` and `not` cannot be attribute names.

use scim_model::AttrPath;
use scim_model::path::is_attr_name;

use crate::ast::{CompValue, CompareOp, Filter, Path};
use crate::error::{Expected, Found, ParseError};
use crate::lexer::{Lexer, Tok, Token, truncate};
use crate::limits::Limits;

/// Parses a filter with the given limits.
pub fn parse_filter(input: &str, limits: &Limits) -> Result<Filter, ParseError> {
    let mut parser = Parser::new(input, limits)?;
    parser.expression(None)
}

/// Parses a PATCH-style path (`attrPath` or `valuePath [subAttr]`) with the given limits.
pub fn parse_path(input: &str, limits: &Limits) -> Result<Path, ParseError> {
    let mut parser = Parser::new(input, limits)?;
    let token = parser.next()?;
    let Tok::Word(word) = token.tok else {
        return Err(parser.unexpected(&token, Expected::Expression));
    };
    let path = parser.attr_path(word, token.start)?;
    let open = parser.next()?;
    if open.tok != Tok::LBracket {
        parser.peeked = Some(open);
        parser.expect_end(Expected::SubAttributeOrEnd)?;
        return Ok(Path::Attribute(path));
    }
    parser.enter(open.start)?;
    let filter = parser.expression(Some(open.start))?;
    let after = parser.next()?;
    let sub_attr = match after.tok {
        Tok::End => None,
        Tok::Word(word) => match word.strip_prefix('.') {
            Some(sub) if is_attr_name(sub) => {
                parser.expect_end(Expected::SubAttributeOrEnd)?;
                Some(sub.to_owned())
            }
            _ => return Err(parser.unexpected(&after, Expected::SubAttributeOrEnd)),
        },
        _ => return Err(parser.unexpected(&after, Expected::SubAttributeOrEnd)),
    };
    Ok(Path::ValuePath {
        path,
        filter,
        sub_attr,
    })
}

/// Parses a comma-separated attribute list (`attributes`, `excludedAttributes`), with the
/// length limit applied. Empty items are skipped.
pub fn parse_attribute_list(input: &str, limits: &Limits) -> Result<Vec<AttrPath>, ParseError> {
    if input.len() > limits.max_length {
        return Err(ParseError::TooLong {
            length: input.len(),
            max: limits.max_length,
        });
    }
    AttrPath::parse_list(input).map_err(|source| {
        let offset = source.offset();
        let path = input
            .get(..offset)
            .and_then(|head| head.rfind(',').map(|comma| comma + 1))
            .unwrap_or(0);
        let item = input
            .get(path..)
            .and_then(|rest| rest.split(',').next())
            .unwrap_or_default();
        ParseError::InvalidPath {
            offset,
            path: truncate(item.trim()),
            source,
        }
    })
}

/// An open group on the parser's explicit stack.
enum GroupKind {
    /// The whole input (filter) or the `[…]` of a path, depending on the terminator.
    Base,
    /// `(`…`)`.
    Paren,
    /// `not (`…`)`.
    Not,
    /// `attr[`…`]` inside a filter.
    Bracket(AttrPath),
}

struct Group {
    kind: GroupKind,
    /// Where the group opens (its `(` or `[`), for "never closed" errors.
    open_at: usize,
    /// Completed `or` operands.
    or_items: Vec<Filter>,
    /// `and` operands of the `or` operand in progress.
    and_items: Vec<Filter>,
}

impl Group {
    fn new(kind: GroupKind, open_at: usize) -> Self {
        Self {
            kind,
            open_at,
            or_items: Vec::new(),
            and_items: Vec::new(),
        }
    }

    /// Ends the `and` chain in progress (after `or` or at the end of the group).
    fn flush_and(&mut self) {
        let items = std::mem::take(&mut self.and_items);
        let mut items = items.into_iter();
        match (items.next(), items.len()) {
            (Some(single), 0) => self.or_items.push(single),
            (Some(first), _) => self
                .or_items
                .push(Filter::And(std::iter::once(first).chain(items).collect())),
            (None, _) => {}
        }
    }

    /// The group's expression. Groups are closed only after an operand, so there is one.
    fn finish(mut self) -> Filter {
        self.flush_and();
        let mut items = self.or_items.into_iter();
        match (items.next(), items.len()) {
            (Some(single), 0) => single,
            (Some(first), _) => Filter::Or(std::iter::once(first).chain(items).collect()),
            // Unreachable by construction; an empty `or` is the neutral "false".
            (None, _) => Filter::Or(Vec::new()),
        }
    }
}

struct Parser<'a, 'l> {
    input: &'a str,
    lexer: Lexer<'a>,
    peeked: Option<Token<'a>>,
    limits: &'l Limits,
    max_depth: usize,
    depth: usize,
    terms: usize,
}

impl<'a, 'l> Parser<'a, 'l> {
    fn new(input: &'a str, limits: &'l Limits) -> Result<Self, ParseError> {
        if input.len() > limits.max_length {
            return Err(ParseError::TooLong {
                length: input.len(),
                max: limits.max_length,
            });
        }
        if input.trim().is_empty() {
            return Err(ParseError::Empty);
        }
        Ok(Self {
            input,
            lexer: Lexer::new(input),
            peeked: None,
            limits,
            max_depth: limits.effective_max_depth(),
            depth: 0,
            terms: 0,
        })
    }

    fn next(&mut self) -> Result<Token<'a>, ParseError> {
        match self.peeked.take() {
            Some(token) => Ok(token),
            None => self.lexer.next_token(),
        }
    }

    fn enter(&mut self, offset: usize) -> Result<(), ParseError> {
        if self.depth >= self.max_depth {
            return Err(ParseError::TooDeep {
                offset,
                max: self.max_depth,
            });
        }
        self.depth += 1;
        Ok(())
    }

    fn unexpected(&self, token: &Token<'_>, expected: Expected) -> ParseError {
        ParseError::Unexpected {
            offset: token.start,
            expected,
            found: match token.tok {
                Tok::End => Found::End,
                _ => Found::token(token.text(self.input)),
            },
        }
    }

    fn unmatched(token: &Token<'_>) -> ParseError {
        if token.tok == Tok::RParen {
            ParseError::UnmatchedClose {
                offset: token.start,
                found: ')',
                opener: '(',
                what: "parentheses",
            }
        } else {
            ParseError::UnmatchedClose {
                offset: token.start,
                found: ']',
                opener: '[',
                what: "brackets",
            }
        }
    }

    /// After a complete expression: the input must end here.
    fn expect_end(&mut self, expected: Expected) -> Result<(), ParseError> {
        let token = self.next()?;
        match token.tok {
            Tok::End => Ok(()),
            Tok::RParen | Tok::RBracket => Err(Self::unmatched(&token)),
            _ => Err(self.unexpected(&token, expected)),
        }
    }

    /// Parses `FILTER` without recursion, using an explicit stack of open groups.
    ///
    /// With `terminator: None` the expression runs to the end of the input; with
    /// `Some(open_at)` it is the inside of a path's `[…]` opened at `open_at` and ends at
    /// the matching `]` (consumed).
    fn expression(&mut self, terminator: Option<usize>) -> Result<Filter, ParseError> {
        let mut stack = vec![Group::new(GroupKind::Base, terminator.unwrap_or(0))];
        loop {
            // Expecting an operand: open groups until a term completes one.
            let mut operand = loop {
                let token = self.next()?;
                match token.tok {
                    Tok::LParen => {
                        self.enter(token.start)?;
                        stack.push(Group::new(GroupKind::Paren, token.start));
                    }
                    Tok::Word(word) if word.eq_ignore_ascii_case("not") => {
                        let open = self.next()?;
                        if open.tok != Tok::LParen {
                            return Err(self.unexpected(&open, Expected::OpenParenAfterNot));
                        }
                        self.enter(token.start)?;
                        stack.push(Group::new(GroupKind::Not, open.start));
                    }
                    Tok::Word(word)
                        if word.eq_ignore_ascii_case("and") || word.eq_ignore_ascii_case("or") =>
                    {
                        return Err(self.unexpected(&token, Expected::Expression));
                    }
                    Tok::Word(word) => {
                        let path = self.attr_path(word, token.start)?;
                        let next = self.next()?;
                        if next.tok == Tok::LBracket {
                            if terminator.is_some()
                                || stack
                                    .iter()
                                    .any(|g| matches!(g.kind, GroupKind::Bracket(_)))
                            {
                                return Err(ParseError::NestedValuePath { offset: next.start });
                            }
                            self.enter(next.start)?;
                            stack.push(Group::new(GroupKind::Bracket(path), next.start));
                            continue;
                        }
                        break self.term(path, token.start, next)?;
                    }
                    _ => return Err(self.unexpected(&token, Expected::Expression)),
                }
            };
            // After an operand: `and`, `or`, a closer, or the end.
            loop {
                let Some(group) = stack.last_mut() else {
                    return Ok(operand);
                };
                group.and_items.push(operand);
                let token = self.next()?;
                match token.tok {
                    Tok::Word(word) if word.eq_ignore_ascii_case("and") => break,
                    Tok::Word(word) if word.eq_ignore_ascii_case("or") => {
                        group.flush_and();
                        break;
                    }
                    Tok::RParen if matches!(group.kind, GroupKind::Paren | GroupKind::Not) => {
                        let Some(group) = stack.pop() else { break };
                        self.depth = self.depth.saturating_sub(1);
                        operand = match group.kind {
                            GroupKind::Not => Filter::Not(Box::new(group.finish())),
                            _ => group.finish(),
                        };
                    }
                    Tok::RBracket if matches!(group.kind, GroupKind::Bracket(_)) => {
                        let Some(mut group) = stack.pop() else { break };
                        self.depth = self.depth.saturating_sub(1);
                        let kind = std::mem::replace(&mut group.kind, GroupKind::Base);
                        let filter = Box::new(group.finish());
                        let GroupKind::Bracket(path) = kind else {
                            break;
                        };
                        operand = Filter::ValuePath { path, filter };
                    }
                    Tok::RBracket
                        if matches!(group.kind, GroupKind::Base) && terminator.is_some() =>
                    {
                        self.depth = self.depth.saturating_sub(1);
                        return Ok(stack.pop().map_or(Filter::Or(Vec::new()), Group::finish));
                    }
                    Tok::End => {
                        return match group.kind {
                            GroupKind::Base if terminator.is_none() => {
                                Ok(stack.pop().map_or(Filter::Or(Vec::new()), Group::finish))
                            }
                            GroupKind::Base | GroupKind::Bracket(_) => {
                                Err(ParseError::UnclosedBracket {
                                    offset: group.open_at,
                                })
                            }
                            GroupKind::Paren | GroupKind::Not => {
                                Err(ParseError::UnclosedParenthesis {
                                    offset: group.open_at,
                                })
                            }
                        };
                    }
                    Tok::RParen | Tok::RBracket => return Err(Self::unmatched(&token)),
                    _ => {
                        let expected = match group.kind {
                            GroupKind::Base if terminator.is_none() => Expected::LogicalOrEnd,
                            GroupKind::Paren | GroupKind::Not => Expected::LogicalOrCloseParen,
                            GroupKind::Base | GroupKind::Bracket(_) => {
                                Expected::LogicalOrCloseBracket
                            }
                        };
                        return Err(self.unexpected(&token, expected));
                    }
                }
            }
        }
    }

    /// `attrPath pr` or `attrPath op value`; `token` is the one after the path.
    fn term(
        &mut self,
        path: AttrPath,
        start: usize,
        token: Token<'a>,
    ) -> Result<Filter, ParseError> {
        let Tok::Word(op) = token.tok else {
            return Err(self.unexpected(&token, Expected::Operator));
        };
        if self.terms >= self.limits.max_terms {
            return Err(ParseError::TooManyTerms {
                offset: start,
                max: self.limits.max_terms,
            });
        }
        self.terms += 1;
        if op.eq_ignore_ascii_case("pr") {
            return Ok(Filter::Present(path));
        }
        let Some(op) = CompareOp::from_keyword(op) else {
            return Err(ParseError::UnknownOperator {
                offset: token.start,
                found: truncate(op),
            });
        };
        let value = self.value()?;
        Ok(Filter::Compare { path, op, value })
    }

    fn attr_path(&self, word: &str, start: usize) -> Result<AttrPath, ParseError> {
        AttrPath::parse(word).map_err(|source| ParseError::InvalidPath {
            offset: start + source.offset(),
            path: truncate(word),
            source: source.shifted(start),
        })
    }

    fn value(&mut self) -> Result<CompValue, ParseError> {
        let token = self.next()?;
        match token.tok {
            Tok::Str(s) => Ok(CompValue::String(s.into_owned())),
            Tok::Num(n) => Ok(CompValue::Number(n)),
            Tok::Word(word) if word.eq_ignore_ascii_case("true") => Ok(CompValue::Bool(true)),
            Tok::Word(word) if word.eq_ignore_ascii_case("false") => Ok(CompValue::Bool(false)),
            Tok::Word(word) if word.eq_ignore_ascii_case("null") => Ok(CompValue::Null),
            _ => Err(self.unexpected(&token, Expected::Value)),
        }
    }
}

impl std::str::FromStr for Filter {
    type Err = ParseError;

    /// Parses with [`Limits::DEFAULT`].
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        parse_filter(input, &Limits::DEFAULT)
    }
}

impl Filter {
    /// Parses a filter with [`Limits::DEFAULT`].
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        parse_filter(input, &Limits::DEFAULT)
    }

    /// Parses a filter with the given limits.
    pub fn parse_with_limits(input: &str, limits: &Limits) -> Result<Self, ParseError> {
        parse_filter(input, limits)
    }
}

impl std::str::FromStr for Path {
    type Err = ParseError;

    /// Parses with [`Limits::DEFAULT`].
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        parse_path(input, &Limits::DEFAULT)
    }
}

impl Path {
    /// Parses a path with [`Limits::DEFAULT`].
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        parse_path(input, &Limits::DEFAULT)
    }

    /// Parses a path with the given limits.
    pub fn parse_with_limits(input: &str, limits: &Limits) -> Result<Self, ParseError> {
        parse_path(input, limits)
    }
}
