//! The format of a secret token: its kind's prefix, 52 base64url characters of random
//! bytes and checksum, and the checksum over prefix and random bytes. What is wrong with
//! a presented value, said without repeating it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::checksum::crc32;
use crate::kind::{BODY_CHARS, CHECKSUM_BYTES, RAW_BYTES, SecretKind};

/// Checks that `presented` is a well-formed token of `kind`.
///
/// Reports the first problem in this order: empty, whitespace, prefix, alphabet, length,
/// checksum. A well-formed value takes one pass over its bytes before decoding; the
/// finer diagnosis (whitespace, other kinds) runs only on the error paths.
pub(crate) fn validate(kind: SecretKind, presented: &str) -> Result<(), TokenFormatError> {
    let expected = kind;
    let Some(body) = presented.strip_prefix(kind.prefix()) else {
        return Err(misprefixed(kind, presented));
    };
    // The prefix is ASCII: its length in bytes is its length in characters.
    let prefix_chars = kind.prefix().len();
    if let Some(index) = body.bytes().position(|b| !is_base64url(b)) {
        return Err(match first_whitespace(presented) {
            Some(position) => TokenFormatError::Whitespace { expected, position },
            // Every byte before `index` is ASCII (as is the prefix), so the byte offset
            // is also the character offset.
            None => TokenFormatError::InvalidCharacter {
                expected,
                position: prefix_chars + index + 1,
            },
        });
    }
    // From here on the value is ASCII: bytes and characters coincide.
    if body.len() != BODY_CHARS {
        return Err(TokenFormatError::WrongLength {
            expected,
            actual: presented.len(),
            required: kind.token_len(),
        });
    }
    let mut raw = [0u8; RAW_BYTES];
    match URL_SAFE_NO_PAD.decode_slice(body, &mut raw) {
        Ok(RAW_BYTES) => {}
        // Unreachable after the checks above (52 base64url characters are 13 whole
        // quanta), but mapped faithfully rather than assumed away.
        Err(base64::DecodeSliceError::DecodeError(
            base64::DecodeError::InvalidByte(offset, _)
            | base64::DecodeError::InvalidLastSymbol(offset, _),
        )) => {
            return Err(TokenFormatError::InvalidCharacter {
                expected,
                position: prefix_chars + offset + 1,
            });
        }
        Ok(_) | Err(_) => {
            return Err(TokenFormatError::WrongLength {
                expected,
                actual: presented.len(),
                required: kind.token_len(),
            });
        }
    }
    // Always `Some`: `raw` is a fixed-size array longer than the checksum.
    let Some((random, checksum)) = raw.split_last_chunk::<CHECKSUM_BYTES>() else {
        return Err(TokenFormatError::ChecksumMismatch { expected });
    };
    // The checksum is a public function of the presented value, so an ordinary
    // (variable-time) comparison leaks nothing about any stored secret.
    if crc32(&[kind.prefix().as_bytes(), random]) != u32::from_be_bytes(*checksum) {
        return Err(TokenFormatError::ChecksumMismatch { expected });
    }
    Ok(())
}

/// The error for a value that does not start with `kind`'s prefix.
fn misprefixed(kind: SecretKind, presented: &str) -> TokenFormatError {
    let expected = kind;
    if presented.is_empty() {
        return TokenFormatError::Empty { expected };
    }
    if let Some(position) = first_whitespace(presented) {
        return TokenFormatError::Whitespace { expected, position };
    }
    match SecretKind::detect(presented) {
        Some(found) => TokenFormatError::WrongKind { expected, found },
        None => TokenFormatError::WrongPrefix { expected },
    }
}

/// Position (counting characters from 1) of the first whitespace character.
fn first_whitespace(text: &str) -> Option<usize> {
    text.chars()
        .position(char::is_whitespace)
        .map(|index| index + 1)
}

fn is_base64url(b: u8) -> bool {
    matches!(b, b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_')
}

/// Why a presented value is not a well-formed token of the expected kind.
///
/// Messages name the expected kind, positions and lengths, never the presented
/// characters: the value may be a real secret of some other system pasted by mistake.
/// Positions count characters from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenFormatError {
    /// The value is empty.
    #[error("no {expected} was given (the value is empty)")]
    Empty {
        /// The kind the caller expected.
        expected: SecretKind,
    },
    /// The value contains whitespace (often a copy-paste slip or a line break).
    #[error(
        "the {expected} contains whitespace at character {position}; copy it again without spaces or line breaks"
    )]
    Whitespace {
        /// The kind the caller expected.
        expected: SecretKind,
        /// Position of the first whitespace character, counting from 1.
        position: usize,
    },
    /// The value is a well-prefixed token of another kind.
    #[error("this is a {found}, not a {expected}")]
    WrongKind {
        /// The kind the caller expected.
        expected: SecretKind,
        /// The kind the value's prefix names.
        found: SecretKind,
    },
    /// The value does not start with the expected kind's prefix.
    #[error("not a {expected}: a {expected} starts with `{prefix}`", prefix = .expected.prefix())]
    WrongPrefix {
        /// The kind the caller expected.
        expected: SecretKind,
    },
    /// After the prefix, a character outside the base64url alphabet.
    #[error(
        "the {expected} has a character other than A-Z, a-z, 0-9, `-` or `_` at character {position}"
    )]
    InvalidCharacter {
        /// The kind the caller expected.
        expected: SecretKind,
        /// Position of the first offending character, counting from 1.
        position: usize,
    },
    /// Right prefix and alphabet, wrong length: truncated or with extra characters.
    #[error(
        "the {expected} is {actual} characters long but must be exactly {required}; it was truncated or has extra characters"
    )]
    WrongLength {
        /// The kind the caller expected.
        expected: SecretKind,
        /// Length of the presented value.
        actual: usize,
        /// Length of every token of the expected kind.
        required: usize,
    },
    /// Well-formed in every way except the checksum: mistyped or altered.
    #[error("the {expected} fails its checksum; it was mistyped or altered")]
    ChecksumMismatch {
        /// The kind the caller expected.
        expected: SecretKind,
    },
}

impl TokenFormatError {
    /// The kind the caller expected.
    #[must_use]
    pub fn expected(&self) -> SecretKind {
        match *self {
            TokenFormatError::Empty { expected }
            | TokenFormatError::Whitespace { expected, .. }
            | TokenFormatError::WrongKind { expected, .. }
            | TokenFormatError::WrongPrefix { expected }
            | TokenFormatError::InvalidCharacter { expected, .. }
            | TokenFormatError::WrongLength { expected, .. }
            | TokenFormatError::ChecksumMismatch { expected } => expected,
        }
    }
}
