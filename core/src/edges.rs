//! Edges: the convolution walkthrough's model — one image kernel stacked over the
//! gray or RGB input channels, ReLU, optional max-pooling — built without
//! allocation, so the firmware's built-in demo model is the host's `scanline edges`
//! model byte for byte.
//!
//! The model, as TensorFlow would write it:
//! `tf.nn.conv2d(x, k, strides=1, padding='SAME')` with the kernel stacked over
//! the channels (`tf.stack([kernel] * 3, axis=2)` reshaped to `[k, k, 3, 1]`; one
//! channel for gray), then `tf.nn.relu`, then (optionally)
//! `MaxPool2D(pool_size=n)` (stride n, VALID). The input is pixels quantized with
//! [`INPUT_QUANT`] (scale 1/255, zero point -128: exactly `p - 128`); the output
//! scale covers the kernel's whole response to inputs in `[0, 1]`, so nothing
//! saturates.
//!
//! # Examples
//!
//! ```
//! use scanline::edges::EdgeModel;
//! use scanline::kernel::Kernel;
//! use scanline::preset::Preset;
//! let edges = EdgeModel::new(Kernel::preset(Preset::Laplacian8), 1, Some(2))?;
//! let q = edges.output_quant();
//! // laplacian8's response to [0, 1] inputs spans [-8, 8]: both ends fit.
//! assert!(q.dequantize(-128) <= -8.0 && q.dequantize(127) >= 8.0);
//! let model = edges.model(240, 320)?;
//! assert_eq!(model.layers().len(), 3); // conv, ReLU, 2x2 max-pool
//! assert_eq!(model.output_shape(), scanline::Shape::new(120, 160, 1));
//! # Ok::<(), scanline::Error>(())
//! ```

use crate::kernel::{Kernel, MAX_TAPS};
use crate::{
    Activation, Conv2d, Error, Layer, MaxPool2d, Model, Padding, Param, Quant, Relu,
    Requantization, Result, Rounding, Shape, Values, WeightLayout, Window,
};

/// Quantization of the input pixels: `p / 255` with scale 1/255, zero point -128,
/// so the int8 value is exactly `p - 128`.
pub const INPUT_QUANT: Quant = Quant::new(1.0 / 255.0, -128);

/// Most input channels (RGB).
pub const MAX_CHANNELS: usize = 3;

/// The walkthrough model: kernel stacked over 1 or 3 channels, ReLU, optional pool.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgeModel {
    kernel: Kernel,
    channels: usize,
    pool: Option<usize>,
    /// int8 weights, HWIO `[k, k, channels, 1]`: each tap repeated per channel.
    weights: [i8; MAX_TAPS * MAX_CHANNELS],
    weight_scale: [f32; 1],
    output: Quant,
}

impl EdgeModel {
    /// The walkthrough for `kernel` over `channels` (1: gray, 3: colour) input
    /// channels, with `pool` x `pool` max-pooling (stride `pool`) if given.
    ///
    /// Errors: [`Param::InChannels`] unless 1 or 3 channels, [`Param::Pool`] for a
    /// pool of 0 or above 255, [`Param::Kernel`] if the kernel quantizes to zeros.
    pub fn new(kernel: Kernel, channels: usize, pool: Option<usize>) -> Result<Self> {
        if channels != 1 && channels != 3 {
            return Err(Error::invalid(
                Param::InChannels,
                "the edge model takes 1 (gray) or 3 (colour) channels",
            ));
        }
        if let Some(p) = pool
            && !(1..=crate::pool::MAX_WINDOW).contains(&p)
        {
            return Err(Error::invalid(Param::Pool, "must be in 1..=255"));
        }
        let (q, scale) = kernel.quantized();
        let taps = kernel.size() * kernel.size();
        let mut weights = [0i8; MAX_TAPS * MAX_CHANNELS];
        for (chunk, &w) in weights.chunks_exact_mut(channels).zip(q.iter().take(taps)) {
            chunk.fill(w);
        }
        // Response range over inputs in [0, 1]: negative taps at 1 give the minimum.
        let (mut lo, mut hi) = (0f64, 0f64);
        for &w in weights.iter().take(taps * channels) {
            let r = w as f64 * scale as f64;
            if r < 0.0 {
                lo += r;
            } else {
                hi += r;
            }
        }
        if lo == hi {
            return Err(Error::invalid(
                Param::Kernel,
                "the kernel quantizes to all zeros",
            ));
        }
        // 254 steps for the range and a zero point rounded up: both ends stay inside
        // -128..=127 whatever the rounding.
        let out_scale = ((hi - lo) / 254.0) as f32;
        let zp = ceil(-128.0 - lo / out_scale as f64).clamp(-128.0, 127.0) as i32;
        Ok(Self {
            kernel,
            channels,
            pool,
            weights,
            weight_scale: [scale],
            output: Quant::new(out_scale, zp),
        })
    }

    /// The kernel.
    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }

    /// Input channels (1 or 3).
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Pool size, if any.
    pub fn pool(&self) -> Option<usize> {
        self.pool
    }

    /// Quantization of the convolution output (and of the ReLU and pool outputs).
    pub fn output_quant(&self) -> Quant {
        self.output
    }

    /// The int8 weight scale (per tensor).
    pub fn weight_scale(&self) -> f32 {
        let [scale] = self.weight_scale;
        scale
    }

    /// The int8 weights, HWIO `[k, k, channels, 1]`.
    pub fn weights(&self) -> &[i8] {
        let k = self.kernel.size();
        let n = k * k * self.channels;
        self.weights.get(..n).unwrap_or(&self.weights)
    }

    /// The layers: convolution (no activation), standalone ReLU, optional pool.
    pub fn layers(&self) -> heapless::Vec<Layer<'_>, 3> {
        let k = self.kernel.size();
        let mut layers = heapless::Vec::new();
        let conv = Layer::Conv2d(Conv2d {
            in_channels: self.channels,
            out_channels: 1,
            window: Window::square(k, 1, Padding::Same),
            weights: self.weights(),
            layout: WeightLayout::Hwio,
            bias: None,
            requant: Requantization::WeightScales(Values::Slice(&self.weight_scale)),
            input: INPUT_QUANT,
            output: self.output,
            activation: Activation::None,
        });
        let relu = Layer::Relu(Relu {
            activation: Activation::Relu,
            input: self.output,
            output: self.output,
        });
        // Capacity 3: these pushes cannot fail.
        let _ = layers.push(conv);
        let _ = layers.push(relu);
        if let Some(n) = self.pool {
            let _ = layers.push(Layer::MaxPool(MaxPool2d {
                window: Window::square(n, n, Padding::Valid),
                quant: self.output,
                activation: Activation::None,
            }));
        }
        layers
    }

    /// The validated model for a `height` x `width` input: every layer.
    pub fn model(&self, height: usize, width: usize) -> Result<Model<'_>> {
        self.model_to(height, width, 3)
    }

    /// The validated model for a `height` x `width` input, up to and including
    /// stage `stages` (1: conv, 2: + ReLU, 3: + pool when there is one).
    /// A pool larger than the image is [`Error::EmptyOutput`] at layer 2.
    pub fn model_to(&self, height: usize, width: usize, stages: usize) -> Result<Model<'_>> {
        let layers = self.layers();
        let n = stages.clamp(1, layers.len());
        Model::new(
            Shape::new(height, width, self.channels),
            INPUT_QUANT,
            layers.get(..n).unwrap_or(&layers),
            Rounding::Double,
        )
    }
}

/// `ceil` for the finite values [`EdgeModel::new`] computes (no libm in core).
fn ceil(x: f64) -> f64 {
    let t = x as i64 as f64;
    if t < x { t + 1.0 } else { t }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preset::Preset;

    #[test]
    fn ceil_matches_std() {
        for x in [-3.5, -3.0, -0.2, 0.0, 0.2, 2.0, 2.0001, 127.9] {
            assert_eq!(ceil(x), x.ceil(), "{x}");
        }
    }

    #[test]
    fn colour_stacks_each_tap_over_three_channels() {
        let e = EdgeModel::new(Kernel::preset(Preset::SobelX), 3, None).unwrap();
        assert_eq!(&e.weights()[..6], &[-1, -1, -1, 0, 0, 0]);
        assert_eq!(e.weights().len(), 27);
        assert_eq!(e.layers().len(), 2);
    }

    #[test]
    fn the_output_range_covers_the_full_response() {
        for p in Preset::ALL {
            for c in [1, 3] {
                let e = EdgeModel::new(Kernel::preset(p), c, None).unwrap();
                let taps = p.real();
                let lo: f32 = taps.iter().filter(|&&t| t < 0.0).sum::<f32>() * c as f32;
                let hi: f32 = taps.iter().filter(|&&t| t > 0.0).sum::<f32>() * c as f32;
                let q = e.output_quant();
                assert!(q.dequantize(-128) <= lo + 1e-4, "{} {c}", p.name());
                assert!(q.dequantize(127) >= hi - 1e-4, "{} {c}", p.name());
            }
        }
    }

    #[test]
    fn a_flat_image_has_edges_only_at_its_border() {
        // Inside a flat image laplacian8 sums to 0: the output zero point. At the
        // border the padding taps contribute nothing, so 8x minus the inside
        // neighbours is positive there (x = 128/255 > 0).
        let e = EdgeModel::new(Kernel::preset(Preset::Laplacian8), 1, None).unwrap();
        let model = e.model(5, 6).unwrap();
        let input = [0i8; 30];
        let mut out = [0i8; 30];
        let mut scratch = [0i8; 60];
        crate::frame::run(&model, &input, &mut out, &mut scratch).unwrap();
        let zp = e.output_quant().zero_point as i8;
        for y in 0..5 {
            for x in 0..6 {
                let v = out[y * 6 + x];
                let border = y == 0 || y == 4 || x == 0 || x == 5;
                assert!(if border { v > zp } else { v == zp }, "{y} {x} {v}");
            }
        }
    }

    #[test]
    fn bad_parameters_name_them() {
        let k = Kernel::preset(Preset::Laplacian8);
        assert_eq!(
            EdgeModel::new(k, 2, None).unwrap_err(),
            Error::invalid(
                Param::InChannels,
                "the edge model takes 1 (gray) or 3 (colour) channels"
            )
        );
        assert_eq!(
            EdgeModel::new(k, 1, Some(0)).unwrap_err(),
            Error::invalid(Param::Pool, "must be in 1..=255")
        );
        // An 8x8 pool (layer 2, after conv and ReLU) finds no window in 4x4.
        let e = EdgeModel::new(k, 1, Some(8)).unwrap();
        assert_eq!(
            e.model(4, 4).unwrap_err(),
            Error::EmptyOutput {
                layer: Some(2),
                input: Shape::new(4, 4, 1)
            }
        );
    }
}
