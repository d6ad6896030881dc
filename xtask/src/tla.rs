//! The TLA+ stage: install the pinned tla-checker, check every passing config, and run every
//! mutant expecting a violation of the property its first line names.
//!
//! Layout (tla/README.md): `tla/<crate>/<Module>.tla`, passing configs in
//! `tla/<crate>/models/<Module>_<params>.cfg`, mutants in `tla/<crate>/mutants/<Module>_<bug>.cfg`
//! (first line `\* expect: <Property>`); a `<Module>.tla` inside `mutants/` is a buggy copy and
//! takes precedence for the configs that name it.
//!
//! Refinement: a config with a line `\* refinement: <Alias>` (an `INSTANCE` alias of the
//! module) is also checked with `--check-refinement <Alias>`: a model must refine it, and a
//! mutant whose expected property is that alias (`\* expect: <Alias>`) must fail with a
//! refinement violation of it.

use std::path::{Path, PathBuf};

use crate::run::{Outcome, StageResult, cmd, workspace_root};

const TLA_CHECKER_VERSION: &str = "0.24.11";
/// Explicit bounds: tla-checker exits non-zero when it hits either, so a truncated search can
/// never pass; these are far above every config's real size (see docs/verification.md).
const MAX_STATES: &str = "2000000";
const MAX_DEPTH: &str = "500";

pub(crate) fn run() -> StageResult {
    let checker = install()?;
    let mut checked = 0;
    for cfg in configs("models") {
        let (status, _) = check(&checker, &cfg)?;
        if status != "ok" {
            return Err(format!("{} failed: {status}", rel(&cfg)));
        }
        checked += 1;
    }
    for cfg in configs("mutants") {
        let expected = expected_property(&cfg)?;
        let (status, json) = check(&checker, &cfg)?;
        let refinement = refinement_alias(&std::fs::read_to_string(&cfg).unwrap_or_default());
        let wrong_kind =
            refinement.as_deref() == Some(expected.as_str()) && status != "refinement_violation";
        if status == "ok" || wrong_kind || !json.contains(&format!("\"{expected}\"")) {
            return Err(format!(
                "mutant {} must violate {expected}, got: {status}",
                rel(&cfg)
            ));
        }
        println!(
            "-- mutant {} fails as expected: {status} of {expected}",
            rel(&cfg)
        );
        checked += 1;
    }
    if checked == 0 {
        return Err("no TLA+ configs found under tla/*/models or tla/*/mutants".into());
    }
    Ok(Outcome::Passed {
        tests: Some(checked),
    })
}

/// Installs tla-checker into `target/tools` unless that exact version is already there.
/// Built without fat LTO: about 1 minute on 2 cores instead of 12.
fn install() -> Result<PathBuf, String> {
    let root = workspace_root().join("target/tools");
    let bin = root.join("bin/tla");
    let stamp = root.join(format!("tla-checker-{TLA_CHECKER_VERSION}"));
    if bin.is_file() && stamp.is_file() {
        return Ok(bin);
    }
    let version = format!("={TLA_CHECKER_VERSION}");
    cmd(
        "cargo",
        &[
            "install",
            "tla-checker",
            "--locked",
            "--version",
            &version,
            "--root",
        ],
    )
    .args(&[root.to_str().ok_or("non-UTF-8 path")?])
    .env("CARGO_PROFILE_RELEASE_LTO", "off")
    .env("CARGO_PROFILE_RELEASE_CODEGEN_UNITS", "16")
    .env("CARGO_TARGET_DIR", "target/tools-build")
    .run_ok()?;
    std::fs::write(&stamp, "").map_err(|e| e.to_string())?;
    Ok(bin)
}

/// Every `tla/*/<kind>/*.cfg`, sorted.
fn configs(kind: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(crates) = std::fs::read_dir(workspace_root().join("tla")) else {
        return found;
    };
    for dir in crates.filter_map(Result::ok).map(|e| e.path().join(kind)) {
        let Ok(files) = std::fs::read_dir(&dir) else {
            continue;
        };
        found.extend(
            files
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension() == Some("cfg".as_ref())),
        );
    }
    found.sort();
    found
}

/// The module a config checks: `<Module>_<rest>.cfg` → `<Module>.tla`, from the config's own
/// folder if a copy is there (a mutant module), else from the crate's spec folder.
fn module_for(cfg: &Path) -> Result<PathBuf, String> {
    let stem = cfg
        .file_stem()
        .and_then(|s| s.to_str())
        .ok_or("bad config name")?;
    let module = format!("{}.tla", stem.split('_').next().unwrap_or(stem));
    let dir = cfg.parent().ok_or("config without folder")?;
    [
        dir.join(&module),
        dir.parent().ok_or("config at root")?.join(&module),
    ]
    .into_iter()
    .find(|p| p.is_file())
    .ok_or_else(|| {
        format!(
            "{}: no {module} next to it or in its crate folder",
            rel(cfg)
        )
    })
}

/// The alias of a `\* refinement: <Alias>` line, if the config has one.
fn refinement_alias(cfg_text: &str) -> Option<String> {
    cfg_text.lines().find_map(|line| {
        let alias = line.trim().strip_prefix("\\* refinement:")?.trim();
        (!alias.is_empty()).then(|| alias.to_owned())
    })
}

fn expected_property(cfg: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(cfg).map_err(|e| e.to_string())?;
    let first = text.lines().next().unwrap_or_default();
    let name = first.trim().strip_prefix("\\* expect:").map(str::trim);
    name.filter(|n| !n.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| format!("{}: first line must be `\\* expect: <Property>`", rel(cfg)))
}

/// Runs the checker on one config; returns its status and its JSON report.
fn check(checker: &Path, cfg: &Path) -> Result<(String, String), String> {
    let module = module_for(cfg)?;
    let text = std::fs::read_to_string(cfg).map_err(|e| e.to_string())?;
    let mut args = vec![
        module.to_str().ok_or("non-UTF-8 path")?,
        "--config",
        cfg.to_str().ok_or("non-UTF-8 path")?,
        "--max-states",
        MAX_STATES,
        "--max-depth",
        MAX_DEPTH,
        "--json",
    ];
    if text.lines().any(|l| l.trim_start().starts_with("PROPERT")) {
        args.push("--check-liveness");
    }
    let refinement = refinement_alias(&text);
    if let Some(alias) = &refinement {
        args.extend(["--check-refinement", alias.as_str()]);
    }
    let out = cmd(checker.to_str().ok_or("non-UTF-8 path")?, &args).run()?;
    // tla-checker prints header lines before the JSON object on stdout: parse from the first `{`.
    let json = out
        .stdout
        .find('{')
        .map(|i| &out.stdout[i..])
        .unwrap_or_default();
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| format!("{}: unreadable checker output ({e})", rel(cfg)))?;
    let status = value["status"].as_str().unwrap_or("unknown").to_owned();
    let stats = &value["stats"];
    println!(
        "   {}: {status}, {} states, depth {}, {}s",
        rel(cfg),
        stats["states_explored"],
        stats["max_depth"],
        stats["elapsed_secs"]
    );
    if status == "ok" && !out.success {
        return Err(format!(
            "{}: checker exited non-zero with status ok",
            rel(cfg)
        ));
    }
    Ok((status, json.to_owned()))
}

fn rel(path: &Path) -> String {
    path.strip_prefix(workspace_root())
        .unwrap_or(path)
        .display()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::refinement_alias;

    #[test]
    fn refinement_line_names_the_alias() {
        let cfg = "\\* expect: NoSkew\n\\* refinement: Abstract\nCONSTANTS N = 2\n";
        assert_eq!(refinement_alias(cfg).as_deref(), Some("Abstract"));
    }

    #[test]
    fn no_refinement_line_means_no_check() {
        assert_eq!(
            refinement_alias("\\* expect: NoSkew\nSPECIFICATION Spec\n"),
            None
        );
        assert_eq!(refinement_alias("\\* refinement:   \n"), None);
    }
}
