//! Bench: `cargo xtask bench`, the host benchmarks (`cargo bench -p scanline-host`);
//! refuses, with a non-zero exit, while scanline-host has no benchmarks.

use std::path::Path;
use std::process::{Command, ExitCode};

use crate::{project_root, stage};

/// Runs `cargo xtask bench [-- ARGS...]`; ARGS go to the benchmark harness.
pub fn run(args: &[String]) -> ExitCode {
    let passthrough = match args.split_first() {
        None => &[][..],
        Some((first, rest)) if first == "--" => rest,
        Some((first, _)) => {
            eprintln!("xtask bench: unexpected `{first}`; usage: cargo xtask bench [-- ARGS...]");
            return ExitCode::from(2);
        }
    };
    let host = project_root().join("host");
    if let Err(e) = has_benches(&host) {
        eprintln!("xtask bench: {e}");
        return ExitCode::FAILURE;
    }
    let mut cmd = Command::new("cargo");
    cmd.args(["bench", "-p", "scanline-host"])
        .current_dir(project_root());
    if !passthrough.is_empty() {
        cmd.arg("--").args(passthrough);
    }
    match stage::run(&mut cmd) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Whether the crate in `dir` declares or contains a benchmark target; the error
/// says what was looked for.
fn has_benches(dir: &Path) -> Result<(), String> {
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))
        .map_err(|e| format!("cannot read {}: {e}", dir.join("Cargo.toml").display()))?;
    let files: Vec<String> = std::fs::read_dir(dir.join("benches"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let path = entry.path();
            let is_bench =
                path.extension().is_some_and(|e| e == "rs") || path.join("main.rs").is_file();
            is_bench.then(|| entry.file_name().to_string_lossy().into_owned())
        })
        .collect();
    if declares_bench(&manifest) || !files.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} has no benchmarks yet (no benches/*.rs and no [[bench]] in its \
             Cargo.toml); nothing was run",
            dir.display()
        ))
    }
}

/// Whether a Cargo.toml text has a `[[bench]]` table.
fn declares_bench(manifest: &str) -> bool {
    manifest.lines().any(|line| line.trim() == "[[bench]]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_tables() {
        assert!(declares_bench(
            "[package]\nname = \"x\"\n\n[[bench]]\nname = \"conv\"\n"
        ));
        assert!(!declares_bench("[package]\nname = \"bench\"\n"));
    }

    #[test]
    fn a_crate_without_benches_is_refused() {
        // xtask itself has no benches.
        let err = has_benches(&project_root().join("xtask")).unwrap_err();
        assert!(err.contains("no benchmarks yet"), "{err}");
    }
}
