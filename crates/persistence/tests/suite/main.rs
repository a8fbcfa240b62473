//! The integration tests of `persistence`, one binary: each module is one subject.
//! One binary links the package and its dependencies once, however many subjects
//! there are.

#![allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used
)]

mod concurrent_writes;
mod isolation;
mod repositories;
mod scim_tokens;
mod scim_users;
mod sign_in;
