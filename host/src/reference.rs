//! Reference: the f32 reference of every core operation, with TensorFlow's float
//! semantics (`tf.nn.conv2d`, `tf.nn.depthwise_conv2d`, `tf.nn.max_pool2d`, `avg_pool2d`,
//! `relu`, `relu6`; mean, dense, softmax in [`crate::classifier`]), to bound the int8 error.
//!
//! Everything works on owned HWC [`Tensor<f32>`]s and returns a host
//! [`Error`] (never panics) when shapes or parameters do not fit.
//! Window geometry (output sizes, SAME/VALID padding, stride and dilation per axis)
//! comes from the core's [`Axis`] / [`Window`]: it is never re-derived here.
//!
//! # Arithmetic
//!
//! Convolutions accumulate in **f32, in the natural order**: the sum starts at 0
//! and adds `w * x` over kernel rows, then kernel columns, then input channels
//! (taps outside the image are skipped: zero padding); the bias is added after the
//! sum (`tf.nn.bias_add` after `tf.nn.conv2d`), then the activation is applied with
//! [`Activation::apply_f32`]. Max-pooling takes the maximum over the window clipped
//! to the image (padded cells never win, as with TensorFlow's `-inf` padding).
//!
//! # Error bound against the int8 engine
//!
//! For a single convolution or depthwise layer whose weights and inputs are exactly
//! what the int8 model represents (real weight `q * scale`, real input
//! `scale * (q - zero_point)`), the float output quantized with the output
//! quantization ([`scanline::Quant::quantize`]) differs from the int8 engine's
//! output by **at most 1 output LSB**, with either rounding mode:
//!
//! - the int8 engine computes the accumulator exactly, then requantizes: the
//!   multiplier carries a relative error below 2^-31; single rounding then errs
//!   by at most 0.5 LSB, double rounding by at most 0.75 LSB (the high multiply
//!   errs by half a unit before the final right shift, at most 0.25 LSB when that
//!   shift is at least one bit, and the shift rounds by 0.5; with no shift only
//!   the multiply's 0.5 remains);
//! - the float path rounds once at the end (0.5 LSB) after an f32 sum whose error
//!   is at most about `K * 2^-24 * Σ|w x|` for `K` taps (the f32 roundings of
//!   `q * scale` and of the bias are 2^-24 relative each, far smaller). For the
//!   layers tested (up to 7x7x8 = 392 taps, output scale from the output's range)
//!   `float_bound.rs` measures it against an f64 sum wherever the activation does
//!   not clamp: typically below 0.01 LSB, at most about 0.12 LSB over 60,000
//!   random layers (the worst cases are narrow ReLU6 / ReLU_N1_TO_1 output
//!   ranges, whose small LSB sits next to large sums); the test asserts < 0.5.
//!   Where the output clamps, the error is irrelevant (it can exceed an LSB there);
//! - so the two integers differ by less than 2 (0.75 + 0.5 + 0.5), that is by at
//!   most 1 — and 1 does happen, for about 0.05% of conv and 0.1% of depthwise
//!   outputs in that test. The activation clamps are monotone and the same on both
//!   sides (both derived from `round(v / scale)` in f32), so clamping keeps the
//!   bound.
//!
//! # Examples
//!
//! The classic edge detector over a flat image gives zero everywhere inside and a
//! response at the border (SAME padding reads zeros outside):
//!
//! ```
//! use scanline::{Activation, Padding, Shape, Window};
//! use scanline::WeightLayout;
//! use scanline_host::reference::{Conv2dF32, conv2d};
//! use scanline_host::Tensor;
//!
//! let conv = Conv2dF32 {
//!     in_channels: 1,
//!     out_channels: 1,
//!     window: Window::square(3, 1, Padding::Same),
//!     weights: vec![-1.0, -1.0, -1.0, -1.0, 8.0, -1.0, -1.0, -1.0, -1.0],
//!     layout: WeightLayout::Hwio,
//!     bias: None,
//!     activation: Activation::None,
//! };
//! let input = Tensor::filled(Shape::new(3, 3, 1), 1.0f32);
//! let out = conv2d(&input, &conv).unwrap();
//! assert_eq!(out.at(1, 1, 0), 0.0);
//! assert_eq!(out.at(0, 0, 0), 5.0); // 8 - 3 neighbours inside the image
//! ```

use crate::{Error, Result, Tensor};
use scanline::WeightLayout;
use scanline::filter::Filter;
use scanline::{Activation, Axis, Layer, Quant, Requantization, Shape, Window};

/// A float 2-D convolution (`tf.nn.conv2d` + `tf.nn.bias_add` + activation).
#[derive(Debug, Clone, PartialEq)]
pub struct Conv2dF32 {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels (filters).
    pub out_channels: usize,
    /// Kernel size, stride, dilation and padding.
    pub window: Window,
    /// `out * kh * kw * in` weights, laid out as `layout` says.
    pub weights: Vec<f32>,
    /// Memory layout of `weights` (OHWI as TFLite stores it, HWIO as `tf.nn.conv2d`).
    pub layout: WeightLayout,
    /// Optional bias, one per output channel.
    pub bias: Option<Vec<f32>>,
    /// Fused activation.
    pub activation: Activation,
}

/// A float depthwise convolution (`tf.nn.depthwise_conv2d` + bias + activation).
///
/// Weights are `[kh, kw, in_channels * depth_multiplier]`: output channel
/// `oc = ic * depth_multiplier + m` reads input channel `ic` only.
#[derive(Debug, Clone, PartialEq)]
pub struct DepthwiseF32 {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels per input channel.
    pub depth_multiplier: usize,
    /// Kernel size, stride, dilation and padding.
    pub window: Window,
    /// `kh * kw * in * multiplier` weights.
    pub weights: Vec<f32>,
    /// Optional bias, one per output channel.
    pub bias: Option<Vec<f32>>,
    /// Fused activation.
    pub activation: Activation,
}

/// A float max-pooling (`tf.nn.max_pool2d`) followed by an activation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaxPoolF32 {
    /// Window, stride and padding (dilation must be 1).
    pub window: Window,
    /// Fused activation.
    pub activation: Activation,
}

/// One layer of a float chain.
#[derive(Debug, Clone, PartialEq)]
pub enum FloatLayer {
    /// Convolution.
    Conv2d(Conv2dF32),
    /// Depthwise convolution.
    Depthwise(DepthwiseF32),
    /// Max-pooling.
    MaxPool(MaxPoolF32),
    /// Standalone activation ([`Activation::Relu`] or [`Activation::Relu6`]).
    Activation(Activation),
    /// Average pooling (the same parameters as max-pooling).
    AvgPool(MaxPoolF32),
    /// Mean over height and width.
    Mean,
    /// Dense layer over the whole input.
    Dense(crate::classifier::DenseF32),
    /// Softmax over the channels, with its `beta`.
    Softmax(f32),
}

impl FloatLayer {
    /// The float counterpart of an int8 core layer: weights dequantized
    /// (`q * scale[c]`, computed in f32), bias dequantized
    /// (`b * (input_scale * scale[c])`, the scale product in f32), same window and
    /// activation. Quantization of activations has no float counterpart and is
    /// dropped.
    ///
    /// ```
    /// use scanline::{Activation, Layer, Quant, Relu};
    /// use scanline_host::reference::FloatLayer;
    /// let q = Quant::new(0.5, 0);
    /// let relu = Layer::Relu(Relu { activation: Activation::Relu6, input: q, output: q });
    /// assert_eq!(FloatLayer::from_layer(&relu).unwrap(), FloatLayer::Activation(Activation::Relu6));
    /// ```
    pub fn from_layer(layer: &Layer<'_>) -> Result<Self> {
        // Weight scale of channel c: as stored, or the one fixed-point parameters
        // express (see `Requantization::weight_scale`).
        let scale = |requant: Requantization<'_>, input: Quant, output: Quant, c: usize| {
            requant
                .weight_scale(c, input, output)
                .ok_or_else(|| Error::Invalid(format!("requantization: none for channel {c}")))
        };
        let dequantize = |weights: &[i8],
                          filter: Filter,
                          layout: WeightLayout,
                          requant: Requantization<'_>,
                          input: Quant,
                          output: Quant|
         -> Result<Vec<f32>> {
            if weights.len() != filter.len() {
                return Err(Error::Shape(format!(
                    "weights: {} values, {} needed",
                    weights.len(),
                    filter.len()
                )));
            }
            weights
                .iter()
                .enumerate()
                .map(|(i, &q)| {
                    Ok(q as f32 * scale(requant, input, output, filter.channel_of(layout, i))?)
                })
                .collect()
        };
        let bias = |b: Option<scanline::Values<'_, i32>>,
                    requant: Requantization<'_>,
                    input: Quant,
                    output: Quant,
                    n: usize|
         -> Result<Option<Vec<f32>>> {
            let Some(b) = b else { return Ok(None) };
            if b.len() != n {
                return Err(Error::Shape(format!(
                    "bias: {} values for {n} output channels",
                    b.len()
                )));
            }
            (0..n)
                .map(|c| {
                    Ok(b.get(c).unwrap_or(0) as f32
                        * (input.scale * scale(requant, input, output, c)?))
                })
                .collect::<Result<Vec<f32>>>()
                .map(Some)
        };
        Ok(match layer {
            Layer::Conv2d(l) => FloatLayer::Conv2d(Conv2dF32 {
                in_channels: l.in_channels,
                out_channels: l.out_channels,
                window: l.window,
                weights: dequantize(
                    l.weights,
                    l.filter(),
                    l.layout,
                    l.requant,
                    l.input,
                    l.output,
                )?,
                layout: l.layout,
                bias: bias(l.bias, l.requant, l.input, l.output, l.out_channels)?,
                activation: l.activation,
            }),
            Layer::Depthwise(l) => FloatLayer::Depthwise(DepthwiseF32 {
                in_channels: l.in_channels,
                depth_multiplier: l.depth_multiplier,
                window: l.window,
                weights: dequantize(
                    l.weights,
                    l.filter(),
                    l.layout(),
                    l.requant,
                    l.input,
                    l.output,
                )?,
                bias: bias(l.bias, l.requant, l.input, l.output, l.out_channels())?,
                activation: l.activation,
            }),
            Layer::MaxPool(l) => FloatLayer::MaxPool(MaxPoolF32 {
                window: l.window,
                activation: l.activation,
            }),
            Layer::Relu(l) => FloatLayer::Activation(l.activation),
            Layer::AvgPool(l) => FloatLayer::AvgPool(MaxPoolF32 {
                window: l.window,
                activation: l.activation,
            }),
            Layer::Mean(_) => FloatLayer::Mean,
            Layer::Dense(l) => FloatLayer::Dense(crate::classifier::DenseF32::of(l)?),
            Layer::Softmax(l) => FloatLayer::Softmax(l.beta),
        })
    }

    /// Runs this layer on `input`.
    pub fn run(&self, input: &Tensor<f32>) -> Result<Tensor<f32>> {
        match self {
            FloatLayer::Conv2d(l) => conv2d(input, l),
            FloatLayer::Depthwise(l) => depthwise_conv2d(input, l),
            FloatLayer::MaxPool(l) => max_pool2d(input, l),
            FloatLayer::Activation(a) => activation(input, *a),
            FloatLayer::AvgPool(l) => pool2d(input, l, true),
            FloatLayer::Mean => crate::classifier::mean(input),
            FloatLayer::Dense(l) => crate::classifier::dense(input, l),
            FloatLayer::Softmax(beta) => crate::classifier::softmax(input, *beta),
        }
    }
}

/// Runs a chain of float layers, each on the output of the one before.
///
/// ```
/// use scanline::{Activation, Padding, Shape, Window};
/// use scanline_host::reference::{FloatLayer, MaxPoolF32, run_float};
/// use scanline_host::Tensor;
/// let input = Tensor::new(Shape::new(2, 2, 1), vec![-1.0f32, -2.0, -3.0, -4.0]).unwrap();
/// let layers = [
///     FloatLayer::MaxPool(MaxPoolF32 { window: Window::square(2, 2, Padding::Valid), activation: Activation::None }),
///     FloatLayer::Activation(Activation::Relu),
/// ];
/// let out = run_float(&input, &layers).unwrap();
/// assert_eq!(out.data, vec![0.0]);
/// ```
pub fn run_float(input: &Tensor<f32>, layers: &[FloatLayer]) -> Result<Tensor<f32>> {
    let mut cur = input.clone();
    for (i, layer) in layers.iter().enumerate() {
        cur = layer.run(&cur).map_err(|e| match e {
            Error::Shape(m) => Error::Shape(format!("layer {i}: {m}")),
            Error::Invalid(m) => Error::Invalid(format!("layer {i}: {m}")),
            other => other,
        })?;
    }
    Ok(cur)
}

/// Checks the tensor's data length against its shape.
fn check_tensor(input: &Tensor<f32>) -> Result<()> {
    if input.data.len() != input.shape.len() {
        return Err(Error::Shape(format!(
            "tensor of shape {} holds {} values",
            input.shape,
            input.data.len()
        )));
    }
    Ok(())
}

/// Validates `window` for `input` with the core's rules ([`Window::validate`],
/// [`Window::checked_output`]: any kernel size, strides and dilations in
/// `1..=255`) and returns the output shape with `channels`; `what` names the
/// operation in the error.
fn output_shape(window: &Window, input: Shape, channels: usize, what: &str) -> Result<Shape> {
    window
        .validate(usize::MAX)
        .map_err(|e| Error::Invalid(format!("{what}: {e}")))?;
    window
        .checked_output(input, channels)
        .map_err(|e| Error::Shape(format!("{what}: {e}")))
}

/// Input index read by tap `k` of output `o` along `axis`, or `None` in the padding.
#[inline]
fn tap(axis: &Axis, o: usize, pad_before: usize, k: usize, len: usize) -> Option<usize> {
    let i = axis.first_tap(o, pad_before) + (k * axis.dilation) as isize;
    (i >= 0 && (i as usize) < len).then_some(i as usize)
}

fn check_bias(bias: &Option<Vec<f32>>, n: usize, what: &str) -> Result<()> {
    if let Some(b) = bias
        && b.len() != n
    {
        return Err(Error::Shape(format!(
            "{what}: {} bias values for {n} output channels",
            b.len()
        )));
    }
    Ok(())
}

/// `tf.nn.conv2d` (HWC input, weights in `conv.layout`), then the bias and the
/// fused activation. See the [module docs](self) for the accumulation order.
pub fn conv2d(input: &Tensor<f32>, conv: &Conv2dF32) -> Result<Tensor<f32>> {
    check_tensor(input)?;
    let (ci, co) = (conv.in_channels, conv.out_channels);
    if ci == 0 || co == 0 {
        return Err(Error::Invalid(
            "conv: input and output channels must be at least 1".into(),
        ));
    }
    let s = input.shape;
    if s.channels != ci {
        return Err(Error::Shape(format!(
            "conv: input {s} has {} channels, the filter expects {ci}",
            s.channels
        )));
    }
    let win = &conv.window;
    let out_shape = output_shape(win, s, co, "conv")?;
    let (kh, kw) = (win.height.kernel, win.width.kernel);
    let needed = [kh, kw, ci].iter().try_fold(co, |n, &d| n.checked_mul(d));
    if needed != Some(conv.weights.len()) {
        return Err(Error::Shape(format!(
            "conv: {} weights, a {kh}x{kw} filter from {ci} to {co} channels needs {}",
            conv.weights.len(),
            needed.map_or("more than fit in memory".into(), |n| n.to_string())
        )));
    }
    check_bias(&conv.bias, co, "conv")?;
    let filter = Filter::new(co, kh, kw, ci);
    let widx = |oc, ky, kx, ic| filter.index(conv.layout, oc, ky, kx, ic);
    let (pt, pl) = (win.pad_top(s.height), win.pad_left(s.width));
    let mut out = Vec::with_capacity(out_shape.len());
    for oy in 0..out_shape.height {
        for ox in 0..out_shape.width {
            for oc in 0..co {
                let mut acc = 0.0f32;
                for ky in 0..kh {
                    let Some(iy) = tap(&win.height, oy, pt, ky, s.height) else {
                        continue;
                    };
                    for kx in 0..kw {
                        let Some(ix) = tap(&win.width, ox, pl, kx, s.width) else {
                            continue;
                        };
                        let px = (iy * s.width + ix) * ci;
                        for ic in 0..ci {
                            acc += conv.weights[widx(oc, ky, kx, ic)] * input.data[px + ic];
                        }
                    }
                }
                if let Some(b) = &conv.bias {
                    acc += b[oc];
                }
                out.push(conv.activation.apply_f32(acc));
            }
        }
    }
    Tensor::new(out_shape, out)
}

/// `tf.nn.depthwise_conv2d` with a depth multiplier, then the bias and the fused
/// activation. See the [module docs](self) for the accumulation order.
///
/// ```
/// use scanline::{Activation, Padding, Shape, Window};
/// use scanline_host::reference::{DepthwiseF32, depthwise_conv2d};
/// use scanline_host::Tensor;
/// // 1x1 kernel, two input channels, multiplier 2: channels [2a, 3a, 4b, 5b] + bias.
/// let dw = DepthwiseF32 {
///     in_channels: 2,
///     depth_multiplier: 2,
///     window: Window::square(1, 1, Padding::Valid),
///     weights: vec![2.0, 3.0, 4.0, 5.0],
///     bias: Some(vec![0.0, 0.0, 0.0, -100.0]),
///     activation: Activation::Relu,
/// };
/// let input = Tensor::new(Shape::new(1, 1, 2), vec![1.0f32, 10.0]).unwrap();
/// assert_eq!(depthwise_conv2d(&input, &dw).unwrap().data, vec![2.0, 3.0, 40.0, 0.0]);
/// ```
pub fn depthwise_conv2d(input: &Tensor<f32>, dw: &DepthwiseF32) -> Result<Tensor<f32>> {
    check_tensor(input)?;
    let (ci, dm) = (dw.in_channels, dw.depth_multiplier);
    let Some(co) = ci.checked_mul(dm).filter(|&co| co > 0) else {
        return Err(Error::Invalid(format!(
            "depthwise: input channels ({ci}) and depth multiplier ({dm}) must be at least 1 and not overflow"
        )));
    };
    let s = input.shape;
    if s.channels != ci {
        return Err(Error::Shape(format!(
            "depthwise: input {s} has {} channels, the filter expects {ci}",
            s.channels
        )));
    }
    let win = &dw.window;
    let out_shape = output_shape(win, s, co, "depthwise")?;
    let (kh, kw) = (win.height.kernel, win.width.kernel);
    let needed = kh.checked_mul(kw).and_then(|n| n.checked_mul(co));
    if needed != Some(dw.weights.len()) {
        return Err(Error::Shape(format!(
            "depthwise: {} weights, a {kh}x{kw} filter with {co} output channels needs {}",
            dw.weights.len(),
            needed.map_or("more than fit in memory".into(), |n| n.to_string())
        )));
    }
    check_bias(&dw.bias, co, "depthwise")?;
    let filter = Filter::depthwise(co, kh, kw);
    let (pt, pl) = (win.pad_top(s.height), win.pad_left(s.width));
    let mut out = Vec::with_capacity(out_shape.len());
    for oy in 0..out_shape.height {
        for ox in 0..out_shape.width {
            for oc in 0..co {
                let ic = oc / dm;
                let mut acc = 0.0f32;
                for ky in 0..kh {
                    let Some(iy) = tap(&win.height, oy, pt, ky, s.height) else {
                        continue;
                    };
                    for kx in 0..kw {
                        let Some(ix) = tap(&win.width, ox, pl, kx, s.width) else {
                            continue;
                        };
                        acc += dw.weights[filter.index(WeightLayout::Hwio, oc, ky, kx, 0)]
                            * input.data[(iy * s.width + ix) * ci + ic];
                    }
                }
                if let Some(b) = &dw.bias {
                    acc += b[oc];
                }
                out.push(dw.activation.apply_f32(acc));
            }
        }
    }
    Tensor::new(out_shape, out)
}

/// `tf.nn.max_pool2d` (padded cells ignored), then the activation.
///
/// ```
/// use scanline::{Activation, Padding, Shape, Window};
/// use scanline_host::reference::{MaxPoolF32, max_pool2d};
/// use scanline_host::Tensor;
/// let input = Tensor::new(Shape::new(1, 3, 1), vec![-5.0f32, -7.0, -1.0]).unwrap();
/// let pool = MaxPoolF32 { window: Window::square(2, 2, Padding::Same), activation: Activation::None };
/// // SAME: windows [-5, -7] and [-1, pad]; the pad never wins.
/// assert_eq!(max_pool2d(&input, &pool).unwrap().data, vec![-5.0, -1.0]);
/// ```
pub fn max_pool2d(input: &Tensor<f32>, pool: &MaxPoolF32) -> Result<Tensor<f32>> {
    pool2d(input, pool, false)
}

/// `tf.nn.max_pool2d`, or with `average` `tf.nn.avg_pool2d` (cells in the image), then the activation.
fn pool2d(input: &Tensor<f32>, pool: &MaxPoolF32, average: bool) -> Result<Tensor<f32>> {
    check_tensor(input)?;
    let what = if average { "average pool" } else { "max-pool" };
    let s = input.shape;
    if s.channels == 0 {
        return Err(Error::Shape(format!("{what}: the input has no channel")));
    }
    let win = &pool.window;
    if win.height.dilation != 1 || win.width.dilation != 1 {
        return Err(Error::Invalid(format!("{what}: dilation must be 1")));
    }
    let out_shape = output_shape(win, s, s.channels, what)?;
    let (pt, pl) = (win.pad_top(s.height), win.pad_left(s.width));
    let c = s.channels;
    let mut out = Vec::with_capacity(out_shape.len());
    for oy in 0..out_shape.height {
        for ox in 0..out_shape.width {
            for ch in 0..c {
                let (mut m, mut sum, mut n) = (f32::NEG_INFINITY, 0f32, 0f32);
                for ky in 0..win.height.kernel {
                    let Some(iy) = tap(&win.height, oy, pt, ky, s.height) else {
                        continue;
                    };
                    for kx in 0..win.width.kernel {
                        let Some(ix) = tap(&win.width, ox, pl, kx, s.width) else {
                            continue;
                        };
                        let v = input.data[(iy * s.width + ix) * c + ch];
                        m = m.max(v);
                        sum += v;
                        n += 1.0;
                    }
                }
                let v = if average { sum / n } else { m };
                out.push(pool.activation.apply_f32(v));
            }
        }
    }
    Tensor::new(out_shape, out)
}

/// A standalone activation (`tf.nn.relu`, `tf.nn.relu6`, or the others of
/// [`Activation`]) applied to every value.
///
/// ```
/// use scanline::{Activation, Shape};
/// use scanline_host::reference::activation;
/// use scanline_host::Tensor;
/// let t = Tensor::new(Shape::new(1, 3, 1), vec![-1.0f32, 3.0, 9.0]).unwrap();
/// assert_eq!(activation(&t, Activation::Relu6).unwrap().data, vec![0.0, 3.0, 6.0]);
/// ```
pub fn activation(input: &Tensor<f32>, activation: Activation) -> Result<Tensor<f32>> {
    check_tensor(input)?;
    Ok(input.map(|v| activation.apply_f32(v)))
}

/// `tf.nn.relu`.
///
/// ```
/// use scanline::Shape;
/// use scanline_host::{Tensor, reference::relu};
/// let t = Tensor::new(Shape::new(1, 2, 1), vec![-1.5f32, 2.5]).unwrap();
/// assert_eq!(relu(&t).unwrap().data, vec![0.0, 2.5]);
/// ```
pub fn relu(input: &Tensor<f32>) -> Result<Tensor<f32>> {
    activation(input, Activation::Relu)
}

/// `tf.nn.relu6`.
///
/// ```
/// use scanline::Shape;
/// use scanline_host::{Tensor, reference::relu6};
/// let t = Tensor::new(Shape::new(1, 2, 1), vec![-1.5f32, 7.5]).unwrap();
/// assert_eq!(relu6(&t).unwrap().data, vec![0.0, 6.0]);
/// ```
pub fn relu6(input: &Tensor<f32>) -> Result<Tensor<f32>> {
    activation(input, Activation::Relu6)
}

#[cfg(test)]
mod tests {
    use super::*;
    use scanline::Padding;

    fn conv(layout: WeightLayout, weights: Vec<f32>, window: Window) -> Conv2dF32 {
        Conv2dF32 {
            in_channels: 2,
            out_channels: 3,
            window,
            weights,
            layout,
            bias: Some(vec![0.5, -0.5, 0.0]),
            activation: Activation::None,
        }
    }

    #[test]
    fn ohwi_and_hwio_agree() {
        let (kh, kw, ci, co) = (2, 3, 2, 3);
        let ohwi: Vec<f32> = (0..co * kh * kw * ci)
            .map(|i| (i as f32) * 0.25 - 3.0)
            .collect();
        let mut hwio = vec![0.0; ohwi.len()];
        for oc in 0..co {
            for ky in 0..kh {
                for kx in 0..kw {
                    for ic in 0..ci {
                        hwio[((ky * kw + kx) * ci + ic) * co + oc] =
                            ohwi[((oc * kh + ky) * kw + kx) * ci + ic];
                    }
                }
            }
        }
        let window = Window {
            height: Axis::new(kh, 1, 2),
            width: Axis::new(kw, 2, 1),
            padding: Padding::Same,
        };
        let input = Tensor::new(
            Shape::new(5, 4, 2),
            (0..40).map(|i| (i % 7) as f32 - 3.0).collect(),
        )
        .unwrap();
        let a = conv2d(&input, &conv(WeightLayout::Ohwi, ohwi, window)).unwrap();
        let b = conv2d(&input, &conv(WeightLayout::Hwio, hwio, window)).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.shape, Shape::new(5, 2, 3));
    }

    #[test]
    fn errors_not_panics() {
        let window = Window::square(3, 1, Padding::Valid);
        let c = conv(WeightLayout::Ohwi, vec![0.0; 54], window);
        let small = Tensor::filled(Shape::new(2, 2, 2), 0.0f32);
        assert!(matches!(conv2d(&small, &c), Err(Error::Shape(_))));
        let wrong_ch = Tensor::filled(Shape::new(4, 4, 1), 0.0f32);
        assert!(matches!(conv2d(&wrong_ch, &c), Err(Error::Shape(_))));
        let c = conv(WeightLayout::Ohwi, vec![0.0; 53], window);
        let ok = Tensor::filled(Shape::new(4, 4, 2), 0.0f32);
        assert!(matches!(conv2d(&ok, &c), Err(Error::Shape(_))));
        let mut c = conv(
            WeightLayout::Ohwi,
            vec![0.0; 54],
            Window::square(3, 0, Padding::Same),
        );
        assert!(matches!(conv2d(&ok, &c), Err(Error::Invalid(_))));
        c.window = window;
        c.bias = Some(vec![1.0]);
        assert!(matches!(conv2d(&ok, &c), Err(Error::Shape(_))));
        let broken = Tensor {
            shape: Shape::new(4, 4, 2),
            data: vec![0.0; 3],
        };
        assert!(matches!(relu(&broken), Err(Error::Shape(_))));
        let pool = MaxPoolF32 {
            window: Window {
                height: Axis::new(2, 1, 2),
                width: Axis::new(2, 1, 1),
                padding: Padding::Same,
            },
            activation: Activation::None,
        };
        assert!(matches!(max_pool2d(&ok, &pool), Err(Error::Invalid(_))));
    }

    #[test]
    fn depthwise_multiplier_reads_its_channel() {
        // 1x1 kernel, 2 input channels, multiplier 2: out = [2a, 3a, 4b, 5b].
        let dw = DepthwiseF32 {
            in_channels: 2,
            depth_multiplier: 2,
            window: Window::square(1, 1, Padding::Valid),
            weights: vec![2.0, 3.0, 4.0, 5.0],
            bias: None,
            activation: Activation::None,
        };
        let input = Tensor::new(Shape::new(1, 1, 2), vec![1.0f32, 10.0]).unwrap();
        let out = depthwise_conv2d(&input, &dw).unwrap();
        assert_eq!(out.data, vec![2.0, 3.0, 40.0, 50.0]);
    }

    #[test]
    fn same_padding_odd_extra_at_the_end() {
        // 1x4 input, 1x2 kernel of ones, SAME stride 1: total padding 1, after.
        let c = Conv2dF32 {
            in_channels: 1,
            out_channels: 1,
            window: Window {
                height: Axis::new(1, 1, 1),
                width: Axis::new(2, 1, 1),
                padding: Padding::Same,
            },
            weights: vec![1.0, 1.0],
            layout: WeightLayout::Ohwi,
            bias: None,
            activation: Activation::None,
        };
        let input = Tensor::new(Shape::new(1, 4, 1), vec![1.0f32, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(conv2d(&input, &c).unwrap().data, vec![3.0, 5.0, 7.0, 4.0]);
    }
}
