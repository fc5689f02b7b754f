//! Softmax: int8 `SOFTMAX` over the channels of each pixel, in TFLite's reference
//! fixed-point arithmetic (gemmlowp's `exp_on_negative_values` and reciprocal,
//! input differences in Q5.26, sums in Q12.19), output scale 1/256, zero point -128.

use crate::exec::Exec;
use crate::quant::{
    clamp_i8, rounding_divide_by_pot as rdbpot, saturating_rounding_doubling_high_mul as srdhm,
};
use crate::{Error, Multiplier, Param, Quant, Result, Rounding, Rows, Shape};

/// Integer bits of the scaled input differences (Q5.26).
const DIFF_INTEGER_BITS: i32 = 5;
/// Integer bits of the sum of exponentials (Q12.19).
const ACCUM_INTEGER_BITS: i32 = 12;

/// The one output quantization TFLite allows for an int8 softmax.
pub const OUTPUT: Quant = Quant::new(1.0 / 256.0, -128);

/// int8 softmax along the channels: `out = round(256 * exp(beta * s * (x - max)) /
/// Σ exp(...)) - 128` in TFLite's fixed-point steps.
///
/// # Examples
///
/// ```
/// use scanline::{Quant, Rounding, Softmax};
/// let softmax = Softmax { beta: 1.0, input: Quant::new(0.1, 0), output: scanline::softmax::OUTPUT };
/// let mut out = [0i8; 3];
/// softmax.apply(&[10, 10, 10], &mut out);
/// assert_eq!(out, [-43, -43, -43]); // a third each: 85 / 256
/// softmax.apply(&[127, -128, -128], &mut out);
/// assert_eq!(out, [127, -128, -128]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Softmax {
    /// The operator's `beta` (1.0 from Keras).
    pub beta: f32,
    /// Input quantization.
    pub input: Quant,
    /// Output quantization: must be [`OUTPUT`].
    pub output: Quant,
}

/// A raw Q0.31 `a * b`.
#[inline]
fn mul(a: i32, b: i32) -> i32 {
    srdhm(a, b)
}

/// gemmlowp's `SaturatingRoundingMultiplyByPOT<e>` for `e > 0`.
#[inline]
fn shl_saturating(x: i32, e: u32) -> i32 {
    let threshold = (1i32 << (31 - e)) - 1;
    if x > threshold {
        i32::MAX
    } else if x < -threshold {
        i32::MIN
    } else {
        x << e
    }
}

/// gemmlowp's `exp_on_interval_between_negative_one_quarter_and_0_excl` on a raw
/// Q0.31 value.
fn exp_quarter(a: i32) -> i32 {
    const EXP_MINUS_ONE_EIGHTH: i32 = 1895147668;
    const ONE_THIRD: i32 = 715827883;
    let x = a.wrapping_add(1 << 28);
    let x2 = mul(x, x);
    let x3 = mul(x2, x);
    let x4 = mul(x2, x2);
    let x4_over_4 = rdbpot(x4, 2);
    let poly = rdbpot(
        mul(x4_over_4.wrapping_add(x3), ONE_THIRD).wrapping_add(x2),
        1,
    );
    EXP_MINUS_ONE_EIGHTH.wrapping_add(mul(EXP_MINUS_ONE_EIGHTH, x.wrapping_add(poly)))
}

/// gemmlowp's `exp_on_negative_values` for a Q5.26 input `a <= 0`; the result is
/// raw Q0.31.
fn exp_on_negative_values(a: i32) -> i32 {
    const FRACTIONAL_BITS: u32 = 26;
    let one_quarter = 1i32 << (FRACTIONAL_BITS - 2);
    let mask = one_quarter - 1;
    let a_mod_quarter_minus_one_quarter = (a & mask) - one_quarter;
    let mut result = exp_quarter(shl_saturating(a_mod_quarter_minus_one_quarter, 5));
    let remainder = a_mod_quarter_minus_one_quarter.wrapping_sub(a);
    // exp(-2^k) for k = -2..=4, in Q0.31.
    const BARREL: [(i32, i32); 7] = [
        (-2, 1672461947),
        (-1, 1302514674),
        (0, 790015084),
        (1, 290630308),
        (2, 39332535),
        (3, 720401),
        (4, 242),
    ];
    for (exponent, multiplier) in BARREL {
        let bit = FRACTIONAL_BITS as i32 + exponent;
        if remainder & (1 << bit) != 0 {
            result = mul(result, multiplier);
        }
    }
    if a == 0 { i32::MAX } else { result }
}

/// gemmlowp's `one_over_one_plus_x_for_x_in_0_1` on a raw Q0.31 value.
fn one_over_one_plus_x(a: i32) -> i32 {
    // RoundingHalfSum(a, 1.0) in Q0.31.
    let sum = a as i64 + i32::MAX as i64;
    let half_denominator = ((sum + if sum >= 0 { 1 } else { -1 }) / 2) as i32;
    const C48_OVER_17: i32 = 1515870810; // Q2.29
    const CNEG32_OVER_17: i32 = -1010580540; // Q2.29
    const ONE_Q2: i32 = 1 << 29;
    let mut x = C48_OVER_17.wrapping_add(mul(half_denominator, CNEG32_OVER_17));
    for _ in 0..3 {
        let half_denominator_times_x = mul(half_denominator, x);
        let one_minus = ONE_Q2.wrapping_sub(half_denominator_times_x);
        x = x.wrapping_add(shl_saturating(mul(x, one_minus), 2));
    }
    shl_saturating(x, 1)
}

impl Softmax {
    /// Validates the layer for `input` and returns its output shape (the same).
    pub fn output_shape(&self, input: Shape) -> Result<Shape> {
        self.input.validate(Param::InputQuant)?;
        if self.output != OUTPUT {
            return Err(Error::invalid(
                Param::OutputQuant,
                "an int8 softmax outputs with scale 1/256 and zero point -128",
            ));
        }
        if !(self.beta.is_finite() && self.beta > 0.0) {
            return Err(Error::invalid(
                Param::InputQuant,
                "beta must be finite and > 0",
            ));
        }
        if self.scaling().shift < 0 {
            return Err(Error::invalid(
                Param::InputQuant,
                "beta * input_scale is too small for TFLite's softmax (below 2^-31)",
            ));
        }
        Ok(input)
    }

    /// TFLite's `PreprocessSoftmaxScaling`: `beta * input_scale * 2^26` as a
    /// multiplier greater than one (capped at `2^31 - 1`).
    fn scaling(&self) -> Multiplier {
        let real = (self.beta as f64 * self.input.scale as f64 * (1u64 << 26) as f64)
            .min((1u64 << 31) as f64 - 1.0);
        Multiplier::from_real(real, Rounding::Double)
    }

    /// Softmax of one pixel's channels `x` into `out` (as long).
    pub fn apply(&self, x: &[i8], out: &mut [i8]) {
        let m = self.scaling();
        let left = m.shift.max(0) as u32;
        // CalculateInputRadius(5, left): floor(31 * 2^26 / 2^left).
        let radius = (((1i64 << DIFF_INTEGER_BITS) - 1) << (31 - DIFF_INTEGER_BITS)) >> left;
        let diff_min = -(radius as i32);
        let max = x.iter().copied().max().unwrap_or(i8::MIN) as i32;
        let exp_of = |v: i8| -> Option<i32> {
            let diff = v as i32 - max;
            (diff >= diff_min).then(|| {
                // MultiplyByQuantizedMultiplierGreaterThanOne.
                let scaled = srdhm(diff.wrapping_mul(1 << left), m.multiplier);
                exp_on_negative_values(scaled)
            })
        };
        let mut sum = 0i32;
        for &v in x {
            if let Some(e) = exp_of(v) {
                sum = sum.wrapping_add(rdbpot(e, ACCUM_INTEGER_BITS as u32));
            }
        }
        // GetReciprocal(sum, 12).
        let headroom_plus_one = (sum as u32).leading_zeros() as i32;
        let bits_over_unit = ACCUM_INTEGER_BITS - headroom_plus_one;
        let shifted_minus_one =
            ((sum as u32).wrapping_shl(headroom_plus_one as u32)).wrapping_sub(1 << 31) as i32;
        let scale = one_over_one_plus_x(shifted_minus_one);
        let exponent = (bits_over_unit + 31 - 8).clamp(0, 31) as u32;
        for (o, &v) in out.iter_mut().zip(x) {
            *o = match exp_of(v) {
                Some(e) => clamp_i8(rdbpot(mul(scale, e), exponent) - 128, -128, 127),
                None => -128,
            };
        }
    }

    /// Computes output row `oy` into `out`; see [`crate::Conv2d::compute_row`].
    pub fn compute_row<R: Rows + ?Sized>(
        &self,
        rows: &R,
        input: Shape,
        oy: usize,
        out: &mut [i8],
        _exec: Exec,
    ) {
        let Some(row) = rows.row(oy as isize) else {
            return;
        };
        let c = input.channels.max(1);
        for (x, o) in row.chunks_exact(c).zip(out.chunks_exact_mut(c)) {
            self.apply(x, o);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// f64 softmax, quantized to 1/256 with zero point -128.
    fn float(beta: f32, scale: f32, x: &[i8]) -> Vec<f64> {
        let max = *x.iter().max().unwrap() as f64;
        let e: Vec<f64> = x
            .iter()
            .map(|&v| ((v as f64 - max) * beta as f64 * scale as f64).exp())
            .collect();
        let s: f64 = e.iter().sum();
        e.iter().map(|v| v / s * 256.0 - 128.0).collect()
    }

    #[test]
    fn fixed_point_softmax_is_within_one_step_of_the_real_one() {
        let mut seed = 0x1234_5678u32;
        for case in 0..500 {
            let n = 1 + case % 12;
            let scale = [0.01f32, 0.05, 0.1, 0.25, 1.0][case % 5];
            let x: Vec<i8> = (0..n)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    seed as i8
                })
                .collect();
            let s = Softmax {
                beta: 1.0,
                input: Quant::new(scale, 0),
                output: OUTPUT,
            };
            let mut out = vec![0i8; n];
            s.apply(&x, &mut out);
            for (got, want) in out.iter().zip(float(1.0, scale, &x)) {
                let want = want.clamp(-128.0, 127.0);
                assert!(
                    (*got as f64 - want).abs() <= 1.01,
                    "{x:?} scale {scale}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn exp_is_one_at_zero_and_small_far_below() {
        assert_eq!(exp_on_negative_values(0), i32::MAX);
        // exp(-1) in Q0.31, the input -1.0 in Q5.26.
        let e = exp_on_negative_values(-(1 << 26));
        assert!((e as f64 / 2f64.powi(31) - (-1f64).exp()).abs() < 1e-6);
    }
}
