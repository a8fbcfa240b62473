//! The integration tests of `scim-api`, one binary: each module is one subject.
//! One binary links the package and its dependencies once, however many subjects
//! there are.

#![allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used
)]

mod common;

mod bad_input;
mod conformance;
mod deploy;
mod docs;
mod faults;
mod isolation;
mod okta_importer;
mod rolling_restart;
mod scim;
mod throttling;
