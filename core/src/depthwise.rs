//! Depthwise: depthwise 2-D convolution (`DEPTHWISE_CONV_2D`) with a depth
//! multiplier, as a row kernel.

use crate::exec::Exec;
use crate::filter::{Filter, WeightLayout};
use crate::geometry::MAX_KERNEL;
use crate::quant::clamp_i8;
use crate::requant::{ChannelRequant, Channels};
use crate::{
    Activation, Error, Param, Quant, Requantization, Result, Rounding, Rows, Shape, Values, Window,
};

/// A depthwise convolution: output channel `oc = ic * depth_multiplier + m` reads
/// input channel `ic = oc / depth_multiplier` only.
///
/// Weights are `[1, kh, kw, in_channels * depth_multiplier]` (TFLite), which is the
/// same memory order as `tf.nn.depthwise_conv2d`'s `[kh, kw, in, multiplier]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DepthwiseConv2d<'a> {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels per input channel.
    pub depth_multiplier: usize,
    /// Kernel size, stride, dilation and padding.
    pub window: Window,
    /// int8 weights, `kh * kw * in * multiplier` of them.
    pub weights: &'a [i8],
    /// Optional int32 bias per output channel.
    pub bias: Option<Values<'a, i32>>,
    /// Requantization: weight scales, or fixed-point multipliers and shifts; one
    /// (per tensor) or one per output channel.
    pub requant: Requantization<'a>,
    /// Input quantization.
    pub input: Quant,
    /// Output quantization.
    pub output: Quant,
    /// Fused activation.
    pub activation: Activation,
}

impl DepthwiseConv2d<'_> {
    /// The parameters shared with convolution.
    fn channels(&self) -> Channels<'_> {
        Channels {
            out_channels: self.out_channels(),
            bias: self.bias,
            requant: self.requant,
            input: self.input,
            output: self.output,
        }
    }

    /// Bias and multiplier of output channel `c`.
    pub fn channel_requant(&self, c: usize, rounding: Rounding) -> ChannelRequant {
        self.channels().channel(c, rounding)
    }

    /// The filter's dimensions: `[1, kh, kw, out_channels]`, HWIO with one input
    /// channel ([`WeightLayout::Hwio`]).
    pub fn filter(&self) -> Filter {
        let w = &self.window;
        Filter::depthwise(self.out_channels(), w.height.kernel, w.width.kernel)
    }

    /// The layout of `weights`: always [`WeightLayout::Hwio`] (see [`Self::filter`]).
    pub const fn layout(&self) -> WeightLayout {
        WeightLayout::Hwio
    }

    /// Output channels: `in_channels * depth_multiplier` (saturating, so absurd
    /// values give a validation error rather than an overflow).
    pub const fn out_channels(&self) -> usize {
        self.in_channels.saturating_mul(self.depth_multiplier)
    }

    /// Validates the layer for `input` and returns its output shape.
    pub fn output_shape(&self, input: Shape) -> Result<Shape> {
        self.window.validate(MAX_KERNEL)?;
        if self.in_channels == 0 {
            return Err(Error::invalid(Param::InChannels, "must be at least 1"));
        }
        if self.depth_multiplier == 0 || self.depth_multiplier > 1024 {
            return Err(Error::invalid(
                Param::DepthMultiplier,
                "must be in 1..=1024",
            ));
        }
        if input.channels != self.in_channels {
            let expected = Shape::new(input.height, input.width, self.in_channels);
            return Err(Error::Shape {
                layer: None,
                expected,
                found: input,
            });
        }
        let co = self.out_channels();
        let taps = self.window.height.kernel * self.window.width.kernel;
        let n = taps.saturating_mul(co);
        if self.weights.len() != n {
            return Err(Error::length(Param::Weights, n, self.weights.len()));
        }
        self.channels().validate(|c| {
            (0..taps)
                .map(|t| (self.weights[t * co + c] as i64).abs())
                .sum()
        })?;
        self.window.checked_output(input, co)
    }

    /// Computes output row `oy` into `out`; see [`crate::Conv2d::compute_row`].
    pub fn compute_row<R: Rows + ?Sized>(
        &self,
        rows: &R,
        input: Shape,
        oy: usize,
        out: &mut [i8],
        exec: Exec,
    ) {
        #[cfg(target_arch = "x86_64")]
        if let Some(avx2) = crate::avx2::Avx2::of(exec.kernels) {
            return avx2.depthwise(self, rows, input, oy, out, exec.rounding);
        }
        self.row(rows, input, oy, out, exec.rounding);
    }

    /// [`DepthwiseConv2d::compute_row`] with the portable kernels.
    #[inline(always)]
    pub(crate) fn row<R: Rows + ?Sized>(
        &self,
        rows: &R,
        input: Shape,
        oy: usize,
        out: &mut [i8],
        rounding: Rounding,
    ) {
        let win = &self.window;
        let kw = win.width.kernel;
        let dx = win.width.dilation as isize;
        let ci = self.in_channels;
        let dm = self.depth_multiplier;
        let co = self.out_channels();
        let out_w = win.width.output(input.width, win.padding);
        let pad_left = win.pad_left(input.width);
        let (taps, ky_lo, ky_hi) = crate::rows::gather(rows, win, input.height, oy);
        let (lo, hi) = self.activation.bounds(self.output);
        let zp = self.input.zero_point;
        for oc in 0..co {
            let ic = oc / dm;
            let rq = self.channel_requant(oc, rounding);
            for ox in 0..out_w {
                let x0 = win.width.first_tap(ox, pad_left);
                let (kx_lo, kx_hi) = win.width.tap_range(x0, input.width);
                let mut acc = rq.bias;
                for (ky, row) in taps.iter().enumerate().take(ky_hi).skip(ky_lo) {
                    for kx in kx_lo..kx_hi {
                        let ix = (x0 + kx as isize * dx) as usize;
                        let w = self.weights[(ky * kw + kx) * co + oc] as i32;
                        acc += w * (row[ix * ci + ic] as i32 - zp);
                    }
                }
                let v = rq.mult.apply(acc, rounding) + self.output.zero_point;
                out[ox * co + oc] = clamp_i8(v, lo, hi);
            }
        }
    }
}
