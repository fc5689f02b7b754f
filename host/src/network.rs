//! Network: a `.tflite` model loaded on the host — its file bytes, the inputs it
//! takes (`.npy` arrays or images), the three engines that run it (int8 frame,
//! int8 stream, f32 reference) and the outputs they give.
//!
//! The file's bytes are kept; the core's zero-copy import borrows them whenever a
//! [`Model`] is needed ([`Network::import`]), so nothing is copied out of the file.
//!
//! Conventions (the `scanline run` contract):
//! - **inputs**: an int8 `.npy` shaped `[1, H, W, C]` or `[H, W, C]` for an int8-input
//!   model; a float32 one for a float-input model (it starts with `QUANTIZE`), which
//!   is quantized with [`Import::float_input`]. An image is loaded with 1 channel
//!   (gray) or 3 (RGB) as the model takes, and its pixels `p / 255` are quantized
//!   with the model's input parameters (those of the `QUANTIZE` for float-input
//!   models).
//! - **float reference input**: the real values the model sees — the dequantized
//!   int8 input for int8-input models, the float input itself for float-input ones.
//! - **outputs**: frame and stream give exactly the model's output tensor: int8, or
//!   float32 `scale * (q - zero_point)` if the model ends with `DEQUANTIZE`; the
//!   float engine gives float32 real values.
//!
//! # Examples
//!
//! ```
//! use scanline_host::network::{Engine, Network};
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/tflite/n3_mini");
//! let net = Network::load(format!("{dir}/model.tflite")).unwrap();
//! let input = net.input_from_npy(format!("{dir}/input.npy")).unwrap();
//! let out = net.run(Engine::Stream, &input).unwrap();
//! assert_eq!(out.shape().to_string(), "3x5x32");
//! assert_eq!(out.dtype(), "int8");
//! ```

use std::path::{Path, PathBuf};

use image::RgbImage;
use scanline::tflite::{self, Import};
use scanline::{Model, Quant, Shape};

use crate::engine;
use crate::panel::{self, MapRange};
use crate::picture::{self, Channels};
use crate::reference::{FloatLayer, run_float};
use crate::{Error, Result, Tensor, npy};

/// Which engine runs a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Engine {
    /// The int8 full-frame engine (whole tensors in memory).
    Frame,
    /// The int8 streaming engine (one input row at a time, what the firmware runs).
    #[default]
    Stream,
    /// The f32 reference (TensorFlow float semantics) over the dequantized weights.
    Float,
}

impl Engine {
    /// The engine's name as the command line spells it.
    pub const fn name(self) -> &'static str {
        match self {
            Engine::Frame => "frame",
            Engine::Stream => "stream",
            Engine::Float => "float",
        }
    }
}

/// A model input, ready for every engine.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    /// The int8 tensor the frame and stream engines take (the model's input).
    pub int8: Tensor<i8>,
    /// The real values the float reference takes: the float input of a
    /// float-input model, else `int8` dequantized with the model's input
    /// quantization.
    pub real: Tensor<f32>,
}

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
        let path = path.as_ref();
        let s = self.shape();
        let dims = [1, s.height, s.width, s.channels];
        match OutputFormat::of(path)? {
            OutputFormat::Npy => match self {
                Output::Int8 { values, .. } => npy::write_i8(path, &dims, &values.data),
                Output::Float(t) => npy::write_f32(path, &dims, &t.data),
            },
            OutputFormat::Png => panel::save(path, &feature_maps(&self.real())?),
        }
    }
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
    /// use scanline_host::network::OutputFormat;
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
    panel::mosaic(&panels, panel::MIN_TILE)
}

/// Per-element error of an int8 output against the float reference, in output
/// LSBs: `|(q - zero_point) - clamp(f) / scale|`, where `clamp(f)` is the float
/// value clipped to the range the int8 output can represent
/// (`scale * (-128 - zp) ..= scale * (127 - zp)`), so a saturated output is not
/// counted as arithmetic error.
///
/// ```
/// use scanline::{Quant, Shape};
/// use scanline_host::{Tensor, network::lsb_error};
/// let q = Quant::new(0.5, 0);
/// let int8 = Tensor::new(Shape::new(1, 3, 1), vec![2i8, 127, -3]).unwrap();
/// let float = Tensor::new(Shape::new(1, 3, 1), vec![1.25f32, 100.0, -1.5]).unwrap();
/// let e = lsb_error(&int8, &float, q).unwrap();
/// assert_eq!(e.data, vec![0.5, 0.0, 0.0]); // 100.0 is clipped to 63.5
/// ```
///
/// # Errors
///
/// [`Error::Shape`] if the shapes differ.
pub fn lsb_error(int8: &Tensor<i8>, float: &Tensor<f32>, quant: Quant) -> Result<Tensor<f32>> {
    if int8.shape != float.shape || int8.data.len() != float.data.len() {
        return Err(Error::Shape(format!(
            "the int8 output is {}, the float output {}",
            int8.shape, float.shape
        )));
    }
    let (scale, zp) = (quant.scale as f64, quant.zero_point as f64);
    let (lo, hi) = (-128.0 - zp, 127.0 - zp);
    let data = int8
        .data
        .iter()
        .zip(&float.data)
        .map(|(&q, &f)| {
            let f = (f as f64 / scale).clamp(lo, hi);
            ((q as f64 - zp) - f).abs() as f32
        })
        .collect();
    Tensor::new(int8.shape, data)
}

/// Summary of an int8 output's error against the float reference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ErrorStats {
    /// Largest error, in output LSBs.
    pub max_lsb: f64,
    /// Mean error, in output LSBs.
    pub mean_lsb: f64,
    /// Peak signal-to-noise ratio over the int8 range: `10 log10(255² / MSE)`,
    /// with the MSE in LSBs² (infinite for no error).
    pub psnr_db: f64,
    /// Float values outside the range the int8 output can represent (clipped
    /// before measuring).
    pub clipped: usize,
}

impl ErrorStats {
    /// The statistics of `int8` (quantized with `quant`) against `float`.
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] if the shapes differ.
    pub fn between(int8: &Tensor<i8>, float: &Tensor<f32>, quant: Quant) -> Result<Self> {
        let err = lsb_error(int8, float, quant)?;
        let n = err.data.len().max(1) as f64;
        let max_lsb = err.data.iter().fold(0f64, |m, &e| m.max(e as f64));
        let mean_lsb = err.data.iter().map(|&e| e as f64).sum::<f64>() / n;
        let mse = err.data.iter().map(|&e| (e as f64).powi(2)).sum::<f64>() / n;
        let psnr_db = if mse == 0.0 {
            f64::INFINITY
        } else {
            10.0 * (255.0f64 * 255.0 / mse).log10()
        };
        let (lo, hi) = (quant.dequantize(-128), quant.dequantize(127));
        let clipped = float.data.iter().filter(|&&f| f < lo || f > hi).count();
        Ok(Self {
            max_lsb,
            mean_lsb,
            psnr_db,
            clipped,
        })
    }
}

/// The three engines' outputs on one input, for `scanline compare`.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The frame engine's int8 output.
    pub frame: Tensor<i8>,
    /// The stream engine's int8 output.
    pub stream: Tensor<i8>,
    /// The float reference's output.
    pub float: Tensor<f32>,
    /// Quantization of the int8 outputs.
    pub quant: Quant,
}

impl Comparison {
    /// How many values differ between the frame and stream outputs (must be 0).
    pub fn frame_stream_differences(&self) -> usize {
        self.frame
            .data
            .iter()
            .zip(&self.stream.data)
            .filter(|(a, b)| a != b)
            .count()
            + self.frame.data.len().abs_diff(self.stream.data.len())
    }

    /// The stream output's error against the float reference.
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] if the shapes differ.
    pub fn error(&self) -> Result<ErrorStats> {
        ErrorStats::between(&self.stream, &self.float, self.quant)
    }

    /// `|int8 - float|` in output LSBs per element (see [`lsb_error`]).
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] if the shapes differ.
    pub fn diff(&self) -> Result<Tensor<f32>> {
        lsb_error(&self.stream, &self.float, self.quant)
    }

    /// A picture of [`Comparison::diff`]: a mosaic of the channels, all coloured
    /// over **one shared** range, 0 to the largest error, so channels compare.
    ///
    /// # Errors
    ///
    /// As [`Comparison::diff`]; [`Error::Invalid`] if the picture would be too large.
    pub fn diff_picture(&self) -> Result<RgbImage> {
        let diff = self.diff()?;
        let max = diff.data.iter().copied().fold(0f32, f32::max);
        let panels = panel::channel_maps(&diff, MapRange::Shared(0.0, max))?;
        panel::mosaic(&panels, panel::MIN_TILE)
    }
}

/// A `.tflite` model loaded on the host: the file's bytes, checked to import.
#[derive(Clone)]
pub struct Network {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("path", &self.path)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

impl Network {
    /// Reads and imports a `.tflite` file.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the file cannot be read; [`Error::Model`] naming the file
    /// with the core's message if it is malformed or unsupported (e.g.
    /// `operator 1: AVERAGE_POOL_2D is not supported`).
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(path, bytes)
    }

    /// A network from a model file's bytes; `path` names it in errors.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] if the bytes do not import.
    ///
    /// ```
    /// use scanline_host::network::Network;
    /// let err = Network::from_bytes("m.tflite", b"not a model".to_vec()).unwrap_err();
    /// assert!(err.to_string().starts_with("m.tflite: malformed model file"), "{err}");
    /// ```
    pub fn from_bytes(path: impl Into<PathBuf>, bytes: Vec<u8>) -> Result<Self> {
        let net = Self {
            path: path.into(),
            bytes,
        };
        net.import()?;
        Ok(net)
    }

    /// The file the model came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn model_error(&self, e: impl std::fmt::Display) -> Error {
        Error::Model {
            path: self.path.clone(),
            message: e.to_string(),
        }
    }

    /// The imported model (borrowing the bytes). The import was checked by
    /// [`Network::load`]; it is repeated here (it is cheap and allocates nothing).
    ///
    /// # Errors
    ///
    /// [`Error::Model`] if the bytes do not import (not after a successful load).
    pub fn import(&self) -> Result<Import<'_>> {
        tflite::parse(&self.bytes).map_err(|e| self.model_error(e))
    }

    /// The same layers planned for an input `width` columns wide (same height and
    /// channels): what `scanline info --width` reports.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] naming the width and the layer if the layers do not fit.
    pub fn model_for_width(&self, width: usize) -> Result<Model<'_>> {
        let import = self.import()?;
        let model = import.model();
        let s = model.input_shape();
        Model::new(
            Shape::new(s.height, width, s.channels),
            model.input_quant(),
            model.layers(),
            model.rounding(),
        )
        .map_err(|e| self.model_error(format_args!("at width {width}: {e}")))
    }

    /// Shape of the model's input.
    pub fn input_shape(&self) -> Result<Shape> {
        Ok(self.import()?.model().input_shape())
    }

    /// An input from a file: `.npy` ([`Network::input_from_npy`]), anything else
    /// as an image ([`Network::input_from_image`]).
    ///
    /// # Errors
    ///
    /// As those functions.
    pub fn input_from_file(&self, path: impl AsRef<Path>, resize: bool) -> Result<Input> {
        let path = path.as_ref();
        let is_npy = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("npy"));
        if is_npy {
            self.input_from_npy(path)
        } else {
            self.input_from_image(path, resize)
        }
    }

    /// An input from a `.npy` array: int8 for an int8-input model, float32 for a
    /// float-input model (quantized with the `QUANTIZE`'s parameters), shaped
    /// `[1, H, W, C]` or `[H, W, C]` exactly as the model's input.
    ///
    /// # Errors
    ///
    /// [`Error::Npy`] naming the file and saying what was expected and found, for
    /// the wrong dtype or shape; the reader's errors otherwise.
    pub fn input_from_npy(&self, path: impl AsRef<Path>) -> Result<Input> {
        let path = path.as_ref();
        let import = self.import()?;
        let model = import.model();
        let s = model.input_shape();
        let array = npy::read_any(path)?;
        let want = [s.height, s.width, s.channels];
        let shape_ok = array.shape == want || array.shape == [1, s.height, s.width, s.channels];
        let npy_error = |message: String| Error::Npy {
            path: path.to_path_buf(),
            message,
        };
        let expected_dtype = if import.float_input().is_some() {
            "float32"
        } else {
            "int8"
        };
        if array.data.dtype() != expected_dtype {
            return Err(npy_error(format!(
                "expected {expected_dtype} (the model's input type), found {}",
                array.data.dtype()
            )));
        }
        if !shape_ok {
            return Err(npy_error(format!(
                "expected shape [1, {h}, {w}, {c}] or [{h}, {w}, {c}] (the model's input), found {:?}",
                array.shape,
                h = s.height,
                w = s.width,
                c = s.channels,
            )));
        }
        match (array.data, import.float_input()) {
            (npy::Data::I8(v), None) => {
                let int8 = Tensor::new(s, v)?;
                let real = int8.dequantize(model.input_quant());
                Ok(Input { int8, real })
            }
            (npy::Data::F32(v), Some(q)) => {
                let real = Tensor::new(s, v)?;
                let int8 = real.map(|x| q.quantize(x));
                Ok(Input { int8, real })
            }
            // The dtype was checked above.
            (data, _) => Err(npy_error(format!(
                "expected {expected_dtype}, found {}",
                data.dtype()
            ))),
        }
    }

    /// An input from a PNG or JPEG image: loaded gray for a 1-channel model, RGB
    /// for a 3-channel one; `p / 255` (an f32 division) quantized with the model's
    /// input parameters
    /// (the `QUANTIZE`'s for a float-input model, whose float input is `p / 255`).
    /// Its size must be the model's unless `resize` (bilinear, see
    /// [`picture::resize`]).
    ///
    /// # Errors
    ///
    /// [`Error::Image`] naming the file for a size mismatch (both sizes given) or a
    /// model that does not take 1 or 3 channels; the loader's errors otherwise.
    pub fn input_from_image(&self, path: impl AsRef<Path>, resize: bool) -> Result<Input> {
        let path = path.as_ref();
        let import = self.import()?;
        let model = import.model();
        let s = model.input_shape();
        let image_error = |message: String| Error::Image {
            path: path.to_path_buf(),
            message,
        };
        let channels = match s.channels {
            1 => Channels::Gray,
            3 => Channels::Rgb,
            c => {
                return Err(image_error(format!(
                    "the model takes {c} input channels; an image gives 1 (gray) or 3 (RGB)"
                )));
            }
        };
        let mut pixels = picture::load(path, channels)?;
        let p = pixels.shape;
        if (p.height, p.width) != (s.height, s.width) {
            if !resize {
                return Err(image_error(format!(
                    "the image is {}x{} (HxW), the model takes {}x{} (resizing not asked)",
                    p.height, p.width, s.height, s.width
                )));
            }
            pixels = picture::resize(&pixels, s.height, s.width)?;
        }
        let quant = import.float_input().unwrap_or(model.input_quant());
        // `pixel / 255` in f32, as the fixtures' (and a Keras pipeline's) float input.
        let pixel_real = pixels.map(|p| p as f32 / 255.0);
        let int8 = pixel_real.map(|x| quant.quantize(x));
        let real = if import.float_input().is_some() {
            pixel_real
        } else {
            int8.dequantize(model.input_quant())
        };
        Ok(Input { int8, real })
    }

    /// Runs an int8 engine and returns the model's int8 output (before any
    /// `DEQUANTIZE`).
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] if the input is not shaped like the model's; the engine's
    /// errors.
    pub fn run_int8(&self, engine: engine::Engine, input: &Input) -> Result<Tensor<i8>> {
        let import = self.import()?;
        engine.run(import.model(), &input.int8)
    }

    /// Runs the f32 reference: [`FloatLayer::from_layer`] of every layer over
    /// [`Input::real`].
    ///
    /// # Errors
    ///
    /// The reference's errors (shapes that do not fit).
    pub fn run_float(&self, input: &Input) -> Result<Tensor<f32>> {
        let import = self.import()?;
        let layers = import
            .model()
            .layers()
            .iter()
            .map(FloatLayer::from_layer)
            .collect::<Result<Vec<_>>>()?;
        run_float(&input.real, &layers)
    }

    /// The model's output for an int8 result: the int8 tensor, or float32
    /// `scale * (q - zero_point)` if the model ends with `DEQUANTIZE`.
    pub fn output_of(&self, int8: Tensor<i8>) -> Result<Output> {
        let import = self.import()?;
        Ok(match import.float_output() {
            Some(q) => Output::Float(int8.dequantize(q)),
            None => Output::Int8 {
                values: int8,
                quant: import.model().output_quant(),
            },
        })
    }

    /// Runs `engine` on `input`: frame and stream give the model's output tensor
    /// ([`Network::output_of`]), float the reference's real values.
    ///
    /// # Errors
    ///
    /// As [`Network::run_int8`] and [`Network::run_float`].
    pub fn run(&self, engine: Engine, input: &Input) -> Result<Output> {
        match engine {
            Engine::Frame => self.output_of(self.run_int8(engine::Engine::Frame, input)?),
            Engine::Stream => self.output_of(self.run_int8(engine::Engine::Stream, input)?),
            Engine::Float => Ok(Output::Float(self.run_float(input)?)),
        }
    }

    /// Runs all three engines on `input`.
    ///
    /// # Errors
    ///
    /// As [`Network::run`].
    pub fn compare(&self, input: &Input) -> Result<Comparison> {
        Ok(Comparison {
            frame: self.run_int8(engine::Engine::Frame, input)?,
            stream: self.run_int8(engine::Engine::Stream, input)?,
            float: self.run_float(input)?,
            quant: self.import()?.model().output_quant(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(case: &str, file: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/tflite")
            .join(case)
            .join(file)
    }

    fn temp(name: &str) -> PathBuf {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        std::env::temp_dir().join(format!(
            "scanline-network-{}-{n}-{name}",
            std::process::id()
        ))
    }

    fn net(case: &str) -> Network {
        Network::load(fixture(case, "model.tflite")).unwrap()
    }

    #[test]
    fn int8_npy_input_is_taken_as_is_and_dequantized_for_float() {
        let n = net("conv3x3_c1_same_relu_pool2");
        let input = n
            .input_from_npy(fixture("conv3x3_c1_same_relu_pool2", "input.npy"))
            .unwrap();
        let (_, raw) = npy::read_i8(fixture("conv3x3_c1_same_relu_pool2", "input.npy")).unwrap();
        assert_eq!(input.int8.data, raw);
        let q = n.import().unwrap().model().input_quant();
        assert_eq!(input.real.data[5], q.dequantize(raw[5]));
    }

    #[test]
    fn three_d_npy_is_accepted() {
        let n = net("relu_only");
        let (shape, data) = npy::read_i8(fixture("relu_only", "input.npy")).unwrap();
        let path = temp("hwc.npy");
        npy::write_i8(&path, &shape[1..], &data).unwrap();
        assert_eq!(n.input_from_npy(&path).unwrap().int8.data, data);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn float_npy_input_is_quantized_with_the_quantize_parameters() {
        let n = net("float_conv3x3_relu_pool2");
        let (_, data) = npy::read_f32(fixture("float_conv3x3_relu_pool2", "input.npy")).unwrap();
        let input = n
            .input_from_npy(fixture("float_conv3x3_relu_pool2", "input.npy"))
            .unwrap();
        let q = n.import().unwrap().float_input().unwrap();
        assert_eq!(input.real.data, data);
        let want: Vec<i8> = data.iter().map(|&x| q.quantize(x)).collect();
        assert_eq!(input.int8.data, want);
    }

    #[test]
    fn wrong_dtype_and_shape_say_expected_and_found() {
        let n = net("relu_only");
        let path = temp("f32.npy");
        npy::write_f32(&path, &[1, 7, 9, 3], &[0.0; 189]).unwrap();
        let e = n.input_from_npy(&path).unwrap_err().to_string();
        assert!(
            e.contains("expected int8") && e.contains("found float32"),
            "{e}"
        );
        npy::write_i8(&path, &[1, 9, 7, 3], &[0; 189]).unwrap();
        let e = n.input_from_npy(&path).unwrap_err().to_string();
        assert!(
            e.contains("expected shape [1, 7, 9, 3] or [7, 9, 3]") && e.contains("[1, 9, 7, 3]"),
            "{e}"
        );
        // A float-input model wants float32.
        let f = net("float_conv3x3_relu_pool2");
        npy::write_i8(&path, &[1, 16, 16, 1], &[0; 256]).unwrap();
        let e = f.input_from_npy(&path).unwrap_err().to_string();
        assert!(
            e.contains("expected float32") && e.contains("found int8"),
            "{e}"
        );
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn image_input_is_pixel_minus_128_for_the_walkthrough() {
        for case in ["walkthrough", "walkthrough_float"] {
            let n = net(case);
            let input = n
                .input_from_image(fixture(case, "input.png"), false)
                .unwrap();
            let pixels = picture::load(fixture(case, "input.png"), Channels::Rgb).unwrap();
            let want: Vec<i8> = pixels
                .data
                .iter()
                .map(|&p| (p as i32 - 128) as i8)
                .collect();
            assert!(input.int8.data == want, "{case}");
        }
        // ... which is the int8 fixture's input.npy.
        let n = net("walkthrough");
        let input = n
            .input_from_image(fixture("walkthrough", "input.png"), false)
            .unwrap();
        let (_, want) = npy::read_i8(fixture("walkthrough", "input.npy")).unwrap();
        assert!(input.int8.data == want);
        // The float model's real input is p / 255 itself.
        let n = net("walkthrough_float");
        let input = n
            .input_from_image(fixture("walkthrough_float", "input.png"), false)
            .unwrap();
        let (_, want) = npy::read_f32(fixture("walkthrough_float", "input.npy")).unwrap();
        assert!(input.real.data == want);
    }

    #[test]
    fn image_of_the_wrong_size_needs_resize() {
        let n = net("conv3x3_c1_same_relu_pool2"); // 16x16x1
        let path = temp("small.png");
        image::GrayImage::from_pixel(5, 4, image::Luma([200]))
            .save(&path)
            .unwrap();
        let e = n.input_from_image(&path, false).unwrap_err().to_string();
        assert!(e.contains("4x5") && e.contains("16x16"), "{e}");
        let input = n.input_from_image(&path, true).unwrap();
        assert_eq!(input.int8.shape, Shape::new(16, 16, 1));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn outputs_follow_the_model_and_the_engine() {
        let n = net("float_conv3x3_relu_pool2");
        let input = n
            .input_from_npy(fixture("float_conv3x3_relu_pool2", "input.npy"))
            .unwrap();
        for engine in [Engine::Frame, Engine::Stream, Engine::Float] {
            assert_eq!(n.run(engine, &input).unwrap().dtype(), "float32");
        }
        let n = net("relu_only");
        let input = n.input_from_npy(fixture("relu_only", "input.npy")).unwrap();
        assert_eq!(n.run(Engine::Stream, &input).unwrap().dtype(), "int8");
        assert_eq!(n.run(Engine::Float, &input).unwrap().dtype(), "float32");
    }

    #[test]
    fn error_stats() {
        let q = Quant::new(1.0, 0);
        let s = Shape::new(1, 2, 1);
        let int8 = Tensor::new(s, vec![1i8, 2]).unwrap();
        let same = ErrorStats::between(&int8, &Tensor::new(s, vec![1.0, 2.0]).unwrap(), q).unwrap();
        assert_eq!((same.max_lsb, same.mean_lsb, same.clipped), (0.0, 0.0, 0));
        assert!(same.psnr_db.is_infinite());
        let off = ErrorStats::between(&int8, &Tensor::new(s, vec![0.0, 2.0]).unwrap(), q).unwrap();
        assert_eq!((off.max_lsb, off.mean_lsb), (1.0, 0.5));
        // MSE 0.5 LSB²: 10 log10(255² / 0.5).
        assert!((off.psnr_db - 51.1411).abs() < 1e-3, "{}", off.psnr_db);
    }

    #[test]
    fn comparison_counts_frame_stream_differences() {
        let s = Shape::new(1, 3, 1);
        let frame = Tensor::new(s, vec![1i8, 2, 3]).unwrap();
        let c = Comparison {
            stream: Tensor::new(s, vec![1i8, 5, 4]).unwrap(),
            frame,
            float: Tensor::new(s, vec![1.0f32, 2.0, 3.0]).unwrap(),
            quant: Quant::new(1.0, 0),
        };
        assert_eq!(c.frame_stream_differences(), 2);
        assert_eq!(c.diff().unwrap().data, vec![0.0, 3.0, 1.0]);
        assert!(c.diff_picture().is_ok());
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
            panel::mosaic_size(&panels, panel::MIN_TILE)
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

    #[test]
    fn model_for_width_replans() {
        let n = net("n3_mini");
        let m = n.model_for_width(320).unwrap();
        assert_eq!(m.input_shape(), Shape::new(30, 320, 1));
        let base = n.import().unwrap().model().stream_arena_len();
        assert!(m.stream_arena_len() > base);
        let e = net("conv7x7_c8_valid_nobias")
            .model_for_width(3)
            .unwrap_err();
        assert!(e.to_string().contains("at width 3"), "{e}");
    }
}
