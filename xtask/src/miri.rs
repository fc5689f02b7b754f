//! Miri: `cargo xtask miri`, the core's unit and integration tests under Miri
//! on nightly (`cargo +nightly miri test -p scanline --lib --tests`), with the
//! property tests cut to a few cases (Miri runs code thousands of times slower),
//! the full-size workload test ignored under `cfg(miri)`, and the AVX2 kernels
//! skipped (the core's tests only pick them when `is_x86_feature_detected!`
//! says so, which it never does under Miri). The doc tests are left out: they
//! are examples, each a crate Miri would build on its own, and `cargo xtask
//! test` runs them natively.

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

use crate::project_root;
use crate::stage::{self, Stages};

/// Property-test cases per test under Miri (`PROPTEST_CASES`), unless the
/// environment sets it.
const CASES: &str = "4";

/// Flags: the fixture tests read files (isolation off); everything else is
/// Miri's defaults (Stacked Borrows, alignment and UB checks).
const FLAGS: &str = "-Zmiri-disable-isolation";

/// Nightly with the miri component, installed if missing.
fn tools(root: &Path) -> Result<(), String> {
    let ok = |args: &[&str]| {
        Command::new("cargo")
            .args(args)
            .current_dir(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if ok(&["+nightly", "miri", "--version"]) {
        return Ok(());
    }
    println!("Miri is not installed: adding the nightly miri and rust-src components");
    stage::run(Command::new("rustup").args([
        "component",
        "add",
        "--toolchain",
        "nightly",
        "miri",
        "rust-src",
    ]))
    .map_err(|e| {
        format!("{e}; Miri needs `rustup toolchain install nightly --component miri,rust-src`")
    })
}

/// Runs `cargo xtask miri` (no options).
pub fn run(args: &[String]) -> ExitCode {
    if let Some(a) = args.first() {
        eprintln!("xtask miri: unknown option `{a}` (miri takes none)");
        return ExitCode::from(2);
    }
    let root = project_root();
    let mut stages = Stages::new("miri");
    let cases = std::env::var("PROPTEST_CASES").unwrap_or_else(|_| CASES.to_owned());
    stages.option(&format!("PROPTEST_CASES={cases}, MIRIFLAGS={FLAGS}"));
    if !stages.stage("tools", || tools(&root)) {
        return stages.finish();
    }
    stages.stage("miri test core", || {
        let mut cmd = Command::new("cargo");
        cmd.args([
            "+nightly", "miri", "test", "-p", "scanline", "--lib", "--tests",
        ])
        .current_dir(&root)
        .env("PROPTEST_CASES", &cases)
        .env("MIRIFLAGS", FLAGS);
        stage::run(&mut cmd)
    });
    stages.finish()
}
