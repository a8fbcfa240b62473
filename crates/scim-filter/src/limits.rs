//! Explicit resource limits for parsing untrusted filters.
//!
//! Filters arrive in URLs and request bodies from the network. The parser enforces three
//! limits and reports a clear [`crate::ParseError`] when one is exceeded, before doing any
//! work proportional to the excess:
//!
//! | limit | default | why |
//! |---|---|---|
//! | [`Limits::max_length`] | 4096 bytes | longer than any real filter; bounds all other work |
//! | [`Limits::max_depth`] | 32 levels | each `(`, `not (` and `[` nests one level; recursion is bounded by this, so hostile input (`((((…`) cannot overflow the stack |
//! | [`Limits::max_terms`] | 100 | comparisons and `pr` tests (including those inside `[...]`); bounds evaluation and SQL size |
//!
//! Okta's filters are a single `userName eq "…"` or `displayName eq "…"`; the defaults leave
//! generous room.
//!
//! The parser itself never recurses (open groups live on a heap stack). The tree it returns
//! is processed recursively (validation, evaluation, `Display`, `Clone`, `Drop`), one frame
//! or a few per nesting level, so whatever a caller configures, the depth is capped at
//! [`Limits::HARD_MAX_DEPTH`] (64). A filter at that cap is parsed, validated, evaluated,
//! printed and dropped within 256 KiB of stack even in an unoptimized build (tested);
//! threads get 2 MiB by default.

/// Parser limits. Use [`Limits::DEFAULT`] unless you have a reason not to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Maximum input length in bytes.
    pub max_length: usize,
    /// Maximum nesting of parentheses, `not (…)` and value filters `[…]`.
    /// Values above [`Limits::HARD_MAX_DEPTH`] are treated as that.
    pub max_depth: usize,
    /// Maximum number of comparisons and presence tests.
    pub max_terms: usize,
}

impl Limits {
    /// Default maximum input length: 4096 bytes.
    pub const DEFAULT_MAX_LENGTH: usize = 4096;
    /// Default maximum nesting depth: 32.
    pub const DEFAULT_MAX_DEPTH: usize = 32;
    /// Default maximum number of comparisons: 100.
    pub const DEFAULT_MAX_TERMS: usize = 100;
    /// The depth no configuration can exceed: 64.
    pub const HARD_MAX_DEPTH: usize = 64;

    /// The default limits.
    pub const DEFAULT: Self = Self {
        max_length: Self::DEFAULT_MAX_LENGTH,
        max_depth: Self::DEFAULT_MAX_DEPTH,
        max_terms: Self::DEFAULT_MAX_TERMS,
    };

    /// The depth limit actually enforced: `max_depth` capped at [`Limits::HARD_MAX_DEPTH`].
    pub fn effective_max_depth(&self) -> usize {
        self.max_depth.min(Self::HARD_MAX_DEPTH)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}
