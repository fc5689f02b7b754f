//! Readers: the targets over bytes from files — `.tflite` models, `.npy`
//! arrays, pictures, capture logs — and camera lines through `LineConverter`.

use std::path::Path;

use arbitrary::Unstructured;
use scanline::pixel::{ByteOrder, GrayRule, LineConverter, PixelFormat};
use scanline::{Quant, Rounding, Shape};
use scanline_host::{npy as host_npy, picture, verify as host_verify};

use crate::engines;

/// Entry point of the `tflite` target: the reader and model validation with
/// both roundings; any model they accept runs through [`engines::agree`].
pub fn tflite(data: &[u8]) {
    let _ = scanline::tflite::for_each_operator(data, |_, _| {});
    for i in 0..4 {
        let _ = scanline::tflite::tensor_name(data, i);
    }
    for rounding in [Rounding::Double, Rounding::Single] {
        let Ok(import) = scanline::tflite::parse_with(data, rounding) else {
            continue;
        };
        let _ = (
            import.description(),
            import.float_input(),
            import.float_output(),
        );
        for i in 0..import.model().layers().len() {
            assert!(
                import.operator_of_layer(i).is_some(),
                "layer {i} has no operator"
            );
        }
        let model = import.model();
        let n = model.input_shape().len();
        if n <= engines::MAX_BYTES {
            let input: Vec<i8> = (0..n).map(|i| data[i % data.len()] as i8).collect();
            engines::agree(model, &input);
        }
    }
}

/// Entry point of the `npy` target: the host's `.npy` parser.
pub fn npy(data: &[u8]) {
    if let Ok(array) = host_npy::parse(Path::new("fuzz.npy"), data) {
        let n: Option<usize> = array
            .shape
            .iter()
            .try_fold(1usize, |a, &d| a.checked_mul(d));
        assert_eq!(n, Some(array.data.len()), "shape and values disagree");
    }
}

/// Entry point of the `image` target: the host's picture decoder (limits set)
/// with each channel choice; a decoded picture's size must fit the limits.
pub fn image(data: &[u8]) {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let channels = match pick % 3 {
        0 => picture::Channels::Keep,
        1 => picture::Channels::Gray,
        _ => picture::Channels::Rgb,
    };
    if let Ok(t) = picture::decode(Path::new("fuzz.png"), bytes, channels) {
        let s = t.shape;
        assert!(s.height <= picture::MAX_SIDE as usize && s.width <= picture::MAX_SIDE as usize);
        assert_eq!(t.data.len(), s.len(), "tensor size");
    }
}

/// Entry point of the `pixel` target: a converter for any format, width,
/// channel count, quantization and gray rule, fed lines of the right and of
/// wrong lengths.
pub fn pixel(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = pixel_case(&mut u);
}

fn pixel_case(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let format = *u.choose(&[
        PixelFormat::Gray8,
        PixelFormat::Rgb565(ByteOrder::Big),
        PixelFormat::Rgb565(ByteOrder::Little),
        PixelFormat::Rgb888,
        PixelFormat::Yuyv,
    ])?;
    let width = u.int_in_range(0..=700)?;
    let channels = u.int_in_range(0..=4)?;
    let scale = match u.int_in_range(0..=3)? {
        0 => 1.0 / 255.0,
        1 => f32::from_bits(u.arbitrary()?),
        _ => f32::from(u.int_in_range(1u16..=u16::MAX)?) / 1024.0,
    };
    let quant = Quant::new(scale, u.arbitrary()?);
    let gray = if u.arbitrary()? {
        GrayRule::TensorFlow
    } else {
        GrayRule::IntegerLuma
    };
    let Ok(c) = LineConverter::new(format, Shape::new(1, width, channels), quant) else {
        return Ok(());
    };
    let c = c.with_gray(gray);
    assert_eq!(c.line_len(), width * format.bytes_per_pixel());
    assert_eq!(c.row_len(), width * channels);
    let skew: isize = if u.ratio(1, 8)? {
        u.int_in_range(-2..=2)?
    } else {
        0
    };
    let line_len = c.line_len().saturating_add_signed(skew);
    let line: Vec<u8> = (0..line_len)
        .map(|_| u.arbitrary())
        .collect::<Result<_, _>>()?;
    let mut row = vec![0i8; c.row_len()];
    let mut pixels = vec![0u8; c.row_len()];
    let converted = c.convert(&line, &mut row);
    let decoded = c.decode(&line, &mut pixels);
    assert_eq!(
        converted.is_ok(),
        line.len() == c.line_len(),
        "{converted:?}"
    );
    assert_eq!(decoded.is_ok(), converted.is_ok());
    if converted.is_ok() {
        // convert is decode then quantize, pixel by pixel.
        let q = scanline::pixel::Quantizer::new(quant);
        let want: Vec<i8> = pixels.iter().map(|&p| q.get(p)).collect();
        assert_eq!(row, want, "convert != quantize(decode)");
    }
    // A row of the wrong length is refused too.
    let mut short = vec![0i8; c.row_len().saturating_sub(1)];
    if c.row_len() > 0 {
        assert!(c.convert(&line, &mut short).is_err());
    }
    Ok(())
}

/// Entry point of the `verify` target: the capture-log parser, then every
/// frame of every capture checked against the built-in edge model at the
/// log's input size (with and without a pool: one of them does not fit the
/// log's output shape, which must be refused), whatever shapes the log claims.
pub fn verify(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(captures) = host_verify::parse(text) else {
        return;
    };
    for capture in &captures {
        let input = capture.header.input;
        let channels = if input.channels == 3 { 3 } else { 1 };
        for pool in [0u8, 2] {
            let Ok(edges) = scanline_firmware::job::edge_model(channels, pool) else {
                continue;
            };
            let Ok(model) = edges.model(input.height, input.width) else {
                continue;
            };
            for frame in &capture.frames {
                let _ = host_verify::check_frame(capture, frame, &model);
                let _ = host_verify::input_of(&capture.header, frame, &model);
            }
        }
    }
}
