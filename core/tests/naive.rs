//! Naive: the full-frame engine against an independent reference written from
//! DESIGN.md's formulas in i64/i128 (own multiplier, own rounding, own padding
//! loops with a bounds check per tap), byte for byte, over random layers; and
//! `Model::new`'s rejection of layers that do not fit together.

mod models;

use models::activation;
use proptest::prelude::*;
use scanline::WeightLayout;
use scanline::{
    Activation, Axis, Conv2d, DepthwiseConv2d, Error, Layer, MaxPool2d, Model, Padding, Param,
    Quant, Relu, Requantization, Rounding, Shape, Values, Window,
};
use scanline_testkit::exact::pow2;
use scanline_testkit::{Rng, cases};

// ---------------------------------------------------------------------------
// The naive reference. Nothing here calls into the core's arithmetic.
// ---------------------------------------------------------------------------

/// `x = q * 2^e`, `q` in `[0.5, 1)`, for finite `x > 0`, with plain std f64 ops.
fn frexp(x: f64) -> (f64, i32) {
    let mut e = x.log2().floor() as i32 + 1;
    let mut q = x / pow2(e);
    while q >= 1.0 {
        q /= 2.0;
        e += 1;
    }
    while q < 0.5 {
        q *= 2.0;
        e -= 1;
    }
    (q, e)
}

/// TFLite's `QuantizeMultiplier` (DESIGN.md): `(multiplier, shift)`.
fn quantize_multiplier(real: f64, single: bool) -> (i64, i32) {
    if real <= 0.0 {
        return (0, 0);
    }
    let (q, mut e) = frexp(real);
    let mut m = (q * pow2(31)).round(); // std round: half away from zero
    if m == pow2(31) {
        m /= 2.0;
        e += 1;
    }
    let mut m = m as i64;
    if e < -31 {
        m = 0;
        e = 0;
    }
    if single && e > 30 {
        e = 30;
        m = (1 << 31) - 1;
    }
    (m, e)
}

/// SaturatingRoundingDoublingHighMul: `a * b / 2^31` rounded half up (the nudge
/// then truncating division of DESIGN.md is `floor((ab + 2^30) / 2^31)` for either
/// sign), saturating `MIN * MIN`.
fn srdhm(a: i64, b: i64) -> i64 {
    if a == i32::MIN as i64 && b == i32::MIN as i64 {
        return i32::MAX as i64;
    }
    let ab = a as i128 * b as i128;
    (ab + (1i128 << 30)).div_euclid(1i128 << 31) as i64
}

/// RoundingDivideByPOT: `x / 2^e` rounded half away from zero.
fn rdbpot(x: i64, e: i32) -> i64 {
    let d = 1i64 << e;
    let (q, r) = (x / d, x % d);
    if 2 * r.abs() >= d && e > 0 {
        q + x.signum()
    } else {
        q
    }
}

/// `acc * real` as TFLite rounds it, double or single rounding.
fn requantize(acc: i64, m: i64, shift: i32, single: bool) -> i64 {
    if single {
        let total = 31 - shift;
        let v = acc as i128 * m as i128 + (1i128 << (total - 1));
        (v >> total) as i64
    } else {
        let left = shift.max(0);
        let right = (-shift).max(0);
        // TFLite multiplies by (1 << left) in int32 (wrapping in practice; never
        // reached by these small accumulators).
        let x = ((acc << left) as i32) as i64;
        rdbpot(srdhm(x, m), right)
    }
}

/// TFLite's `CalculateActivationRangeQuantized` for int8.
fn act_bounds(act: Activation, q: Quant) -> (i64, i64) {
    let zp = q.zero_point as i64;
    let r = |v: f32| (v / q.scale).round() as i64; // f32 division, half away from zero
    match act {
        Activation::None => (-128, 127),
        Activation::Relu => (zp.max(-128), 127),
        Activation::Relu6 => (zp.max(-128), (zp + r(6.0)).min(127)),
        Activation::ReluN1To1 => ((zp + r(-1.0)).max(-128), (zp + r(1.0)).min(127)),
    }
}

/// TF's output size and padding before, per DESIGN.md.
fn geometry(input: usize, k: usize, s: usize, d: usize, same: bool) -> (usize, usize) {
    let eff = (k - 1) * d + 1;
    let out = if same {
        input.div_ceil(s)
    } else if input >= eff {
        (input - eff + 1).div_ceil(s)
    } else {
        0
    };
    let total = ((out as i64 - 1) * s as i64 + eff as i64 - input as i64).max(0) as usize;
    (out, total / 2)
}

/// All parameters of a convolution-like test layer, owned.
#[derive(Debug, Clone)]
struct ConvCase {
    h: usize,
    w: usize,
    ci: usize,
    /// Output channels (conv) or depth multiplier (depthwise).
    co: usize,
    k: (usize, usize),
    s: (usize, usize),
    d: (usize, usize),
    same: bool,
    hwio: bool,
    weights: Vec<i8>,
    bias: Option<Vec<i32>>,
    scales: Vec<f32>,
    input_q: Quant,
    output_q: Quant,
    act: Activation,
    single: bool,
    input: Vec<i8>,
}

impl ConvCase {
    fn window(&self) -> Window {
        Window {
            height: Axis::new(self.k.0, self.s.0, self.d.0),
            width: Axis::new(self.k.1, self.s.1, self.d.1),
            padding: if self.same {
                Padding::Same
            } else {
                Padding::Valid
            },
        }
    }

    fn rounding(&self) -> Rounding {
        if self.single {
            Rounding::Single
        } else {
            Rounding::Double
        }
    }

    fn scale(&self, c: usize) -> f32 {
        if self.scales.len() == 1 {
            self.scales[0]
        } else {
            self.scales[c]
        }
    }

    /// Naive convolution (`depthwise == false`) or depthwise convolution.
    fn naive(&self, depthwise: bool) -> (Shape, Vec<i8>) {
        let (kh, kw) = self.k;
        let (oh, pt) = geometry(self.h, kh, self.s.0, self.d.0, self.same);
        let (ow, pl) = geometry(self.w, kw, self.s.1, self.d.1, self.same);
        let ci = self.ci;
        let co = if depthwise { ci * self.co } else { self.co };
        let zp = self.input_q.zero_point as i64;
        let (lo, hi) = act_bounds(self.act, self.output_q);
        let mut out = Vec::with_capacity(oh * ow * co);
        for oy in 0..oh {
            for ox in 0..ow {
                for oc in 0..co {
                    let mut acc = self.bias.as_ref().map_or(0, |b| b[oc] as i64);
                    for ky in 0..kh {
                        let iy = (oy * self.s.0 + ky * self.d.0) as i64 - pt as i64;
                        if iy < 0 || iy >= self.h as i64 {
                            continue;
                        }
                        for kx in 0..kw {
                            let ix = (ox * self.s.1 + kx * self.d.1) as i64 - pl as i64;
                            if ix < 0 || ix >= self.w as i64 {
                                continue;
                            }
                            let px = (iy as usize * self.w + ix as usize) * ci;
                            if depthwise {
                                let ic = oc / self.co;
                                let wv = self.weights[(ky * kw + kx) * co + oc] as i64;
                                acc += wv * (self.input[px + ic] as i64 - zp);
                            } else {
                                for ic in 0..ci {
                                    let wi = if self.hwio {
                                        ((ky * kw + kx) * ci + ic) * co + oc
                                    } else {
                                        ((oc * kh + ky) * kw + kx) * ci + ic
                                    };
                                    acc +=
                                        self.weights[wi] as i64 * (self.input[px + ic] as i64 - zp);
                                }
                            }
                        }
                    }
                    let real = self.input_q.scale as f64 * self.scale(oc) as f64
                        / self.output_q.scale as f64;
                    let (m, shift) = quantize_multiplier(real, self.single);
                    let v =
                        requantize(acc, m, shift, self.single) + self.output_q.zero_point as i64;
                    out.push(v.clamp(lo, hi) as i8);
                }
            }
        }
        (Shape::new(oh, ow, co), out)
    }

    fn conv(&self) -> Layer<'_> {
        Layer::Conv2d(Conv2d {
            in_channels: self.ci,
            out_channels: self.co,
            window: self.window(),
            weights: &self.weights,
            layout: if self.hwio {
                WeightLayout::Hwio
            } else {
                WeightLayout::Ohwi
            },
            bias: self.bias.as_deref().map(Values::Slice),
            requant: Requantization::WeightScales(Values::Slice(&self.scales)),
            input: self.input_q,
            output: self.output_q,
            activation: self.act,
        })
    }

    fn depthwise(&self) -> Layer<'_> {
        Layer::Depthwise(DepthwiseConv2d {
            in_channels: self.ci,
            depth_multiplier: self.co,
            window: self.window(),
            weights: &self.weights,
            bias: self.bias.as_deref().map(Values::Slice),
            requant: Requantization::WeightScales(Values::Slice(&self.scales)),
            input: self.input_q,
            output: self.output_q,
            activation: self.act,
        })
    }
}

// ---------------------------------------------------------------------------
// Random data.
// ---------------------------------------------------------------------------

/// Input, weight and output scales for a layer of `taps` taps per output. Most
/// cases aim the real multiplier at the accumulator's typical size (outputs from a
/// fraction of an LSB to a little beyond the int8 range); one in eight spreads it
/// from 2^-16 to 2 (saturation, left shifts). A quarter use powers of two only,
/// where rounding ties are frequent.
fn scales(rng: &mut Rng, channels: usize, per_channel: bool, taps: usize) -> (f32, Vec<f32>, f32) {
    let n = if per_channel { channels } else { 1 };
    // |acc| is typically sqrt(taps) * E|w| * E|x - zp| ≈ sqrt(taps) * 64 * 80.
    let typical = -((taps as f64).sqrt() * 64.0 * 80.0).log2();
    let log_mult = if rng.one_in(8) {
        rng.f64(-16.0, 1.0)
    } else {
        typical + rng.f64(-2.0, 7.0)
    };
    if rng.one_in(4) {
        let s_in = pow2(-(rng.range(0, 8) as i32)) as f32;
        let s_w: Vec<f32> = (0..n)
            .map(|_| pow2(-(rng.range(3, 10) as i32)) as f32)
            .collect();
        let max_w = s_w.iter().cloned().fold(0.0f32, f32::max);
        let s_out = s_in * max_w * pow2(-(log_mult.round() as i32)) as f32;
        return (s_in, s_w, s_out);
    }
    let s_in = 2f64.powf(rng.f64(-10.0, 0.0)) as f32;
    let s_w: Vec<f32> = (0..n)
        .map(|_| 2f64.powf(rng.f64(-10.0, -3.0)) as f32)
        .collect();
    let max_w = s_w.iter().cloned().fold(0.0f32, f32::max);
    let s_out = (s_in as f64 * max_w as f64 / 2f64.powf(log_mult)) as f32;
    (s_in, s_w, s_out)
}

/// Grows a VALID input to fit the window (keeps sizes below the kernel for SAME).
fn fit(size: usize, k: usize, d: usize, same: bool) -> usize {
    let eff = (k - 1) * d + 1;
    if !same && size < eff {
        eff + size % 3
    } else {
        size
    }
}

#[allow(clippy::type_complexity)]
fn conv_params() -> impl Strategy<
    Value = (
        (usize, usize, usize, usize, usize, usize),
        (usize, usize, usize, usize),
        (bool, bool, bool, bool, bool),
        (u8, u64),
    ),
> {
    (
        (
            1..=7usize,
            1..=7usize,
            1..=3usize,
            1..=3usize,
            1..=3usize,
            1..=3usize,
        ),
        (1..=24usize, 1..=24usize, 1..=8usize, 1..=8usize),
        (
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        ),
        (0..4u8, any::<u64>()),
    )
}

/// Builds a case; `co` is the output channel count (conv) or multiplier (depthwise).
#[allow(clippy::too_many_arguments)]
fn make_case(
    (kh, kw, sh, sw, dh, dw): (usize, usize, usize, usize, usize, usize),
    (h, w, ci, co): (usize, usize, usize, usize),
    (same, hwio, bias, per_channel, single): (bool, bool, bool, bool, bool),
    (act, seed): (u8, u64),
    depthwise: bool,
) -> ConvCase {
    let mut rng = Rng::new(seed);
    let h = fit(h, kh, dh, same);
    let w = fit(w, kw, dw, same);
    let out_ch = if depthwise { ci * co } else { co };
    let taps = kh * kw * if depthwise { 1 } else { ci };
    let (s_in, s_w, s_out) = scales(&mut rng, out_ch, per_channel, taps);
    // Comparable to the accumulator, now and then far larger.
    let bias_range = if rng.one_in(8) {
        1 << 24
    } else {
        ((taps as f64).sqrt() * 64.0 * 128.0) as i64
    };
    ConvCase {
        h,
        w,
        ci,
        co,
        k: (kh, kw),
        s: (sh, sw),
        d: (dh, dw),
        same,
        hwio,
        weights: rng.i8s(kh * kw * ci * co),
        bias: bias.then(|| {
            (0..out_ch)
                .map(|_| rng.range(-bias_range, bias_range) as i32)
                .collect()
        }),
        scales: s_w,
        input_q: Quant::new(s_in, rng.range(-128, 127) as i32),
        output_q: Quant::new(s_out, rng.range(-128, 127) as i32),
        act: activation(act),
        single,
        input: rng.i8s(h * w * ci),
    }
}

/// Runs `layer` through both entry points of the frame engine and checks both
/// against the naive output.
fn check_engine(
    layer: Layer<'_>,
    rounding: Rounding,
    input: &[i8],
    shape: Shape,
    expected: (Shape, Vec<i8>),
) -> Result<(), TestCaseError> {
    let model = Model::new(shape, layer.input_quant(), &[layer], rounding)
        .map_err(|e| TestCaseError::fail(format!("model rejected: {e}")))?;
    prop_assert_eq!(model.output_shape(), expected.0);
    let mut out = vec![0i8; expected.0.len()];
    scanline::frame::run(&model, input, &mut out, &mut []).unwrap();
    prop_assert_eq!(&out, &expected.1, "frame::run");
    let mut out2 = vec![0i8; expected.0.len()];
    let s = scanline::frame::run_layer(&layer, rounding, input, shape, &mut out2).unwrap();
    prop_assert_eq!(s, expected.0);
    prop_assert_eq!(&out2, &expected.1, "frame::run_layer");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases::count(1000), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn conv_matches_naive((k, size, flags, rest) in conv_params()) {
        let case = make_case(k, size, flags, rest, false);
        let expected = case.naive(false);
        check_engine(case.conv(), case.rounding(), &case.input, Shape::new(case.h, case.w, case.ci), expected)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{case:?}")))?;
    }

    #[test]
    fn depthwise_matches_naive((k, (h, w, ci, dm), flags, rest) in conv_params()) {
        let case = make_case(k, (h, w, ci, 1 + dm % 3), flags, rest, true);
        let expected = case.naive(true);
        check_engine(case.depthwise(), case.rounding(), &case.input, Shape::new(case.h, case.w, case.ci), expected)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{case:?}")))?;
    }

    #[test]
    fn maxpool_matches_naive(
        (kh, kw, sh, sw) in (1..=5usize, 1..=5usize, 1..=3usize, 1..=3usize),
        (h, w, c) in (1..=24usize, 1..=24usize, 1..=8usize),
        (same, act, seed) in (any::<bool>(), 0..4u8, any::<u64>()),
    ) {
        let mut rng = Rng::new(seed);
        let (h, w) = (fit(h, kh, 1, same), fit(w, kw, 1, same));
        let quant = Quant::new(2f64.powf(rng.f64(-8.0, 0.0)) as f32, rng.range(-128, 127) as i32);
        let act = activation(act);
        let input = rng.i8s(h * w * c);
        let (oh, pt) = geometry(h, kh, sh, 1, same);
        let (ow, pl) = geometry(w, kw, sw, 1, same);
        let (lo, hi) = act_bounds(act, quant);
        let mut expected = Vec::new();
        for oy in 0..oh {
            for ox in 0..ow {
                for ch in 0..c {
                    let mut m = None::<i64>;
                    for ky in 0..kh {
                        let iy = (oy * sh + ky) as i64 - pt as i64;
                        if iy < 0 || iy >= h as i64 {
                            continue;
                        }
                        for kx in 0..kw {
                            let ix = (ox * sw + kx) as i64 - pl as i64;
                            if ix < 0 || ix >= w as i64 {
                                continue;
                            }
                            let v = input[(iy as usize * w + ix as usize) * c + ch] as i64;
                            m = Some(m.map_or(v, |m| m.max(v)));
                        }
                    }
                    // A TF window always holds at least one real cell.
                    prop_assert!(m.is_some());
                    expected.push(m.unwrap_or(-128).clamp(lo, hi) as i8);
                }
            }
        }
        let layer = Layer::MaxPool(MaxPool2d {
            window: Window {
                height: Axis::new(kh, sh, 1),
                width: Axis::new(kw, sw, 1),
                padding: if same { Padding::Same } else { Padding::Valid },
            },
            quant,
            activation: act,
        });
        for rounding in [Rounding::Double, Rounding::Single] {
            check_engine(layer, rounding, &input, Shape::new(h, w, c), (Shape::new(oh, ow, c), expected.clone()))?;
        }
    }

    #[test]
    fn relu_matches_naive(
        (h, w, c) in (1..=16usize, 1..=16usize, 1..=8usize),
        (relu6, single, seed) in (any::<bool>(), any::<bool>(), any::<u64>()),
    ) {
        let mut rng = Rng::new(seed);
        let s_in = 2f64.powf(rng.f64(-8.0, 0.0)) as f32;
        // Output scale from 1/16 to 16 times the input's: a quarter exactly equal,
        // a quarter a power-of-two ratio (rounding ties), the rest anywhere.
        let s_out = match rng.next_u64() % 4 {
            0 => s_in,
            1 => s_in * pow2(rng.range(-4, 4) as i32) as f32,
            _ => (s_in as f64 * 2f64.powf(rng.f64(-4.0, 4.0))) as f32,
        };
        let input_q = Quant::new(s_in, rng.range(-128, 127) as i32);
        let output_q = Quant::new(s_out, rng.range(-128, 127) as i32);
        let act = if relu6 { Activation::Relu6 } else { Activation::Relu };
        let input = rng.i8s(h * w * c);
        let (m, shift) = quantize_multiplier((s_in / s_out) as f64, single);
        let (lo, _) = act_bounds(Activation::Relu, output_q);
        let hi = if relu6 { act_bounds(Activation::Relu6, output_q).1 } else { 127 };
        let expected: Vec<i8> = input
            .iter()
            .map(|&x| {
                let v = output_q.zero_point as i64
                    + requantize(x as i64 - input_q.zero_point as i64, m, shift, single);
                v.clamp(lo, hi) as i8
            })
            .collect();
        let layer = Layer::Relu(Relu { activation: act, input: input_q, output: output_q });
        let rounding = if single { Rounding::Single } else { Rounding::Double };
        check_engine(layer, rounding, &input, Shape::new(h, w, c), (Shape::new(h, w, c), expected))?;
    }

    /// A chain conv → depthwise → max-pool → relu through `frame::run` (its
    /// ping-pong buffers) against the naive layers composed.
    #[test]
    fn chain_matches_naive(
        (k1, k2, s1, p) in (1..=5usize, 1..=5usize, 1..=2usize, 1..=3usize),
        (h, w, ci, c1, dm) in (1..=16usize, 1..=16usize, 1..=3usize, 1..=6usize, 1..=2usize),
        (act1, act2, single, seed) in (0..4u8, 0..4u8, any::<bool>(), any::<u64>()),
    ) {
        let conv = make_case(
            (k1, k1, s1, s1, 1, 1), (h, w, ci, c1), (true, false, true, true, single), (act1, seed), false);
        let (shape1, out1) = conv.naive(false);
        let mut rng = Rng::new(seed ^ 0x5555);
        let mut dw = make_case(
            (k2, k2, 1, 1, 1, 1), (shape1.height, shape1.width, c1, dm), (true, false, true, true, single),
            (act2, rng.next_u64()), true);
        dw.input_q = conv.output_q;
        dw.input = out1;
        // Keep the multiplier of the second layer in range for its new input scale.
        let max_w = dw.scales.iter().cloned().fold(0.0f32, f32::max);
        dw.output_q.scale =
            (dw.input_q.scale as f64 * max_w as f64 * 2f64.powf(rng.f64(-1.0, 12.0))) as f32;
        let (shape2, out2) = dw.naive(true);
        let pool = MaxPool2d { window: Window::square(p, p, Padding::Same), quant: dw.output_q, activation: Activation::None };
        let (oh, pt) = geometry(shape2.height, p, p, 1, true);
        let (ow, pl) = geometry(shape2.width, p, p, 1, true);
        let c = shape2.channels;
        let mut out3 = Vec::new();
        for oy in 0..oh {
            for ox in 0..ow {
                for ch in 0..c {
                    let mut m = i64::MIN;
                    for ky in 0..p {
                        for kx in 0..p {
                            let iy = (oy * p + ky) as i64 - pt as i64;
                            let ix = (ox * p + kx) as i64 - pl as i64;
                            if (0..shape2.height as i64).contains(&iy) && (0..shape2.width as i64).contains(&ix) {
                                m = m.max(out2[(iy as usize * shape2.width + ix as usize) * c + ch] as i64);
                            }
                        }
                    }
                    out3.push(m as i8);
                }
            }
        }
        let relu_q = Quant::new(dw.output_q.scale * 0.75, rng.range(-128, 127) as i32);
        let (m, shift) = quantize_multiplier((dw.output_q.scale / relu_q.scale) as f64, single);
        let (lo, hi) = (act_bounds(Activation::Relu, relu_q).0, 127);
        let expected: Vec<i8> = out3
            .iter()
            .map(|&x| {
                let v = relu_q.zero_point as i64
                    + requantize(x as i64 - dw.output_q.zero_point as i64, m, shift, single);
                v.clamp(lo, hi) as i8
            })
            .collect();
        let layers = [
            conv.conv(),
            dw.depthwise(),
            Layer::MaxPool(pool),
            Layer::Relu(Relu { activation: Activation::Relu, input: dw.output_q, output: relu_q }),
        ];
        let model = Model::new(Shape::new(conv.h, conv.w, ci), conv.input_q, &layers, conv.rounding()).unwrap();
        prop_assert_eq!(model.output_shape(), Shape::new(oh, ow, c));
        let mut out = vec![0i8; model.output_shape().len()];
        let mut scratch = vec![0i8; model.frame_scratch_len()];
        scanline::frame::run(&model, &conv.input, &mut out, &mut scratch).unwrap();
        prop_assert_eq!(out, expected);
    }
}

// ---------------------------------------------------------------------------
// Hand-picked checks of the naive reference itself (so that a bug in it cannot
// hide a bug in the core by coincidence).
// ---------------------------------------------------------------------------

#[test]
fn naive_arithmetic_edges() {
    assert_eq!(srdhm(i32::MIN as i64, i32::MIN as i64), i32::MAX as i64);
    assert_eq!(srdhm(1, 1 << 30), 1); // 0.5 → 1
    assert_eq!(srdhm(-1, 1 << 30), 0); // -0.5 → 0 (ties up)
    assert_eq!(srdhm(-3, 1 << 30), -1); // -1.5 → -1
    assert_eq!(rdbpot(3, 1), 2);
    assert_eq!(rdbpot(-3, 1), -2);
    assert_eq!(rdbpot(-5, 2), -1);
    assert_eq!(rdbpot(-6, 2), -2);
    assert_eq!(rdbpot(7, 0), 7);
    assert_eq!(quantize_multiplier(1.0, false), (1 << 30, 1));
    assert_eq!(quantize_multiplier(0.5, false), (1 << 30, 0));
    assert_eq!(quantize_multiplier(pow2(-33), false), (0, 0));
    assert_eq!(quantize_multiplier(1.0 - 1e-12, false), (1 << 30, 1));
    assert_eq!(quantize_multiplier(pow2(40), true), ((1 << 31) - 1, 30));
    // 0.25 * -6 = -1.5: double rounding → -2, single → -1.
    assert_eq!(requantize(-6, 1 << 30, -1, false), -2);
    assert_eq!(requantize(-6, 1 << 30, -1, true), -1);
    assert_eq!(geometry(7, 3, 2, 1, true), (4, 1));
    assert_eq!(geometry(8, 3, 2, 1, true), (4, 0));
    assert_eq!(geometry(4, 3, 1, 2, false), (0, 0));
    let q = Quant::new(0.1, 10);
    assert_eq!(act_bounds(Activation::Relu6, q), (10, 70));
    assert_eq!(act_bounds(Activation::ReluN1To1, q), (0, 20));
}

#[test]
fn naive_agrees_with_the_core_multiplier_on_many_reals() {
    // Not a substitute for the layer tests: a quick sweep over the frexp path.
    let mut rng = Rng::new(7);
    for _ in 0..20_000 {
        let real = 2f64.powf(rng.f64(-40.0, 40.0));
        for single in [false, true] {
            let r = if single {
                Rounding::Single
            } else {
                Rounding::Double
            };
            let core = scanline::Multiplier::from_real(real, r);
            assert_eq!(
                quantize_multiplier(real, single),
                (core.multiplier as i64, core.shift),
                "{real}"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Model validation.
// ---------------------------------------------------------------------------

const Q: Quant = Quant::new(0.1, 0);

/// Why `Model::new` rejects `layers` on an input of `shape` quantized with [`Q`].
fn rejected(shape: Shape, layers: &[Layer<'_>]) -> Error {
    Model::new(shape, Q, layers, Rounding::Double).unwrap_err()
}

/// Why `Model::new` rejects a 3x3 conv 1 → 4 then a 1x1 conv 4 → 4 with `bias`,
/// on 8x8x1.
fn rejected_bias(bias: &[i32]) -> Error {
    let (w1, w2) = ([1i8; 4 * 9], [1i8; 4 * 4]);
    rejected(
        Shape::new(8, 8, 1),
        &[conv(1, 4, 3, &w1, None), conv(4, 4, 1, &w2, Some(bias))],
    )
}

fn conv<'a>(
    ci: usize,
    co: usize,
    k: usize,
    weights: &'a [i8],
    bias: Option<&'a [i32]>,
) -> Layer<'a> {
    Layer::Conv2d(Conv2d {
        in_channels: ci,
        out_channels: co,
        window: Window::square(k, 1, Padding::Same),
        weights,
        layout: WeightLayout::Ohwi,
        bias: bias.map(Values::Slice),
        requant: Requantization::WeightScales(Values::Slice(&[0.01])),
        input: Q,
        output: Q,
        activation: Activation::None,
    })
}

#[test]
fn model_rejects_shapes_that_do_not_chain() {
    let w1 = [1i8; 4 * 9];
    let w2 = [1i8; 2 * 9 * 3];
    let layers = [conv(1, 4, 3, &w1, None), conv(3, 2, 3, &w2, None)];
    let err = rejected(Shape::new(8, 8, 1), &layers);
    assert_eq!(
        err,
        Error::Shape {
            layer: Some(1),
            expected: Shape::new(8, 8, 3),
            found: Shape::new(8, 8, 4),
        }
    );
    // The first layer too, against the model input.
    let err = rejected(Shape::new(8, 8, 2), &layers);
    assert_eq!(
        err,
        Error::Shape {
            layer: Some(0),
            expected: Shape::new(8, 8, 1),
            found: Shape::new(8, 8, 2),
        }
    );
    // A VALID window larger than what reaches it.
    let pool = Layer::MaxPool(MaxPool2d {
        window: Window::square(5, 1, Padding::Valid),
        quant: Q,
        activation: Activation::None,
    });
    let err = rejected(Shape::new(4, 9, 1), &[conv(1, 4, 3, &w1, None), pool]);
    assert_eq!(
        err,
        Error::EmptyOutput {
            layer: Some(1),
            input: Shape::new(4, 9, 4)
        }
    );
    // Quantization that does not chain.
    let relu = Layer::Relu(Relu {
        activation: Activation::Relu,
        input: Quant::new(0.2, 0),
        output: Q,
    });
    // (The 5x5 VALID pool has no output on 4x4 before the quantization is looked at.)
    let err = Model::new(Shape::new(4, 4, 4), Q, &[pool, relu], Rounding::Double);
    assert_eq!(
        err,
        Err(Error::EmptyOutput {
            layer: Some(0),
            input: Shape::new(4, 4, 4)
        })
    );
    let err = rejected(Shape::new(8, 8, 1), &[conv(1, 4, 3, &w1, None), relu]);
    assert_eq!(
        err,
        Error::Invalid {
            layer: Some(1),
            param: Param::InputQuant,
            reason: "does not match the output quantization of what feeds it",
        }
    );
}

#[test]
fn model_rejects_bad_lengths() {
    let w1 = [1i8; 4 * 9];
    let short = [1i8; 4 * 9 - 1];
    let err = rejected(Shape::new(8, 8, 1), &[conv(1, 4, 3, &short, None)]);
    assert_eq!(
        err,
        Error::Length {
            layer: Some(0),
            param: Param::Weights,
            expected: 36,
            found: 35
        }
    );
    assert_eq!(
        rejected_bias(&[0; 3]),
        Error::Length {
            layer: Some(1),
            param: Param::Bias,
            expected: 4,
            found: 3
        }
    );
    let mut bad_scales = conv(1, 4, 3, &w1, None);
    if let Layer::Conv2d(c) = &mut bad_scales {
        c.requant = Requantization::WeightScales(Values::Slice(&[0.1, 0.2]));
    }
    let err = rejected(Shape::new(8, 8, 1), &[bad_scales]);
    assert_eq!(
        err,
        Error::Length {
            layer: Some(0),
            param: Param::WeightScales,
            expected: 4,
            found: 2
        }
    );
    let dw = Layer::Depthwise(DepthwiseConv2d {
        in_channels: 4,
        depth_multiplier: 2,
        window: Window::square(3, 1, Padding::Same),
        weights: &[0i8; 9 * 4],
        bias: None,
        requant: Requantization::WeightScales(Values::Slice(&[0.01])),
        input: Q,
        output: Q,
        activation: Activation::None,
    });
    let err = rejected(Shape::new(8, 8, 1), &[conv(1, 4, 3, &w1, None), dw]);
    assert_eq!(
        err,
        Error::Length {
            layer: Some(1),
            param: Param::Weights,
            expected: 72,
            found: 36
        }
    );
    // Buffers handed to the frame engine are checked too.
    let model = Model::new(
        Shape::new(8, 8, 1),
        Q,
        &[conv(1, 4, 3, &w1, None)],
        Rounding::Double,
    )
    .unwrap();
    let mut out = vec![0i8; 8 * 8 * 4];
    let err = scanline::frame::run(&model, &[0i8; 63], &mut out, &mut []).unwrap_err();
    assert_eq!(
        err,
        Error::Length {
            layer: None,
            param: Param::Row,
            expected: 64,
            found: 63,
        }
    );
    let err = scanline::frame::run(&model, &[0i8; 64], &mut out[1..], &mut []).unwrap_err();
    assert_eq!(
        err,
        Error::Length {
            layer: None,
            param: Param::Output,
            expected: 256,
            found: 255,
        }
    );
    // No layers, too many layers.
    let err = rejected(Shape::new(8, 8, 1), &[]);
    assert_eq!(
        err,
        Error::Invalid {
            layer: None,
            param: Param::Layers,
            reason: "a model needs at least one layer",
        }
    );
    let relu = Layer::Relu(Relu {
        activation: Activation::Relu,
        input: Q,
        output: Q,
    });
    let err = rejected(Shape::new(8, 8, 1), &[relu; 17]);
    assert_eq!(
        err,
        Error::Invalid {
            layer: None,
            param: Param::Layers,
            reason: "too many layers (at most 16)",
        }
    );
    // Sixteen are fine.
    let model = Model::new(Shape::new(8, 8, 1), Q, &[relu; 16], Rounding::Double).unwrap();
    assert_eq!(model.layers().len(), 16);
}

#[test]
fn model_rejects_overflowing_accumulators() {
    // Through the bias: channel 2's bias plus its weights can exceed i32::MAX.
    assert_eq!(
        rejected_bias(&[0, 0, i32::MAX - 100, 0]),
        Error::AccumulatorOverflow {
            layer: Some(1),
            channel: 2
        }
    );
    // Through the weights alone: 16x16x512 taps of 127 times |x - zp| up to 255.
    let q = Quant::new(0.1, -128);
    let big = vec![127i8; 16 * 16 * 512];
    let layer = Layer::Conv2d(Conv2d {
        in_channels: 512,
        out_channels: 1,
        window: Window::square(16, 1, Padding::Same),
        weights: &big,
        layout: WeightLayout::Hwio,
        bias: None,
        requant: Requantization::WeightScales(Values::Slice(&[0.01])),
        input: q,
        output: q,
        activation: Activation::None,
    });
    let err = Model::new(Shape::new(16, 16, 512), q, &[layer], Rounding::Double).unwrap_err();
    assert_eq!(
        err,
        Error::AccumulatorOverflow {
            layer: Some(0),
            channel: 0
        }
    );
    // Half the weights fit: 16*16*256*127*255 < 2^31 (just).
    let layer = Layer::Conv2d(Conv2d {
        in_channels: 256,
        weights: &big[..16 * 16 * 256],
        ..match layer {
            Layer::Conv2d(c) => c,
            _ => unreachable!(),
        }
    });
    let model = Model::new(Shape::new(16, 16, 256), q, &[layer], Rounding::Double).unwrap();
    assert_eq!(model.output_shape(), Shape::new(16, 16, 1));
}

#[test]
fn absurd_channel_counts_are_errors_not_overflows() {
    // Validation multiplies channel counts by kernel sizes: it must saturate into a
    // length error, never overflow (a panic in debug, a wrapped check in release).
    let q = Quant::new(0.1, 0);
    let conv = Layer::Conv2d(Conv2d {
        in_channels: 1 << 40,
        out_channels: 1 << 40,
        window: Window::square(3, 1, Padding::Same),
        weights: &[0i8; 9],
        layout: WeightLayout::Ohwi,
        bias: None,
        requant: Requantization::WeightScales(Values::Slice(&[0.1])),
        input: q,
        output: q,
        activation: Activation::None,
    });
    // 2^40 * 3 * 3 * 2^40 weights saturate to usize::MAX.
    let saturated = Err(Error::Length {
        layer: None,
        param: Param::Weights,
        expected: usize::MAX,
        found: 9,
    });
    assert_eq!(conv.output_shape(Shape::new(4, 4, 1 << 40)), saturated);
    let dw = Layer::Depthwise(DepthwiseConv2d {
        in_channels: usize::MAX / 2,
        depth_multiplier: 1000,
        window: Window::square(3, 1, Padding::Same),
        weights: &[0i8; 9],
        bias: None,
        requant: Requantization::WeightScales(Values::Slice(&[0.1])),
        input: q,
        output: q,
        activation: Activation::None,
    });
    // 9 taps times (2^63 - 1) * 1000 output channels saturate too.
    assert_eq!(dw.output_shape(Shape::new(4, 4, usize::MAX / 2)), saturated);
}
