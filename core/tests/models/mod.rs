//! Models: random models for the engine tests — their structure as a proptest
//! strategy, their parameters from a seed (owned, so layers can borrow them),
//! and running them through the frame and stream engines.
#![allow(
    dead_code,
    reason = "each test crate that includes this module uses a part of it"
)]

use proptest::prelude::*;
use scanline::WeightLayout;
use scanline::stream::Pipeline;
use scanline::{
    Activation, Axis, Conv2d, DepthwiseConv2d, Error, Layer, MaxPool2d, Model, Multiplier, Padding,
    Quant, Relu, Requantization, Rounding, Shape, Values, Window,
};
use scanline_testkit::{Rng, cases};

/// The configuration of a property over random models: `default` cases (or
/// `PROPTEST_CASES`), room for the models `prop_assume!` rejects (too large,
/// or invalid), and no failure files (a failing seed is printed instead).
pub fn config(default: u32) -> ProptestConfig {
    ProptestConfig {
        cases: cases::count(default),
        max_global_rejects: 100_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Structure of one random layer.
#[derive(Debug, Clone)]
pub struct LayerSpec {
    pub kind: u8, // 0 conv, 1 depthwise, 2 pool, 3 relu
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    pub dilation: (usize, usize),
    pub same: bool,
    pub channels: usize,
    pub multiplier: usize,
    pub activation: u8,
}

/// Structure of a random model.
#[derive(Debug, Clone)]
pub struct ModelSpec {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
    pub layers: Vec<LayerSpec>,
    pub seed: u64,
    pub hwio: bool,
    pub single: bool,
}

impl ModelSpec {
    /// The input shape.
    pub fn shape(&self) -> Shape {
        Shape::new(self.height, self.width, self.channels)
    }

    /// The requantization rounding.
    pub fn rounding(&self) -> Rounding {
        if self.single {
            Rounding::Single
        } else {
            Rounding::Double
        }
    }
}

/// A random layer structure: kind, window, channels, activation.
pub fn layer_spec() -> impl Strategy<Value = LayerSpec> {
    (
        0u8..4,
        (1usize..=7, 1usize..=7),
        (1usize..=3, 1usize..=3),
        (1usize..=3, 1usize..=3),
        any::<bool>(),
        prop_oneof![1usize..=4, 1usize..=16],
        1usize..=3,
        0u8..4,
    )
        .prop_map(
            |(kind, kernel, stride, dilation, same, channels, multiplier, activation)| LayerSpec {
                kind,
                kernel,
                stride,
                dilation,
                same,
                channels,
                multiplier,
                activation,
            },
        )
}

/// A random model structure: input shape, one to four layers, a seed for the
/// parameters, weight layout and rounding.
pub fn model_spec() -> impl Strategy<Value = ModelSpec> {
    (
        prop_oneof![1usize..=16, 1usize..=64],
        prop_oneof![1usize..=16, 1usize..=64],
        prop_oneof![1usize..=4, 1usize..=16],
        prop::collection::vec(layer_spec(), 1..=4),
        any::<u64>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(height, width, channels, layers, seed, hwio, single)| ModelSpec {
                height,
                width,
                channels,
                layers,
                seed,
                hwio,
                single,
            },
        )
}

/// Owned parameters of one layer, borrowed by a `Layer`.
pub struct Owned {
    pub spec: LayerSpec,
    pub in_channels: usize,
    pub out_channels: usize,
    pub weights: Vec<i8>,
    pub bias: Vec<i32>,
    pub scales: Vec<f32>,
    /// What [`Multiplier::for_conv`] computes from each of `scales` (with the
    /// model's rounding): the same requantization as integer parameters.
    pub multipliers: Vec<i32>,
    /// The shifts that go with `multipliers`.
    pub shifts: Vec<i32>,
    pub input: Quant,
    pub output: Quant,
    pub activation: Activation,
}

/// Fused activation number `a` (modulo 4): none, ReLU, ReLU6, ReLU_N1_TO_1.
pub fn activation(a: u8) -> Activation {
    [
        Activation::None,
        Activation::Relu,
        Activation::Relu6,
        Activation::ReluN1To1,
    ][a as usize % 4]
}

/// The parameters of every layer of `spec` (weights, bias, scales, quantization,
/// all from `spec.seed`), and the model's input quantization.
pub fn own(spec: &ModelSpec) -> (Vec<Owned>, Quant) {
    let mut rng = Rng::new(spec.seed);
    let q_in = Quant::new(rng.f32(0.002, 0.05), rng.range(-128, 127) as i32);
    let mut q = q_in;
    let mut c = spec.channels;
    let mut owned = Vec::new();
    for l in &spec.layers {
        let (kh, kw) = l.kernel;
        let (in_channels, out_channels, weights_len, taps) = match l.kind {
            0 => (c, l.channels, l.channels * kh * kw * c, kh * kw * c),
            1 => {
                let dm = if c * l.multiplier > 16 {
                    1
                } else {
                    l.multiplier
                };
                (c, c * dm, kh * kw * c * dm, kh * kw)
            }
            _ => (c, c, 0, 1),
        };
        let weights: Vec<i8> = (0..weights_len).map(|_| rng.i8()).collect();
        let bias: Vec<i32> = (0..out_channels)
            .map(|_| rng.range(-20000, 20000) as i32)
            .collect();
        let per_channel = rng.bool();
        let scales: Vec<f32> = (0..if per_channel { out_channels } else { 1 })
            .map(|_| rng.f32(0.005, 0.02))
            .collect();
        let output = match l.kind {
            0 | 1 => Quant::new(
                q.scale * 1.35 * (taps as f32).sqrt() * rng.f32(0.5, 2.0),
                rng.range(-128, 127) as i32,
            ),
            2 => q,
            _ => Quant::new(q.scale * rng.f32(0.5, 2.0), rng.range(-128, 127) as i32),
        };
        let (multipliers, shifts) = scales
            .iter()
            .map(|&s| {
                let m = Multiplier::for_conv(q.scale, s, output.scale, spec.rounding());
                (m.multiplier, m.shift)
            })
            .unzip();
        let act = if l.kind == 3 {
            if l.activation % 2 == 0 {
                Activation::Relu
            } else {
                Activation::Relu6
            }
        } else {
            activation(l.activation)
        };
        owned.push(Owned {
            spec: l.clone(),
            in_channels,
            out_channels,
            weights,
            bias,
            multipliers,
            shifts,
            scales,
            input: q,
            output,
            activation: act,
        });
        q = output;
        c = out_channels;
    }
    (owned, q_in)
}

impl Owned {
    /// The layer's requantization: from the weight scales, or (`fixed`) from the
    /// integer parameters computed from them.
    fn requant(&self, fixed: bool) -> Requantization<'_> {
        if fixed {
            Requantization::Fixed {
                multipliers: Values::Slice(&self.multipliers),
                shifts: Values::Slice(&self.shifts),
            }
        } else {
            Requantization::WeightScales(Values::Slice(&self.scales))
        }
    }
}

/// The layers of a model, borrowing `owned`; conv and depthwise requantize from
/// their weight scales.
pub fn layers(owned: &[Owned], hwio: bool) -> Vec<Layer<'_>> {
    build(owned, hwio, false)
}

/// The same layers, conv and depthwise requantizing from the integer parameters
/// [`Multiplier::for_conv`] computes from the weight scales
/// ([`Requantization::Fixed`]).
pub fn layers_fixed(owned: &[Owned], hwio: bool) -> Vec<Layer<'_>> {
    build(owned, hwio, true)
}

fn build<'a>(owned: &'a [Owned], hwio: bool, fixed: bool) -> Vec<Layer<'a>> {
    owned
        .iter()
        .map(|o| {
            let l = &o.spec;
            let padding = if l.same {
                Padding::Same
            } else {
                Padding::Valid
            };
            let window = Window {
                height: Axis::new(l.kernel.0, l.stride.0, l.dilation.0),
                width: Axis::new(l.kernel.1, l.stride.1, l.dilation.1),
                padding,
            };
            match l.kind {
                0 => Layer::Conv2d(Conv2d {
                    in_channels: o.in_channels,
                    out_channels: o.out_channels,
                    window,
                    weights: &o.weights,
                    layout: if hwio {
                        WeightLayout::Hwio
                    } else {
                        WeightLayout::Ohwi
                    },
                    bias: (o.bias[0] % 4 != 0).then_some(Values::Slice(&o.bias)),
                    requant: o.requant(fixed),
                    input: o.input,
                    output: o.output,
                    activation: o.activation,
                }),
                1 => Layer::Depthwise(DepthwiseConv2d {
                    in_channels: o.in_channels,
                    depth_multiplier: o.out_channels / o.in_channels,
                    window,
                    weights: &o.weights,
                    bias: Some(Values::Slice(&o.bias)),
                    requant: o.requant(fixed),
                    input: o.input,
                    output: o.output,
                    activation: o.activation,
                }),
                2 => Layer::MaxPool(MaxPool2d {
                    window: Window {
                        height: Axis::new(l.kernel.0, l.stride.0, 1),
                        width: Axis::new(l.kernel.1, l.stride.1, 1),
                        padding,
                    },
                    quant: o.input,
                    activation: o.activation,
                }),
                _ => Layer::Relu(Relu {
                    activation: o.activation,
                    input: o.input,
                    output: o.output,
                }),
            }
        })
        .collect()
}

/// A random input tensor of `shape` from `seed`.
pub fn random_input(shape: Shape, seed: u64) -> Vec<i8> {
    let mut rng = Rng::new(seed ^ 0x9e37_79b9_7f4a_7c15);
    (0..shape.len()).map(|_| rng.i8()).collect()
}

/// The frame engine's output for `input`.
pub fn frame_output(model: &Model<'_>, input: &[i8]) -> Vec<i8> {
    let mut out = vec![0i8; model.output_shape().len()];
    let mut scratch = vec![0i8; model.frame_scratch_len()];
    scanline::frame::run(model, input, &mut out, &mut scratch).unwrap();
    out
}

/// Streams one frame; returns the output and, per output row, the input row whose
/// push emitted it.
pub fn stream_frame(pipeline: &mut Pipeline<'_, '_>, input: &[i8]) -> (Vec<i8>, Vec<usize>) {
    let model = pipeline.model().clone();
    let n_in = model.input_shape().row_len();
    let n_out = model.output_shape().row_len();
    let mut out = Vec::new();
    let mut at = Vec::new();
    for (r, row) in input.chunks(n_in).enumerate() {
        pipeline
            .push_row(row, &mut |y: usize, o: &[i8]| {
                assert_eq!(y, at.len(), "rows out of order");
                assert_eq!(o.len(), n_out);
                out.extend_from_slice(o);
                at.push(r);
                Ok::<(), Error>(())
            })
            .unwrap();
    }
    pipeline.finish().unwrap();
    (out, at)
}

/// Multiply-accumulates plus output values of one frame: a bound on test time.
pub fn macs(model: &Model<'_>) -> u64 {
    model
        .layers()
        .iter()
        .enumerate()
        .map(|(i, l)| l.macs(model.shape(i).unwrap()) + model.shape(i + 1).unwrap().len() as u64)
        .sum()
}

/// The kernel sets this CPU supports besides the portable one (the engine tests
/// run each against the portable kernels).
pub fn fast_kernels() -> Vec<scanline::exec::Kernels> {
    let mut sets = Vec::new();
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU was just seen to support AVX2.
        #[allow(unsafe_code)]
        sets.push(unsafe { scanline::exec::Kernels::assume(scanline::exec::Isa::Avx2) });
    }
    // The Cortex-M4 kernels run everywhere: their primitives are plain Rust off Arm.
    sets.push(scanline::exec::Kernels::DSP);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2")
        && std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512bw")
        && std::arch::is_x86_feature_detected!("avx512vnni")
    {
        // SAFETY: the CPU was just seen to support AVX2 and AVX-512 F, BW and VNNI.
        #[allow(unsafe_code)]
        sets.push(unsafe { scanline::exec::Kernels::assume(scanline::exec::Isa::Avx512) });
    }
    sets
}
