//! Layer: one operation of a model (convolution, depthwise convolution, max-pool or
//! standalone ReLU), dispatching to its row kernel.

use crate::exec::Exec;
use crate::{Axis, Conv2d, DepthwiseConv2d, MaxPool2d, Padding, Quant, Relu, Result, Rows, Shape};

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
}

impl Layer<'_> {
    /// A short operator name (`conv`, `depthwise`, `maxpool`, `relu`, `relu6`).
    pub fn name(&self) -> &'static str {
        match self {
            Layer::Conv2d(_) => "conv",
            Layer::Depthwise(_) => "depthwise",
            Layer::MaxPool(_) => "maxpool",
            Layer::Relu(r) if r.activation == crate::Activation::Relu6 => "relu6",
            Layer::Relu(_) => "relu",
        }
    }

    /// Validates the layer for `input` and returns its output shape.
    pub fn output_shape(&self, input: Shape) -> Result<Shape> {
        match self {
            Layer::Conv2d(l) => l.output_shape(input),
            Layer::Depthwise(l) => l.output_shape(input),
            Layer::MaxPool(l) => l.output_shape(input),
            Layer::Relu(l) => l.output_shape(input),
        }
    }

    /// Quantization of the layer's input.
    pub fn input_quant(&self) -> Quant {
        match self {
            Layer::Conv2d(l) => l.input,
            Layer::Depthwise(l) => l.input,
            Layer::MaxPool(l) => l.quant,
            Layer::Relu(l) => l.input,
        }
    }

    /// Quantization of the layer's output.
    pub fn output_quant(&self) -> Quant {
        match self {
            Layer::Conv2d(l) => l.output,
            Layer::Depthwise(l) => l.output,
            Layer::MaxPool(l) => l.quant,
            Layer::Relu(l) => l.output,
        }
    }

    /// The vertical window (rows read per output row) and padding: what a line
    /// buffer in front of this layer must hold.
    pub fn vertical(&self) -> (Axis, Padding) {
        match self {
            Layer::Conv2d(l) => (l.window.height, l.window.padding),
            Layer::Depthwise(l) => (l.window.height, l.window.padding),
            Layer::MaxPool(l) => (l.window.height, l.window.padding),
            Layer::Relu(_) => (Axis::new(1, 1, 1), Padding::Valid),
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
            Layer::MaxPool(_) | Layer::Relu(_) => 0,
        };
        out.len() as u64 * per_output as u64
    }

    /// Values in one output row for `input` (no validation).
    fn output_row_len(&self, input: Shape) -> usize {
        let (window, channels) = match self {
            Layer::Conv2d(l) => (l.window, l.out_channels),
            Layer::Depthwise(l) => (l.window, l.out_channels()),
            Layer::MaxPool(l) => (l.window, input.channels),
            Layer::Relu(_) => return input.row_len(),
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
