//! Compare: `scanline compare` — all three engines on one input: frame and stream
//! must be identical, and the int8 output's error against the f32 reference.

use std::fmt;
use std::path::PathBuf;

use scanline::{Quant, Shape};
use serde::Serialize;

use super::ModelArgs;
use crate::comparison::ErrorStats;
use crate::json::{self, Schema};
use crate::network::Network;
use crate::output::OutputFormat;
use crate::{Error, Result, figure};

/// Arguments of `scanline compare`: the input and difference picture of one
/// comparison, and the [`ModelArgs`] that `scanline batch compare` applies to
/// every input.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The input: .npy (int8, or float32 for a float-input model), an image
    /// (PNG/JPEG), or a raw camera frame (with --pixel-format and --width).
    #[arg(long, value_name = "IN", display_order = 1)]
    pub input: PathBuf,
    /// Also write a picture of |int8 - float| in output LSBs: one tile per output
    /// channel, all coloured over one shared range (0 to the largest error).
    #[arg(long, value_name = "DIFF.png", display_order = 1)]
    pub diff: Option<PathBuf>,
    /// Print the report as one JSON object (schema scanline/compare/1, see
    /// docs/json.md).
    #[arg(long, display_order = 100)]
    pub json: bool,
    /// The model and how to read the input: the options of `scanline compare`
    /// that do not depend on the input.
    #[command(flatten)]
    pub options: ModelArgs,
}

/// What `scanline compare` found; `serde` gives its `scanline/compare/1` JSON
/// form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The model file.
    #[serde(serialize_with = "json::path")]
    pub model: PathBuf,
    /// The input file.
    #[serde(serialize_with = "json::path")]
    pub input: PathBuf,
    /// The int8 output's shape.
    #[serde(serialize_with = "json::shape")]
    pub shape: Shape,
    /// The int8 output's quantization.
    #[serde(serialize_with = "json::quant")]
    pub quant: Quant,
    /// True if the model ends with `DEQUANTIZE` (the comparison is before it).
    pub dequantized: bool,
    /// Values compared between frame and stream.
    pub values: usize,
    /// How many of them differ (must be 0).
    pub differences: usize,
    /// True if they are all equal (`differences == 0`).
    pub identical: bool,
    /// The int8 output's error against the float reference.
    pub error: ErrorStats,
    /// Where the difference picture went, if asked for.
    #[serde(serialize_with = "json::option_path")]
    pub diff: Option<PathBuf>,
}

impl Schema for Report {
    const SCHEMA: &'static str = "scanline/compare/1";
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} on {}: output {} int8 (scale {:.6}, zero point {}){}",
            self.model.display(),
            self.input.display(),
            self.shape,
            self.quant.scale,
            self.quant.zero_point,
            if self.dequantized {
                ", compared before the DEQUANTIZE"
            } else {
                ""
            }
        )?;
        if self.identical {
            writeln!(f, "frame == stream: identical ({} values)", self.values)?;
        } else {
            writeln!(
                f,
                "frame == stream: NO, {} of {} values differ",
                self.differences, self.values
            )?;
        }
        let e = &self.error;
        writeln!(
            f,
            "int8 vs float:   max {:.3} LSB, mean {:.3} LSB, PSNR {:.1} dB (over the int8 range, peak 255 LSB)",
            e.max_lsb, e.mean_lsb, e.psnr_db
        )?;
        if e.clipped > 0 {
            writeln!(
                f,
                "                 {} float values beyond the int8 output range (clipped before measuring)",
                e.clipped
            )?;
        }
        if let Some(path) = &self.diff {
            writeln!(
                f,
                "{}: |int8 - float| in LSBs, one tile per channel, shared range 0..{:.3}",
                path.display(),
                e.max_lsb
            )?;
        }
        Ok(())
    }
}

/// Runs `scanline compare`. A report whose engines differ is returned as
/// such (the binary prints it, then fails).
///
/// # Errors
///
/// A difference picture that is not `.png` (before any work), and the model,
/// input and engine errors.
pub fn execute(args: &Args) -> Result<Report> {
    if let Some(diff) = &args.diff
        && OutputFormat::of(diff)? != OutputFormat::Png
    {
        return Err(Error::Invalid(format!(
            "{}: the difference picture must be a .png",
            diff.display()
        )));
    }
    let options = args.options.input_args.options()?;
    let net = Network::load(&args.options.model)?;
    let input = net.input_from_file(&args.input, &options)?;
    let c = net.compare_with(&input, args.options.engine_options()?)?;
    let error = c.error()?;
    let differences = c.frame_stream_differences();
    if let Some(path) = &args.diff {
        figure::save(path, &c.diff_picture()?)?;
    }
    Ok(Report {
        model: args.options.model.clone(),
        input: args.input.clone(),
        shape: c.stream.shape,
        quant: c.quant,
        dequantized: net.import()?.float_output().is_some(),
        values: c.stream.data.len(),
        differences,
        identical: differences == 0,
        error,
        diff: args.diff.clone(),
    })
}
