//! The stages that are a few cargo commands each.

use crate::{
    models,
    run::{Outcome, StageResult, cmd, workspace_root},
    tla,
};

/// A stage by its command-line name (`bench` and `ci` are handled in `main`).
pub(crate) fn by_name(name: &str) -> Option<fn() -> StageResult> {
    Some(match name {
        "fmt" => fmt,
        "clippy" => clippy,
        "test" => test,
        "doc" => doc,
        "msrv" => msrv,
        "loom" => models::loom,
        "shuttle" => models::shuttle,
        "conformance" => models::conformance,
        "miri" => miri,
        "tla" => tla::run,
        "package" => package,
        _ => return None,
    })
}

/// The publishable crates: every folder under `primitives/`, as `gearset-<folder>`.
pub(crate) fn primitives() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(workspace_root().join("primitives"))
        .expect("primitives/ exists")
        .filter_map(Result::ok)
        .filter(|e| e.path().join("Cargo.toml").is_file())
        .map(|e| format!("gearset-{}", e.file_name().to_string_lossy()))
        .collect();
    names.sort();
    names
}

fn package_args(packages: &[String]) -> Vec<&str> {
    packages.iter().flat_map(|p| ["-p", p.as_str()]).collect()
}

fn fmt() -> StageResult {
    cmd("cargo", &["fmt", "--all", "--", "--check"]).run_ok()?;
    Ok(Outcome::Passed { tests: None })
}

fn clippy() -> StageResult {
    cmd(
        "cargo",
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )
    .run_ok()?;
    // The facade rule (clippy.toml): under loom a facade type is loom's, so any std atomic,
    // thread or cell left in a primitive is a bypass that would escape the model checkers.
    let primitives = primitives();
    cmd("cargo", &["clippy", "--lib"])
        .args(&package_args(&primitives))
        .args(&["--target-dir", "target/loom", "--"])
        .args(&[
            "-D",
            "clippy::disallowed_types",
            "-D",
            "clippy::disallowed_methods",
        ])
        .env("RUSTFLAGS", "--cfg gearset_loom")
        .run_ok()?;
    Ok(Outcome::Passed { tests: None })
}

fn test() -> StageResult {
    // --all-targets also builds the benches and runs each once (criterion's test mode), so
    // they keep compiling and their sanity checks run.
    let all = cmd("cargo", &["test", "--workspace", "--all-targets"]).run_ok()?;
    let doc = cmd("cargo", &["test", "--workspace", "--doc"]).run_ok()?;
    Ok(Outcome::Passed {
        tests: Some(all.tests_passed() + doc.tests_passed()),
    })
}

fn doc() -> StageResult {
    cmd("cargo", &["doc", "--workspace", "--no-deps"])
        .env("RUSTDOCFLAGS", "-D warnings")
        .run_ok()?;
    Ok(Outcome::Passed { tests: None })
}

/// The primitives' libraries build with the `rust-version` the workspace promises. The
/// toolchain is installed by rustup if missing (minimal profile); without it the stage says
/// SKIPPED, loudly.
fn msrv() -> StageResult {
    let manifest =
        std::fs::read_to_string(workspace_root().join("Cargo.toml")).map_err(|e| e.to_string())?;
    let version = manifest
        .lines()
        .find_map(|l| l.trim().strip_prefix("rust-version")?.split('"').nth(1))
        .ok_or("no rust-version in the workspace manifest")?
        .to_owned();
    let install = cmd(
        "rustup",
        &["toolchain", "install", &version, "--profile", "minimal"],
    );
    if let Err(why) = install.run_ok() {
        return Ok(Outcome::Skipped(format!(
            "Rust {version} cannot be installed here: {why}"
        )));
    }
    let toolchain = format!("+{version}");
    cmd(
        "cargo",
        &[&toolchain, "check", "--lib", "--target-dir", "target/msrv"],
    )
    .args(&package_args(&primitives()))
    .run_ok()?;
    Ok(Outcome::Passed { tests: None })
}

/// Unit and integration tests of every primitive under Miri, on the nightly toolchain the
/// machine has (rustup cannot fetch another one offline). Skipped, loudly, without Miri.
fn miri() -> StageResult {
    let install = cmd(
        "rustup",
        &[
            "component",
            "add",
            "--toolchain",
            "nightly",
            "miri",
            "rust-src",
        ],
    );
    if let Err(why) = install.run_ok() {
        return Ok(Outcome::Skipped(format!(
            "nightly Miri cannot be installed here: {why}"
        )));
    }
    // -Zmiri-disable-isolation: proptest reads the working directory and the timeout tests
    // read the clock (tokio runs Miri with it too). Two seeds: Miri's scheduler and its
    // weak-memory emulation pick differently per seed. Every suite runs, gearset-sched's
    // dataflow proptests included (about 2 minutes per seed; they scale their cases and
    // counts down under `cfg!(miri)`).
    let out = cmd("cargo", &["+nightly", "miri", "test", "--lib", "--tests"])
        .args(&package_args(&primitives()))
        .args(&["--target-dir", "target/miri"])
        .env(
            "MIRIFLAGS",
            "-Zmiri-disable-isolation -Zmiri-strict-provenance -Zmiri-many-seeds=0..2",
        )
        .run_ok()?;
    let passed = out.tests_passed();
    Ok(Outcome::Passed {
        tests: Some(passed),
    })
}

fn package() -> StageResult {
    forget_stale_package_sources()?;
    cmd("cargo", &["package", "--workspace", "--allow-dirty"]).run_ok()?;
    Ok(Outcome::Passed { tests: None })
}

/// Removes the sources cargo unpacked from an earlier `cargo package --workspace`.
///
/// To verify a crate that depends on another of ours, cargo serves the freshly packaged
/// tarballs from a local registry under `target/package/` and unpacks them into
/// `$CARGO_HOME/registry/src/-<hash of that path>/`. It skips the unpacking when that folder
/// is already there, so a machine that keeps `$CARGO_HOME` between runs from the same path
/// verifies against last run's `gearset-sync` (a CI run failed this way: `CAN_SLEEP` not
/// found). None of our crates comes from crates.io, so every `gearset-*` folder there is
/// such a leftover.
fn forget_stale_package_sources() -> Result<(), String> {
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cargo")));
    let Some(sources) = home.map(|h| h.join("registry").join("src")) else {
        return Ok(());
    };
    let ours = primitives();
    for registry in std::fs::read_dir(&sources).into_iter().flatten().flatten() {
        for unpacked in std::fs::read_dir(registry.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = unpacked.file_name().to_string_lossy().into_owned();
            if ours
                .iter()
                .any(|crate_name| name.starts_with(&format!("{crate_name}-")))
            {
                eprintln!(
                    "package: removing stale unpacked {}",
                    unpacked.path().display()
                );
                std::fs::remove_dir_all(unpacked.path())
                    .map_err(|e| format!("removing {}: {e}", unpacked.path().display()))?;
            }
        }
    }
    Ok(())
}
