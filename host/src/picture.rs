//! Picture: PNG/JPEG files to `Tensor<u8>` (HWC), and pictures to the pixel
//! values, reals and int8 inputs a model takes — through the core's one pixel
//! path ([`scanline::pixel`]), so a photo gives the bytes the firmware gives.
//!
//! A picture's rows go through the core's [`LineConverter`] as `Gray8` or `Rgb888`
//! camera lines: the same code that converts camera lines on the board. The rules
//! (all in [`scanline::pixel`]):
//! - colour to gray for a 1-channel model: [`GrayRule::TensorFlow`] by default for
//!   photos (`tf.image.rgb_to_grayscale`, checked against TensorFlow 2.21 on all
//!   2^24 RGB triples), or [`GrayRule::IntegerLuma`] when asked;
//! - gray to colour repeats the channel (`tf.image.grayscale_to_rgb`);
//! - [`to_real`] is `tf.image.convert_image_dtype(image, tf.float32)`:
//!   `p * f32(1 / 255)` ([`scanline::pixel::real`]);
//! - [`to_int8`] quantizes those reals with the model's input [`Quant`], which for
//!   scale 1/255 and zero point -128 is exactly `p - 128`.
//!
//! Alpha channels are dropped (not composited). 16-bit images are reduced to 8 bits
//! by the `image` crate. PNG decoding is exact. JPEG decoders differ in their
//! inverse DCT and chroma upsampling: on a noisy 56x40 test JPEG, 85% of the
//! values decoded here differed from `tf.io.decode_jpeg`'s (mean 1.4 levels, at
//! most 13), so bit-exact comparisons with TensorFlow should start from PNG (or
//! from pixels TensorFlow decoded, saved as `.npy`).

use std::path::Path;

use image::{DynamicImage, ImageBuffer, ImageError, ImageReader, Luma, Rgb};
use scanline::pixel::{GrayRule, LineConverter, PixelFormat};
use scanline::{Quant, Shape};

use crate::{Error, Result, Tensor};

/// Which channels [`load`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Channels {
    /// One channel: gray images as stored, colour images through
    /// [`GrayRule::TensorFlow`].
    Gray,
    /// Three channels: colour images as stored, gray images repeated.
    Rgb,
    /// As stored: one channel for gray images, three for colour (alpha dropped).
    #[default]
    Keep,
}

impl Channels {
    /// The number of channels asked for, if fixed (`Keep` has none).
    pub const fn count(self) -> Option<usize> {
        match self {
            Channels::Gray => Some(1),
            Channels::Rgb => Some(3),
            Channels::Keep => None,
        }
    }
}

/// Loads a PNG or JPEG file as an HWC `Tensor<u8>` with the channels asked for.
///
/// The format is recognised from the file's contents (the extension only as a
/// fallback).
///
/// # Errors
///
/// [`Error::Io`] if the file cannot be opened or read; [`Error::Image`] (naming the
/// path) if it is not an image, its format is not PNG/JPEG, it is corrupt, too
/// large for the decoder's limits, or has no pixels.
///
/// # Examples
///
/// ```
/// use scanline_host::picture::{self, Channels};
/// let path = std::env::temp_dir().join(format!("scanline-picture-doc-{}.png", std::process::id()));
/// image::RgbImage::from_pixel(4, 2, image::Rgb([255, 0, 0])).save(&path).unwrap();
/// let rgb = picture::load(&path, Channels::Keep).unwrap();
/// assert_eq!((rgb.shape.height, rgb.shape.width, rgb.shape.channels), (2, 4, 3));
/// let gray = picture::load(&path, Channels::Gray).unwrap();
/// assert_eq!(gray.data[0], 76); // trunc(0.2989 * 255.5)
/// # std::fs::remove_file(&path).unwrap();
/// ```
pub fn load(path: impl AsRef<Path>, channels: Channels) -> Result<Tensor<u8>> {
    let path = path.as_ref();
    let bytes = crate::file::read(path, crate::file::Kind::Picture)?;
    decode(path, &bytes, channels)
}

/// Widest and tallest picture decoded, in pixels.
pub const MAX_SIDE: u32 = 16384;

/// Most memory the decoder may allocate for one picture, in bytes (a
/// 4096x4096 RGBA picture needs 64 MiB).
pub const MAX_ALLOC: u64 = 256 << 20;

/// The decoder limits [`decode`] sets: [`MAX_SIDE`] and [`MAX_ALLOC`], so a
/// header claiming 60000x60000 pixels is an error before anything is allocated.
pub fn limits() -> image::Limits {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    limits
}

/// Most pixels a JPEG may claim per byte of its file. Every 8x8 block of
/// every component costs at least two bits (a DC code and an end-of-block), so
/// a real JPEG holds at most 256 pixels a byte; the JPEG decoder fills a
/// truncated file's missing blocks instead of failing, so without this a few
/// hundred bytes claiming 9000x9000 pixels would decode (slowly) into a mostly
/// made-up picture.
pub const MAX_JPEG_PIXELS_PER_BYTE: u64 = 1024;

/// Refuses a JPEG whose header claims more pixels than its bytes can hold.
fn check_jpeg_size(path: &Path, bytes: &[u8]) -> Result<()> {
    let reader = ImageReader::with_format(std::io::Cursor::new(bytes), image::ImageFormat::Jpeg);
    let (w, h) = reader
        .into_dimensions()
        .map_err(|e| from_image_error(path, e))?;
    let pixels = u64::from(w) * u64::from(h);
    if pixels > MAX_JPEG_PIXELS_PER_BYTE * bytes.len() as u64 {
        return Err(image_error(
            path,
            format!(
                "truncated or corrupt JPEG: its header claims {w}x{h} pixels, more than {} bytes can hold",
                bytes.len()
            ),
        ));
    }
    Ok(())
}

/// Decodes the bytes of a PNG or JPEG file as [`load`] does; `path` only names
/// it in errors.
///
/// # Errors
///
/// As [`load`], without the I/O errors.
pub fn decode(path: &Path, bytes: &[u8], channels: Channels) -> Result<Tensor<u8>> {
    let mut reader = ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| image_error(path, format!("cannot read: {e}")))?;
    if reader.format().is_none() {
        return Err(image_error(path, "not an image (unrecognised format)"));
    }
    if reader.format() == Some(image::ImageFormat::Jpeg) {
        check_jpeg_size(path, bytes)?;
    }
    reader.limits(limits());
    let img = reader.decode().map_err(|e| from_image_error(path, e))?;
    if img.width() == 0 || img.height() == 0 {
        return Err(image_error(path, "the image has no pixels"));
    }
    let colour = img.color().has_color();
    let want = channels.count().unwrap_or(if colour { 3 } else { 1 });
    Ok(match (want, colour) {
        (1, true) => to_channels(&rgb_tensor(&img), 1, GrayRule::TensorFlow)?,
        (1, false) => {
            let g = img.to_luma8();
            tensor(&g, 1, g.as_raw().clone())
        }
        (_, true) => rgb_tensor(&img),
        (_, false) => {
            let g = img.to_luma8();
            let data = g.as_raw().iter().flat_map(|&v| [v, v, v]).collect();
            tensor(&g, 3, data)
        }
    })
}

fn rgb_tensor(img: &DynamicImage) -> Tensor<u8> {
    let rgb = img.to_rgb8();
    tensor(&rgb, 3, rgb.as_raw().clone())
}

fn tensor<P: image::Pixel>(
    img: &ImageBuffer<P, Vec<P::Subpixel>>,
    channels: usize,
    data: Vec<u8>,
) -> Tensor<u8> {
    Tensor {
        shape: Shape::new(img.height() as usize, img.width() as usize, channels),
        data,
    }
}

fn image_error(path: &Path, message: impl Into<String>) -> Error {
    Error::Image {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// Maps an `image` crate error about `path` to the host error.
pub(crate) fn from_image_error(path: &Path, e: ImageError) -> Error {
    match e {
        ImageError::IoError(source)
            if matches!(
                source.kind(),
                std::io::ErrorKind::UnexpectedEof | std::io::ErrorKind::InvalidData
            ) =>
        {
            image_error(path, format!("truncated or corrupt image: {source}"))
        }
        ImageError::IoError(source) => image_error(path, source.to_string()),
        ImageError::Unsupported(e) => image_error(path, format!("unsupported image format: {e}")),
        ImageError::Decoding(e) => image_error(path, format!("not a readable image: {e}")),
        ImageError::Limits(e) => image_error(path, format!("image too large: {e}")),
        other => image_error(path, other.to_string()),
    }
}

/// The core converter that reads the rows of `pixels` (1 or 3 channels) as
/// `Gray8` or `Rgb888` camera lines into rows of `channels` channels.
fn converter(
    pixels: &Tensor<u8>,
    channels: usize,
    quant: Quant,
    rule: GrayRule,
) -> Result<LineConverter> {
    let format = match pixels.shape.channels {
        1 => PixelFormat::Gray8,
        3 => PixelFormat::Rgb888,
        c => {
            return Err(Error::Shape(format!(
                "a picture has 1 (gray) or 3 (RGB) channels, not {c}"
            )));
        }
    };
    if pixels.data.len() != pixels.shape.len() {
        return Err(Error::Shape(format!(
            "{} values cannot fill a {} picture",
            pixels.data.len(),
            pixels.shape
        )));
    }
    let s = pixels.shape;
    Ok(LineConverter::new(format, Shape::new(s.height, s.width, channels), quant)?.with_gray(rule))
}

/// Runs `each(converter, line, row)` over the picture's rows into a tensor of
/// `channels` channels.
fn rows<T: Copy + Default>(
    pixels: &Tensor<u8>,
    conv: &LineConverter,
    channels: usize,
    each: impl Fn(&LineConverter, &[u8], &mut [T]) -> scanline::Result<()>,
) -> Result<Tensor<T>> {
    let s = pixels.shape;
    let mut out = Tensor::filled(Shape::new(s.height, s.width, channels), T::default());
    if s.is_empty() {
        return Ok(out);
    }
    for (line, row) in pixels
        .data
        .chunks_exact(conv.line_len())
        .zip(out.data.chunks_exact_mut(conv.row_len()))
    {
        each(conv, line, row)?;
    }
    Ok(out)
}

/// The picture's pixel values as a model with `channels` (1 or 3) input channels
/// takes them, through the core's [`LineConverter::decode`]: colour to gray with
/// `rule`, gray to colour by repetition, else unchanged.
///
/// # Examples
///
/// ```
/// use scanline::Shape;
/// use scanline::pixel::GrayRule;
/// use scanline_host::{Tensor, picture};
/// let rgb = Tensor::new(Shape::new(1, 2, 3), vec![255, 255, 255, 0, 255, 0]).unwrap();
/// assert_eq!(picture::to_channels(&rgb, 1, GrayRule::TensorFlow).unwrap().data, vec![255, 149]);
/// let red = Tensor::new(Shape::new(1, 1, 3), vec![255, 0, 0]).unwrap();
/// assert_eq!(picture::to_channels(&red, 1, GrayRule::TensorFlow).unwrap().data, vec![76]);
/// assert_eq!(picture::to_channels(&red, 1, GrayRule::IntegerLuma).unwrap().data, vec![77]);
/// ```
///
/// # Errors
///
/// [`Error::Shape`] unless the picture has 1 or 3 channels and `channels` is 1
/// or 3.
pub fn to_channels(pixels: &Tensor<u8>, channels: usize, rule: GrayRule) -> Result<Tensor<u8>> {
    let conv = converter(pixels, channels, scanline::edges::INPUT_QUANT, rule)?;
    rows(pixels, &conv, channels, LineConverter::decode)
}

/// Pixels as reals in `[0, 1]`: [`scanline::pixel::real`], `p * f32(1 / 255)`, as
/// `tf.image.convert_image_dtype(image, tf.float32)` computes them.
///
/// # Examples
///
/// ```
/// use scanline::Shape;
/// use scanline_host::{Tensor, picture};
/// let t = Tensor::new(Shape::new(1, 2, 1), vec![0u8, 255]).unwrap();
/// assert_eq!(picture::to_real(&t).data, vec![0.0, 1.0]);
/// ```
pub fn to_real(pixels: &Tensor<u8>) -> Tensor<f32> {
    pixels.map(scanline::pixel::real)
}

/// Pixels as the int8 input of a model with the same channels, quantized with
/// `quant`: the core's [`LineConverter::convert`] (`quant.quantize(real(p))`).
///
/// With TFLite's usual image input quantization (scale 1/255, zero point -128)
/// this is exactly `p - 128` for every pixel value.
///
/// # Examples
///
/// ```
/// use scanline::{Quant, Shape};
/// use scanline_host::{Tensor, picture};
/// let t = Tensor::new(Shape::new(1, 3, 1), vec![0u8, 128, 255]).unwrap();
/// let q = picture::to_int8(&t, Quant::new(1.0 / 255.0, -128)).unwrap();
/// assert_eq!(q.data, vec![-128, 0, 127]);
/// ```
///
/// # Errors
///
/// [`Error::Shape`] unless the picture has 1 or 3 channels; the core's error for
/// an invalid `quant`.
pub fn to_int8(pixels: &Tensor<u8>, quant: Quant) -> Result<Tensor<i8>> {
    let c = pixels.shape.channels;
    let conv = converter(pixels, c, quant, GrayRule::default())?;
    rows(pixels, &conv, c, LineConverter::convert)
}

/// Resizes a 1- or 3-channel picture to `height` x `width` with the `image`
/// crate's Triangle (bilinear) filter.
///
/// When shrinking, the Triangle filter widens with the scale factor (it
/// antialiases), so results are close to, but not bit-identical with,
/// `tf.image.resize(..., method="bilinear")`.
///
/// # Errors
///
/// [`Error::Shape`] for another channel count, an empty picture or a size that
/// does not fit the `image` crate; [`Error::Invalid`] for a zero target size.
///
/// # Examples
///
/// ```
/// use scanline::Shape;
/// use scanline_host::{Tensor, picture};
/// let t = Tensor::filled(Shape::new(4, 6, 3), 200u8);
/// let r = picture::resize(&t, 2, 3).unwrap();
/// assert_eq!(r.shape, Shape::new(2, 3, 3));
/// assert!(r.data.iter().all(|&v| v == 200));
/// ```
pub fn resize(pixels: &Tensor<u8>, height: usize, width: usize) -> Result<Tensor<u8>> {
    if height == 0 || width == 0 {
        return Err(Error::Invalid(format!(
            "cannot resize to {height}x{width}: sizes must be at least 1"
        )));
    }
    let s = pixels.shape;
    if s.is_empty() || pixels.data.len() != s.len() {
        return Err(Error::Shape(format!("cannot resize an empty {s} picture")));
    }
    let dims = |h: usize, w: usize| Some((u32::try_from(w).ok()?, u32::try_from(h).ok()?));
    let (Some((w0, h0)), Some((w1, h1))) = (dims(s.height, s.width), dims(height, width)) else {
        return Err(Error::Shape(format!(
            "cannot resize {s} to {height}x{width}: too large"
        )));
    };
    let filter = image::imageops::FilterType::Triangle;
    let data = match s.channels {
        1 => {
            let img = ImageBuffer::<Luma<u8>, _>::from_raw(w0, h0, pixels.data.clone());
            img.map(|i| image::imageops::resize(&i, w1, h1, filter).into_raw())
        }
        3 => {
            let img = ImageBuffer::<Rgb<u8>, _>::from_raw(w0, h0, pixels.data.clone());
            img.map(|i| image::imageops::resize(&i, w1, h1, filter).into_raw())
        }
        c => {
            return Err(Error::Shape(format!(
                "cannot resize a {c}-channel picture (1 or 3 channels)"
            )));
        }
    };
    let data = data.ok_or_else(|| Error::Shape(format!("{s} picture has the wrong length")))?;
    Tensor::new(Shape::new(height, width, s.channels), data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn temp(name: &str) -> PathBuf {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        std::env::temp_dir().join(format!(
            "scanline-picture-{}-{n}-{name}",
            std::process::id()
        ))
    }

    /// A 3x2 RGB image with distinct pixels.
    fn sample_rgb() -> image::RgbImage {
        image::RgbImage::from_fn(3, 2, |x, y| Rgb([x as u8 * 100, y as u8 * 200, 7]))
    }

    #[test]
    fn png_rgb_round_trip_and_channel_choice() {
        let path = temp("rgb.png");
        let img = sample_rgb();
        img.save(&path).unwrap();
        let keep = load(&path, Channels::Keep).unwrap();
        assert_eq!(keep.shape, Shape::new(2, 3, 3));
        assert_eq!(keep.data, img.as_raw().clone());
        assert_eq!(load(&path, Channels::Rgb).unwrap(), keep);
        let gray = load(&path, Channels::Gray).unwrap();
        assert_eq!(gray.shape, Shape::new(2, 3, 1));
        assert_eq!(gray, to_channels(&keep, 1, GrayRule::TensorFlow).unwrap());
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn gray_png_and_alpha() {
        let path = temp("gray.png");
        let g = image::GrayImage::from_fn(2, 2, |x, y| Luma([(x * 10 + y) as u8]));
        g.save(&path).unwrap();
        let keep = load(&path, Channels::Keep).unwrap();
        assert_eq!(
            (keep.shape, keep.data.clone()),
            (Shape::new(2, 2, 1), vec![0, 10, 1, 11])
        );
        let rgb = load(&path, Channels::Rgb).unwrap();
        assert_eq!(rgb.shape, Shape::new(2, 2, 3));
        assert_eq!(&rgb.data[3..6], &[10, 10, 10]);

        let path2 = temp("rgba.png");
        let rgba = image::RgbaImage::from_pixel(2, 1, image::Rgba([1, 2, 3, 0]));
        rgba.save(&path2).unwrap();
        let t = load(&path2, Channels::Keep).unwrap();
        assert_eq!(
            (t.shape, t.data),
            (Shape::new(1, 2, 3), vec![1, 2, 3, 1, 2, 3])
        );
        std::fs::remove_file(&path).unwrap();
        std::fs::remove_file(&path2).unwrap();
    }

    #[test]
    fn jpeg_loads_close_to_source() {
        let path = temp("flat.jpg");
        image::RgbImage::from_pixel(16, 8, Rgb([120, 60, 200]))
            .save(&path)
            .unwrap();
        let t = load(&path, Channels::Keep).unwrap();
        assert_eq!(t.shape, Shape::new(8, 16, 3));
        for p in t.data.chunks(3) {
            for (a, b) in p.iter().zip([120u8, 60, 200]) {
                assert!(a.abs_diff(b) <= 3, "{p:?}");
            }
        }
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_jpeg_claiming_more_pixels_than_its_bytes_hold_is_refused() {
        let mut jpeg = Vec::new();
        sample_rgb()
            .write_to(
                &mut std::io::Cursor::new(&mut jpeg),
                image::ImageFormat::Jpeg,
            )
            .unwrap();
        let path = Path::new("bomb.jpg");
        assert!(decode(path, &jpeg, Channels::Keep).is_ok());
        // The baseline frame header (FFC0): length, precision, height, width.
        let sof = jpeg.windows(2).position(|w| w == [0xff, 0xc0]).unwrap();
        jpeg[sof + 5..sof + 9].copy_from_slice(&[0x23, 0x28, 0x23, 0x28]); // 9000x9000
        let e = decode(path, &jpeg, Channels::Keep).unwrap_err().to_string();
        assert!(e.contains("claims 9000x9000 pixels"), "{e}");
        // Past the side limit, whatever the size: the decoder's limits.
        let png = {
            let mut b = Vec::new();
            let mut enc = png::Encoder::new(&mut b, 60000, 60000);
            enc.set_color(png::ColorType::Rgb);
            drop(enc.write_header().unwrap());
            b
        };
        let e = decode(Path::new("huge.png"), &png, Channels::Keep)
            .unwrap_err()
            .to_string();
        assert!(e.contains("image too large"), "{e}");
    }

    #[test]
    fn format_from_contents_not_extension() {
        let path = temp("really-a-png.jpg");
        sample_rgb()
            .save_with_format(&path, image::ImageFormat::Png)
            .unwrap();
        assert_eq!(
            load(&path, Channels::Keep).unwrap().data,
            sample_rgb().into_raw()
        );
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn errors_name_the_path() {
        let missing = temp("missing.png");
        let e = load(&missing, Channels::Keep).unwrap_err();
        assert!(matches!(e, Error::Io(_)), "{e:?}");
        assert!(e.to_string().contains("missing.png"), "{e}");

        let text = temp("notes.txt");
        std::fs::write(&text, "just some text, not pixels").unwrap();
        let e = load(&text, Channels::Keep).unwrap_err();
        assert!(matches!(e, Error::Image { .. }), "{e:?}");
        assert!(e.to_string().contains("notes.txt") && e.to_string().contains("not an image"));

        let fake = temp("fake.png");
        std::fs::write(&fake, "just some text, not pixels").unwrap();
        let e = load(&fake, Channels::Keep).unwrap_err();
        assert!(matches!(e, Error::Image { .. }), "{e:?}");
        assert!(e.to_string().contains("fake.png"), "{e}");

        // A truncated PNG and a truncated JPEG.
        let png = temp("cut.png");
        sample_rgb().save(&png).unwrap();
        let bytes = std::fs::read(&png).unwrap();
        let jpg = temp("cut.jpg");
        image::RgbImage::from_pixel(32, 32, Rgb([9, 99, 199]))
            .save(&jpg)
            .unwrap();
        let jbytes = std::fs::read(&jpg).unwrap();
        for (p, b) in [(&png, &bytes), (&jpg, &jbytes)] {
            for cut in [4, 20, b.len() / 2, b.len() - 3] {
                std::fs::write(p, &b[..cut]).unwrap();
                // A decoder may tolerate a lost tail; it must never panic, and
                // anything it rejects is an image error naming the file.
                if let Err(e) = load(p, Channels::Keep) {
                    assert!(matches!(e, Error::Image { .. }), "{e:?}");
                    assert!(e.to_string().contains("cut."), "{e}");
                }
            }
        }
        // A header announcing zero width.
        let mut zero = bytes.clone();
        zero[16..20].copy_from_slice(&0u32.to_be_bytes());
        std::fs::write(&png, &zero).unwrap();
        assert!(matches!(
            load(&png, Channels::Keep),
            Err(Error::Image { .. })
        ));

        // Other formats are not enabled.
        let gif = temp("anim.gif");
        std::fs::write(&gif, b"GIF89a\x01\x00\x01\x00\x00\x00\x00;").unwrap();
        let e = load(&gif, Channels::Keep).unwrap_err();
        assert!(matches!(e, Error::Image { .. }), "{e:?}");

        let dir = std::env::temp_dir();
        assert!(load(&dir, Channels::Keep).is_err());
        for p in [&text, &fake, &png, &jpg, &gif] {
            std::fs::remove_file(p).unwrap();
        }
    }

    #[test]
    fn to_real_is_tf_convert_image_dtype() {
        let all = Tensor::new(Shape::new(1, 256, 1), (0..=255u8).collect()).unwrap();
        let r = to_real(&all);
        assert_eq!(r.data[0], 0.0);
        assert_eq!(r.data[255], 1.0);
        for (p, v) in r.data.iter().enumerate() {
            assert!((*v as f64 - p as f64 / 255.0).abs() < 1e-7, "{p}: {v}");
        }
    }

    #[test]
    fn to_int8_is_p_minus_128_for_all_pixels() {
        let all = Tensor::new(Shape::new(16, 16, 1), (0..=255u8).collect()).unwrap();
        let q = to_int8(&all, Quant::new(1.0 / 255.0, -128)).unwrap();
        for (p, v) in all.data.iter().zip(&q.data) {
            assert_eq!(*v as i32, *p as i32 - 128);
        }
        // Another quantization: scale 2/255, zero point 0 halves (ties away from zero).
        let q = to_int8(&all, Quant::new(2.0 / 255.0, 0)).unwrap();
        assert_eq!(&q.data[..4], &[0, 1, 1, 2]);
        assert_eq!(q.data[255], 127);
    }

    #[test]
    fn gray_matches_tf_on_known_values() {
        // Values from tf.image.rgb_to_grayscale on uint8 pixels: trunc(255.5 * sum).
        let rgb = Tensor::new(
            Shape::new(1, 5, 3),
            vec![0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255],
        )
        .unwrap();
        let gray = |t: &Tensor<u8>| to_channels(t, 1, GrayRule::TensorFlow).unwrap();
        assert_eq!(gray(&rgb).data, vec![0, 255, 76, 149, 29]);
        // Gray pixels stay themselves, as TensorFlow 2.21 gives them (checked: all
        // 256): the weights sum to 0.9999, and the + 0.5 of the conversion back
        // to uint8 absorbs it.
        let grays: Vec<u8> = (0..=255u8).flat_map(|v| [v, v, v]).collect();
        let g = gray(&Tensor::new(Shape::new(1, 256, 3), grays).unwrap());
        assert_eq!(g.data, (0..=255u8).collect::<Vec<_>>());
    }

    #[test]
    fn resize_shapes_and_errors() {
        let t = Tensor::new(Shape::new(2, 2, 1), vec![0u8, 100, 200, 250]).unwrap();
        let up = resize(&t, 4, 6).unwrap();
        assert_eq!(up.shape, Shape::new(4, 6, 1));
        let (lo, hi) = (up.data.iter().min().unwrap(), up.data.iter().max().unwrap());
        assert!(*lo <= 25 && *hi >= 225, "{lo} {hi}");
        assert_eq!(resize(&t, 2, 2).unwrap(), t);
        assert!(matches!(resize(&t, 0, 3), Err(Error::Invalid(_))));
        let four = Tensor::filled(Shape::new(2, 2, 4), 1u8);
        assert!(matches!(resize(&four, 3, 3), Err(Error::Shape(_))));
        let empty = Tensor::filled(Shape::new(0, 2, 3), 1u8);
        assert!(matches!(resize(&empty, 3, 3), Err(Error::Shape(_))));
        let bad = Tensor {
            shape: Shape::new(2, 2, 3),
            data: vec![0u8; 5],
        };
        assert!(matches!(resize(&bad, 3, 3), Err(Error::Shape(_))));
    }
}
