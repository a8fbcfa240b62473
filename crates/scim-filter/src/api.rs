//! One-call entry points for the SCIM request parameters: `filter`, `sortBy`,
//! `attributes`/`excludedAttributes` and value-path selection. Each parses with
//! [`Limits::DEFAULT`] (or the limits given), validates against the resource type, and
//! returns an error that knows its SCIM `scimType`.

use scim_model::{AttrPath, ResolvedAttribute, ResourceSchema};

use crate::ast::{Filter, Path};
use crate::error::{FilterError, ParseError, PathError};
use crate::lexer::truncate;
use crate::limits::Limits;
use crate::parser;
use crate::validate::{ValidatedFilter, ValidatedPath, resolve_sort_by};

impl ValidatedFilter {
    /// Parses and validates a `filter` parameter with [`Limits::DEFAULT`].
    pub fn parse(input: &str, resource: &'static ResourceSchema) -> Result<Self, FilterError> {
        Self::parse_with_limits(input, resource, &Limits::DEFAULT)
    }

    /// Parses and validates a `filter` parameter with the given limits.
    pub fn parse_with_limits(
        input: &str,
        resource: &'static ResourceSchema,
        limits: &Limits,
    ) -> Result<Self, FilterError> {
        let filter = Filter::parse_with_limits(input, limits)?;
        Ok(Self::new(filter, resource)?)
    }
}

/// Parses and resolves a `sortBy` parameter (see [`resolve_sort_by`]).
pub fn parse_sort_by(
    input: &str,
    resource: &'static ResourceSchema,
) -> Result<ResolvedAttribute, PathError> {
    let path = parse_attr_path(input)?;
    Ok(resolve_sort_by(&path, resource)?)
}

/// Parses a single attribute path (surrounding whitespace ignored).
pub fn parse_attr_path(input: &str) -> Result<AttrPath, PathError> {
    if input.len() > Limits::DEFAULT.max_length {
        return Err(ParseError::TooLong {
            length: input.len(),
            max: Limits::DEFAULT.max_length,
        }
        .into());
    }
    let offset = input.len() - input.trim_start().len();
    let trimmed = input.trim();
    AttrPath::parse(trimmed).map_err(|source| {
        PathError::Parse(ParseError::InvalidPath {
            offset: offset + source.offset(),
            path: truncate(trimmed),
            source: source.shifted(offset),
        })
    })
}

/// Parses an `attributes` or `excludedAttributes` parameter: comma-separated paths,
/// whitespace around items and empty items ignored. Paths are not resolved here;
/// [`scim_model::Projection`] resolves them and ignores unknown ones.
pub fn parse_attribute_list(input: &str) -> Result<Vec<AttrPath>, PathError> {
    Ok(parser::parse_attribute_list(input, &Limits::DEFAULT)?)
}

/// Parses and validates a PATCH-style path / value-path selection such as
/// `emails[type eq "work"].value`.
pub fn parse_path(
    input: &str,
    resource: &'static ResourceSchema,
) -> Result<ValidatedPath, PathError> {
    let path = Path::parse(input)?;
    Ok(path.validate(resource)?)
}
