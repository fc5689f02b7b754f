//! Qemu: `cargo xtask qemu` — run the firmware on QEMU's mps2-an386 (Cortex-M4F)
//! over a model and an input with `scanline run`'s contract, decode its defmt
//! log in-process, write the output and print the per-frame report; plus the
//! pieces the firmware stage of `cargo xtask test` uses to run many jobs in one
//! boot.
//!
//! The input becomes a recording (`scanline_firmware::recording`): `.npy`
//! inputs as int8 rows (quantized by the host library exactly as `scanline run`
//! does), images as their raw RGB888 or Gray8 lines and raw frames as they are,
//! both converted by the firmware with the core's `LineConverter` (the camera's
//! path). The host's answer is the core's frame engine over the same rows.

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Duration;

use scanline::pixel::PixelFormat;
use scanline_firmware::job::Dump;
use scanline_firmware::recording::{self};
use scanline_host::verify::{self};

use crate::project_root;
use crate::stage;

mod boot;
pub(crate) mod host;
mod job;
mod report;
mod soak;
mod test_stage;

pub use boot::*;
pub use job::*;
pub use report::*;
pub use soak::*;
pub use test_stage::*;

/// Seconds a QEMU boot may take before it counts as a hang.
const DEFAULT_TIMEOUT: u64 = 300;

const USAGE: &str = "\
usage: cargo xtask qemu [--model M.tflite] [--input IN] [--output OUT]
                        [--pixel-format gray8|rgb565le|rgb565be|rgb888|yuyv --width W]
                        [--dump digest|input|full] [--capture LOG] [--elf ELF]
                        [--fit] [--timeout SECS]

Runs the firmware in QEMU (mps2-an386, Cortex-M4F, -icount shift=0) with the
same input and output contract as `scanline run`: IN is a .npy (int8, or
float32 for a float-input model), an image (PNG/JPEG; gray for a gray image,
RGB lines otherwise, converted to the model's input by the firmware), or raw
camera frames (--pixel-format and --width; as many frames as the file holds).
Without --model the built-in edge model runs (laplacian8 stacked over the
input's channels, ReLU, 2x2 max-pool). OUT is .npy (int8, or float32 if the
model ends with DEQUANTIZE); default target/qemu/output.npy. IN defaults to
tests/data/coins.png.

Prints the decoded per-frame report (guest instructions, worst push_row,
arena, statics, stack high-water, digest) and compares the output with the
host's frame engine; exits non-zero if they differ or a frame was dropped.
--dump input|full also logs the input lines (and output rows): the capture
log `scanline verify` reads; --capture writes the decoded log to a file.
--elf runs that firmware ELF instead of building firmware/'s qemu binary.
--fit plans the model's layers for the input's height and width (the same
weights over another frame size, as `scanline info --width` does), e.g. the
30x40 n3_mini fixture on a QVGA frame.

cargo xtask qemu --test-stage runs the firmware QEMU stage of `cargo xtask
test` alone (every fixture, every photo, a capture log, a truncated input).
";

/// The options of `cargo xtask qemu`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Options {
    model: Option<PathBuf>,
    input: PathBuf,
    output: PathBuf,
    raw: Option<(PixelFormat, usize)>,
    dump: Dump,
    capture: Option<PathBuf>,
    elf: Option<PathBuf>,
    timeout: u64,
    fit: bool,
}

fn parse_args(args: &[String]) -> Result<Options, String> {
    let root = project_root();
    let mut o = Options {
        model: None,
        input: root.join("tests/data/coins.png"),
        output: root.join("target/qemu/output.npy"),
        raw: None,
        dump: Dump::Digest,
        capture: None,
        elf: None,
        timeout: DEFAULT_TIMEOUT,
        fit: false,
    };
    let (mut format, mut width) = (None, None);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--model" => o.model = Some(value("--model")?.into()),
            "--input" => o.input = value("--input")?.into(),
            "--output" => o.output = value("--output")?.into(),
            "--capture" => o.capture = Some(value("--capture")?.into()),
            "--elf" => o.elf = Some(value("--elf")?.into()),
            "--fit" => o.fit = true,
            "--pixel-format" => {
                let v = value("--pixel-format")?;
                format = Some(recording::format_named(&v).ok_or_else(|| {
                    format!(
                        "--pixel-format {v}: expected gray8, rgb565le, rgb565be, rgb888 or yuyv"
                    )
                })?);
            }
            "--width" => {
                let v = value("--width")?;
                width = Some(
                    v.parse::<usize>()
                        .ok()
                        .filter(|&w| w > 0)
                        .ok_or_else(|| format!("--width {v}: expected a positive integer"))?,
                );
            }
            "--dump" => {
                let v = value("--dump")?;
                o.dump = Dump::named(&v)
                    .ok_or_else(|| format!("--dump {v}: expected digest, input or full"))?;
            }
            "--timeout" => {
                let v = value("--timeout")?;
                o.timeout = v
                    .parse()
                    .map_err(|_| format!("--timeout {v}: expected seconds"))?;
            }
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    o.raw = match (format, width) {
        (Some(f), Some(w)) => Some((f, w)),
        (None, None) => None,
        _ => return Err("--pixel-format and --width go together".into()),
    };
    Ok(o)
}

/// Runs `cargo xtask qemu` with the arguments after `qemu`.
pub fn run(args: &[String]) -> ExitCode {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        print!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if args == ["--test-stage"] {
        return match test_stage(true) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("xtask qemu --test-stage: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let options = match parse_args(args) {
        Ok(o) => o,
        Err(e) => {
            eprint!("xtask qemu: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run_options(&options) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("xtask qemu: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run_options(o: &Options) -> Result<bool, String> {
    crate::test::ensure_qemu(true)?;
    let elf = match &o.elf {
        Some(elf) => elf.clone(),
        None => build_firmware()?,
    };
    let model = match &o.model {
        Some(path) if o.fit => ModelChoice::Fit(path.clone()),
        Some(path) => ModelChoice::File(path.clone()),
        None => ModelChoice::Edges { pool: 2 },
    };
    let prepared = prepare(&model, &o.input, o.raw)?;
    let work = work_dir("run")?;
    let job = prepared.job(&work, 0, o.dump)?;
    let boot = boot(&elf, &work, &[job], Duration::from_secs(o.timeout))?;
    if let Some(path) = &o.capture {
        std::fs::write(path, boot.log.join("\n") + "\n")
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    for line in &boot.log {
        if o.dump == Dump::Digest || !(line.contains(" line=") || line.contains(" row=")) {
            println!("{line}");
        }
    }
    let captures = verify::parse(&boot.log.join("\n")).map_err(|e| e.to_string())?;
    let output = std::fs::read(work.join("output-0.bin"))
        .map_err(|e| format!("the firmware wrote no output: {e}"))?;
    let checked = prepared.check(&output, captures.first());
    prepared.save(&output, &o.output)?;
    println!();
    print!("{}", report(&boot, &captures));
    println!("output: {}", o.output.display());
    match (&checked, boot.exit) {
        (Ok(()), 0) => {
            println!("firmware == host frame engine: identical");
            // The boot's files are kept only when something went wrong.
            let _ = std::fs::remove_dir_all(&work);
            Ok(true)
        }
        (Ok(()), code) => {
            println!("firmware exited with {code}");
            Ok(false)
        }
        (Err(e), _) => {
            println!("firmware != host: {e}");
            Ok(false)
        }
    }
}

/// Builds the firmware's `qemu` binary (release) and returns its ELF.
pub fn build_firmware() -> Result<PathBuf, String> {
    build_firmware_binary("scanline-qemu", "qemu")
}

/// Builds firmware package `package` (release) and returns its ELF `bin`.
pub fn build_firmware_binary(package: &str, bin: &str) -> Result<PathBuf, String> {
    let firmware = project_root().join("firmware");
    let mut cmd = Command::new("cargo");
    cmd.args(["build", "--release", "-p", package])
        .current_dir(&firmware);
    stage::run(&mut cmd)?;
    let elf = firmware
        .join("target/thumbv7em-none-eabihf/release")
        .join(bin);
    if elf.is_file() {
        Ok(elf)
    } else {
        Err(format!("the build did not produce {}", elf.display()))
    }
}

/// A fresh directory under `target/qemu/` for one boot's files.
pub fn work_dir(name: &str) -> Result<PathBuf, String> {
    let dir = project_root()
        .join("target/qemu")
        .join(format!("{name}-{}", std::process::id()));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn options() {
        let o = parse_args(&args(&[
            "--model",
            "m.tflite",
            "--input",
            "x.raw",
            "--pixel-format",
            "rgb565be",
            "--width",
            "320",
        ]))
        .unwrap();
        assert_eq!(o.model, Some(PathBuf::from("m.tflite")));
        assert_eq!(
            o.raw,
            Some((PixelFormat::Rgb565(scanline::pixel::ByteOrder::Big), 320))
        );
        assert!(
            parse_args(&args(&["--width", "320"]))
                .unwrap_err()
                .contains("go together")
        );
        assert!(
            parse_args(&args(&["--pixel-format", "bgr"]))
                .unwrap_err()
                .contains("rgb565be")
        );
        assert!(
            parse_args(&args(&["--frobnicate"]))
                .unwrap_err()
                .contains("--frobnicate")
        );
        assert!(
            parse_args(&args(&["--dump", "all"]))
                .unwrap_err()
                .contains("digest, input or full")
        );
    }

    #[test]
    fn fields_of_log_lines() {
        let l = "INFO  scanline model=x input=1x2x3 arena=120";
        assert_eq!(field_text(l, "arena"), "120");
        assert_eq!(field_text(l, "stack"), "");
    }
}
