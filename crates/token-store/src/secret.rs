//! The plaintext of a secret token: minting, parsing, and the non-secret hint.
//!
//! A [`SecretToken`] exists in two moments only: right after [`SecretToken::mint`], to be
//! shown once (or set as a cookie, put in a link), and right after
//! [`SecretToken::parse`] of a presented value. Everything that is kept is a
//! [`TokenHash`] plus, for listings, a [`TokenHint`].

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::TryRngCore as _;
use rand::rngs::OsRng;

use crate::checksum::crc32;
use crate::format::{TokenFormatError, validate};
use crate::hash::TokenHash;
use crate::kind::{RANDOM_BYTES, RAW_BYTES, SecretKind};

/// The plaintext of a secret token.
///
/// Deliberately not `Clone`, `PartialEq` or `Display`, and its `Debug` is redacted: the
/// only ways to the secret are [`expose_secret`](Self::expose_secret) and
/// [`into_exposed_secret`](Self::into_exposed_secret), whose names make every use easy to
/// find in review. Compare tokens through their [`TokenHash`], which compares in
/// constant time.
pub struct SecretToken {
    kind: SecretKind,
    text: String,
}

impl SecretToken {
    /// Mints a fresh token of `kind` from the operating system's CSPRNG, and returns it
    /// with its hash (what you store).
    ///
    /// Uses [`OsRng`] directly rather than a user-space generator: minting is rare
    /// compared with the cost of a system call, and it keeps no generator state in the
    /// process that a fork could duplicate.
    ///
    /// # Errors
    ///
    /// [`RandomnessError`] if the operating system cannot provide randomness (on Linux,
    /// only very early in boot or in a badly sandboxed process).
    pub fn mint(kind: SecretKind) -> Result<(SecretToken, TokenHash), RandomnessError> {
        let mut random = [0u8; RANDOM_BYTES];
        OsRng.try_fill_bytes(&mut random).map_err(RandomnessError)?;
        let token = SecretToken::from_random(kind, &random);
        let hash = token.hash();
        Ok((token, hash))
    }

    /// Builds the token text for given random bytes. Private: every public token is
    /// either minted from `OsRng` or parsed.
    fn from_random(kind: SecretKind, random: &[u8; RANDOM_BYTES]) -> SecretToken {
        let checksum = crc32(&[kind.prefix().as_bytes(), random]).to_be_bytes();
        let mut raw = [0u8; RAW_BYTES];
        for (dst, src) in raw.iter_mut().zip(random.iter().chain(checksum.iter())) {
            *dst = *src;
        }
        let mut text = String::with_capacity(kind.token_len());
        text.push_str(kind.prefix());
        URL_SAFE_NO_PAD.encode_string(raw, &mut text);
        SecretToken { kind, text }
    }

    /// Parses a presented value as a token of `kind`, checking prefix, alphabet, length
    /// and checksum, in that order.
    ///
    /// The value must be exactly the token: no surrounding whitespace, no `Bearer `
    /// scheme (strip that in the HTTP layer). This copies the secret; when you only need
    /// the hash, [`TokenHash::of_presented`] validates and hashes without a copy.
    ///
    /// # Errors
    ///
    /// A [`TokenFormatError`] that says what is wrong without repeating the value.
    pub fn parse(kind: SecretKind, presented: &str) -> Result<SecretToken, TokenFormatError> {
        validate(kind, presented)?;
        Ok(SecretToken {
            kind,
            text: presented.to_owned(),
        })
    }

    /// The kind of this token.
    #[must_use]
    pub fn kind(&self) -> SecretKind {
        self.kind
    }

    /// The secret text: show it once, put it in a cookie or a link, never log it.
    #[must_use]
    pub fn expose_secret(&self) -> &str {
        &self.text
    }

    /// The secret text, by value (e.g. to hand to a cookie or an OIDC library).
    #[must_use]
    pub fn into_exposed_secret(self) -> String {
        self.text
    }

    /// The SHA-256 of the token text: what is stored and looked up.
    #[must_use]
    pub fn hash(&self) -> TokenHash {
        TokenHash::digest(self.expose_secret())
    }

    /// A short, non-secret reminder of this token for listings.
    #[must_use]
    pub fn hint(&self) -> TokenHint {
        TokenHint::of(self)
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretToken")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// The operating system could not provide random bytes, so no token was minted.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed")]
pub struct RandomnessError(#[source] rand::rand_core::OsError);

/// A short, non-secret reminder of a token for listings: its prefix, `...`, and its last
/// four characters, e.g. `spark_scim_...x7Qa`.
///
/// The last four characters are checksum bits (24 of the 32), so a hint reveals nothing
/// about the random part beyond what the checksum already implies; at least 256 bits
/// stay unknown (see [`ENTROPY_BITS`](crate::ENTROPY_BITS)). An admin can match it
/// against the end of the token they pasted into Okta.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHint(String);

impl TokenHint {
    /// Number of trailing token characters a hint shows.
    pub const SHOWN_CHARS: usize = 4;

    /// The hint for `token`.
    #[must_use]
    pub fn of(token: &SecretToken) -> TokenHint {
        let text = token.expose_secret();
        // Tokens are ASCII, so a byte offset is a character boundary; `get` keeps this
        // total anyway.
        let tail = text
            .len()
            .checked_sub(Self::SHOWN_CHARS)
            .and_then(|start| text.get(start..))
            .unwrap_or_default();
        TokenHint(format!("{}...{tail}", token.kind().prefix()))
    }

    /// Rebuilds a hint read back from storage. Not validated: a hint is display text.
    #[must_use]
    pub fn from_stored(hint: impl Into<String>) -> TokenHint {
        TokenHint(hint.into())
    }

    /// The hint text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The hint text, by value (for storage).
    #[must_use]
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for TokenHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minted(kind: SecretKind) -> SecretToken {
        SecretToken::mint(kind).unwrap().0
    }

    /// A well-formed token with a known body, for error-position tests.
    fn fixed(kind: SecretKind) -> String {
        SecretToken::from_random(kind, &[7u8; RANDOM_BYTES]).into_exposed_secret()
    }

    /// `text` with the base64url character at byte `index` replaced by another one.
    fn flip(text: &str, index: usize) -> String {
        let mut bytes = text.as_bytes().to_vec();
        bytes[index] = if bytes[index] == b'Q' { b'R' } else { b'Q' };
        String::from_utf8(bytes).unwrap()
    }

    fn parse_err(kind: SecretKind, value: &str) -> TokenFormatError {
        SecretToken::parse(kind, value).unwrap_err()
    }

    #[test]
    fn minted_tokens_have_the_documented_shape() {
        for kind in SecretKind::ALL {
            let token = minted(kind);
            let text = token.expose_secret();
            assert_eq!(token.kind(), kind);
            assert!(text.starts_with(kind.prefix()));
            assert_eq!(text.len(), kind.token_len());
            assert!(text.bytes().all(|b| b.is_ascii_graphic()));
            assert!(!text.contains('='));
        }
    }

    #[test]
    fn minted_tokens_parse_and_hash_alike() {
        for kind in SecretKind::ALL {
            let (token, hash) = SecretToken::mint(kind).unwrap();
            let parsed = SecretToken::parse(kind, token.expose_secret()).unwrap();
            assert_eq!(parsed.hash(), hash);
            assert_eq!(
                TokenHash::of_presented(kind, token.expose_secret()).unwrap(),
                hash
            );
            assert_eq!(parsed.hint(), token.hint());
        }
    }

    #[test]
    fn distinct_mints_differ() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let (token, hash) = SecretToken::mint(SecretKind::ScimToken).unwrap();
            assert!(seen.insert(hash));
            assert!(
                !seen.insert(token.hash()),
                "mint returns the hash of its token"
            );
        }
        let a = minted(SecretKind::ScimToken);
        let b = minted(SecretKind::ScimToken);
        assert_ne!(a.expose_secret(), b.expose_secret());
    }

    #[test]
    fn the_same_body_under_another_kind_hashes_differently() {
        let random = [42u8; RANDOM_BYTES];
        let scim = SecretToken::from_random(SecretKind::ScimToken, &random);
        let session = SecretToken::from_random(SecretKind::Session, &random);
        assert_ne!(scim.hash(), session.hash());
    }

    #[test]
    fn known_answers() {
        // Pins the format: changing it would invalidate every token already issued.
        // Expected values computed independently with Python's `zlib.crc32` and
        // `base64.urlsafe_b64encode`.
        let cases = [
            (
                SecretKind::ScimToken,
                [0u8; RANDOM_BYTES],
                "spark_scim_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAV53fI",
            ),
            (
                SecretKind::Session,
                [7u8; RANDOM_BYTES],
                "spark_session_BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwesqiww",
            ),
        ];
        for (kind, random, expected) in cases {
            let token = SecretToken::from_random(kind, &random);
            assert_eq!(token.expose_secret(), expected);
            assert!(SecretToken::parse(kind, expected).is_ok());
        }
    }

    #[test]
    fn debug_is_redacted() {
        let token = minted(SecretKind::Session);
        let debug = format!("{token:?}");
        assert_eq!(debug, "SecretToken { kind: Session, .. }");
        let body = token
            .expose_secret()
            .strip_prefix("spark_session_")
            .unwrap();
        assert!(!debug.contains(body));
        let alternate = format!("{token:#?}");
        assert!(!alternate.contains(body));
    }

    #[test]
    fn hint_shows_prefix_and_last_four() {
        let token = minted(SecretKind::ScimToken);
        let text = token.expose_secret();
        let hint = token.hint();
        assert_eq!(
            hint.as_str(),
            format!("spark_scim_...{}", &text[text.len() - 4..])
        );
        assert_eq!(hint.to_string(), hint.as_str());
        assert_eq!(TokenHint::from_stored(hint.as_str()), hint);
        // The hint shows only checksum characters: the random part does not appear.
        let random_part = &text["spark_scim_".len()..text.len() - 6];
        assert!(!hint.as_str().contains(random_part));
    }

    #[test]
    fn rejects_empty() {
        assert_eq!(
            parse_err(SecretKind::ScimToken, ""),
            TokenFormatError::Empty {
                expected: SecretKind::ScimToken
            }
        );
    }

    #[test]
    fn rejects_whitespace_anywhere() {
        let good = fixed(SecretKind::ScimToken);
        let cases = [
            (format!(" {good}"), 1),
            (format!("{good}\n"), good.len() + 1),
            (format!("{good}\r\n"), good.len() + 1),
            (format!("\t{good}"), 1),
            (format!("Bearer {good}"), 7),
            (format!("{} {}", &good[..20], &good[20..]), 21),
            (format!("{}\u{a0}{}", &good[..20], &good[21..]), 21),
            ("   ".to_owned(), 1),
        ];
        for (value, position) in cases {
            assert_eq!(
                parse_err(SecretKind::ScimToken, &value),
                TokenFormatError::Whitespace {
                    expected: SecretKind::ScimToken,
                    position
                },
                "{value:?}"
            );
        }
    }

    #[test]
    fn rejects_wrong_prefix() {
        let good = fixed(SecretKind::ScimToken);
        let body = &good["spark_scim_".len()..];
        for value in [
            body.to_owned(),
            format!("SPARK_SCIM_{body}"),
            format!("spark_scm_{body}"),
            format!("ghp_{body}"),
            "spark_scim".to_owned(),
            "x".to_owned(),
            "spark_".to_owned(),
        ] {
            assert_eq!(
                parse_err(SecretKind::ScimToken, &value),
                TokenFormatError::WrongPrefix {
                    expected: SecretKind::ScimToken
                },
                "{value:?}"
            );
        }
    }

    #[test]
    fn rejects_another_kind_by_name() {
        let session = minted(SecretKind::Session);
        let err = parse_err(SecretKind::ScimToken, session.expose_secret());
        assert_eq!(
            err,
            TokenFormatError::WrongKind {
                expected: SecretKind::ScimToken,
                found: SecretKind::Session
            }
        );
        assert_eq!(err.to_string(), "this is a session token, not a SCIM token");
        for expected in SecretKind::ALL {
            for found in SecretKind::ALL {
                let token = minted(found);
                let result = SecretToken::parse(expected, token.expose_secret());
                assert_eq!(result.is_ok(), expected == found);
            }
        }
    }

    #[test]
    fn rejects_bad_alphabet() {
        let good = fixed(SecretKind::ScimToken);
        let prefix_len = "spark_scim_".len();
        for bad in ['=', '+', '/', '.', '!', 'é', '\0', '€'] {
            let mut value = good.clone();
            value.replace_range(prefix_len + 5..prefix_len + 6, &bad.to_string());
            assert_eq!(
                parse_err(SecretKind::ScimToken, &value),
                TokenFormatError::InvalidCharacter {
                    expected: SecretKind::ScimToken,
                    position: prefix_len + 6
                },
                "{bad:?}"
            );
        }
        // Standard base64 with padding (a plausible mis-encoding) is rejected too.
        assert!(matches!(
            parse_err(SecretKind::ScimToken, &format!("{good}==")),
            TokenFormatError::InvalidCharacter { .. }
        ));
    }

    #[test]
    fn rejects_wrong_length() {
        let good = fixed(SecretKind::ScimToken);
        let required = SecretKind::ScimToken.token_len();
        for value in [
            good[..good.len() - 1].to_owned(),
            good[..required - 4].to_owned(),
            "spark_scim_".to_owned(),
            "spark_scim_A".to_owned(),
            format!("{good}A"),
            format!("{good}{}", &good["spark_scim_".len()..]),
        ] {
            assert_eq!(
                parse_err(SecretKind::ScimToken, &value),
                TokenFormatError::WrongLength {
                    expected: SecretKind::ScimToken,
                    actual: value.len(),
                    required
                },
                "{value:?}"
            );
        }
    }

    #[test]
    fn rejects_bad_checksum() {
        let good = fixed(SecretKind::ScimToken);
        let prefix_len = "spark_scim_".len();
        // Change one character in the random part, and one in the checksum part.
        for index in [prefix_len, prefix_len + 30, good.len() - 1] {
            let value = flip(&good, index);
            assert_eq!(
                parse_err(SecretKind::ScimToken, &value),
                TokenFormatError::ChecksumMismatch {
                    expected: SecretKind::ScimToken
                }
            );
        }
        // A body with a valid checksum for another prefix fails here.
        let session = fixed(SecretKind::Session);
        let transplanted = format!("spark_scim_{}", &session["spark_session_".len()..]);
        assert_eq!(
            parse_err(SecretKind::ScimToken, &transplanted),
            TokenFormatError::ChecksumMismatch {
                expected: SecretKind::ScimToken
            }
        );
    }

    #[test]
    fn messages_never_echo_the_value() {
        let good = fixed(SecretKind::ScimToken);
        let body = &good["spark_scim_".len()..];
        let values = [
            format!("{good} "),
            format!("spark_scom_{body}"),
            format!("{good}!"),
            format!("{good}A"),
            flip(&good, 20),
        ];
        for value in values {
            let err = parse_err(SecretKind::ScimToken, &value);
            let message = err.to_string();
            assert_eq!(err.expected(), SecretKind::ScimToken);
            for window in body.as_bytes().windows(8) {
                let window = std::str::from_utf8(window).unwrap();
                assert!(!message.contains(window), "{message}");
            }
        }
    }

    #[test]
    fn error_messages_read_well() {
        let good = fixed(SecretKind::ScimToken);
        let cases = [
            (
                String::new(),
                "no SCIM token was given (the value is empty)",
            ),
            (
                format!("{good}\n"),
                "the SCIM token contains whitespace at character 64; copy it again without spaces or line breaks",
            ),
            (
                "nope".to_owned(),
                "not a SCIM token: a SCIM token starts with `spark_scim_`",
            ),
            (
                format!("{}.", &good[..20]),
                "the SCIM token has a character other than A-Z, a-z, 0-9, `-` or `_` at character 21",
            ),
            (
                good[..40].to_owned(),
                "the SCIM token is 40 characters long but must be exactly 63; it was truncated or has extra characters",
            ),
            (
                flip(&good, 30),
                "the SCIM token fails its checksum; it was mistyped or altered",
            ),
        ];
        for (value, message) in cases {
            assert_eq!(
                parse_err(SecretKind::ScimToken, &value).to_string(),
                message
            );
        }
    }
}
