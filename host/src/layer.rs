//! Layer: owned int8 layers — the `Vec` storage that the core's borrowed
//! [`Layer`]s point into — made from float layers with the TFLite converter's
//! rules ([`scanline::converter`]).
//!
//! # Examples
//!
//! ```
//! use scanline::converter::choose_quant;
//! use scanline::{Activation, Padding, Quant, WeightLayout, Window};
//! use scanline_host::layer::QuantConv;
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
use crate::{Error, Result};
use scanline::converter::{quantize_bias, quantize_weights};
use scanline::filter::Filter;
use scanline::{
    Activation, Conv2d, DepthwiseConv2d, Layer, Quant, Requantization, Values, WeightLayout, Window,
};

/// Per-channel int8 weights and their scales, as the converter makes them.
fn converted(weights: &[f32], filter: Filter, layout: WeightLayout) -> Result<(Vec<i8>, Vec<f32>)> {
    let mut q = vec![0i8; weights.len()];
    let mut scales = vec![0f32; filter.out_channels];
    quantize_weights(weights, filter, layout, &mut q, &mut scales)?;
    Ok((q, scales))
}

/// int32 biases for `scales`, as the converter makes them.
fn converted_bias(
    bias: &Option<Vec<f32>>,
    input: Quant,
    scales: &[f32],
) -> Result<Option<Vec<i32>>> {
    let Some(b) = bias else { return Ok(None) };
    let mut q = vec![0i32; b.len()];
    quantize_bias(b, input.scale, scales, &mut q)?;
    Ok(Some(q))
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
        let w = &conv.window;
        let filter = Filter::new(
            conv.out_channels,
            w.height.kernel,
            w.width.kernel,
            conv.in_channels,
        );
        if conv.weights.len() != filter.len() || filter.is_empty() {
            return Err(Error::Shape(format!(
                "conv weights: {} values, a {}x{} filter from {} to {} channels needs {}",
                conv.weights.len(),
                filter.height,
                filter.width,
                filter.in_channels,
                filter.out_channels,
                filter.len()
            )));
        }
        let (weights, scales) = converted(&conv.weights, filter, conv.layout)?;
        Ok(Self {
            in_channels: conv.in_channels,
            out_channels: conv.out_channels,
            window: conv.window,
            bias: converted_bias(&conv.bias, input, &scales)?,
            weights,
            layout: conv.layout,
            scales,
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
            requant: Requantization::WeightScales(Values::Slice(&self.scales)),
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
    /// use scanline_host::layer::QuantDepthwise;
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
        let w = &dw.window;
        let co = dw.in_channels.saturating_mul(dw.depth_multiplier);
        let filter = Filter::depthwise(co, w.height.kernel, w.width.kernel);
        if dw.weights.len() != filter.len() || filter.is_empty() {
            return Err(Error::Shape(format!(
                "depthwise weights: {} values, {} needed",
                dw.weights.len(),
                filter.len()
            )));
        }
        let (weights, scales) = converted(&dw.weights, filter, WeightLayout::Hwio)?;
        Ok(Self {
            in_channels: dw.in_channels,
            depth_multiplier: dw.depth_multiplier,
            window: dw.window,
            bias: converted_bias(&dw.bias, input, &scales)?,
            weights,
            scales,
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
            requant: Requantization::WeightScales(Values::Slice(&self.scales)),
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
/// use scanline_host::layer::{QuantLayer, layers};
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
    use scanline::converter::choose_quant;
    use scanline::{Padding, Shape};

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
        // Channel 1 holds weights 18..36: max |(35 - 27) / 10| = 0.9... and
        // |(18 - 27) / 10| = 0.9: scale 0.9 / 127.
        assert_eq!(conv.scales[1], 0.9f32 / 127.0);
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

    #[test]
    fn wrong_weight_counts_are_shape_errors() {
        let float = Conv2dF32 {
            in_channels: 2,
            out_channels: 3,
            window: Window::square(3, 1, Padding::Same),
            weights: vec![0.5; 53],
            layout: WeightLayout::Ohwi,
            bias: None,
            activation: Activation::None,
        };
        let q = Quant::new(0.1, 0);
        let e = QuantConv::from_float(&float, q, q).unwrap_err();
        assert!(
            e.to_string().contains("53 values") && e.to_string().contains("54"),
            "{e}"
        );
    }
}
