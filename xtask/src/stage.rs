//! Stage: runs, times and summarizes the stages of a task; commands are printed
//! before they run and their output is streamed, not captured.

use std::fmt::Write as _;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use crate::project_root;

/// How a stage ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The stage ran and succeeded.
    Pass,
    /// The stage ran (or tried to) and failed; the reason names the command.
    Fail(String),
    /// The stage was not run; the reason says why. Neither a pass nor a failure,
    /// but always shown in the summary.
    NotRun(String),
}

/// One row of the summary.
#[derive(Debug, Clone)]
pub struct StageResult {
    /// Short stage name.
    pub name: String,
    /// How it ended.
    pub outcome: Outcome,
    /// Wall time in seconds (0 for stages not run).
    pub secs: f64,
}

/// The stages of one task run, in order, plus the options it was run with.
#[derive(Debug)]
pub struct Stages {
    task: String,
    options: Vec<String>,
    results: Vec<StageResult>,
}

impl Stages {
    /// An empty run of `task` (for the summary title).
    pub fn new(task: &str) -> Self {
        Stages {
            task: task.to_owned(),
            options: Vec::new(),
            results: Vec::new(),
        }
    }

    /// Records an option in effect; it is printed in the summary.
    pub fn option(&mut self, text: &str) {
        self.options.push(text.to_owned());
    }

    /// Runs one stage: `body` returns `Ok` or the reason it failed. Returns
    /// whether the stage passed.
    pub fn stage(&mut self, name: &str, body: impl FnOnce() -> Result<(), String>) -> bool {
        println!("\n==> xtask stage `{name}`");
        let start = Instant::now();
        let outcome = match body() {
            Ok(()) => Outcome::Pass,
            Err(reason) => {
                eprintln!("xtask: stage `{name}` FAILED: {reason}");
                Outcome::Fail(reason)
            }
        };
        let secs = start.elapsed().as_secs_f64();
        println!(
            "==> xtask stage `{name}`: {} in {secs:.1}s",
            label(&outcome)
        );
        let passed = outcome == Outcome::Pass;
        self.results.push(StageResult {
            name: name.to_owned(),
            outcome,
            secs,
        });
        passed
    }

    /// Records a stage that is not run, and says so now and in the summary.
    pub fn not_run(&mut self, name: &str, reason: &str) {
        println!("\n==> xtask stage `{name}`: NOT RUN: {reason}");
        self.results.push(StageResult {
            name: name.to_owned(),
            outcome: Outcome::NotRun(reason.to_owned()),
            secs: 0.0,
        });
    }

    /// Prints the summary; the exit code is a failure if any stage failed.
    pub fn finish(&self) -> ExitCode {
        print!("{}", summary(&self.task, &self.options, &self.results));
        if self
            .results
            .iter()
            .any(|r| matches!(r.outcome, Outcome::Fail(_)))
        {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        }
    }
}

fn label(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Pass => "PASS",
        Outcome::Fail(_) => "FAIL",
        Outcome::NotRun(_) => "NOT RUN",
    }
}

/// The summary table, the options, every failure, and as the last line exactly
/// `xtask: N passed, M failed` (read by CI).
pub fn summary(task: &str, options: &[String], results: &[StageResult]) -> String {
    let width = results
        .iter()
        .map(|r| r.name.len())
        .max()
        .unwrap_or(0)
        .max(5);
    let mut out = String::new();
    let _ = writeln!(out, "\n==> xtask {task}: summary");
    let _ = writeln!(
        out,
        "{:<width$}  {:<7}  {:>8}",
        "stage", "result", "seconds"
    );
    for r in results {
        let secs = match r.outcome {
            Outcome::NotRun(_) => "-".to_owned(),
            _ => format!("{:.1}", r.secs),
        };
        let _ = write!(
            out,
            "{:<width$}  {:<7}  {secs:>8}",
            r.name,
            label(&r.outcome)
        );
        if let Outcome::NotRun(reason) = &r.outcome {
            let _ = write!(out, "  ({reason})");
        }
        out.push('\n');
    }
    if options.is_empty() {
        out.push_str("options: none\n");
    } else {
        let _ = writeln!(out, "options: {}", options.join(", "));
    }
    let failures: Vec<&StageResult> = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Fail(_)))
        .collect();
    if !failures.is_empty() {
        out.push_str("failures:\n");
        for r in &failures {
            if let Outcome::Fail(reason) = &r.outcome {
                let _ = writeln!(out, "  {}: {reason}", r.name);
            }
        }
    }
    let passed = results
        .iter()
        .filter(|r| r.outcome == Outcome::Pass)
        .count();
    let _ = writeln!(out, "xtask: {passed} passed, {} failed", failures.len());
    out
}

/// The command as a person would type it, with the directory it runs in when
/// that is not the project root.
pub fn show(cmd: &Command) -> String {
    let mut text = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        let arg = arg.to_string_lossy();
        if arg.is_empty() || arg.contains(char::is_whitespace) {
            let _ = write!(text, " '{arg}'");
        } else {
            let _ = write!(text, " {arg}");
        }
    }
    if let Some(dir) = cmd.get_current_dir() {
        let root = project_root();
        match dir.strip_prefix(&root) {
            Ok(rel) if rel.as_os_str().is_empty() => {}
            Ok(rel) => {
                let _ = write!(text, "   (in {}/)", rel.display());
            }
            Err(_) => {
                let _ = write!(text, "   (in {})", dir.display());
            }
        }
    }
    text
}

/// Prints `cmd`, runs it with its output streamed (stdin closed: CI has none),
/// and turns a spawn error or a non-zero exit into a reason naming the command.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    let shown = show(cmd);
    println!("$ {shown}");
    let status = cmd
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("`{shown}` could not be started: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed ({status})"))
    }
}

/// Prints `cmd`, runs it and returns its standard output (stderr is streamed);
/// a spawn error or a non-zero exit is a reason naming the command.
pub fn output(cmd: &mut Command) -> Result<String, String> {
    let shown = show(cmd);
    println!("$ {shown}");
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("`{shown}` could not be started: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("`{shown}` failed ({})", out.status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(name: &str, outcome: Outcome) -> StageResult {
        StageResult {
            name: name.to_owned(),
            outcome,
            secs: 1.5,
        }
    }

    #[test]
    fn summary_counts_and_lists_every_failure() {
        let results = [
            result("fmt", Outcome::Pass),
            result("clippy", Outcome::Fail("`cargo clippy` failed".into())),
            result("test", Outcome::Fail("`cargo test` failed".into())),
            result("firmware", Outcome::NotRun("not in this checkout".into())),
        ];
        let text = summary("test", &["--no-install".into()], &results);
        assert_eq!(text.lines().last(), Some("xtask: 1 passed, 2 failed"));
        assert!(text.contains("clippy: `cargo clippy` failed"), "{text}");
        assert!(text.contains("test: `cargo test` failed"), "{text}");
        assert!(text.contains("NOT RUN"), "{text}");
        assert!(text.contains("(not in this checkout)"), "{text}");
        assert!(text.contains("options: --no-install"), "{text}");
        assert!(text.contains("1.5"), "{text}");
    }

    #[test]
    fn summary_of_a_clean_run() {
        let text = summary("test", &[], &[result("fmt", Outcome::Pass)]);
        assert!(!text.contains("failures"), "{text}");
        assert!(text.contains("options: none"), "{text}");
        assert_eq!(text.lines().last(), Some("xtask: 1 passed, 0 failed"));
    }

    #[test]
    fn show_quotes_and_names_the_directory() {
        let mut cmd = Command::new("cargo");
        cmd.args(["fmt", "--check", "a b"])
            .current_dir(project_root().join("firmware"));
        assert_eq!(show(&cmd), "cargo fmt --check 'a b'   (in firmware/)");
        cmd.current_dir(project_root());
        assert_eq!(show(&cmd), "cargo fmt --check 'a b'");
    }

    #[test]
    fn failing_commands_are_failures() {
        assert!(run(&mut Command::new("false")).is_err());
        assert!(run(&mut Command::new("true")).is_ok());
        let missing = run(&mut Command::new("xtask-no-such-program")).unwrap_err();
        assert!(missing.contains("could not be started"), "{missing}");
    }
}
