//! The parser for hwloc's synthetic topology syntax (the subset documented on
//! [`Topology::synthetic`](crate::Topology::synthetic)).

use crate::{
    LevelKind, MAX_SYNTHETIC_PUS,
    error::{ParseError, ParseErrorKind},
};

/// One whitespace-separated token and its byte offset.
struct Token<'a> {
    index: usize,
    offset: usize,
    text: &'a str,
}

impl Token<'_> {
    fn error(&self, kind: ParseErrorKind) -> ParseError {
        ParseError {
            token_index: self.index,
            token: self.text.to_owned(),
            offset: self.offset,
            kind,
        }
    }
}

fn tokens(s: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices().chain([(s.len(), ' ')]) {
        match (c.is_whitespace(), start) {
            (true, Some(b)) => {
                let index = out.len();
                out.push(Token {
                    index,
                    offset: b,
                    text: &s[b..i],
                });
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    out
}

/// Parses `description` into `(kind, count)` levels from the top down, always ending with `Pu`.
pub(crate) fn parse(description: &str) -> Result<Vec<(LevelKind, usize)>, ParseError> {
    let tokens = tokens(description);
    if tokens.is_empty() {
        let kind = ParseErrorKind::Empty;
        return Err(ParseError {
            token_index: 0,
            token: String::new(),
            offset: 0,
            kind,
        });
    }
    let mut levels: Vec<(LevelKind, usize)> = Vec::new();
    for token in &tokens {
        if is_attachment(token.text) {
            attach_numa(token, &mut levels)?;
            continue;
        }
        let (kind, count) = parse_level(token)?;
        check_placement(token, kind, &levels)?;
        levels.push((kind, count));
    }
    if levels.last().map(|l| l.0) != Some(LevelKind::Pu) {
        levels.push((LevelKind::Pu, 1));
    }
    let mut total: usize = 1;
    for &(_, count) in &levels {
        total = total.saturating_mul(count);
    }
    if total > MAX_SYNTHETIC_PUS {
        return Err(tokens[tokens.len() - 1].error(ParseErrorKind::TooManyPus));
    }
    Ok(levels)
}

fn is_attachment(text: &str) -> bool {
    text.starts_with('[')
}

/// `[numa]` after a level: that level's nodes each get one NUMA node below them.
fn attach_numa(token: &Token<'_>, levels: &mut Vec<(LevelKind, usize)>) -> Result<(), ParseError> {
    let inner = token
        .text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'));
    let is_numa = inner.is_some_and(|t| matches!(level_kind(t), Some(LevelKind::Numa)));
    let above_cores = levels
        .last()
        .is_some_and(|l| !matches!(l.0, LevelKind::Core | LevelKind::Pu | LevelKind::Numa));
    if !is_numa || !above_cores {
        return Err(token.error(ParseErrorKind::BadAttachment));
    }
    if levels.iter().any(|l| l.0 == LevelKind::Numa) {
        return Err(token.error(ParseErrorKind::Duplicate(LevelKind::Numa)));
    }
    levels.push((LevelKind::Numa, 1));
    Ok(())
}

fn parse_level(token: &Token<'_>) -> Result<(LevelKind, usize), ParseError> {
    let (ty, rest) = token
        .text
        .split_once(':')
        .ok_or_else(|| token.error(ParseErrorKind::MissingColon))?;
    let kind = level_kind(ty).ok_or_else(|| token.error(ParseErrorKind::UnknownType(ty.into())))?;
    let digits_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (digits, attrs) = rest.split_at(digits_end);
    let well_formed =
        attrs.is_empty() || (attrs.len() >= 2 && attrs.starts_with('(') && attrs.ends_with(')'));
    if !well_formed {
        return Err(match digits.is_empty() || !attrs.starts_with('(') {
            true => token.error(ParseErrorKind::BadCount(rest.into())),
            false => token.error(ParseErrorKind::BadAttributes),
        });
    }
    let count: usize = digits
        .parse()
        .map_err(|_| token.error(ParseErrorKind::BadCount(digits.into())))?;
    if count == 0 {
        return Err(token.error(ParseErrorKind::ZeroCount));
    }
    Ok((kind, count))
}

/// hwloc's type names, case-insensitive.
fn level_kind(ty: &str) -> Option<LevelKind> {
    let ty = ty.to_ascii_lowercase();
    let kind = match ty.as_str() {
        "pack" | "package" | "socket" => LevelKind::Package,
        "die" => LevelKind::Die,
        "group" => LevelKind::Group,
        "numa" | "node" | "numanode" => LevelKind::Numa,
        "core" => LevelKind::Core,
        "pu" => LevelKind::Pu,
        _ => return cache_kind(&ty),
    };
    Some(kind)
}

/// `l2`, `l2cache`, `l1d`, `l1dcache`, `l3u`, `l3ucache` (instruction caches are not levels).
fn cache_kind(ty: &str) -> Option<LevelKind> {
    let rest = ty.strip_prefix('l')?;
    let level = rest.chars().next()?.to_digit(10)?;
    let suffix = &rest[1..];
    let known = ["", "cache", "d", "dcache", "u", "ucache"].contains(&suffix);
    ((1..=5).contains(&level) && known).then_some(LevelKind::Cache(level as u8))
}

/// Checks that `kind` may follow `above`.
fn check_placement(
    token: &Token<'_>,
    kind: LevelKind,
    above: &[(LevelKind, usize)],
) -> Result<(), ParseError> {
    let has = |k: LevelKind| above.iter().any(|l| l.0 == k);
    if has(LevelKind::Pu) {
        return Err(token.error(ParseErrorKind::AfterPu));
    }
    if has(LevelKind::Core) && kind != LevelKind::Pu {
        return Err(token.error(ParseErrorKind::BelowCore(kind)));
    }
    if kind != LevelKind::Group && has(kind) {
        return Err(token.error(ParseErrorKind::Duplicate(kind)));
    }
    if let LevelKind::Cache(below) = kind {
        let lowest = above.iter().rev().find_map(|l| match l.0 {
            LevelKind::Cache(n) => Some(n),
            _ => None,
        });
        if let Some(above) = lowest.filter(|&a| a <= below) {
            return Err(token.error(ParseErrorKind::CacheOrder { above, below }));
        }
    }
    Ok(())
}

/// The canonical spelling of parsed levels (`[numa]` attachments become explicit `numa:1`).
pub(crate) fn normalize(levels: &[(LevelKind, usize)]) -> String {
    let names: Vec<String> = levels
        .iter()
        .map(|&(kind, count)| {
            let name = match kind {
                LevelKind::Cache(n) => format!("l{n}"),
                LevelKind::Package => "pack".into(),
                other => other.to_string().to_ascii_lowercase(),
            };
            format!("{name}:{count}")
        })
        .collect();
    names.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Topology;

    fn err(s: &str) -> ParseError {
        Topology::synthetic(s).unwrap_err()
    }

    #[test]
    fn accepts_hwloc_spellings() {
        let t = Topology::synthetic(
            "Package:2 [NUMANode] L3Cache:2(size=16777216) L2Cache:4 Core:1 PU:2",
        )
        .unwrap();
        assert_eq!(t.leaf_count(), 16);
        assert_eq!(t.cpus().len(), 32);
        let t = Topology::synthetic("  socket:1\tl1d:2  pu:1 ").unwrap();
        assert_eq!(t.leaf_count(), 2);
    }

    #[test]
    fn each_error_names_its_token() {
        assert_eq!(err("").kind, ParseErrorKind::Empty);
        assert_eq!(err("   ").to_string(), "empty topology description");
        let e = err("numa:2 core4");
        assert_eq!(
            (e.token_index, e.offset, e.kind),
            (1, 7, ParseErrorKind::MissingColon)
        );
        assert_eq!(err("cpu:2").kind, ParseErrorKind::UnknownType("cpu".into()));
        assert_eq!(err("l6:2").kind, ParseErrorKind::UnknownType("l6".into()));
        assert_eq!(err("core:x").kind, ParseErrorKind::BadCount("x".into()));
        assert_eq!(err("core:").kind, ParseErrorKind::BadCount("".into()));
        assert_eq!(
            err("core:99999999999999999999999").kind,
            ParseErrorKind::BadCount("99999999999999999999999".into())
        );
        assert_eq!(
            err("l3:2(size=1 core:2").kind,
            ParseErrorKind::BadAttributes
        );
        assert_eq!(
            err("numa:2 numa:2").kind,
            ParseErrorKind::Duplicate(LevelKind::Numa)
        );
        assert_eq!(
            err("core:2 l2:1").kind,
            ParseErrorKind::BelowCore(LevelKind::Cache(2))
        );
        assert_eq!(err("pu:2 core:2").kind, ParseErrorKind::AfterPu);
        assert_eq!(
            err("l2:2 l2:2").kind,
            ParseErrorKind::Duplicate(LevelKind::Cache(2))
        );
        assert_eq!(err("[numa] core:2").kind, ParseErrorKind::BadAttachment);
        assert_eq!(
            err("pack:2 [l3] core:2").kind,
            ParseErrorKind::BadAttachment
        );
        assert_eq!(
            err("numa:2 pack:2 [numa]").kind,
            ParseErrorKind::Duplicate(LevelKind::Numa)
        );
        let e = err("pack:64 core:64 pu:64");
        assert_eq!((e.token_index, e.kind), (2, ParseErrorKind::TooManyPus));
    }

    #[test]
    fn normalizes_attachments_and_implicit_pus() {
        let levels = parse("pack:2 [numa] l3:2 core:4").unwrap();
        assert_eq!(normalize(&levels), "pack:2 numa:1 l3:2 core:4 pu:1");
        let levels = parse("group:2 group:2 pu:3").unwrap();
        assert_eq!(normalize(&levels), "group:2 group:2 pu:3");
    }
}
