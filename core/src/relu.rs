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

    /// One value.
    #[inline]
    pub fn apply(&self, x: i8, rounding: Rounding) -> i8 {
        let (lo, hi) = self.activation.bounds(self.output);
        let m = self.multiplier(rounding);
        let v = self.output.zero_point + m.apply(x as i32 - self.input.zero_point, rounding);
        clamp_i8(v, lo, hi)
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
        let rounding = exec.rounding;
        let (lo, hi) = self.activation.bounds(self.output);
        let m = self.multiplier(rounding);
        let Some(row) = rows.row(oy as isize) else {
            return;
        };
        for (o, &x) in out[..input.row_len()].iter_mut().zip(row) {
            let v = self.output.zero_point + m.apply(x as i32 - self.input.zero_point, rounding);
            *o = clamp_i8(v, lo, hi);
        }
    }
}
