//! xtask: scanline's project automation, run as `cargo xtask <task>`.
//!
//! One file per task (`test.rs`, `bench.rs`, `qemu.rs`, `man.rs`, `fuzz.rs`, `miri.rs`); `stage.rs`
//! runs, times and summarizes the stages of a task; `bless.rs` lists the golden files that
//! `test --bless` rewrote; `tidy.rs` holds repository checks that run as
//! ordinary tests under `cargo test --workspace`.

mod bench;
mod bless;
mod fuzz;
mod man;
mod miri;
mod panics;
mod qemu;
mod stage;
mod test;
#[cfg(test)]
mod tidy;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <task> [options]

tasks:
  test [--no-install] [--bless]
                        toolchain check, fmt, clippy, all workspace tests, the docs
                        (cargo doc --no-deps --workspace, warnings denied), the core
                        built for thumbv7em-none-eabihf (with and without defmt),
                        firmware/ checks when present; keeps going after a failure,
                        prints a summary and exits non-zero if any stage failed.
                        --no-install: never run `rustup target/component add`;
                        a missing target or component is then a failure.
                        --bless: the tests rewrite every golden file whose output
                        changed (tests/fixtures/golden) instead of failing, and the
                        run lists the files it rewrote: review and commit them.
  bench [--quick] [--host] [--m4] [--criterion [-- ARGS...]]
                        the benchmark tables, printed and written under
                        target/bench/: the host side by side with TensorFlow Lite
                        (XNNPACK, built-ins, reference) and OpenCV, measured in the
                        same run (a Python venv under target/bench-venv is created
                        for them; if that fails, scanline's half still prints);
                        and the Cortex-M4 firmware in QEMU against CMSIS-NN (W1-W3,
                        N3 and the edge model at QVGA, flash and RAM).
                        --host / --m4: one section only. --quick: short timing
                        budgets. --criterion: the criterion benchmarks instead.
  qemu [OPTIONS]        the firmware in QEMU (mps2-an386, Cortex-M4F) on a model and
                        an input, with `scanline run`'s contract; prints the per-frame
                        report (instructions, worst push_row, RAM) and compares with
                        the host. `cargo xtask qemu --help` for the options.
  man                   the scanline manual pages (clap_mangen) into target/man/
  fuzz [--seconds N] [--cmin] [TARGET]
                        the cargo-fuzz targets of fuzz/ (nightly; cargo-fuzz is
                        installed if missing), each N seconds (default 600) on its
                        committed corpus; prints executions and coverage per target.
                        --cmin: minimise each corpus afterwards. The corpora are
                        replayed on stable by `cargo xtask test`.
  miri                  the core's unit and integration tests under Miri (nightly;
                        the component is added if missing), property tests cut to
                        PROPTEST_CASES=4
  panics [--sites] [--max N]
                        builds the board binary (release) and counts the panic call
                        sites its frame loop links (`cargo xtask panics --help`)
  soak [--frames N] [--seed S]
                        N frames (default 1000) in QEMU with camera faults injected at
                        seeded random lines: frames done, dropped and why, digest
                        mismatches (must be 0), stack high-water every 100 frames
  help                  this text
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        None => {
            eprint!("xtask: no task given\n\n{USAGE}");
            ExitCode::from(2)
        }
        Some("test") => test::run(&args[1..]),
        Some("bench") => bench::run(&args[1..]),
        Some("qemu") => qemu::run(&args[1..]),
        Some("man") => man::run(&args[1..]),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("miri") => miri::run(&args[1..]),
        Some("panics") => panics::run(&args[1..]),
        Some("soak") => qemu::soak_task(&args[1..]),
        Some(other) => {
            eprint!("xtask: unknown task `{other}`\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// The repository root: the parent of this crate's directory.
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the project root")
        .to_path_buf()
}
