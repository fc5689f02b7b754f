//! Relu: standalone int8 RELU / RELU6, requantizing from the input to the output
//! quantization as TFLite does.

use crate::exec::Exec;
use crate::quant::clamp_i8;
use crate::{Activation, Error, Multiplier, Param, Quant, Result, Rounding, Rows, Shape};

/// A standalone ReLU or ReLU6 on an int8 tensor:
/// `clamp(output_zp + requantize(x - input_zp), activation range)`, with the
/// multiplier from `(input_scale / output_scale)` computed in f32.
///
/// # Examples
///
/// ```
/// use scanline::{Activation, Quant, Relu, Rounding};
/// let q = Quant::new(0.5, -10);
/// let relu = Relu { activation: Activation::Relu, input: q, output: q };
/// assert_eq!(relu.apply(-50, Rounding::Double), -10);
/// assert_eq!(relu.apply(40, Rounding::Double), 40);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Relu {
    /// [`Activation::Relu`] or [`Activation::Relu6`].
    pub activation: Activation,
    /// Input quantization.
    pub input: Quant,
    /// Output quantization.
    pub output: Quant,
}

impl Relu {
    fn multiplier(&self, rounding: Rounding) -> Multiplier {
        Multiplier::from_real((self.input.scale / self.output.scale) as f64, rounding)
    }

    /// Validates the layer for `input` and returns its output shape (the same).
    pub fn output_shape(&self, input: Shape) -> Result<Shape> {
        if !matches!(self.activation, Activation::Relu | Activation::Relu6) {
            return Err(Error::invalid(
                Param::Layers,
                "a standalone activation must be ReLU or ReLU6",
            ));
        }
        self.input.validate(Param::InputQuant)?;
        self.output.validate(Param::OutputQuant)?;
        if self.multiplier(Rounding::Double).shift > 30 {
            return Err(Error::invalid(
                Param::OutputQuant,
                "input_scale / output_scale must be below 2^30",
            ));
        }
        Ok(input)
    }

    /// One value: `clamp(output_zp + requantize(x - input_zp))`.
    ///
    /// ```
    /// use scanline::{Activation, Quant, Relu, Rounding};
    /// let relu = Relu { activation: Activation::Relu6, input: Quant::new(0.1, 0), output: Quant::new(0.05, -128) };
    /// assert_eq!(relu.apply(-5, Rounding::Double), -128); // below 0: clamped
    /// assert_eq!(relu.apply(3, Rounding::Double), -122); // 0.3 / 0.05 = 6 steps
    /// assert_eq!(relu.apply(127, Rounding::Double), -8); // 6.0 at most: -128 + 120
    /// ```
    #[inline]
    pub fn apply(&self, x: i8, rounding: Rounding) -> i8 {
        self.apply_with(x, self.multiplier(rounding), rounding)
    }

    /// [`Relu::apply`] with the multiplier computed.
    #[inline]
    fn apply_with(&self, x: i8, m: Multiplier, rounding: Rounding) -> i8 {
        let (lo, hi) = self.activation.bounds(self.output);
        let v = m.apply_offset(
            x as i32 - self.input.zero_point,
            rounding,
            self.output.zero_point,
        );
        clamp_i8(v, lo, hi)
    }

    /// Computes output row `oy` into `out`; see [`crate::Conv2d::compute_row`].
    #[allow(
        clippy::indexing_slicing,
        reason = "measured hot kernel: indices bounded by the validated shapes; checked forms cost in the inner loops"
    )]
    pub fn compute_row<R: Rows + ?Sized>(
        &self,
        rows: &R,
        input: Shape,
        oy: usize,
        out: &mut [i8],
        exec: Exec,
    ) {
        let rounding = exec.rounding;
        let (lo, hi) = self.activation.bounds(self.output);
        let Some(row) = rows.row(oy as isize) else {
            return;
        };
        let out = &mut out[..input.row_len()];
        if self.input == self.output {
            // The same quantization on both sides: requantization is the identity
            // (a multiplier of exactly 1), the layer only clamps.
            let (lo, hi) = (lo as i8, hi as i8);
            for (o, &x) in out.iter_mut().zip(row) {
                *o = x.max(lo).min(hi);
            }
        } else if out.len() > 256 {
            // A long row: the function of 256 possible inputs, tabulated once.
            let table = self.table(rounding);
            for (o, &x) in out.iter_mut().zip(row) {
                *o = table[x as u8 as usize];
            }
        } else {
            let m = self.multiplier(rounding);
            for (o, &x) in out.iter_mut().zip(row) {
                *o = self.apply_with(x, m, rounding);
            }
        }
    }

    /// [`Relu::apply`] of every int8 value, indexed by the value's byte.
    fn table(&self, rounding: Rounding) -> [i8; 256] {
        let m = self.multiplier(rounding);
        let mut t = [0i8; 256];
        for (b, v) in t.iter_mut().enumerate() {
            *v = self.apply_with(b as u8 as i8, m, rounding);
        }
        t
    }
}

#[cfg(test)]
mod tests {
    //! Hand-worked rows.

    use super::*;
    use crate::Layer;
    use crate::pattern::{assert_pattern, image, run};

    /// Every row path (identity clamp, table, per value) gives `apply` of each
    /// value, for rows shorter and longer than the table.
    #[test]
    fn row_paths_agree_with_apply() {
        let quants = [
            Quant::new(0.02, -3),
            Quant::new(0.05, -128),
            Quant::new(0.013, 40),
        ];
        for (i, &input) in quants.iter().enumerate() {
            for &output in &quants[i..] {
                for activation in [Activation::Relu, Activation::Relu6] {
                    let relu = Relu {
                        activation,
                        input,
                        output,
                    };
                    for width in [7usize, 300] {
                        let shape = Shape::new(1, width, 1);
                        let row: [i8; 300] = core::array::from_fn(|j| (j as i32 * 37 - 128) as i8);
                        let rows = crate::rows::Tensor::new(&row[..width], shape).unwrap();
                        for rounding in [Rounding::Double, Rounding::Single] {
                            let mut out = [0i8; 300];
                            let exec = crate::exec::Exec::portable(rounding);
                            relu.compute_row(&rows, shape, 0, &mut out[..width], exec);
                            for j in 0..width {
                                assert_eq!(
                                    out[j],
                                    relu.apply(row[j], rounding),
                                    "{relu:?} {width} {j}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn relu_and_relu6_requantize_then_clamp() {
        // Input scale 0.5, zero point 10; output scale 0.25, zero point -20: the
        // ratio is 2 (M = 2^30, shift 2), q = -20 + 2 * (x - 10).
        // x:               -128    0   10   11   15   30  127
        // 2 * (x - 10) - 20: -296 -40  -20  -18  -10   20  214
        // ReLU keeps [-20, 127] (the real 0 is q = -20); ReLU6 keeps
        // [-20, -20 + round(6 / 0.25)] = [-20, 4].
        let input = image(&[&["-128 0 10 11 15 30 127"]]);
        let (q_in, q_out) = (Quant::new(0.5, 10), Quant::new(0.25, -20));
        for (activation, want) in [
            (Activation::Relu, "-20 -20 -20 -18 -10 20 127"),
            (Activation::Relu6, "-20 -20 -20 -18 -10  4   4"),
        ] {
            let relu = Relu {
                activation,
                input: q_in,
                output: q_out,
            };
            for rounding in [Rounding::Double, Rounding::Single] {
                assert_pattern(&run(&Layer::Relu(relu), rounding, &input), &[&[want]]);
            }
        }
    }

    #[test]
    fn a_standalone_activation_is_relu_or_relu6() {
        let q = Quant::new(1.0, 0);
        let relu = Relu {
            activation: Activation::ReluN1To1,
            input: q,
            output: q,
        };
        assert_eq!(
            relu.output_shape(Shape::new(1, 1, 1)),
            Err(Error::invalid(
                Param::Layers,
                "a standalone activation must be ReLU or ReLU6"
            ))
        );
    }
}
