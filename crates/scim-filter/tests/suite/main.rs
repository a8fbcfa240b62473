//! The integration tests of `scim-filter`, one binary: each module is one subject.
//! One binary links the package and its dependencies once, however many subjects
//! there are.

#![allow(clippy::indexing_slicing, clippy::panic, clippy::unwrap_used)]

mod common;

mod errors;
mod parse;
mod roundtrip;
mod validate_eval;
