//! RFC 9865 cursors: opaque, tamper-evident page positions. A cursor names the tenant,
//! the query it continues (a fingerprint of filter and sort), where the next page starts,
//! and when it expires, signed with HMAC-SHA256 so a changed byte is refused as
//! `invalidCursor` and an old one as `expiredCursor`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Where a page starts, as a cursor carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Position {
    /// After this user id (id order).
    #[serde(rename = "a")]
    AfterId(String),
    /// Skip this many (any other order).
    #[serde(rename = "o")]
    Offset(u64),
}

#[derive(Serialize, Deserialize)]
struct Payload {
    /// Tenant id.
    t: String,
    /// Query fingerprint.
    q: String,
    /// Position.
    p: Position,
    /// Expiry, seconds since the epoch.
    e: i64,
}

/// Why a cursor is refused.
#[derive(Debug, PartialEq, Eq)]
pub enum CursorError {
    /// Not one of ours, altered, or for another tenant or query.
    Invalid,
    /// Ours, but too old.
    Expired,
}

/// Signs and checks cursors with one key.
#[derive(Clone)]
pub struct CursorCodec {
    /// The HMAC key, zero-padded to SHA-256's block size as HMAC pads it anyway.
    key: [u8; 64],
    lifetime_secs: i64,
}

/// A fingerprint of everything that defines a result set besides its position.
pub fn query_fingerprint(filter: Option<&str>, sort_by: Option<&str>, descending: bool) -> String {
    let mut hash = Sha256::new();
    for part in [
        filter.unwrap_or(""),
        "\u{0}",
        sort_by.unwrap_or(""),
        "\u{0}",
    ] {
        hash.update(part.as_bytes());
    }
    hash.update([u8::from(descending)]);
    let digest = hash.finalize();
    URL_SAFE_NO_PAD.encode(digest.get(..12).unwrap_or_default())
}

impl CursorCodec {
    /// A codec whose key is derived from `secret` (the deployment's encryption key, so
    /// every replica accepts every other replica's cursors).
    pub fn new(secret: &[u8], lifetime_secs: u32) -> Self {
        let mut hash = Sha256::new();
        hash.update(b"spark scim cursor key v1\0");
        hash.update(secret);
        let mut key = [0u8; 64];
        for (slot, byte) in key.iter_mut().zip(hash.finalize()) {
            *slot = byte;
        }
        Self {
            key,
            lifetime_secs: i64::from(lifetime_secs),
        }
    }

    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as hmac::digest::KeyInit>::new(&self.key.into())
    }

    /// A cursor for the page starting at `position`.
    pub fn encode(&self, tenant: &str, fingerprint: &str, position: Position, now: i64) -> String {
        let payload = Payload {
            t: tenant.to_owned(),
            q: fingerprint.to_owned(),
            p: position,
            e: now + self.lifetime_secs,
        };
        let body = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap_or_default());
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{body}.{tag}")
    }

    /// The position a cursor names, if it is ours, unaltered, for this tenant and query,
    /// and not expired.
    pub fn decode(
        &self,
        cursor: &str,
        tenant: &str,
        fingerprint: &str,
        now: i64,
    ) -> Result<Position, CursorError> {
        let (body, tag) = cursor.split_once('.').ok_or(CursorError::Invalid)?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| CursorError::Invalid)?;
        let mut mac = self.mac();
        mac.update(body.as_bytes());
        mac.verify_slice(&tag).map_err(|_| CursorError::Invalid)?;
        let json = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| CursorError::Invalid)?;
        let payload: Payload = serde_json::from_slice(&json).map_err(|_| CursorError::Invalid)?;
        if payload.t != tenant || payload.q != fingerprint {
            return Err(CursorError::Invalid);
        }
        if payload.e < now {
            return Err(CursorError::Expired);
        }
        Ok(payload.p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codec() -> CursorCodec {
        CursorCodec::new(b"key", 60)
    }

    #[test]
    fn round_trips_for_the_same_tenant_and_query() {
        let q = query_fingerprint(Some("active eq true"), None, false);
        let cursor = codec().encode("t1", &q, Position::AfterId("abc".into()), 1_000);
        assert_eq!(
            codec().decode(&cursor, "t1", &q, 1_000),
            Ok(Position::AfterId("abc".into()))
        );
    }

    #[test]
    fn refuses_tampering_other_tenants_other_queries_and_age() {
        let q = query_fingerprint(None, None, false);
        let cursor = codec().encode("t1", &q, Position::Offset(100), 1_000);
        let mut bytes = cursor.clone().into_bytes();
        bytes[3] ^= 1;
        let tampered = String::from_utf8(bytes).unwrap();
        assert_eq!(
            codec().decode(&tampered, "t1", &q, 1_000),
            Err(CursorError::Invalid)
        );
        assert_eq!(
            codec().decode(&cursor, "t2", &q, 1_000),
            Err(CursorError::Invalid)
        );
        let other = query_fingerprint(Some("x pr"), None, false);
        assert_eq!(
            codec().decode(&cursor, "t1", &other, 1_000),
            Err(CursorError::Invalid)
        );
        assert_eq!(
            codec().decode(&cursor, "t1", &q, 1_061),
            Err(CursorError::Expired)
        );
        assert_eq!(
            CursorCodec::new(b"other", 60).decode(&cursor, "t1", &q, 1_000),
            Err(CursorError::Invalid)
        );
        for junk in ["", ".", "abc", "a.b", "%%%.###"] {
            assert_eq!(
                codec().decode(junk, "t1", &q, 1_000),
                Err(CursorError::Invalid)
            );
        }
    }
}
