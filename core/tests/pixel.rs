//! Camera pixel formats against hand-computed values.

use scanline::pixel::{ByteOrder, LineConverter, PixelFormat, Quantizer};
use scanline::{Error, Param, Quant, Shape};

/// Scale 1/255, zero point -128: pixel `p` becomes `p - 128`.
const Q: Quant = Quant::new(1.0 / 255.0, -128);

/// Expected row from pixel values 0..=255 under `Q`.
fn px(values: &[i32]) -> Vec<i8> {
    values.iter().map(|&p| (p - 128) as i8).collect()
}

fn convert(format: PixelFormat, width: usize, channels: usize, line: &[u8]) -> Vec<i8> {
    let c = LineConverter::new(format, Shape::new(1, width, channels), Q).unwrap();
    assert_eq!(c.line_len(), line.len());
    let mut row = vec![0i8; c.row_len()];
    c.convert(line, &mut row).unwrap();
    row
}

#[test]
fn table_is_quantize_of_p_times_f32_inverse_of_255() {
    for q in [
        Q,
        Quant::new(0.01, 5),
        Quant::new(0.0123, 17),
        Quant::new(1.0 / 128.0, 0),
        Quant::new(0.5, -3),
    ] {
        let t = Quantizer::new(q);
        for p in 0..=255u8 {
            assert_eq!(
                t.get(p),
                q.quantize(p as f32 * (1.0f64 / 255.0) as f32),
                "{q:?} {p}"
            );
        }
    }
    // By hand: scale 0.01, zero point 5.
    let t = Quantizer::new(Quant::new(0.01, 5));
    assert_eq!(t.get(0), 5);
    assert_eq!(t.get(128), 55); // 0.50196 / 0.01 = 50.2 -> 50
    assert_eq!(t.get(200), 83); // 78.4 -> 78
    assert_eq!(t.get(255), 105);
    let t = Quantizer::new(Q);
    assert!((0..=255u8).all(|p| t.get(p) as i32 == p as i32 - 128));
}

#[test]
fn gray8() {
    assert_eq!(
        convert(PixelFormat::Gray8, 3, 1, &[0, 128, 255]),
        px(&[0, 128, 255])
    );
    // RGB model: gray replicated into R, G and B.
    assert_eq!(
        convert(PixelFormat::Gray8, 2, 3, &[0, 255]),
        px(&[0, 0, 0, 255, 255, 255])
    );
}

#[test]
fn rgb565_both_byte_orders() {
    // 0x1234: r5 = 2 -> 16, g6 = 17 -> 69, b5 = 20 -> 165.
    let rgb = px(&[16, 69, 165]);
    let big = PixelFormat::Rgb565(ByteOrder::Big);
    let little = PixelFormat::Rgb565(ByteOrder::Little);
    assert_eq!(convert(big, 1, 3, &[0x12, 0x34]), rgb);
    assert_eq!(convert(little, 1, 3, &[0x34, 0x12]), rgb);
    // The other order reads 0x3412: r5 = 6 -> 49, g6 = 32 -> 130, b5 = 18 -> 148.
    assert_eq!(convert(big, 1, 3, &[0x34, 0x12]), px(&[49, 130, 148]));
    // Gray model: luma of red 0xf800, green 0x07e0, blue 0x001f, white, black.
    // (77*255+128)>>8 = 77, (150*255+128)>>8 = 149, (29*255+128)>>8 = 29.
    let gray = px(&[77, 149, 29, 255, 0]);
    let be = [0xf8, 0x00, 0x07, 0xe0, 0x00, 0x1f, 0xff, 0xff, 0x00, 0x00];
    let le = [0x00, 0xf8, 0xe0, 0x07, 0x1f, 0x00, 0xff, 0xff, 0x00, 0x00];
    assert_eq!(convert(big, 5, 1, &be), gray);
    assert_eq!(convert(little, 5, 1, &le), gray);
}

#[test]
fn rgb888() {
    assert_eq!(
        convert(PixelFormat::Rgb888, 2, 3, &[10, 20, 30, 255, 0, 128]),
        px(&[10, 20, 30, 255, 0, 128])
    );
    // Luma: (77*10 + 150*20 + 29*30 + 128) >> 8 = 4768 >> 8 = 18.
    assert_eq!(
        convert(PixelFormat::Rgb888, 2, 1, &[10, 20, 30, 255, 255, 255]),
        px(&[18, 255])
    );
}

#[test]
fn yuyv() {
    let line = [16, 200, 235, 50];
    // Gray model: the Y bytes.
    assert_eq!(convert(PixelFormat::Yuyv, 2, 1, &line), px(&[16, 235]));
    // RGB model, U' = 72, V' = -78:
    // R = Y + ((359 * -78 + 128) >> 8) = Y - 109
    // G = Y - ((88 * 72 + 183 * -78 + 128) >> 8) = Y + 31
    // B = Y + ((454 * 72 + 128) >> 8) = Y + 128
    // pixel 0 (Y 16): (0, 47, 144); pixel 1 (Y 235): (126, 255, 255).
    assert_eq!(
        convert(PixelFormat::Yuyv, 2, 3, &line),
        px(&[0, 47, 144, 126, 255, 255])
    );
}

#[test]
fn lengths_and_formats_are_checked() {
    let c = LineConverter::new(PixelFormat::Rgb888, Shape::new(4, 2, 3), Q).unwrap();
    let mut row = [0i8; 6];
    assert_eq!(
        c.convert(&[0; 5], &mut row),
        Err(Error::Length {
            layer: None,
            param: Param::Line,
            expected: 6,
            found: 5
        })
    );
    assert_eq!(
        c.convert(&[0; 6], &mut row[..5]),
        Err(Error::Length {
            layer: None,
            param: Param::Row,
            expected: 6,
            found: 5
        })
    );
    assert_eq!(
        LineConverter::new(PixelFormat::Gray8, Shape::new(1, 2, 2), Q),
        Err(Error::Invalid {
            layer: None,
            param: Param::InChannels,
            reason: "camera pixels feed models with 1 (gray) or 3 (RGB) input channels",
        })
    );
    assert_eq!(
        LineConverter::new(PixelFormat::Yuyv, Shape::new(1, 3, 1), Q),
        Err(Error::Invalid {
            layer: None,
            param: Param::PixelFormat,
            reason: "YUYV sends pixel pairs: the width must be even",
        })
    );
    assert_eq!(
        LineConverter::new(PixelFormat::Gray8, Shape::new(1, 3, 1), Quant::new(0.0, 0)),
        Err(Error::Invalid {
            layer: None,
            param: Param::InputQuant,
            reason: "scale must be finite and > 0",
        })
    );
}

/// Camera lines through a converter into a pipeline equal the frame engine over
/// the converted image; one row buffer, no frame.
#[test]
fn camera_lines_through_a_pipeline() {
    use scanline::stream::Pipeline;
    use scanline::{Activation, Layer, MaxPool2d, Model, Padding, Rounding, Window};
    let q = Quant::new(1.0 / 255.0, -128);
    let layers = [Layer::MaxPool(MaxPool2d {
        window: Window::square(3, 2, Padding::Same),
        quant: q,
        activation: Activation::None,
    })];
    let shape = Shape::new(6, 4, 1);
    let model = Model::new(shape, q, &layers, Rounding::Double).unwrap();
    let conv = LineConverter::for_model(PixelFormat::Rgb565(ByteOrder::Little), &model).unwrap();
    let lines: Vec<u8> = (0..6 * 4 * 2).map(|i| (i * 37 % 256) as u8).collect();
    let mut image = vec![0i8; shape.len()];
    for (line, row) in lines.chunks(8).zip(image.chunks_mut(4)) {
        conv.convert(line, row).unwrap();
    }
    let mut expected = vec![0i8; model.output_shape().len()];
    scanline::frame::run(&model, &image, &mut expected, &mut []).unwrap();

    let mut arena = vec![0i8; model.stream_arena_len()];
    let mut p = Pipeline::new(&model, &mut arena).unwrap();
    let mut row = [0i8; 4];
    let mut got = Vec::new();
    for line in lines.chunks(8) {
        conv.convert(line, &mut row).unwrap();
        p.push_row(&row, &mut |_: usize, out: &[i8]| {
            got.extend_from_slice(out);
            Ok::<(), Error>(())
        })
        .unwrap();
    }
    p.finish().unwrap();
    assert_eq!(got, expected);
    // Six lines in; a 3x3 stride-2 SAME pool gives ceil(6 / 2) = 3 rows out.
    assert_eq!((p.rows_pushed(), p.rows_emitted()), (6, 3));
}
