//! Attribute paths: `[URN ":"] ATTRNAME ["." ATTRNAME]` (RFC 7644 §3.10, RFC 7643 §2.1).
//!
//! The same syntax is used by the `attributes`, `excludedAttributes` and `sortBy`
//! parameters and inside filters. This module only checks syntax; whether a path names a
//! real attribute is decided by [`crate::schema::ResourceSchema::resolve`].
//!
//! The schema URN is everything before the *last* colon, so dotted URNs such as
//! `urn:ietf:params:scim:schemas:core:2.0:User:name.givenName` split correctly. A path made
//! of a schema URN alone (`urn:…:enterprise:2.0:User`) parses as URN `urn:…:enterprise:2.0`
//! plus name `User`; resolution recognises it as the whole schema.

use std::fmt;
use std::str::FromStr;

/// A parsed attribute path. Names keep the case they were written in; resolve the path to
/// get canonical names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AttrPath {
    /// The schema URN prefix, without the trailing colon.
    pub urn: Option<String>,
    /// The attribute name.
    pub name: String,
    /// The sub-attribute name.
    pub sub_attr: Option<String>,
}

/// Why a string is not an attribute path. Offsets are 0-based byte offsets into the path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttrPathError {
    /// Nothing where an attribute path was expected.
    #[error("empty attribute path")]
    Empty,
    /// A character that cannot appear in an attribute path.
    #[error(
        "invalid character {found:?} at offset {offset} in attribute path; \
         attribute names use letters, digits, `-` and `_`, e.g. `name.givenName`"
    )]
    InvalidCharacter {
        /// Byte offset of the character.
        offset: usize,
        /// The character.
        found: char,
    },
    /// An attribute or sub-attribute name that does not start with a letter (or `$`, as in
    /// `$ref`), or is empty.
    #[error("expected an attribute name starting with a letter at offset {offset}")]
    BadName {
        /// Byte offset where the name starts.
        offset: usize,
    },
    /// More than one `.`: SCIM attributes nest at most one level.
    #[error(
        "attribute path has more than one `.` (at offset {offset}); \
         SCIM paths have at most one sub-attribute, e.g. `name.givenName`"
    )]
    TooDeep {
        /// Byte offset of the second dot.
        offset: usize,
    },
    /// A colon with nothing before it.
    #[error("empty schema URN before `:` at offset {offset}")]
    EmptyUrn {
        /// Byte offset of the colon.
        offset: usize,
    },
}

impl AttrPathError {
    /// The same error with its offsets moved by `delta` (for paths embedded in a larger
    /// string).
    pub fn shifted(self, delta: usize) -> Self {
        match self {
            Self::Empty => Self::Empty,
            Self::InvalidCharacter { offset, found } => Self::InvalidCharacter {
                offset: offset + delta,
                found,
            },
            Self::BadName { offset } => Self::BadName {
                offset: offset + delta,
            },
            Self::TooDeep { offset } => Self::TooDeep {
                offset: offset + delta,
            },
            Self::EmptyUrn { offset } => Self::EmptyUrn {
                offset: offset + delta,
            },
        }
    }

    /// The byte offset the error points at (0 for [`AttrPathError::Empty`]).
    pub fn offset(&self) -> usize {
        match self {
            Self::Empty => 0,
            Self::InvalidCharacter { offset, .. }
            | Self::BadName { offset }
            | Self::TooDeep { offset }
            | Self::EmptyUrn { offset } => *offset,
        }
    }
}

/// Whether `c` may appear anywhere in an attribute path token (URN, names, separators).
/// Filter lexers use this to find where a path ends.
pub fn is_path_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b':' | b'.' | b'_' | b'-' | b'$')
}

/// Whether `name` is a valid `ATTRNAME`: a letter (or `$`, for `$ref`) followed by letters,
/// digits, `-` or `_`.
pub fn is_attr_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    match bytes.next() {
        Some(first) if first.is_ascii_alphabetic() || first == b'$' => {
            bytes.all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        }
        _ => false,
    }
}

impl AttrPath {
    /// A path naming an attribute without URN or sub-attribute.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            urn: None,
            name: name.into(),
            sub_attr: None,
        }
    }

    /// This path with a sub-attribute.
    pub fn with_sub_attr(mut self, sub_attr: impl Into<String>) -> Self {
        self.sub_attr = Some(sub_attr.into());
        self
    }

    /// This path with a schema URN prefix.
    pub fn with_urn(mut self, urn: impl Into<String>) -> Self {
        self.urn = Some(urn.into());
        self
    }

    /// Parses a path. Leading and trailing whitespace is not allowed (trim first).
    pub fn parse(input: &str) -> Result<Self, AttrPathError> {
        if input.is_empty() {
            return Err(AttrPathError::Empty);
        }
        if let Some((offset, found)) = input
            .char_indices()
            .find(|&(_, c)| !(c.is_ascii() && is_path_char(c as u8)))
        {
            return Err(AttrPathError::InvalidCharacter { offset, found });
        }
        let (urn, rest, rest_offset) = match input.rfind(':') {
            Some(0) => return Err(AttrPathError::EmptyUrn { offset: 0 }),
            Some(colon) => (
                input.get(..colon),
                input.get(colon + 1..).unwrap_or_default(),
                colon + 1,
            ),
            None => (None, input, 0),
        };
        let (name, sub_attr) = match rest.split_once('.') {
            Some((name, sub)) => (name, Some(sub)),
            None => (rest, None),
        };
        if !is_attr_name(name) {
            return Err(AttrPathError::BadName {
                offset: rest_offset,
            });
        }
        if let Some(sub) = sub_attr {
            let sub_offset = rest_offset + name.len() + 1;
            if let Some(dot) = sub.find('.') {
                return Err(AttrPathError::TooDeep {
                    offset: sub_offset + dot,
                });
            }
            if !is_attr_name(sub) {
                return Err(AttrPathError::BadName { offset: sub_offset });
            }
        }
        Ok(Self {
            urn: urn.map(str::to_owned),
            name: name.to_owned(),
            sub_attr: sub_attr.map(str::to_owned),
        })
    }

    /// Parses a comma-separated list of paths, as in `attributes=userName,name.givenName`.
    /// Whitespace around items is ignored, and so are empty items (`a,,b` and a trailing
    /// comma are accepted). Offsets in errors are relative to `input`.
    pub fn parse_list(input: &str) -> Result<Vec<Self>, AttrPathError> {
        let mut paths = Vec::new();
        let mut start = 0;
        for item in input.split(',') {
            let trimmed_start = item.len() - item.trim_start().len();
            let trimmed = item.trim();
            if !trimmed.is_empty() {
                paths.push(Self::parse(trimmed).map_err(|e| e.shifted(start + trimmed_start))?);
            }
            start += item.len() + 1;
        }
        Ok(paths)
    }
}

impl FromStr for AttrPath {
    type Err = AttrPathError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_all_forms() {
        assert_eq!(
            AttrPath::parse("userName").unwrap(),
            AttrPath::new("userName")
        );
        assert_eq!(
            AttrPath::parse("name.givenName").unwrap(),
            AttrPath::new("name").with_sub_attr("givenName")
        );
        assert_eq!(
            AttrPath::parse("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName").unwrap(),
            AttrPath::new("name")
                .with_sub_attr("givenName")
                .with_urn("urn:ietf:params:scim:schemas:core:2.0:User")
        );
        assert_eq!(
            AttrPath::parse("manager.$ref").unwrap(),
            AttrPath::new("manager").with_sub_attr("$ref")
        );
    }

    #[test]
    fn display_round_trips() {
        for text in [
            "userName",
            "name.familyName",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
            "members.$ref",
        ] {
            assert_eq!(AttrPath::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn rejects_malformed_paths() {
        assert_eq!(AttrPath::parse(""), Err(AttrPathError::Empty));
        assert_eq!(
            AttrPath::parse("user name"),
            Err(AttrPathError::InvalidCharacter {
                offset: 4,
                found: ' '
            })
        );
        assert_eq!(
            AttrPath::parse("a.b.c"),
            Err(AttrPathError::TooDeep { offset: 3 })
        );
        assert_eq!(
            AttrPath::parse("1abc"),
            Err(AttrPathError::BadName { offset: 0 })
        );
        assert_eq!(
            AttrPath::parse("name."),
            Err(AttrPathError::BadName { offset: 5 })
        );
        assert_eq!(
            AttrPath::parse("urn:x:"),
            Err(AttrPathError::BadName { offset: 6 })
        );
        assert_eq!(
            AttrPath::parse(":a"),
            Err(AttrPathError::EmptyUrn { offset: 0 })
        );
        assert_eq!(
            AttrPath::parse("é").unwrap_err().to_string(),
            "invalid character 'é' at offset 0 in attribute path; attribute names use letters, digits, `-` and `_`, e.g. `name.givenName`"
        );
    }

    #[test]
    fn parses_lists() {
        assert_eq!(
            AttrPath::parse_list(" userName , name.givenName,,").unwrap(),
            vec![
                AttrPath::new("userName"),
                AttrPath::new("name").with_sub_attr("givenName")
            ]
        );
        assert_eq!(AttrPath::parse_list("").unwrap(), vec![]);
        assert_eq!(
            AttrPath::parse_list("userName, na me"),
            Err(AttrPathError::InvalidCharacter {
                offset: 12,
                found: ' '
            })
        );
    }
}
