//! The `scanline` command line: the edge-detection walkthrough on photos, and (in
//! later commands) running, inspecting and comparing quantized models.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use scanline_host::edges::{Edges, INPUT_QUANT, Stages};
use scanline_host::engine::Engine;
use scanline_host::kernel::Kernel;
use scanline_host::{npy, panel, picture};
use std::path::{Path, PathBuf};

/// scanline: the front of a CNN (convolution, ReLU, max-pooling) in int8, bit-exact
/// with TensorFlow Lite, from a whole photo on the PC to one camera line at a time
/// on a microcontroller.
#[derive(Parser)]
#[command(name = "scanline", version, about, long_about = None)]
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
    };
    if let Err(e) = result {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn default_output(image: &Path, suffix: &str) -> PathBuf {
    let stem = image
        .file_stem()
        .map_or("out".into(), |s| s.to_string_lossy());
    PathBuf::from(format!("{stem}-{suffix}.png"))
}

fn edges(args: EdgesArgs) -> Result<()> {
    if args.pool == Some(0) {
        bail!("--pool must be at least 1");
    }
    let kernel: Kernel = args.kernel.parse()?;
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
    println!(
        "{}: {} (HxWxC); kernel {} ({}), int8 weight scale {:.6}",
        args.image.display(),
        image.shape,
        edges.kernel().name(),
        if edges.kernel().is_exact() {
            "exact in int8"
        } else {
            "quantized"
        },
        edges.weight_scale(),
    );
    println!(
        "output quantization: scale {:.6}, zero point {} (covers the full response range)",
        q.scale, q.zero_point
    );

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
        println!(
            "{name:>5}: {}, int8 vs float: max |diff| {:.3} LSB",
            f.shape,
            max / q.scale
        );
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
    println!("wrote {}", out.display());

    if let Some(dir) = args.npy {
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        for (name, t) in result.named() {
            let path = dir.join(format!("{name}.npy"));
            npy::write_f32(&path, &[t.shape.height, t.shape.width], &t.data)?;
            println!("wrote {}", path.display());
        }
    }
    Ok(())
}
