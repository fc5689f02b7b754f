//! Output: what an engine produced (an int8 tensor with its quantization, or real
//! values), and writing it as a `.npy` array or a feature-map picture.

use std::path::Path;

use image::RgbImage;
use scanline::digest::fnv1a32;
use scanline::{Quant, Shape};

use crate::mosaic;
use crate::panel::{self, MapRange};
use crate::{Error, Result, Tensor, figure, npy};

/// What an engine produced.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// An int8 tensor and the quantization of its values.
    Int8 {
        /// The values.
        values: Tensor<i8>,
        /// Their quantization (the model's output quantization).
        quant: Quant,
    },
    /// Real values (a dequantizing model's output, or the float reference's).
    Float(Tensor<f32>),
}

impl Output {
    /// Height, width and channels.
    pub fn shape(&self) -> Shape {
        match self {
            Output::Int8 { values, .. } => values.shape,
            Output::Float(t) => t.shape,
        }
    }

    /// NumPy's name of the element type (`"int8"` or `"float32"`).
    pub fn dtype(&self) -> &'static str {
        match self {
            Output::Int8 { .. } => "int8",
            Output::Float(_) => "float32",
        }
    }

    /// The real values (int8 values dequantized).
    pub fn real(&self) -> Tensor<f32> {
        match self {
            Output::Int8 { values, quant } => values.dequantize(*quant),
            Output::Float(t) => t.clone(),
        }
    }

    /// Writes the output as `.npy` (the tensor, shaped `[1, H, W, C]`, with its own
    /// dtype) or `.png` (a [`feature_maps`] picture of the real values), chosen by
    /// the extension.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] naming the file for another extension; the npy or image
    /// writer's errors.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.save_with(path, false)
    }

    /// [`Output::save`]; with `vector` (a classifier's 1x1xN scores,
    /// [`scanline::Model::output_is_vector`]) the `.npy` is shaped `[1, N]` as
    /// TFLite's output tensor is.
    ///
    /// # Errors
    ///
    /// As [`Output::save`].
    pub fn save_with(&self, path: impl AsRef<Path>, vector: bool) -> Result<()> {
        let path = path.as_ref();
        let dims = npy_dims(self.shape(), vector);
        match OutputFormat::of(path)? {
            OutputFormat::Npy => match self {
                Output::Int8 { values, .. } => npy::write_i8(path, &dims, &values.data),
                Output::Float(t) => npy::write_f32(path, &dims, &t.data),
            },
            OutputFormat::Png => figure::save(path, &feature_maps(&self.real())?),
        }
    }
}

impl Output {
    /// FNV-1a 32 over the int8 values in HWC order, each as its two's-complement
    /// byte ([`scanline::digest`]): what the firmware logs for the same frame.
    /// `None` for real values.
    ///
    /// ```
    /// use scanline::{Quant, Shape};
    /// use scanline_host::{Tensor, output::Output};
    /// let values = Tensor::new(Shape::new(1, 1, 1), vec![97i8]).unwrap();
    /// let out = Output::Int8 { values, quant: Quant::new(1.0, 0) };
    /// assert_eq!(out.digest(), Some(0xe40c_292c)); // FNV-1a 32 of "a"
    /// ```
    pub fn digest(&self) -> Option<u32> {
        match self {
            Output::Int8 { values, .. } => Some(digest(&values.data)),
            Output::Float(_) => None,
        }
    }
}

/// The `.npy` shape of an output of `shape`: `[1, H, W, C]`, or `[1, N]` for a
/// `vector` (see [`Output::save_with`]).
///
/// ```
/// use scanline::Shape;
/// use scanline_host::output::npy_dims;
/// assert_eq!(npy_dims(Shape::new(1, 1, 10), true), [1, 10]);
/// assert_eq!(npy_dims(Shape::new(1, 1, 10), false), [1, 1, 1, 10]);
/// ```
pub fn npy_dims(shape: Shape, vector: bool) -> Vec<usize> {
    if vector {
        vec![1, shape.len()]
    } else {
        vec![1, shape.height, shape.width, shape.channels]
    }
}

/// FNV-1a 32 of int8 values, as [`scanline::digest::Fnv1a32`] computes it while
/// rows stream.
pub fn digest(values: &[i8]) -> u32 {
    let bytes: Vec<u8> = values.iter().map(|&v| v as u8).collect();
    fnv1a32(&bytes)
}

/// The file formats an output can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// A `.npy` array.
    Npy,
    /// A `.png` picture.
    Png,
}

impl OutputFormat {
    /// The format of `path`, from its extension (case-insensitive).
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] naming the file for any other extension.
    ///
    /// ```
    /// use scanline_host::output::OutputFormat;
    /// assert_eq!(OutputFormat::of("a/out.NPY".as_ref()).unwrap(), OutputFormat::Npy);
    /// let err = OutputFormat::of("out.txt".as_ref()).unwrap_err().to_string();
    /// assert_eq!(err, "out.txt: unknown output extension (use .npy or .png)");
    /// ```
    pub fn of(path: &Path) -> Result<Self> {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase());
        match ext.as_deref() {
            Some("npy") => Ok(OutputFormat::Npy),
            Some("png") => Ok(OutputFormat::Png),
            _ => Err(Error::Invalid(format!(
                "{}: unknown output extension (use .npy or .png)",
                path.display()
            ))),
        }
    }
}

/// A feature-map picture of an HWC tensor: a mosaic grid of all its channels,
/// each titled `channel c` and coloured with viridis over **its own** range (the
/// caption under each gives that range), so weak channels stay visible.
///
/// # Errors
///
/// [`Error::Shape`] for an empty tensor; [`Error::Invalid`] if the picture would be
/// too large.
pub fn feature_maps(t: &Tensor<f32>) -> Result<RgbImage> {
    let panels = panel::channel_maps(t, MapRange::PerMap)?;
    mosaic::mosaic(&panels, mosaic::MIN_TILE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::panel;

    fn temp(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("scanline-output-{}-{name}", std::process::id()))
    }

    #[test]
    fn png_output_is_a_mosaic_of_every_channel() {
        let t = Tensor::new(
            Shape::new(2, 3, 5),
            (0..30).map(|v| v as f32).collect::<Vec<_>>(),
        )
        .unwrap();
        let panels = panel::channel_maps(&t, MapRange::PerMap).unwrap();
        assert_eq!(panels.len(), 5);
        let img = feature_maps(&t).unwrap();
        assert_eq!(
            img.dimensions(),
            mosaic::mosaic_size(&panels, mosaic::MIN_TILE)
        );
        let path = temp("maps.png");
        Output::Float(t).save(&path).unwrap();
        let back = image::open(&path).unwrap();
        assert_eq!((back.width(), back.height()), img.dimensions());
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn unknown_output_extension_is_an_error() {
        let out = Output::Float(Tensor::filled(Shape::new(1, 1, 1), 0.0));
        let e = out.save(temp("out.bmp")).unwrap_err().to_string();
        assert!(
            e.ends_with("unknown output extension (use .npy or .png)"),
            "{e}"
        );
    }
}
