//! Edges: the convolution walkthrough as a tool — one kernel over a photo (gray, or
//! stacked over RGB), then ReLU, then optional max-pooling, in int8 or in f32.

use crate::engine::{Engine, Options, run_layer_threads, run_stream};
use crate::reference::{Conv2dF32, FloatLayer, MaxPoolF32};
use crate::tensor::Tensor;
use crate::{Error, Result};
use scanline::edges::EdgeModel;
use scanline::kernel::Kernel;
use scanline::{Activation, Model, Padding, Quant, WeightLayout, Window};

/// Quantization of the input pixels: scale 1/255, zero point -128, so the int8
/// value is exactly `p - 128` ([`scanline::edges::INPUT_QUANT`]).
pub const INPUT_QUANT: Quant = scanline::edges::INPUT_QUANT;

/// The walkthrough: the core's [`EdgeModel`] (the model the firmware runs) with
/// the host's engines and the f32 reference around it.
#[derive(Debug, Clone)]
pub struct Edges {
    model: EdgeModel,
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
    /// channels, with `pool`x`pool` max-pooling if given (see [`EdgeModel::new`]).
    ///
    /// ```
    /// use scanline_host::edges::Edges;
    /// use scanline_host::kernel;
    /// let e = Edges::new(kernel::parse("laplacian8").unwrap(), 1, Some(2)).unwrap();
    /// let q = e.output_quant();
    /// // The response of laplacian8 to [0, 1] inputs spans [-8, 8]: both ends fit.
    /// assert!(q.dequantize(-128) <= -8.0 && q.dequantize(127) >= 8.0);
    /// ```
    pub fn new(kernel: Kernel, channels: usize, pool: Option<usize>) -> Result<Self> {
        if let Some(p) = pool
            && !(1..=scanline::pool::MAX_WINDOW).contains(&p)
        {
            return Err(Error::Invalid(format!(
                "--pool {p} is out of range: it must be in 1..={}",
                scanline::pool::MAX_WINDOW
            )));
        }
        Ok(Self {
            model: EdgeModel::new(kernel, channels, pool)?,
        })
    }

    /// The core model.
    pub fn edge_model(&self) -> &EdgeModel {
        &self.model
    }

    /// The kernel.
    pub fn kernel(&self) -> &Kernel {
        self.model.kernel()
    }

    /// Input channels (1 or 3).
    pub fn channels(&self) -> usize {
        self.model.channels()
    }

    /// Pool size, if any.
    pub fn pool(&self) -> Option<usize> {
        self.model.pool()
    }

    /// Quantization of the convolution output (and of ReLU and pool outputs).
    pub fn output_quant(&self) -> Quant {
        self.model.output_quant()
    }

    /// The int8 weight scale (per tensor).
    pub fn weight_scale(&self) -> f32 {
        self.model.weight_scale()
    }

    /// The real weights the int8 engine uses (HWIO), `q * scale`.
    pub fn real_weights(&self) -> Vec<f32> {
        let s = self.weight_scale();
        self.model.weights().iter().map(|&w| w as f32 * s).collect()
    }

    /// The validated int8 model for an input of `height` x `width`, up to and
    /// including layer `stages - 1` (1: conv, 2: +ReLU, 3: +pool).
    pub fn model(&self, height: usize, width: usize, stages: usize) -> Result<Model<'_>> {
        if let Some(p) = self.pool()
            && (p > height || p > width)
        {
            return Err(Error::Invalid(format!(
                "--pool {p} does not fit the {width}x{height} image"
            )));
        }
        Ok(self.model.model_to(height, width, stages)?)
    }

    fn check_input<T>(&self, input: &Tensor<T>) -> Result<()> {
        if input.shape.channels != self.channels() {
            return Err(Error::Shape(format!(
                "the input has {} channels, the walkthrough was set up for {}",
                input.shape.channels,
                self.channels()
            )));
        }
        Ok(())
    }

    /// Runs an int8 engine over an int8 input (`p - 128`) with the
    /// [`Options::detect`]ed kernel set and threads ([`Edges::run_int8_with`]).
    pub fn run_int8(&self, engine: Engine, input: &Tensor<i8>) -> Result<Stages<i8>> {
        self.run_int8_with(engine, input, Options::detect()?)
    }

    /// Runs an int8 engine over an int8 input (`p - 128`). The frame engine keeps
    /// every stage's output (on `options.threads` threads); the stream engine runs
    /// one model per stage (conv; conv+ReLU; conv+ReLU+pool), since a pipeline
    /// emits only its last layer.
    pub fn run_int8_with(
        &self,
        engine: Engine,
        input: &Tensor<i8>,
        options: Options,
    ) -> Result<Stages<i8>> {
        self.check_input(input)?;
        let (h, w) = (input.shape.height, input.shape.width);
        let stages = self.model.layers().len();
        let outs = match engine {
            Engine::Frame => {
                let model = self.model(h, w, stages)?.with_kernels(options.kernels);
                let mut outs: Vec<Tensor<i8>> = Vec::new();
                for i in 0..model.layers().len() {
                    let cur = outs.last().unwrap_or(input);
                    let out = run_layer_threads(&model, i, cur, options.threads)?;
                    outs.push(out);
                }
                outs
            }
            Engine::Float => {
                return Err(Error::Invalid(
                    "the float engine runs on real pixels: use run_float".into(),
                ));
            }
            Engine::Stream => (1..=stages)
                .map(|n| run_stream(&self.model(h, w, n)?.with_kernels(options.kernels), input))
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
        let k = self.kernel().size();
        let c = self.channels();
        let weights = self
            .kernel()
            .taps()
            .iter()
            .flat_map(|&w| std::iter::repeat_n(w, c))
            .collect();
        let mut layers = vec![
            FloatLayer::Conv2d(Conv2dF32 {
                in_channels: c,
                out_channels: 1,
                window: Window::square(k, 1, Padding::Same),
                weights,
                layout: WeightLayout::Hwio,
                bias: None,
                activation: Activation::None,
            }),
            FloatLayer::Activation(Activation::Relu),
        ];
        if let Some(n) = self.pool() {
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
        let q = self.output_quant();
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
