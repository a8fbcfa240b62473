//! The integration tests of `sparkctl`, one binary: each module is one subject.
//! One binary links the package and its dependencies once, however many subjects
//! there are.

#![allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used
)]

mod cli;
mod faults;
mod sign_in;
