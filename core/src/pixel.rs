//! Pixel: camera pixel formats (`Gray8`, `Rgb565` in both byte orders, `Rgb888`,
//! `Yuyv`), each turning one camera line into one quantized input row of a model,
//! with no frame-sized buffer and integer-only per-pixel work.
//!
//! This module is the one place where pixels become model inputs: the CLI's image,
//! raw-frame and `edges` paths, the workloads, the tests and the firmware all call
//! it, so a frame gives the same int8 row on the host and on the board.
//!
//! # The pixel rule
//!
//! A pixel value `p` in `0..=255` means the real value `p * f32(1 / 255)` ([`real`]):
//! an f32 multiplication by `1 / 255` rounded to f32, exactly what
//! `tf.image.convert_image_dtype(image, tf.float32)` computes (TensorFlow multiplies
//! by `1. / 255`; it does not divide). That real is quantized with the model's
//! input [`Quant`] as [`Quant::quantize`] does (round half away from zero, clamp).
//! A 256-entry table ([`Quantizer`]) holds the result for every `p`, so converting a
//! line is table lookups. With the usual image input quantization (scale 1/255,
//! zero point -128) the int8 value is exactly `p - 128`.
//!
//! # Gray
//!
//! Two rules turn colour into gray, each named by what it matches ([`GrayRule`]):
//! - [`GrayRule::IntegerLuma`]: BT.601 weights in 8-bit fixed point,
//!   `Y = (77 R + 150 G + 29 B + 128) >> 8` ([`luma`]); what a camera pipeline on a
//!   microcontroller can afford per pixel. The [`LineConverter`] default.
//! - [`GrayRule::TensorFlow`]: `tf.image.rgb_to_grayscale` on a `uint8` image
//!   ([`tf_gray`]): weights `(0.2989, 0.5870, 0.1140)` applied in f32 to
//!   `p * f32(1 / 255)`, back to `uint8` by truncating `gray * 255.5` as
//!   `tf.image.convert_image_dtype` does. What a Keras pipeline feeds a gray model
//!   from a colour photo.
//!
//! The two differ by one level on about a third of all colours (pure red: 77 and
//! 76). From YUYV both take the Y bytes as they are.
//!
//! # Colour
//!
//! - RGB565 widens by bit replication: `r8 = r5 << 3 | r5 >> 2`,
//!   `g8 = g6 << 2 | g6 >> 4`, `b8 = b5 << 3 | b5 >> 2` (so 31 → 255, 63 → 255).
//!   [`ByteOrder::Big`] sends the high byte (`RRRRRGGG`) first, as the OV2640 does.
//! - RGB models from YUYV use full-range (JFIF) BT.601 with `U' = U - 128`,
//!   `V' = V - 128`, `>>` flooring: `R = Y + ((359 V' + 128) >> 8)`,
//!   `G = Y - ((88 U' + 183 V' + 128) >> 8)`, `B = Y + ((454 U' + 128) >> 8)`,
//!   clamped to `0..=255` ([`yuv_to_rgb`]); a pixel pair shares `U`, `V`.
//! - RGB models from `Gray8` replicate the gray value into R, G and B (as
//!   `tf.image.grayscale_to_rgb` does): the conversion is lossless and unambiguous.
//! - Models with other than 1 or 3 input channels are an error.
//!
//! # Examples
//!
//! ```
//! use scanline::pixel::{ByteOrder, LineConverter, PixelFormat};
//! use scanline::{Quant, Shape};
//! let q = Quant::new(1.0 / 255.0, -128);
//! // A gray model 2 pixels wide, fed by an RGB565 camera (high byte first).
//! let conv = LineConverter::new(PixelFormat::Rgb565(ByteOrder::Big), Shape::new(1, 2, 1), q)?;
//! let line = [0xff, 0xff, 0x00, 0x00]; // white, black
//! let mut row = [0i8; 2];
//! conv.convert(&line, &mut row)?;
//! assert_eq!(row, [127, -128]);
//! # Ok::<(), scanline::Error>(())
//! ```

use crate::{Error, Model, Param, Quant, Result, Shape};

/// Byte order of a 16-bit RGB565 pixel on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum ByteOrder {
    /// High byte (`RRRRRGGG`) first: the OV2640's default.
    #[default]
    Big,
    /// Low byte (`GGGBBBBB`) first.
    Little,
}

/// A camera pixel format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum PixelFormat {
    /// One byte of gray per pixel.
    Gray8,
    /// Two bytes per pixel, 5 bits red, 6 green, 5 blue.
    Rgb565(ByteOrder),
    /// Three bytes per pixel: R, G, B.
    Rgb888,
    /// YUV 4:2:2, two pixels in four bytes: `Y0 U Y1 V`.
    Yuyv,
}

impl PixelFormat {
    /// Bytes per pixel on the wire (YUYV: 2, averaged over a pixel pair).
    ///
    /// ```
    /// use scanline::pixel::PixelFormat;
    /// assert_eq!(PixelFormat::Rgb888.bytes_per_pixel(), 3);
    /// assert_eq!(PixelFormat::Yuyv.bytes_per_pixel(), 2);
    /// ```
    pub const fn bytes_per_pixel(self) -> usize {
        match self {
            PixelFormat::Gray8 => 1,
            PixelFormat::Rgb565(_) | PixelFormat::Yuyv => 2,
            PixelFormat::Rgb888 => 3,
        }
    }

    /// Every format, in the order the command line lists them.
    pub const ALL: [PixelFormat; 5] = [
        PixelFormat::Gray8,
        PixelFormat::Rgb565(ByteOrder::Little),
        PixelFormat::Rgb565(ByteOrder::Big),
        PixelFormat::Rgb888,
        PixelFormat::Yuyv,
    ];

    /// The name used on the command line: `gray8`, `rgb565le`, `rgb565be`,
    /// `rgb888`, `yuyv`.
    ///
    /// ```
    /// use scanline::pixel::{ByteOrder, PixelFormat};
    /// assert_eq!(PixelFormat::Rgb565(ByteOrder::Big).name(), "rgb565be");
    /// assert_eq!(PixelFormat::from_name("RGB565LE"), Some(PixelFormat::Rgb565(ByteOrder::Little)));
    /// assert_eq!(PixelFormat::from_name("bgr"), None);
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            PixelFormat::Gray8 => "gray8",
            PixelFormat::Rgb565(ByteOrder::Little) => "rgb565le",
            PixelFormat::Rgb565(ByteOrder::Big) => "rgb565be",
            PixelFormat::Rgb888 => "rgb888",
            PixelFormat::Yuyv => "yuyv",
        }
    }

    /// The format called `name` (case-insensitive), if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }
}

/// BT.601 luma in 8-bit fixed point: `(77 R + 150 G + 29 B + 128) >> 8`.
///
/// ```
/// use scanline::pixel::luma;
/// assert_eq!(luma(255, 255, 255), 255);
/// assert_eq!(luma(255, 0, 0), 77); // (77 * 255 + 128) >> 8
/// assert_eq!(luma(0, 0, 0), 0);
/// ```
#[inline]
pub const fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((77 * r as u32 + 150 * g as u32 + 29 * b as u32 + 128) >> 8) as u8
}

/// An RGB565 pixel widened to 8 bits per channel by bit replication.
///
/// ```
/// use scanline::pixel::rgb565_to_rgb888;
/// assert_eq!(rgb565_to_rgb888(0xffff), [255, 255, 255]);
/// assert_eq!(rgb565_to_rgb888(0xf800), [255, 0, 0]);
/// assert_eq!(rgb565_to_rgb888(0x0410), [0, 130, 132]); // g6 = 32, b5 = 16
/// ```
#[inline]
pub const fn rgb565_to_rgb888(v: u16) -> [u8; 3] {
    let r = (v >> 11) as u8 & 0x1f;
    let g = (v >> 5) as u8 & 0x3f;
    let b = v as u8 & 0x1f;
    [
        (r << 3) | (r >> 2),
        (g << 2) | (g >> 4),
        (b << 3) | (b >> 2),
    ]
}

/// Full-range (JFIF) BT.601 YUV to RGB in 8-bit fixed point (formula in the
/// [module documentation](crate::pixel)).
///
/// ```
/// use scanline::pixel::yuv_to_rgb;
/// assert_eq!(yuv_to_rgb(100, 128, 128), [100, 100, 100]); // no chroma: gray
/// assert_eq!(yuv_to_rgb(76, 85, 255), [254, 0, 0]); // about pure red
/// ```
#[inline]
pub const fn yuv_to_rgb(y: u8, u: u8, v: u8) -> [u8; 3] {
    let (y, u, v) = (y as i32, u as i32 - 128, v as i32 - 128);
    let r = y + ((359 * v + 128) >> 8);
    let g = y - ((88 * u + 183 * v + 128) >> 8);
    let b = y + ((454 * u + 128) >> 8);
    [clamp_u8(r), clamp_u8(g), clamp_u8(b)]
}

#[inline]
const fn clamp_u8(v: i32) -> u8 {
    if v < 0 {
        0
    } else if v > 255 {
        255
    } else {
        v as u8
    }
}

/// `f32(1 / 255)`: the factor `tf.image.convert_image_dtype` multiplies `uint8`
/// pixels by.
pub const STEP: f32 = (1.0f64 / 255.0) as f32;

/// The real value of pixel value `p`: `p * f32(1 / 255)`, as
/// `tf.image.convert_image_dtype(image, tf.float32)` computes it (see the
/// [module documentation](crate::pixel)).
///
/// ```
/// use scanline::pixel::real;
/// assert_eq!((real(0), real(255)), (0.0, 1.0));
/// // A multiplication, not a division: the two differ in the last bit for 126
/// // of the 256 values.
/// assert_ne!(real(3), 3.0f32 / 255.0);
/// ```
#[inline]
pub fn real(p: u8) -> f32 {
    p as f32 * STEP
}

/// `tf.image.rgb_to_grayscale`'s luma weights (ITU-R BT.601, as TensorFlow rounds
/// them).
pub const TF_LUMA_WEIGHTS: [f32; 3] = [0.2989, 0.5870, 0.1140];

/// Gray from RGB exactly as `tf.image.rgb_to_grayscale` computes it for a `uint8`
/// image: `trunc(((r' * 0.2989 + g' * 0.5870) + b' * 0.1140) * 255.5)` in f32, with
/// `x' = real(x)` (checked against TensorFlow 2.21 on all 2^24 RGB triples).
///
/// ```
/// use scanline::pixel::tf_gray;
/// assert_eq!(tf_gray(255, 0, 0), 76);
/// assert_eq!(tf_gray(0, 255, 0), 149);
/// assert_eq!(tf_gray(255, 255, 255), 255);
/// ```
#[inline]
pub fn tf_gray(r: u8, g: u8, b: u8) -> u8 {
    let [wr, wg, wb] = TF_LUMA_WEIGHTS;
    let y = real(r) * wr + real(g) * wg + real(b) * wb;
    // `as` saturates: the sum never exceeds 1.0001, so 255.5 * it stays below 256.
    (y * 255.5) as u8
}

/// How colour pixels become gray for a 1-channel model (see the
/// [module documentation](crate::pixel)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum GrayRule {
    /// `(77 R + 150 G + 29 B + 128) >> 8` ([`luma`]): integer BT.601, as camera
    /// pipelines compute it.
    #[default]
    IntegerLuma,
    /// `tf.image.rgb_to_grayscale` ([`tf_gray`]): what a TensorFlow pipeline does.
    TensorFlow,
}

impl GrayRule {
    /// The gray value of one RGB pixel under this rule.
    ///
    /// ```
    /// use scanline::pixel::GrayRule;
    /// assert_eq!(GrayRule::IntegerLuma.gray(255, 0, 0), 77);
    /// assert_eq!(GrayRule::TensorFlow.gray(255, 0, 0), 76);
    /// ```
    #[inline]
    pub fn gray(self, r: u8, g: u8, b: u8) -> u8 {
        match self {
            GrayRule::IntegerLuma => luma(r, g, b),
            GrayRule::TensorFlow => tf_gray(r, g, b),
        }
    }

    /// A short name: `integer-luma` or `tensorflow`.
    pub const fn name(self) -> &'static str {
        match self {
            GrayRule::IntegerLuma => "integer-luma",
            GrayRule::TensorFlow => "tensorflow",
        }
    }
}

/// The 256-entry table from a pixel value `p` to `quant.quantize(real(p))`.
///
/// # Examples
///
/// ```
/// use scanline::pixel::{Quantizer, real};
/// use scanline::Quant;
/// let q = Quant::new(1.0 / 255.0, -128);
/// let t = Quantizer::new(q);
/// assert_eq!((t.get(0), t.get(128), t.get(255)), (-128, 0, 127));
/// assert!((0..=255u8).all(|p| t.get(p) == q.quantize(real(p))));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quantizer {
    table: [i8; 256],
}

impl Quantizer {
    /// Builds the table for `quant` (256 quantizations, once).
    pub fn new(quant: Quant) -> Self {
        let mut table = [0i8; 256];
        for (p, t) in (0..=255u8).zip(table.iter_mut()) {
            *t = quant.quantize(real(p));
        }
        Self { table }
    }

    /// Quantizes a whole slice of pixel values into `out` (same length; extra
    /// values on either side are left alone).
    pub fn quantize_into(&self, pixels: &[u8], out: &mut [i8]) {
        for (o, &p) in out.iter_mut().zip(pixels) {
            *o = self.get(p);
        }
    }

    /// The quantized value of pixel value `p`.
    #[inline]
    pub fn get(&self, p: u8) -> i8 {
        // 256 entries: every `u8` has one.
        self.table.get(usize::from(p)).copied().unwrap_or_default()
    }
}

/// Converts camera lines of one format into input rows of one model.
///
/// See the [module documentation](crate::pixel) for the colour rules and an example.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineConverter {
    format: PixelFormat,
    width: usize,
    channels: usize,
    gray: GrayRule,
    quantizer: Quantizer,
}

impl LineConverter {
    /// A converter for `format` into rows of an input of shape `input` (only its
    /// width and channels matter) quantized with `quant`.
    ///
    /// Errors: [`Error::Invalid`] with [`Param::InChannels`] unless the input has 1
    /// or 3 channels, with [`Param::PixelFormat`] for YUYV with an odd width.
    pub fn new(format: PixelFormat, input: Shape, quant: Quant) -> Result<Self> {
        quant.validate(Param::InputQuant)?;
        if input.channels != 1 && input.channels != 3 {
            return Err(Error::invalid(
                Param::InChannels,
                "camera pixels feed models with 1 (gray) or 3 (RGB) input channels",
            ));
        }
        if format == PixelFormat::Yuyv && !input.width.is_multiple_of(2) {
            return Err(Error::invalid(
                Param::PixelFormat,
                "YUYV sends pixel pairs: the width must be even",
            ));
        }
        Ok(Self {
            format,
            width: input.width,
            channels: input.channels,
            gray: GrayRule::default(),
            quantizer: Quantizer::new(quant),
        })
    }

    /// The same converter with colour-to-gray rule `gray` (for 1-channel models fed
    /// colour lines; the default is [`GrayRule::IntegerLuma`]).
    #[must_use]
    pub fn with_gray(mut self, gray: GrayRule) -> Self {
        self.gray = gray;
        self
    }

    /// The colour-to-gray rule.
    pub fn gray_rule(&self) -> GrayRule {
        self.gray
    }

    /// A converter for `format` into rows of `model`'s input.
    pub fn for_model(format: PixelFormat, model: &Model<'_>) -> Result<Self> {
        Self::new(format, model.input_shape(), model.input_quant())
    }

    /// The pixel format.
    pub fn format(&self) -> PixelFormat {
        self.format
    }

    /// Bytes of one camera line: `width * bytes_per_pixel`.
    pub fn line_len(&self) -> usize {
        self.width * self.format.bytes_per_pixel()
    }

    /// Values of one input row: `width * channels`.
    pub fn row_len(&self) -> usize {
        self.width * self.channels
    }

    /// Converts one camera `line` ([`LineConverter::line_len`] bytes) into one input
    /// `row` ([`LineConverter::row_len`] values). Wrong lengths are
    /// [`Error::Length`] with [`Param::Line`] or [`Param::Row`].
    pub fn convert(&self, line: &[u8], row: &mut [i8]) -> Result<()> {
        self.check(line, row.len())?;
        let q = &self.quantizer;
        self.each_pixel(line, row, |p| q.get(p));
        Ok(())
    }

    /// Decodes one camera `line` into the pixel values (`0..=255`) the model's
    /// input row is quantized from: gray or RGB as the model takes, after the
    /// format's colour rules and the gray rule, before quantization. The real
    /// value of each is [`real`]`(p)`; [`LineConverter::convert`] gives
    /// `Quantizer::get(p)` of each. Same errors as [`LineConverter::convert`].
    ///
    /// ```
    /// use scanline::pixel::{GrayRule, LineConverter, PixelFormat};
    /// use scanline::{Quant, Shape};
    /// let q = Quant::new(1.0 / 255.0, -128);
    /// let c = LineConverter::new(PixelFormat::Rgb888, Shape::new(1, 2, 1), q)?;
    /// let mut gray = [0u8; 2];
    /// c.decode(&[255, 0, 0, 0, 255, 0], &mut gray)?;
    /// assert_eq!(gray, [77, 149]);
    /// c.with_gray(GrayRule::TensorFlow).decode(&[255, 0, 0, 0, 255, 0], &mut gray)?;
    /// assert_eq!(gray, [76, 149]);
    /// # Ok::<(), scanline::Error>(())
    /// ```
    pub fn decode(&self, line: &[u8], pixels: &mut [u8]) -> Result<()> {
        self.check(line, pixels.len())?;
        self.each_pixel(line, pixels, |p| p);
        Ok(())
    }

    fn check(&self, line: &[u8], row_len: usize) -> Result<()> {
        if line.len() != self.line_len() {
            return Err(Error::length(Param::Line, self.line_len(), line.len()));
        }
        if row_len != self.row_len() {
            return Err(Error::length(Param::Row, self.row_len(), row_len));
        }
        Ok(())
    }

    /// Writes `f(p)` for every pixel value `p` of the row `line` decodes to.
    /// Lengths were checked.
    #[inline]
    fn each_pixel<T: Copy>(&self, line: &[u8], row: &mut [T], f: impl Fn(u8) -> T) {
        let rule = self.gray;
        // A pixel is 1 (gray) or 3 (RGB) values: the checked lengths.
        let put_rgb = |out: &mut [T], [r, g, b]: [u8; 3]| match out {
            [v] => *v = f(rule.gray(r, g, b)),
            [vr, vg, vb] => {
                *vr = f(r);
                *vg = f(g);
                *vb = f(b);
            }
            _ => {}
        };
        // 1 or 3 (checked); `max(1)` lets the compiler drop the zero-chunk panic.
        let c = self.channels.max(1);
        match self.format {
            PixelFormat::Gray8 => {
                for (out, &p) in row.chunks_exact_mut(c).zip(line) {
                    out.fill(f(p));
                }
            }
            PixelFormat::Rgb565(order) => {
                for (out, &px) in row.chunks_exact_mut(c).zip(line.as_chunks::<2>().0) {
                    let v = match order {
                        ByteOrder::Big => u16::from_be_bytes(px),
                        ByteOrder::Little => u16::from_le_bytes(px),
                    };
                    put_rgb(out, rgb565_to_rgb888(v));
                }
            }
            PixelFormat::Rgb888 => {
                for (out, &px) in row.chunks_exact_mut(c).zip(line.as_chunks::<3>().0) {
                    put_rgb(out, px);
                }
            }
            PixelFormat::Yuyv => {
                for (out, &[y0, u, y1, v]) in row
                    .chunks_exact_mut(c.saturating_mul(2))
                    .zip(line.as_chunks::<4>().0)
                {
                    let Some((a, b)) = out.split_at_mut_checked(c) else {
                        continue;
                    };
                    if let ([a], [b]) = (&mut *a, &mut *b) {
                        *a = f(y0);
                        *b = f(y1);
                    } else {
                        put_rgb(a, yuv_to_rgb(y0, u, v));
                        put_rgb(b, yuv_to_rgb(y1, u, v));
                    }
                }
            }
        }
    }
}
