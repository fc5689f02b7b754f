//! Stage: runs, times and summarizes the stages of a task; commands are printed
//! before they run and their output is streamed, not captured.

use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader};
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
    notes: Vec<String>,
    results: Vec<StageResult>,
}

impl Stages {
    /// An empty run of `task` (for the summary title).
    pub fn new(task: &str) -> Self {
        Stages {
            task: task.to_owned(),
            options: Vec::new(),
            notes: Vec::new(),
            results: Vec::new(),
        }
    }

    /// Records an option in effect; it is printed in the summary.
    pub fn option(&mut self, text: &str) {
        self.options.push(text.to_owned());
    }

    /// Records a note for the summary (what a stage did beyond passing, such as
    /// the golden files `--bless` rewrote); printed now and at the end.
    pub fn note(&mut self, text: &str) {
        print!("{text}");
        self.notes.push(text.to_owned());
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
        print!(
            "{}",
            summary(&self.task, &self.options, &self.notes, &self.results)
        );
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

/// The summary table, the options, the notes, every failure, and as the last line
/// exactly `xtask: N passed, M failed` (read by CI).
pub fn summary(
    task: &str,
    options: &[String],
    notes: &[String],
    results: &[StageResult],
) -> String {
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
    for note in notes {
        out.push_str(note);
        if !note.ends_with('\n') {
            out.push('\n');
        }
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

/// `word`, quoted for a shell if it is empty or holds white space.
fn quoted(word: &str) -> String {
    if word.is_empty() || word.contains(char::is_whitespace) {
        format!("'{word}'")
    } else {
        word.to_owned()
    }
}

/// The command as a person would type it: the environment variables it sets,
/// the program and its arguments, and the directory it runs in when that is not
/// the project root.
pub fn show(cmd: &Command) -> String {
    let mut text = String::new();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            let _ = write!(
                text,
                "{}={} ",
                key.to_string_lossy(),
                quoted(&value.to_string_lossy())
            );
        }
    }
    text.push_str(&cmd.get_program().to_string_lossy());
    for arg in cmd.get_args() {
        let _ = write!(text, " {}", quoted(&arg.to_string_lossy()));
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

/// Prints `cmd` and runs it as [`run`] does, its standard error streamed line by
/// line and read: a line starting with `warning:` (cargo's own warnings, such as
/// two crates documented to the same file) makes the stage fail too, after the
/// command has finished. For stages whose warnings are all denied; rustc's and
/// rustdoc's are denied by their flags (`-D warnings`), cargo's here.
pub fn run_denying_warnings(cmd: &mut Command) -> Result<(), String> {
    let mut warnings = Vec::new();
    run_reading_stderr(cmd, |line| {
        eprintln!("{line}");
        let plain = without_colours(line);
        if plain.starts_with("warning:") {
            warnings.push(plain);
        }
    })?;
    let shown = show(cmd);
    match warnings.as_slice() {
        [] => Ok(()),
        [one] => Err(format!("`{shown}` warned (warnings are denied): {one}")),
        many => Err(format!(
            "`{shown}` warned {} times (warnings are denied), first: {}",
            many.len(),
            many[0]
        )),
    }
}

/// Prints `cmd` and runs it as [`run`] does, handing each line of its standard
/// error to `each` (which prints what it wants of it) as it comes.
pub fn run_reading_stderr(cmd: &mut Command, mut each: impl FnMut(&str)) -> Result<(), String> {
    let shown = show(cmd);
    println!("$ {shown}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("`{shown}` could not be started: {e}"))?;
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            each(&line);
        }
    }
    let status = child
        .wait()
        .map_err(|e| format!("`{shown}` could not be waited for: {e}"))?;
    if !status.success() {
        return Err(format!("`{shown}` failed ({status})"));
    }
    Ok(())
}

/// `line` without ANSI colour sequences (`ESC [ ... m`).
fn without_colours(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
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
        let notes = ["--bless: all 4 golden file(s) unchanged\n".to_owned()];
        let text = summary("test", &["--no-install".into()], &notes, &results);
        assert_eq!(
            text,
            "\n==> xtask test: summary\n\
             stage     result    seconds\n\
             fmt       PASS          1.5\n\
             clippy    FAIL          1.5\n\
             test      FAIL          1.5\n\
             firmware  NOT RUN         -  (not in this checkout)\n\
             options: --no-install\n\
             --bless: all 4 golden file(s) unchanged\n\
             failures:\n  \
             clippy: `cargo clippy` failed\n  \
             test: `cargo test` failed\n\
             xtask: 1 passed, 2 failed\n"
        );
    }

    #[test]
    fn summary_of_a_clean_run() {
        let text = summary("test", &[], &[], &[result("fmt", Outcome::Pass)]);
        assert_eq!(
            text,
            "\n==> xtask test: summary\n\
             stage  result    seconds\n\
             fmt    PASS          1.5\n\
             options: none\n\
             xtask: 1 passed, 0 failed\n"
        );
    }

    #[test]
    fn show_quotes_and_names_the_directory() {
        let mut cmd = Command::new("cargo");
        cmd.args(["fmt", "--check", "a b"])
            .current_dir(project_root().join("firmware"));
        assert_eq!(show(&cmd), "cargo fmt --check 'a b'   (in firmware/)");
        cmd.current_dir(project_root());
        assert_eq!(show(&cmd), "cargo fmt --check 'a b'");
        cmd.env("RUSTDOCFLAGS", "-D warnings").env_remove("UNSET");
        assert_eq!(
            show(&cmd),
            "RUSTDOCFLAGS='-D warnings' cargo fmt --check 'a b'"
        );
    }

    #[test]
    fn failing_commands_are_failures() {
        assert_eq!(
            run(&mut Command::new("false")),
            Err("`false` failed (exit status: 1)".to_owned())
        );
        assert_eq!(run(&mut Command::new("true")), Ok(()));
        let missing = run(&mut Command::new("xtask-no-such-program")).unwrap_err();
        assert!(
            missing.starts_with("`xtask-no-such-program` could not be started: "),
            "{missing}"
        );
    }

    fn sh(script: &str) -> Command {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", script]);
        cmd
    }

    #[test]
    fn warnings_fail_a_stage_that_denies_them() {
        assert_eq!(run_denying_warnings(&mut sh("echo fine >&2")), Ok(()));
        let mut one = sh("echo 'warning: output filename collision' >&2; echo '  = note: x' >&2");
        assert_eq!(
            run_denying_warnings(&mut one),
            Err(format!(
                "`{}` warned (warnings are denied): warning: output filename collision",
                show(&one)
            ))
        );
        // Coloured, and more than one: counted, the first named.
        let mut two = sh("printf '\\033[1;33mwarning\\033[0m: a\\nwarning: b\\n' >&2");
        assert_eq!(
            run_denying_warnings(&mut two),
            Err(format!(
                "`{}` warned 2 times (warnings are denied), first: warning: a",
                show(&two)
            ))
        );
        // A failure is reported as a failure, whatever it printed.
        let mut failed = sh("echo 'warning: w' >&2; exit 3");
        assert_eq!(
            run_denying_warnings(&mut failed),
            Err(format!("`{}` failed (exit status: 3)", show(&failed)))
        );
    }
}
