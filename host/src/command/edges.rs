//! Edges: `scanline edges` — the convolution walkthrough on a photo: kernel, ReLU,
//! max-pool, drawn as a figure, with the int8 result's distance from the f32
//! reference at every stage.

use std::fmt;
use std::path::PathBuf;

use scanline::Quant;
use scanline::pixel::GrayRule;
use serde::Serialize;

use super::{default_output, digest_line, parse_gray_rule};
use crate::edges::{Edges, INPUT_QUANT, Stages};
use crate::engine::Engine;
use crate::json::{self, Schema};
use crate::panel::Panel;
use crate::picture::{self, Channels};
use crate::{Result, Tensor, figure, kernel, npy};

/// Arguments of `scanline edges`: the photo and files of one run, and the
/// [`Options`] that `scanline batch edges` applies to every photo.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The photo (PNG or JPEG).
    pub image: PathBuf,
    /// Where to write the panel PNG [default: NAME-edges.png in the current directory, NAME the image file's stem].
    #[arg(short, long, value_name = "PANEL.png")]
    pub output: Option<PathBuf>,
    /// Also write conv.npy, relu.npy (and pool.npy) here: float32 HxW, real units.
    #[arg(long, value_name = "DIR")]
    pub npy: Option<PathBuf>,
    /// Print the report as one JSON object (schema scanline/edges/1, see
    /// docs/json.md).
    #[arg(long, display_order = 100)]
    pub json: bool,
    /// The kernel and the stages.
    #[command(flatten)]
    pub options: Options,
}

/// The options of `scanline edges` that do not depend on the photo.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// A preset (laplacian8, laplacian4, sobel-x, sobel-y, scharr-x, scharr-y,
    /// prewitt-x, prewitt-y, sharpen, box-blur, gaussian, emboss, outline) or rows
    /// like "-1,-1,-1;-1,8,-1;-1,-1,-1" (odd square size up to 11x11).
    #[arg(short, long, default_value = "laplacian8", allow_hyphen_values = true)]
    pub kernel: String,
    /// Convert the image to one gray channel first (by --gray-rule).
    #[arg(long, conflicts_with = "color")]
    pub gray: bool,
    /// Use the three colour channels (a gray image is replicated).
    #[arg(long)]
    pub color: bool,
    /// How --gray turns colour into gray: tensorflow (tf.image.rgb_to_grayscale,
    /// the default) or integer-luma ((77 R + 150 G + 29 B + 128) >> 8, what the
    /// firmware computes from camera pixels).
    #[arg(long, value_name = "RULE", value_parser = parse_gray_rule, default_value = "tensorflow")]
    pub gray_rule: GrayRule,
    /// Max-pool NxN with stride N after the ReLU.
    #[arg(long, value_name = "N")]
    pub pool: Option<usize>,
    /// frame: the int8 full-frame engine; stream: the int8 line-buffer engine (what
    /// the firmware runs; identical results); float: the f32 reference.
    #[arg(long, value_enum, default_value_t = Engine::Frame)]
    pub engine: Engine,
    /// Also print `digest fnv1a32 <8 hex digits>` of the last stage's int8 output (what
    /// the firmware's built-in edge model logs for the same frame).
    #[arg(long)]
    pub digest: bool,
    /// Threads of the frame engine [default: every core]. Any count gives the
    /// same bytes.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
}

/// One stage's line of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageReport {
    /// `conv`, `relu` or `pool`.
    pub name: &'static str,
    /// Its output shape.
    #[serde(serialize_with = "json::shape")]
    pub shape: scanline::Shape,
    /// The largest int8-vs-float difference, in output LSBs.
    pub max_lsb: f32,
}

/// What `scanline edges` did; `serde` gives its `scanline/edges/1` JSON form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The photo.
    #[serde(serialize_with = "json::path")]
    pub image: PathBuf,
    /// Its shape as the model takes it.
    #[serde(serialize_with = "json::shape")]
    pub shape: scanline::Shape,
    /// The kernel's name.
    pub kernel: String,
    /// True if the kernel is exact in int8.
    pub exact: bool,
    /// The int8 weight scale.
    pub weight_scale: f32,
    /// The output quantization.
    #[serde(serialize_with = "json::quant")]
    pub output_quant: Quant,
    /// Every stage.
    pub stages: Vec<StageReport>,
    /// Files written: the figure, then any `.npy`.
    #[serde(serialize_with = "json::paths")]
    pub written: Vec<PathBuf>,
    /// The last stage's int8 digest, if asked for.
    #[serde(serialize_with = "json::digest")]
    pub digest: Option<u32>,
}

impl Schema for Report {
    const SCHEMA: &'static str = "scanline/edges/1";
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} (HxWxC); kernel {} ({}), int8 weight scale {:.6}",
            self.image.display(),
            self.shape,
            self.kernel,
            if self.exact {
                "exact in int8"
            } else {
                "quantized"
            },
            self.weight_scale,
        )?;
        writeln!(
            f,
            "output quantization: scale {:.6}, zero point {} (covers the full response range)",
            self.output_quant.scale, self.output_quant.zero_point
        )?;
        for s in &self.stages {
            writeln!(
                f,
                "{:>5}: {}, int8 vs float: max |diff| {:.3} LSB",
                s.name, s.shape, s.max_lsb
            )?;
        }
        for path in &self.written {
            writeln!(f, "wrote {}", path.display())?;
        }
        if let Some(d) = self.digest {
            writeln!(f, "{}", digest_line(d))?;
        }
        Ok(())
    }
}

/// Runs `scanline edges`.
///
/// # Errors
///
/// A bad kernel or pool size, an unreadable image, a pool that does not fit the
/// image, and write errors.
pub fn execute(args: &Args) -> Result<Report> {
    let o = &args.options;
    let kernel = kernel::parse(&o.kernel)?;
    let stored = picture::load(&args.image, Channels::Keep)?;
    let channels = if o.gray {
        1
    } else if o.color {
        3
    } else {
        stored.shape.channels
    };
    let image = picture::to_channels(&stored, channels, o.gray_rule)?;
    let edges = Edges::new(kernel, channels, o.pool)?;
    let q = edges.output_quant();
    let int8_engine = if o.engine == Engine::Stream {
        Engine::Stream
    } else {
        Engine::Frame
    };
    let int8 = edges.run_int8_with(
        int8_engine,
        &picture::to_int8(&image, INPUT_QUANT)?,
        super::engine_options(o.threads)?,
    )?;
    let frame = edges.dequantize(&int8);
    let float = edges.run_float(&picture::to_real(&image))?;
    let stages = frame
        .named()
        .into_iter()
        .zip(float.named())
        .map(|((name, f), (_, r))| {
            let max = f
                .data
                .iter()
                .zip(&r.data)
                .map(|(a, b)| (a - b).abs())
                .fold(0f32, f32::max);
            StageReport {
                name,
                shape: f.shape,
                max_lsb: max / q.scale,
            }
        })
        .collect();
    let result: &Stages<f32> = if o.engine.is_int8() { &frame } else { &float };

    let out = args
        .output
        .clone()
        .unwrap_or_else(|| default_output(&args.image, "edges"));
    let mut panels = vec![Panel::picture("input", &image)?];
    panels.push(Panel::map("convolution", &result.conv)?);
    panels.push(Panel::map("after ReLU", &result.relu)?);
    if let (Some(p), Some(n)) = (&result.pool, o.pool) {
        panels.push(Panel::map(format!("max-pool {n}x{n}"), p)?);
    }
    figure::save(&out, &figure::render(&panels)?)?;
    let mut written = vec![out];
    if let Some(dir) = &args.npy {
        fs_err::create_dir_all(dir)?;
        for (name, t) in result.named() {
            let path = dir.join(format!("{name}.npy"));
            npy::write_f32(&path, &[t.shape.height, t.shape.width], &t.data)?;
            written.push(path);
        }
    }
    let last: &Tensor<i8> = int8.pool.as_ref().unwrap_or(&int8.relu);
    Ok(Report {
        image: args.image.clone(),
        shape: image.shape,
        kernel: kernel::name(edges.kernel()),
        exact: edges.kernel().is_exact(),
        weight_scale: edges.weight_scale(),
        output_quant: q,
        stages,
        written,
        digest: o.digest.then(|| crate::output::digest(&last.data)),
    })
}
