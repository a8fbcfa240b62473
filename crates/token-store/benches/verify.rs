//! Cost of checking a presented SCIM token, the work every SCIM request does before its
//! one indexed lookup: parse (prefix, alphabet, length, base64url, CRC-32) and SHA-256.
//!
//! Run with `cargo bench -p token-store --bench verify`.

#![allow(
    missing_docs,
    reason = "criterion_group! generates undocumented public items"
)]

use std::hint::black_box;

use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use token_store::scim::ScimTokens;
use token_store::testing::MemoryTokenRepository;
use token_store::{SecretKind, SecretToken, TenantId, TokenHash};

fn parse_and_hash(c: &mut Criterion) {
    let Ok((token, _)) = SecretToken::mint(SecretKind::ScimToken) else {
        return;
    };
    let presented = token.expose_secret().to_owned();
    let mut group = c.benchmark_group("verify");
    group.bench_function("parse_and_hash", |b| {
        b.iter(|| TokenHash::of_presented(SecretKind::ScimToken, black_box(&presented)));
    });
    group.bench_function("parse_only", |b| {
        b.iter(|| SecretToken::parse(SecretKind::ScimToken, black_box(&presented)));
    });
    // One character changed: caught by the checksum, before any hashing.
    let typo: String = presented
        .chars()
        .enumerate()
        .map(|(index, c)| match (index, c) {
            (20, 'A') => 'B',
            (20, _) => 'A',
            _ => c,
        })
        .collect();
    group.bench_function("reject_typo", |b| {
        b.iter(|| TokenHash::of_presented(SecretKind::ScimToken, black_box(&typo)));
    });
    // Where the mistake is changes nothing: the checksum covers the whole body either way.
    for (name, position) in [
        ("reject_typo_first_char", 11),
        ("reject_typo_last_char", presented.len() - 1),
    ] {
        let typo: String = presented
            .chars()
            .enumerate()
            .map(|(index, c)| match (index == position, c) {
                (true, 'A') => 'B',
                (true, _) => 'A',
                _ => c,
            })
            .collect();
        group.bench_function(name, |b| {
            b.iter(|| TokenHash::of_presented(SecretKind::ScimToken, black_box(&typo)));
        });
    }
    group.finish();
}

fn full_verify(c: &mut Criterion) {
    // The whole policy over the in-memory repository holding one token: parse, hash,
    // lookup, constant-time compare; the `last_used_at` write is throttled away.
    let tenant = TenantId::new("acme");
    let mut tokens = ScimTokens::new(MemoryTokenRepository::new());
    let Ok(minted) = tokens.mint(&tenant, "Okta", "bench", Utc::now()) else {
        return;
    };
    let presented = minted.token.into_exposed_secret();
    let now = Utc::now();
    c.bench_function("verify/memory_repository", |b| {
        b.iter(|| tokens.verify(&tenant, black_box(&presented), now).is_ok());
    });
    // A well-formed token that is not the tenant's: the same parse and hash, one lookup
    // that finds nothing. The lookup is by SHA-256, so no prefix of the stored token can
    // be approached character by character.
    let Ok((stranger, _)) = SecretToken::mint(SecretKind::ScimToken) else {
        return;
    };
    let stranger = stranger.expose_secret().to_owned();
    c.bench_function("verify/unknown_well_formed_token", |b| {
        b.iter(|| tokens.verify(&tenant, black_box(&stranger), now).is_err());
    });
}

fn authorization_header(c: &mut Criterion) {
    // Reading the token out of `Authorization`, in each form Okta sends it.
    let Ok((token, _)) = SecretToken::mint(SecretKind::ScimToken) else {
        return;
    };
    let token = token.expose_secret().to_owned();
    let mut group = c.benchmark_group("authorization");
    for (name, header) in [
        ("bearer", format!("Bearer {token}")),
        ("no_scheme", token.clone()),
        ("doubled_bearer", format!("Bearer Bearer {token}")),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| token_store::scim::scim_bearer(black_box(&header)).is_some());
        });
    }
    group.finish();
}

criterion_group!(benches, parse_and_hash, full_verify, authorization_header);
criterion_main!(benches);
