//! The `scanline` command line: the edge-detection walkthrough on photos, and
//! running (`run`), inspecting (`info`) and checking (`compare`) quantized
//! `.tflite` models.

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};
use scanline_host::command::{compare, edges, run};
use scanline_host::network::Network;
use std::io::Write as _;
use std::path::PathBuf;

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
    Edges(edges::Args),
    /// Run a quantized .tflite model on one input and write its output.
    ///
    /// The model: a chain of CONV_2D, DEPTHWISE_CONV_2D, MAX_POOL_2D, RELU, RELU6
    /// on int8 tensors, optionally with QUANTIZE / DEQUANTIZE at its float input
    /// and output (what the TFLite converter writes for a full-int8 Keras model).
    ///
    /// The input: a .npy array shaped like the model input, [1,H,W,C] or [H,W,C]:
    /// int8, or float32 for a float-input model; or a PNG/JPEG image (1-channel
    /// models get it in gray, by tf.image.rgb_to_grayscale unless --gray-rule;
    /// 3-channel ones in RGB; each pixel p is the real p * f32(1/255), quantized
    /// with the model's input parameters; its size must match unless --resize);
    /// or a raw camera frame (--pixel-format, --width) read line by line through
    /// the converter the firmware runs (colour to gray by integer luma unless
    /// --gray-rule).
    ///
    /// The output: .npy — for frame and stream exactly the model's output tensor
    /// (int8 [1,H,W,C], or float32 if the model ends with DEQUANTIZE), for float the
    /// f32 reference's real values (float32); or .png — a feature-map picture: a
    /// grid of all output channels ("channel c"), each coloured with viridis over
    /// its own range (written under it). With --digest it also prints
    /// `digest fnv1a32 XXXXXXXX` of the int8 output, what the firmware logs.
    Run(run::Args),
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
    Compare(compare::Args),
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

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Edges(args) => edges::execute(&args)
            .map_err(Into::into)
            .and_then(|r| emit(&r.to_string())),
        Command::Run(args) => run::execute(&args)
            .map_err(Into::into)
            .and_then(|r| emit(&r.to_string())),
        Command::Info(args) => info(args),
        Command::Compare(args) => compare(&args),
    };
    if let Err(e) = result {
        eprintln!("error: {}", one_line(&e));
        std::process::exit(1);
    }
}

/// The error and its causes on one line, skipping a cause whose text the message
/// already ends with (the library's errors print their sources themselves).
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

fn info(args: InfoArgs) -> Result<()> {
    if args.width == Some(0) {
        bail!("--width must be at least 1");
    }
    let net = Network::load(&args.model)?;
    emit(&scanline_host::info::report(&net, args.width)?)
}

fn compare(args: &compare::Args) -> Result<()> {
    let report = compare::execute(args)?;
    emit(&report.to_string())?;
    if !report.identical() {
        bail!(
            "frame and stream engines differ in {} of {} values",
            report.differences,
            report.values
        );
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
