//! The syntax tree of a filter, exactly as written (before validation).
//!
//! The grammar is RFC 7644 §3.4.2.2 (Figure 1) with its errata:
//!
//! ```text
//! FILTER    = attrExp / logExp / valuePath / *1"not" "(" FILTER ")"
//! valuePath = attrPath "[" valFilter "]"         ; valFilter: FILTER without valuePath
//! attrExp   = (attrPath SP "pr") / (attrPath SP compareOp SP compValue)
//! logExp    = FILTER SP ("and" / "or") SP FILTER  ; "not" > "and" > "or"
//! compValue = false / null / true / number / string   ; JSON literals
//! attrPath  = [URI ":"] ATTRNAME *1subAttr
//! PATH      = attrPath / valuePath [subAttr]     ; attribute and value-path selection
//! ```
//!
//! `and`/`or` chains are n-ary ([`Filter::And`], [`Filter::Or`]); parentheses do not get a
//! node of their own but are reflected in the shape: `a and (b and c)` is
//! `And[a, And[b, c]]` while `a and b and c` is `And[a, b, c]`. [`std::fmt::Display`]
//! prints the minimal parentheses that reproduce the shape, so printing and parsing
//! round-trip exactly for every tree whose `And`/`Or` nodes have at least two operands
//! (which is every tree the parser produces).

use std::fmt;

use scim_model::AttrPath;

/// A comparison operator (RFC 7644 §3.4.2.2, Table 3). Written in any case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `eq`: equal.
    Eq,
    /// `ne`: not equal.
    Ne,
    /// `co`: contains (strings).
    Co,
    /// `sw`: starts with (strings).
    Sw,
    /// `ew`: ends with (strings).
    Ew,
    /// `gt`: greater than.
    Gt,
    /// `ge`: greater than or equal.
    Ge,
    /// `lt`: less than.
    Lt,
    /// `le`: less than or equal.
    Le,
}

impl CompareOp {
    /// Every operator, in the RFC's order.
    pub const ALL: [Self; 9] = [
        Self::Eq,
        Self::Ne,
        Self::Co,
        Self::Sw,
        Self::Ew,
        Self::Gt,
        Self::Ge,
        Self::Lt,
        Self::Le,
    ];

    /// The canonical (lower-case) spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Co => "co",
            Self::Sw => "sw",
            Self::Ew => "ew",
            Self::Gt => "gt",
            Self::Ge => "ge",
            Self::Lt => "lt",
            Self::Le => "le",
        }
    }

    /// Parses an operator keyword, ASCII case-insensitively. `pr` is not a comparison
    /// operator here (it takes no value); see [`Filter::Present`].
    pub fn from_keyword(word: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(word))
    }

    /// Whether this is one of the ordering operators `gt`, `ge`, `lt`, `le`.
    pub fn is_ordering(self) -> bool {
        matches!(self, Self::Gt | Self::Ge | Self::Lt | Self::Le)
    }

    /// Whether this is one of the substring operators `co`, `sw`, `ew`.
    pub fn is_substring(self) -> bool {
        matches!(self, Self::Co | Self::Sw | Self::Ew)
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A literal comparison value, as written: a JSON `false`, `null`, `true`, number or string.
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A JSON number.
    Number(serde_json::Number),
    /// A JSON string, unescaped.
    String(String),
}

impl CompValue {
    /// What kind of literal this is, for messages: `"string"`, `"number"`, ...
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "boolean",
            Self::Number(_) => "number",
            Self::String(_) => "string",
        }
    }
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Null => f.write_str("null"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Number(n) => write!(f, "{n}"),
            Self::String(s) => write_json_string(f, s),
        }
    }
}

/// Writes `s` as a JSON string literal: quotes, backslashes and control characters escaped,
/// everything else verbatim.
pub(crate) fn write_json_string(f: &mut impl fmt::Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    let mut rest = s;
    while let Some(index) = rest.find(|c: char| c == '"' || c == '\\' || c < ' ') {
        let (plain, tail) = rest.split_at(index);
        f.write_str(plain)?;
        let mut chars = tail.chars();
        match chars.next() {
            Some('"') => f.write_str("\\\"")?,
            Some('\\') => f.write_str("\\\\")?,
            Some('\n') => f.write_str("\\n")?,
            Some('\r') => f.write_str("\\r")?,
            Some('\t') => f.write_str("\\t")?,
            Some('\u{8}') => f.write_str("\\b")?,
            Some('\u{c}') => f.write_str("\\f")?,
            Some(c) => write!(f, "\\u{:04x}", u32::from(c))?,
            None => {}
        }
        rest = chars.as_str();
    }
    f.write_str(rest)?;
    f.write_char('"')
}

/// A filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `attrPath compareOp compValue`.
    Compare {
        /// The attribute compared.
        path: AttrPath,
        /// The operator.
        op: CompareOp,
        /// The literal.
        value: CompValue,
    },
    /// `attrPath pr`: the attribute has a non-empty value.
    Present(AttrPath),
    /// `attrPath[valFilter]`: some value of the complex attribute matches the inner filter,
    /// whose paths name sub-attributes of `path`.
    ValuePath {
        /// The complex attribute.
        path: AttrPath,
        /// The filter applied to each of its values.
        filter: Box<Filter>,
    },
    /// `not (filter)`.
    Not(Box<Filter>),
    /// `a and b and …` (at least two operands when parsed).
    And(Vec<Filter>),
    /// `a or b or …` (at least two operands when parsed).
    Or(Vec<Filter>),
}

impl Filter {
    /// The nesting depth of the printed form, as the parser counts it against
    /// [`crate::Limits::max_depth`]: 0 for a flat chain of comparisons, plus one for every
    /// `not (…)`, `[…]`, and `and`/`or` operand that needs parentheses. (Redundant
    /// parentheses in the original input counted when it was parsed, but leave no trace in
    /// the tree.) Computed without recursion.
    pub fn depth(&self) -> usize {
        let mut max = 0;
        let mut stack = vec![(self, 0usize)];
        while let Some((node, depth)) = stack.pop() {
            max = max.max(depth);
            match node {
                Self::Compare { .. } | Self::Present(_) => {}
                Self::ValuePath { filter, .. } | Self::Not(filter) => {
                    stack.push((filter, depth + 1));
                }
                Self::And(items) => stack.extend(items.iter().map(|item| {
                    let nested = matches!(item, Self::And(_) | Self::Or(_));
                    (item, depth + usize::from(nested))
                })),
                Self::Or(items) => stack.extend(items.iter().map(|item| {
                    let nested = matches!(item, Self::Or(_));
                    (item, depth + usize::from(nested))
                })),
            }
        }
        max
    }

    /// The number of comparisons and presence tests. Computed without recursion.
    pub fn terms(&self) -> usize {
        let mut count = 0;
        let mut stack = vec![self];
        while let Some(node) = stack.pop() {
            match node {
                Self::Compare { .. } | Self::Present(_) => count += 1,
                Self::ValuePath { filter, .. } | Self::Not(filter) => stack.push(filter),
                Self::And(items) | Self::Or(items) => stack.extend(items),
            }
        }
        count
    }

    fn fmt_operand(&self, f: &mut fmt::Formatter<'_>, parent_is_and: bool) -> fmt::Result {
        // Below `and`, both `and` and `or` operands need parentheses (the former to keep
        // the shape); below `or`, only `or` operands do.
        let needs_parens = match self {
            Self::And(_) => parent_is_and,
            Self::Or(_) => true,
            _ => false,
        };
        if needs_parens {
            write!(f, "({self})")
        } else {
            write!(f, "{self}")
        }
    }
}

impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Compare { path, op, value } => write!(f, "{path} {op} {value}"),
            Self::Present(path) => write!(f, "{path} pr"),
            Self::ValuePath { path, filter } => write!(f, "{path}[{filter}]"),
            Self::Not(inner) => write!(f, "not ({inner})"),
            Self::And(items) | Self::Or(items) => {
                let is_and = matches!(self, Self::And(_));
                for (index, item) in items.iter().enumerate() {
                    if index > 0 {
                        f.write_str(if is_and { " and " } else { " or " })?;
                    }
                    item.fmt_operand(f, is_and)?;
                }
                Ok(())
            }
        }
    }
}

/// An attribute path or value-path selection, as in PATCH `path` (RFC 7644 §3.5.2):
/// `members`, `name.familyName`, `emails[type eq "work"]`, `emails[type eq "work"].value`.
#[derive(Debug, Clone, PartialEq)]
pub enum Path {
    /// A plain attribute path.
    Attribute(AttrPath),
    /// A value path, optionally followed by a sub-attribute.
    ValuePath {
        /// The complex attribute.
        path: AttrPath,
        /// The filter selecting its values.
        filter: Filter,
        /// The sub-attribute selected from the matching values.
        sub_attr: Option<String>,
    },
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Attribute(path) => write!(f, "{path}"),
            Self::ValuePath {
                path,
                filter,
                sub_attr,
            } => {
                write!(f, "{path}[{filter}]")?;
                if let Some(sub) = sub_attr {
                    write!(f, ".{sub}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> String {
        let mut out = String::new();
        write_json_string(&mut out, text).unwrap();
        out
    }

    #[test]
    fn json_strings_escape_what_json_requires() {
        assert_eq!(s("plain"), r#""plain""#);
        assert_eq!(s("O'Malley"), r#""O'Malley""#);
        assert_eq!(s("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(s("\n\r\t\u{8}\u{c}\u{1}"), r#""\n\r\t\b\f\u0001""#);
        assert_eq!(s("é😀/"), "\"é😀/\"");
    }

    #[test]
    fn depth_and_terms() {
        let leaf = || Filter::Present(AttrPath::new("title"));
        let filter = Filter::And(vec![
            leaf(),
            Filter::Not(Box::new(Filter::Or(vec![leaf(), leaf()]))),
        ]);
        assert_eq!(filter.depth(), 1);
        assert_eq!(filter.terms(), 3);
        let nested = Filter::And(vec![leaf(), Filter::And(vec![leaf(), leaf()])]);
        assert_eq!(nested.depth(), 1);
        assert_eq!(nested.to_string(), "title pr and (title pr and title pr)");
    }
}
