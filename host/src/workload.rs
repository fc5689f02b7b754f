//! Workload: the reference workloads of DESIGN.md (W1–W3 of "Performance
//! yardsticks", the chain N3 of "Memory model") as deterministic owned int8 models
//! with deterministic inputs, and the yardstick numbers they are measured against.
//!
//! Every convolution is 3x3, stride 1, SAME, with fused ReLU, followed by a 2x2
//! max-pool (stride 2, VALID). Weights come from a fixed-seed SplitMix64 generator
//! (He-uniform, with a per-output-channel gain between 1/2 and 2, so the
//! per-channel scales differ as in trained models) and are quantized by
//! [`QuantConv::from_float`], exactly as the TFLite converter would. Output
//! quantization is calibrated like the converter's representative dataset: each
//! convolution's output range is `[0, max]` over the workload's own input. The
//! input quantization is that of pixels: scale 1/255, zero point -128.
//!
//! # Examples
//!
//! ```
//! use scanline::Shape;
//! use scanline_host::engine::Engine;
//! use scanline_host::workload::Workload;
//!
//! let w1 = Workload::W1.build();
//! let model = w1.model();
//! assert_eq!(model.output_shape(), Shape::new(120, 160, 1));
//! assert_eq!(w1.macs(), 240 * 320 * 9);
//! let out = Engine::Frame.run(&model, w1.input()).unwrap();
//! assert_eq!(out, Engine::Stream.run(&model, w1.input()).unwrap());
//! assert_eq!(Workload::W1.yardstick().cmsis_nn_instructions, Some(45_900_000));
//! ```

use crate::Tensor;
use crate::edges::INPUT_QUANT;
use crate::layer::{QuantConv, QuantLayer, layers};
use crate::reference::Conv2dF32;
use scanline::WeightLayout;
use scanline::converter::choose_quant;
use scanline::pixel::Quantizer;
use scanline::{Activation, MaxPool2d, Model, Padding, Quant, Rounding, Shape, Window};

/// OpenCV's `filter2D` (3x3, u8 → i16) on one core of the reference machine, in
/// pixels per second (DESIGN.md, "Performance yardsticks").
pub const OPENCV_FILTER2D_PIXELS_PER_SECOND: f64 = 3.0e9;

/// Multiply-accumulates per cycle a Cortex-M4 can reach at best (`SMLAD`: two
/// 16-bit products per instruction).
pub const CORTEX_M4_MACS_PER_CYCLE: u64 = 2;

/// One of the reference workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Workload {
    /// 240x320x1: conv3x3 1→1 ReLU, maxpool 2 (a QVGA gray frame, one filter).
    W1,
    /// 120x160x3: conv3x3 3→8 ReLU, maxpool 2.
    W2,
    /// 60x80x8: conv3x3 8→16 ReLU, maxpool 2.
    W3,
    /// 240x320x1: three conv3x3 ReLU + maxpool 2 pairs, 1→8→16→32 channels.
    N3,
    /// 300x451x3, the walkthrough-sized model: conv3x3 3→64 ReLU, maxpool 2,
    /// conv3x3 64→32 ReLU, maxpool 2 (856 M MACs). Not in [`Workload::ALL`]
    /// (too large for the tests); the side-by-side benchmark runs it.
    Wt,
}

/// What a workload is measured against (DESIGN.md, "Performance yardsticks");
/// `None` where DESIGN.md gives no number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Yardstick {
    /// CMSIS-NN v7 (gcc -O3, DSP path) instructions per frame on an emulated
    /// Cortex-M4 (QEMU `-icount shift=0`).
    pub cmsis_nn_instructions: Option<u64>,
    /// RAM a full-frame engine needs (whole input and output tensors), in bytes
    /// (DESIGN.md's kB: 1000 bytes).
    pub full_frame_ram_bytes: Option<u64>,
    /// TensorFlow Lite's int8 interpreter on the host, seconds per frame.
    pub tflite_host_seconds: Option<f64>,
}

impl Workload {
    /// Every workload, in DESIGN.md's order.
    pub const ALL: [Workload; 4] = [Workload::W1, Workload::W2, Workload::W3, Workload::N3];

    /// The name DESIGN.md uses (`W1`, `W2`, `W3`, `N3`).
    pub const fn name(self) -> &'static str {
        match self {
            Workload::W1 => "W1",
            Workload::W2 => "W2",
            Workload::W3 => "W3",
            Workload::N3 => "N3",
            Workload::Wt => "WT",
        }
    }

    /// Shape of the input tensor.
    pub const fn input_shape(self) -> Shape {
        match self {
            Workload::W1 | Workload::N3 => Shape::new(240, 320, 1),
            Workload::Wt => Shape::new(300, 451, 3),
            Workload::W2 => Shape::new(120, 160, 3),
            Workload::W3 => Shape::new(60, 80, 8),
        }
    }

    /// Output channels of each convolution, in order (each is followed by a pool).
    pub const fn filters(self) -> &'static [usize] {
        match self {
            Workload::W1 => &[1],
            Workload::W2 => &[8],
            Workload::W3 => &[16],
            Workload::N3 => &[8, 16, 32],
            Workload::Wt => &[64, 32],
        }
    }

    /// The yardstick numbers of DESIGN.md for this workload.
    ///
    /// ```
    /// use scanline_host::workload::Workload;
    /// assert_eq!(Workload::N3.yardstick().tflite_host_seconds, Some(0.5e-3));
    /// assert_eq!(Workload::W2.yardstick().full_frame_ram_bytes, Some(212_000));
    /// ```
    pub const fn yardstick(self) -> Yardstick {
        let (instructions, ram, tflite) = match self {
            Workload::W1 => (Some(45_900_000), Some(154_000), Some(0.44e-3)),
            Workload::W2 => (Some(27_500_000), Some(212_000), None),
            Workload::W3 => (Some(16_700_000), Some(117_000), None),
            Workload::N3 => (None, None, Some(0.5e-3)),
            Workload::Wt => (None, None, None),
        };
        Yardstick {
            cmsis_nn_instructions: instructions,
            full_frame_ram_bytes: ram,
            tflite_host_seconds: tflite,
        }
    }

    /// Seed of the weight and input generator (fixed per workload).
    const fn seed(self) -> u64 {
        0x5CA7_11E0_0000_0000
            + match self {
                Workload::W1 => 1,
                Workload::W2 => 2,
                Workload::W3 => 3,
                Workload::N3 => 4,
                Workload::Wt => 5,
            }
    }

    /// Builds the owned model and its input. Deterministic: the same bytes on every
    /// call and every machine (integer generator; the float steps are IEEE
    /// arithmetic without library functions).
    pub fn build(self) -> OwnedModel {
        let mut rng = SplitMix64(self.seed());
        let input = synthetic_input(self.input_shape(), &mut rng);
        let mut owned = Vec::new();
        let mut act = input.clone();
        let mut quant = INPUT_QUANT;
        for &filters in self.filters() {
            let conv = calibrated_conv(&mut rng, &act, quant, filters);
            quant = conv.output;
            let pool = QuantLayer::MaxPool(MaxPool2d {
                window: Window::square(2, 2, Padding::Valid),
                quant,
                activation: Activation::None,
            });
            let conv = QuantLayer::Conv2d(conv);
            act = run_layer(&conv, &act);
            act = run_layer(&pool, &act);
            owned.push(conv);
            owned.push(pool);
        }
        let built = OwnedModel {
            workload: self,
            layers: owned,
            input,
        };
        // Validate once, so that `model()` cannot fail later.
        built.try_model().expect("a workload model is valid");
        built
    }
}

/// A workload's int8 layers (owning their weights) and its input tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedModel {
    workload: Workload,
    layers: Vec<QuantLayer>,
    input: Tensor<i8>,
}

impl OwnedModel {
    /// Which workload this is.
    pub fn workload(&self) -> Workload {
        self.workload
    }

    /// The owned layers, in order.
    pub fn layers(&self) -> &[QuantLayer] {
        &self.layers
    }

    /// The validated core model, borrowing this storage (double rounding, as
    /// TFLite's reference kernels).
    pub fn model(&self) -> Model<'_> {
        self.try_model()
            .expect("validated when the workload was built")
    }

    fn try_model(&self) -> scanline::Result<Model<'_>> {
        Model::new(
            self.workload.input_shape(),
            INPUT_QUANT,
            &layers(&self.layers),
            Rounding::Double,
        )
    }

    /// The deterministic input tensor (quantized with scale 1/255, zero point -128).
    pub fn input(&self) -> &Tensor<i8> {
        &self.input
    }

    /// Multiply-accumulates per frame (convolutions only).
    pub fn macs(&self) -> u64 {
        let model = self.model();
        model
            .layers()
            .iter()
            .enumerate()
            .map(|(i, l)| l.macs(model.shape(i).unwrap_or_default()))
            .sum()
    }
}

/// SplitMix64 (Steele, Lea and Flood): tiny, fixed-seed, the same everywhere.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[lo, hi)` with 24 random bits (exact in f32).
    fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        let u = (self.next_u64() >> 40) as f32 / (1u32 << 24) as f32;
        lo + (hi - lo) * u
    }

    /// Uniform integer in `[0, n)` (n small: the modulo bias is negligible).
    fn below(&mut self, n: u32) -> u32 {
        (self.next_u64() >> 32) as u32 % n
    }
}

/// A synthetic scene: a diagonal gradient, a checkerboard of brighter blocks
/// (different per channel) and uniform noise of ±12 levels, as 8-bit pixels
/// quantized like camera pixels.
fn synthetic_input(shape: Shape, rng: &mut SplitMix64) -> Tensor<i8> {
    let (h, w, c) = (shape.height, shape.width, shape.channels);
    let mut pixels = Vec::with_capacity(shape.len());
    for y in 0..h {
        for x in 0..w {
            for ch in 0..c {
                let gradient = (x * 160 / w + y * 80 / h) as i32;
                let block = if (x / 24 + y / 20 + ch) % 3 == 0 {
                    70
                } else {
                    0
                };
                let noise = rng.below(25) as i32 - 12;
                pixels.push((gradient + block + noise + 20).clamp(0, 255) as u8);
            }
        }
    }
    // Quantized like camera pixels (scanline::pixel's rule), whatever the channels.
    let table = Quantizer::new(INPUT_QUANT);
    let data = pixels.into_iter().map(|p| table.get(p)).collect();
    Tensor::new(shape, data).expect("one value per element")
}

/// A random 3x3 SAME convolution with fused ReLU from `input.shape.channels` to
/// `filters` channels, quantized for input quantization `quant`, its output range
/// calibrated on `input`.
fn calibrated_conv(
    rng: &mut SplitMix64,
    input: &Tensor<i8>,
    quant: Quant,
    filters: usize,
) -> QuantConv {
    let ci = input.shape.channels;
    let fan_in = 9 * ci;
    let he = (6.0 / fan_in as f64).sqrt() as f32;
    let mut weights = Vec::with_capacity(filters * fan_in);
    let mut bias = Vec::with_capacity(filters);
    for _ in 0..filters {
        // 2^u for u in [-1, 1): products of IEEE operations only, no powf.
        let gain = 0.5 * (1.0 + rng.uniform(0.0, 1.0)) * (1.0 + rng.uniform(0.0, 1.0));
        for _ in 0..fan_in {
            weights.push(gain * he * rng.uniform(-1.0, 1.0));
        }
        bias.push(rng.uniform(-0.05, 0.05));
    }
    let float = Conv2dF32 {
        in_channels: ci,
        out_channels: filters,
        window: Window::square(3, 1, Padding::Same),
        weights,
        layout: WeightLayout::Ohwi,
        bias: Some(bias),
        activation: Activation::Relu,
    };
    // A first output range that cannot saturate: every tap at the largest input.
    let max_in = quant.dequantize(127).max(-quant.dequantize(-128));
    let bound = float
        .weights
        .chunks_exact(fan_in)
        .zip(float.bias.iter().flatten())
        .map(|(w, b)| w.iter().map(|v| v.abs()).sum::<f32>() * max_in + b.abs())
        .fold(0.0f32, f32::max);
    let wide = choose_quant(0.0, bound).expect("a finite, positive bound");
    let mut conv = QuantConv::from_float(&float, quant, wide).expect("weights fit int8");
    // Calibrate: the largest output over the input, as a representative dataset.
    let out = run_layer(&QuantLayer::Conv2d(conv.clone()), input);
    let peak = out
        .data
        .iter()
        .copied()
        .max()
        .map_or(0.0, |q| wide.dequantize(q));
    if peak > 0.0 {
        conv.output = choose_quant(0.0, peak).expect("a finite, positive peak");
    } else {
        conv.output = wide;
    }
    conv
}

/// One layer over a whole tensor with the frame engine.
fn run_layer(layer: &QuantLayer, input: &Tensor<i8>) -> Tensor<i8> {
    let layer = layer.layer();
    let shape = layer.output_shape(input.shape).expect("a valid layer");
    let mut out = Tensor::filled(shape, 0i8);
    scanline::frame::run_layer(
        &layer,
        Rounding::Double,
        &input.data,
        input.shape,
        &mut out.data,
    )
    .expect("a valid layer");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Engine;

    #[test]
    fn shapes() {
        let outputs = [
            (Workload::W1, Shape::new(120, 160, 1)),
            (Workload::W2, Shape::new(60, 80, 8)),
            (Workload::W3, Shape::new(30, 40, 16)),
            (Workload::N3, Shape::new(30, 40, 32)),
        ];
        for (w, out) in outputs {
            let built = w.build();
            let model = built.model();
            assert_eq!(model.input_shape(), w.input_shape(), "{}", w.name());
            assert_eq!(built.input().shape, w.input_shape(), "{}", w.name());
            assert_eq!(model.output_shape(), out, "{}", w.name());
            assert_eq!(model.layers().len(), 2 * w.filters().len());
            let names: Vec<_> = model.layers().iter().map(|l| l.name()).collect();
            assert!(
                names.chunks(2).all(|p| p == ["conv", "maxpool"]),
                "{names:?}"
            );
        }
    }

    #[test]
    fn mac_counts() {
        assert_eq!(Workload::W1.build().macs(), 240 * 320 * 9);
        assert_eq!(Workload::W2.build().macs(), 120 * 160 * 8 * 27);
        assert_eq!(Workload::W3.build().macs(), 60 * 80 * 16 * 72);
        let n3 = 240 * 320 * 8 * 9 + 120 * 160 * 16 * 72 + 60 * 80 * 32 * 144;
        assert_eq!(Workload::N3.build().macs(), n3);
        assert_eq!(n3, 49_766_400);
    }

    #[test]
    fn n3_streams_in_17280_bytes() {
        let n3 = Workload::N3.build();
        assert_eq!(n3.model().stream_arena_len(), 17_280);
        // The first activation alone of a full-frame engine: 614 400 bytes.
        assert_eq!(n3.model().shape(1).unwrap().len(), 614_400);
    }

    #[test]
    fn frame_equals_stream() {
        for w in Workload::ALL {
            let built = w.build();
            let model = built.model();
            let frame = Engine::Frame.run(&model, built.input()).unwrap();
            let stream = Engine::Stream.run(&model, built.input()).unwrap();
            assert!(frame == stream, "{}: stream differs from frame", w.name());
            // Calibrated: the outputs are neither saturated nor constant.
            let mut distinct: Vec<i8> = frame.data.clone();
            distinct.sort_unstable();
            distinct.dedup();
            assert!(distinct.len() > 20, "{}: {distinct:?}", w.name());
        }
    }

    #[test]
    fn deterministic_with_per_channel_scales() {
        for w in Workload::ALL {
            assert_eq!(w.build(), w.build(), "{}", w.name());
        }
        let n3 = Workload::N3.build();
        for layer in n3.layers() {
            if let QuantLayer::Conv2d(c) = layer {
                assert_eq!(c.scales.len(), c.out_channels);
                let (lo, hi) = c
                    .scales
                    .iter()
                    .fold((f32::MAX, 0.0f32), |(lo, hi), &s| (lo.min(s), hi.max(s)));
                assert!(c.out_channels == 1 || hi > 1.2 * lo, "{lo} {hi}");
                assert_eq!(c.output.zero_point, -128, "ReLU output range [0, max]");
            }
        }
        // The input covers most of the 8-bit range.
        let input = &n3.input().data;
        let (lo, hi) = (input.iter().min().unwrap(), input.iter().max().unwrap());
        assert!(*lo < -100 && *hi > 100, "{lo} {hi}");
    }

    #[test]
    fn yardsticks_as_in_design() {
        let names: Vec<_> = Workload::ALL.iter().map(|w| w.name()).collect();
        assert_eq!(names, ["W1", "W2", "W3", "N3"]);
        let instructions: Vec<_> = Workload::ALL
            .iter()
            .map(|w| w.yardstick().cmsis_nn_instructions)
            .collect();
        assert_eq!(
            instructions,
            [Some(45_900_000), Some(27_500_000), Some(16_700_000), None]
        );
        assert_eq!(Workload::W1.yardstick().tflite_host_seconds, Some(0.44e-3));
        assert_eq!(Workload::W3.yardstick().full_frame_ram_bytes, Some(117_000));
        // W1's full-frame RAM is its input plus its convolution output.
        assert_eq!(2 * Workload::W1.input_shape().len(), 153_600);
    }
}
