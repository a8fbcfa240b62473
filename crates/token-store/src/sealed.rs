//! Secrets encrypted at rest: AES-256-GCM under a [`KeyRing`].
//!
//! What it knows: how an Okta client secret (or any short secret text) becomes a
//! [`Sealed`] value — the id of the key that sealed it plus `version ‖ nonce ‖ ciphertext
//! ‖ tag` bytes — and back. Every seal draws a fresh random 96-bit nonce from the
//! operating system. A *context* (e.g. the tenant id) is bound in as associated data, so a
//! sealed value copied to another tenant's row no longer opens.
//!
//! Keys rotate: the ring seals with its current key and opens with any key it knows,
//! chosen by the key id stored beside the ciphertext (the first 8 hex characters of the
//! key's SHA-256: it names the key without revealing it).
//!
//! What it does not know: where keys come from (configuration hands it base64 text) or
//! where sealed values are stored. No IO besides the system's randomness.
//!
//! ```
//! use token_store::sealed::{EncryptionKey, KeyRing, SecretText};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let key = EncryptionKey::from_base64("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")?;
//! let ring = KeyRing::new(key);
//! let sealed = ring.seal(&SecretText::new("okta-client-secret"), "tenant-1")?;
//! assert_eq!(sealed.key_id, *ring.current_key_id());
//! assert_eq!(ring.open(&sealed, "tenant-1")?.expose_secret(), "okta-client-secret");
//! // Another context (another tenant's row) does not open it.
//! assert!(ring.open(&sealed, "tenant-2").is_err());
//! # Ok(())
//! # }
//! ```

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rand::TryRngCore as _;
use rand::rngs::OsRng;
use sha2::{Digest as _, Sha256};

/// Length of an encryption key in bytes (AES-256).
pub const KEY_BYTES: usize = 32;

/// Length of the random nonce of every seal, in bytes (96 bits, GCM's native size).
pub const NONCE_BYTES: usize = 12;

/// Length of GCM's authentication tag, in bytes.
pub const TAG_BYTES: usize = 16;

/// The format version, the first byte of every sealed value.
const FORMAT_VERSION: u8 = 1;

/// A domain separator mixed into the associated data, so these ciphertexts cannot be
/// confused with another use of the same key.
const AAD_PREFIX: &[u8] = b"spark-sealed-v1\0";

/// What sealing or opening can fail with. Messages say what is wrong and how to fix it,
/// and never contain a key or a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The configured key is not base64.
    #[error(
        "the encryption key is not valid base64; set secrets.encryption_key to the base64 of \
         32 random bytes (e.g. `openssl rand -base64 32`)"
    )]
    KeyNotBase64,
    /// The configured key decodes to the wrong number of bytes.
    #[error(
        "the encryption key is {0} bytes long, but AES-256 needs exactly 32; set \
         secrets.encryption_key to the base64 of 32 random bytes (e.g. `openssl rand -base64 32`)"
    )]
    KeyWrongLength(usize),
    /// The value was sealed with a key this ring does not have.
    #[error(
        "the secret was encrypted with key `{0}`, which is not configured; add that key to the \
         key ring (as a previous key) or enter the secret again"
    )]
    UnknownKey(String),
    /// The stored bytes are not a sealed value of this format.
    #[error("the encrypted secret is corrupt: {0}")]
    Corrupt(&'static str),
    /// Authentication failed: the bytes were altered, the key material differs from the
    /// one that sealed them, or they belong to another context.
    #[error(
        "the encrypted secret does not authenticate: it was altered, belongs to another \
         record, or the key with its id has changed"
    )]
    Tampered,
    /// The opened plaintext is not UTF-8 text.
    #[error("the decrypted secret is not UTF-8 text")]
    NotText,
    /// The operating system could not provide randomness for a nonce.
    #[error("the operating system could not provide randomness for encryption")]
    Randomness,
}

/// A key's public name: the first 8 lowercase hex characters of its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyId(String);

impl KeyId {
    /// A key id as stored beside a ciphertext.
    pub fn from_stored(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One AES-256 key. Its `Debug` shows only its [`KeyId`].
#[derive(Clone)]
pub struct EncryptionKey {
    id: KeyId,
    cipher: Aes256Gcm,
}

impl fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptionKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl EncryptionKey {
    /// A key from the base64 text of 32 bytes (`secrets.encryption_key`). Surrounding
    /// whitespace is ignored; standard or URL-safe alphabet, padded or not.
    ///
    /// # Errors
    /// [`SealError::KeyNotBase64`] or [`SealError::KeyWrongLength`].
    pub fn from_base64(text: &str) -> Result<Self, SealError> {
        let text = text.trim();
        let bytes = STANDARD
            .decode(text)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(text))
            .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(text))
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text))
            .map_err(|_| SealError::KeyNotBase64)?;
        Self::from_bytes(&bytes)
    }

    /// A key from its raw bytes.
    ///
    /// # Errors
    /// [`SealError::KeyWrongLength`] unless there are exactly 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealError> {
        let array: &[u8; KEY_BYTES] = bytes
            .try_into()
            .map_err(|_| SealError::KeyWrongLength(bytes.len()))?;
        Ok(Self::from_array(array))
    }

    fn from_array(bytes: &[u8; KEY_BYTES]) -> Self {
        let cipher = Aes256Gcm::new(&(*bytes).into());
        let id = Sha256::digest(bytes)
            .iter()
            .take(4)
            .map(|b| format!("{b:02x}"))
            .collect::<String>();
        Self {
            id: KeyId(id),
            cipher,
        }
    }

    /// A fixed, publicly known key for local development and tests only, for when no
    /// `secrets.encryption_key` is configured and insecure http is allowed. Anyone can
    /// derive it: it protects nothing. Callers must warn when they use it.
    pub fn insecure_development_key() -> Self {
        let bytes: [u8; KEY_BYTES] =
            Sha256::digest(b"spark insecure development key: never use in production").into();
        Self::from_array(&bytes)
    }

    /// This key's id.
    pub fn id(&self) -> &KeyId {
        &self.id
    }
}

/// The keys one process knows: the current one seals, any of them opens.
#[derive(Debug, Clone)]
pub struct KeyRing {
    current: EncryptionKey,
    previous: Vec<EncryptionKey>,
}

impl KeyRing {
    /// A ring with one key.
    pub fn new(current: EncryptionKey) -> Self {
        Self {
            current,
            previous: Vec::new(),
        }
    }

    /// Adds a retired key that can still open what it sealed.
    #[must_use]
    pub fn with_previous(mut self, key: EncryptionKey) -> Self {
        if key.id != self.current.id && !self.previous.iter().any(|k| k.id == key.id) {
            self.previous.push(key);
        }
        self
    }

    /// The id of the key new seals use.
    pub fn current_key_id(&self) -> &KeyId {
        &self.current.id
    }

    /// Encrypts `secret` with the current key and a fresh random nonce, bound to
    /// `context` (e.g. the tenant id of the row it is stored in).
    ///
    /// # Errors
    /// [`SealError::Randomness`] when the system has no randomness to give.
    pub fn seal(&self, secret: &SecretText, context: &str) -> Result<Sealed, SealError> {
        let mut nonce = [0u8; NONCE_BYTES];
        OsRng
            .try_fill_bytes(&mut nonce)
            .map_err(|_| SealError::Randomness)?;
        let aad = associated_data(context);
        let ciphertext = self
            .current
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: secret.0.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| SealError::Corrupt("the secret is too long to encrypt"))?;
        let mut bytes = Vec::with_capacity(1 + NONCE_BYTES + ciphertext.len());
        bytes.push(FORMAT_VERSION);
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&ciphertext);
        Ok(Sealed {
            key_id: self.current.id.clone(),
            bytes,
        })
    }

    /// Decrypts a sealed value with the key its id names, checking it was sealed for
    /// `context` and not altered.
    ///
    /// # Errors
    /// [`SealError::UnknownKey`], [`SealError::Corrupt`], [`SealError::Tampered`] or
    /// [`SealError::NotText`].
    pub fn open(&self, sealed: &Sealed, context: &str) -> Result<SecretText, SealError> {
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|k| k.id == sealed.key_id)
            .ok_or_else(|| SealError::UnknownKey(sealed.key_id.0.clone()))?;
        let (version, rest) = sealed
            .bytes
            .split_first()
            .ok_or(SealError::Corrupt("it is empty"))?;
        if *version != FORMAT_VERSION {
            return Err(SealError::Corrupt("unknown format version"));
        }
        if rest.len() < NONCE_BYTES + TAG_BYTES {
            return Err(SealError::Corrupt("it is too short"));
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_BYTES);
        let aad = associated_data(context);
        let plaintext = key
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| SealError::Tampered)?;
        String::from_utf8(plaintext)
            .map(SecretText)
            .map_err(|_| SealError::NotText)
    }

    /// Whether `sealed` should be sealed again with the current key (it names another).
    pub fn needs_reseal(&self, sealed: &Sealed) -> bool {
        sealed.key_id != self.current.id
    }
}

fn associated_data(context: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(AAD_PREFIX.len() + context.len());
    aad.extend_from_slice(AAD_PREFIX);
    aad.extend_from_slice(context.as_bytes());
    aad
}

/// An encrypted secret as stored: the id of the key that sealed it and the bytes
/// `version ‖ nonce ‖ ciphertext ‖ tag`. Not secret, but its `Debug` shows only the key
/// id and the length.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    /// The key that sealed it.
    pub key_id: KeyId,
    /// The sealed bytes.
    pub bytes: Vec<u8>,
}

impl fmt::Debug for Sealed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sealed")
            .field("key_id", &self.key_id)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// A plaintext secret (an Okta client secret). Not `Display`; its `Debug` is redacted;
/// [`expose_secret`](Self::expose_secret) is the one way to the text.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretText(String);

impl SecretText {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret text: hand it to the OIDC client, never log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretText(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="; // "0123456789abcdef" x2
    fn key_b() -> EncryptionKey {
        EncryptionKey::from_bytes(&[7u8; KEY_BYTES]).unwrap()
    }

    #[test]
    fn round_trips_and_binds_the_context() {
        let ring = KeyRing::new(EncryptionKey::from_base64(KEY_A).unwrap());
        let secret = SecretText::new("s3cr3t-ÿ");
        let sealed = ring.seal(&secret, "tenant-1").unwrap();
        assert_eq!(ring.open(&sealed, "tenant-1").unwrap(), secret);
        assert_eq!(ring.open(&sealed, "tenant-2"), Err(SealError::Tampered));
        assert_eq!(
            sealed.bytes.len(),
            1 + NONCE_BYTES + "s3cr3t-ÿ".len() + TAG_BYTES
        );
    }

    #[test]
    fn every_seal_has_a_fresh_nonce() {
        let ring = KeyRing::new(key_b());
        let secret = SecretText::new("same");
        let a = ring.seal(&secret, "t").unwrap();
        let b = ring.seal(&secret, "t").unwrap();
        assert_ne!(a.bytes, b.bytes);
        assert_ne!(
            a.bytes.get(1..1 + NONCE_BYTES),
            b.bytes.get(1..1 + NONCE_BYTES)
        );
    }

    #[test]
    fn any_altered_byte_is_detected() {
        let ring = KeyRing::new(key_b());
        let sealed = ring.seal(&SecretText::new("secret"), "t").unwrap();
        for i in 1..sealed.bytes.len() {
            let mut tampered = sealed.clone();
            if let Some(byte) = tampered.bytes.get_mut(i) {
                *byte ^= 0x01;
            }
            assert_eq!(
                ring.open(&tampered, "t"),
                Err(SealError::Tampered),
                "byte {i}"
            );
        }
        let mut truncated = sealed.clone();
        truncated.bytes.truncate(10);
        assert!(matches!(
            ring.open(&truncated, "t"),
            Err(SealError::Corrupt(_))
        ));
        let mut version = sealed.clone();
        version.bytes[0] = 9;
        assert!(matches!(
            ring.open(&version, "t"),
            Err(SealError::Corrupt(_))
        ));
        let empty = Sealed {
            key_id: sealed.key_id.clone(),
            bytes: Vec::new(),
        };
        assert!(matches!(ring.open(&empty, "t"), Err(SealError::Corrupt(_))));
    }

    #[test]
    fn wrong_or_unknown_keys_do_not_open() {
        let a = KeyRing::new(EncryptionKey::from_base64(KEY_A).unwrap());
        let b = KeyRing::new(key_b());
        let sealed = a.seal(&SecretText::new("secret"), "t").unwrap();
        let err = b.open(&sealed, "t").unwrap_err();
        assert_eq!(err, SealError::UnknownKey(sealed.key_id.to_string()));
        assert!(err.to_string().contains(sealed.key_id.as_str()));
        // Same id, other key material (a corrupted configuration): authentication fails.
        let forged = Sealed {
            key_id: b.current_key_id().clone(),
            bytes: sealed.bytes.clone(),
        };
        assert_eq!(b.open(&forged, "t"), Err(SealError::Tampered));
    }

    #[test]
    fn keys_rotate() {
        let old = EncryptionKey::from_base64(KEY_A).unwrap();
        let old_ring = KeyRing::new(old.clone());
        let sealed_old = old_ring.seal(&SecretText::new("secret"), "t").unwrap();
        let ring = KeyRing::new(key_b()).with_previous(old);
        assert!(ring.needs_reseal(&sealed_old));
        assert_eq!(
            ring.open(&sealed_old, "t").unwrap().expose_secret(),
            "secret"
        );
        let resealed = ring.seal(&SecretText::new("secret"), "t").unwrap();
        assert_eq!(&resealed.key_id, ring.current_key_id());
        assert!(!ring.needs_reseal(&resealed));
        assert!(old_ring.open(&resealed, "t").is_err());
    }

    #[test]
    fn key_ids_are_stable_short_hashes() {
        let key = EncryptionKey::from_base64(KEY_A).unwrap();
        assert_eq!(key.id().as_str().len(), 8);
        assert!(key.id().as_str().bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(
            key.id(),
            EncryptionKey::from_base64(&format!(" {KEY_A}\n"))
                .unwrap()
                .id()
        );
        assert_ne!(key.id(), key_b().id());
        assert_eq!(
            EncryptionKey::insecure_development_key().id(),
            EncryptionKey::insecure_development_key().id()
        );
    }

    #[test]
    fn bad_keys_say_what_is_wrong() {
        assert_eq!(
            EncryptionKey::from_base64("not base64 !!").unwrap_err(),
            SealError::KeyNotBase64
        );
        let short = EncryptionKey::from_base64("c2hvcnQ=").unwrap_err();
        assert_eq!(short, SealError::KeyWrongLength(5));
        assert!(short.to_string().contains("exactly 32"));
    }

    #[test]
    fn nothing_secret_in_debug() {
        let key = EncryptionKey::from_base64(KEY_A).unwrap();
        let ring = KeyRing::new(key.clone());
        let secret = SecretText::new("hunter2");
        let sealed = ring.seal(&secret, "t").unwrap();
        for text in [
            format!("{key:?}"),
            format!("{ring:?}"),
            format!("{secret:?}"),
            format!("{sealed:?}"),
        ] {
            assert!(!text.contains("hunter2"), "{text}");
            assert!(!text.contains("0123456789"), "{text}");
            assert!(!text.contains(KEY_A), "{text}");
        }
    }
}
