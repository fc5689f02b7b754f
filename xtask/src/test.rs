//! Test: `cargo xtask test`, every check CI runs, in order, from the project root,
//! keeping going after a failure and summarizing all stages at the end; with
//! `--bless`, the tests rewrite the golden files whose output changed.

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

use crate::stage::{self, Stages};
use crate::{bless, project_root};

/// The MCU target the core must build for.
const TARGET: &str = "thumbv7em-none-eabihf";
/// rustup components the stages need.
const COMPONENTS: [&str; 2] = ["rustfmt", "clippy"];

/// Options of `cargo xtask test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Options {
    /// Whether missing targets/components may be installed with rustup.
    install: bool,
    /// Whether the tests rewrite golden files instead of failing on them.
    bless: bool,
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        install: true,
        bless: false,
    };
    for arg in args {
        match arg.as_str() {
            "--no-install" => options.install = false,
            "--bless" => options.bless = true,
            other => {
                return Err(format!(
                    "unknown option `{other}` (the options are --no-install and --bless; \
                     see `cargo xtask help`)"
                ));
            }
        }
    }
    Ok(options)
}

/// One command stage.
struct Step {
    name: &'static str,
    cmd: Command,
    /// Cargo's own warnings fail the stage too ([`stage::run_denying_warnings`]).
    deny_warnings: bool,
    /// The stage that runs the tests: with `--bless`, they get [`bless::BLESS_VAR`]
    /// and the golden files are compared before and after.
    runs_tests: bool,
}

impl Step {
    fn new(name: &'static str, cmd: Command) -> Self {
        Step {
            name,
            cmd,
            deny_warnings: false,
            runs_tests: false,
        }
    }
}

/// Runs `cargo xtask test` with the arguments after `test`.
pub fn run(args: &[String]) -> ExitCode {
    let options = match parse_args(args) {
        Ok(options) => options,
        Err(e) => {
            eprintln!("xtask test: {e}");
            return ExitCode::from(2);
        }
    };
    let root = project_root();
    let mut stages = Stages::new("test");
    if !options.install {
        stages.option("--no-install (a missing target or component is a failure)");
    }
    if options.bless {
        stages.option("--bless (the tests rewrite golden files whose output changed)");
    }
    stages.note(&format!("{}\n", kernel_sets()));

    let mut no_rustup = false;
    stages.stage("toolchain", || {
        if !program_runs("rustup", "--version") {
            no_rustup = true;
            return Err(format!(
                "rustup was not found on PATH; install it from https://rustup.rs, then \
                 `rustup target add {TARGET}` and `rustup component add rustfmt clippy`"
            ));
        }
        toolchain(&root, options.install)
    });

    let firmware = root.join("firmware");
    // --no-fail-fast: a failing test binary must not hide the failures of the
    // ones after it.
    let mut test = cargo(&root, &["test", "--workspace", "--no-fail-fast"]);
    if options.bless {
        test.env(bless::BLESS_VAR, "1");
    }
    let mut doc = cargo(&root, &["doc", "--no-deps", "--workspace"]);
    doc.env("RUSTDOCFLAGS", "-D warnings");
    let mut steps = vec![
        Step::new("fmt", cargo(&root, &["fmt", "--all", "--check"])),
        Step::new(
            "clippy",
            cargo(
                &root,
                &[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ],
            ),
        ),
        Step {
            runs_tests: true,
            ..Step::new("test", test)
        },
        Step {
            deny_warnings: true,
            ..Step::new("doc", doc)
        },
        Step::new(
            "core thumbv7em",
            cargo(&root, &["build", "-p", "scanline", "--target", TARGET]),
        ),
        Step::new(
            "core thumbv7em defmt",
            cargo(
                &root,
                &[
                    "build",
                    "-p",
                    "scanline",
                    "--target",
                    TARGET,
                    "--features",
                    "defmt",
                ],
            ),
        ),
    ];
    let has_firmware = firmware.join("Cargo.toml").is_file();
    if has_firmware {
        let host = host_triple();
        // The board's features compile too: the dump mode and an embedded model.
        let mut features = cargo(
            &firmware,
            &[
                "build",
                "--release",
                "-p",
                "scanline-board",
                "--features",
                "dump,embedded-model",
            ],
        );
        features.env(
            "SCANLINE_MODEL",
            root.join("tests/fixtures/tflite/n3_mini/model.tflite"),
        );
        steps.extend([
            Step::new(
                "firmware fmt",
                cargo(&firmware, &["fmt", "--all", "--check"]),
            ),
            Step::new(
                "firmware clippy",
                cargo(
                    &firmware,
                    &["clippy", "--workspace", "--", "-D", "warnings"],
                ),
            ),
            Step::new(
                "firmware clippy host",
                cargo(
                    &firmware,
                    &[
                        "clippy",
                        "--target",
                        &host,
                        "-p",
                        "scanline-firmware",
                        "--all-targets",
                        "--",
                        "-D",
                        "warnings",
                    ],
                ),
            ),
            // One binary per invocation (see firmware/Cargo.toml).
            Step::new(
                "firmware build qemu",
                cargo(&firmware, &["build", "--release", "-p", "scanline-qemu"]),
            ),
            Step::new(
                "firmware build board",
                cargo(&firmware, &["build", "--release", "-p", "scanline-board"]),
            ),
            Step::new("firmware build board features", features),
            // The portable library's tests run on the host: its own target,
            // since firmware/.cargo/config.toml makes the MCU the default.
            Step::new(
                "firmware test",
                cargo(
                    &firmware,
                    &["test", "--target", &host, "-p", "scanline-firmware"],
                ),
            ),
        ]);
    }

    if no_rustup {
        // Without rustup nothing below can be trusted to have its toolchain: stop.
        for step in &steps {
            stages.not_run(step.name, "stopped: rustup is missing");
        }
    } else {
        for mut step in steps {
            let run = |cmd: &mut Command| {
                if step.deny_warnings {
                    stage::run_denying_warnings(cmd)
                } else {
                    stage::run(cmd)
                }
            };
            if step.runs_tests && options.bless {
                let dirs = bless::golden_dirs();
                let before = bless::snapshot(&root, &dirs);
                stages.stage(step.name, || run(&mut step.cmd));
                let after = bless::snapshot(&root, &dirs);
                stages.note(&bless::report(
                    &bless::changes(&before, &after),
                    after.len(),
                ));
            } else {
                stages.stage(step.name, || run(&mut step.cmd));
            }
        }
    }
    if has_firmware {
        if no_rustup {
            stages.not_run("firmware qemu", "stopped: rustup is missing");
            stages.not_run("firmware soak", "stopped: rustup is missing");
        } else {
            stages.stage("firmware qemu", || crate::qemu::test_stage(options.install));
            // 100 frames of 24x32 (small, to stay fast) with seeded faults.
            stages.stage("firmware soak", || crate::qemu::soak_stage(options.install));
        }
    } else {
        stages.not_run(
            "firmware",
            "firmware/ is not part of this checkout (no firmware/Cargo.toml): \
             its fmt, clippy, build, test and QEMU stages were not run",
        );
    }
    stages.finish()
}

fn cargo(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.args(args).current_dir(dir);
    cmd
}

/// The host's target triple (`rustc -vV`'s `host:` line), for the firmware
/// library's tests, which run on the host while firmware/ builds for the MCU
/// by default.
fn host_triple() -> String {
    Command::new("rustc")
        .arg("-vV")
        .stdin(Stdio::null())
        .output()
        .ok()
        .and_then(|out| {
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .find_map(|l| l.strip_prefix("host: ").map(str::to_owned))
        })
        .unwrap_or_else(|| "x86_64-unknown-linux-gnu".to_owned())
}

/// Whether `program arg` can be started and exits successfully (output hidden).
fn program_runs(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Checks the MCU target and the rustfmt/clippy components, installing what is
/// missing unless `install` is false (then what is missing is the failure).
fn toolchain(root: &Path, install: bool) -> Result<(), String> {
    let rustup = |args: &[&str]| {
        let mut cmd = Command::new("rustup");
        cmd.args(args).current_dir(root);
        cmd
    };
    let mut missing = Vec::new();

    let targets = stage::output(&mut rustup(&["target", "list", "--installed"]))?;
    if has_target(&targets, TARGET) {
        println!("target {TARGET}: installed");
    } else if install {
        stage::run(&mut rustup(&["target", "add", TARGET]))?;
    } else {
        missing.push(format!(
            "target {TARGET} is not installed: run `rustup target add {TARGET}`"
        ));
    }

    let components = stage::output(&mut rustup(&["component", "list", "--installed"]))?;
    let absent = missing_components(&components);
    if absent.is_empty() {
        println!("components {}: installed", COMPONENTS.join(", "));
    } else if install {
        let mut args = vec!["component", "add"];
        args.extend(&absent);
        stage::run(&mut rustup(&args))?;
    } else {
        missing.push(format!(
            "components missing: run `rustup component add {}`",
            absent.join(" ")
        ));
    }

    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("--no-install: {}", missing.join("; ")))
    }
}

/// Whether `rustup target list --installed` output lists `target`.
fn has_target(installed: &str, target: &str) -> bool {
    installed.lines().any(|line| line.trim() == target)
}

/// Which of [`COMPONENTS`] `rustup component list --installed` output lacks
/// (it lists them as `rustfmt-x86_64-unknown-linux-gnu` and so on).
fn missing_components(installed: &str) -> Vec<&'static str> {
    COMPONENTS
        .into_iter()
        .filter(|name| {
            !installed.lines().map(str::trim).any(|line| {
                line == *name
                    || line
                        .strip_prefix(name)
                        .is_some_and(|rest| rest.starts_with('-'))
            })
        })
        .collect()
}

/// What to do about `qemu-system-arm` (needed by the later QEMU stage).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QemuAction {
    /// It is on PATH: nothing to do.
    Ready,
    /// Missing, and we are root: install it with apt-get.
    Install,
    /// Missing, and we may not install it: fail, saying how to get it.
    Refuse,
}

/// Decides what [`ensure_qemu`] does from whether `qemu-system-arm` was found
/// and whether we run as root.
/// Which kernel sets the tests exercise on this CPU (each test that runs a model
/// runs it once per set the CPU supports, against the portable kernels).
fn kernel_sets() -> String {
    let have: Vec<&str> = scanline_host::engine::available_kernels()
        .iter()
        .map(|k| k.isa().name())
        .collect();
    let lack: Vec<&str> = scanline::exec::Isa::ALL
        .iter()
        .map(|i| i.name())
        .filter(|n| !have.contains(n))
        .collect();
    let mut text = format!("kernel sets tested: {}", have.join(", "));
    if !lack.is_empty() {
        text.push_str(&format!(
            "; not tested here (this CPU lacks them): {}",
            lack.join(", ")
        ));
    }
    text
}

pub fn qemu_action(found: bool, is_root: bool) -> QemuAction {
    match (found, is_root) {
        (true, _) => QemuAction::Ready,
        (false, true) => QemuAction::Install,
        (false, false) => QemuAction::Refuse,
    }
}

/// Makes sure `qemu-system-arm` is available: if missing and running as root
/// (and `install` allows it), runs `apt-get update` and
/// `apt-get install -y qemu-system-arm`; otherwise a clear error.
#[allow(dead_code, reason = "called by the QEMU stage of a later issue")]
pub fn ensure_qemu(install: bool) -> Result<(), String> {
    const QEMU: &str = "qemu-system-arm";
    let found = program_runs(QEMU, "--version");
    match qemu_action(found, is_root()) {
        QemuAction::Ready => Ok(()),
        QemuAction::Install if !install => Err(format!(
            "{QEMU} was not found on PATH and --no-install was given: \
             run `apt-get install -y {QEMU}`"
        )),
        QemuAction::Install => {
            let apt = |args: &[&str]| {
                let mut cmd = Command::new("apt-get");
                cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
                cmd
            };
            stage::run(&mut apt(&["update"]))?;
            stage::run(&mut apt(&["install", "-y", QEMU]))?;
            if program_runs(QEMU, "--version") {
                Ok(())
            } else {
                Err(format!("{QEMU} still does not run after apt-get install"))
            }
        }
        QemuAction::Refuse => Err(format!(
            "{QEMU} was not found on PATH and this is not root, so xtask will not \
             install it: run `sudo apt-get install -y {QEMU}` (or your system's equivalent)"
        )),
    }
}

/// Whether we run as root (`id -u` prints 0).
fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|out| out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "0")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn options() {
        let default = Options {
            install: true,
            bless: false,
        };
        assert_eq!(parse_args(&args(&[])), Ok(default));
        assert_eq!(
            parse_args(&args(&["--no-install"])),
            Ok(Options {
                install: false,
                ..default
            })
        );
        assert_eq!(
            parse_args(&args(&["--bless", "--no-install"])),
            Ok(Options {
                install: false,
                bless: true
            })
        );
        assert_eq!(
            parse_args(&args(&["--bless", "--quick"])),
            Err(
                "unknown option `--quick` (the options are --no-install and --bless; \
                 see `cargo xtask help`)"
                    .to_owned()
            )
        );
    }

    #[test]
    fn target_detection() {
        let listed = "x86_64-unknown-linux-gnu\nthumbv7em-none-eabihf\n";
        assert!(has_target(listed, TARGET));
        assert!(!has_target("x86_64-unknown-linux-gnu\n", TARGET));
        assert!(!has_target("thumbv7em-none-eabi\n", TARGET));
    }

    #[test]
    fn component_detection() {
        let all = "cargo-x86_64-unknown-linux-gnu\nclippy-x86_64-unknown-linux-gnu\n\
                   rustfmt-x86_64-unknown-linux-gnu\nrustc-x86_64-unknown-linux-gnu\n";
        assert!(missing_components(all).is_empty());
        let no_fmt = "cargo-x86_64-unknown-linux-gnu\nclippy-x86_64-unknown-linux-gnu\n";
        assert_eq!(missing_components(no_fmt), ["rustfmt"]);
        assert_eq!(missing_components(""), ["rustfmt", "clippy"]);
        // A name that merely starts with "clippy" does not count.
        assert_eq!(missing_components("clippyish\nrustfmt\n"), ["clippy"]);
    }

    #[test]
    fn qemu_decision() {
        assert_eq!(qemu_action(true, true), QemuAction::Ready);
        assert_eq!(qemu_action(true, false), QemuAction::Ready);
        assert_eq!(qemu_action(false, true), QemuAction::Install);
        assert_eq!(qemu_action(false, false), QemuAction::Refuse);
    }
}
