//! The integration tests of `scim-model`, one binary: each module is one subject.
//! One binary links the package and its dependencies once, however many subjects
//! there are.

#![allow(clippy::indexing_slicing, clippy::panic, clippy::unwrap_used)]

mod json_writer;
mod projection;
mod wire;
