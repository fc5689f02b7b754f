//! Edges: the convolution walkthrough as a tool — one kernel over a photo (gray, or
//! stacked over RGB), then ReLU, then optional max-pooling, in int8 or in f32.

use crate::engine::{Engine, run_stream};
use crate::kernel::Kernel;
use crate::reference::{Conv2dF32, FloatLayer, MaxPoolF32};
use crate::tensor::Tensor;
use crate::{Error, Result};
use scanline::conv::WeightLayout;
use scanline::{
    Activation, Conv2d, Layer, MaxPool2d, Model, Padding, Quant, Relu, Rounding, Shape, Values,
    Window,
};

/// Quantization of the input pixels: `p / 255` with scale 1/255, zero point -128,
/// so the int8 value is exactly `p - 128`.
pub const INPUT_QUANT: Quant = Quant::new(1.0 / 255.0, -128);

/// The walkthrough: `tf.nn.conv2d(x, k, strides=1, padding='SAME')`, `tf.nn.relu`,
/// then (optionally) `MaxPool2D(pool_size=n)` (stride n, VALID).
#[derive(Debug, Clone)]
pub struct Edges {
    kernel: Kernel,
    channels: usize,
    pool: Option<usize>,
    /// int8 weights, HWIO `[k, k, channels, 1]`: the kernel stacked per channel.
    weights: Vec<i8>,
    weight_scale: [f32; 1],
    output: Quant,
}

/// The three stages of the walkthrough.
#[derive(Debug, Clone, PartialEq)]
pub struct Stages<T> {
    /// Convolution, before the activation.
    pub conv: Tensor<T>,
    /// After ReLU.
    pub relu: Tensor<T>,
    /// After max-pooling, if asked for.
    pub pool: Option<Tensor<T>>,
}

impl<T: Copy> Stages<T> {
    /// Each stage with every value mapped.
    pub fn map<U>(&self, f: impl Fn(T) -> U + Copy) -> Stages<U> {
        Stages {
            conv: self.conv.map(f),
            relu: self.relu.map(f),
            pool: self.pool.as_ref().map(|p| p.map(f)),
        }
    }

    /// `(name, tensor)` of each stage present, in order.
    pub fn named(&self) -> Vec<(&'static str, &Tensor<T>)> {
        let mut v = vec![("conv", &self.conv), ("relu", &self.relu)];
        if let Some(p) = &self.pool {
            v.push(("pool", p));
        }
        v
    }
}

impl Edges {
    /// The walkthrough for `kernel` over `channels` (1: gray, 3: colour) input
    /// channels, with `pool`x`pool` max-pooling if given.
    ///
    /// The output scale covers the kernel's full response to inputs in `[0, 1]`
    /// (no saturation is possible).
    ///
    /// ```
    /// use scanline_host::edges::Edges;
    /// let e = Edges::new("laplacian8".parse().unwrap(), 1, Some(2)).unwrap();
    /// let q = e.output_quant();
    /// // The response of laplacian8 to [0, 1] inputs spans [-8, 8]: both ends fit.
    /// assert!(q.dequantize(-128) <= -8.0 && q.dequantize(127) >= 8.0);
    /// ```
    pub fn new(kernel: Kernel, channels: usize, pool: Option<usize>) -> Result<Self> {
        if channels != 1 && channels != 3 {
            return Err(Error::Invalid(format!(
                "edges takes 1 (gray) or 3 (colour) channels, not {channels}"
            )));
        }
        if pool == Some(0) {
            return Err(Error::Invalid("--pool must be at least 1".into()));
        }
        let (q, scale) = kernel.quantized();
        // HWIO with one output channel: each tap repeated over the input channels,
        // exactly tf.stack([kernel] * 3, axis=2) reshaped to [k, k, 3, 1].
        let weights: Vec<i8> = q
            .iter()
            .flat_map(|&w| std::iter::repeat_n(w, channels))
            .collect();
        // Response range over inputs in [0, 1]: negative taps at 1 give the minimum.
        let (mut lo, mut hi) = (0f64, 0f64);
        for &w in &weights {
            let r = w as f64 * scale as f64;
            if r < 0.0 {
                lo += r;
            } else {
                hi += r;
            }
        }
        if lo == hi {
            return Err(Error::Kernel("the kernel quantizes to all zeros".into()));
        }
        // 254 steps for the range and a zero point rounded up: both ends stay inside
        // -128..=127 whatever the rounding.
        let out_scale = ((hi - lo) / 254.0) as f32;
        let zp = (-128.0 - lo / out_scale as f64).ceil().clamp(-128.0, 127.0) as i32;
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

    /// Quantization of the convolution output (and of ReLU and pool outputs).
    pub fn output_quant(&self) -> Quant {
        self.output
    }

    /// The int8 weight scale (per tensor).
    pub fn weight_scale(&self) -> f32 {
        self.weight_scale[0]
    }

    /// The real weights the int8 engine uses (HWIO), `q * scale`.
    pub fn real_weights(&self) -> Vec<f32> {
        self.weights
            .iter()
            .map(|&w| w as f32 * self.weight_scale[0])
            .collect()
    }

    /// The layers: convolution (no activation), standalone ReLU, optional pool.
    pub fn layers(&self) -> Vec<Layer<'_>> {
        let k = self.kernel.size();
        let mut layers = vec![
            Layer::Conv2d(Conv2d {
                in_channels: self.channels,
                out_channels: 1,
                window: Window::square(k, 1, Padding::Same),
                weights: &self.weights,
                layout: WeightLayout::Hwio,
                bias: None,
                weight_scales: Values::Slice(&self.weight_scale),
                input: INPUT_QUANT,
                output: self.output,
                activation: Activation::None,
            }),
            Layer::Relu(Relu {
                activation: Activation::Relu,
                input: self.output,
                output: self.output,
            }),
        ];
        if let Some(n) = self.pool {
            layers.push(Layer::MaxPool(MaxPool2d {
                window: Window::square(n, n, Padding::Valid),
                quant: self.output,
                activation: Activation::None,
            }));
        }
        layers
    }

    /// The validated int8 model for an input of `height` x `width`, up to and
    /// including layer `stages - 1` (1: conv, 2: +ReLU, 3: +pool).
    pub fn model(&self, height: usize, width: usize, stages: usize) -> Result<Model<'_>> {
        if let Some(p) = self.pool
            && (p > height || p > width)
        {
            return Err(Error::Invalid(format!(
                "--pool {p} does not fit the {width}x{height} image"
            )));
        }
        let layers = self.layers();
        let n = stages.min(layers.len());
        let shape = Shape::new(height, width, self.channels);
        Ok(Model::new(
            shape,
            INPUT_QUANT,
            &layers[..n],
            Rounding::Double,
        )?)
    }

    fn check_input<T>(&self, input: &Tensor<T>) -> Result<()> {
        if input.shape.channels != self.channels {
            return Err(Error::Shape(format!(
                "the input has {} channels, the walkthrough was set up for {}",
                input.shape.channels, self.channels
            )));
        }
        Ok(())
    }

    /// Runs an int8 engine over an int8 input (`p - 128`). The stream engine runs
    /// one model per stage (conv; conv+ReLU; conv+ReLU+pool), since a pipeline
    /// emits only its last layer.
    pub fn run_int8(&self, engine: Engine, input: &Tensor<i8>) -> Result<Stages<i8>> {
        self.check_input(input)?;
        let (h, w) = (input.shape.height, input.shape.width);
        let stages = self.layers().len();
        let outs = match engine {
            Engine::Frame => {
                let model = self.model(h, w, stages)?;
                let mut outs = Vec::new();
                let mut cur = input.clone();
                for (i, layer) in model.layers().iter().enumerate() {
                    let shape = model.shape(i + 1).unwrap_or_default();
                    let mut out = Tensor::filled(shape, 0i8);
                    scanline::frame::run_layer(
                        layer,
                        model.rounding(),
                        &cur.data,
                        cur.shape,
                        &mut out.data,
                    )?;
                    outs.push(out.clone());
                    cur = out;
                }
                outs
            }
            Engine::Stream => (1..=stages)
                .map(|n| run_stream(&self.model(h, w, n)?, input))
                .collect::<Result<Vec<_>>>()?,
        };
        stages_from(outs)
    }

    /// Runs the f32 reference (TensorFlow's float semantics) over real pixels
    /// `p / 255`, with the kernel as given (not its int8 approximation).
    pub fn run_float(&self, input: &Tensor<f32>) -> Result<Stages<f32>> {
        self.check_input(input)?;
        // Fail on a pool that does not fit exactly as the int8 path does.
        self.model(input.shape.height, input.shape.width, 3)?;
        let k = self.kernel.size();
        let weights = self
            .kernel
            .taps()
            .iter()
            .flat_map(|&w| std::iter::repeat_n(w, self.channels))
            .collect();
        let mut layers = vec![
            FloatLayer::Conv2d(Conv2dF32 {
                in_channels: self.channels,
                out_channels: 1,
                window: Window::square(k, 1, Padding::Same),
                weights,
                layout: WeightLayout::Hwio,
                bias: None,
                activation: Activation::None,
            }),
            FloatLayer::Activation(Activation::Relu),
        ];
        if let Some(n) = self.pool {
            layers.push(FloatLayer::MaxPool(MaxPoolF32 {
                window: Window::square(n, n, Padding::Valid),
                activation: Activation::None,
            }));
        }
        let mut outs = Vec::new();
        let mut cur = input.clone();
        for layer in &layers {
            cur = layer.run(&cur)?;
            outs.push(cur.clone());
        }
        stages_from(outs)
    }

    /// Dequantizes int8 results to real values.
    pub fn dequantize(&self, s: &Stages<i8>) -> Stages<f32> {
        let q = self.output;
        s.map(move |v| q.dequantize(v))
    }
}

/// Builds [`Stages`] from the per-layer outputs, in order.
fn stages_from<T>(outs: Vec<Tensor<T>>) -> Result<Stages<T>> {
    let mut it = outs.into_iter();
    match (it.next(), it.next(), it.next()) {
        (Some(conv), Some(relu), pool) => Ok(Stages { conv, relu, pool }),
        _ => Err(Error::Invalid(
            "the walkthrough produced fewer than two stages".into(),
        )),
    }
}
