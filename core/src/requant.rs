//! Requant: the per-channel requantization parameters of convolution-like layers,
//! from the model's f32 scales (as the TFLite converter stores them) or as integer
//! `(multiplier, shift)` pairs (as TFLite Micro and CMSIS-NN keep them), and the
//! checks both layer kinds share. Both paths end in one [`Multiplier`].

use crate::{Error, Multiplier, Param, Quant, Result, Rounding, Values};

/// Where a layer's per-channel multipliers come from.
///
/// # Examples
///
/// ```
/// use scanline::{Multiplier, Quant, Requantization, Rounding, Values};
/// let (input, output) = (Quant::new(0.5, 0), Quant::new(1.0, 0));
/// // Weight scale 0.5: real multiplier 0.5 * 0.5 / 1.0 = 0.25 = 2^30 * 2^(-1 - 31).
/// let scales = Requantization::WeightScales(Values::Slice(&[0.5]));
/// let fixed = Requantization::Fixed {
///     multipliers: Values::Slice(&[1 << 30]),
///     shifts: Values::Slice(&[-1]),
/// };
/// let want = Multiplier { multiplier: 1 << 30, shift: -1 };
/// assert_eq!(scales.multiplier(0, input, output, Rounding::Double), Some(want));
/// assert_eq!(fixed.multiplier(0, input, output, Rounding::Double), Some(want));
/// assert_eq!(fixed.weight_scale(0, input, output), Some(0.5));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Requantization<'a> {
    /// Symmetric weight scales, one (per tensor) or one per output channel. Channel
    /// `c` requantizes with TFLite's `QuantizeMultiplier(input_scale *
    /// weight_scale[c] / output_scale)`, the f32 scales widened to f64 first.
    WeightScales(Values<'a, f32>),
    /// Fixed-point multipliers and shifts, one pair (per tensor) or one per output
    /// channel, used as they are: `real ≈ multiplier * 2^(shift - 31)`, TFLite
    /// Micro's `per_channel_output_multiplier` / `per_channel_output_shift`,
    /// CMSIS-NN's `cmsis_nn_per_channel_quant_params`. Multipliers must be in
    /// `0..=i32::MAX`, shifts in `-31..=30`.
    Fixed {
        /// Q31 mantissas.
        multipliers: Values<'a, i32>,
        /// Power-of-two exponents (positive: left shift).
        shifts: Values<'a, i32>,
    },
}

impl Requantization<'_> {
    /// Number of entries: 1 (per tensor) or the output channel count.
    pub fn len(&self) -> usize {
        match self {
            Requantization::WeightScales(s) => s.len(),
            Requantization::Fixed { multipliers, .. } => multipliers.len(),
        }
    }

    /// True if there is no entry (never valid).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True for per-channel parameters (more than one entry).
    pub fn is_per_channel(&self) -> bool {
        self.len() > 1
    }

    /// The multiplier of output channel `c` for a layer from `input` to `output`;
    /// `None` if there is no entry for `c`.
    #[inline]
    pub fn multiplier(
        &self,
        c: usize,
        input: Quant,
        output: Quant,
        rounding: Rounding,
    ) -> Option<Multiplier> {
        match self {
            Requantization::WeightScales(s) => Some(Multiplier::for_conv(
                input.scale,
                s.per_channel(c)?,
                output.scale,
                rounding,
            )),
            Requantization::Fixed {
                multipliers,
                shifts,
            } => Some(Multiplier {
                multiplier: multipliers.per_channel(c)?,
                shift: shifts.per_channel(c)?,
            }),
        }
    }

    /// The real weight scale of channel `c`: as given, or for fixed parameters the
    /// one they express, `multiplier * 2^(shift - 31) * output_scale / input_scale`
    /// (what the float reference dequantizes weights and bias with).
    pub fn weight_scale(&self, c: usize, input: Quant, output: Quant) -> Option<f32> {
        match self {
            Requantization::WeightScales(s) => s.per_channel(c),
            Requantization::Fixed {
                multipliers,
                shifts,
            } => {
                let m = multipliers.per_channel(c)? as f64;
                let real = m * pow2(shifts.per_channel(c)? - 31);
                Some((real * output.scale as f64 / input.scale as f64) as f32)
            }
        }
    }

    /// Checks the entry count against `out_channels` and every entry's range.
    fn validate(&self, out_channels: usize, input: Quant, output: Quant) -> Result<()> {
        let n = self.len();
        let param = match self {
            Requantization::WeightScales(_) => Param::WeightScales,
            Requantization::Fixed { .. } => Param::Multipliers,
        };
        if n != 1 && n != out_channels {
            return Err(Error::length(param, out_channels, n));
        }
        if let Requantization::Fixed { shifts, .. } = self
            && shifts.len() != n
        {
            return Err(Error::length(Param::Shifts, n, shifts.len()));
        }
        for c in 0..n {
            match self {
                Requantization::WeightScales(s) => {
                    let s = s.get(c).unwrap_or(f32::NAN);
                    if !(s.is_finite() && s > 0.0) {
                        return Err(Error::invalid(
                            Param::WeightScales,
                            "every scale must be finite and > 0",
                        ));
                    }
                    // Only reachable with absurd scale ratios; TFLite would
                    // overflow in int32.
                    if Multiplier::for_conv(input.scale, s, output.scale, Rounding::Double).shift
                        > 30
                    {
                        return Err(Error::invalid(
                            Param::OutputQuant,
                            "input_scale * weight_scale / output_scale must be below 2^30",
                        ));
                    }
                }
                Requantization::Fixed {
                    multipliers,
                    shifts,
                } => {
                    if multipliers.get(c).is_none_or(|m| m < 0) {
                        return Err(Error::invalid(
                            Param::Multipliers,
                            "every multiplier must be in 0..=2147483647",
                        ));
                    }
                    if shifts.get(c).is_none_or(|s| !(-31..=30).contains(&s)) {
                        return Err(Error::invalid(
                            Param::Shifts,
                            "every shift must be in -31..=30",
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// `2^e` for `e` in the range shifts produce.
fn pow2(e: i32) -> f64 {
    f64::from_bits(((1023 + e.clamp(-1022, 1023)) as u64) << 52)
}

/// The requantization state of one output channel: its bias and multiplier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChannelRequant {
    /// The channel's int32 bias (0 without bias).
    pub bias: i32,
    /// The channel's multiplier.
    pub mult: Multiplier,
}

/// The parameters convolution and depthwise convolution share: output channel
/// count, optional per-channel bias, requantization, input and output
/// quantization.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Channels<'a> {
    pub out_channels: usize,
    pub bias: Option<Values<'a, i32>>,
    pub requant: Requantization<'a>,
    pub input: Quant,
    pub output: Quant,
}

impl Channels<'_> {
    /// Bias and multiplier of output channel `c` (a validated layer has both).
    #[inline]
    pub fn channel(&self, c: usize, rounding: Rounding) -> ChannelRequant {
        ChannelRequant {
            bias: self.bias.and_then(|b| b.get(c)).unwrap_or(0),
            mult: self
                .requant
                .multiplier(c, self.input, self.output, rounding)
                .unwrap_or_default(),
        }
    }

    /// Checks bias and requantization lengths, quantization, multipliers in range
    /// and accumulators that fit in i32. `weight_sum_abs(c)` is `Σ|w|` over the
    /// taps of output channel `c`.
    pub fn validate(&self, weight_sum_abs: impl Fn(usize) -> i64) -> Result<()> {
        let (input, output) = (self.input, self.output);
        input.validate(Param::InputQuant)?;
        output.validate(Param::OutputQuant)?;
        if let Some(b) = self.bias
            && b.len() != self.out_channels
        {
            return Err(Error::length(Param::Bias, self.out_channels, b.len()));
        }
        self.requant.validate(self.out_channels, input, output)?;
        let max_diff = (127 - input.zero_point).max(input.zero_point + 128) as i64;
        for c in 0..self.out_channels {
            let b = self.bias.and_then(|b| b.get(c)).unwrap_or(0) as i64;
            if b.abs() + weight_sum_abs(c) * max_diff > i32::MAX as i64 {
                return Err(Error::AccumulatorOverflow {
                    layer: None,
                    channel: c,
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_parameters_are_used_as_given() {
        let r = Requantization::Fixed {
            multipliers: Values::Slice(&[0x4000_0001, 0x7fff_ffff]),
            shifts: Values::Slice(&[-9, 3]),
        };
        let q = Quant::new(1.0, 0);
        assert_eq!(
            r.multiplier(1, q, q, Rounding::Single),
            Some(Multiplier {
                multiplier: 0x7fff_ffff,
                shift: 3
            })
        );
        assert_eq!(r.multiplier(2, q, q, Rounding::Single), None);
    }

    #[test]
    fn scales_and_fixed_agree_where_they_express_the_same_multiplier() {
        let (input, output) = (Quant::new(0.02, -128), Quant::new(0.05, 3));
        for w in [0.001f32, 0.0123, 0.5, 0.77, 3.0] {
            let scales = [w];
            let s = Requantization::WeightScales(Values::Slice(&scales));
            let m = s.multiplier(0, input, output, Rounding::Double).unwrap();
            let (ms, ss) = ([m.multiplier], [m.shift]);
            let f = Requantization::Fixed {
                multipliers: Values::Slice(&ms),
                shifts: Values::Slice(&ss),
            };
            assert_eq!(f.multiplier(0, input, output, Rounding::Double), Some(m));
            let back = f.weight_scale(0, input, output).unwrap();
            assert!((back - w).abs() <= w * 1e-6, "{w} {back}");
        }
    }

    #[test]
    fn validation_names_the_parameter() {
        let q = Quant::new(1.0, 0);
        let ch = |requant| Channels {
            out_channels: 2,
            bias: None,
            requant,
            input: q,
            output: q,
        };
        let bad_shift = ch(Requantization::Fixed {
            multipliers: Values::Slice(&[1 << 30]),
            shifts: Values::Slice(&[31]),
        });
        assert_eq!(
            bad_shift.validate(|_| 1),
            Err(Error::invalid(
                Param::Shifts,
                "every shift must be in -31..=30"
            ))
        );
        let negative = ch(Requantization::Fixed {
            multipliers: Values::Slice(&[-1, 1]),
            shifts: Values::Slice(&[0, 0]),
        });
        assert_eq!(
            negative.validate(|_| 1),
            Err(Error::invalid(
                Param::Multipliers,
                "every multiplier must be in 0..=2147483647"
            ))
        );
        let lengths = ch(Requantization::Fixed {
            multipliers: Values::Slice(&[1, 1]),
            shifts: Values::Slice(&[0]),
        });
        assert_eq!(
            lengths.validate(|_| 1),
            Err(Error::length(Param::Shifts, 2, 1))
        );
        let three = ch(Requantization::WeightScales(Values::Slice(&[1.0; 3])));
        assert_eq!(
            three.validate(|_| 1),
            Err(Error::length(Param::WeightScales, 2, 3))
        );
        assert_eq!(
            ch(Requantization::WeightScales(Values::Slice(&[1.0]))).validate(|_| 1),
            Ok(())
        );
    }
}
