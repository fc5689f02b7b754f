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

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use scanline::pixel::{GrayRule, LineConverter, PixelFormat};
use scanline::{Model, Quant, Shape};
use scanline_firmware::job::{Dump, Job, ModelSpec};
use scanline_firmware::recording::{self, Header, Kind};
use scanline_host::verify::{self, Capture, Outcome};

use crate::project_root;
use crate::stage;

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
    let firmware = project_root().join("firmware");
    let mut cmd = Command::new("cargo");
    cmd.args(["build", "--release", "-p", "scanline-qemu"])
        .current_dir(&firmware);
    stage::run(&mut cmd)?;
    let elf = firmware.join("target/thumbv7em-none-eabihf/release/qemu");
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

// ------------------------------------------------------------ the host --
//
// Every call into scanline-host is in this section, so re-pointing them after
// the host's modules move is one edit.

mod host {
    use std::path::Path;

    use scanline::Shape;
    use scanline_host::network::Network;
    use scanline_host::picture::{self, Channels};
    use scanline_host::tensor::Tensor;

    /// A `.tflite` model loaded and imported by the host library.
    pub fn load(path: &Path) -> Result<Network, String> {
        Network::load(path).map_err(|e| e.to_string())
    }

    /// A `.npy` input for `net`, quantized as `scanline run` does.
    pub fn npy_input(net: &Network, path: &Path) -> Result<Tensor<i8>, String> {
        net.input_from_npy(path)
            .map(|input| input.int8)
            .map_err(|e| e.to_string())
    }

    /// A `.npy` int8 input for a model that is not a file (the edge model):
    /// shaped `[H, W, C]` or `[1, H, W, C]`.
    pub fn npy_int8(path: &Path) -> Result<Tensor<i8>, String> {
        let (shape, data) = scanline_host::npy::read_i8(path).map_err(|e| e.to_string())?;
        let s = match shape[..] {
            [h, w, c] | [1, h, w, c] => Shape::new(h, w, c),
            _ => {
                return Err(format!(
                    "{}: expected an int8 array shaped [H, W, C] or [1, H, W, C], found {shape:?}",
                    path.display()
                ));
            }
        };
        Tensor::new(s, data).map_err(|e| e.to_string())
    }

    /// An image's pixels as stored: 1 channel for a gray image, 3 for colour.
    pub fn picture(path: &Path) -> Result<Tensor<u8>, String> {
        picture::load(path, Channels::Keep).map_err(|e| e.to_string())
    }

    /// The frame engine's output.
    pub fn frame(model: &scanline::Model<'_>, input: &Tensor<i8>) -> Result<Tensor<i8>, String> {
        scanline_host::engine::run_frame(model, input).map_err(|e| e.to_string())
    }

    /// Writes an int8 output as `scanline run` does: the int8 tensor, or float32
    /// if the model ends with DEQUANTIZE (`float`), `.npy` or `.png` by the
    /// extension.
    pub fn save(
        values: Tensor<i8>,
        quant: scanline::Quant,
        float: bool,
        path: &Path,
    ) -> Result<(), String> {
        use scanline_host::output::Output;
        let output = if float {
            Output::Float(values.map(|q| quant.dequantize(q)))
        } else {
            Output::Int8 { values, quant }
        };
        output.save(path).map_err(|e| e.to_string())
    }

    /// Writes several frames as one int8 `.npy` shaped `[N, H, W, C]`.
    pub fn save_frames(
        path: &Path,
        frames: usize,
        shape: Shape,
        data: &[i8],
    ) -> Result<(), String> {
        scanline_host::npy::write_i8(
            path,
            &[frames, shape.height, shape.width, shape.channels],
            data,
        )
        .map_err(|e| e.to_string())
    }

    /// An `expected.npy` of a fixture: its int8 values, or `None` for a float32
    /// array (a float-output model, compared before its DEQUANTIZE).
    pub fn expected_int8(path: &Path) -> Result<Option<Vec<i8>>, String> {
        match scanline_host::npy::read_any(path)
            .map_err(|e| e.to_string())?
            .data
        {
            scanline_host::npy::Data::I8(v) => Ok(Some(v)),
            scanline_host::npy::Data::F32(_) => Ok(None),
            other => Err(format!(
                "{}: unexpected dtype {}",
                path.display(),
                other.dtype()
            )),
        }
    }

    pub use scanline_host::tensor::Tensor as HostTensor;
}

// ------------------------------------------------------------ the jobs --

/// Which model a job runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelChoice {
    /// A `.tflite` file.
    File(PathBuf),
    /// A `.tflite` file planned for the input's height and width.
    Fit(PathBuf),
    /// The built-in edge model over the input's channels, with a pool.
    Edges {
        /// Pool size (0: none).
        pool: u8,
    },
}

/// A job ready to run: the recording's bytes and the host's expected output.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// What runs.
    spec: String,
    /// Header and lines of the recording.
    recording: Vec<u8>,
    header: Header,
    /// Output shape of one frame.
    output: Shape,
    /// Output quantization, and whether the model ends with DEQUANTIZE.
    quant: Quant,
    float: bool,
    /// The host frame engine's output for every frame, back to back.
    expected: Vec<i8>,
}

impl Prepared {
    /// Writes the recording into `dir` and returns the job line for it; job
    /// `index` writes `output-<index>.bin`.
    pub fn job(&self, dir: &Path, index: usize, dump: Dump) -> Result<String, String> {
        let input = dir.join(format!("input-{index}.frames"));
        std::fs::write(&input, &self.recording).map_err(|e| format!("{}: {e}", input.display()))?;
        let output = dir.join(format!("output-{index}.bin"));
        let (input, output) = (path_str(&input)?, path_str(&output)?);
        let model = ModelSpec::parse(&self.spec).map_err(|e| e.to_string())?;
        Ok(Job {
            model,
            input: &input,
            output: &output,
            dump,
        }
        .to_string())
    }

    /// The host frame engine's output (all frames).
    pub fn expected(&self) -> &[i8] {
        &self.expected
    }

    /// Checks the firmware's output bytes and its capture against the host:
    /// byte for byte, and every logged digest.
    pub fn check(&self, output: &[u8], capture: Option<&Capture>) -> Result<(), String> {
        let capture = capture.ok_or("the firmware logged no model line (see the log above)")?;
        let frame_len = self.output.len();
        for f in 0..self.header.frames {
            let frame = capture.frames.iter().find(|fr| fr.number == f as u32);
            match frame.and_then(|fr| fr.outcome.as_ref()) {
                Some(Outcome::Ok { digest, .. }) => {
                    let want = &self.expected[f * frame_len..][..frame_len];
                    let host = digest_of(want);
                    if *digest != host {
                        return Err(format!(
                            "frame {f}: firmware digest {digest:08x}, host {host:08x}"
                        ));
                    }
                }
                Some(Outcome::Dropped { fault, error }) => {
                    return Err(format!(
                        "frame {f}: dropped by the firmware ({fault}): {error}"
                    ));
                }
                None => return Err(format!("frame {f}: no result in the log")),
            }
        }
        if output.len() != self.expected.len() {
            return Err(format!(
                "the output holds {} values, the host's {}",
                output.len(),
                self.expected.len()
            ));
        }
        if let Some(i) = output
            .iter()
            .zip(&self.expected)
            .position(|(&a, &b)| a as i8 != b)
        {
            let (f, rest) = (i / frame_len, i % frame_len);
            let row = self.output.row_len();
            return Err(format!(
                "frame {f}, row {}, column {}, channel {}: firmware {}, host {}",
                rest / row,
                rest % row / self.output.channels,
                rest % self.output.channels,
                output[i] as i8,
                self.expected[i]
            ));
        }
        Ok(())
    }

    /// Writes the firmware's output as `scanline run` would (one frame), or as
    /// an int8 `[N, H, W, C]` array (several frames).
    pub fn save(&self, output: &[u8], path: &Path) -> Result<(), String> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let values: Vec<i8> = output.iter().map(|&b| b as i8).collect();
        if self.header.frames == 1 {
            let t = host::HostTensor::new(self.output, values).map_err(|e| e.to_string())?;
            host::save(t, self.quant, self.float, path)
        } else {
            host::save_frames(path, self.header.frames, self.output, &values)
        }
    }
}

/// FNV-1a 32 of int8 values (the firmware's digest).
fn digest_of(v: &[i8]) -> u32 {
    let mut d = scanline::digest::Fnv1a32::new();
    d.update(v);
    d.value()
}

fn path_str(p: &Path) -> Result<String, String> {
    let s = p
        .to_str()
        .ok_or_else(|| format!("{}: not UTF-8", p.display()))?;
    if s.contains(['\t', '\n']) {
        return Err(format!("{s}: a path with a tab or newline"));
    }
    Ok(s.to_owned())
}

/// The rows of a recording's frames as int8 input tensors, by the core's
/// conversion (what the firmware computes from the same lines).
fn rows_of(
    model: &Model<'_>,
    header: &Header,
    lines: &[u8],
) -> Result<Vec<host::HostTensor<i8>>, String> {
    let shape = model.input_shape();
    let converter = match header.kind {
        Kind::Int8 { .. } => None,
        Kind::Pixels { format, gray } => Some(
            LineConverter::for_model(format, model)
                .map_err(|e| e.to_string())?
                .with_gray(gray),
        ),
    };
    let line_len = header.line_len();
    let mut frames = Vec::new();
    for frame in lines.chunks(header.frame_len()) {
        let mut data = vec![0i8; shape.len()];
        for (row, line) in data.chunks_mut(shape.row_len()).zip(frame.chunks(line_len)) {
            match &converter {
                Some(c) => c.convert(line, row).map_err(|e| e.to_string())?,
                None => row.iter_mut().zip(line).for_each(|(r, &b)| *r = b as i8),
            }
        }
        frames.push(host::HostTensor::new(shape, data).map_err(|e| e.to_string())?);
    }
    Ok(frames)
}

/// Prepares a job: reads the model and the input, makes the recording and
/// computes the host's answer.
pub fn prepare(
    model: &ModelChoice,
    input: &Path,
    raw: Option<(PixelFormat, usize)>,
) -> Result<Prepared, String> {
    let is_npy = input
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"));
    match model {
        ModelChoice::File(path) | ModelChoice::Fit(path) => {
            let fit = matches!(model, ModelChoice::Fit(_));
            let net = host::load(path)?;
            let import = net.import().map_err(|e| e.to_string())?;
            let planned;
            let mut m = import.model();
            let s = m.input_shape();
            let (header, lines) = if let Some((format, width)) = raw {
                raw_recording(input, format, width, (!fit).then_some(s.height))?
            } else if is_npy {
                let t = host::npy_input(&net, input)?;
                int8_recording(&t)
            } else {
                image_recording(input)?
            };
            if fit {
                planned = Model::new(
                    Shape::new(header.height, header.width, s.channels),
                    m.input_quant(),
                    m.layers(),
                    m.rounding(),
                )
                .map_err(|e| {
                    format!(
                        "{} planned for {}x{}: {e}",
                        path.display(),
                        header.height,
                        header.width
                    )
                })?;
                m = &planned;
            }
            if (header.height, header.width) != (m.input_shape().height, m.input_shape().width) {
                return Err(format!(
                    "{}: {}x{} (HxW), the model takes {}x{}",
                    input.display(),
                    header.height,
                    header.width,
                    s.height,
                    s.width
                ));
            }
            let absolute =
                std::fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let spec = if fit {
                format!("fit:{}", path_str(&absolute)?)
            } else {
                path_str(&absolute)?
            };
            finish(spec, m, import.float_output().is_some(), header, lines)
        }
        ModelChoice::Edges { pool } => {
            let (header, lines) = if let Some((format, width)) = raw {
                raw_recording(input, format, width, None)?
            } else if is_npy {
                int8_recording(&host::npy_int8(input)?)
            } else {
                image_recording(input)?
            };
            // Gray pictures and gray8 frames feed a gray model, colour a colour one.
            let channels = match header.kind {
                Kind::Int8 { channels } => channels,
                Kind::Pixels {
                    format: PixelFormat::Gray8,
                    ..
                } => 1,
                Kind::Pixels { .. } => 3,
            };
            let channels = u8::try_from(channels)
                .ok()
                .filter(|&c| c == 1 || c == 3)
                .ok_or_else(|| {
                    format!("the edge model takes 1 or 3 channels, the input has {channels}")
                })?;
            let edges =
                scanline_firmware::job::edge_model(channels, *pool).map_err(|e| e.to_string())?;
            let m = edges
                .model(header.height, header.width)
                .map_err(|e| e.to_string())?;
            let spec = ModelSpec::Edges {
                channels,
                pool: *pool,
            }
            .to_string();
            finish(spec, &m, false, header, lines)
        }
    }
}

fn finish(
    spec: String,
    model: &Model<'_>,
    float: bool,
    header: Header,
    lines: Vec<u8>,
) -> Result<Prepared, String> {
    let mut expected = Vec::new();
    for t in rows_of(model, &header, &lines)? {
        expected.extend(host::frame(model, &t)?.data);
    }
    let mut recording = header.to_bytes().to_vec();
    recording.extend(lines);
    Ok(Prepared {
        spec,
        recording,
        header,
        output: model.output_shape(),
        quant: model.output_quant(),
        float,
        expected,
    })
}

fn int8_recording(t: &host::HostTensor<i8>) -> (Header, Vec<u8>) {
    let s = t.shape;
    let header = Header {
        kind: Kind::Int8 {
            channels: s.channels,
        },
        width: s.width,
        height: s.height,
        frames: 1,
    };
    (header, t.data.iter().map(|&v| v as u8).collect())
}

/// An image's lines as stored (Gray8 or RGB888); a gray model takes colour
/// lines by TensorFlow's rule, as `scanline run` does for photos.
fn image_recording(path: &Path) -> Result<(Header, Vec<u8>), String> {
    let p = host::picture(path)?;
    let format = match p.shape.channels {
        1 => PixelFormat::Gray8,
        3 => PixelFormat::Rgb888,
        c => return Err(format!("{}: an image of {c} channels", path.display())),
    };
    Ok((
        Header {
            kind: Kind::Pixels {
                format,
                gray: GrayRule::TensorFlow,
            },
            width: p.shape.width,
            height: p.shape.height,
            frames: 1,
        },
        p.data,
    ))
}

/// Raw camera frames: `height` lines per frame (all of the file for `None`),
/// gray by integer luma (a camera pipeline's rule).
fn raw_recording(
    path: &Path,
    format: PixelFormat,
    width: usize,
    height: Option<usize>,
) -> Result<(Header, Vec<u8>), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let line = width * format.bytes_per_pixel();
    if bytes.is_empty() || !bytes.len().is_multiple_of(line) {
        return Err(format!(
            "{}: {} bytes are not whole lines of {line} bytes ({width} {} pixels)",
            path.display(),
            bytes.len(),
            recording::format_name(format)
        ));
    }
    let lines = bytes.len() / line;
    let height = height.unwrap_or(lines);
    if !lines.is_multiple_of(height) {
        return Err(format!(
            "{}: {lines} lines are not whole frames of {height} lines",
            path.display()
        ));
    }
    Ok((
        Header {
            kind: Kind::Pixels {
                format,
                gray: GrayRule::IntegerLuma,
            },
            width,
            height,
            frames: lines / height,
        },
        bytes,
    ))
}

// ------------------------------------------------------------ the boot --

/// One QEMU run: the decoded log and the exit status.
#[derive(Debug, Clone)]
pub struct Boot {
    /// Decoded defmt lines, `LEVEL message`.
    pub log: Vec<String>,
    /// QEMU's exit status (the firmware's semihosting exit code).
    pub exit: i32,
    /// Wall time of the run.
    pub secs: f64,
}

/// The QEMU command line for `elf`.
pub fn qemu_command(elf: &Path) -> Command {
    let mut cmd = Command::new("qemu-system-arm");
    cmd.args([
        "-machine",
        "mps2-an386",
        "-cpu",
        "cortex-m4",
        "-nographic",
        "-monitor",
        "none",
        "-serial",
        "none",
        "-semihosting-config",
        "enable=on,target=native",
        "-icount",
        "shift=0",
        "-kernel",
    ])
    .arg(elf);
    cmd
}

/// Boots `elf` in QEMU with `jobs` as its job list, in `dir`; a run longer
/// than `timeout` is killed and reported as a hang.
pub fn boot(elf: &Path, dir: &Path, jobs: &[String], timeout: Duration) -> Result<Boot, String> {
    let list = jobs.join("\n") + "\n";
    std::fs::write(dir.join("scanline-jobs.txt"), list)
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let elf_bytes = std::fs::read(elf).map_err(|e| format!("{}: {e}", elf.display()))?;
    let mut cmd = qemu_command(elf);
    cmd.current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    println!("$ {}", stage::show(&cmd));
    let start = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("qemu-system-arm could not be started: {e}"))?;
    let mut stdout = child.stdout.take().ok_or("no stdout pipe")?;
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = stdout.read_to_end(&mut buf);
        buf
    });
    let mut stderr = child.stderr.take().ok_or("no stderr pipe")?;
    let err_reader = std::thread::spawn(move || {
        let mut buf = String::new();
        let _ = stderr.read_to_string(&mut buf);
        buf
    });
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(status);
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let bytes = reader.join().map_err(|_| "the stdout reader panicked")?;
    let errors = err_reader
        .join()
        .map_err(|_| "the stderr reader panicked")?;
    let log = decode(&elf_bytes, &bytes)?;
    let secs = start.elapsed().as_secs_f64();
    let Some(status) = status else {
        return Err(format!(
            "QEMU did not finish within {} s (a hang); the log so far:\n{}",
            timeout.as_secs(),
            log.join("\n")
        ));
    };
    if !errors.trim().is_empty() {
        eprintln!("qemu stderr: {}", errors.trim());
    }
    let exit = status.code().ok_or("QEMU was killed by a signal")?;
    Ok(Boot { log, exit, secs })
}

/// Decodes the firmware's defmt stream with the ELF's table, in-process.
pub fn decode(elf: &[u8], stream: &[u8]) -> Result<Vec<String>, String> {
    let table = defmt_decoder::Table::parse(elf)
        .map_err(|e| format!("the ELF's defmt table: {e}"))?
        .ok_or("the ELF has no defmt table (not a defmt firmware)")?;
    let mut decoder = table.new_stream_decoder();
    decoder.received(stream);
    let mut lines = Vec::new();
    loop {
        match decoder.decode() {
            Ok(frame) => {
                let level = frame.level().map_or("", |l| l.as_str());
                lines.push(format!(
                    "{:<5} {}",
                    level.to_uppercase(),
                    frame.display_message()
                ));
            }
            Err(defmt_decoder::DecodeError::UnexpectedEof) => break,
            Err(defmt_decoder::DecodeError::Malformed) => {
                lines.push("ERROR (a malformed defmt frame: the log is corrupt from here)".into());
                break;
            }
        }
    }
    Ok(lines)
}

// ------------------------------------------------- the `test` stage --

/// One job of the test boot and what it is checked against.
struct TestJob {
    name: String,
    prepared: Prepared,
    /// The fixture's `expected.npy` (int8 models only).
    expected: Option<Vec<i8>>,
    /// Whether its capture log (dump `full`) is checked by `scanline verify`'s
    /// checker too.
    verify: bool,
}

/// The firmware stage of `cargo xtask test`: every `.tflite` fixture, every
/// bundled photo through the edge model (as image lines and as RGB565 raw
/// frames), a multi-frame raw recording checked through its capture log, all in
/// one QEMU boot; then a truncated recording in a second boot, which must fail
/// cleanly naming the line. Fails unless every output equals the host's.
pub fn test_stage(install: bool) -> Result<(), String> {
    crate::test::ensure_qemu(install)?;
    let elf = build_firmware()?;
    let root = project_root();
    let work = work_dir("test")?;
    let mut jobs = Vec::new();

    let fixtures = root.join("tests/fixtures/tflite");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .map_err(|e| format!("{}: {e}", fixtures.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("model.tflite").is_file() && p.join("input.npy").is_file())
        .collect();
    dirs.sort();
    if dirs.len() < 10 {
        return Err(format!(
            "only {} fixtures found in {}",
            dirs.len(),
            fixtures.display()
        ));
    }
    for dir in &dirs {
        let name = dir
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        let model = ModelChoice::File(dir.join("model.tflite"));
        let prepared =
            prepare(&model, &dir.join("input.npy"), None).map_err(|e| format!("{name}: {e}"))?;
        let expected = host::expected_int8(&dir.join("expected.npy"))?;
        if let Some(e) = &expected
            && e != prepared.expected()
        {
            return Err(format!(
                "{name}: the host frame engine differs from expected.npy"
            ));
        }
        jobs.push(TestJob {
            verify: name == "n3_mini",
            name,
            prepared,
            expected,
        });
    }

    let photos = root.join("tests/data");
    let mut pngs: Vec<PathBuf> = std::fs::read_dir(&photos)
        .map_err(|e| format!("{}: {e}", photos.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    pngs.sort();
    if pngs.is_empty() {
        return Err(format!("no photos in {}", photos.display()));
    }
    let edges = ModelChoice::Edges { pool: 2 };
    for png in &pngs {
        let name = png
            .file_name()
            .map_or(String::new(), |n| n.to_string_lossy().into_owned());
        jobs.push(TestJob {
            name: format!("{name} (edges, image lines)"),
            prepared: prepare(&edges, png, None).map_err(|e| format!("{name}: {e}"))?,
            expected: None,
            verify: false,
        });
        let pixels = host::picture(png)?;
        let raw = work.join(format!("{name}.rgb565"));
        std::fs::write(&raw, rgb565_be(&pixels.data, pixels.shape.channels))
            .map_err(|e| format!("{}: {e}", raw.display()))?;
        let format = PixelFormat::Rgb565(scanline::pixel::ByteOrder::Big);
        jobs.push(TestJob {
            name: format!("{name} (edges, RGB565 frame)"),
            prepared: prepare(&edges, &raw, Some((format, pixels.shape.width)))
                .map_err(|e| format!("{name} as RGB565: {e}"))?,
            expected: None,
            verify: false,
        });
    }
    // Three small RGB565 frames cut from the first photo, dumped in full: the
    // capture log is checked by the verifier as a board's would be.
    let pixels = host::picture(&pngs[0])?;
    let (h, w, c) = (24, 32, pixels.shape.channels);
    let mut crops = Vec::new();
    for f in 0..3 {
        for y in 0..h {
            let start = ((f * 40 + y) * pixels.shape.width + f * 50) * c;
            crops.extend_from_slice(&pixels.data[start..start + w * c]);
        }
    }
    let raw = work.join("crops.rgb565");
    std::fs::write(&raw, rgb565_be(&crops, c)).map_err(|e| format!("{}: {e}", raw.display()))?;
    let format = PixelFormat::Rgb565(scanline::pixel::ByteOrder::Big);
    let (header, lines) = raw_recording(&raw, format, w, Some(h))?;
    let edges3 = scanline_firmware::job::edge_model(3, 2).map_err(|e| e.to_string())?;
    let m = edges3.model(h, w).map_err(|e| e.to_string())?;
    let spec = ModelSpec::Edges {
        channels: 3,
        pool: 2,
    }
    .to_string();
    let crop_job = finish(spec, &m, false, header, lines)?;
    jobs.push(TestJob {
        name: "three RGB565 crops (capture log)".into(),
        prepared: crop_job,
        expected: None,
        verify: true,
    });

    let lines: Vec<String> = jobs
        .iter()
        .enumerate()
        .map(|(i, j)| {
            let dump = if j.verify { Dump::Full } else { Dump::Digest };
            j.prepared.job(&work, i, dump)
        })
        .collect::<Result<_, _>>()?;
    let boot1 = boot(&elf, &work, &lines, Duration::from_secs(DEFAULT_TIMEOUT))?;
    let text = boot1.log.join("\n");
    std::fs::write(work.join("capture.log"), &text).map_err(|e| e.to_string())?;
    let captures = verify::parse(&text).map_err(|e| e.to_string())?;
    print!("{}", report(&boot1, &captures));
    let mut failures = Vec::new();
    if captures.len() != jobs.len() {
        failures.push(format!(
            "{} jobs ran, {} logged a model line (log: {})",
            jobs.len(),
            captures.len(),
            work.join("capture.log").display()
        ));
    }
    for (i, job) in jobs.iter().enumerate() {
        let output = std::fs::read(work.join(format!("output-{i}.bin"))).unwrap_or_default();
        let capture = captures.get(i);
        if let Err(e) = job.prepared.check(&output, capture) {
            failures.push(format!("{}: {e}", job.name));
            continue;
        }
        if let Some(expected) = &job.expected
            && output.iter().map(|&b| b as i8).ne(expected.iter().copied())
        {
            failures.push(format!(
                "{}: the firmware's output differs from expected.npy",
                job.name
            ));
        }
        if job.verify
            && let Some(capture) = capture
            && let Err(e) = verify_capture(&job.prepared, capture)
        {
            failures.push(format!("{}: verify: {e}", job.name));
        }
    }
    if boot1.exit != 0 {
        failures.push(format!(
            "the firmware exited with {} (log: {})",
            boot1.exit,
            work.join("capture.log").display()
        ));
    }
    println!(
        "firmware qemu: {} jobs ({} fixtures, {} photo runs, 1 capture) in one boot, {:.1} s",
        jobs.len(),
        dirs.len(),
        2 * pngs.len(),
        boot1.secs
    );

    // A truncated recording: frame 0 whole, frame 1 cut in line 17.
    let n3 = jobs
        .iter()
        .find(|j| j.name == "n3_mini")
        .ok_or("the n3_mini fixture is missing")?;
    let mut cut = n3.prepared.recording.clone();
    let mut header = n3.prepared.header;
    header.frames = 2;
    cut[..recording::HEADER_LEN].copy_from_slice(&header.to_bytes());
    let frame = n3.prepared.recording[recording::HEADER_LEN..].to_vec();
    cut.extend_from_slice(&frame[..17 * header.line_len() + 5]);
    let truncated = Prepared {
        recording: cut,
        header,
        ..n3.prepared.clone()
    };
    let job = truncated.job(&work, 999, Dump::Digest)?;
    let boot2 = boot(&elf, &work, &[job], Duration::from_secs(DEFAULT_TIMEOUT))?;
    let text2 = boot2.log.join("\n");
    let names_line = text2.contains("dropped fault=line error=line 17: 5 of 40 bytes came");
    if boot2.exit != 1 || !names_line || !text2.contains("frame=0 ok") {
        failures.push(format!(
            "a truncated recording must end in exit 1 with frame 0 ok and frame 1 dropped at \
             line 17; got exit {} and:\n{text2}",
            boot2.exit
        ));
    } else {
        println!(
            "truncated recording: frame 0 ok, frame 1 dropped at line 17, exit 1 (as it must)"
        );
    }
    if failures.is_empty() {
        // The boot's files are kept only when something went wrong.
        let _ = std::fs::remove_dir_all(&work);
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}

/// Checks a capture log with `scanline verify`'s checker, every frame.
fn verify_capture(prepared: &Prepared, capture: &Capture) -> Result<(), String> {
    let spec = ModelSpec::parse(&prepared.spec).map_err(|e| e.to_string())?;
    let (channels, pool) = match spec {
        ModelSpec::Edges { channels, pool } => (channels, pool),
        ModelSpec::File(path) => {
            let net = host::load(Path::new(path))?;
            let import = net.import().map_err(|e| e.to_string())?;
            return verify_frames(capture, import.model(), prepared.header.frames);
        }
        ModelSpec::Fit(_) => return Err("capture checks of fit: models are not wired".into()),
    };
    let edges = scanline_firmware::job::edge_model(channels, pool).map_err(|e| e.to_string())?;
    let model = edges
        .model(prepared.header.height, prepared.header.width)
        .map_err(|e| e.to_string())?;
    verify_frames(capture, &model, prepared.header.frames)
}

fn verify_frames(capture: &Capture, model: &Model<'_>, frames: usize) -> Result<(), String> {
    if capture.frames.len() != frames {
        return Err(format!(
            "{} frames logged, {frames} expected",
            capture.frames.len()
        ));
    }
    for f in &capture.frames {
        if f.rows.is_empty() || f.lines.is_empty() {
            return Err(format!(
                "frame {}: its lines and rows were not dumped",
                f.number
            ));
        }
        match verify::check_frame(capture, f, model).map_err(|e| e.to_string())? {
            verify::Verdict::Match => {}
            other => return Err(format!("frame {}: {other}", f.number)),
        }
    }
    Ok(())
}

/// RGB565, high byte first, of 8-bit pixels (gray replicated into R, G, B).
fn rgb565_be(pixels: &[u8], channels: usize) -> Vec<u8> {
    pixels
        .chunks_exact(channels)
        .flat_map(|p| {
            let (r, g, b) = if channels == 3 {
                (p[0], p[1], p[2])
            } else {
                (p[0], p[0], p[0])
            };
            let v = (u16::from(r >> 3) << 11) | (u16::from(g >> 2) << 5) | u16::from(b >> 3);
            v.to_be_bytes()
        })
        .collect()
}

// ---------------------------------------------------------- the report --

/// The per-frame report of a boot, as a table.
pub fn report(boot: &Boot, captures: &[Capture]) -> String {
    let mut out = String::new();
    let machine = boot
        .log
        .iter()
        .find(|l| l.contains("scanline machine="))
        .map(|l| field_text(l, "statics"))
        .unwrap_or_default();
    let stack = boot
        .log
        .iter()
        .rev()
        .find(|l| l.contains("stack_high_water="))
        .map(|l| field_text(l, "stack_high_water"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "QEMU mps2-an386, -icount shift=0 (1 SysTick tick = 40 instructions): statics {machine} bytes, stack high-water {stack} bytes, {:.2} s",
        boot.secs
    );
    let arena: Vec<String> = boot
        .log
        .iter()
        .filter(|l| l.contains("scanline model="))
        .map(|l| field_text(l, "arena"))
        .collect();
    let _ = writeln!(
        out,
        "{:>3} {:>5}  {:>14} {:>14} {:>14} {:>10} {:>8} {:>9}  model",
        "job", "frame", "instructions", "pipeline", "worst push_row", "arena", "stack", "digest",
    );
    for (j, c) in captures.iter().enumerate() {
        for f in &c.frames {
            let m = |k: &str| f.measures.get(k).cloned().unwrap_or_else(|| "-".into());
            let digest = match &f.outcome {
                Some(Outcome::Ok { digest, .. }) => format!("{digest:08x}"),
                Some(Outcome::Dropped { fault, .. }) => format!("({fault})"),
                None => "-".into(),
            };
            let _ = writeln!(
                out,
                "{j:>3} {:>5}  {:>14} {:>14} {:>14} {:>10} {:>8} {:>9}  {}",
                f.number,
                m("instructions"),
                m("pipeline"),
                m("worst_push_row"),
                arena.get(j).cloned().unwrap_or_default(),
                m("stack"),
                digest,
                c.header.model
            );
        }
    }
    out
}

/// The value of `key=` in a log line ("" if absent).
fn field_text(line: &str, key: &str) -> String {
    line.split_whitespace()
        .find_map(|w| w.strip_prefix(key).and_then(|r| r.strip_prefix('=')))
        .unwrap_or("")
        .to_owned()
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
