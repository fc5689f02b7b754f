//! Model: an ordered chain of layers with its input quantization, validated once.

use crate::exec::{Exec, Kernels};
use crate::{Error, Layer, Param, Quant, Result, Rounding, Shape};

/// Most layers a model may hold.
pub const MAX_LAYERS: usize = 16;

/// Largest height, width or channel count of any tensor.
pub const MAX_DIM: usize = 1 << 16;

/// A validated chain of layers: shapes chain, quantization chains, buffers have the
/// right lengths and every accumulator fits in i32. Running it cannot fail on a
/// parameter.
///
/// See the crate documentation for an example.
#[derive(Debug, Clone, PartialEq)]
pub struct Model<'a> {
    input: Quant,
    layers: heapless::Vec<Layer<'a>, MAX_LAYERS>,
    /// shapes[i] is the input of layer i; the last is the model's output.
    shapes: heapless::Vec<Shape, { MAX_LAYERS + 1 }>,
    rounding: Rounding,
    kernels: Kernels,
}

impl<'a> Model<'a> {
    /// Validates `layers` for an input of `input_shape` quantized with `input`.
    pub fn new(
        input_shape: Shape,
        input: Quant,
        layers: &[Layer<'a>],
        rounding: Rounding,
    ) -> Result<Self> {
        if layers.is_empty() {
            return Err(Error::invalid(
                Param::Layers,
                "a model needs at least one layer",
            ));
        }
        if layers.len() > MAX_LAYERS {
            return Err(Error::invalid(
                Param::Layers,
                "too many layers (at most 16)",
            ));
        }
        let dims = [input_shape.height, input_shape.width, input_shape.channels];
        if dims.iter().any(|&d| d == 0 || d > MAX_DIM) {
            return Err(Error::invalid(
                Param::InputShape,
                "height, width and channels must be in 1..=65536",
            ));
        }
        input.validate(Param::InputQuant)?;
        let mut shapes = heapless::Vec::new();
        let mut kept = heapless::Vec::new();
        let mut shape = input_shape;
        let mut quant = input;
        for (i, layer) in layers.iter().enumerate() {
            if layer.input_quant() != quant {
                return Err(Error::Invalid {
                    layer: Some(i),
                    param: Param::InputQuant,
                    reason: "does not match the output quantization of what feeds it",
                });
            }
            let out = layer.output_shape(shape).map_err(|e| e.at_layer(i))?;
            if out.channels > MAX_DIM {
                return Err(Error::Invalid {
                    layer: Some(i),
                    param: Param::OutChannels,
                    reason: "at most 65536",
                });
            }
            // Capacity was checked above; these pushes cannot fail.
            let _ = shapes.push(shape);
            let _ = kept.push(*layer);
            shape = out;
            quant = layer.output_quant();
        }
        let _ = shapes.push(shape);
        Ok(Self {
            input,
            layers: kept,
            shapes,
            rounding,
            kernels: Kernels::DEFAULT,
        })
    }

    /// The layers, in order.
    pub fn layers(&self) -> &[Layer<'a>] {
        &self.layers
    }

    /// Input quantization.
    pub fn input_quant(&self) -> Quant {
        self.input
    }

    /// Output quantization (that of the last layer).
    pub fn output_quant(&self) -> Quant {
        self.layers.last().map_or(self.input, |l| l.output_quant())
    }

    /// Shape of the model's input.
    pub fn input_shape(&self) -> Shape {
        // The input's shape is always there (shapes = input + one per layer).
        self.shapes.first().copied().unwrap_or_default()
    }

    /// Shape of the model's output.
    pub fn output_shape(&self) -> Shape {
        self.shapes.last().copied().unwrap_or_default()
    }

    /// True if the output is a vector of `N` values (TFLite's `[1, N]`, a
    /// classifier's scores): the last reduction is a dense layer or a mean
    /// without `keep_dims`, and only a softmax may follow it.
    pub fn output_is_vector(&self) -> bool {
        let Some(i) = self.layers.iter().rposition(Layer::is_reduction) else {
            return false;
        };
        let tail_ok = self
            .layers
            .get(i + 1..)
            .unwrap_or_default()
            .iter()
            .skip(i + 1)
            .all(|l| matches!(l, Layer::Softmax(_)));
        let vector = match self.layers.get(i) {
            Some(Layer::Mean(m)) => !m.keep_dims,
            _ => true,
        };
        tail_ok && vector
    }

    /// Input shape of layer `i` (`i == layers().len()` gives the output shape).
    pub fn shape(&self, i: usize) -> Option<Shape> {
        self.shapes.get(i).copied()
    }

    /// Requantization rounding.
    pub fn rounding(&self) -> Rounding {
        self.rounding
    }

    /// The kernel set the engines run this model with ([`Kernels::DEFAULT`]:
    /// the DSP kernels on 32-bit Arm, else the portable ones, unless
    /// [`Model::with_kernels`] chose another).
    pub fn kernels(&self) -> Kernels {
        self.kernels
    }

    /// The same model run with `kernels` (every kernel set gives the same bytes).
    #[must_use]
    pub fn with_kernels(mut self, kernels: Kernels) -> Self {
        self.kernels = kernels;
        self
    }

    /// Rounding and kernel set together, as the row kernels take them.
    pub fn exec(&self) -> Exec {
        Exec::new(self.rounding, self.kernels)
    }

    /// Bytes of scratch [`crate::frame::run`] needs: room for the two largest
    /// intermediate tensors it ping-pongs between (none for one layer).
    pub fn frame_scratch_len(&self) -> usize {
        let intermediates = self.layers.len() - 1;
        self.max_intermediate_len() * intermediates.min(2)
    }

    /// Elements of the largest intermediate tensor (between two layers).
    pub fn max_intermediate_len(&self) -> usize {
        let inner = self
            .shapes
            .get(1..self.shapes.len().saturating_sub(1))
            .unwrap_or_default();
        inner.iter().map(Shape::len).max().unwrap_or(0)
    }
}
