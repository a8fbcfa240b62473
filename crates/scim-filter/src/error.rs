//! Errors, and their mapping to SCIM error responses.
//!
//! - [`ParseError`]: the text is not a filter or path (syntax, limits). Carries the byte
//!   offset where the problem is and, where it applies, what was expected there.
//! - [`ValidationError`]: the filter is well-formed but does not fit the resource type
//!   (unknown attribute, operator not applicable to the type, value of the wrong type).
//! - [`FilterError`] and [`PathError`] wrap both for the `filter` parameter and for
//!   attribute paths (`sortBy`, value-path selection) respectively, and say which SCIM
//!   `scimType` applies: `invalidFilter`, `invalidPath` or `invalidValue`.
//!
//! Messages are written for the person who typed the filter (often an Okta admin in a
//! "custom filter" box): they quote the offending token and say what would work.

use std::fmt;

use scim_model::{AttributeType, ResolveError, ScimError, ScimType};

use crate::ast::CompareOp;

/// What the parser expected where it found something else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// The start of an expression: an attribute path, `not` or `(`.
    Expression,
    /// A comparison operator or `pr`.
    Operator,
    /// A comparison value.
    Value,
    /// `(` after `not`.
    OpenParenAfterNot,
    /// `and`, `or` or the end of the input.
    LogicalOrEnd,
    /// `and`, `or` or `)`.
    LogicalOrCloseParen,
    /// `and`, `or` or `]`.
    LogicalOrCloseBracket,
    /// `.subAttribute` or the end of a path, after `]`.
    SubAttributeOrEnd,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Expression => "an attribute name (e.g. `userName`), `not (` or `(`",
            Self::Operator => "an operator: eq, ne, co, sw, ew, gt, ge, lt, le or pr",
            Self::Value => "a value: a \"double-quoted string\", a number, true, false or null",
            Self::OpenParenAfterNot => "`(` after `not`, as in `not (title pr)`",
            Self::LogicalOrEnd => "`and`, `or` or the end of the filter",
            Self::LogicalOrCloseParen => "`and`, `or` or `)`",
            Self::LogicalOrCloseBracket => "`and`, `or` or `]`",
            Self::SubAttributeOrEnd => "`.subAttribute` or the end of the path",
        })
    }
}

/// What the parser found instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// The input ended.
    End,
    /// A token, as written (truncated to 40 characters).
    Token(String),
}

impl Found {
    pub(crate) fn token(text: &str) -> Self {
        const MAX: usize = 40;
        match text.char_indices().nth(MAX) {
            Some((cut, _)) => Self::Token(format!("{}…", text.get(..cut).unwrap_or(text))),
            None => Self::Token(text.to_owned()),
        }
    }
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::End => f.write_str("the end of the input"),
            Self::Token(token) => write!(f, "`{token}`"),
        }
    }
}

/// Why a filter or path does not parse. Every variant carries the 0-based byte `offset`
/// of the problem in the input (0 where the whole input is at fault).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Empty or all-whitespace input.
    #[error(
        "the filter is empty; expected an expression such as `userName eq \"jane@example.com\"`"
    )]
    Empty,
    /// Longer than [`crate::Limits::max_length`].
    #[error("the input is {length} bytes long; the limit is {max} bytes")]
    TooLong {
        /// The input length.
        length: usize,
        /// The limit.
        max: usize,
    },
    /// Nested deeper than [`crate::Limits::max_depth`].
    #[error(
        "parentheses, `not (` and `[` are nested more than {max} levels deep at offset {offset}; \
         simplify the filter"
    )]
    TooDeep {
        /// Where the level that is too deep opens.
        offset: usize,
        /// The limit.
        max: usize,
    },
    /// More comparisons than [`crate::Limits::max_terms`].
    #[error("the filter has more than {max} comparisons (the one at offset {offset} is too many)")]
    TooManyTerms {
        /// Where the comparison over the limit starts.
        offset: usize,
        /// The limit.
        max: usize,
    },
    /// A character that cannot start any token.
    #[error("unexpected character {found:?} at offset {offset}")]
    InvalidCharacter {
        /// Where it is.
        offset: usize,
        /// The character.
        found: char,
    },
    /// A string literal without its closing quote.
    #[error("the string starting at offset {offset} is never closed; end it with `\"`")]
    UnterminatedString {
        /// Where the opening quote is.
        offset: usize,
    },
    /// A backslash escape JSON does not define, or a lone surrogate.
    #[error(
        "invalid escape `{sequence}` in string at offset {offset}; valid escapes are \
         \\\" \\\\ \\/ \\b \\f \\n \\r \\t and \\uXXXX"
    )]
    InvalidEscape {
        /// Where the backslash is.
        offset: usize,
        /// The escape as written.
        sequence: String,
    },
    /// A raw control character (U+0000–U+001F) inside a string.
    #[error(
        "control character U+{code:04X} in string at offset {offset} must be escaped, e.g. as \\u{code:04x}"
    )]
    ControlCharacter {
        /// Where it is.
        offset: usize,
        /// Its code point.
        code: u32,
    },
    /// A malformed or out-of-range number.
    #[error(
        "invalid number `{text}` at offset {offset}; use JSON number syntax, e.g. 42 or -1.5e3"
    )]
    InvalidNumber {
        /// Where it starts.
        offset: usize,
        /// The text (truncated).
        text: String,
    },
    /// A word where an operator belongs that is not one.
    #[error(
        "unknown operator `{found}` at offset {offset}; use one of eq, ne, co, sw, ew, gt, ge, \
         lt, le, pr"
    )]
    UnknownOperator {
        /// Where it is.
        offset: usize,
        /// The word (truncated).
        found: String,
    },
    /// Something other than what the grammar allows at this point.
    #[error("expected {expected} at offset {offset}, found {found}")]
    Unexpected {
        /// Where the unexpected token starts.
        offset: usize,
        /// What would have been valid.
        expected: Expected,
        /// What was there.
        found: Found,
    },
    /// A `(` without its `)`.
    #[error("unbalanced parentheses: the `(` at offset {offset} is never closed")]
    UnclosedParenthesis {
        /// Where the `(` is.
        offset: usize,
    },
    /// A `[` without its `]`.
    #[error("unbalanced brackets: the `[` at offset {offset} is never closed")]
    UnclosedBracket {
        /// Where the `[` is.
        offset: usize,
    },
    /// A `)` or `]` without its opening partner.
    #[error("unbalanced {what}: `{found}` at offset {offset} has no matching opening `{opener}`")]
    UnmatchedClose {
        /// Where it is.
        offset: usize,
        /// The closing character.
        found: char,
        /// The opening character it lacks.
        opener: char,
        /// `parentheses` or `brackets`.
        what: &'static str,
    },
    /// A value filter inside a value filter (`emails[type[…]]`), which SCIM does not allow.
    #[error("value filters cannot be nested: unexpected `[` at offset {offset} inside `[…]`")]
    NestedValuePath {
        /// Where the inner `[` is.
        offset: usize,
    },
    /// A malformed attribute path.
    #[error("invalid attribute path `{path}`: {source}")]
    InvalidPath {
        /// Where the path starts.
        offset: usize,
        /// The path as written (truncated).
        path: String,
        /// The problem, with offsets relative to the whole input.
        source: scim_model::AttrPathError,
    },
}

impl ParseError {
    /// The 0-based byte offset of the problem in the input.
    pub fn offset(&self) -> usize {
        match self {
            Self::Empty | Self::TooLong { .. } => 0,
            Self::TooDeep { offset, .. }
            | Self::TooManyTerms { offset, .. }
            | Self::InvalidCharacter { offset, .. }
            | Self::UnterminatedString { offset }
            | Self::InvalidEscape { offset, .. }
            | Self::ControlCharacter { offset, .. }
            | Self::InvalidNumber { offset, .. }
            | Self::UnknownOperator { offset, .. }
            | Self::Unexpected { offset, .. }
            | Self::UnclosedParenthesis { offset }
            | Self::UnclosedBracket { offset }
            | Self::UnmatchedClose { offset, .. }
            | Self::NestedValuePath { offset }
            | Self::InvalidPath { offset, .. } => *offset,
        }
    }
}

/// Why a well-formed filter or path does not fit the resource type.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValidationError {
    /// The path names no attribute of the resource type.
    #[error("{0}")]
    Unresolved(#[from] ResolveError),
    /// A complex attribute compared directly.
    #[error(
        "`{path}` is a complex attribute and cannot be compared directly; \
         compare one of its sub-attributes ({subs}), e.g. `{path}.{example} {op} …`"
    )]
    ComplexComparison {
        /// The attribute.
        path: String,
        /// The operator used.
        op: CompareOp,
        /// Its sub-attributes, comma-separated.
        subs: String,
        /// One of them.
        example: &'static str,
    },
    /// An operator that does not apply to the attribute's type.
    #[error("`{op}` cannot be used on `{path}`, which is a {attr_type} attribute; {allowed}")]
    OperatorNotSupported {
        /// The attribute.
        path: String,
        /// The operator.
        op: CompareOp,
        /// The attribute's type.
        attr_type: AttributeType,
        /// Which operators do apply.
        allowed: &'static str,
    },
    /// `gt null` and the like.
    #[error(
        "`{path} {op} null` is not meaningful; use `{path} pr` to test for a value, or \
         `not ({path} pr)` for its absence"
    )]
    NullComparison {
        /// The attribute.
        path: String,
        /// The operator.
        op: CompareOp,
    },
    /// A literal of the wrong type.
    #[error("`{path}` is a {expected} attribute, but {value} is a {found}; {hint}")]
    WrongValueType {
        /// The attribute.
        path: String,
        /// The attribute's type.
        expected: AttributeType,
        /// The literal as written.
        value: String,
        /// The literal's kind.
        found: &'static str,
        /// How to write a value of the right type.
        hint: &'static str,
    },
    /// A string that is not an `xsd:dateTime`.
    #[error(
        "{value} is not a valid date-time for `{path}`; write it like \"2011-05-13T04:42:34Z\""
    )]
    InvalidDateTime {
        /// The attribute.
        path: String,
        /// The literal as written.
        value: String,
    },
    /// A number that is not a 64-bit integer, for an integer attribute.
    #[error("{value} is not a whole number in range for the integer attribute `{path}`")]
    InvalidInteger {
        /// The attribute.
        path: String,
        /// The literal as written.
        value: String,
    },
    /// `attr[…]` on an attribute that is not complex.
    #[error(
        "`{path}[…]` is not possible: `{path}` is a {attr_type} attribute, and only complex \
         attributes (such as `emails`) have values to filter"
    )]
    ValuePathOnSimple {
        /// The attribute.
        path: String,
        /// Its type.
        attr_type: AttributeType,
    },
    /// A path inside `attr[…]` that is not a plain sub-attribute name.
    #[error(
        "inside `{parent}[…]`, name a sub-attribute of `{parent}` alone (such as `{example}`), \
         not `{path}`"
    )]
    NotASubAttribute {
        /// The complex attribute.
        parent: String,
        /// The path as written.
        path: String,
        /// One of the parent's sub-attributes.
        example: &'static str,
    },
    /// A hand-built tree deeper than [`crate::Limits::HARD_MAX_DEPTH`].
    #[error("the filter nests {depth} levels deep; at most {max} are supported")]
    TooDeep {
        /// The tree's depth.
        depth: usize,
        /// The limit.
        max: usize,
    },
    /// A hand-built `and`/`or` with no operands.
    #[error("an `and`/`or` expression has no operands")]
    EmptyLogical,
    /// `sortBy` on something that cannot be sorted by.
    #[error("cannot sort by `{path}`: {reason}")]
    NotSortable {
        /// The attribute.
        path: String,
        /// Why.
        reason: &'static str,
    },
}

impl ValidationError {
    /// Whether the problem is a value (rather than a path or operator): such errors map to
    /// `invalidValue`.
    pub fn is_value_error(&self) -> bool {
        matches!(
            self,
            Self::WrongValueType { .. }
                | Self::InvalidDateTime { .. }
                | Self::InvalidInteger { .. }
        )
    }
}

/// A `filter` parameter that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FilterError {
    /// Not a filter.
    #[error("invalid filter: {0}")]
    Parse(#[from] ParseError),
    /// A filter that does not fit the resource type.
    #[error("invalid filter: {0}")]
    Validation(#[from] ValidationError),
}

impl FilterError {
    /// The SCIM error type: `invalidValue` for a literal of the wrong type or form
    /// (`meta.created gt "yesterday"`), `invalidFilter` for everything else (syntax, unknown
    /// attributes, operators that do not apply), per RFC 7644 §3.4.2.2 and §3.12.
    pub fn scim_type(&self) -> ScimType {
        match self {
            Self::Validation(error) if error.is_value_error() => ScimType::InvalidValue,
            Self::Parse(_) | Self::Validation(_) => ScimType::InvalidFilter,
        }
    }

    /// The SCIM error body: status 400 with [`FilterError::scim_type`] and this message.
    pub fn to_scim_error(&self) -> ScimError {
        ScimError::new(400, Some(self.scim_type()), self.to_string())
    }
}

/// An attribute path (`sortBy`, `attributes`, value-path selection) that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PathError {
    /// Not a path.
    #[error("invalid attribute path: {0}")]
    Parse(#[from] ParseError),
    /// A path that names nothing in the resource type.
    #[error("invalid attribute path: {0}")]
    Validation(#[from] ValidationError),
}

impl PathError {
    /// The SCIM error type: `invalidValue` for a literal of the wrong type inside a value
    /// filter, `invalidPath` otherwise.
    pub fn scim_type(&self) -> ScimType {
        match self {
            Self::Validation(error) if error.is_value_error() => ScimType::InvalidValue,
            Self::Parse(_) | Self::Validation(_) => ScimType::InvalidPath,
        }
    }

    /// The SCIM error body: status 400 with [`PathError::scim_type`] and this message.
    pub fn to_scim_error(&self) -> ScimError {
        ScimError::new(400, Some(self.scim_type()), self.to_string())
    }
}
