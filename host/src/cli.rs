//! Cli: the `scanline` command line as a clap definition — the binary parses it,
//! `scanline completions` ([`completions`]) and `cargo xtask man` read it.
//!
//! Every subcommand's `--help` ends with examples. Exit status: [`SUCCESS`] (0),
//! [`FAILURE`] (1: the work failed — an unreadable file, an unsupported model,
//! engines that disagree, a batch with a failed input), [`USAGE`] (2: clap
//! rejected the command line).
//!
//! # Examples
//!
//! ```
//! use clap::{CommandFactory, Parser};
//! use scanline_host::cli::{Cli, Command};
//! let cli = Cli::try_parse_from(["scanline", "info", "--model", "m.tflite"]).unwrap();
//! assert!(matches!(cli.command, Command::Info(_)));
//! let usage = Cli::try_parse_from(["scanline", "info"]).unwrap_err();
//! assert_eq!(usage.exit_code(), scanline_host::cli::USAGE);
//! assert!(Cli::command().get_subcommands().all(|c| c.get_after_help().is_some()));
//! ```

use clap::{CommandFactory, Parser, Subcommand};
use clap_complete::Shell;

use crate::command::{batch, compare, edges, features, info, kernels, run, verify};

/// Exit status of a command that did its work.
pub const SUCCESS: i32 = 0;
/// Exit status of a command whose work failed (the error is on standard error).
pub const FAILURE: i32 = 1;
/// Exit status of a command line clap rejects (clap's own usage-error code).
pub const USAGE: i32 = 2;

/// The end of every `--help`: examples (one command a line), then the exit status.
macro_rules! examples {
    ($($line:literal),+ $(,)?) => {
        concat!(
            "Examples:\n",
            $("  ", $line, "\n",)+
            "\nExit status: 0 success; 1 failure (the error is printed on standard error);\n\
            2 usage error (a wrong command line, reported by the argument parser)."
        )
    };
}
pub(crate) use examples;

/// scanline: the front of a CNN (convolution, ReLU, max-pooling) in int8, bit-exact
/// with TensorFlow Lite, from a whole photo on the PC to one camera line at a time
/// on a microcontroller.
#[derive(Debug, Parser)]
#[command(
    name = "scanline",
    version,
    after_help = examples!(
        "scanline edges photo.png --pool 2",
        "scanline run --model model.tflite --input photo.png --output maps.png",
        "scanline info --model model.tflite --width 320",
        "scanline compare --model model.tflite --input input.npy --diff diff.png",
        "scanline features --model model.tflite --input photo.png -o grid.png --all",
        "scanline batch run photos/ -o out/ --model model.tflite --resize --json",
    )
)]
pub struct Cli {
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Edge detection, the classic convolution walkthrough: kernel, ReLU, max-pool.
    ///
    /// Convolves the image with a 3x3 (or any odd size up to 11) kernel, SAME
    /// padding, stride 1 (tf.nn.conv2d), applies ReLU (tf.nn.relu) and, with
    /// --pool N, NxN max-pooling with stride N, VALID (Keras MaxPool2D). A colour
    /// image gets the kernel stacked over its three channels into one output map.
    /// Writes a PNG panel: input | convolution | after ReLU | after pooling.
    #[command(after_help = examples!(
        "scanline edges tests/data/chelsea.png --pool 2",
        "scanline edges photo.png --kernel sobel-x --gray -o sobel.png",
        "scanline edges photo.png --kernel \"0,1,0;1,-4,1;0,1,0\" --npy maps/",
    ))]
    Edges(edges::Args),
    /// Run a quantized .tflite model on one input and write its output.
    ///
    /// The model: a chain of CONV_2D, DEPTHWISE_CONV_2D, MAX_POOL_2D,
    /// AVERAGE_POOL_2D, RELU, RELU6, MEAN (over height and width), RESHAPE (a
    /// flatten into FULLY_CONNECTED), FULLY_CONNECTED and SOFTMAX on int8 tensors,
    /// optionally with QUANTIZE / DEQUANTIZE at its float input and output (what
    /// the TFLite converter writes for a full-int8 Keras model, classifiers
    /// included). Any other operator is refused by name.
    ///
    /// The input: a .npy array shaped like the model input, `[1,H,W,C]` or `[H,W,C]`:
    /// int8, or float32 for a float-input model; or a PNG/JPEG image (1-channel
    /// models get it in gray, by tf.image.rgb_to_grayscale unless --gray-rule;
    /// 3-channel ones in RGB; each pixel p is the real p * f32(1/255), quantized
    /// with the model's input parameters; its size must match unless --resize);
    /// or a raw camera frame (--pixel-format, --width) read line by line through
    /// the converter the firmware runs (colour to gray by integer luma unless
    /// --gray-rule).
    ///
    /// The output: .npy — for frame and stream exactly the model's output tensor
    /// (int8 `[1,H,W,C]`, or float32 if the model ends with DEQUANTIZE), for float the
    /// f32 reference's real values (float32); or .png — a feature-map picture: a
    /// grid of all output channels ("channel c"), each coloured with viridis over
    /// its own range (written under it). With --digest it also prints
    /// `digest fnv1a32 <8 hex digits>` of the int8 output, what the firmware logs.
    /// For a classifier (an output of N class scores, `[1,N]` as TFLite writes
    /// it) it prints the top-5 classes and their scores, named by --labels.
    #[command(after_help = examples!(
        "scanline run --model classifier.tflite --input digit.png --digest --labels labels.txt",
        "scanline run --model model.tflite --input photo.png --output maps.png",
        "scanline run --model model.tflite --input input.npy --output out.npy --engine frame",
        "scanline run --model model.tflite --input frame.raw --pixel-format rgb565be --width 320 --digest",
    ))]
    Run(run::Args),
    /// Show a .tflite model layer by layer, and its memory: streaming vs full frame.
    ///
    /// Per layer: the TFLite operator and its index, input -> output shapes, kernel,
    /// stride, dilation and padding, fused activation, quantization (input and
    /// output scale / zero point, per-channel or per-tensor weights), MACs, weight
    /// bytes (int8 weights + int32 bias), the streaming arena bytes of that stage
    /// (its line buffers and output row) and the bytes a full-frame engine (TFLite
    /// Micro style) needs while running it (its whole input and output tensors).
    /// Totals: MACs, weights, the whole streaming arena vs the full-frame peak and
    /// the sum of every activation tensor.
    #[command(after_help = examples!(
        "scanline info --model model.tflite",
        "scanline info --model model.tflite --width 320",
    ))]
    Info(info::Args),
    /// Run a model with all three engines and compare them.
    ///
    /// Checks that the frame and stream engines agree exactly (exit status 1 if
    /// they do not, with the number of differing values), and measures the int8
    /// output's error against the f32 reference in output LSBs (max, mean; float
    /// values beyond the int8 output's range are clipped first) and its PSNR over
    /// the int8 range (peak 255 LSB).
    #[command(after_help = examples!(
        "scanline compare --model model.tflite --input input.npy",
        "scanline compare --model model.tflite --input photo.png --resize --diff diff.png",
    ))]
    Compare(compare::Args),
    /// Draw every channel of a layer's output as a grid of feature maps.
    ///
    /// Runs the model on the input (the same inputs as run) up to the layer and
    /// draws each output channel as a tile, coloured with viridis over its own
    /// range (written under it), titled with its channel; the heading names the
    /// layer. The layer is given by its operator index as `scanline info` prints
    /// it; without --layer, the last layer. --all writes one grid per layer,
    /// named after it (GRID-03-conv2d.png). The values are the int8 engine's,
    /// dequantized: exactly what the model computes at that layer.
    #[command(after_help = examples!(
        "scanline features --model model.tflite --input photo.png -o grid.png",
        "scanline features --model model.tflite --input photo.png --resize -o grid.png --layer 0",
        "scanline features --model model.tflite --input input.npy -o maps/grid.png --all",
    ))]
    Features(features::Args),
    /// Run edges, run or compare over many inputs, in parallel, into one folder.
    ///
    /// INPUT: files, folders (their image files, and .npy for run and compare;
    /// every file with --pixel-format) or glob patterns. Each input gets the same
    /// options and one output in -o DIR, named after it. An input that fails is
    /// reported by name and skipped; the summary gives the inputs done and failed
    /// and the time, and the exit status is 1 if any failed. A progress bar is
    /// shown on standard error when standard output is a terminal.
    #[command(after_help = examples!(
        "scanline batch edges photos/ -o edges/ --kernel sobel-x --pool 2",
        "scanline batch run 'photos/*.png' -o out/ --model model.tflite --resize",
        "scanline batch run frames/ -o out/ --model model.tflite --pixel-format yuyv --width 320 --digest --json",
        "scanline batch compare inputs/ -o diffs/ --model model.tflite --json",
    ))]
    Batch(batch::Args),
    /// Check a firmware capture log against the host, frame by frame.
    ///
    /// Reads the decoded defmt log of a firmware run in dump mode (every input
    /// line and output row in hex: the board's `--features dump`, or `cargo xtask
    /// qemu --dump full --capture LOG`), recomputes every frame on the host from
    /// its logged input lines with the same pixel conversion and int8 engine, and
    /// reports each frame: match, the first differing row, column and channel, a
    /// differing digest (frames whose rows were not logged), or dropped by the
    /// firmware. Exit status 1 if a frame differs or none could be checked.
    #[command(after_help = examples!(
        "scanline verify --capture capture.log --model examples/board/model.tflite",
        "scanline verify --capture capture.log --json",
    ))]
    Verify(verify::Args),
    /// List the preset kernels of `edges --kernel`: their matrices and what each is for.
    ///
    /// Each preset is a 3x3 integer matrix (divided by the number shown, for the
    /// blurs); `edges` takes any of these names, or a matrix of your own.
    #[command(after_help = examples!(
        "scanline kernels",
        "scanline edges photo.png --kernel sobel-y",
    ))]
    Kernels(kernels::Args),
    /// Print a shell completion script for scanline.
    ///
    /// Load it in the running shell, or install it where the shell looks for
    /// completions (for bash: ~/.local/share/bash-completion/completions/scanline;
    /// for zsh: a file _scanline in a folder of $fpath; for fish:
    /// ~/.config/fish/completions/scanline.fish; for PowerShell: your $PROFILE).
    #[command(after_help = examples!(
        "scanline completions bash > ~/.local/share/bash-completion/completions/scanline",
        "scanline completions zsh > ~/.zfunc/_scanline",
        "scanline completions fish > ~/.config/fish/completions/scanline.fish",
        "scanline completions powershell >> $PROFILE",
    ))]
    Completions(CompletionsArgs),
}

/// Arguments of `scanline completions`.
#[derive(Debug, Clone, clap::Args)]
pub struct CompletionsArgs {
    /// The shell: bash, zsh, fish, powershell (or elvish).
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The completion script of `scanline` for `shell`.
///
/// ```
/// use clap_complete::Shell;
/// let script = String::from_utf8(scanline_host::cli::completions(Shell::Bash)).unwrap();
/// assert!(script.contains("scanline"));
/// ```
pub fn completions(shell: Shell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "scanline", &mut script);
    script
}
