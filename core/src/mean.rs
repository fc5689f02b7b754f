//! Mean: `MEAN` over height and width (what the converter writes for Keras'
//! `GlobalAveragePooling2D`), a reduction: per-channel int32 sums of every input
//! row, requantized once the last row has arrived, as TFLite's reference kernels
//! do on each of their three int8 paths.

use crate::quant::clamp_i8;
use crate::{Error, Multiplier, Param, Quant, Result, Rounding, Shape};

/// The mean of every channel over the whole height and width: output `1x1xC`.
///
/// TFLite's reference kernels take one of three int8 paths, and so does this:
/// - `keep_dims` (`reference_integer_ops::Mean`): `acc = Σ (q - in_zp)`,
///   `acc = requantize(acc, in_scale / out_scale)`, then the division by the cell
///   count `n` rounded half away from zero, plus `out_zp`;
/// - no `keep_dims`, input and output quantization identical: `Σ q / n`,
///   truncated (C integer division);
/// - no `keep_dims`, different quantization (`QuantizedMeanOrSum`): the
///   multiplier of `in_scale / out_scale` folded with `1 / n` (`M << s / n`,
///   `s = min(floor(log2 n), 32, 31 + shift)`), applied to `Σ q - in_zp * n`, plus
///   `out_zp`.
///
/// # Examples
///
/// ```
/// use scanline::{Mean, Quant, Rounding, Shape};
/// let q = Quant::new(0.5, -10);
/// let mean = Mean { keep_dims: false, input: q, output: q };
/// let input = Shape::new(2, 2, 1);
/// assert_eq!(mean.output_shape(input).unwrap(), Shape::new(1, 1, 1));
/// // (1 + 2 + 3 - 13) / 4 = -7 / 4 = -1 (truncated)
/// assert_eq!(mean.finish(input, -7, Rounding::Double), -1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mean {
    /// The operator's `keep_dims` option (selects TFLite's kernel; the output
    /// bytes are `1x1xC` either way).
    pub keep_dims: bool,
    /// Input quantization.
    pub input: Quant,
    /// Output quantization.
    pub output: Quant,
}

impl Mean {
    /// Validates the layer for `input` and returns its output shape (`1x1xC`).
    pub fn output_shape(&self, input: Shape) -> Result<Shape> {
        self.input.validate(Param::InputQuant)?;
        self.output.validate(Param::OutputQuant)?;
        if input.channels == 0 {
            return Err(Error::invalid(Param::InChannels, "must be at least 1"));
        }
        let cells = input.height.saturating_mul(input.width);
        if cells == 0 || cells > (i32::MAX / 256) as usize {
            return Err(Error::invalid(
                Param::InputShape,
                "the mean's height * width must be in 1..=8388607",
            ));
        }
        if self.base(Rounding::Double).shift > 30 {
            return Err(Error::invalid(
                Param::OutputQuant,
                "input_scale / output_scale must be below 2^30",
            ));
        }
        Ok(Shape::new(1, 1, input.channels))
    }

    /// `QuantizeMultiplier(input_scale / output_scale)`, the scales widened to f64.
    fn base(&self, rounding: Rounding) -> Multiplier {
        Multiplier::from_real(self.input.scale as f64 / self.output.scale as f64, rounding)
    }

    /// The sum of channel `c` over one input row (what a row adds to the
    /// channel's accumulator).
    #[inline]
    pub fn partial(&self, input: Shape, row: &[i8], c: usize) -> i32 {
        let row = row.get(c..input.row_len()).unwrap_or_default();
        row.iter().step_by(input.channels).map(|&v| v as i32).sum()
    }

    /// The output value of a channel whose values over the whole input sum to
    /// `sum` (raw int8 values, zero point not removed).
    pub fn finish(&self, input: Shape, sum: i32, rounding: Rounding) -> i8 {
        let n = (input.height * input.width) as i32;
        let (in_zp, out_zp) = (self.input.zero_point, self.output.zero_point);
        if self.keep_dims {
            let acc = self.base(rounding).apply(sum - in_zp * n, rounding);
            let avg = if acc > 0 {
                (acc + n / 2) / n
            } else {
                (acc - n / 2) / n
            };
            clamp_i8(avg.wrapping_add(out_zp), -128, 127)
        } else if self.input == self.output {
            clamp_i8(sum / n, -128, 127)
        } else {
            let base = self.base(rounding);
            let s = (31 - (n as u32).leading_zeros() as i32)
                .min(32)
                .min(31 + base.shift)
                .max(0);
            let m = Multiplier {
                multiplier: (((base.multiplier as i64) << s) / n as i64) as i32,
                shift: base.shift - s,
            };
            clamp_i8(m.apply_offset(sum - in_zp * n, rounding, out_zp), -128, 127)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_paths_round_as_tflite() {
        let shape = Shape::new(3, 3, 1);
        let q = Quant::new(0.25, 3);
        let r = Rounding::Double;
        // keep_dims: Σ(q - zp) = 40 - 27 = 13, requantized by 1 (scale ratio 1)
        // then 13 / 9 = 1.44 -> 1, plus zp 3.
        let keep = Mean {
            keep_dims: true,
            input: q,
            output: q,
        };
        assert_eq!(keep.finish(shape, 40, r), 4);
        // -14 - 27 = -41: -41 / 9 = -4.6 -> -5, plus 3.
        assert_eq!(keep.finish(shape, -14, r), -2);
        // Same quantization, no keep_dims: 40 / 9 truncated.
        let same = Mean {
            keep_dims: false,
            ..keep
        };
        assert_eq!(same.finish(shape, 40, r), 4);
        assert_eq!(same.finish(shape, -40, r), -4);
        // Output scale twice the input's: (Σq - 27) / 9 / 2 + zp_out.
        let half = Mean {
            keep_dims: false,
            input: q,
            output: Quant::new(0.5, -1),
        };
        // 81 - 27 = 54; 54 / 18 = 3, plus -1.
        assert_eq!(half.finish(shape, 81, r), 2);
        // 27 - 27 + 9 = 9: 9 / 18 = 0.5 rounds up: 1 - 1.
        assert_eq!(half.finish(shape, 36, r), 0);
    }
}
