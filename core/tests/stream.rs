//! Stream engine vs frame engine: random models, byte for byte; latency, reset,
//! abort, arena exactness, errors and the N3 reference chain.

mod models;

use models::{
    ModelSpec, fast_kernels, frame_output, layers, macs, model_spec, own, random_input,
    stream_frame,
};
use proptest::prelude::*;
use scanline::WeightLayout;
use scanline::stream::{Pipeline, PushError, Sink, ring_rows};
use scanline::{
    Activation, Axis, Conv2d, DepthwiseConv2d, Error, Layer, MaxPool2d, Model, Padding, Param,
    Quant, Requantization, Rounding, Shape, Values, Window,
};
use scanline_testkit::Rng;

/// The push after which each output row can be emitted at the earliest by an
/// engine that emits every layer's rows in order: brute force over the taps
/// (independent of the pipeline's own bookkeeping).
fn earliest(model: &Model<'_>) -> Vec<usize> {
    let mut times: Vec<usize> = (0..model.input_shape().height).collect();
    for (i, layer) in model.layers().iter().enumerate() {
        let h = model.shape(i).unwrap().height;
        let ho = model.shape(i + 1).unwrap().height;
        let (a, padding) = layer.vertical();
        let pad = a.pad_before(h, padding) as isize;
        let mut next = Vec::with_capacity(ho);
        for o in 0..ho {
            let dep = (0..a.kernel)
                .map(|t| (o * a.stride) as isize - pad + (t * a.dilation) as isize)
                .filter(|&y| y >= 0 && (y as usize) < h)
                .map(|y| times[y as usize])
                .max()
                .unwrap_or(0);
            let prev = next.last().copied().unwrap_or(0);
            next.push(dep.max(prev));
        }
        times = next;
    }
    times
}

/// The same bound from `Axis::inputs_needed` (which ignores that dilated taps past
/// the bottom may skip the last rows): an upper bound for `earliest`.
fn inputs_needed_bound(model: &Model<'_>) -> Vec<usize> {
    let mut times: Vec<usize> = (0..model.input_shape().height).collect();
    for (i, layer) in model.layers().iter().enumerate() {
        let h = model.shape(i).unwrap().height;
        let ho = model.shape(i + 1).unwrap().height;
        let (a, padding) = layer.vertical();
        let pad = a.pad_before(h, padding);
        times = (0..ho)
            .map(|o| match a.inputs_needed(o, h, pad) {
                0 => 0,
                n => times[n - 1],
            })
            .collect();
    }
    times
}

/// Checks one model: stream == frame, latency, exact arena. Returns false if the
/// model is rejected.
fn check(spec: &ModelSpec) -> Result<bool, TestCaseError> {
    let (owned, q_in) = own(spec);
    let layers = layers(&owned, spec.hwio);
    let shape = spec.shape();
    let Ok(model) = Model::new(shape, q_in, &layers, spec.rounding()) else {
        return Ok(false);
    };
    if macs(&model) > 4_000_000 {
        return Ok(false);
    }
    let input = random_input(shape, spec.seed);
    let expected = frame_output(&model, &input);

    let len = model.stream_arena_len();
    let mut arena = vec![0x55i8; len + 3];
    prop_assert_eq!(
        Pipeline::new(&model, &mut arena[..len - 1]).unwrap_err(),
        Error::ArenaTooSmall {
            needed: len,
            found: len - 1
        }
    );
    let mut pipeline = Pipeline::new(&model, &mut arena[..len]).unwrap();
    let (got, at) = stream_frame(&mut pipeline, &input);
    prop_assert!(got == expected, "stream != frame");
    let want = earliest(&model);
    prop_assert_eq!(&at, &want, "latency");
    let bound = inputs_needed_bound(&model);
    prop_assert!(at.iter().zip(&bound).all(|(a, b)| a <= b));
    // A second frame after reset, different data.
    pipeline.reset();
    let input2 = random_input(shape, spec.seed.wrapping_add(1));
    let (got2, _) = stream_frame(&mut pipeline, &input2);
    prop_assert!(got2 == frame_output(&model, &input2), "second frame");
    // Every other kernel set: the same bytes through both engines.
    for kernels in fast_kernels() {
        let fast = model.clone().with_kernels(kernels);
        let name = kernels.isa().name();
        prop_assert!(frame_output(&fast, &input) == expected, "{} frame", name);
        let mut arena = vec![0i8; len];
        let mut pipeline = Pipeline::new(&fast, &mut arena).unwrap();
        prop_assert!(
            stream_frame(&mut pipeline, &input).0 == expected,
            "{} stream",
            name
        );
    }
    Ok(true)
}

proptest! {
    #![proptest_config(models::config(20_000))]

    #[test]
    fn stream_equals_frame(spec in model_spec()) {
        prop_assume!(check(&spec)?);
    }
}

proptest! {
    #![proptest_config(models::config(300))]

    /// Abort mid-frame two ways (reset after some rows; a failing sink), then a
    /// clean frame equals the frame engine.
    #[test]
    fn abort_and_restart(spec in model_spec(), cut in any::<prop::sample::Index>(), fail in any::<prop::sample::Index>()) {
        let (owned, q_in) = own(&spec);
        let layers = layers(&owned, spec.hwio);
        let shape = spec.shape();
        let model = Model::new(shape, q_in, &layers, Rounding::Double);
        prop_assume!(model.is_ok());
        let model = model.unwrap();
        prop_assume!(macs(&model) <= 1_500_000);
        let mut arena = vec![0i8; model.stream_arena_len()];
        let mut p = Pipeline::new(&model, &mut arena).unwrap();
        let n = shape.row_len();
        let junk = random_input(shape, spec.seed ^ 77);
        // Camera fault after `cut` rows: reset mid-frame.
        for row in junk.chunks(n).take(cut.index(shape.height)) {
            p.push_row(row, &mut |_: usize, _: &[i8]| Ok::<(), Error>(())).unwrap();
        }
        p.reset();
        // A sink that fails at output row `bad`.
        let bad = fail.index(model.output_shape().height);
        let mut failed = false;
        for row in junk.chunks(n) {
            match p.push_row(row, &mut |y: usize, _: &[i8]| if y == bad { Err("bus") } else { Ok(()) }) {
                Ok(()) => {}
                Err(PushError::Sink("bus")) => { failed = true; break; }
                Err(e) => prop_assert!(false, "unexpected {:?}", e),
            }
        }
        prop_assert!(failed);
        prop_assert_eq!(
            p.push_row(&junk[..n], &mut |_: usize, _: &[i8]| Ok::<(), ()>(())),
            Err(PushError::Stream(Error::FrameAborted))
        );
        prop_assert_eq!(p.finish(), Err(Error::FrameAborted));
        p.reset();
        let input = random_input(shape, spec.seed);
        let (got, _) = stream_frame(&mut p, &input);
        prop_assert!(got == frame_output(&model, &input));
    }
}

fn conv<'a>(
    w: &'a [i8],
    scales: &'a [f32],
    ci: usize,
    co: usize,
    q_in: Quant,
    q_out: Quant,
) -> Layer<'a> {
    Layer::Conv2d(Conv2d {
        in_channels: ci,
        out_channels: co,
        window: Window::square(3, 1, Padding::Same),
        weights: w,
        layout: WeightLayout::Ohwi,
        bias: None,
        requant: Requantization::WeightScales(Values::Slice(scales)),
        input: q_in,
        output: q_out,
        activation: Activation::Relu,
    })
}

fn pool(q: Quant) -> Layer<'static> {
    Layer::MaxPool(MaxPool2d {
        window: Window::square(2, 2, Padding::Valid),
        quant: q,
        activation: Activation::None,
    })
}

/// The reference chain N3 of DESIGN.md at QVGA: arena bytes, and the whole frame
/// streamed equals the frame engine.
#[test]
fn n3_arena_and_output() {
    let mut rng = Rng::new(12345);
    let w1: Vec<i8> = (0..8 * 9).map(|_| rng.i8()).collect();
    let w2: Vec<i8> = (0..16 * 9 * 8).map(|_| rng.i8()).collect();
    let w3: Vec<i8> = (0..32 * 9 * 16).map(|_| rng.i8()).collect();
    let s = [0.01f32];
    let q0 = Quant::new(1.0 / 255.0, -128);
    let q1 = Quant::new(0.05, -128);
    let q2 = Quant::new(0.1, -128);
    let q3 = Quant::new(0.2, -128);
    let layers = [
        conv(&w1, &s, 1, 8, q0, q1),
        pool(q1),
        conv(&w2, &s, 8, 16, q1, q2),
        pool(q2),
        conv(&w3, &s, 16, 32, q2, q3),
        pool(q3),
    ];
    let model = Model::new(Shape::new(240, 320, 1), q0, &layers, Rounding::Double).unwrap();
    let bytes = model.stream_arena_len();
    println!("N3 (240x320x1) streaming arena: {bytes} bytes");
    for (i, layer) in layers.iter().enumerate() {
        println!(
            "  layer {i} {:8}: ring {} rows, {} bytes",
            layer.name(),
            model.stream_ring_rows(i).unwrap(),
            model.stream_layer_len(i).unwrap()
        );
    }
    // conv: 2 rows + out; a 2x2 pool: no ring, its output row holds the
    // running maximum, per pair:
    // (2*320*1 + 320*8) + 160*8 + (2*160*8 + 160*16) + 80*16 + (2*80*16 + 80*32) + 40*32
    assert_eq!(bytes, 17_280);
    assert!(bytes <= 32 * 1024);

    let input = random_input(model.input_shape(), 3);
    let mut arena = vec![0i8; bytes];
    let mut p = Pipeline::new(&model, &mut arena).unwrap();
    let (got, at) = stream_frame(&mut p, &input);
    assert_eq!(got, frame_output(&model, &input));
    assert_eq!(at, earliest(&model));
    assert!(
        got.iter().any(|&v| v != -128),
        "a flat output proves little"
    );
}

/// The ring formula is exactly the largest span of rows a modular ring must hold,
/// found by simulating the stage (and never less for small heights); with
/// dilation 1 or stride 1 (every convolution Keras/TF produce, every pool) it is
/// also the largest number of rows ever live at once: the true minimum.
#[test]
fn ring_rows_is_the_simulated_minimum() {
    let mut above_live = 0;
    for k in 1..=7 {
        for s in 1..=3 {
            for d in 1..=3 {
                for padding in [Padding::Same, Padding::Valid] {
                    let a = Axis::new(k, s, d);
                    for h in 1..=60 {
                        let (span, live) = simulate(a, h, padding);
                        let r = ring_rows(a, h);
                        assert!(r >= span, "{a:?} h={h} {padding:?}: {r} < {span}");
                        if h == 60 {
                            assert_eq!(r, span, "{a:?} {padding:?}");
                            if d == 1 || s == 1 {
                                assert_eq!(r, live, "{a:?} {padding:?}");
                            } else if r > live {
                                above_live += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    println!("dilated and strided windows where the ring exceeds the live rows: {above_live}");
}

/// Largest span (in steps of `gcd(stride, dilation)`) and largest count of rows a stage keeps (after each arrival, the
/// rows that an output not yet complete still reads), by brute force.
fn simulate(a: Axis, h: usize, padding: Padding) -> (usize, usize) {
    let ho = a.output(h, padding);
    let pad = a.pad_before(h, padding) as isize;
    let taps = |o: usize| -> Vec<usize> {
        (0..a.kernel)
            .map(|t| (o * a.stride) as isize - pad + (t * a.dilation) as isize)
            .filter(|&y| y >= 0 && (y as usize) < h)
            .map(|y| y as usize)
            .collect()
    };
    let mut next = 0;
    let (mut span, mut live) = (0, 0);
    for r in 0..h {
        while next < ho && taps(next).iter().all(|&y| y <= r) {
            next += 1;
        }
        let mut kept: Vec<usize> = (next..ho).flat_map(taps).filter(|&y| y <= r).collect();
        kept.sort_unstable();
        kept.dedup();
        if let (Some(lo), Some(hi)) = (kept.first(), kept.last()) {
            // Kept rows share a residue modulo g = gcd(s, d): the ring spaces by g.
            let g = (1..=a.stride.min(a.dilation))
                .rev()
                .find(|&g| a.stride.is_multiple_of(g) && a.dilation.is_multiple_of(g))
                .unwrap();
            span = span.max((hi - lo) / g + 1);
        }
        live = live.max(kept.len());
    }
    (span, live)
}

/// A pool with stride larger than its window drops rows: latency and output.
#[test]
fn stride_larger_than_window_drops_rows() {
    let q = Quant::new(0.1, 0);
    let layers = [Layer::MaxPool(MaxPool2d {
        window: Window {
            height: Axis::new(2, 3, 1),
            width: Axis::new(1, 1, 1),
            padding: Padding::Valid,
        },
        quant: q,
        activation: Activation::None,
    })];
    let model = Model::new(Shape::new(8, 1, 1), q, &layers, Rounding::Double).unwrap();
    assert_eq!(model.output_shape().height, 3);
    assert_eq!(model.stream_arena_len(), 1 + 1);
    let input = [1i8, 2, 30, 4, 5, 60, 7, 8];
    let mut arena = [0i8; 2];
    let mut p = Pipeline::new(&model, &mut arena).unwrap();
    let (got, at) = stream_frame(&mut p, &input);
    assert_eq!(got, [2, 5, 8]);
    assert_eq!(at, [1, 4, 7]);
}

/// SAME 3x3 conv, `out(y, x) = in(y, x) + in(y + 1, x + 1)`: output row `y` comes
/// with input row `y + 1` (the window's last row), the last two with the last row.
#[test]
fn latency_of_a_same_conv() {
    let q = Quant::new(1.0, 0);
    let w = [0i8, 0, 0, 0, 1, 0, 0, 0, 1];
    let layers = [Layer::Conv2d(Conv2d {
        in_channels: 1,
        out_channels: 1,
        window: Window::square(3, 1, Padding::Same),
        weights: &w,
        layout: WeightLayout::Ohwi,
        bias: None,
        requant: Requantization::WeightScales(Values::Slice(&[1.0])),
        input: q,
        output: q,
        activation: Activation::None,
    })];
    let model = Model::new(Shape::new(5, 2, 1), q, &layers, Rounding::Double).unwrap();
    let input = [1i8, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    let mut arena = vec![0i8; model.stream_arena_len()];
    let mut p = Pipeline::new(&model, &mut arena).unwrap();
    let (got, at) = stream_frame(&mut p, &input);
    assert_eq!(at, [1, 2, 3, 4, 4]);
    assert_eq!(got, [5, 2, 9, 4, 13, 6, 17, 8, 9, 10]);
}

#[test]
fn row_errors() {
    let q = Quant::new(0.1, 0);
    let layers = [pool(q)];
    let model = Model::new(Shape::new(2, 4, 1), q, &layers, Rounding::Double).unwrap();
    let mut arena = vec![0i8; model.stream_arena_len()];
    let mut p = Pipeline::new(&model, &mut arena).unwrap();
    let mut sink = |_: usize, _: &[i8]| Ok::<(), Error>(());
    assert_eq!(
        p.push_row(&[0; 3], &mut sink),
        Err(PushError::Stream(Error::Length {
            layer: None,
            param: Param::Row,
            expected: 4,
            found: 3
        }))
    );
    p.push_row(&[0; 4], &mut sink).unwrap();
    assert_eq!(
        p.finish(),
        Err(Error::IncompleteFrame {
            received: 1,
            height: 2
        })
    );
    p.push_row(&[0; 4], &mut sink).unwrap();
    assert_eq!(
        p.push_row(&[0; 4], &mut sink),
        Err(PushError::Stream(Error::TooManyRows { height: 2 }))
    );
    p.finish().unwrap();
    assert_eq!(p.rows_emitted(), 1);
    p.reset();
    assert_eq!((p.rows_pushed(), p.rows_emitted()), (0, 0));
    // Displayed errors name the problem.
    let e = Error::TooManyRows { height: 2 };
    assert_eq!(
        e.to_string(),
        "too many rows: the frame has 2; reset before the next frame"
    );
}

/// A sink struct through the trait, and a big arena (extra bytes unused).
#[test]
fn sink_trait_and_larger_arena() {
    struct Collect(Vec<i8>);
    impl Sink for Collect {
        type Error = core::convert::Infallible;
        fn row(&mut self, _y: usize, row: &[i8]) -> Result<(), Self::Error> {
            self.0.extend_from_slice(row);
            Ok(())
        }
    }
    let q = Quant::new(0.1, 0);
    let layers = [pool(q)];
    let model = Model::new(Shape::new(4, 4, 1), q, &layers, Rounding::Double).unwrap();
    let mut arena = [0i8; 100];
    let mut p = Pipeline::new(&model, &mut arena).unwrap();
    let mut c = Collect(Vec::new());
    let input: Vec<i8> = (0..16).collect();
    for row in input.chunks(4) {
        p.push_row(row, &mut c).unwrap();
    }
    p.finish().unwrap();
    assert_eq!(c.0, [5, 7, 13, 15]);
}

/// Every tap of the only output is padding (height 1, dilated SAME kernel): the
/// output depends on no row and comes with the first push.
#[test]
fn output_of_padding_only() {
    let q = Quant::new(1.0, 0);
    let layers = [
        pool(q),
        Layer::Depthwise(DepthwiseConv2d {
            in_channels: 1,
            depth_multiplier: 1,
            window: Window {
                height: Axis::new(2, 1, 3),
                width: Axis::new(1, 1, 1),
                padding: Padding::Same,
            },
            weights: &[1, 1],
            bias: Some(Values::Slice(&[7])),
            requant: Requantization::WeightScales(Values::Slice(&[1.0])),
            input: q,
            output: q,
            activation: Activation::None,
        }),
    ];
    let model = Model::new(Shape::new(2, 2, 1), q, &layers, Rounding::Double).unwrap();
    let mut arena = vec![0i8; model.stream_arena_len()];
    let mut p = Pipeline::new(&model, &mut arena).unwrap();
    let (got, at) = stream_frame(&mut p, &[1, 2, 3, 4]);
    assert_eq!((got, at), (vec![7], vec![0]));
}
