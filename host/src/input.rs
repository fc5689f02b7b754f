//! Input: what a model is run on — a `.npy` array, a PNG/JPEG picture or a raw
//! camera frame — made ready for every engine: the int8 tensor the int8 engines
//! take and the real values the f32 reference takes.
//!
//! Pictures and raw frames take the core's one pixel path
//! ([`scanline::pixel::LineConverter`]): a picture's rows are read as `Gray8` or
//! `Rgb888` lines, a raw frame's as lines of its pixel format, exactly as the
//! firmware reads camera lines. Conventions (the `scanline run` contract):
//! - **`.npy`**: int8 shaped `[1, H, W, C]` or `[H, W, C]` for an int8-input
//!   model; float32 for a float-input model (it starts with `QUANTIZE`), quantized
//!   with [`Import::float_input`](scanline::tflite::Import::float_input).
//! - **pictures and raw frames**: decoded to the pixel values the model takes (1
//!   channel: gray; 3: RGB), each the real `p * f32(1 / 255)`
//!   ([`scanline::pixel::real`]), quantized with the model's input parameters
//!   (those of the `QUANTIZE` for float-input models). Colour becomes gray by
//!   [`GrayRule::TensorFlow`] for pictures and [`GrayRule::IntegerLuma`] for raw
//!   frames unless [`InputOptions::gray`] says otherwise.
//! - **float reference input**: the real values the model sees — the dequantized
//!   int8 input for int8-input models, the float input itself for float-input ones.

use std::path::Path;

use scanline::pixel::{GrayRule, LineConverter, PixelFormat, Quantizer};
use scanline::{Quant, Shape};

use crate::network::Network;
use crate::picture::{self, Channels};
use crate::{Error, Result, Tensor, npy};

/// A model input, ready for every engine.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    /// The int8 tensor the frame and stream engines take (the model's input).
    pub int8: Tensor<i8>,
    /// The real values the float reference takes: the float input of a
    /// float-input model, else `int8` dequantized with the model's input
    /// quantization.
    pub real: Tensor<f32>,
    /// For pictures and raw frames, the pixel values the int8 input was quantized
    /// from (gray or RGB, as the model takes them).
    pub pixels: Option<Tensor<u8>>,
}

/// A raw camera frame's layout: its pixel format and width (its height is the
/// file size divided by the line size).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Raw {
    /// The pixel format of every line.
    pub format: PixelFormat,
    /// Pixels per line.
    pub width: usize,
}

/// How [`Network::input_from_file`] reads a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InputOptions {
    /// Resize a picture to the model's input size (bilinear, see
    /// [`picture::resize`]); without it a picture of another size is an error.
    pub resize: bool,
    /// Read the file as a raw camera frame of this layout.
    pub raw: Option<Raw>,
    /// Colour-to-gray rule for a 1-channel model fed colour pixels
    /// (default: [`GrayRule::TensorFlow`] for pictures, [`GrayRule::IntegerLuma`]
    /// for raw frames).
    pub gray: Option<GrayRule>,
}

impl Network {
    /// An input from a file: a raw frame if `options.raw` says so, `.npy`
    /// ([`Network::input_from_npy`]) by its extension, anything else as a picture
    /// ([`Network::input_from_image`]).
    ///
    /// # Errors
    ///
    /// As those functions.
    pub fn input_from_file(&self, path: impl AsRef<Path>, options: &InputOptions) -> Result<Input> {
        let path = path.as_ref();
        if let Some(raw) = options.raw {
            return self.input_from_raw(path, raw, options.gray.unwrap_or(GrayRule::IntegerLuma));
        }
        let is_npy = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("npy"));
        if is_npy {
            self.input_from_npy(path)
        } else {
            self.input_from_image(
                path,
                options.resize,
                options.gray.unwrap_or(GrayRule::TensorFlow),
            )
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
                Ok(Input {
                    int8,
                    real,
                    pixels: None,
                })
            }
            (npy::Data::F32(v), Some(q)) => {
                let real = Tensor::new(s, v)?;
                let int8 = real.quantize(q);
                Ok(Input {
                    int8,
                    real,
                    pixels: None,
                })
            }
            // The dtype was checked above.
            (data, _) => Err(npy_error(format!(
                "expected {expected_dtype}, found {}",
                data.dtype()
            ))),
        }
    }

    /// An input from a PNG or JPEG picture: its rows read as `Gray8` / `Rgb888`
    /// lines into the model's channels (colour to gray by `gray`), `real(p)`
    /// quantized with the model's input parameters (the `QUANTIZE`'s for a
    /// float-input model). Its size must be the model's unless `resize`
    /// (bilinear, see [`picture::resize`]).
    ///
    /// # Errors
    ///
    /// [`Error::Image`] naming the file for a size mismatch (both sizes given) or a
    /// model that does not take 1 or 3 channels; the loader's errors otherwise.
    pub fn input_from_image(
        &self,
        path: impl AsRef<Path>,
        resize: bool,
        gray: GrayRule,
    ) -> Result<Input> {
        let path = path.as_ref();
        let s = self.import()?.model().input_shape();
        let image_error = |message: String| Error::Image {
            path: path.to_path_buf(),
            message,
        };
        if s.channels != 1 && s.channels != 3 {
            return Err(image_error(format!(
                "the model takes {} input channels; an image gives 1 (gray) or 3 (RGB)",
                s.channels
            )));
        }
        let mut pixels = picture::load(path, Channels::Keep)?;
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
        self.input_from_pixels(picture::to_channels(&pixels, s.channels, gray)?)
    }

    /// An input from a raw camera frame: lines of `raw.width` pixels in
    /// `raw.format`, as many as the file holds, each decoded by the core's
    /// [`LineConverter`] (colour to gray by `gray`) exactly as the firmware decodes
    /// camera lines. The frame must be the model's size.
    ///
    /// # Errors
    ///
    /// [`Error::Frame`] naming the file when its size is not a whole number of
    /// lines, or the frame is not the model's size; [`Error::Core`] for a format
    /// the model cannot take (YUYV with an odd width, a model with other than 1 or
    /// 3 channels).
    pub fn input_from_raw(
        &self,
        path: impl AsRef<Path>,
        raw: Raw,
        gray: GrayRule,
    ) -> Result<Input> {
        let path = path.as_ref();
        let s = self.import()?.model().input_shape();
        let frame_error = |message: String| Error::Frame {
            path: path.to_path_buf(),
            message,
        };
        if raw.width == 0 {
            return Err(frame_error("--width must be at least 1".into()));
        }
        let bytes = crate::file::read(path, crate::file::Kind::Frame)?;
        let Some(frame) = raw_shape(bytes.len(), raw, s.channels) else {
            return Err(frame_error(format!(
                "{} bytes is not a whole number of {}-pixel {} lines ({} bytes each)",
                bytes.len(),
                raw.width,
                raw.format.name(),
                raw.width.saturating_mul(raw.format.bytes_per_pixel())
            )));
        };
        if frame != s {
            return Err(frame_error(format!(
                "the frame is {}x{} (HxW: {} bytes of {} lines), the model takes {}x{}",
                frame.height,
                frame.width,
                bytes.len(),
                raw.format.name(),
                s.height,
                s.width
            )));
        }
        let conv = LineConverter::new(raw.format, s, scanline::edges::INPUT_QUANT)?.with_gray(gray);
        let mut pixels = Tensor::filled(s, 0u8);
        for (line, row) in bytes
            .chunks_exact(conv.line_len())
            .zip(pixels.data.chunks_exact_mut(conv.row_len()))
        {
            conv.decode(line, row)?;
        }
        self.input_from_pixels(pixels)
    }

    /// An input from pixel values already in the model's shape: `real(p)`
    /// quantized with the model's input parameters (see the module docs).
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] if the pixels are not shaped like the model's input.
    pub fn input_from_pixels(&self, pixels: Tensor<u8>) -> Result<Input> {
        let import = self.import()?;
        let model = import.model();
        if pixels.shape != model.input_shape() {
            return Err(Error::Shape(format!(
                "the pixels are {}, the model takes {}",
                pixels.shape,
                model.input_shape()
            )));
        }
        let quant: Quant = import.float_input().unwrap_or(model.input_quant());
        let table = Quantizer::new(quant);
        let int8 = pixels.map(|p| table.get(p));
        let real = if import.float_input().is_some() {
            picture::to_real(&pixels)
        } else {
            int8.dequantize(model.input_quant())
        };
        Ok(Input {
            int8,
            real,
            pixels: Some(pixels),
        })
    }
}

/// The shape of a raw frame of `len` bytes in `raw`'s layout feeding a model with
/// `channels` channels, if the size is a whole number of lines.
///
/// ```
/// use scanline::pixel::{ByteOrder, PixelFormat};
/// use scanline::Shape;
/// use scanline_host::input::{Raw, raw_shape};
/// let raw = Raw { format: PixelFormat::Rgb565(ByteOrder::Big), width: 320 };
/// assert_eq!(raw_shape(153_600, raw, 1), Some(Shape::new(240, 320, 1)));
/// assert_eq!(raw_shape(153_601, raw, 1), None);
/// ```
pub fn raw_shape(len: usize, raw: Raw, channels: usize) -> Option<Shape> {
    let line = raw.width.checked_mul(raw.format.bytes_per_pixel())?;
    (line > 0 && len > 0 && len.is_multiple_of(line))
        .then(|| Shape::new(len / line, raw.width, channels))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

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
        std::env::temp_dir().join(format!("scanline-input-{}-{n}-{name}", std::process::id()))
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
                .input_from_image(fixture(case, "input.png"), false, GrayRule::TensorFlow)
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
            .input_from_image(
                fixture("walkthrough", "input.png"),
                false,
                GrayRule::TensorFlow,
            )
            .unwrap();
        let (_, want) = npy::read_i8(fixture("walkthrough", "input.npy")).unwrap();
        assert!(input.int8.data == want);
        // The float model's real input is p / 255 itself.
        let n = net("walkthrough_float");
        let input = n
            .input_from_image(
                fixture("walkthrough_float", "input.png"),
                false,
                GrayRule::TensorFlow,
            )
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
        let e = n
            .input_from_image(&path, false, GrayRule::TensorFlow)
            .unwrap_err()
            .to_string();
        assert!(e.contains("4x5") && e.contains("16x16"), "{e}");
        let input = n
            .input_from_image(&path, true, GrayRule::TensorFlow)
            .unwrap();
        assert_eq!(input.int8.shape, Shape::new(16, 16, 1));
        std::fs::remove_file(&path).unwrap();
    }
}
