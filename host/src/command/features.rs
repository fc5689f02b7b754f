//! Features: `scanline features` — every channel of a layer's output as a tile
//! of a grid picture, the way Keras tutorials show what each filter of a
//! `Conv2D(64, 3)` responds to; one grid per layer with `--all`.
//!
//! A layer's output is the output of the model cut after that layer
//! ([`Network::model_through`]), run by the int8 frame engine: the same
//! arithmetic as the whole model, bit for bit.

use std::fmt;
use std::path::{Path, PathBuf};

use scanline::tflite::Import;
use scanline::{Quant, Shape};

use super::ModelArgs;
use crate::engine::Engine;
use crate::mosaic::{self, MIN_TILE};
use crate::network::Network;
use crate::output::OutputFormat;
use crate::panel::{self, MapRange};
use crate::{Error, Result, figure};

/// Arguments of `scanline features`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The input: .npy (int8, or float32 for a float-input model), an image
    /// (PNG/JPEG), or a raw camera frame (with --pixel-format and --width).
    #[arg(long, value_name = "IN")]
    pub input: PathBuf,
    /// The grid picture (.png; its folder is created if needed). With --all, one
    /// file per layer named after it: GRID-03-conv2d.png for operator 3, a CONV_2D.
    #[arg(short, long, value_name = "GRID.png")]
    pub output: PathBuf,
    /// The layer to show, by its operator index as `scanline info` prints it
    /// (column `op`) [default: the last layer].
    #[arg(long, value_name = "N", conflicts_with = "all")]
    pub layer: Option<usize>,
    /// One grid per layer.
    #[arg(long)]
    pub all: bool,
    /// The model and how to read the input.
    #[command(flatten)]
    pub network: ModelArgs,
}

/// One grid written.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// The file.
    pub path: PathBuf,
    /// The layer's operator index in the model file.
    pub operator: usize,
    /// Its TFLite name, e.g. `CONV_2D`.
    pub name: &'static str,
    /// Its output shape: one tile per channel.
    pub shape: Shape,
    /// Its output quantization (the tiles show `scale * (q - zero_point)`).
    pub quant: Quant,
}

/// What `scanline features` wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The grids, in layer order.
    pub grids: Vec<Grid>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for g in &self.grids {
            writeln!(
                f,
                "{}: layer {} ({}), {} channels of {}x{} (int8 scale {:.6}, zero point {})",
                g.path.display(),
                g.operator,
                g.name,
                g.shape.channels,
                g.shape.height,
                g.shape.width,
                g.quant.scale,
                g.quant.zero_point
            )?;
        }
        Ok(())
    }
}

/// Runs `scanline features`.
///
/// # Errors
///
/// An output that is not `.png` (before any work), a `--layer` that is not a
/// layer's operator, and the model, input and engine errors.
///
/// ```
/// use scanline_host::command::{InputArgs, ModelArgs, features::{Args, execute}};
/// let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/tflite/n3_mini");
/// let out = std::env::temp_dir().join(format!("features-doc-{}.png", std::process::id()));
/// let args = Args {
///     input: format!("{dir}/input.npy").into(),
///     output: out.clone(),
///     layer: Some(2),
///     all: false,
///     network: ModelArgs { model: format!("{dir}/model.tflite").into(), input_args: InputArgs::default(), threads: None },
/// };
/// let report = execute(&args).unwrap();
/// assert_eq!(report.grids[0].name, "CONV_2D");
/// assert_eq!(report.grids[0].shape.channels, 16);
/// assert!(out.exists());
/// # std::fs::remove_file(out).unwrap();
/// ```
pub fn execute(args: &Args) -> Result<Report> {
    if OutputFormat::of(&args.output)? != OutputFormat::Png {
        return Err(Error::Invalid(format!(
            "{}: the grid must be a .png",
            args.output.display()
        )));
    }
    let options = args.network.input_args.options()?;
    let net = Network::load(&args.network.model)?;
    let input = net.input_from_file(&args.input, &options)?;
    let import = net.import()?;
    let count = import.model().layers().len();
    let layers: Vec<usize> = match (args.all, args.layer) {
        (true, _) => (0..count).collect(),
        (false, Some(op)) => vec![layer_of_operator(&import, op)?],
        (false, None) => vec![count - 1],
    };
    if let Some(dir) = args.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs_err::create_dir_all(dir)?;
    }
    let mut grids = Vec::new();
    for layer in layers {
        let (operator, name) = import
            .operator_of_layer(layer)
            .map_or((layer, "layer"), |o| (o.index, o.name));
        let model = net.model_through(layer)?;
        let out = Engine::Frame.run_with(&model, &input.int8, args.network.engine_options()?)?;
        let quant = model.output_quant();
        let panels = panel::channel_maps(&out.dequantize(quant), MapRange::PerMap)?;
        let heading = format!(
            "layer {operator}: {name} {}, each channel over its own range",
            out.shape
        );
        let path = if args.all {
            per_layer_path(&args.output, operator, name)
        } else {
            args.output.clone()
        };
        figure::save(&path, &mosaic::titled(&heading, &panels, MIN_TILE)?)?;
        grids.push(Grid {
            path,
            operator,
            name,
            shape: out.shape,
            quant,
        });
    }
    Ok(Report { grids })
}

/// The layer that operator `op` became.
fn layer_of_operator(import: &Import<'_>, op: usize) -> Result<usize> {
    let layers: Vec<usize> = import
        .operators()
        .iter()
        .filter(|o| o.layer.is_some())
        .map(|o| o.index)
        .collect();
    let range = match (layers.first(), layers.last()) {
        (Some(a), Some(b)) => format!("the layers are operators {a}..={b} (see scanline info)"),
        _ => "the model has no layer".to_string(),
    };
    match import.operators().iter().find(|o| o.index == op) {
        Some(o) => o.layer.ok_or_else(|| {
            Error::Invalid(format!(
                "--layer {op}: operator {op} is {}, a float conversion, not a layer; {range}",
                o.name
            ))
        }),
        None => Err(Error::Invalid(format!(
            "--layer {op}: there is no operator {op}; {range}"
        ))),
    }
}

/// `GRID-03-conv2d.png` beside `GRID.png`, for operator 3, a `CONV_2D`.
///
/// ```
/// use std::path::Path;
/// use scanline_host::command::features::per_layer_path;
/// let p = per_layer_path(Path::new("out/grid.png"), 3, "DEPTHWISE_CONV_2D");
/// assert_eq!(p, Path::new("out/grid-03-depthwise-conv2d.png"));
/// ```
pub fn per_layer_path(grid: &Path, operator: usize, name: &str) -> PathBuf {
    let stem = grid
        .file_stem()
        .map_or("features".into(), |s| s.to_string_lossy());
    let ext = grid
        .extension()
        .map_or("png".into(), |e| e.to_string_lossy());
    let slug = name
        .to_ascii_lowercase()
        .replace("_2d", "2d")
        .replace('_', "-");
    grid.with_file_name(format!("{stem}-{operator:02}-{slug}.{ext}"))
}
