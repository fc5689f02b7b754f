//! Run: `scanline run` — one model on one input, the output written as `.npy` or a
//! feature-map picture, optionally its digest, and for a classifier the top-5
//! classes.

use std::fmt;
use std::path::PathBuf;
use std::time::Instant;

use scanline::Shape;
use serde::Serialize;

use super::{ModelArgs, digest_line};
use crate::engine::Engine;
use crate::json::{self, Schema};
use crate::network::Network;
use crate::output::OutputFormat;
use crate::{Error, Result};

/// Arguments of `scanline run`: the input and output of one run, and the
/// [`Options`] that `scanline batch run` applies to every input.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The input: .npy (int8, or float32 for a float-input model), an image
    /// (PNG/JPEG), or a raw camera frame (with --pixel-format and --width).
    #[arg(long, value_name = "IN", display_order = 1)]
    pub input: PathBuf,
    /// Where to write the output: .npy (the tensor) or .png (feature maps).
    /// Optional with --digest.
    #[arg(
        long,
        value_name = "OUT",
        required_unless_present = "digest",
        display_order = 1
    )]
    pub output: Option<PathBuf>,
    /// Class names for a classifier's top-5: one per line, as many as the model
    /// has classes.
    #[arg(long, value_name = "FILE", display_order = 2)]
    pub labels: Option<PathBuf>,
    /// Print the report as one JSON object (schema scanline/run/1, see docs/json.md).
    #[arg(long, display_order = 100)]
    pub json: bool,
    /// The model and how to run it.
    #[command(flatten)]
    pub options: Options,
}

/// The options of `scanline run` that do not depend on the input.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// The model and how to read the input.
    #[command(flatten)]
    pub network: ModelArgs,
    /// frame: int8 full-frame engine; stream: int8 line-buffer engine (what the
    /// firmware runs; identical results); float: the f32 reference.
    #[arg(long, value_enum, default_value_t = Engine::Stream)]
    pub engine: Engine,
    /// Also print `digest fnv1a32 <8 hex digits>`: FNV-1a 32 over the int8 output's
    /// bytes in HWC order (before any DEQUANTIZE), what the firmware logs.
    #[arg(long)]
    pub digest: bool,
}

/// What `scanline run` did; `serde` gives its `scanline/run/1` JSON form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The model file.
    #[serde(serialize_with = "json::path")]
    pub model: PathBuf,
    /// The input file.
    #[serde(serialize_with = "json::path")]
    pub input: PathBuf,
    /// Where the output went, if it was written.
    #[serde(serialize_with = "json::option_path")]
    pub output: Option<PathBuf>,
    /// The output's shape.
    #[serde(serialize_with = "json::shape")]
    pub shape: Shape,
    /// Its element type (`int8` or `float32`).
    pub dtype: &'static str,
    /// The engine that ran.
    pub engine: Engine,
    /// Wall time of the engine alone, in milliseconds.
    pub millis: f64,
    /// FNV-1a 32 of the int8 output, if asked for.
    #[serde(serialize_with = "json::digest")]
    pub digest: Option<u32>,
    /// For a classifier (a vector output): the five best classes, best first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top: Option<Vec<Class>>,
}

/// One class of a classifier's output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Class {
    /// Its index in the output.
    pub class: usize,
    /// Its name from `--labels`, if given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Its score: the real value (a probability after a softmax).
    pub score: f32,
}

impl Schema for Report {
    const SCHEMA: &'static str = "scanline/run/1";
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = &self.output {
            let dims = crate::output::npy_dims(self.shape, self.top.is_some());
            writeln!(
                f,
                "{}: {dims:?} {} from the {} engine in {:.2} ms",
                path.display(),
                self.dtype,
                self.engine.name(),
                self.millis
            )?;
        }
        if let Some(d) = self.digest {
            writeln!(f, "{}", digest_line(d))?;
        }
        if let Some(top) = &self.top {
            writeln!(f, "top {} of {} classes:", top.len(), self.shape.len())?;
            for (rank, c) in top.iter().enumerate() {
                let name = c
                    .label
                    .clone()
                    .unwrap_or_else(|| format!("class {}", c.class));
                writeln!(f, "  {}. {name:<24} {:.4}", rank + 1, c.score)?;
            }
        }
        Ok(())
    }
}

/// Runs `scanline run`.
///
/// # Errors
///
/// An unknown output extension (before any work), `--digest` with the float
/// engine, and the model, input and engine errors.
pub fn execute(args: &Args) -> Result<Report> {
    let o = &args.options;
    if let Some(out) = &args.output {
        OutputFormat::of(out)?;
    }
    if o.digest && !o.engine.is_int8() {
        return Err(Error::Invalid(
            "--digest needs an int8 engine (frame or stream): the float reference has no int8 output".into(),
        ));
    }
    let options = o.network.input_args.options()?;
    let net = Network::load(&o.network.model)?;
    let import = net.import()?;
    let vector = import.model().output_is_vector();
    let classes = import.model().output_shape().len();
    let labels = match &args.labels {
        None => None,
        Some(_) if !vector => {
            return Err(Error::Invalid(
                "--labels needs a classifier: the model's output is not a vector of class scores"
                    .into(),
            ));
        }
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?;
            Some(
                crate::classifier::labels(&text, classes)
                    .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?,
            )
        }
    };
    let input = net.input_from_file(&args.input, &options)?;
    let start = Instant::now();
    let (output, digest) = if o.engine.is_int8() {
        let int8 = net.run_int8_with(o.engine, &input, o.network.engine_options()?)?;
        let digest = o.digest.then(|| crate::output::digest(&int8.data));
        (net.output_of(int8)?, digest)
    } else {
        (net.run(o.engine, &input)?, None)
    };
    let millis = start.elapsed().as_secs_f64() * 1e3;
    if let Some(path) = &args.output {
        output.save_with(path, vector)?;
    }
    let top = vector.then(|| {
        crate::classifier::top(&output.real().data, 5)
            .into_iter()
            .map(|(class, score)| Class {
                class,
                label: labels.as_ref().map(|l| l[class].clone()),
                score,
            })
            .collect()
    });
    Ok(Report {
        model: o.network.model.clone(),
        input: args.input.clone(),
        output: args.output.clone(),
        shape: output.shape(),
        dtype: output.dtype(),
        engine: o.engine,
        millis,
        digest,
        top,
    })
}
