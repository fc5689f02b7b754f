//! Fuzz: `cargo xtask fuzz [--seconds N] [--cmin] [TARGET]`, the cargo-fuzz
//! targets of `fuzz/` (nightly, libFuzzer), each for N seconds on its committed
//! corpus, with libFuzzer's final statistics per target; `--cmin` minimises
//! each corpus afterwards (`cargo fuzz cmin`).

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

use crate::project_root;
use crate::stage::{self, Stages};

/// Seconds per target when `--seconds` is not given.
const DEFAULT_SECONDS: u64 = 600;

/// Options of `cargo xtask fuzz`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Options {
    seconds: u64,
    cmin: bool,
    target: Option<String>,
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        seconds: DEFAULT_SECONDS,
        cmin: false,
        target: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--seconds" => {
                let v = it.next().ok_or("--seconds needs a number")?;
                options.seconds = v
                    .parse()
                    .ok()
                    .filter(|&s| s > 0)
                    .ok_or_else(|| format!("--seconds {v}: not a positive number"))?;
            }
            "--cmin" => options.cmin = true,
            other if other.starts_with('-') => {
                return Err(format!(
                    "unknown option `{other}` (the options are --seconds N and --cmin)"
                ));
            }
            name if options.target.is_none() => options.target = Some(name.to_owned()),
            extra => return Err(format!("one target at most (`{extra}` is a second)")),
        }
    }
    Ok(options)
}

/// The fuzz targets: the files of `fuzz/fuzz_targets/`, sorted.
fn targets(fuzz: &Path) -> Result<Vec<String>, String> {
    let dir = fuzz.join("fuzz_targets");
    let entries =
        std::fs::read_dir(&dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".rs").map(str::to_owned))
        .collect();
    names.sort();
    Ok(names)
}

/// libFuzzer's final numbers for one run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Stats {
    executions: Option<u64>,
    coverage: Option<u64>,
    features: Option<u64>,
}

impl Stats {
    /// Takes what a line of libFuzzer's output says: `stat::number_of_executed_units: N`
    /// (with `-print_final_stats=1`) and the `cov: N ft: M` of its status lines.
    fn read(&mut self, line: &str) {
        if let Some(v) = line.strip_prefix("stat::number_of_executed_units:") {
            self.executions = v.trim().parse().ok();
        }
        let mut words = line.split_whitespace();
        while let Some(w) = words.next() {
            match w {
                "cov:" => self.coverage = words.next().and_then(|v| v.parse().ok()),
                "ft:" => self.features = words.next().and_then(|v| v.parse().ok()),
                _ => {}
            }
        }
    }
}

fn nightly_cargo(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new("cargo");
    cmd.arg("+nightly").args(args).current_dir(dir);
    cmd
}

/// Nightly and cargo-fuzz are there, or cargo-fuzz is installed.
fn tools(root: &Path) -> Result<(), String> {
    let nightly = Command::new("rustup")
        .args(["run", "nightly", "rustc", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !nightly.is_ok_and(|s| s.success()) {
        return Err("the nightly toolchain is missing (cargo-fuzz needs it): \
                    `rustup toolchain install nightly`"
            .into());
    }
    let fuzz = nightly_cargo(root, &["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if fuzz.is_ok_and(|s| s.success()) {
        return Ok(());
    }
    println!("cargo-fuzz is not installed: installing it");
    stage::run(&mut nightly_cargo(
        root,
        &["install", "cargo-fuzz", "--locked"],
    ))
    .map_err(|e| format!("{e}; install it with `cargo +nightly install cargo-fuzz`"))
}

/// Runs one target for `seconds` on its corpus; its stats.
fn fuzz_one(root: &Path, target: &str, seconds: u64) -> Result<Stats, String> {
    let corpus = format!("fuzz/corpus/{target}");
    std::fs::create_dir_all(root.join(&corpus)).map_err(|e| format!("{corpus}: {e}"))?;
    let time = format!("-max_total_time={seconds}");
    let mut cmd = nightly_cargo(
        root,
        &[
            "fuzz",
            "run",
            target,
            &corpus,
            "--",
            &time,
            "-timeout=10",
            "-rss_limit_mb=2048",
            "-print_final_stats=1",
        ],
    );
    let mut stats = Stats::default();
    stage::run_reading_stderr(&mut cmd, |line| {
        // libFuzzer's progress: the pulses and new coverage lines are many;
        // print the rest (and every line of a crash report).
        if !line.contains(" NEW ") && !line.contains(" REDUCE ") && !line.contains(" pulse ") {
            eprintln!("{line}");
        }
        stats.read(line);
    })
    .map_err(|e| {
        format!(
            "{e}: a crash, a timeout or a leak; the reproducer is under \
             fuzz/artifacts/{target}/ — fix it and commit the reproducer"
        )
    })?;
    Ok(stats)
}

fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| d.filter(|e| e.is_ok()).count())
}

/// Runs `cargo xtask fuzz` with the arguments after `fuzz`.
pub fn run(args: &[String]) -> ExitCode {
    let options = match parse_args(args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("xtask fuzz: {e}");
            return ExitCode::from(2);
        }
    };
    let root = project_root();
    let fuzz = root.join("fuzz");
    let all = match targets(&fuzz) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("xtask fuzz: {e}");
            return ExitCode::FAILURE;
        }
    };
    let chosen: Vec<String> = match &options.target {
        Some(t) if all.contains(t) => vec![t.clone()],
        Some(t) => {
            eprintln!(
                "xtask fuzz: no target `{t}` (the targets are {})",
                all.join(", ")
            );
            return ExitCode::from(2);
        }
        None => all,
    };
    let mut stages = Stages::new("fuzz");
    stages.option(&format!("{} s per target", options.seconds));
    if !stages.stage("tools", || tools(&root)) {
        return stages.finish();
    }
    for target in &chosen {
        let mut result = None;
        stages.stage(target, || {
            result = Some(fuzz_one(&root, target, options.seconds)?);
            if options.cmin {
                let corpus = format!("fuzz/corpus/{target}");
                stage::run(&mut nightly_cargo(
                    &root,
                    &["fuzz", "cmin", target, &corpus],
                ))?;
            }
            Ok(())
        });
        if let Some(s) = result {
            let show = |v: Option<u64>| v.map_or("?".to_owned(), |v| v.to_string());
            let files = count_files(&fuzz.join("corpus").join(target));
            stages.note(&format!(
                "{target}: {} executions in {} s, cov {}, ft {}, {files} corpus files\n",
                show(s.executions),
                options.seconds,
                show(s.coverage),
                show(s.features)
            ));
        }
    }
    stages.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments() {
        let args = |a: &[&str]| parse_args(&a.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            args(&["--seconds", "30", "npy"]),
            Ok(Options {
                seconds: 30,
                cmin: false,
                target: Some("npy".into())
            })
        );
        assert_eq!(args(&[]).map(|o| o.seconds), Ok(DEFAULT_SECONDS));
        assert!(args(&["--seconds", "0"]).is_err());
        assert!(args(&["a", "b"]).is_err());
        assert!(args(&["--jobs"]).is_err());
    }

    #[test]
    fn final_stats_are_read() {
        let mut s = Stats::default();
        s.read("#4096\tpulse  cov: 10 ft: 12 corp: 3/40b");
        s.read("#91234\tDONE   cov: 812 ft: 2301 corp: 120/9Kb lim: 4096 exec/s: 152 rss: 80Mb");
        s.read("stat::number_of_executed_units: 91234");
        assert_eq!(
            s,
            Stats {
                executions: Some(91234),
                coverage: Some(812),
                features: Some(2301)
            }
        );
    }
}
