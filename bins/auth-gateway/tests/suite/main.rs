//! The integration tests of `auth-gateway`, one binary: each module is one subject.
//! One binary links the package and its dependencies once, however many subjects
//! there are.

#![allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::unwrap_used
)]

mod common;

mod admin;
mod admin_okta_paths;
mod attacks;
mod bad_input;
mod docs;
mod escaping;
mod faults;
mod isolation;
mod no_secrets_in_logs;
mod okta_facts;
mod okta_sign_in;
mod real_time_sign_out;
mod rolling_restart;
mod universal_logout;
mod workspace;
