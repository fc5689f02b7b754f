//! Classifier: random whole classifiers (a random front of the engine tests'
//! layers, average pooling, then a head: mean and/or dense layers and a softmax)
//! streamed row by row must equal the frame engine byte for byte, with exactly
//! `stream_arena_len()` bytes, the class scores coming out of the last push; the
//! dense layer must equal a naive i64 reference.

mod models;

use models::{frame_output, layers, macs, model_spec, own, random_input, stream_frame};
use proptest::prelude::*;
use scanline::stream::Pipeline;
use scanline::{
    Activation, AvgPool2d, Dense, Error, Layer, Mean, Model, Multiplier, Padding, Quant,
    Requantization, Shape, Softmax, Values, Window,
};
use scanline_testkit::Rng;

/// Owned parameters of a random head.
struct Head {
    weights: Vec<Vec<i8>>,
    bias: Vec<Vec<i32>>,
    scales: Vec<Vec<f32>>,
}

/// The head's layers after a front ending in `shape` quantized `q`: an optional
/// average pool, an optional mean, one or two dense layers (the first over the
/// whole tensor when there is no mean), an optional softmax.
fn head<'a>(h: &'a mut Head, rng: &mut Rng, shape: Shape, q: Quant) -> Vec<Layer<'a>> {
    let mut plan = Vec::new();
    let mut s = shape;
    let mut q = q;
    let avg = rng.bool() && s.height >= 2 && s.width >= 2;
    if avg {
        plan.push(0u8);
        s = Shape::new(s.height.div_ceil(2), s.width.div_ceil(2), s.channels);
    }
    if rng.bool() {
        plan.push(1);
        s = Shape::new(1, 1, s.channels);
    }
    let dense = 1 + rng.range(0, 1) as usize;
    let mut ins = Vec::new();
    for _ in 0..dense {
        let out = rng.range(1, 12) as usize;
        let n = s.len();
        h.weights.push((0..n * out).map(|_| rng.i8()).collect());
        h.bias
            .push((0..out).map(|_| rng.range(-5000, 5000) as i32).collect());
        let per_channel = rng.bool();
        h.scales.push(
            (0..if per_channel { out } else { 1 })
                .map(|_| rng.f32(0.002, 0.02))
                .collect(),
        );
        ins.push(n);
        plan.push(2);
        s = Shape::new(1, 1, out);
    }
    let softmax = rng.bool();
    let mut out = Vec::new();
    let mut d = 0;
    for step in plan {
        match step {
            0 => out.push(Layer::AvgPool(AvgPool2d {
                window: Window::square(2, 2, Padding::Same),
                quant: q,
                activation: models::activation(rng.range(0, 3) as u8),
            })),
            1 => {
                let o = Quant::new(q.scale * rng.f32(0.3, 2.0), rng.range(-128, 127) as i32);
                let same = rng.range(0, 3) == 0;
                let o = if same { q } else { o };
                out.push(Layer::Mean(Mean {
                    keep_dims: rng.bool(),
                    input: q,
                    output: o,
                }));
                q = o;
            }
            _ => {
                let n = ins[d];
                let o = Quant::new(
                    q.scale * 0.01 * 1.35 * (n as f32).sqrt() * rng.f32(0.5, 2.0),
                    rng.range(-128, 127) as i32,
                );
                out.push(Layer::Dense(Dense {
                    in_features: n,
                    out_features: h.bias[d].len(),
                    weights: &h.weights[d],
                    bias: rng.bool().then_some(Values::Slice(&h.bias[d])),
                    requant: Requantization::WeightScales(Values::Slice(&h.scales[d])),
                    input: q,
                    output: o,
                    activation: models::activation(rng.range(0, 3) as u8),
                }));
                q = o;
                d += 1;
            }
        }
    }
    if softmax {
        out.push(Layer::Softmax(Softmax {
            beta: 1.0,
            input: q,
            output: scanline::softmax::OUTPUT,
        }));
    }
    out
}

/// A dense layer the slow way: i64 sums, then the requantization.
fn naive_dense(l: &Dense<'_>, x: &[i8], rounding: scanline::Rounding) -> Vec<i8> {
    let (lo, hi) = l.activation.bounds(l.output);
    (0..l.out_features)
        .map(|o| {
            let mut acc: i64 = l.bias.map_or(0, |b| b.get(o).unwrap()) as i64;
            for (i, &v) in x.iter().enumerate() {
                let w = l.weights[o * l.in_features + i] as i64;
                acc += w * (v as i64 - l.input.zero_point as i64);
            }
            let Requantization::WeightScales(s) = l.requant else {
                unreachable!()
            };
            let m = Multiplier::for_conv(
                l.input.scale,
                s.per_channel(o).unwrap(),
                l.output.scale,
                rounding,
            );
            // TFLite's FULLY_CONNECTED rounds once (see Dense::finish).
            let v = m.apply(acc as i32, scanline::Rounding::Single) + l.output.zero_point;
            v.clamp(lo, hi) as i8
        })
        .collect()
}

proptest! {
    #![proptest_config(models::config(3_000))]

    #[test]
    fn classifiers_stream_as_they_run_whole(spec in model_spec(), head_seed in any::<u64>()) {
        let (owned, q_in) = own(&spec);
        let mut front = layers(&owned, spec.hwio);
        front.truncate(2);
        let Ok(front_model) = Model::new(spec.shape(), q_in, &front, spec.rounding()) else {
            return Err(TestCaseError::reject("invalid front"));
        };
        prop_assume!(macs(&front_model) < 1_000_000);
        let mut rng = Rng::new(head_seed);
        let mut h = Head { weights: vec![], bias: vec![], scales: vec![] };
        let tail = head(&mut h, &mut rng, front_model.output_shape(), front_model.output_quant());
        let mut all = front.clone();
        all.extend(tail);
        let model = match Model::new(spec.shape(), q_in, &all, spec.rounding()) {
            Ok(m) => m,
            Err(Error::AccumulatorOverflow { .. }) => return Err(TestCaseError::reject("overflow")),
            Err(e) => return Err(TestCaseError::fail(format!("{e}"))),
        };
        let input = random_input(spec.shape(), spec.seed);
        let expected = frame_output(&model, &input);

        // Exactly stream_arena_len bytes: one less is refused.
        let len = model.stream_arena_len();
        let mut arena = vec![0x55i8; len];
        prop_assert!(Pipeline::new(&model, &mut arena[..len - 1]).is_err());
        let mut pipeline = Pipeline::new(&model, &mut arena).unwrap();
        let (got, at) = stream_frame(&mut pipeline, &input);
        prop_assert!(got == expected, "stream != frame");
        // The class scores (one output row) come with the push that completes the
        // front's last row (the last input row, unless the front never reads it).
        let mut front_arena = vec![0i8; front_model.stream_arena_len()];
        let mut front_pipe = Pipeline::new(&front_model, &mut front_arena).unwrap();
        let front_at = stream_frame(&mut front_pipe, &input).1;
        prop_assert_eq!(at, vec![*front_at.last().unwrap()]);
        // A second frame reuses the accumulators.
        pipeline.reset();
        let input2 = random_input(spec.shape(), spec.seed ^ 1);
        prop_assert!(stream_frame(&mut pipeline, &input2).0 == frame_output(&model, &input2));

        // The last dense layer against the naive reference, on the frame engine's
        // intermediate tensor.
        let last = model.layers().iter().rposition(|l| matches!(l, Layer::Dense(_))).unwrap();
        let before = Model::new(spec.shape(), q_in, &model.layers()[..last], spec.rounding());
        let x = match before {
            Ok(m) => frame_output(&m, &input),
            Err(_) => input.clone(), // the dense layer is first
        };
        let Layer::Dense(d) = &model.layers()[last] else { unreachable!() };
        let dense = Model::new(model.shape(last).unwrap(), d.input, &[model.layers()[last]], spec.rounding()).unwrap();
        prop_assert_eq!(frame_output(&dense, &x), naive_dense(d, &x, spec.rounding()));
    }
}

#[test]
fn arena_of_a_classifier_counts_rows_and_sums() {
    // 8x8x2 -> avgpool 2 (one ring row of 8x2, output row 4x2) -> mean (2 sums,
    // output 2) -> dense 2 -> 3 (3 sums, output 3) -> softmax (output 3).
    let q = Quant::new(0.1, 0);
    let w = [1i8; 6];
    let layers = [
        Layer::AvgPool(AvgPool2d {
            window: Window::square(2, 2, Padding::Valid),
            quant: q,
            activation: Activation::None,
        }),
        Layer::Mean(Mean {
            keep_dims: false,
            input: q,
            output: q,
        }),
        Layer::Dense(Dense {
            in_features: 2,
            out_features: 3,
            weights: &w,
            bias: None,
            requant: Requantization::WeightScales(Values::Slice(&[0.01])),
            input: q,
            output: q,
            activation: Activation::None,
        }),
        Layer::Softmax(Softmax {
            beta: 1.0,
            input: q,
            output: scanline::softmax::OUTPUT,
        }),
    ];
    let model = Model::new(Shape::new(8, 8, 2), q, &layers, scanline::Rounding::Double).unwrap();
    let per_layer: Vec<usize> = (0..4).map(|i| model.stream_layer_len(i).unwrap()).collect();
    assert_eq!(per_layer, [16 + 8, 4 * 2 + 2, 4 * 3 + 3, 3]);
    assert_eq!(model.stream_arena_len(), 24 + 10 + 15 + 3);
    assert_eq!(model.output_shape(), Shape::new(1, 1, 3));
}
