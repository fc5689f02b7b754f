//! Dense: `FULLY_CONNECTED` on int8 (int8 weights, int32 bias, per-tensor or
//! per-channel scales, fused activation), a reduction over the rows of its input:
//! each row adds its share of every output's dot product, so a dense layer after
//! a flatten consumes camera-sized rows as they arrive.

use crate::requant::{ChannelRequant, Channels};
use crate::{Activation, Error, Param, Quant, Requantization, Result, Rounding, Shape, Values};

/// A fully-connected layer over the whole input tensor, flattened in HWC order
/// (TFLite's `FULLY_CONNECTED` after a `RESHAPE`, or on a `1x1xC` input):
/// `out[o] = clamp(requantize(bias[o] + Σ w[o][i] * (x[i] - input_zp)) + output_zp)`.
/// Output shape `1x1xout_features`.
///
/// # Examples
///
/// ```
/// use scanline::{Activation, Dense, Quant, Requantization, Rounding, Shape, Values};
/// let weights = [1i8, 2, 3, -1, -1, -1]; // 2 outputs over 3 inputs
/// let q = Quant::new(1.0, 0);
/// let dense = Dense {
///     in_features: 3,
///     out_features: 2,
///     weights: &weights,
///     bias: Some(Values::Slice(&[10, 0])),
///     requant: Requantization::WeightScales(Values::Slice(&[1.0])),
///     input: q,
///     output: q,
///     activation: Activation::Relu,
/// };
/// let input = Shape::new(1, 1, 3);
/// assert_eq!(dense.output_shape(input).unwrap(), Shape::new(1, 1, 2));
/// let row = [1i8, 1, 1];
/// let sums = [dense.partial(input, 0, &row, 0), dense.partial(input, 0, &row, 1)];
/// assert_eq!(sums, [6, -3]);
/// assert_eq!(dense.finish(0, sums[0], Rounding::Double), 16);
/// assert_eq!(dense.finish(1, sums[1], Rounding::Double), 0); // ReLU
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dense<'a> {
    /// Inputs per output (the input tensor's element count).
    pub in_features: usize,
    /// Outputs.
    pub out_features: usize,
    /// `[out_features][in_features]`, row-major (TFLite's filter layout).
    pub weights: &'a [i8],
    /// Optional per-output int32 bias.
    pub bias: Option<Values<'a, i32>>,
    /// Per-tensor or per-output requantization.
    pub requant: Requantization<'a>,
    /// Input quantization.
    pub input: Quant,
    /// Output quantization.
    pub output: Quant,
    /// Fused activation.
    pub activation: Activation,
}

impl Dense<'_> {
    fn channels(&self) -> Channels<'_> {
        Channels {
            out_channels: self.out_features,
            bias: self.bias,
            requant: self.requant,
            input: self.input,
            output: self.output,
        }
    }

    /// Bias and multiplier of output `o`.
    pub fn channel_requant(&self, o: usize, rounding: Rounding) -> ChannelRequant {
        self.channels().channel(o, rounding)
    }

    /// Validates the layer for `input` and returns its output shape.
    pub fn output_shape(&self, input: Shape) -> Result<Shape> {
        if self.out_features == 0 {
            return Err(Error::invalid(Param::OutChannels, "must be at least 1"));
        }
        if input.len() != self.in_features || self.in_features == 0 {
            return Err(Error::length(
                Param::InChannels,
                self.in_features,
                input.len(),
            ));
        }
        let n = self.in_features.saturating_mul(self.out_features);
        if self.weights.len() != n {
            return Err(Error::length(Param::Weights, n, self.weights.len()));
        }
        let d = self.in_features;
        self.channels().validate(|o| {
            // Lengths checked just above.
            let row = self.weights.get(o * d..(o + 1) * d).unwrap_or_default();
            row.iter().map(|&w| (w as i64).abs()).sum()
        })?;
        Ok(Shape::new(1, 1, self.out_features))
    }

    /// What input row `y` (of an input of shape `input`) adds to output `o`'s
    /// accumulator: `Σ w[o][y * row_len + i] * (row[i] - input_zp)`.
    #[inline]
    pub fn partial(&self, input: Shape, y: usize, row: &[i8], o: usize) -> i32 {
        let n = input.row_len();
        let start = o * self.in_features + y * n;
        let zp = self.input.zero_point;
        // Lengths were validated with the model: both slices are whole.
        let w = self.weights.get(start..start + n).unwrap_or_default();
        w.iter()
            .zip(row.get(..n).unwrap_or_default())
            .map(|(&w, &x)| w as i32 * (x as i32 - zp))
            .sum()
    }

    /// Output `o` from its whole dot product `sum` (bias not included).
    ///
    /// The multiplier comes from the model's `rounding` like a convolution's, but
    /// it is applied with one rounding ([`Rounding::Single`]: `(acc * M +
    /// 2^(30 - shift)) >> (31 - shift)`): TFLite 2.21's reference
    /// `FULLY_CONNECTED` rounds once. Checked against `BUILTIN_REF` on 2,880
    /// outputs of the classifier fixtures' dense layers over random inputs: single
    /// rounding matched all of them, the convolutions' double rounding missed 2
    /// (ties such as -54.5 after the high multiply, which double rounding sends to
    /// -55 and TFLite to -54).
    pub fn finish(&self, o: usize, sum: i32, rounding: Rounding) -> i8 {
        let ch = self.channel_requant(o, rounding);
        let (lo, hi) = self.activation.bounds(self.output);
        let acc = sum.wrapping_add(ch.bias);
        let v = ch
            .mult
            .apply_offset(acc, Rounding::Single, self.output.zero_point);
        crate::quant::clamp_i8(v, lo, hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tie_after_the_high_multiply_rounds_once_as_tflite() {
        // From the cls16_gap_keepdims fixture model on a perturbed input: acc
        // -4316, multiplier 1735324770 * 2^-6 (real -54.494...). Double rounding
        // gives srdhm = -3488, then -3488 / 64 = -54.5 -> -55; TFLite gives -54.
        let q = Quant::new(1.0, 0);
        let dense = Dense {
            in_features: 1,
            out_features: 1,
            weights: &[1],
            bias: None,
            requant: Requantization::Fixed {
                multipliers: Values::Slice(&[1735324770]),
                shifts: Values::Slice(&[-6]),
            },
            input: q,
            output: Quant::new(1.0, 127),
            activation: Activation::None,
        };
        assert_eq!(dense.finish(0, -4316, Rounding::Double), 127 - 54);
    }
}
