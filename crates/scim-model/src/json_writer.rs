//! A page of users written as JSON straight from the employees' records: byte for byte
//! what `serde_json` writes for a [`ListResponse`](crate::ListResponse) of
//! [`User`](crate::User)s built with [`EmployeeRecord::to_scim_user`], without building
//! those values first. Keys, schema URNs and the other constant parts are written as
//! they are; only the employees' own strings are escaped, and only those that need it
//! (which `serde_json` then escapes). The tests compare the two for arbitrary records.
//!
//! [`user`] writes one user the same way. Only for the users as they are: a request that projects them (`attributes`,
//! `excludedAttributes`) goes through the values and [`crate::projection`].

use std::io::Write as _;

use crate::employee::{EmployeeRecord, UserView, push_location};
use crate::urn;

/// About the size of one user's JSON, to size the buffer a page is written into
/// (growing it to a page's size would copy it many times).
pub const USER_JSON_BYTES: usize = 1_400;

/// About the size of a page of `users` users' JSON, the ListResponse around them
/// included: the room to give the buffer it is written into.
pub fn page_bytes(users: usize) -> usize {
    users.saturating_mul(USER_JSON_BYTES).saturating_add(512)
}

/// How a page of users is paginated: by index (RFC 7644 §3.4.2.4) or by cursor
/// (RFC 9865).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging<'a> {
    /// `startIndex`, as the request gave it.
    Index {
        /// The 1-based index of the page's first user.
        start_index: u64,
    },
    /// Cursors: the next page's, if there is one.
    Cursor {
        /// The cursor of the next page.
        next_cursor: Option<&'a str>,
    },
}

/// The ListResponse of `users`, `total` in all, with their URLs under `base_url`.
pub fn user_list(
    users: &[EmployeeRecord],
    base_url: &str,
    total: u64,
    paging: Paging<'_>,
) -> Vec<u8> {
    let mut out = Vec::new();
    user_list_into(&mut out, users, base_url, total, paging);
    out
}

/// [`user_list`], appended to `out` (grown first only if it lacks the room: a buffer
/// sized and allocated by the caller stays the caller's).
pub fn user_list_into(
    out: &mut Vec<u8>,
    users: &[EmployeeRecord],
    base_url: &str,
    total: u64,
    paging: Paging<'_>,
) {
    out.reserve(page_bytes(users.len()));
    out.extend_from_slice(b"{\"schemas\":[\"");
    out.extend_from_slice(urn::LIST_RESPONSE.as_bytes());
    out.extend_from_slice(b"\"],\"totalResults\":");
    number(out, total);
    if let Paging::Index { start_index } = paging {
        out.extend_from_slice(b",\"startIndex\":");
        number(out, start_index);
    }
    out.extend_from_slice(b",\"itemsPerPage\":");
    number(out, users.len());
    out.extend_from_slice(b",\"Resources\":[");
    let mut scratch = String::new();
    for (at, user) in users.iter().enumerate() {
        if at > 0 {
            out.push(b',');
        }
        write_user(out, &mut scratch, &user.user_view(), base_url);
    }
    out.push(b']');
    if let Paging::Cursor {
        next_cursor: Some(next),
    } = paging
    {
        out.extend_from_slice(b",\"nextCursor\":");
        string(out, next);
    }
    out.push(b'}');
}

/// One user's JSON, with its URLs under `base_url` (`GET /Users/{id}`).
pub fn user(record: &EmployeeRecord, base_url: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(USER_JSON_BYTES);
    write_user(&mut out, &mut String::new(), &record.user_view(), base_url);
    out
}

/// One user's JSON; `scratch` is a buffer to build URLs and instants in.
fn write_user(out: &mut Vec<u8>, scratch: &mut String, user: &UserView<'_>, base_url: &str) {
    out.extend_from_slice(b"{\"schemas\":[\"");
    out.extend_from_slice(urn::USER.as_bytes());
    if user.has_enterprise() {
        out.extend_from_slice(b"\",\"");
        out.extend_from_slice(urn::ENTERPRISE_USER.as_bytes());
    }
    out.extend_from_slice(b"\"],\"id\":");
    string(out, user.id);
    optional(out, b",\"externalId\":", user.external_id);
    out.extend_from_slice(b",\"userName\":");
    string(out, user.email);
    if let Some((first, second)) = user.formatted_name() {
        out.extend_from_slice(b",\"name\":{\"formatted\":");
        match second {
            None => string(out, first),
            Some(second) => {
                scratch.clear();
                scratch.push_str(first);
                scratch.push(' ');
                scratch.push_str(second);
                string(out, scratch);
            }
        }
        optional(out, b",\"familyName\":", user.family_name);
        optional(out, b",\"givenName\":", user.given_name);
        out.push(b'}');
    }
    optional(out, b",\"displayName\":", user.display_name);
    optional(out, b",\"title\":", user.title);
    out.extend_from_slice(if user.active {
        b",\"active\":true,\"emails\":[{\"value\":"
    } else {
        b",\"active\":false,\"emails\":[{\"value\":"
    });
    string(out, user.email);
    out.extend_from_slice(b",\"type\":\"work\",\"primary\":true}]");
    if let Some(phone) = user.phone {
        out.extend_from_slice(b",\"phoneNumbers\":[{\"value\":");
        string(out, phone);
        out.extend_from_slice(b",\"type\":\"work\",\"primary\":true}]");
    }
    if user.has_enterprise() {
        out.extend_from_slice(b",\"");
        out.extend_from_slice(urn::ENTERPRISE_USER.as_bytes());
        out.extend_from_slice(b"\":{");
        let mut first = true;
        let mut member = |out: &mut Vec<u8>, key: &[u8]| {
            if !std::mem::take(&mut first) {
                out.push(b',');
            }
            out.extend_from_slice(key);
        };
        if let Some(number) = user.employee_number {
            member(out, b"\"employeeNumber\":");
            string(out, number);
        }
        if let Some(department) = user.department {
            member(out, b"\"department\":");
            string(out, department);
        }
        if let Some((id, display_name)) = user.manager {
            member(out, b"\"manager\":{\"value\":");
            string(out, id);
            optional(out, b",\"displayName\":", display_name);
            out.extend_from_slice(b",\"$ref\":");
            location(out, scratch, base_url, id);
            out.push(b'}');
        }
        out.push(b'}');
    }
    out.extend_from_slice(b",\"meta\":{\"resourceType\":\"User\",\"created\":");
    instant(out, scratch, &user.created);
    out.extend_from_slice(b",\"lastModified\":");
    instant(out, scratch, &user.updated);
    out.extend_from_slice(b",\"location\":");
    location(out, scratch, base_url, user.id);
    // The weak ETag `W/"<version>"`, its quotes escaped.
    out.extend_from_slice(b",\"version\":\"W/\\\"");
    number(out, user.version);
    out.extend_from_slice(b"\\\"\"}}");
}

/// `key` and the value, when there is one.
fn optional(out: &mut Vec<u8>, key: &[u8], value: Option<&str>) {
    if let Some(value) = value {
        out.extend_from_slice(key);
        string(out, value);
    }
}

/// The URL of the user `id` under `base_url`.
fn location(out: &mut Vec<u8>, scratch: &mut String, base_url: &str, id: &str) {
    scratch.clear();
    push_location(scratch, base_url, "/Users", id);
    string(out, scratch);
}

/// An instant as `meta` writes it.
fn instant(out: &mut Vec<u8>, scratch: &mut String, at: &chrono::DateTime<chrono::Utc>) {
    scratch.clear();
    crate::timestamp::write(scratch, at);
    string(out, scratch);
}

fn number(out: &mut Vec<u8>, value: impl std::fmt::Display) {
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{value}");
}

/// A JSON string. Most need no escaping and are copied as they are; one that does is
/// written by `serde_json`, so escapes are `serde_json`'s own.
fn string(out: &mut Vec<u8>, value: &str) {
    if needs_escaping(value.as_bytes()) {
        // Writing a string into a Vec cannot fail.
        let _ = serde_json::to_writer(&mut *out, value);
    } else {
        out.push(b'"');
        out.extend_from_slice(value.as_bytes());
        out.push(b'"');
    }
}

/// Whether any byte is one JSON escapes: a quote, a backslash or a control character.
/// Looks at 16 bytes at a time without branching on each, which the compiler turns into
/// vector instructions.
fn needs_escaping(bytes: &[u8]) -> bool {
    let special = |byte: &u8| *byte < 0x20 || *byte == b'"' || *byte == b'\\';
    let mut chunks = bytes.chunks_exact(16);
    for chunk in chunks.by_ref() {
        if chunk.iter().fold(false, |any, byte| any | special(byte)) {
            return true;
        }
    }
    chunks.remainder().iter().any(special)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_byte_json_escapes_wherever_it_is() {
        for length in [0usize, 1, 15, 16, 17, 40] {
            let plain = "a".repeat(length);
            assert!(!needs_escaping(plain.as_bytes()));
            for at in 0..length {
                for special in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                    let mut bytes = plain.clone().into_bytes();
                    if let Some(byte) = bytes.get_mut(at) {
                        *byte = special;
                    }
                    assert!(needs_escaping(&bytes), "{special} at {at} of {length}");
                }
            }
        }
        assert!(!needs_escaping("José / é \u{7f} 日本".as_bytes()));
    }
}
