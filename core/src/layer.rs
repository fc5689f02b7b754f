//! Layer: one operation of a model (convolution, depthwise convolution, max- or
//! average pooling, standalone ReLU, softmax, and the reductions mean and dense),
//! dispatching to its row kernel.

use crate::exec::Exec;
use crate::{
    AvgPool2d, Axis, Conv2d, Dense, DepthwiseConv2d, MaxPool2d, Mean, Padding, Quant, Relu, Result,
    Rows, Shape, Softmax,
};

/// One layer of a [`crate::Model`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Layer<'a> {
    /// `CONV_2D`.
    Conv2d(Conv2d<'a>),
    /// `DEPTHWISE_CONV_2D`.
    Depthwise(DepthwiseConv2d<'a>),
    /// `MAX_POOL_2D`.
    MaxPool(MaxPool2d),
    /// Standalone `RELU` / `RELU6`.
    Relu(Relu),
    /// `AVERAGE_POOL_2D`.
    AvgPool(AvgPool2d),
    /// `MEAN` over height and width (a reduction: output `1x1xC`).
    Mean(Mean),
    /// `FULLY_CONNECTED` over the whole input (a reduction: output `1x1xN`).
    Dense(Dense<'a>),
    /// `SOFTMAX` over the channels.
    Softmax(Softmax),
}

impl Layer<'_> {
    /// A short operator name (`conv`, `depthwise`, `maxpool`, `relu`, `relu6`,
    /// `avgpool`, `mean`, `dense`, `softmax`).
    pub fn name(&self) -> &'static str {
        match self {
            Layer::Conv2d(_) => "conv",
            Layer::Depthwise(_) => "depthwise",
            Layer::MaxPool(_) => "maxpool",
            Layer::Relu(r) if r.activation == crate::Activation::Relu6 => "relu6",
            Layer::Relu(_) => "relu",
            Layer::AvgPool(_) => "avgpool",
            Layer::Mean(_) => "mean",
            Layer::Dense(_) => "dense",
            Layer::Softmax(_) => "softmax",
        }
    }

    /// Validates the layer for `input` and returns its output shape.
    pub fn output_shape(&self, input: Shape) -> Result<Shape> {
        match self {
            Layer::Conv2d(l) => l.output_shape(input),
            Layer::Depthwise(l) => l.output_shape(input),
            Layer::MaxPool(l) => l.output_shape(input),
            Layer::Relu(l) => l.output_shape(input),
            Layer::AvgPool(l) => l.output_shape(input),
            Layer::Mean(l) => l.output_shape(input),
            Layer::Dense(l) => l.output_shape(input),
            Layer::Softmax(l) => l.output_shape(input),
        }
    }

    /// Quantization of the layer's input.
    pub fn input_quant(&self) -> Quant {
        match self {
            Layer::Conv2d(l) => l.input,
            Layer::Depthwise(l) => l.input,
            Layer::MaxPool(l) => l.quant,
            Layer::Relu(l) => l.input,
            Layer::AvgPool(l) => l.quant,
            Layer::Mean(l) => l.input,
            Layer::Dense(l) => l.input,
            Layer::Softmax(l) => l.input,
        }
    }

    /// Quantization of the layer's output.
    pub fn output_quant(&self) -> Quant {
        match self {
            Layer::Conv2d(l) => l.output,
            Layer::Depthwise(l) => l.output,
            Layer::MaxPool(l) => l.quant,
            Layer::Relu(l) => l.output,
            Layer::AvgPool(l) => l.quant,
            Layer::Mean(l) => l.output,
            Layer::Dense(l) => l.output,
            Layer::Softmax(l) => l.output,
        }
    }

    /// True for the reductions ([`Layer::Mean`], [`Layer::Dense`]): one output
    /// row from every input row, accumulated as rows arrive
    /// ([`Layer::accumulate`], [`Layer::finish`]) rather than through a window.
    pub fn is_reduction(&self) -> bool {
        matches!(self, Layer::Mean(_) | Layer::Dense(_))
    }

    /// The vertical window (rows read per output row) and padding: what a line
    /// buffer in front of this layer must hold (a 1-row window for the
    /// reductions, which keep sums instead of rows).
    pub fn vertical(&self) -> (Axis, Padding) {
        match self {
            Layer::AvgPool(l) => (l.window.height, l.window.padding),
            Layer::Conv2d(l) => (l.window.height, l.window.padding),
            Layer::Depthwise(l) => (l.window.height, l.window.padding),
            Layer::MaxPool(l) => (l.window.height, l.window.padding),
            Layer::Relu(_) | Layer::Mean(_) | Layer::Dense(_) | Layer::Softmax(_) => {
                (Axis::new(1, 1, 1), Padding::Valid)
            }
        }
    }

    /// Multiply-accumulates for one frame with input `input` (0 for pool and ReLU).
    pub fn macs(&self, input: Shape) -> u64 {
        let Ok(out) = self.output_shape(input) else {
            return 0;
        };
        let per_output = match self {
            Layer::Conv2d(l) => l.window.height.kernel * l.window.width.kernel * l.in_channels,
            Layer::Depthwise(l) => l.window.height.kernel * l.window.width.kernel,
            Layer::Dense(l) => l.in_features,
            Layer::MaxPool(_)
            | Layer::Relu(_)
            | Layer::AvgPool(_)
            | Layer::Mean(_)
            | Layer::Softmax(_) => 0,
        };
        out.len() as u64 * per_output as u64
    }

    /// Values in one output row for `input` (no validation).
    fn output_row_len(&self, input: Shape) -> usize {
        let (window, channels) = match self {
            Layer::Conv2d(l) => (l.window, l.out_channels),
            Layer::Depthwise(l) => (l.window, l.out_channels()),
            Layer::MaxPool(l) => (l.window, input.channels),
            Layer::AvgPool(l) => (l.window, input.channels),
            Layer::Relu(_) | Layer::Softmax(_) => return input.row_len(),
            Layer::Mean(_) => return input.channels,
            Layer::Dense(l) => return l.out_features,
        };
        window
            .width
            .output(input.width, window.padding)
            .saturating_mul(channels)
    }

    /// Computes output rows `first, first + 1, ...` into `out`, a whole number of
    /// output rows (`out.len() / out_row_len` of them): the same bytes as
    /// [`Layer::compute_row`] on each, but a kernel set may prepare once for all
    /// of them (e.g. pack the weights once). The layer must have been validated
    /// for `input`.
    pub fn compute_rows<R: Rows + ?Sized>(
        &self,
        rows: &R,
        input: Shape,
        first: usize,
        out: &mut [i8],
        exec: Exec,
    ) {
        let n = self.output_row_len(input);
        if n == 0 {
            return;
        }
        #[cfg(target_arch = "x86_64")]
        if let Layer::Conv2d(conv) = self {
            if let Some(avx512) = crate::avx512::Avx512::of(exec.kernels)
                && avx512.conv_rows(conv, rows, input, first, n, out, exec.rounding)
            {
                return;
            }
            if let Some(avx2) = crate::avx2::Avx2::of(exec.kernels) {
                return avx2.conv_rows(conv, rows, input, first, n, out, exec.rounding);
            }
        }
        for (i, row) in out.chunks_exact_mut(n).enumerate() {
            self.compute_row(rows, input, first + i, row, exec);
        }
    }

    /// Computes output row `oy` (a row of the output tensor) into `out`. The layer
    /// must have been validated for `input`.
    pub fn compute_row<R: Rows + ?Sized>(
        &self,
        rows: &R,
        input: Shape,
        oy: usize,
        out: &mut [i8],
        exec: Exec,
    ) {
        match self {
            Layer::Conv2d(l) => l.compute_row(rows, input, oy, out, exec),
            Layer::Depthwise(l) => l.compute_row(rows, input, oy, out, exec),
            Layer::MaxPool(l) => l.compute_row(rows, input, oy, out, exec),
            Layer::Relu(l) => l.compute_row(rows, input, oy, out, exec),
            Layer::AvgPool(l) => l.compute_row(rows, input, oy, out, exec),
            Layer::Softmax(l) => l.compute_row(rows, input, oy, out, exec),
            Layer::Mean(_) | Layer::Dense(_) => {
                // The one output row: every input row's share, summed.
                let n = self.output_row_len(input);
                for (o, v) in out.iter_mut().take(n).enumerate() {
                    let mut sum = 0i32;
                    for y in 0..input.height {
                        if let Some(row) = rows.row(y as isize) {
                            sum = sum.wrapping_add(self.partial(input, y, row, o));
                        }
                    }
                    *v = self.finish_one(input, o, sum, exec);
                }
            }
        }
    }

    /// Accumulators a reduction keeps (one int32 per output value); 0 for the
    /// other layers.
    pub fn accumulators(&self, input: Shape) -> usize {
        if self.is_reduction() {
            self.output_row_len(input)
        } else {
            0
        }
    }

    /// What input row `y` adds to output `o` of a reduction (0 for other layers).
    #[inline]
    fn partial(&self, input: Shape, y: usize, row: &[i8], o: usize) -> i32 {
        match self {
            Layer::Mean(l) => l.partial(input, row, o),
            Layer::Dense(l) => l.partial(input, y, row, o),
            _ => 0,
        }
    }

    /// Output `o` of a reduction from its accumulated `sum`.
    fn finish_one(&self, input: Shape, o: usize, sum: i32, exec: Exec) -> i8 {
        match self {
            Layer::Mean(l) => l.finish(input, sum, exec.rounding),
            Layer::Dense(l) => l.finish(o, sum, exec.rounding),
            _ => 0,
        }
    }

    /// Adds input row `y` to the accumulators of a reduction: `acc` holds
    /// [`Layer::accumulators`] int32 values, little-endian (an arena of bytes needs
    /// no alignment); row 0 starts them afresh. The same arithmetic as
    /// [`Layer::compute_row`], one row at a time.
    pub fn accumulate(&self, input: Shape, y: usize, row: &[i8], acc: &mut [i8], _exec: Exec) {
        for (o, slot) in acc.chunks_exact_mut(4).enumerate() {
            let bytes: &mut [u8] = bytemuck::cast_slice_mut(slot);
            let before = match <[u8; 4]>::try_from(&*bytes) {
                Ok(b) if y > 0 => i32::from_le_bytes(b),
                _ => 0,
            };
            let sum = before.wrapping_add(self.partial(input, y, row, o));
            bytes.copy_from_slice(&sum.to_le_bytes());
        }
    }

    /// The output row of a reduction from its accumulators (after the last row).
    pub fn finish(&self, input: Shape, acc: &[i8], out: &mut [i8], exec: Exec) {
        for (o, (slot, v)) in acc.chunks_exact(4).zip(out.iter_mut()).enumerate() {
            let b: &[u8] = bytemuck::cast_slice(slot);
            let sum = <[u8; 4]>::try_from(b).map_or(0, i32::from_le_bytes);
            *v = self.finish_one(input, o, sum, exec);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Activation, Requantization, Values, WeightLayout, Window};

    #[test]
    fn names_windows_and_work_per_kind() {
        let q = Quant::new(1.0, 0);
        let out = Quant::new(2.0, -1);
        let weights = [1i8; 18];
        let window = Window::square(3, 1, Padding::Same);
        let conv = Layer::Conv2d(Conv2d {
            in_channels: 1,
            out_channels: 2,
            window,
            weights: &weights,
            layout: WeightLayout::Ohwi,
            bias: None,
            requant: Requantization::WeightScales(Values::Slice(&[1.0])),
            input: q,
            output: out,
            activation: Activation::None,
        });
        let depthwise = Layer::Depthwise(DepthwiseConv2d {
            in_channels: 1,
            depth_multiplier: 2,
            window,
            weights: &weights,
            bias: None,
            requant: Requantization::WeightScales(Values::Slice(&[1.0])),
            input: q,
            output: out,
            activation: Activation::None,
        });
        let pool = Layer::MaxPool(MaxPool2d {
            window: Window::square(2, 2, Padding::Valid),
            quant: q,
            activation: Activation::None,
        });
        let relu6 = Layer::Relu(Relu {
            activation: Activation::Relu6,
            input: q,
            output: out,
        });
        let gray = Shape::new(4, 4, 1);
        // 4x4x2 outputs of 9 taps each (3x3 over one input channel): 288.
        let rows = [
            (conv, "conv", (Axis::new(3, 1, 1), Padding::Same), 288, out),
            (
                depthwise,
                "depthwise",
                (Axis::new(3, 1, 1), Padding::Same),
                288,
                out,
            ),
            (pool, "maxpool", (Axis::new(2, 2, 1), Padding::Valid), 0, q),
            (relu6, "relu6", (Axis::new(1, 1, 1), Padding::Valid), 0, out),
        ];
        for (layer, name, vertical, macs, output) in rows {
            assert_eq!(layer.name(), name);
            assert_eq!(layer.vertical(), vertical, "{name}");
            assert_eq!(layer.macs(gray), macs, "{name}");
            assert_eq!((layer.input_quant(), layer.output_quant()), (q, output));
        }
        // A layer that does not fit its input does no work.
        assert_eq!(conv.macs(Shape::new(4, 4, 3)), 0);
        let relu = Layer::Relu(Relu {
            activation: Activation::Relu,
            input: q,
            output: q,
        });
        assert_eq!(relu.name(), "relu");
    }
}
