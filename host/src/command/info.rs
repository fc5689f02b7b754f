//! Info: `scanline info` — a model layer by layer and its memory, streaming
//! against a full frame (the text and numbers come from [`crate::info`]).

use std::path::PathBuf;

use crate::info::ModelInfo;
use crate::network::Network;
use crate::{Error, Result};

/// Arguments of `scanline info`.
#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The model (.tflite).
    #[arg(long, value_name = "M.tflite")]
    pub model: PathBuf,
    /// Plan the same layers for an input this many columns wide (same height).
    #[arg(long, value_name = "W")]
    pub width: Option<usize>,
    /// Print the report as one JSON object (schema scanline/info/1, see docs/json.md).
    #[arg(long, display_order = 100)]
    pub json: bool,
}

/// Runs `scanline info`.
///
/// # Errors
///
/// `--width 0`, and the model's errors (unreadable, unsupported, layers that do
/// not fit the width).
///
/// ```
/// use scanline_host::command::info::{Args, execute};
/// let model = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/tflite/n3_mini/model.tflite");
/// let report = execute(&Args { model: model.into(), width: Some(320), json: false }).unwrap();
/// assert_eq!(report.summary.input.width, 320);
/// assert!(report.to_string().contains("streaming arena:  17,280 bytes"));
/// ```
pub fn execute(args: &Args) -> Result<ModelInfo> {
    if args.width == Some(0) {
        return Err(Error::Invalid("--width must be at least 1".into()));
    }
    let net = Network::load(&args.model)?;
    ModelInfo::of(&net, args.width)
}
