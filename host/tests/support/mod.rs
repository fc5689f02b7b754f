//! Support: what the command-line tests share — running the built `scanline`
//! binary and reading what it prints; fixtures and temporary directories come
//! from the testkit.
#![allow(dead_code, unused_imports)]

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::{Command, Output};

pub use scanline_testkit::TempDir;
pub use scanline_testkit::fixture::{photo, tflite as fixture};

/// A fixture's model.
pub fn model(case: &str) -> PathBuf {
    fixture(case, "model.tflite")
}

/// A fresh, empty directory, removed when the guard is dropped.
pub fn temp_dir(tag: &str) -> TempDir {
    TempDir::new(tag)
}

/// Runs the `scanline` binary (standard input closed, standard output a pipe:
/// never a terminal).
pub fn scanline<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_scanline"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run the scanline binary")
}

/// Standard output as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The exit status, which must exist (no signal) and no panic must be reported.
pub fn status(out: &Output) -> i32 {
    assert!(!stderr(out).contains("panicked"), "{}", stderr(out));
    out.status.code().expect("exited, not killed")
}

/// Runs `scanline`, expects exit status 0 and returns standard output.
pub fn ok<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = scanline(args);
    assert_eq!(
        status(&out),
        0,
        "scanline failed: {}{}",
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

/// Runs `scanline` with `--json` among `args`, expects exit status 0 and one
/// JSON object on one line of standard output, and returns it parsed.
pub fn json<I, S>(args: I) -> serde_json::Value
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let text = ok(args);
    parse_one(&text)
}

/// The one JSON object that `text` holds, on one line ending with a newline.
pub fn parse_one(text: &str) -> serde_json::Value {
    assert_eq!(text.lines().count(), 1, "one line: {text}");
    assert!(text.ends_with('\n'), "{text}");
    let value: serde_json::Value = serde_json::from_str(text).expect("valid JSON");
    assert!(value.is_object(), "{text}");
    value
}

/// Runs `scanline`, expects exit status 1 and a one-line error on standard error
/// containing `needle`; returns the error line.
pub fn fails<I, S>(args: I, needle: &str) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = scanline(args);
    let err = stderr(&out);
    assert_eq!(status(&out), 1, "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
    err
}
