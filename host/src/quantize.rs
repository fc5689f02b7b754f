//! Quantize: from float weights, biases and ranges to the core's integer
//! parameters, as the TensorFlow Lite converter computes them, plus owned int8
//! layers whose storage the core's borrowed [`Layer`]s point into.
//!
//! Sources (TensorFlow 2.x):
//! - weights: `SymmetricPerChannelQuantization` in the converter's
//!   `quantization_utils.cc`: per output channel `scale = max|w| / 127` (f32), and
//!   `q = round(w * (127 / max|w|))` — a multiplication by the f32 inverse, rounded
//!   half away from zero (`TfLiteRound`), clamped to `[-127, 127]`. That legacy
//!   path leaves scale 0 on an all-zero channel, which no int8 kernel can use; the
//!   MLIR quantizer (`fakeQuantAttrsToType`) sets scale 1.0 when the range is a
//!   point ("the tensor contents are all 0.0s, so the scale is set to 1.0"). We do
//!   the same: an all-zero channel gets scale 1.0 and weights 0.
//! - bias: `SymmetricPerChannelBiasQuantize` / `SymmetricBiasQuantize`:
//!   `scale = input_scale * weight_scale[c]` (f32 product),
//!   `q = round(b * (1 / scale))` with the inverse rounded to f32, clamped to
//!   `[-(2^31 - 1), 2^31 - 1]`.
//! - activations: `ChooseQuantizationParams` (`kernels/internal/quantization_util.h`)
//!   for int8 (`qmin = -128`, `qmax = 127`): the range is widened to include 0;
//!   `scale = (max - min) / 255` in f64, the zero point from whichever of
//!   `qmin - min / scale` and `qmax - max / scale` has the smaller error terms,
//!   rounded half away from zero and clamped to `[-128, 127]`; the scale is stored
//!   as f32. A point range `[0, 0]` gives scale 0 there; as the MLIR quantizer, we
//!   give it scale 1.0 and zero point -128 (every value dequantizes to 0).
//!
//! # Examples
//!
//! ```
//! use scanline::conv::WeightLayout;
//! use scanline::{Activation, Padding, Quant, Window};
//! use scanline_host::quantize::{QuantConv, choose_quant};
//! use scanline_host::reference::Conv2dF32;
//!
//! let float = Conv2dF32 {
//!     in_channels: 1,
//!     out_channels: 1,
//!     window: Window::square(3, 1, Padding::Same),
//!     weights: vec![-1.0, -1.0, -1.0, -1.0, 8.0, -1.0, -1.0, -1.0, -1.0],
//!     layout: WeightLayout::Hwio,
//!     bias: None,
//!     activation: Activation::Relu,
//! };
//! let input = Quant::new(1.0 / 255.0, -128);
//! let output = choose_quant(-8.0, 8.0).unwrap();
//! let conv = QuantConv::from_float(&float, input, output).unwrap();
//! assert_eq!(conv.weights[4], 127);
//! assert_eq!(conv.weights[0], -16); // round(-1 * 127 / 8) = round(-15.875)
//! let layer = conv.layer(); // borrows conv's storage
//! assert_eq!(layer.name(), "conv");
//! ```

use crate::reference::{Conv2dF32, DepthwiseF32};
use crate::{Error, Result, Tensor};
use scanline::conv::WeightLayout;
use scanline::quant::{round_f32, round_f64};
use scanline::{Activation, Conv2d, DepthwiseConv2d, Layer, Quant, Values, Window};

/// Where the output-channel index sits in a weight array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelAxis {
    /// Outermost: OHWI convolution filters.
    First,
    /// Innermost: HWIO convolution filters and depthwise `[kh, kw, C]` filters.
    Last,
}

impl ChannelAxis {
    /// The channel axis of convolution weights in `layout`.
    pub const fn of(layout: WeightLayout) -> Self {
        match layout {
            WeightLayout::Ohwi => ChannelAxis::First,
            WeightLayout::Hwio => ChannelAxis::Last,
        }
    }

    fn channel(self, i: usize, len: usize, channels: usize) -> usize {
        match self {
            ChannelAxis::First => i / (len / channels),
            ChannelAxis::Last => i % channels,
        }
    }
}

/// Symmetric int8 weights with their scales (zero point 0).
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizedWeights {
    /// Quantized values, in `[-127, 127]`, same layout as the float weights.
    pub values: Vec<i8>,
    /// One scale per channel (or one for the whole tensor).
    pub scales: Vec<f32>,
}

/// Per-channel symmetric int8 quantization of `weights` (`channels` output channels
/// along `axis`), as the TFLite converter does (see the [module docs](self)).
///
/// ```
/// use scanline_host::quantize::{ChannelAxis, quantize_weights};
/// // Two channels, innermost: [c0, c1, c0, c1].
/// let q = quantize_weights(&[0.5, 0.0, -1.0, 0.0], 2, ChannelAxis::Last).unwrap();
/// assert_eq!(q.values, vec![64, 0, -127, 0]);
/// assert_eq!(q.scales, vec![1.0 / 127.0, 1.0]); // the all-zero channel gets scale 1
/// ```
pub fn quantize_weights(
    weights: &[f32],
    channels: usize,
    axis: ChannelAxis,
) -> Result<QuantizedWeights> {
    if channels == 0 || weights.is_empty() || !weights.len().is_multiple_of(channels) {
        return Err(Error::Shape(format!(
            "weights: {} values cannot be split into {channels} channels",
            weights.len()
        )));
    }
    if let Some(w) = weights.iter().find(|w| !w.is_finite()) {
        return Err(Error::Invalid(format!("weights: {w} is not finite")));
    }
    let mut max_abs = vec![0.0f32; channels];
    for (i, &w) in weights.iter().enumerate() {
        let c = axis.channel(i, weights.len(), channels);
        max_abs[c] = max_abs[c].max(w.abs());
    }
    let scales: Vec<f32> = max_abs
        .iter()
        .map(|&m| if m == 0.0 { 1.0 } else { m / 127.0 })
        .collect();
    let inv: Vec<f32> = max_abs
        .iter()
        .map(|&m| if m == 0.0 { 0.0 } else { 127.0 / m })
        .collect();
    let values = weights
        .iter()
        .enumerate()
        .map(|(i, &w)| {
            let c = axis.channel(i, weights.len(), channels);
            round_f32(w * inv[c]).clamp(-127, 127) as i8
        })
        .collect();
    Ok(QuantizedWeights { values, scales })
}

/// Per-tensor symmetric int8 quantization: one scale for all of `weights`.
///
/// ```
/// use scanline_host::quantize::quantize_weights_per_tensor;
/// let q = quantize_weights_per_tensor(&[2.0, -1.0, 0.0]).unwrap();
/// assert_eq!((q.values, q.scales), (vec![127, -64, 0], vec![2.0 / 127.0]));
/// ```
pub fn quantize_weights_per_tensor(weights: &[f32]) -> Result<QuantizedWeights> {
    quantize_weights(weights, 1, ChannelAxis::First)
}

/// int32 biases with scale `input_scale * weight_scales[c]` (one weight scale, or
/// one per channel), as the TFLite converter rounds them (see the
/// [module docs](self)).
///
/// ```
/// use scanline_host::quantize::quantize_bias;
/// assert_eq!(quantize_bias(&[1.0, -0.3], 0.5, &[0.01]).unwrap(), vec![200, -60]);
/// ```
pub fn quantize_bias(bias: &[f32], input_scale: f32, weight_scales: &[f32]) -> Result<Vec<i32>> {
    let n = weight_scales.len();
    if n != 1 && n != bias.len() {
        return Err(Error::Shape(format!(
            "bias: {} values but {n} weight scales",
            bias.len()
        )));
    }
    bias.iter()
        .enumerate()
        .map(|(c, &b)| {
            let s = input_scale * weight_scales[if n == 1 { 0 } else { c }];
            if !(s.is_finite() && s > 0.0 && b.is_finite()) {
                return Err(Error::Invalid(format!(
                    "bias {c}: value {b} with scale {s} cannot be quantized"
                )));
            }
            let inv = (1.0 / s as f64) as f32;
            Ok(round_f64((b * inv) as f64).clamp(-(i32::MAX as i64), i32::MAX as i64) as i32)
        })
        .collect()
}

/// Activation quantization for real values in `[min, max]` (widened to include 0),
/// as TFLite's `ChooseQuantizationParams` for int8 (see the [module docs](self)).
///
/// ```
/// use scanline::Quant;
/// use scanline_host::quantize::choose_quant;
/// // Pixels in [0, 1]: TFLite's scale 1/255 and zero point -128.
/// assert_eq!(choose_quant(0.0, 1.0).unwrap(), Quant::new(1.0 / 255.0, -128));
/// // [-1, 1]: the zero point -0.5 rounds away from zero.
/// assert_eq!(choose_quant(-1.0, 1.0).unwrap().zero_point, -1);
/// assert_eq!(choose_quant(0.0, 0.0).unwrap(), Quant::new(1.0, -128));
/// ```
pub fn choose_quant(min: f32, max: f32) -> Result<Quant> {
    if !(min.is_finite() && max.is_finite()) || min > max {
        return Err(Error::Invalid(format!(
            "range [{min}, {max}] is not a finite interval"
        )));
    }
    let (qmin, qmax) = (-128.0f64, 127.0f64);
    let rmin = (min as f64).min(0.0);
    let rmax = (max as f64).max(0.0);
    if rmin == rmax {
        return Ok(Quant::new(1.0, -128));
    }
    let scale = (rmax - rmin) / (qmax - qmin);
    let from_min = qmin - rmin / scale;
    let from_max = qmax - rmax / scale;
    let err_min = qmin.abs() + (rmin / scale).abs();
    let err_max = qmax.abs() + (rmax / scale).abs();
    let zp = if err_min < err_max {
        from_min
    } else {
        from_max
    };
    let zp = if zp < qmin {
        -128
    } else if zp > qmax {
        127
    } else {
        round_f64(zp) as i32
    };
    let scale = scale as f32;
    if !(scale.is_finite() && scale > 0.0) {
        return Err(Error::Invalid(format!(
            "range [{min}, {max}] gives an unusable scale {scale}"
        )));
    }
    Ok(Quant::new(scale, zp))
}

/// Quantizes every value of `t` with `q` ([`Quant::quantize`]: round half away from
/// zero, saturate).
pub fn quantize_tensor(t: &Tensor<f32>, q: Quant) -> Tensor<i8> {
    t.map(|v| q.quantize(v))
}

/// The real values of an int8 tensor quantized with `q`.
///
/// ```
/// use scanline::{Quant, Shape};
/// use scanline_host::quantize::{dequantize_tensor, quantize_tensor};
/// use scanline_host::Tensor;
/// let q = Quant::new(0.5, 10);
/// let t = Tensor::new(Shape::new(1, 2, 1), vec![10i8, 13]).unwrap();
/// let real = dequantize_tensor(&t, q);
/// assert_eq!(real.data, vec![0.0, 1.5]);
/// assert_eq!(quantize_tensor(&real, q), t);
/// ```
pub fn dequantize_tensor(t: &Tensor<i8>, q: Quant) -> Tensor<f32> {
    t.map(|v| q.dequantize(v))
}

/// An owned int8 convolution: the storage a [`scanline::Conv2d`] borrows.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantConv {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Kernel size, stride, dilation and padding.
    pub window: Window,
    /// int8 weights in `layout`.
    pub weights: Vec<i8>,
    /// Memory layout of `weights`.
    pub layout: WeightLayout,
    /// Weight scales: one, or one per output channel.
    pub scales: Vec<f32>,
    /// Optional int32 bias per output channel.
    pub bias: Option<Vec<i32>>,
    /// Input quantization.
    pub input: Quant,
    /// Output quantization.
    pub output: Quant,
    /// Fused activation.
    pub activation: Activation,
}

impl QuantConv {
    /// Quantizes a float convolution as the converter would: per-channel weights,
    /// int32 bias, with the given input and output quantization.
    pub fn from_float(conv: &Conv2dF32, input: Quant, output: Quant) -> Result<Self> {
        let w = quantize_weights(
            &conv.weights,
            conv.out_channels,
            ChannelAxis::of(conv.layout),
        )?;
        let bias = match &conv.bias {
            Some(b) => Some(quantize_bias(b, input.scale, &w.scales)?),
            None => None,
        };
        Ok(Self {
            in_channels: conv.in_channels,
            out_channels: conv.out_channels,
            window: conv.window,
            weights: w.values,
            layout: conv.layout,
            scales: w.scales,
            bias,
            input,
            output,
            activation: conv.activation,
        })
    }

    /// The core layer, borrowing this storage.
    pub fn layer(&self) -> Layer<'_> {
        Layer::Conv2d(Conv2d {
            in_channels: self.in_channels,
            out_channels: self.out_channels,
            window: self.window,
            weights: &self.weights,
            layout: self.layout,
            bias: self.bias.as_deref().map(Values::Slice),
            weight_scales: Values::Slice(&self.scales),
            input: self.input,
            output: self.output,
            activation: self.activation,
        })
    }
}

/// An owned int8 depthwise convolution: the storage a [`scanline::DepthwiseConv2d`]
/// borrows.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantDepthwise {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels per input channel.
    pub depth_multiplier: usize,
    /// Kernel size, stride, dilation and padding.
    pub window: Window,
    /// int8 weights `[kh, kw, in * multiplier]`.
    pub weights: Vec<i8>,
    /// Weight scales: one, or one per output channel.
    pub scales: Vec<f32>,
    /// Optional int32 bias per output channel.
    pub bias: Option<Vec<i32>>,
    /// Input quantization.
    pub input: Quant,
    /// Output quantization.
    pub output: Quant,
    /// Fused activation.
    pub activation: Activation,
}

impl QuantDepthwise {
    /// Quantizes a float depthwise convolution as the converter would.
    ///
    /// ```
    /// use scanline::{Activation, Padding, Quant, Window};
    /// use scanline_host::quantize::QuantDepthwise;
    /// use scanline_host::reference::DepthwiseF32;
    /// let float = DepthwiseF32 {
    ///     in_channels: 1,
    ///     depth_multiplier: 2,
    ///     window: Window::square(1, 1, Padding::Valid),
    ///     weights: vec![0.5, -0.25],
    ///     bias: Some(vec![0.1, 0.0]),
    ///     activation: Activation::None,
    /// };
    /// let dw = QuantDepthwise::from_float(&float, Quant::new(0.01, 0), Quant::new(0.02, 0)).unwrap();
    /// assert_eq!(dw.weights, vec![127, -127]); // one scale per output channel
    /// assert_eq!(dw.scales, vec![0.5 / 127.0, 0.25 / 127.0]);
    /// assert_eq!(dw.bias, Some(vec![2540, 0])); // 0.1 / (0.01 * 0.5 / 127)
    /// ```
    pub fn from_float(dw: &DepthwiseF32, input: Quant, output: Quant) -> Result<Self> {
        let co = dw.in_channels * dw.depth_multiplier;
        let w = quantize_weights(&dw.weights, co, ChannelAxis::Last)?;
        let bias = match &dw.bias {
            Some(b) => Some(quantize_bias(b, input.scale, &w.scales)?),
            None => None,
        };
        Ok(Self {
            in_channels: dw.in_channels,
            depth_multiplier: dw.depth_multiplier,
            window: dw.window,
            weights: w.values,
            scales: w.scales,
            bias,
            input,
            output,
            activation: dw.activation,
        })
    }

    /// The core layer, borrowing this storage.
    pub fn layer(&self) -> Layer<'_> {
        Layer::Depthwise(DepthwiseConv2d {
            in_channels: self.in_channels,
            depth_multiplier: self.depth_multiplier,
            window: self.window,
            weights: &self.weights,
            bias: self.bias.as_deref().map(Values::Slice),
            weight_scales: Values::Slice(&self.scales),
            input: self.input,
            output: self.output,
            activation: self.activation,
        })
    }
}

/// An owned int8 layer of any kind.
#[derive(Debug, Clone, PartialEq)]
pub enum QuantLayer {
    /// Convolution.
    Conv2d(QuantConv),
    /// Depthwise convolution.
    Depthwise(QuantDepthwise),
    /// Max-pooling (owns nothing).
    MaxPool(scanline::MaxPool2d),
    /// Standalone ReLU / ReLU6 (owns nothing).
    Relu(scanline::Relu),
}

impl QuantLayer {
    /// The core layer, borrowing this storage.
    pub fn layer(&self) -> Layer<'_> {
        match self {
            QuantLayer::Conv2d(l) => l.layer(),
            QuantLayer::Depthwise(l) => l.layer(),
            QuantLayer::MaxPool(l) => Layer::MaxPool(*l),
            QuantLayer::Relu(l) => Layer::Relu(*l),
        }
    }
}

/// The core layers of a slice of owned layers, in order (for [`scanline::Model::new`]).
///
/// ```
/// use scanline::{Activation, MaxPool2d, Model, Padding, Quant, Rounding, Shape, Window};
/// use scanline_host::quantize::{QuantLayer, layers};
/// let q = Quant::new(0.1, 0);
/// let owned = vec![QuantLayer::MaxPool(MaxPool2d {
///     window: Window::square(2, 2, Padding::Valid),
///     quant: q,
///     activation: Activation::None,
/// })];
/// let borrowed = layers(&owned);
/// let model = Model::new(Shape::new(4, 4, 1), q, &borrowed, Rounding::Double).unwrap();
/// assert_eq!(model.output_shape(), Shape::new(2, 2, 1));
/// ```
pub fn layers(owned: &[QuantLayer]) -> Vec<Layer<'_>> {
    owned.iter().map(QuantLayer::layer).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use scanline::{Padding, Shape};

    proptest! {
        /// Per-channel weights: every value within half a step (plus f32 slack) of
        /// its real weight, in [-127, 127], and each channel's largest magnitude
        /// mapped to ±127.
        #[test]
        fn weights_within_half_a_step(
            w in prop::collection::vec(-10.0f32..10.0, 1..64),
            channels in 1usize..5,
            last in any::<bool>(),
        ) {
            let n = w.len() - w.len() % channels;
            prop_assume!(n > 0);
            let w = &w[..n];
            let axis = if last { ChannelAxis::Last } else { ChannelAxis::First };
            let q = quantize_weights(w, channels, axis).unwrap();
            prop_assert_eq!(q.scales.len(), channels);
            let mut peak = vec![0i32; channels];
            for (i, (&v, &qv)) in w.iter().zip(&q.values).enumerate() {
                let c = axis.channel(i, n, channels);
                let s = q.scales[c];
                prop_assert!((-127..=127).contains(&qv));
                prop_assert!((qv as f32 * s - v).abs() <= s * 0.5001, "{v} {qv} {s}");
                peak[c] = peak[c].max((qv as i32).abs());
            }
            for (c, &p) in peak.iter().enumerate() {
                prop_assert!(p == 127 || q.scales[c] == 1.0);
            }
        }

        /// Activation ranges: real 0 is exact, and the int8 range covers
        /// `[min, max]` up to the half step the zero-point nudge may cost.
        #[test]
        fn activation_range_covered(a in -100.0f32..100.0, b in -100.0f32..100.0) {
            let (min, max) = (a.min(b), a.max(b));
            let q = choose_quant(min, max).unwrap();
            prop_assert!((-128..=127).contains(&q.zero_point));
            prop_assert_eq!(q.dequantize(q.zero_point as i8), 0.0);
            let s = q.scale;
            prop_assert!(q.dequantize(-128) <= min.min(0.0) + s * 0.5001);
            prop_assert!(q.dequantize(127) >= max.max(0.0) - s * 0.5001);
        }
    }

    #[test]
    fn weights_round_half_away_and_clamp() {
        // max 127 → inverse 1: exact ties at ±0.5 round away from zero.
        let q = quantize_weights(&[127.0, 0.5, -0.5, 1.5, -2.5], 1, ChannelAxis::First).unwrap();
        assert_eq!(q.values, vec![127, 1, -1, 2, -3]);
        assert_eq!(q.scales, vec![1.0]);
        // OHWI: channel outermost.
        let q = quantize_weights(&[1.0, -2.0, 0.0, 0.0], 2, ChannelAxis::First).unwrap();
        assert_eq!(q.values, vec![64, -127, 0, 0]);
        assert_eq!(q.scales, vec![2.0 / 127.0, 1.0]);
        assert!(quantize_weights(&[1.0, 2.0, 3.0], 2, ChannelAxis::Last).is_err());
        assert!(quantize_weights(&[f32::NAN], 1, ChannelAxis::Last).is_err());
    }

    #[test]
    fn exactly_representable_weights_come_back() {
        let scale = 0.0123f32;
        let w: Vec<f32> = (-127..=127).map(|q| q as f32 * scale).collect();
        let q = quantize_weights_per_tensor(&w).unwrap();
        assert_eq!(q.scales, vec![(127.0 * scale) / 127.0]);
        for (i, &v) in q.values.iter().enumerate() {
            assert_eq!(v as i32, i as i32 - 127);
        }
    }

    #[test]
    fn bias_uses_the_scale_product() {
        assert_eq!(quantize_bias(&[0.0], 1.0, &[1.0]).unwrap(), vec![0]);
        assert_eq!(quantize_bias(&[2.5], 1.0, &[1.0]).unwrap(), vec![3]);
        assert_eq!(quantize_bias(&[-2.5], 1.0, &[1.0]).unwrap(), vec![-3]);
        assert_eq!(quantize_bias(&[1e30], 1.0, &[1.0]).unwrap(), vec![i32::MAX]);
        assert_eq!(
            quantize_bias(&[-1e30], 1.0, &[1.0]).unwrap(),
            vec![-i32::MAX]
        );
        assert!(quantize_bias(&[1.0, 2.0], 1.0, &[1.0, 2.0, 3.0]).is_err());
        assert!(quantize_bias(&[1.0], 0.0, &[1.0]).is_err());
    }

    #[test]
    fn activation_params_like_tflite() {
        // Range entirely positive: widened to [0, max].
        let q = choose_quant(2.0, 5.1).unwrap();
        assert_eq!(q, Quant::new(0.02, -128));
        // Entirely negative: widened to [min, 0], zero point at the top.
        let q = choose_quant(-5.1, -1.0).unwrap();
        assert_eq!(q, Quant::new(0.02, 127));
        // [-1, 3]: scale 4/255, zero point from min: -128 + 63.75 = -64.25 → -64.
        let q = choose_quant(-1.0, 3.0).unwrap();
        assert_eq!(q.zero_point, -64);
        assert_eq!(q.scale, (4.0f64 / 255.0) as f32);
        // Real 0 is exactly representable.
        assert_eq!(q.dequantize(q.zero_point as i8), 0.0);
        assert!(choose_quant(1.0, 0.0).is_err());
        assert!(choose_quant(f32::NAN, 1.0).is_err());
    }

    #[test]
    fn owned_layers_validate_in_the_core() {
        let float = Conv2dF32 {
            in_channels: 2,
            out_channels: 3,
            window: Window::square(3, 2, Padding::Same),
            weights: (0..54).map(|i| (i as f32 - 27.0) / 10.0).collect(),
            layout: WeightLayout::Ohwi,
            bias: Some(vec![0.1, -0.2, 0.3]),
            activation: Activation::Relu6,
        };
        let input = Quant::new(0.05, 3);
        let conv = QuantConv::from_float(&float, input, choose_quant(-6.0, 6.0).unwrap()).unwrap();
        assert_eq!(conv.scales.len(), 3);
        assert_eq!(
            conv.layer().output_shape(Shape::new(5, 5, 2)).unwrap(),
            Shape::new(3, 3, 3)
        );
        let dw = DepthwiseF32 {
            in_channels: 2,
            depth_multiplier: 2,
            window: Window::square(3, 1, Padding::Valid),
            weights: (0..36).map(|i| i as f32 / 36.0).collect(),
            bias: None,
            activation: Activation::None,
        };
        let dw = QuantDepthwise::from_float(&dw, input, Quant::new(0.1, 0)).unwrap();
        assert_eq!(dw.scales.len(), 4);
        // Channel 0 holds weights 0, 4, 8, ..., 32 (/36): max 32/36.
        assert_eq!(dw.scales[0], (32.0f32 / 36.0) / 127.0);
        let owned = vec![QuantLayer::Conv2d(conv), QuantLayer::Depthwise(dw)];
        assert_eq!(layers(&owned).len(), 2);
    }
}
