//! Command: the `scanline` subcommands as library code — each one's arguments
//! (clap), its work, and the report it prints — so that everything the binary
//! does can be called and tested without it. `main.rs` only parses and prints.

pub mod batch;
pub mod compare;
pub mod edges;
pub mod features;
pub mod info;
pub mod kernels;
pub mod run;
pub mod verify;

use std::path::PathBuf;

use scanline::pixel::{GrayRule, PixelFormat};

use crate::input::{InputOptions, Raw};
use crate::{Error, Result};

/// The model and how to read an input for it: what `run`, `compare` and
/// `features` share.
#[derive(Debug, Clone, clap::Args)]
pub struct ModelArgs {
    /// The model (.tflite).
    #[arg(long, value_name = "M.tflite", display_order = 0)]
    pub model: PathBuf,
    /// Input options.
    #[command(flatten)]
    pub input_args: InputArgs,
    /// Threads of the frame engine [default: every core]. Any count gives the
    /// same bytes (each layer's rows are split into bands).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
}

impl ModelArgs {
    /// The engine options: the detected kernel set on `--threads` threads.
    pub fn engine_options(&self) -> Result<crate::engine::Options> {
        engine_options(self.threads)
    }
}

/// The engine options for `--threads` (every core when not given) with the
/// detected kernel set.
pub fn engine_options(threads: Option<u16>) -> Result<crate::engine::Options> {
    Ok(crate::engine::Options {
        kernels: crate::engine::default_kernels()?,
        threads: threads.map_or_else(crate::engine::all_cores, usize::from),
    })
}

/// The input options `run`, `compare` and `features` share: resizing, raw
/// frames, gray rule.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct InputArgs {
    /// Resize an image input to the model's input size (bilinear).
    #[arg(long)]
    pub resize: bool,
    /// Read IN as a raw camera frame of this pixel format (needs --width):
    /// gray8, rgb565le, rgb565be, rgb888 or yuyv. Its lines go through the same
    /// converter the firmware runs on camera lines.
    #[arg(long, value_name = "FORMAT", value_parser = parse_pixel_format, requires = "width")]
    pub pixel_format: Option<PixelFormat>,
    /// Pixels per line of a raw frame (its height is the file size divided by
    /// the line size).
    #[arg(long, value_name = "W", requires = "pixel_format")]
    pub width: Option<usize>,
    /// How colour pixels become gray for a 1-channel model: tensorflow
    /// (tf.image.rgb_to_grayscale; the default for PNG/JPEG) or integer-luma
    /// ((77 R + 150 G + 29 B + 128) >> 8, what a camera pipeline computes; the
    /// default for raw frames).
    #[arg(long, value_name = "RULE", value_parser = parse_gray_rule)]
    pub gray_rule: Option<GrayRule>,
}

impl InputArgs {
    /// The library's input options.
    pub fn options(&self) -> Result<InputOptions> {
        let raw = match (self.pixel_format, self.width) {
            (Some(format), Some(width)) => Some(Raw { format, width }),
            (None, None) => None,
            _ => {
                return Err(Error::Invalid(
                    "--pixel-format and --width go together".into(),
                ));
            }
        };
        if raw.is_some() && self.resize {
            return Err(Error::Invalid(
                "--resize applies to images, not to raw frames".into(),
            ));
        }
        Ok(InputOptions {
            resize: self.resize,
            raw,
            gray: self.gray_rule,
        })
    }
}

/// Parses a pixel format name (see [`PixelFormat::name`]).
///
/// ```
/// use scanline_host::command::parse_pixel_format;
/// assert!(parse_pixel_format("rgb565be").is_ok());
/// assert!(parse_pixel_format("bgr").unwrap_err().contains("gray8, rgb565le"));
/// ```
pub fn parse_pixel_format(s: &str) -> std::result::Result<PixelFormat, String> {
    PixelFormat::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = PixelFormat::ALL.iter().map(|f| f.name()).collect();
        format!("unknown pixel format '{s}' (one of {})", names.join(", "))
    })
}

/// Parses a gray rule name (`tensorflow` or `integer-luma`).
pub fn parse_gray_rule(s: &str) -> std::result::Result<GrayRule, String> {
    [GrayRule::TensorFlow, GrayRule::IntegerLuma]
        .into_iter()
        .find(|r| r.name().eq_ignore_ascii_case(s))
        .ok_or_else(|| format!("unknown gray rule '{s}' (tensorflow or integer-luma)"))
}

/// `<image name>-<suffix>.png` in the current directory.
pub(crate) fn default_output(image: &std::path::Path, suffix: &str) -> PathBuf {
    let stem = image
        .file_stem()
        .map_or("out".into(), |s| s.to_string_lossy());
    PathBuf::from(format!("{stem}-{suffix}.png"))
}

/// `n word` with an `s` unless `n` is 1 (`1 input`, `2 inputs`).
pub(crate) fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// The digest line `scanline run --digest` prints.
///
/// ```
/// assert_eq!(scanline_host::command::digest_line(0xe40c292c), "digest fnv1a32 e40c292c");
/// ```
pub fn digest_line(digest: u32) -> String {
    format!("digest fnv1a32 {digest:08x}")
}
