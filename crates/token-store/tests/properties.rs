//! Property tests of the token format through the public API: parsing never panics,
//! and the checksum catches every single-character typo and neighbour swap.

use proptest::prelude::*;
use token_store::scim::validate_label;
use token_store::{SecretKind, SecretToken, TokenFormatError, TokenHash};

fn any_kind() -> impl Strategy<Value = SecretKind> {
    proptest::sample::select(SecretKind::ALL.to_vec())
}

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Every way of parsing `value`, none of which may panic; returns whether any kind
/// accepted it.
fn parse_every_way(value: &str) -> bool {
    let mut accepted = false;
    for kind in SecretKind::ALL {
        let parsed = SecretToken::parse(kind, value);
        let hashed = TokenHash::of_presented(kind, value);
        assert_eq!(parsed.is_ok(), hashed.is_ok());
        match (parsed, hashed) {
            (Ok(token), Ok(hash)) => {
                assert_eq!(token.hash(), hash);
                accepted = true;
            }
            (Err(a), Err(b)) => {
                assert_eq!(a, b);
                assert_eq!(a.expected(), kind);
                assert!(!a.to_string().is_empty());
            }
            _ => unreachable!(),
        }
    }
    let _ = SecretKind::detect(value);
    let _ = value.parse::<TokenHash>();
    let _ = validate_label(value);
    accepted
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_strings_never_panic(value in any::<String>()) {
        prop_assert!(!parse_every_way(&value));
    }

    #[test]
    fn prefixed_arbitrary_strings_never_panic(kind in any_kind(), rest in any::<String>()) {
        let value = format!("{}{rest}", kind.prefix());
        parse_every_way(&value);
    }

    #[test]
    fn random_bodies_of_the_right_shape_fail_the_checksum(
        kind in any_kind(),
        body in proptest::collection::vec(proptest::sample::select(ALPHABET), 52),
    ) {
        let value = format!("{}{}", kind.prefix(), String::from_utf8(body).unwrap());
        // A random body passes the 32-bit checksum with probability 2^-32.
        prop_assert_eq!(
            SecretToken::parse(kind, &value).unwrap_err(),
            TokenFormatError::ChecksumMismatch { expected: kind }
        );
    }

    #[test]
    fn any_single_character_typo_is_caught(
        kind in any_kind(),
        index in 0usize..52,
        replacement in proptest::sample::select(ALPHABET),
    ) {
        let (token, _) = SecretToken::mint(kind).unwrap();
        let mut bytes = token.expose_secret().as_bytes().to_vec();
        let position = kind.prefix().len() + index;
        prop_assume!(bytes[position] != replacement);
        bytes[position] = replacement;
        let typo = String::from_utf8(bytes).unwrap();
        prop_assert_eq!(
            SecretToken::parse(kind, &typo).unwrap_err(),
            TokenFormatError::ChecksumMismatch { expected: kind }
        );
    }

    #[test]
    fn any_neighbour_swap_is_caught(kind in any_kind(), index in 0usize..51) {
        let (token, _) = SecretToken::mint(kind).unwrap();
        let mut bytes = token.expose_secret().as_bytes().to_vec();
        let position = kind.prefix().len() + index;
        prop_assume!(bytes[position] != bytes[position + 1]);
        bytes.swap(position, position + 1);
        let swapped = String::from_utf8(bytes).unwrap();
        prop_assert_eq!(
            SecretToken::parse(kind, &swapped).unwrap_err(),
            TokenFormatError::ChecksumMismatch { expected: kind }
        );
    }

    #[test]
    fn truncation_and_extension_are_length_errors(kind in any_kind(), cut in 1usize..52, extra in "[A-Za-z0-9_-]{1,20}") {
        let (token, _) = SecretToken::mint(kind).unwrap();
        let text = token.expose_secret();
        let truncated = &text[..text.len() - cut];
        let is_length_error = |value: &str| matches!(
            SecretToken::parse(kind, value),
            Err(TokenFormatError::WrongLength { .. })
        );
        prop_assert!(is_length_error(truncated));
        let extended = format!("{text}{extra}");
        prop_assert!(is_length_error(&extended));
    }

    #[test]
    fn hex_round_trips(bytes in any::<[u8; 32]>()) {
        let hash = TokenHash::from_bytes(bytes);
        prop_assert_eq!(TokenHash::from_hex(&hash.to_hex()).unwrap(), hash);
    }
}
