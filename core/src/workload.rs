//! Workload: the reference layers W1–W3 of DESIGN.md ("Performance
//! yardsticks") generated exactly as the CMSIS-NN side of the comparison was,
//! so that instruction counts compare one to one and the outputs can be
//! checked against known checksums — on the host and on the microcontroller,
//! without allocation.
//!
//! Each workload is an int8 3x3 SAME stride-1 convolution with per-channel
//! integer requantization parameters and a fused ReLU (input and output zero
//! point -128), TFLite double rounding, then a 2x2 stride-2 max-pool. Its data
//! come from xorshift32 (`x ^= x << 13; x ^= x >> 17; x ^= x << 5`, the state
//! starting at the seed, each call returning the new state), drawn in this
//! order: the input in NHWC order as `(r >> 24) as i8`; the weights in OHWI
//! order the same way, -128 mapped to -127; then per output channel three
//! draws: bias `(r >> 19) - 4096 - 128 * Σ weights of the channel`,
//! multiplier `0x4000_0000 + (r >> 2)`, shift `base - (r & 1)` (base -8, -9,
//! -10 for W1, W2, W3).
//!
//! # Examples
//!
//! ```
//! use scanline::workload::{Buffers, Workload};
//! use scanline::digest::Fnv1a32;
//! use scanline::{Rounding, frame};
//! let w = Workload::W3;
//! let mut b = Buffers::new(w);
//! w.generate(&mut b.as_mut());
//! let data = b.as_ref();
//! let [conv, pool] = w.layers(&data)?;
//! let mut c = vec![0i8; w.conv_shape().len()];
//! frame::run_layer(&conv, Rounding::Double, data.input, w.input_shape(), &mut c)?;
//! let mut p = vec![0i8; w.pool_shape().len()];
//! frame::run_layer(&pool, Rounding::Double, &c, w.conv_shape(), &mut p)?;
//! let digest = |v: &[i8]| { let mut d = Fnv1a32::new(); d.update(v); d.value() };
//! assert_eq!((digest(&c), digest(&p)), (w.conv_digest(), w.pool_digest()));
//! # Ok::<(), scanline::Error>(())
//! ```

use crate::{
    Activation, Conv2d, Layer, MaxPool2d, Padding, Quant, Requantization, Result, Shape, Values,
    WeightLayout, Window,
};

/// One of the reference workloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Workload {
    /// 240x320x1, 1 → 1 channels.
    W1,
    /// 120x160x3, 3 → 8 channels.
    W2,
    /// 60x80x8, 8 → 16 channels.
    W3,
}

/// The xorshift32 generator of the workloads.
#[derive(Debug, Clone, Copy)]
pub struct Xorshift32(u32);

impl Xorshift32 {
    /// A generator whose state starts at `seed`.
    pub const fn new(seed: u32) -> Self {
        Self(seed)
    }

    /// The next state.
    ///
    /// ```
    /// let mut r = scanline::workload::Xorshift32::new(1);
    /// assert_eq!(r.next_u32(), 270369);
    /// ```
    #[allow(clippy::should_implement_trait)]
    pub fn next_u32(&mut self) -> u32 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.0 = x;
        x
    }
}

/// Borrowed storage of one workload's data.
#[derive(Debug)]
pub struct Data<'a> {
    /// The input tensor (HWC).
    pub input: &'a [i8],
    /// Weights, OHWI.
    pub weights: &'a [i8],
    /// Bias per output channel.
    pub bias: &'a [i32],
    /// Q31 multiplier per output channel.
    pub multipliers: &'a [i32],
    /// Shift per output channel.
    pub shifts: &'a [i32],
}

/// Mutable storage for [`Workload::generate`].
#[derive(Debug)]
pub struct DataMut<'a> {
    /// The input tensor (HWC).
    pub input: &'a mut [i8],
    /// Weights, OHWI.
    pub weights: &'a mut [i8],
    /// Bias per output channel.
    pub bias: &'a mut [i32],
    /// Q31 multiplier per output channel.
    pub multipliers: &'a mut [i32],
    /// Shift per output channel.
    pub shifts: &'a mut [i32],
}

/// Largest input of the workloads (W1: 240 * 320).
pub const MAX_INPUT: usize = 240 * 320;
/// Most weights of the workloads (W3: 16 * 3 * 3 * 8).
pub const MAX_WEIGHTS: usize = 16 * 9 * 8;
/// Most output channels of the workloads (W3).
pub const MAX_CHANNELS: usize = 16;

/// Fixed-size storage for any workload (about 77 KiB), e.g. a `static` on a
/// microcontroller.
#[derive(Debug, Clone)]
pub struct Buffers {
    /// The input tensor.
    pub input: [i8; MAX_INPUT],
    /// Weights, OHWI.
    pub weights: [i8; MAX_WEIGHTS],
    /// Bias per output channel.
    pub bias: [i32; MAX_CHANNELS],
    /// Multiplier per output channel.
    pub multipliers: [i32; MAX_CHANNELS],
    /// Shift per output channel.
    pub shifts: [i32; MAX_CHANNELS],
    workload: Workload,
}

impl Buffers {
    /// Zeroed storage sized for `w`.
    pub const fn new(w: Workload) -> Self {
        Self {
            input: [0; MAX_INPUT],
            weights: [0; MAX_WEIGHTS],
            bias: [0; MAX_CHANNELS],
            multipliers: [0; MAX_CHANNELS],
            shifts: [0; MAX_CHANNELS],
            workload: w,
        }
    }

    /// Makes the storage serve `w` (its contents are left as they are: call
    /// [`Workload::generate`] next). Storage in a `static` is reused this way.
    pub fn select(&mut self, w: Workload) {
        self.workload = w;
    }

    /// The workload the storage serves.
    pub fn workload(&self) -> Workload {
        self.workload
    }

    /// The parts `w` uses, mutable.
    pub fn as_mut(&mut self) -> DataMut<'_> {
        let w = self.workload;
        let co = w.out_channels();
        // Every workload fits the MAX_ sizes (tested), so no slice comes out
        // empty; if one did, the checksums would say so.
        DataMut {
            input: self
                .input
                .get_mut(..w.input_shape().len())
                .unwrap_or_default(),
            weights: self.weights.get_mut(..w.weight_count()).unwrap_or_default(),
            bias: self.bias.get_mut(..co).unwrap_or_default(),
            multipliers: self.multipliers.get_mut(..co).unwrap_or_default(),
            shifts: self.shifts.get_mut(..co).unwrap_or_default(),
        }
    }

    /// The parts `w` uses.
    pub fn as_ref(&self) -> Data<'_> {
        let w = self.workload;
        let co = w.out_channels();
        Data {
            input: self.input.get(..w.input_shape().len()).unwrap_or_default(),
            weights: self.weights.get(..w.weight_count()).unwrap_or_default(),
            bias: self.bias.get(..co).unwrap_or_default(),
            multipliers: self.multipliers.get(..co).unwrap_or_default(),
            shifts: self.shifts.get(..co).unwrap_or_default(),
        }
    }
}

impl Workload {
    /// Every workload.
    pub const ALL: [Workload; 3] = [Workload::W1, Workload::W2, Workload::W3];

    /// The workload called `name` (`W1`, `W2`, `W3`, case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|w| w.name().eq_ignore_ascii_case(name))
    }

    /// `W1`, `W2` or `W3`.
    pub const fn name(self) -> &'static str {
        match self {
            Workload::W1 => "W1",
            Workload::W2 => "W2",
            Workload::W3 => "W3",
        }
    }

    /// The input shape.
    pub const fn input_shape(self) -> Shape {
        match self {
            Workload::W1 => Shape::new(240, 320, 1),
            Workload::W2 => Shape::new(120, 160, 3),
            Workload::W3 => Shape::new(60, 80, 8),
        }
    }

    /// Output channels of the convolution.
    pub const fn out_channels(self) -> usize {
        match self {
            Workload::W1 => 1,
            Workload::W2 => 8,
            Workload::W3 => 16,
        }
    }

    /// The convolution's output shape (SAME, stride 1).
    pub const fn conv_shape(self) -> Shape {
        let s = self.input_shape();
        Shape::new(s.height, s.width, self.out_channels())
    }

    /// The pool's output shape (2x2, stride 2).
    pub const fn pool_shape(self) -> Shape {
        let s = self.conv_shape();
        Shape::new(s.height / 2, s.width / 2, s.channels)
    }

    /// Number of weights: `out * 3 * 3 * in`.
    pub const fn weight_count(self) -> usize {
        self.out_channels() * 9 * self.input_shape().channels
    }

    /// Multiply-accumulates of the convolution.
    pub const fn macs(self) -> usize {
        self.conv_shape().len() * 9 * self.input_shape().channels
    }

    /// The generator's seed.
    pub const fn seed(self) -> u32 {
        match self {
            Workload::W1 => 0x1234_5678,
            Workload::W2 => 0x9E37_79B9,
            Workload::W3 => 0xC0FF_EE01,
        }
    }

    /// The base of the shifts.
    const fn shift_base(self) -> i32 {
        match self {
            Workload::W1 => -8,
            Workload::W2 => -9,
            Workload::W3 => -10,
        }
    }

    /// FNV-1a 32 of the convolution's output bytes (the CMSIS-NN run's).
    pub const fn conv_digest(self) -> u32 {
        match self {
            Workload::W1 => 0xf79c_ee6e,
            Workload::W2 => 0x7b85_3dd8,
            Workload::W3 => 0xa1db_09aa,
        }
    }

    /// FNV-1a 32 of the pool's output bytes (the CMSIS-NN run's).
    pub const fn pool_digest(self) -> u32 {
        match self {
            Workload::W1 => 0x0fc7_7f6e,
            Workload::W2 => 0x44f9_50af,
            Workload::W3 => 0xda21_71ab,
        }
    }

    /// Quantization of input and output (zero point -128; the integer parameters
    /// make the scale irrelevant).
    pub const fn quant(self) -> Quant {
        Quant::new(1.0, -128)
    }

    /// Fills `data` (sized for this workload: see [`Buffers`]) from the seed.
    /// Wrong sizes leave the extra elements alone or draw fewer (use
    /// [`Buffers`] to get them right).
    pub fn generate(self, data: &mut DataMut<'_>) {
        let mut r = Xorshift32::new(self.seed());
        for v in data.input.iter_mut() {
            *v = (r.next_u32() >> 24) as i8;
        }
        for v in data.weights.iter_mut() {
            *v = ((r.next_u32() >> 24) as i8).max(-127);
        }
        let per = 9 * self.input_shape().channels;
        for c in 0..self.out_channels().min(data.bias.len()) {
            let sum: i32 = data
                .weights
                .get(c * per..(c + 1) * per)
                .map_or(0, |w| w.iter().map(|&w| w as i32).sum());
            if let Some(b) = data.bias.get_mut(c) {
                *b = (r.next_u32() >> 19) as i32 - 4096 - 128 * sum;
            }
            if let Some(m) = data.multipliers.get_mut(c) {
                *m = 0x4000_0000 + (r.next_u32() >> 2) as i32;
            }
            if let Some(s) = data.shifts.get_mut(c) {
                *s = self.shift_base() - (r.next_u32() & 1) as i32;
            }
        }
    }

    /// The two layers over `data`: the convolution with fused ReLU, and the
    /// 2x2 max-pool. Errors if `data` does not fit the workload.
    pub fn layers<'a>(self, data: &Data<'a>) -> Result<[Layer<'a>; 2]> {
        let q = self.quant();
        let conv = Layer::Conv2d(Conv2d {
            in_channels: self.input_shape().channels,
            out_channels: self.out_channels(),
            window: Window::square(3, 1, Padding::Same),
            weights: data.weights,
            layout: WeightLayout::Ohwi,
            bias: Some(Values::Slice(data.bias)),
            requant: Requantization::Fixed {
                multipliers: Values::Slice(data.multipliers),
                shifts: Values::Slice(data.shifts),
            },
            input: q,
            output: q,
            activation: Activation::Relu,
        });
        let pool = Layer::MaxPool(MaxPool2d {
            window: Window::square(2, 2, Padding::Valid),
            quant: q,
            activation: Activation::None,
        });
        conv.output_shape(self.input_shape())?;
        Ok([conv, pool])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Fnv1a32;
    use crate::{Model, Rounding, frame};

    fn digest(v: &[i8]) -> u32 {
        let mut d = Fnv1a32::new();
        d.update(v);
        d.value()
    }

    #[test]
    #[cfg_attr(
        miri,
        ignore = "full-size frames: hours under Miri, which runs the same kernels on small tensors in the other tests"
    )]
    fn every_workload_gives_the_cmsis_nn_checksums() {
        for w in Workload::ALL {
            let mut b = Buffers::new(w);
            w.generate(&mut b.as_mut());
            let data = b.as_ref();
            let layers = w.layers(&data).unwrap();
            let mut conv = vec![0i8; w.conv_shape().len()];
            frame::run_layer(
                &layers[0],
                Rounding::Double,
                data.input,
                w.input_shape(),
                &mut conv,
            )
            .unwrap();
            assert_eq!(digest(&conv), w.conv_digest(), "{} conv", w.name());
            let model = Model::new(w.input_shape(), w.quant(), &layers, Rounding::Double).unwrap();
            let mut pool = vec![0i8; w.pool_shape().len()];
            frame::run(
                &model,
                data.input,
                &mut pool,
                &mut vec![0i8; model.frame_scratch_len()],
            )
            .unwrap();
            assert_eq!(digest(&pool), w.pool_digest(), "{} pool", w.name());
            assert_eq!(model.output_shape(), w.pool_shape());
        }
    }

    #[test]
    fn the_cortex_m4_kernels_give_the_cmsis_nn_checksums() {
        for w in Workload::ALL {
            let mut b = Buffers::new(w);
            w.generate(&mut b.as_mut());
            let data = b.as_ref();
            let layers = w.layers(&data).unwrap();
            let exec = crate::exec::Exec::new(Rounding::Double, crate::exec::Kernels::DSP);
            let mut conv = vec![0i8; w.conv_shape().len()];
            frame::run_layer_with(&layers[0], exec, data.input, w.input_shape(), &mut conv)
                .unwrap();
            let mut pool = vec![0i8; w.pool_shape().len()];
            frame::run_layer_with(&layers[1], exec, &conv, w.conv_shape(), &mut pool).unwrap();
            assert_eq!(digest(&conv), w.conv_digest(), "{} conv", w.name());
            assert_eq!(digest(&pool), w.pool_digest(), "{} pool", w.name());
        }
    }

    #[test]
    fn generation_follows_the_draw_order() {
        let w = Workload::W2;
        let mut b = Buffers::new(w);
        w.generate(&mut b.as_mut());
        let mut r = Xorshift32::new(w.seed());
        assert_eq!(b.input[0], (r.next_u32() >> 24) as i8);
        assert!(b.as_ref().weights.iter().all(|&v| v >= -127));
        assert!(b.as_ref().multipliers.iter().all(|&m| m >= 0x4000_0000));
        assert!(b.as_ref().shifts.iter().all(|&s| s == -9 || s == -10));
        assert_eq!(w.macs(), 120 * 160 * 8 * 27);
    }
}
