//! Running commands, timing stages, counting tests, and the summary table.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

/// How a stage ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outcome {
    Passed { tests: Option<u64> },
    Skipped(String),
    Failed,
}

/// What a stage returns: its outcome, or the reason it failed.
pub(crate) type StageResult = Result<Outcome, String>;

#[derive(Default)]
pub(crate) struct Report {
    rows: Vec<(String, Outcome, Duration)>,
}

impl Report {
    /// Runs one stage, prints its header and result, and records a row.
    pub(crate) fn stage(&mut self, name: &str, f: impl FnOnce() -> StageResult) -> bool {
        println!("\n==> stage {name}");
        let started = Instant::now();
        let outcome = match f() {
            Ok(outcome) => outcome,
            Err(why) => {
                println!("stage {name} FAILED: {why}");
                Outcome::Failed
            }
        };
        let took = started.elapsed();
        if let Outcome::Skipped(why) = &outcome {
            println!("SKIPPED: stage {name}: {why}");
        }
        println!("<== stage {name}: {} in {took:.1?}", describe(&outcome));
        let ok = outcome != Outcome::Failed;
        self.rows.push((name.to_owned(), outcome, took));
        ok
    }

    pub(crate) fn all(&self, f: impl Fn(&Outcome) -> bool) -> bool {
        self.rows.iter().all(|(_, o, _)| f(o))
    }

    pub(crate) fn print_summary(&self) {
        println!("\n| stage | result | time | tests |\n|---|---|---:|---:|");
        let mut total = 0;
        for (name, outcome, took) in &self.rows {
            let tests = match outcome {
                Outcome::Passed { tests: Some(n) } => {
                    total += n;
                    n.to_string()
                }
                _ => "-".to_owned(),
            };
            println!(
                "| {name} | {} | {:.1}s | {tests} |",
                describe(outcome),
                took.as_secs_f64()
            );
        }
        let failed = self
            .rows
            .iter()
            .filter(|(_, o, _)| *o == Outcome::Failed)
            .count();
        // The plain closing line CI readers look for.
        println!("\nxtask: {total} passed, {failed} failed");
    }
}

fn describe(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Passed { .. } => "passed".to_owned(),
        Outcome::Skipped(why) => format!("SKIPPED ({why})"),
        Outcome::Failed => "FAILED".to_owned(),
    }
}

/// A command to run from the workspace root, with extra environment.
pub(crate) struct Cmd {
    program: String,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

/// Builds a [`Cmd`] from a program and its arguments.
pub(crate) fn cmd(program: &str, args: &[&str]) -> Cmd {
    Cmd {
        program: program.to_owned(),
        args: args.iter().map(|a| (*a).to_owned()).collect(),
        env: Vec::new(),
    }
}

/// What a finished command printed and whether it succeeded.
pub(crate) struct Output {
    pub(crate) success: bool,
    /// stdout and stderr, interleaved as they arrived.
    pub(crate) text: String,
    /// stdout alone (for commands whose stdout is a report, like `tla --json`).
    pub(crate) stdout: String,
}

impl Output {
    /// Sums the "N passed" of every libtest summary line (`test result: ok. N passed; ...`).
    pub(crate) fn tests_passed(&self) -> u64 {
        self.text
            .lines()
            .filter_map(|l| l.trim().strip_prefix("test result: "))
            .filter_map(|l| {
                l.split("; ")
                    .next()?
                    .split_whitespace()
                    .rev()
                    .nth(1)?
                    .parse::<u64>()
                    .ok()
            })
            .sum()
    }
}

impl Cmd {
    pub(crate) fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.to_owned(), value.to_owned()));
        self
    }

    pub(crate) fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| (*a).to_owned()));
        self
    }

    fn display(&self) -> String {
        let env: Vec<String> = self.env.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
        let mut parts = env;
        parts.push(self.program.clone());
        parts.extend(self.args.iter().cloned());
        parts.join(" ")
    }

    /// Runs the command, streaming its output (stdout and stderr) and keeping a copy.
    pub(crate) fn run(&self) -> Result<Output, String> {
        self.run_with(|_| {})
    }

    /// Like [`run`](Self::run), also handing every output line to `on_line` as it arrives.
    pub(crate) fn run_with(&self, mut on_line: impl FnMut(&str)) -> Result<Output, String> {
        println!("$ {}", self.display());
        let started = Instant::now();
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(workspace_root())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start `{}`: {e}", self.program))?;
        let (tx, rx) = mpsc::channel();
        let pipes: Vec<Box<dyn std::io::Read + Send>> = vec![
            Box::new(child.stdout.take().expect("piped")),
            Box::new(child.stderr.take().expect("piped")),
        ];
        let readers: Vec<_> = pipes
            .into_iter()
            .enumerate()
            .map(|(index, pipe)| {
                let tx = tx.clone();
                thread::spawn(move || {
                    for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                        println!("{line}");
                        let _ = tx.send((index == 0, line));
                    }
                })
            })
            .collect();
        drop(tx);
        let lines: Vec<(bool, String)> = rx.iter().inspect(|(_, line)| on_line(line)).collect();
        let text: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();
        let stdout: Vec<&str> = lines
            .iter()
            .filter(|(out, _)| *out)
            .map(|(_, l)| l.as_str())
            .collect();
        readers
            .into_iter()
            .for_each(|r| r.join().expect("reader thread"));
        let status = child.wait().map_err(|e| e.to_string())?;
        println!("  ({:.1?}, {status})", started.elapsed());
        Ok(Output {
            success: status.success(),
            text: text.join("\n"),
            stdout: stdout.join("\n"),
        })
    }

    /// Runs the command and fails the stage unless it succeeds.
    pub(crate) fn run_ok(&self) -> Result<Output, String> {
        self.run_ok_with(|_| {})
    }

    /// [`run_with`](Self::run_with), failing the stage unless the command succeeds.
    pub(crate) fn run_ok_with(&self, on_line: impl FnMut(&str)) -> Result<Output, String> {
        let out = self.run_with(on_line)?;
        if out.success {
            Ok(out)
        } else {
            Err(format!("`{}` failed", self.display()))
        }
    }
}

/// The workspace root: the parent of this crate's folder.
pub(crate) fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask has a parent")
        .into()
}
