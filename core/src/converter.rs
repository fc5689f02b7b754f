//! Converter: the TensorFlow Lite converter's quantization rules — float weights,
//! biases and activation ranges to int8 / int32 parameters — computed exactly as
//! the converter does, into caller-provided buffers.
//!
//! Sources (TensorFlow 2.x):
//! - weights: `SymmetricPerChannelQuantization` in the converter's
//!   `quantization_utils.cc`: per output channel `scale = max|w| / 127` (f32), and
//!   `q = round(w * (127 / max|w|))` — a multiplication by the f32 inverse, rounded
//!   half away from zero (`TfLiteRound`), clamped to `[-127, 127]`. That legacy
//!   path leaves scale 0 on an all-zero channel, which no int8 kernel can use; the
//!   MLIR quantizer (`fakeQuantAttrsToType`) sets scale 1.0 when the range is a
//!   point ("the tensor contents are all 0.0s, so the scale is set to 1.0"). We do
//!   the same: an all-zero channel gets scale 1.0 and weights 0.
//! - bias: `SymmetricPerChannelBiasQuantize` / `SymmetricBiasQuantize`:
//!   `scale = input_scale * weight_scale[c]` (f32 product),
//!   `q = round(b * (1 / scale))` with the inverse rounded to f32, clamped to
//!   `[-(2^31 - 1), 2^31 - 1]`.
//! - activations: `ChooseQuantizationParams` (`kernels/internal/quantization_util.h`)
//!   for int8 (`qmin = -128`, `qmax = 127`): the range is widened to include 0;
//!   `scale = (max - min) / 255` in f64, the zero point from whichever of
//!   `qmin - min / scale` and `qmax - max / scale` has the smaller error terms,
//!   rounded half away from zero and clamped to `[-128, 127]`; the scale is stored
//!   as f32. A point range `[0, 0]` gives scale 0 there; as the MLIR quantizer, we
//!   give it scale 1.0 and zero point -128 (every value dequantizes to 0).
//!
//! # Examples
//!
//! ```
//! use scanline::converter::{choose_quant, quantize_weights};
//! use scanline::filter::Filter;
//! use scanline::{Quant, WeightLayout};
//! // Two 1x1 filters over one channel, HWIO (output channel innermost).
//! let mut q = [0i8; 4];
//! let mut scales = [0f32; 2];
//! let filter = Filter::new(2, 1, 2, 1);
//! quantize_weights(&[0.5, 0.0, -1.0, 0.0], filter, WeightLayout::Hwio, &mut q, &mut scales).unwrap();
//! assert_eq!(q, [64, 0, -127, 0]);
//! assert_eq!(scales, [1.0 / 127.0, 1.0]); // the all-zero channel gets scale 1
//! // Pixels in [0, 1]: TFLite's scale 1/255 and zero point -128.
//! assert_eq!(choose_quant(0.0, 1.0).unwrap(), Quant::new(1.0 / 255.0, -128));
//! ```

use crate::filter::{Filter, WeightLayout};
use crate::quant::{round_f32, round_f64};
use crate::{Error, Param, Quant, Result};

/// Symmetric int8 quantization of `weights` (a `filter` laid out as `layout`) into
/// `out`, with one scale per output channel when `scales` has
/// `filter.out_channels` entries, or one for the whole tensor when it has one.
///
/// Errors: [`Error::Length`] for buffers of the wrong size, [`Error::Invalid`]
/// ([`Param::Weights`]) for a weight that is not finite.
pub fn quantize_weights(
    weights: &[f32],
    filter: Filter,
    layout: WeightLayout,
    out: &mut [i8],
    scales: &mut [f32],
) -> Result<()> {
    let n = filter.len();
    if weights.len() != n || n == 0 {
        return Err(Error::length(Param::Weights, n, weights.len()));
    }
    if out.len() != n {
        return Err(Error::length(Param::Output, n, out.len()));
    }
    let per_channel = scales.len() != 1;
    if per_channel && scales.len() != filter.out_channels {
        return Err(Error::length(
            Param::WeightScales,
            filter.out_channels,
            scales.len(),
        ));
    }
    if weights.iter().any(|w| !w.is_finite()) {
        return Err(Error::invalid(
            Param::Weights,
            "every weight must be finite",
        ));
    }
    let channel = |i: usize| {
        if per_channel {
            filter.channel_of(layout, i)
        } else {
            0
        }
    };
    // Largest magnitude per channel, kept in `scales` until the end.
    scales.fill(0.0);
    for (i, &w) in weights.iter().enumerate() {
        if let Some(m) = scales.get_mut(channel(i)) {
            *m = m.max(w.abs());
        }
    }
    for (i, (&w, q)) in weights.iter().zip(out.iter_mut()).enumerate() {
        let max = scales.get(channel(i)).copied().unwrap_or(0.0);
        let inv = if max == 0.0 { 0.0 } else { 127.0 / max };
        *q = round_f32(w * inv).clamp(-127, 127) as i8;
    }
    for s in scales.iter_mut() {
        *s = if *s == 0.0 { 1.0 } else { *s / 127.0 };
    }
    Ok(())
}

/// int32 biases with scale `input_scale * weight_scales[c]` (one weight scale, or
/// one per channel), as the TFLite converter rounds them (see the
/// [module docs](self)), into `out` (one per bias value).
///
/// ```
/// use scanline::converter::quantize_bias;
/// let mut q = [0i32; 2];
/// quantize_bias(&[1.0, -0.3], 0.5, &[0.01], &mut q).unwrap();
/// assert_eq!(q, [200, -60]);
/// ```
pub fn quantize_bias(
    bias: &[f32],
    input_scale: f32,
    weight_scales: &[f32],
    out: &mut [i32],
) -> Result<()> {
    let n = weight_scales.len();
    if n != 1 && n != bias.len() {
        return Err(Error::length(Param::WeightScales, bias.len(), n));
    }
    if out.len() != bias.len() {
        return Err(Error::length(Param::Bias, bias.len(), out.len()));
    }
    for (c, (&b, q)) in bias.iter().zip(out.iter_mut()).enumerate() {
        // A missing scale is NaN, refused just below.
        let scale = weight_scales.get(if n == 1 { 0 } else { c });
        let s = input_scale * scale.copied().unwrap_or(f32::NAN);
        if !(s.is_finite() && s > 0.0 && b.is_finite()) {
            return Err(Error::invalid(
                Param::Bias,
                "every bias and its scale input_scale * weight_scale must be finite (scale > 0)",
            ));
        }
        let inv = (1.0 / s as f64) as f32;
        *q = round_f64((b * inv) as f64).clamp(-(i32::MAX as i64), i32::MAX as i64) as i32;
    }
    Ok(())
}

/// Activation quantization for real values in `[min, max]` (widened to include 0),
/// as TFLite's `ChooseQuantizationParams` for int8 (see the [module docs](self)).
///
/// ```
/// use scanline::Quant;
/// use scanline::converter::choose_quant;
/// // [-1, 1]: the zero point -0.5 rounds away from zero.
/// assert_eq!(choose_quant(-1.0, 1.0).unwrap().zero_point, -1);
/// assert_eq!(choose_quant(0.0, 0.0).unwrap(), Quant::new(1.0, -128));
/// assert!(choose_quant(1.0, 0.0).is_err());
/// ```
pub fn choose_quant(min: f32, max: f32) -> Result<Quant> {
    if !(min.is_finite() && max.is_finite()) || min > max {
        return Err(Error::invalid(
            Param::OutputQuant,
            "the range must be a finite interval, min <= max",
        ));
    }
    let (qmin, qmax) = (-128.0f64, 127.0f64);
    let rmin = (min as f64).min(0.0);
    let rmax = (max as f64).max(0.0);
    if rmin == rmax {
        return Ok(Quant::new(1.0, -128));
    }
    let scale = (rmax - rmin) / (qmax - qmin);
    let from_min = qmin - rmin / scale;
    let from_max = qmax - rmax / scale;
    let err_min = qmin.abs() + (rmin / scale).abs();
    let err_max = qmax.abs() + (rmax / scale).abs();
    let zp = if err_min < err_max {
        from_min
    } else {
        from_max
    };
    let zp = if zp < qmin {
        -128
    } else if zp > qmax {
        127
    } else {
        round_f64(zp) as i32
    };
    let scale = scale as f32;
    if !(scale.is_finite() && scale > 0.0) {
        return Err(Error::invalid(
            Param::OutputQuant,
            "the range gives an unusable scale (too wide or too narrow for f32)",
        ));
    }
    Ok(Quant::new(scale, zp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn weights(
        w: &[f32],
        filter: Filter,
        layout: WeightLayout,
        per_channel: bool,
    ) -> (Vec<i8>, Vec<f32>) {
        let mut q = vec![0i8; w.len()];
        let mut s = vec![0f32; if per_channel { filter.out_channels } else { 1 }];
        quantize_weights(w, filter, layout, &mut q, &mut s).unwrap();
        (q, s)
    }

    proptest! {
        /// Per-channel weights: every value within half a step (plus f32 slack) of
        /// its real weight, in [-127, 127], and each channel's largest magnitude
        /// mapped to ±127.
        #[test]
        fn weights_within_half_a_step(
            w in prop::collection::vec(-10.0f32..10.0, 1..64),
            channels in 1usize..5,
            hwio in any::<bool>(),
        ) {
            let n = w.len() - w.len() % channels;
            prop_assume!(n > 0);
            let w = &w[..n];
            let layout = if hwio { WeightLayout::Hwio } else { WeightLayout::Ohwi };
            let filter = Filter::new(channels, 1, n / channels, 1);
            let (q, scales) = weights(w, filter, layout, true);
            let mut peak = vec![0i32; channels];
            for (i, (&v, &qv)) in w.iter().zip(&q).enumerate() {
                let c = filter.channel_of(layout, i);
                let s = scales[c];
                prop_assert!((-127..=127).contains(&qv));
                prop_assert!((qv as f32 * s - v).abs() <= s * 0.5001, "{v} {qv} {s}");
                peak[c] = peak[c].max((qv as i32).abs());
            }
            for (c, &p) in peak.iter().enumerate() {
                prop_assert!(p == 127 || scales[c] == 1.0);
            }
        }

        /// Activation ranges: real 0 is exact, and the int8 range covers
        /// `[min, max]` up to the half step the zero-point nudge may cost.
        #[test]
        fn activation_range_covered(a in -100.0f32..100.0, b in -100.0f32..100.0) {
            let (min, max) = (a.min(b), a.max(b));
            let q = choose_quant(min, max).unwrap();
            prop_assert!((-128..=127).contains(&q.zero_point));
            prop_assert_eq!(q.dequantize(q.zero_point as i8), 0.0);
            let s = q.scale;
            prop_assert!(q.dequantize(-128) <= min.min(0.0) + s * 0.5001);
            prop_assert!(q.dequantize(127) >= max.max(0.0) - s * 0.5001);
        }
    }

    #[test]
    fn weights_round_half_away_and_clamp() {
        // max 127 → inverse 1: exact ties at ±0.5 round away from zero.
        let f = Filter::new(1, 1, 5, 1);
        let (q, s) = weights(&[127.0, 0.5, -0.5, 1.5, -2.5], f, WeightLayout::Ohwi, true);
        assert_eq!((q, s), (vec![127, 1, -1, 2, -3], vec![1.0]));
        // OHWI: channel outermost.
        let f = Filter::new(2, 1, 2, 1);
        let (q, s) = weights(&[1.0, -2.0, 0.0, 0.0], f, WeightLayout::Ohwi, true);
        assert_eq!((q, s), (vec![64, -127, 0, 0], vec![2.0 / 127.0, 1.0]));
        let mut q = [0i8; 1];
        let mut s = [0f32; 1];
        let one = Filter::new(1, 1, 1, 1);
        assert_eq!(
            quantize_weights(&[f32::NAN], one, WeightLayout::Hwio, &mut q, &mut s),
            Err(Error::invalid(
                Param::Weights,
                "every weight must be finite"
            ))
        );
        assert_eq!(
            quantize_weights(&[1.0, 2.0], one, WeightLayout::Hwio, &mut q, &mut s),
            Err(Error::length(Param::Weights, 1, 2))
        );
    }

    #[test]
    fn multiplying_by_the_inverse_is_not_dividing_by_the_scale() {
        // max|w| = 0.01, w = 0.005: 0.005 * (127 / 0.01) rounds to 64, while
        // 0.005 / (0.01 / 127) rounds to 63 in f32.
        let f = Filter::new(1, 1, 2, 1);
        let (q, s) = weights(&[0.01, 0.005], f, WeightLayout::Ohwi, false);
        assert_eq!(q, vec![127, 64]);
        assert_eq!(round_f32(0.005 / s[0]), 63);
    }

    #[test]
    fn per_tensor_uses_one_scale() {
        let f = Filter::new(3, 1, 1, 1);
        let (q, s) = weights(&[2.0, -1.0, 0.0], f, WeightLayout::Hwio, false);
        assert_eq!((q, s), (vec![127, -64, 0], vec![2.0 / 127.0]));
    }

    #[test]
    fn exactly_representable_weights_come_back() {
        let scale = 0.0123f32;
        let w: Vec<f32> = (-127..=127).map(|q| q as f32 * scale).collect();
        let f = Filter::new(1, 1, w.len(), 1);
        let (q, s) = weights(&w, f, WeightLayout::Ohwi, false);
        assert_eq!(s, vec![(127.0 * scale) / 127.0]);
        for (i, &v) in q.iter().enumerate() {
            assert_eq!(v as i32, i as i32 - 127);
        }
    }

    #[test]
    fn bias_uses_the_scale_product() {
        let b = |v: &[f32], input: f32, s: &[f32]| {
            let mut out = vec![0i32; v.len()];
            quantize_bias(v, input, s, &mut out).map(|()| out)
        };
        assert_eq!(b(&[0.0], 1.0, &[1.0]).unwrap(), vec![0]);
        assert_eq!(b(&[2.5], 1.0, &[1.0]).unwrap(), vec![3]);
        assert_eq!(b(&[-2.5], 1.0, &[1.0]).unwrap(), vec![-3]);
        assert_eq!(b(&[1e30], 1.0, &[1.0]).unwrap(), vec![i32::MAX]);
        assert_eq!(b(&[-1e30], 1.0, &[1.0]).unwrap(), vec![-i32::MAX]);
        // Three scales for two biases.
        assert_eq!(
            b(&[1.0, 2.0], 1.0, &[1.0, 2.0, 3.0]),
            Err(Error::length(Param::WeightScales, 2, 3))
        );
        assert_eq!(
            b(&[1.0], 0.0, &[1.0]),
            Err(Error::invalid(
                Param::Bias,
                "every bias and its scale input_scale * weight_scale must be finite (scale > 0)"
            ))
        );
    }

    #[test]
    fn activation_params_like_tflite() {
        // Range entirely positive: widened to [0, max].
        assert_eq!(choose_quant(2.0, 5.1).unwrap(), Quant::new(0.02, -128));
        // Entirely negative: widened to [min, 0], zero point at the top.
        assert_eq!(choose_quant(-5.1, -1.0).unwrap(), Quant::new(0.02, 127));
        // [-1, 3]: scale 4/255, zero point from min: -128 + 63.75 = -64.25 → -64.
        let q = choose_quant(-1.0, 3.0).unwrap();
        assert_eq!(q.zero_point, -64);
        assert_eq!(q.scale, (4.0f64 / 255.0) as f32);
        assert_eq!(q.dequantize(q.zero_point as i8), 0.0);
        let bad = Err(Error::invalid(
            Param::OutputQuant,
            "the range must be a finite interval, min <= max",
        ));
        assert_eq!(choose_quant(f32::NAN, 1.0), bad);
        assert_eq!(choose_quant(1.0, 0.0), bad);
    }
}
