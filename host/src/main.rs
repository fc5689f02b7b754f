//! The `scanline` command line: the edge-detection walkthrough on photos, and
//! running (`run`), inspecting (`info`) and checking (`compare`) quantized
//! `.tflite` models.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use scanline_host::edges::{Edges, INPUT_QUANT, Stages};
use scanline_host::engine::Engine;
use scanline_host::kernel;
use scanline_host::network::{self, Network};
use scanline_host::{npy, panel, picture};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// scanline: the front of a CNN (convolution, ReLU, max-pooling) in int8, bit-exact
/// with TensorFlow Lite, from a whole photo on the PC to one camera line at a time
/// on a microcontroller.
#[derive(Parser)]
#[command(
    name = "scanline",
    version,
    after_help = "Examples:\n  \
    scanline edges photo.png --pool 2\n  \
    scanline run --model model.tflite --input photo.png --output maps.png\n  \
    scanline run --model model.tflite --input input.npy --output out.npy --engine frame\n  \
    scanline info --model model.tflite --width 320\n  \
    scanline compare --model model.tflite --input input.npy --diff diff.png"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Edge detection, the classic convolution walkthrough: kernel, ReLU, max-pool.
    ///
    /// Convolves the image with a 3x3 (or any odd size up to 11) kernel, SAME
    /// padding, stride 1 (tf.nn.conv2d), applies ReLU (tf.nn.relu) and, with
    /// --pool N, NxN max-pooling with stride N, VALID (Keras MaxPool2D). A colour
    /// image gets the kernel stacked over its three channels into one output map.
    /// Writes a PNG panel: input | convolution | after ReLU | after pooling.
    Edges(EdgesArgs),
    /// Run a quantized .tflite model on one input and write its output.
    ///
    /// The model: a chain of CONV_2D, DEPTHWISE_CONV_2D, MAX_POOL_2D, RELU, RELU6
    /// on int8 tensors, optionally with QUANTIZE / DEQUANTIZE at its float input
    /// and output (what the TFLite converter writes for a full-int8 Keras model).
    ///
    /// The input: a .npy array shaped like the model input, [1,H,W,C] or [H,W,C]:
    /// int8, or float32 for a float-input model; or a PNG/JPEG image (1-channel
    /// models get it in gray, 3-channel ones in RGB; pixel/255 is quantized with
    /// the model's input parameters; its size must match unless --resize).
    ///
    /// The output: .npy — for frame and stream exactly the model's output tensor
    /// (int8 [1,H,W,C], or float32 if the model ends with DEQUANTIZE), for float the
    /// f32 reference's real values (float32); or .png — a feature-map picture: a
    /// grid of all output channels ("channel c"), each coloured with viridis over
    /// its own range (written under it).
    Run(RunArgs),
    /// Show a .tflite model layer by layer, and its memory: streaming vs full frame.
    ///
    /// Per layer: the TFLite operator and its index, input -> output shapes, kernel,
    /// stride, dilation and padding, fused activation, quantization (input and
    /// output scale / zero point, per-channel or per-tensor weights), MACs, weight
    /// bytes (int8 weights + int32 bias), the streaming arena bytes of that stage
    /// (its line buffers and output row) and the bytes a full-frame engine (TFLite
    /// Micro style) needs while running it (its whole input and output tensors).
    /// Totals: MACs, weights, the whole streaming arena vs the full-frame peak.
    Info(InfoArgs),
    /// Run a model with all three engines and compare them.
    ///
    /// Checks that the frame and stream engines agree exactly (exit status 1 if
    /// they do not, with the number of differing values), and measures the int8
    /// output's error against the f32 reference in output LSBs (max, mean; float
    /// values beyond the int8 output's range are clipped first) and its PSNR over
    /// the int8 range (peak 255 LSB).
    Compare(CompareArgs),
}

#[derive(clap::Args)]
struct RunArgs {
    /// The model (.tflite).
    #[arg(long, value_name = "M.tflite")]
    model: PathBuf,
    /// The input: .npy (int8, or float32 for a float-input model) or an image (PNG/JPEG).
    #[arg(long, value_name = "IN")]
    input: PathBuf,
    /// Where to write the output: .npy (the tensor) or .png (feature maps).
    #[arg(long, value_name = "OUT")]
    output: PathBuf,
    /// frame: int8 full-frame engine; stream: int8 line-buffer engine (what the
    /// firmware runs; identical results); float: the f32 reference.
    #[arg(long, value_enum, default_value_t = EngineArg::Stream)]
    engine: EngineArg,
    /// Resize an image input to the model's input size (bilinear).
    #[arg(long)]
    resize: bool,
}

#[derive(clap::Args)]
struct InfoArgs {
    /// The model (.tflite).
    #[arg(long, value_name = "M.tflite")]
    model: PathBuf,
    /// Plan the same layers for an input this many columns wide (same height).
    #[arg(long, value_name = "W")]
    width: Option<usize>,
}

#[derive(clap::Args)]
struct CompareArgs {
    /// The model (.tflite).
    #[arg(long, value_name = "M.tflite")]
    model: PathBuf,
    /// The input: .npy (int8, or float32 for a float-input model) or an image (PNG/JPEG).
    #[arg(long, value_name = "IN")]
    input: PathBuf,
    /// Also write a picture of |int8 - float| in output LSBs: one tile per output
    /// channel, all coloured over one shared range (0 to the largest error).
    #[arg(long, value_name = "DIFF.png")]
    diff: Option<PathBuf>,
    /// Resize an image input to the model's input size (bilinear).
    #[arg(long)]
    resize: bool,
}

#[derive(clap::Args)]
struct EdgesArgs {
    /// The photo (PNG or JPEG).
    image: PathBuf,
    /// Where to write the panel PNG [default: <image name>-edges.png in the current directory].
    #[arg(short, long, value_name = "PANEL.png")]
    output: Option<PathBuf>,
    /// A preset (laplacian8, laplacian4, sobel-x, sobel-y, scharr-x, scharr-y,
    /// prewitt-x, prewitt-y, sharpen, box-blur, gaussian, emboss, outline) or rows
    /// like "-1,-1,-1;-1,8,-1;-1,-1,-1" (odd square size up to 11x11).
    #[arg(short, long, default_value = "laplacian8", allow_hyphen_values = true)]
    kernel: String,
    /// Convert the image to one gray channel (luma) first.
    #[arg(long, conflicts_with = "color")]
    gray: bool,
    /// Use the three colour channels (a gray image is replicated).
    #[arg(long)]
    color: bool,
    /// Max-pool NxN with stride N after the ReLU.
    #[arg(long, value_name = "N")]
    pool: Option<usize>,
    /// frame: the int8 full-frame engine; stream: the int8 line-buffer engine (what
    /// the firmware runs; identical results); float: the f32 reference.
    #[arg(long, value_enum, default_value_t = EngineArg::Frame)]
    engine: EngineArg,
    /// Also write conv.npy, relu.npy (and pool.npy) here: float32 HxW, real units.
    #[arg(long, value_name = "DIR")]
    npy: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EngineArg {
    /// int8 full-frame engine.
    Frame,
    /// int8 streaming line-buffer engine.
    Stream,
    /// f32 reference.
    Float,
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Edges(args) => edges(args),
        Command::Run(args) => run(args),
        Command::Info(args) => info(args),
        Command::Compare(args) => compare(args),
    };
    if let Err(e) = result {
        eprintln!("error: {}", one_line(&e));
        std::process::exit(1);
    }
}

/// The error and its causes on one line, skipping a cause whose text the message
/// already ends with (the library's I/O errors print their OS error themselves).
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if line.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line.replace('\n', " ")
}

fn default_output(image: &Path, suffix: &str) -> PathBuf {
    let stem = image
        .file_stem()
        .map_or("out".into(), |s| s.to_string_lossy());
    PathBuf::from(format!("{stem}-{suffix}.png"))
}

fn edges(args: EdgesArgs) -> Result<()> {
    let mut report = String::new();
    if args.pool == Some(0) {
        bail!("--pool must be at least 1");
    }
    let kernel = kernel::parse(&args.kernel)?;
    let channels = if args.gray {
        picture::Channels::Gray
    } else if args.color {
        picture::Channels::Rgb
    } else {
        picture::Channels::Keep
    };
    let image = picture::load(&args.image, channels)?;
    let c = image.shape.channels;
    let edges = Edges::new(kernel, c, args.pool)?;
    let q = edges.output_quant();
    writeln!(
        report,
        "{}: {} (HxWxC); kernel {} ({}), int8 weight scale {:.6}",
        args.image.display(),
        image.shape,
        kernel::name(edges.kernel()),
        if edges.kernel().is_exact() {
            "exact in int8"
        } else {
            "quantized"
        },
        edges.weight_scale(),
    )?;
    writeln!(
        report,
        "output quantization: scale {:.6}, zero point {} (covers the full response range)",
        q.scale, q.zero_point
    )?;

    let engine = match args.engine {
        EngineArg::Stream => Engine::Stream,
        _ => Engine::Frame,
    };
    let frame = edges.dequantize(&edges.run_int8(engine, &picture::to_int8(&image, INPUT_QUANT))?);
    let float = edges.run_float(&picture::to_real(&image))?;
    for ((name, f), (_, r)) in frame.named().into_iter().zip(float.named()) {
        let max = f
            .data
            .iter()
            .zip(&r.data)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        writeln!(
            report,
            "{name:>5}: {}, int8 vs float: max |diff| {:.3} LSB",
            f.shape,
            max / q.scale
        )?;
    }
    let result: &Stages<f32> = match args.engine {
        EngineArg::Frame | EngineArg::Stream => &frame,
        EngineArg::Float => &float,
    };

    let out = args
        .output
        .unwrap_or_else(|| default_output(&args.image, "edges"));
    let mut panels = vec![panel::Panel::picture("input", &image)?];
    panels.push(panel::Panel::map("convolution", &result.conv)?);
    panels.push(panel::Panel::map("after ReLU", &result.relu)?);
    if let (Some(p), Some(n)) = (&result.pool, args.pool) {
        panels.push(panel::Panel::map(format!("max-pool {n}x{n}"), p)?);
    }
    panel::save(&out, &panel::render(&panels)?)?;
    writeln!(report, "wrote {}", out.display())?;

    if let Some(dir) = args.npy {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        for (name, t) in result.named() {
            let path = dir.join(format!("{name}.npy"));
            npy::write_f32(&path, &[t.shape.height, t.shape.width], &t.data)?;
            writeln!(report, "wrote {}", path.display())?;
        }
    }
    emit(&report)
}

fn engine_of(arg: EngineArg) -> network::Engine {
    match arg {
        EngineArg::Frame => network::Engine::Frame,
        EngineArg::Stream => network::Engine::Stream,
        EngineArg::Float => network::Engine::Float,
    }
}

fn run(args: RunArgs) -> Result<()> {
    // Refuse an unknown output extension before any work.
    network::OutputFormat::of(&args.output)?;
    let net = Network::load(&args.model)?;
    let input = net.input_from_file(&args.input, args.resize)?;
    let engine = engine_of(args.engine);
    let start = Instant::now();
    let output = net.run(engine, &input)?;
    let elapsed = start.elapsed();
    output.save(&args.output)?;
    let s = output.shape();
    emit(&format!(
        "{}: [1, {}, {}, {}] {} from the {} engine in {:.2} ms\n",
        args.output.display(),
        s.height,
        s.width,
        s.channels,
        output.dtype(),
        engine.name(),
        elapsed.as_secs_f64() * 1e3
    ))
}

fn info(args: InfoArgs) -> Result<()> {
    if args.width == Some(0) {
        bail!("--width must be at least 1");
    }
    let net = Network::load(&args.model)?;
    emit(&scanline_host::info::report(&net, args.width)?)
}

fn compare(args: CompareArgs) -> Result<()> {
    if let Some(diff) = &args.diff
        && network::OutputFormat::of(diff)? != network::OutputFormat::Png
    {
        bail!("{}: the difference picture must be a .png", diff.display());
    }
    let net = Network::load(&args.model)?;
    let input = net.input_from_file(&args.input, args.resize)?;
    let c = net.compare(&input)?;
    let n = c.stream.data.len();
    let s = c.stream.shape;
    let mut report = String::new();
    writeln!(
        report,
        "{} on {}: output {s} int8 (scale {:.6}, zero point {}){}",
        args.model.display(),
        args.input.display(),
        c.quant.scale,
        c.quant.zero_point,
        if net.import()?.float_output().is_some() {
            ", compared before the DEQUANTIZE"
        } else {
            ""
        }
    )?;
    let differ = c.frame_stream_differences();
    if differ == 0 {
        writeln!(report, "frame == stream: identical ({n} values)")?;
    } else {
        writeln!(report, "frame == stream: NO, {differ} of {n} values differ")?;
    }
    let e = c.error()?;
    writeln!(
        report,
        "int8 vs float:   max {:.3} LSB, mean {:.3} LSB, PSNR {:.1} dB (over the int8 range, peak 255 LSB)",
        e.max_lsb, e.mean_lsb, e.psnr_db
    )?;
    if e.clipped > 0 {
        writeln!(
            report,
            "                 {} float values beyond the int8 output range (clipped before measuring)",
            e.clipped
        )?;
    }
    if let Some(path) = &args.diff {
        panel::save(path, &c.diff_picture()?)?;
        writeln!(
            report,
            "{}: |int8 - float| in LSBs, one tile per channel, shared range 0..{:.3}",
            path.display(),
            e.max_lsb
        )?;
    }
    emit(&report)?;
    if differ != 0 {
        bail!("frame and stream engines differ in {differ} of {n} values");
    }
    Ok(())
}

/// Writes `text` to standard output; a closed pipe (`scanline info | head`) is not
/// an error.
fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
