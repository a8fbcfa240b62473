//! The kinds of secret token Spark mints, and the text format they share.
//!
//! Every secret token is `{prefix}{body}`:
//!
//! - `prefix` names the kind (`spark_scim_`, `spark_session_`, …). It lets humans and
//!   secret scanners recognise a leaked Spark secret, and lets a parser say "this is a
//!   session token, not a SCIM token" instead of "unknown token".
//! - `body` is [`BODY_CHARS`] characters of unpadded base64url (RFC 4648 §5) encoding
//!   [`RANDOM_BYTES`] bytes from the operating system's CSPRNG followed by a 4-byte
//!   big-endian CRC-32 of `prefix ‖ random bytes`. 35 + 4 = 39 bytes is a multiple of 3,
//!   so the encoding has no padding and no partially used final character: every body
//!   has exactly one spelling.

use std::fmt;

/// Number of random bytes in every secret token (280 bits).
///
/// More than the 256 bits the security requirement asks for, so that even with the
/// public [`TokenHint`](crate::TokenHint) (which shows the last 4 characters, 24 bits,
/// of the token) at least 256 bits stay unknown.
pub const RANDOM_BYTES: usize = 35;

/// Number of random bits in every secret token.
pub const ENTROPY_BITS: usize = RANDOM_BYTES * 8;

/// Number of checksum bytes (a CRC-32) appended to the random bytes.
pub const CHECKSUM_BYTES: usize = 4;

/// Number of base64url characters after the prefix.
pub const BODY_CHARS: usize = (RANDOM_BYTES + CHECKSUM_BYTES) / 3 * 4;

/// Bytes encoded in the body: the random bytes then the checksum.
pub(crate) const RAW_BYTES: usize = RANDOM_BYTES + CHECKSUM_BYTES;

// The body must encode to whole base64 quanta (no padding, no spare bits).
const _: () = assert!(RAW_BYTES.is_multiple_of(3));

/// What a secret token is for. Each kind has its own prefix; all kinds share the format
/// described in the [module docs](self) and the same entropy ([`ENTROPY_BITS`]).
///
/// A token of one kind never parses as another kind, and its hash differs from the hash
/// any other kind could have (the prefix is part of the hashed text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecretKind {
    /// A SCIM bearer token minted by a tenant admin for Okta's importer (`spark_scim_`).
    ScimToken,
    /// A browser session on a workspace host (`spark_session_`).
    Session,
    /// A one-time code that hands a fresh sign-in from the auth host to a workspace host
    /// (`spark_handoff_`).
    HandoffCode,
    /// The token in a one-time sign-in link (`spark_link_`).
    SignInLink,
    /// The OIDC `state` parameter of one authorization request (`spark_state_`).
    OidcState,
}

impl SecretKind {
    /// Every kind, in declaration order.
    pub const ALL: [SecretKind; 5] = [
        SecretKind::ScimToken,
        SecretKind::Session,
        SecretKind::HandoffCode,
        SecretKind::SignInLink,
        SecretKind::OidcState,
    ];

    /// The prefix every token of this kind starts with. Not secret.
    #[must_use]
    pub const fn prefix(self) -> &'static str {
        match self {
            SecretKind::ScimToken => "spark_scim_",
            SecretKind::Session => "spark_session_",
            SecretKind::HandoffCode => "spark_handoff_",
            SecretKind::SignInLink => "spark_link_",
            SecretKind::OidcState => "spark_state_",
        }
    }

    /// A short human description, used in error messages ("SCIM token").
    #[must_use]
    pub const fn description(self) -> &'static str {
        match self {
            SecretKind::ScimToken => "SCIM token",
            SecretKind::Session => "session token",
            SecretKind::HandoffCode => "sign-in hand-off code",
            SecretKind::SignInLink => "sign-in link token",
            SecretKind::OidcState => "OIDC state value",
        }
    }

    /// The exact length in characters (and bytes: the format is ASCII) of a token of this
    /// kind.
    #[must_use]
    pub const fn token_len(self) -> usize {
        self.prefix().len() + BODY_CHARS
    }

    /// The kind whose prefix `text` starts with, if any. Does not validate the rest;
    /// useful for redacting logs or routing a value to the right parser.
    #[must_use]
    pub fn detect(text: &str) -> Option<SecretKind> {
        SecretKind::ALL
            .into_iter()
            .find(|kind| text.starts_with(kind.prefix()))
    }
}

impl fmt::Display for SecretKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_is_whole_base64_quanta() {
        assert_eq!(BODY_CHARS, 52);
        assert_eq!(ENTROPY_BITS, 280);
        assert_eq!(SecretKind::ScimToken.token_len(), "spark_scim_".len() + 52);
    }

    #[test]
    fn no_prefix_is_a_prefix_of_another() {
        for a in SecretKind::ALL {
            for b in SecretKind::ALL {
                if a != b {
                    assert!(
                        !a.prefix().starts_with(b.prefix()),
                        "{a:?} prefix starts with {b:?} prefix"
                    );
                }
            }
        }
    }

    #[test]
    fn prefixes_are_url_and_cookie_safe() {
        for kind in SecretKind::ALL {
            assert!(
                kind.prefix()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{kind:?}"
            );
            assert!(kind.prefix().starts_with("spark_") && kind.prefix().ends_with('_'));
        }
    }

    #[test]
    fn detect_finds_the_kind_by_prefix() {
        for kind in SecretKind::ALL {
            assert_eq!(
                SecretKind::detect(&format!("{}anything", kind.prefix())),
                Some(kind)
            );
        }
        assert_eq!(SecretKind::detect("spark_"), None);
        assert_eq!(SecretKind::detect(""), None);
        assert_eq!(SecretKind::detect("ghp_abc"), None);
    }
}
