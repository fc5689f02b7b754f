//! Kernel sets: every instruction set this CPU runs gives the portable kernels'
//! bytes, on random layers of every kind (both roundings, both weight layouts,
//! any padding, stride, dilation, zero point and activation), through the frame
//! engine and the stream engine. Says which sets it ran.

use proptest::prelude::*;
use scanline::exec::{Exec, Kernels};
use scanline::stream::Pipeline;
use scanline::{
    Activation, Conv2d, DepthwiseConv2d, Layer, MaxPool2d, Model, Padding, Quant, Relu,
    Requantization, Rounding, Shape, Values, WeightLayout, Window,
};

mod models;

use models::fast_kernels as fast_sets;

#[test]
fn says_which_sets_it_runs() {
    let names: Vec<&str> = fast_sets().iter().map(|k| k.isa().name()).collect();
    println!("kernel sets tested against portable: {names:?}");
}

/// A random layer's parameters and data.
#[derive(Debug, Clone)]
struct Case {
    kind: u8,
    h: usize,
    w: usize,
    ci: usize,
    co: usize,
    kh: usize,
    kw: usize,
    stride: (usize, usize),
    dilation: (usize, usize),
    same: bool,
    hwio: bool,
    single: bool,
    act: u8,
    zp_in: i32,
    zp_out: i32,
    per_channel: bool,
    fixed: bool,
    seed: Vec<i8>,
}

fn case() -> impl Strategy<Value = Case> {
    (
        (
            0u8..4,
            1usize..24,
            1usize..70,
            prop_oneof![Just(1usize), Just(3), 1usize..20],
            prop_oneof![Just(1usize), Just(8), 1usize..40],
        ),
        (
            1usize..6,
            1usize..6,
            (
                prop_oneof![Just(1usize), 1usize..4],
                prop_oneof![Just(1usize), 1usize..4],
            ),
            (
                prop_oneof![Just(1usize), 1usize..3],
                prop_oneof![Just(1usize), 1usize..3],
            ),
        ),
        (any::<bool>(), any::<bool>(), any::<bool>(), 0u8..4),
        (-128i32..128, -128i32..128, any::<bool>(), any::<bool>()),
        prop::collection::vec(any::<i8>(), 64..256),
    )
        .prop_map(
            |(
                (kind, h, w, ci, co),
                (kh, kw, stride, dilation),
                (same, hwio, single, act),
                (zp_in, zp_out, per_channel, fixed),
                seed,
            )| Case {
                kind,
                h,
                w,
                ci,
                co,
                kh,
                kw,
                stride,
                dilation,
                same,
                hwio,
                single,
                act,
                zp_in,
                zp_out,
                per_channel,
                fixed,
                seed,
            },
        )
}

/// Deterministic values from the case's seed bytes.
fn fill(seed: &[i8], n: usize, salt: usize) -> Vec<i8> {
    (0..n)
        .map(|i| {
            seed[(i * 7 + salt * 13 + i / seed.len()) % seed.len()].wrapping_add((i / 3) as i8)
        })
        .collect()
}

fn activation(a: u8) -> Activation {
    [
        Activation::None,
        Activation::Relu,
        Activation::Relu6,
        Activation::ReluN1To1,
    ][a as usize % 4]
}

/// Runs `layers` over `input` with `kernels`: (frame output, stream output).
fn run(model: &Model<'_>, input: &[i8], kernels: Kernels) -> (Vec<i8>, Vec<i8>) {
    let model = model.clone().with_kernels(kernels);
    let mut frame = vec![0i8; model.output_shape().len()];
    let mut scratch = vec![0i8; model.frame_scratch_len()];
    scanline::frame::run(&model, input, &mut frame, &mut scratch).unwrap();
    let mut arena = vec![0i8; model.stream_arena_len()];
    let mut pipeline = Pipeline::new(&model, &mut arena).unwrap();
    let mut stream = Vec::with_capacity(frame.len());
    let mut sink = |_y: usize, row: &[i8]| -> Result<(), ()> {
        stream.extend_from_slice(row);
        Ok(())
    };
    for row in input.chunks_exact(model.input_shape().row_len()) {
        pipeline.push_row(row, &mut sink).unwrap();
    }
    pipeline.finish().unwrap();
    (frame, stream)
}

fn check(c: &Case) -> Result<(), TestCaseError> {
    let rounding = if c.single {
        Rounding::Single
    } else {
        Rounding::Double
    };
    let q_in = Quant::new(0.02, c.zp_in);
    let q_out = Quant::new(0.05, c.zp_out);
    let padding = if c.same {
        Padding::Same
    } else {
        Padding::Valid
    };
    let window = Window {
        height: scanline::Axis::new(c.kh, c.stride.0, c.dilation.0),
        width: scanline::Axis::new(c.kw, c.stride.1, c.dilation.1),
        padding,
    };
    let act = activation(c.act);
    let input_shape = Shape::new(c.h, c.w, c.ci);
    let input = fill(&c.seed, input_shape.len(), 1);
    // Small weights keep every accumulator inside i32 for big windows too.
    let weights_for = |n: usize| -> Vec<i8> { fill(&c.seed, n, 2).iter().map(|w| w / 4).collect() };
    let nch = |co: usize| if c.per_channel { co } else { 1 };
    let scales: Vec<f32> = (0..64).map(|i| 0.001 + 0.0007 * i as f32).collect();
    let bias: Vec<i32> = fill(&c.seed, 64, 3)
        .iter()
        .map(|&b| b as i32 * 37)
        .collect();
    let mults: Vec<i32> = (0..64)
        .map(|i| 0x4000_0000 + i * 0x0123_4567 % 0x3fff_ffff)
        .collect();
    let shifts: Vec<i32> = (0..64).map(|i| -(i % 12) - 1).collect();
    let requant = |co: usize| {
        let n = nch(co);
        if c.fixed {
            Requantization::Fixed {
                multipliers: Values::Slice(&mults[..n]),
                shifts: Values::Slice(&shifts[..n]),
            }
        } else {
            Requantization::WeightScales(Values::Slice(&scales[..n]))
        }
    };
    let conv_weights = weights_for(c.co * c.kh * c.kw * c.ci);
    let dw_mult = 1 + c.co % 3;
    let dw_weights = weights_for(c.kh * c.kw * c.ci * dw_mult);
    let co = c.co.min(64);
    let layer = match c.kind {
        0 => Layer::Conv2d(Conv2d {
            in_channels: c.ci,
            out_channels: co,
            window,
            weights: &conv_weights[..co * c.kh * c.kw * c.ci],
            layout: if c.hwio {
                WeightLayout::Hwio
            } else {
                WeightLayout::Ohwi
            },
            bias: Some(Values::Slice(&bias[..co])),
            requant: requant(co),
            input: q_in,
            output: q_out,
            activation: act,
        }),
        1 => Layer::Depthwise(DepthwiseConv2d {
            in_channels: c.ci.min(21),
            depth_multiplier: dw_mult,
            window,
            weights: &dw_weights[..c.kh * c.kw * c.ci.min(21) * dw_mult],
            bias: None,
            requant: requant((c.ci.min(21) * dw_mult).min(64)),
            input: q_in,
            output: q_out,
            activation: act,
        }),
        2 => Layer::MaxPool(MaxPool2d {
            window: Window {
                height: scanline::Axis::new(c.kh, c.stride.0, 1),
                width: scanline::Axis::new(c.kw, c.stride.1, 1),
                padding,
            },
            quant: q_in,
            activation: act,
        }),
        _ => Layer::Relu(Relu {
            activation: if c.act.is_multiple_of(2) {
                Activation::Relu
            } else {
                Activation::Relu6
            },
            input: q_in,
            output: q_out,
        }),
    };
    let input_shape = if c.kind == 1 {
        Shape::new(c.h, c.w, c.ci.min(21))
    } else {
        input_shape
    };
    let input = &input[..input_shape.len()];
    let Ok(model) = Model::new(input_shape, q_in, &[layer], rounding) else {
        return Ok(()); // a VALID window larger than the input, a per-channel count
    };
    let (frame, stream) = run(&model, input, Kernels::PORTABLE);
    prop_assert_eq!(&frame, &stream);
    for k in fast_sets() {
        let (f2, s2) = run(&model, input, k);
        prop_assert_eq!(&f2, &frame, "{} frame", k.isa().name());
        prop_assert_eq!(&s2, &frame, "{} stream", k.isa().name());
    }
    Ok(())
}

proptest! {
    #![proptest_config(models::config(3000))]
    #[test]
    fn every_kernel_set_gives_the_portable_bytes(c in case()) {
        check(&c)?;
    }
}

#[test]
fn exec_carries_the_model_kernels() {
    let q = Quant::new(0.1, 0);
    let pool = Layer::MaxPool(MaxPool2d {
        window: Window::square(2, 2, Padding::Valid),
        quant: q,
        activation: Activation::None,
    });
    let model = Model::new(Shape::new(4, 4, 1), q, &[pool], Rounding::Single).unwrap();
    assert_eq!(model.exec(), Exec::portable(Rounding::Single));
    for k in fast_sets() {
        assert_eq!(
            model.clone().with_kernels(k).exec(),
            Exec::new(Rounding::Single, k)
        );
    }
}

/// A layer the Cortex-M4 kernels specialise: 3x3 stride-1 convolutions (one
/// input channel: the two-outputs-per-word kernel; several: the window
/// kernel) and 2x2 stride-2 max-pools, with full-range weights and inputs.
#[derive(Debug, Clone)]
struct Special {
    conv: bool,
    h: usize,
    w: usize,
    ci: usize,
    co: usize,
    same: bool,
    zp_in: i32,
    zp_out: i32,
    act: u8,
    shift: i32,
    seed: Vec<i8>,
}

fn special() -> impl Strategy<Value = Special> {
    (
        (any::<bool>(), 1usize..12, 1usize..40),
        (
            prop_oneof![
                Just(1usize),
                Just(3),
                Just(4),
                Just(8),
                Just(16),
                1usize..20
            ],
            prop_oneof![Just(1usize), Just(8), Just(16), 1usize..40],
        ),
        (any::<bool>(), -128i32..128, -128i32..128, 0u8..4, -14i32..3),
        prop::collection::vec(any::<i8>(), 64..256),
    )
        .prop_map(
            |((conv, h, w), (ci, co), (same, zp_in, zp_out, act, shift), seed)| Special {
                conv,
                h,
                w,
                ci,
                co,
                same,
                zp_in,
                zp_out,
                act,
                shift,
                seed,
            },
        )
}

fn check_special(c: &Special) -> Result<(), TestCaseError> {
    let q_in = Quant::new(0.02, c.zp_in);
    let q_out = Quant::new(0.05, c.zp_out);
    let padding = if c.same {
        Padding::Same
    } else {
        Padding::Valid
    };
    let input_shape = Shape::new(c.h, c.w, c.ci);
    let input = fill(&c.seed, input_shape.len(), 1);
    let weights: Vec<i8> = fill(&c.seed, c.co * 9 * c.ci, 2)
        .iter()
        .map(|&w| w.max(-127))
        .collect();
    let bias: Vec<i32> = fill(&c.seed, c.co, 3)
        .iter()
        .map(|&b| b as i32 * 301)
        .collect();
    let mults: Vec<i32> = (0..c.co as i32)
        .map(|i| 0x4000_0000 + i * 0x0123_4567 % 0x3fff_ffff)
        .collect();
    let shifts: Vec<i32> = (0..c.co as i32).map(|i| c.shift - i % 3).collect();
    let layer = if c.conv {
        Layer::Conv2d(Conv2d {
            in_channels: c.ci,
            out_channels: c.co,
            window: Window::square(3, 1, padding),
            weights: &weights,
            layout: WeightLayout::Ohwi,
            bias: Some(Values::Slice(&bias)),
            requant: Requantization::Fixed {
                multipliers: Values::Slice(&mults),
                shifts: Values::Slice(&shifts),
            },
            input: q_in,
            output: q_out,
            activation: activation(c.act),
        })
    } else {
        Layer::MaxPool(MaxPool2d {
            window: Window::square(2, 2, padding),
            quant: q_in,
            activation: activation(c.act % 2),
        })
    };
    for rounding in [Rounding::Double, Rounding::Single] {
        let Ok(model) = Model::new(input_shape, q_in, &[layer], rounding) else {
            return Ok(());
        };
        let (frame, stream) = run(&model, &input, Kernels::PORTABLE);
        let (f2, s2) = run(&model, &input, Kernels::DSP);
        prop_assert_eq!(&f2, &frame, "dsp frame");
        prop_assert_eq!(&s2, &stream, "dsp stream");
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]
    #[test]
    fn the_cortex_m4_kernels_give_the_portable_bytes_where_they_specialise(c in special()) {
        check_special(&c)?;
    }
}

/// The pools the engines meet most (2x2 and 3x3, strides 1 and 2, both
/// paddings, even and odd widths) over every channel count a vector path
/// specializes, which random cases reach too rarely.
#[test]
fn common_pools_give_the_portable_bytes() {
    let seed: Vec<i8> = (0..97).map(|i| (i * 37 % 256) as u8 as i8).collect();
    for ci in [1, 2, 3, 4, 8, 16, 32, 64] {
        for (k, s) in [(2, 2), (3, 2), (2, 1), (3, 1)] {
            for same in [false, true] {
                for w in [1, 7, 40, 41] {
                    let case = Case {
                        kind: 2,
                        h: 5,
                        w,
                        ci,
                        co: 1,
                        kh: k,
                        kw: k,
                        stride: (s, s),
                        dilation: (1, 1),
                        same,
                        hwio: false,
                        single: false,
                        act: (w % 4) as u8,
                        zp_in: -3,
                        zp_out: 0,
                        per_channel: false,
                        fixed: false,
                        seed: seed.clone(),
                    };
                    check(&case).unwrap_or_else(|e| panic!("{case:?}: {e}"));
                }
            }
        }
    }
}
