//! Usage: exit statuses (0 success, 1 failure, 2 usage), every command's `--help`
//! with examples, shell completions, `scanline kernels`, and errors that say what
//! to do.

mod support;

use clap::CommandFactory;
use scanline::preset::Preset;
use scanline_host::cli::{Cli, FAILURE, SUCCESS, USAGE};
use support::{fails, fixture, model, ok, photo, scanline, status, stderr, stdout, temp_dir};

/// Every subcommand path: `["run"]`, `["batch", "edges"]`, ...
fn command_paths() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        for sub in cmd.get_subcommands() {
            let mut path = prefix.to_vec();
            path.push(sub.get_name().to_string());
            walk(sub, &path, out);
            out.push(path);
        }
    }
    let mut out = Vec::new();
    walk(&Cli::command(), &[], &mut out);
    out
}

#[test]
fn exit_statuses_are_0_1_2() {
    assert_eq!((SUCCESS, FAILURE, USAGE), (0, 1, 2));
    // Success.
    assert_eq!(status(&scanline(["kernels"])), 0);
    assert_eq!(status(&scanline(["--version"])), 0);
    assert_eq!(status(&scanline(["--help"])), 0);
    // Failure: the command line is fine, the work is not.
    let missing = temp_dir("exit").join("missing.tflite");
    let out = scanline(["info".as_ref(), "--model".as_ref(), missing.as_os_str()]);
    assert_eq!(status(&out), 1);
    assert!(stderr(&out).starts_with("error: "));
    // Usage errors: no command, an unknown command or flag, a missing or bad value.
    for args in [
        vec![],
        vec!["frobnicate"],
        vec!["info"],
        vec!["info", "--model", "m.tflite", "--bogus"],
        vec![
            "run", "--model", "m.tflite", "--input", "i.npy", "--engine", "gpu",
        ],
        vec!["completions", "tcsh"],
    ] {
        let out = scanline(&args);
        assert_eq!(status(&out), 2, "{args:?}: {}", stderr(&out));
        assert_eq!(stdout(&out), "", "{args:?}");
    }
}

#[test]
fn every_help_has_examples_and_the_exit_statuses() {
    let paths = command_paths();
    assert_eq!(paths.len(), 12, "{paths:?}");
    for path in paths.iter().chain([&vec![]]) {
        let mut args = path.clone();
        args.push("--help".into());
        let help = ok(&args);
        assert!(help.contains("Examples:\n  scanline "), "{args:?}:\n{help}");
        assert!(
            help.contains("Exit status: 0 success; 1 failure") && help.contains("2 usage error"),
            "{args:?}:\n{help}"
        );
        // Each example of a command starts with that command.
        let own = format!("scanline {}", path.join(" "));
        assert!(
            help.lines()
                .filter(|l| l.starts_with("  scanline "))
                .any(|l| l.contains(own.trim_end())),
            "{args:?}:\n{help}"
        );
    }
}

#[test]
fn completions_for_every_shell() {
    for (shell, marker) in [
        ("bash", "complete -F"),
        ("zsh", "#compdef scanline"),
        ("fish", "complete -c scanline"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let script = ok(["completions", shell]);
        assert!(script.len() > 1000, "{shell}: {} bytes", script.len());
        assert!(script.contains(marker), "{shell} lacks {marker}");
        for sub in ["features", "batch", "kernels"] {
            assert!(script.contains(sub), "{shell} lacks {sub}");
        }
    }
}

#[test]
fn kernels_lists_every_preset_with_its_matrix() {
    let text = ok(["kernels"]);
    for p in Preset::ALL {
        let taps = p.taps();
        let block: Vec<&str> = text
            .split("\n\n")
            .filter(|b| b.starts_with(&format!("{}: ", p.name())))
            .collect();
        assert_eq!(block.len(), 1, "{}:\n{text}", p.name());
        let rows: Vec<Vec<i8>> = block[0]
            .lines()
            .skip(1)
            .map(|l| {
                l.split('/')
                    .next()
                    .unwrap()
                    .split_whitespace()
                    .map(|v| v.parse().unwrap())
                    .collect()
            })
            .collect();
        assert_eq!(rows.concat(), taps, "{}", p.name());
        let divisor = format!("/ {}", p.divisor());
        assert_eq!(
            block[0].contains(&divisor),
            p.divisor() != 1,
            "{}",
            p.name()
        );
    }
}

#[test]
fn an_unknown_kernel_suggests_the_closest_preset() {
    fails(
        [
            "edges".as_ref(),
            photo("coins.png").as_os_str(),
            "--kernel".as_ref(),
            "sobelx".as_ref(),
        ],
        "unknown kernel 'sobelx'; did you mean 'sobel-x'?",
    );
    fails(
        [
            "edges".as_ref(),
            photo("coins.png").as_os_str(),
            "-k".as_ref(),
            "gausian".as_ref(),
        ],
        "did you mean 'gaussian'?",
    );
}

#[test]
fn an_unsupported_model_says_which_operator_why_and_what_runs() {
    let input = fixture("n3_mini", "input.npy");
    let bad = scanline_testkit::fixture::tflite_bad;
    let err = fails(
        [
            "run".as_ref(),
            "--model".as_ref(),
            bad("unsupported_leaky.tflite").as_os_str(),
            "--input".as_ref(),
            input.as_os_str(),
            "--digest".as_ref(),
        ],
        "operator 1: LEAKY_RELU is not supported: the only activations scanline computes",
    );
    for op in [
        "CONV_2D",
        "DEPTHWISE_CONV_2D",
        "MAX_POOL_2D",
        "RELU6",
        "AVERAGE_POOL_2D",
        "FULLY_CONNECTED",
        "SOFTMAX",
        "QUANTIZE / DEQUANTIZE",
    ] {
        assert!(err.contains(op), "{err}");
    }
    fails(
        [
            "info".as_ref(),
            "--model".as_ref(),
            bad("float_model.tflite").as_os_str(),
        ],
        "a float (not fully quantized) model; convert it with full-integer quantization",
    );
    // Not a capture log: verify says so.
    let dir = temp_dir("verify");
    let log = dir.join("not-a-log.txt");
    std::fs::write(&log, "hello\n").unwrap();
    fails(
        ["verify".as_ref(), "--capture".as_ref(), log.as_os_str()],
        "no `scanline model=` line: not a capture log",
    );
    // A supported model still works.
    ok([
        "info".as_ref(),
        "--model".as_ref(),
        model("n3_mini").as_os_str(),
    ]);
}
