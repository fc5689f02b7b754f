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
                .map(|t| {
                    self.weights
                        .get(t * co + c)
                        .map_or(0, |&w| i64::from(w).abs())
                })
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
    #[allow(
        clippy::indexing_slicing,
        reason = "measured hot kernel: indices bounded by the validated shapes; checked forms cost in the inner loops"
    )]
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
                let v = rq.mult.apply_offset(acc, rounding, self.output.zero_point);
                out[ox * co + oc] = clamp_i8(v, lo, hi);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Hand-worked rows, with scales of 1 so the requantization is the identity.

    use super::*;
    use crate::pattern::{assert_pattern, image, run};
    use crate::{Axis, Layer, Padding};

    const ONE: Quant = Quant::new(1.0, 0);

    /// A depthwise convolution with scale-1 quantization, no bias and no
    /// activation.
    fn depthwise(
        in_channels: usize,
        depth_multiplier: usize,
        window: Window,
        weights: &[i8],
    ) -> DepthwiseConv2d<'_> {
        DepthwiseConv2d {
            in_channels,
            depth_multiplier,
            window,
            weights,
            bias: None,
            requant: Requantization::WeightScales(Values::Slice(&[1.0])),
            input: ONE,
            output: ONE,
            activation: Activation::None,
        }
    }

    #[test]
    fn each_output_channel_reads_input_channel_oc_over_the_multiplier() {
        // Two input channels, depth multiplier 2: output channels 0 and 1 read
        // input channel 0, 2 and 3 read input channel 1. A 1x2 kernel, SAME: the
        // one padding column goes to the right, so out(y, x) = w0 * in(y, x) +
        // w1 * in(y, x+1), the second tap past the right edge for the last column.
        let input = image(&[
            &["1 2 3", "4 5 6"],       // channel 0
            &["10 20 30", "40 50 60"], // channel 1
        ]);
        // Per tap (kx = 0, then kx = 1), one weight per output channel:
        // oc0 (1, 0): a copy; oc1 (0, 1): shifted left; oc2 (1, -1): the
        // difference to the right neighbour; oc3 (0, 2): twice the right neighbour.
        let weights = [1, 0, 1, 0, 0, 1, -1, 2];
        let window = Window {
            height: Axis::new(1, 1, 1),
            width: Axis::new(2, 1, 1),
            padding: Padding::Same,
        };
        let dw = depthwise(2, 2, window, &weights);
        assert_pattern(
            &run(&Layer::Depthwise(dw), Rounding::Double, &input),
            &[
                &["1 2 3", "4 5 6"],
                &["2 3 0", "5 6 0"],
                &["-10 -10 30", "-10 -10 60"],
                &["40 60 0", "100 120 0"],
            ],
        );
    }

    #[test]
    fn dilation_down_stride_across_and_a_bias() {
        // in(y, x) = 10y + x. Taps [[1, 0], [0, 1]]: down with dilation 2 (rows y
        // and y+2), across with stride 2 (columns 2ox and 2ox+1); VALID: one row of
        // two outputs, in(0, 2ox) + in(2, 2ox+1) = 4ox + 21, plus the bias -20.
        let input = image(&[&[
            " 0  1  2  3  4", //
            "10 11 12 13 14",
            "20 21 22 23 24",
        ]]);
        let window = Window {
            height: Axis::new(2, 1, 2),
            width: Axis::new(2, 2, 1),
            padding: Padding::Valid,
        };
        let dw = DepthwiseConv2d {
            bias: Some(Values::Slice(&[-20])),
            ..depthwise(1, 1, window, &[1, 0, 0, 1])
        };
        assert_pattern(
            &run(&Layer::Depthwise(dw), Rounding::Double, &input),
            &[&["1 5"]], // 0 + 21 - 20, 2 + 23 - 20
        );
    }

    #[test]
    fn per_channel_multipliers_and_relu() {
        // One input channel, multiplier 2, a 1x1 kernel of ones: channel 0 with
        // real multiplier 1, channel 1 with 2 (M = 2^30, shift 2); fused ReLU at
        // output zero point 0 clamps the negatives to 0.
        let input = image(&[&["-3 -1 0 1 3 60"]]);
        let dw = DepthwiseConv2d {
            requant: Requantization::Fixed {
                multipliers: Values::Slice(&[1 << 30, 1 << 30]),
                shifts: Values::Slice(&[1, 2]),
            },
            activation: Activation::Relu,
            ..depthwise(1, 2, Window::square(1, 1, Padding::Valid), &[1, 1])
        };
        assert_pattern(
            &run(&Layer::Depthwise(dw), Rounding::Double, &input),
            &[&["0 0 0 1 3 60"], &["0 0 0 2 6 120"]],
        );
    }
}
