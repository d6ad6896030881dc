//! Errors: synthetic-topology parse errors and pinning errors.

use core::fmt;

use crate::LevelKind;

/// A synthetic topology string was rejected: which token, where, and why.
///
/// ```
/// use gearset_hqueue::{ParseErrorKind, Topology};
/// let e = Topology::synthetic("numa:2 core:0").unwrap_err();
/// assert_eq!((e.token_index, e.token.as_str(), e.offset), (1, "core:0", 7));
/// assert_eq!(e.kind, ParseErrorKind::ZeroCount);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Index of the offending token among the whitespace-separated tokens (0-based).
    pub token_index: usize,
    /// The offending token's text (empty for [`ParseErrorKind::Empty`]).
    pub token: String,
    /// Byte offset of the token in the input.
    pub offset: usize,
    /// Why it was rejected.
    pub kind: ParseErrorKind,
}

/// Why a synthetic topology token was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The string has no tokens.
    Empty,
    /// A token is not `type:count` (no `:`).
    MissingColon,
    /// The type before `:` is not a known level.
    UnknownType(String),
    /// The count is not a decimal number (or does not fit in `usize`).
    BadCount(String),
    /// The count is 0.
    ZeroCount,
    /// An attribute list `(` has no closing `)`, or text follows it.
    BadAttributes,
    /// A kind that may appear only once appears again.
    Duplicate(LevelKind),
    /// A cache sits below a cache of a lower or equal level.
    CacheOrder {
        /// The level of the cache above.
        above: u8,
        /// The level of this (lower) cache.
        below: u8,
    },
    /// Only `pu` may follow `core`.
    BelowCore(LevelKind),
    /// Nothing may follow `pu`.
    AfterPu,
    /// A memory attachment (`[numa]`) is not after a level above the cores, or is not `numa`.
    BadAttachment,
    /// The string describes more than [`crate::MAX_SYNTHETIC_PUS`] PUs.
    TooManyPus,
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("empty topology description"),
            Self::MissingColon => f.write_str("expected `type:count`"),
            Self::UnknownType(t) => write!(
                f,
                "unknown level type `{t}` (expected pack, die, group, numa, l1..l5, core or pu)"
            ),
            Self::BadCount(c) => write!(f, "count `{c}` is not a decimal number"),
            Self::ZeroCount => f.write_str("count must be at least 1"),
            Self::BadAttributes => {
                f.write_str("attribute list must be `(...)` right after the count")
            }
            Self::Duplicate(k) => write!(f, "level {k} appears twice"),
            Self::CacheOrder { above, below } => {
                write!(f, "an L{below} cache cannot sit below an L{above} cache")
            }
            Self::BelowCore(k) => write!(f, "{k} cannot sit below Core (only pu may)"),
            Self::AfterPu => f.write_str("pu must be the last level"),
            Self::BadAttachment => f.write_str("`[numa]` must follow a level above the cores"),
            Self::TooManyPus => write!(f, "more than {} PUs in all", crate::MAX_SYNTHETIC_PUS),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.kind {
            ParseErrorKind::Empty => write!(f, "{}", self.kind),
            _ => write!(
                f,
                "token {} `{}` at byte {}: {}",
                self.token_index, self.token, self.offset, self.kind
            ),
        }
    }
}

impl std::error::Error for ParseError {}

/// A thread could not be pinned to a leaf's CPUs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PinError {
    /// The topology is synthetic or a flat fallback: its CPU numbers are not this machine's.
    NotThisMachine,
    /// This platform has no supported affinity call (only Linux is supported).
    Unsupported,
    /// A CPU number does not fit in the OS's CPU set (`CPU_SETSIZE`).
    CpuOutOfRange(usize),
    /// `sched_setaffinity` failed with this `errno` (for example `EINVAL`: none of the CPUs is
    /// online or allowed by the cgroup).
    Os(i32),
}

impl fmt::Display for PinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotThisMachine => {
                f.write_str("topology is synthetic or a fallback: its CPUs are not this machine's")
            }
            Self::Unsupported => f.write_str("thread pinning is only supported on Linux"),
            Self::CpuOutOfRange(c) => write!(f, "CPU {c} is beyond the OS CPU set size"),
            Self::Os(errno) => write!(f, "sched_setaffinity failed with errno {errno}"),
        }
    }
}

impl std::error::Error for PinError {}
