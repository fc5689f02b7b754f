//! Bench: `cargo xtask bench` — the benchmark sections, each printed as a table
//! and written as markdown under `target/bench/`: the host side by side with
//! TensorFlow Lite and OpenCV ([`host`]), the Cortex-M4 firmware in QEMU
//! against CMSIS-NN ([`m4`]), and the criterion benchmarks of the engines
//! (`--criterion`).

mod host;
mod m4;

use std::process::{Command, ExitCode};

use crate::{project_root, stage};

/// Options of `cargo xtask bench`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// Shorter timing budgets (a quick look, not figures to quote).
    pub quick: bool,
    /// Run only the host section.
    pub host: bool,
    /// Run only the Cortex-M4 section.
    pub m4: bool,
    /// Run criterion instead, with these arguments.
    pub criterion: Option<Vec<String>>,
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut options = Options::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--host" => options.host = true,
            "--m4" => options.m4 = true,
            "--criterion" => {
                options.criterion = Some(it.by_ref().skip_while(|a| *a == "--").cloned().collect());
            }
            other => {
                return Err(format!(
                    "unknown option `{other}` (options: --quick, --host, --m4, --criterion [-- ARGS...])"
                ));
            }
        }
    }
    Ok(options)
}

/// Runs `cargo xtask bench` with the arguments after `bench`.
pub fn run(args: &[String]) -> ExitCode {
    let options = match parse_args(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("xtask bench: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(pass) = &options.criterion {
        let mut cmd = Command::new("cargo");
        cmd.args(["bench", "-p", "scanline-host", "--bench", "engines"])
            .current_dir(project_root());
        if !pass.is_empty() {
            cmd.arg("--").args(pass);
        }
        return match stage::run(&mut cmd) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xtask bench: {e}");
                ExitCode::FAILURE
            }
        };
    }
    // Neither flag: both sections.
    let both = !options.host && !options.m4;
    let mut failed = false;
    if options.host || both {
        match host::run(&options) {
            Ok(table) => println!("{table}"),
            Err(e) => {
                eprintln!("xtask bench: host: {e}");
                failed = true;
            }
        }
    }
    if options.m4 || both {
        match m4::run() {
            Ok(table) => println!("{table}"),
            Err(e) => {
                eprintln!("xtask bench: cortex-m4: {e}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options() {
        assert_eq!(parse_args(&[]).unwrap(), Options::default());
        let o = parse_args(&args(&["--quick", "--host"])).unwrap();
        assert!(o.quick && o.host && !o.m4 && o.criterion.is_none());
        assert!(parse_args(&args(&["--m4"])).unwrap().m4);
        let o = parse_args(&args(&["--criterion", "--", "N3"])).unwrap();
        assert_eq!(o.criterion, Some(args(&["N3"])));
        assert_eq!(
            parse_args(&args(&["--fast"])).unwrap_err(),
            "unknown option `--fast` (options: --quick, --host, --m4, --criterion [-- ARGS...])"
        );
    }
}
