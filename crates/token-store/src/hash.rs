//! [`TokenHash`]: the SHA-256 of a token, which is what gets stored and looked up.
//!
//! A plain, unsalted SHA-256 is the right tool here, unlike for passwords: tokens carry
//! 280 random bits, so there is nothing to brute-force, and an unsalted hash is
//! deterministic, which is what lets the database index it and find a token by it.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use sha2::{Digest as _, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::format::{TokenFormatError, validate};
use crate::kind::SecretKind;

/// The SHA-256 of a token's full text (prefix included).
///
/// For storage and display it is 64 lowercase hex characters ([`to_hex`](Self::to_hex),
/// `Display`, [`from_hex`](Self::from_hex), `FromStr`): text behaves the same on SQLite and
/// PostgreSQL, can be read in a SQL shell, and indexes well. The raw bytes are there for
/// a store that prefers a binary column ([`as_bytes`](Self::as_bytes),
/// [`from_bytes`](Self::from_bytes)).
///
/// Equality (`==` and [`ConstantTimeEq`]) takes the same time wherever the hashes first
/// differ. A hash is not secret (a token cannot be recovered from it), so `Debug` and
/// `Display` show it.
#[derive(Clone, Copy)]
pub struct TokenHash([u8; TokenHash::LEN]);

impl TokenHash {
    /// Length of a hash in bytes.
    pub const LEN: usize = 32;

    /// Length of a hash in hex characters.
    pub const HEX_LEN: usize = 2 * Self::LEN;

    /// Validates a presented value as a token of `kind` (as [`SecretToken::parse`](crate::SecretToken::parse) does)
    /// and returns its hash, without copying the secret. This is the verification path:
    /// look the result up, then compare the stored hash with it.
    ///
    /// # Errors
    ///
    /// A [`TokenFormatError`] if the value is not a well-formed token of `kind`.
    pub fn of_presented(kind: SecretKind, presented: &str) -> Result<TokenHash, TokenFormatError> {
        validate(kind, presented)?;
        Ok(TokenHash::digest(presented))
    }

    /// The SHA-256 of `text` as given.
    pub(crate) fn digest(text: &str) -> TokenHash {
        TokenHash(Sha256::digest(text.as_bytes()).into())
    }

    /// A hash from its raw bytes (as read from a binary column).
    #[must_use]
    pub const fn from_bytes(bytes: [u8; TokenHash::LEN]) -> TokenHash {
        TokenHash(bytes)
    }

    /// The raw bytes.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; TokenHash::LEN] {
        &self.0
    }

    /// The 64-character lowercase hex form, for storage.
    #[must_use]
    pub fn to_hex(&self) -> String {
        self.to_string()
    }

    /// Parses the hex form. Accepts upper or lower case; [`to_hex`](Self::to_hex) writes
    /// lower case.
    ///
    /// # Errors
    ///
    /// [`HashParseError`] if the text is not exactly 64 hex digits.
    pub fn from_hex(hex: &str) -> Result<TokenHash, HashParseError> {
        if hex.len() != Self::HEX_LEN {
            return Err(HashParseError::WrongLength {
                actual: hex.chars().count(),
            });
        }
        let mut bytes = [0u8; TokenHash::LEN];
        for (index, (byte, pair)) in bytes
            .iter_mut()
            .zip(hex.as_bytes().chunks_exact(2))
            .enumerate()
        {
            let &[high, low] = pair else {
                return Err(HashParseError::WrongLength {
                    actual: hex.chars().count(),
                });
            };
            let digit = |offset: usize, c: u8| {
                hex_value(c).ok_or(HashParseError::InvalidCharacter {
                    position: 2 * index + offset + 1,
                })
            };
            *byte = (digit(0, high)? << 4) | digit(1, low)?;
        }
        Ok(TokenHash(bytes))
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl From<[u8; TokenHash::LEN]> for TokenHash {
    fn from(bytes: [u8; TokenHash::LEN]) -> TokenHash {
        TokenHash(bytes)
    }
}

impl ConstantTimeEq for TokenHash {
    fn ct_eq(&self, other: &TokenHash) -> Choice {
        self.0.ct_eq(&other.0)
    }
}

impl PartialEq for TokenHash {
    fn eq(&self, other: &TokenHash) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for TokenHash {}

impl Hash for TokenHash {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl fmt::Display for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in &self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({self})")
    }
}

impl FromStr for TokenHash {
    type Err = HashParseError;

    fn from_str(hex: &str) -> Result<TokenHash, HashParseError> {
        TokenHash::from_hex(hex)
    }
}

/// Why a stored text is not a token hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashParseError {
    /// Not 64 characters.
    #[error("a token hash is 64 hex digits, not {actual} characters")]
    WrongLength {
        /// Length of the text in characters.
        actual: usize,
    },
    /// A character that is not a hex digit.
    #[error("a token hash has a non-hex character at character {position}")]
    InvalidCharacter {
        /// Position of the first offending character, counting from 1.
        position: usize,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SecretToken;

    #[test]
    fn sha256_of_the_full_text() {
        // SHA-256("abc"), FIPS 180-2 test vector; `digest` hashes the text as given.
        assert_eq!(
            TokenHash::digest("abc").to_hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let (token, hash) = SecretToken::mint(SecretKind::ScimToken).unwrap();
        assert_eq!(hash, TokenHash::digest(token.expose_secret()));
        assert_eq!(hash, token.hash());
    }

    #[test]
    fn hex_round_trip() {
        let (_, hash) = SecretToken::mint(SecretKind::ScimToken).unwrap();
        let hex = hash.to_hex();
        assert_eq!(hex.len(), TokenHash::HEX_LEN);
        assert!(
            hex.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
        assert_eq!(TokenHash::from_hex(&hex).unwrap(), hash);
        assert_eq!(TokenHash::from_hex(&hex.to_uppercase()).unwrap(), hash);
        assert_eq!(hex.parse::<TokenHash>().unwrap(), hash);
        assert_eq!(format!("{hash:?}"), format!("TokenHash({hex})"));
        assert_eq!(TokenHash::from_bytes(*hash.as_bytes()), hash);
        assert_eq!(TokenHash::from(*hash.as_bytes()), hash);
    }

    #[test]
    fn hex_parse_errors() {
        let good = "0".repeat(64);
        assert_eq!(
            TokenHash::from_hex(""),
            Err(HashParseError::WrongLength { actual: 0 })
        );
        assert_eq!(
            TokenHash::from_hex(&good[1..]),
            Err(HashParseError::WrongLength { actual: 63 })
        );
        assert_eq!(
            TokenHash::from_hex(&format!("{good}0")),
            Err(HashParseError::WrongLength { actual: 65 })
        );
        for (index, bad) in [(0, "g"), (1, "+"), (62, "-"), (63, " ")] {
            let mut text = good.clone();
            text.replace_range(index..=index, bad);
            assert_eq!(
                TokenHash::from_hex(&text),
                Err(HashParseError::InvalidCharacter {
                    position: index + 1
                })
            );
        }
        // Multi-byte characters make the byte length 64 but are still rejected.
        let mut text = "0".repeat(62);
        text.push('é');
        assert!(TokenHash::from_hex(&text).is_err());
    }

    #[test]
    fn equality_is_by_value() {
        let a = TokenHash::from_bytes([1; 32]);
        let mut bytes = [1; 32];
        bytes[31] = 2;
        let b = TokenHash::from_bytes(bytes);
        assert_eq!(a, TokenHash::from_bytes([1; 32]));
        assert_ne!(a, b);
        assert!(bool::from(a.ct_eq(&TokenHash::from_bytes([1; 32]))));
        assert!(!bool::from(a.ct_eq(&b)));
    }
}
