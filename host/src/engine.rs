//! Engine: the three ways the host runs a model — the int8 full-frame engine, the
//! int8 streaming line-buffer engine (what the firmware runs), and the f32
//! reference — as one enum the command line parses directly.

use crate::{Error, Result, Tensor};
use scanline::Model;
use scanline::exec::{Isa, Kernels};
use scanline::stream::{Pipeline, PushError};

/// Which engine runs a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// int8, whole tensors in memory (`scanline::frame`).
    Frame,
    /// int8, one input row at a time through line buffers (`scanline::stream`):
    /// what the firmware runs; always identical to frame.
    #[default]
    Stream,
    /// The f32 reference (TensorFlow's float semantics over the dequantized
    /// weights).
    Float,
}

impl Engine {
    /// The engine's name as the command line spells it.
    ///
    /// ```
    /// use scanline_host::engine::Engine;
    /// assert_eq!(Engine::Stream.name(), "stream");
    /// ```
    pub const fn name(self) -> &'static str {
        match self {
            Engine::Frame => "frame",
            Engine::Stream => "stream",
            Engine::Float => "float",
        }
    }

    /// True for the int8 engines (frame and stream).
    pub const fn is_int8(self) -> bool {
        !matches!(self, Engine::Float)
    }

    /// Runs `model` over `input` (shaped like the model's input) with an int8
    /// engine and the [`Options::detect`]ed kernel set and threads; the float
    /// engine is [`Error::Invalid`] here (it needs real values: see
    /// [`crate::reference`]).
    pub fn run(self, model: &Model<'_>, input: &Tensor<i8>) -> Result<Tensor<i8>> {
        self.run_with(model, input, Options::detect()?)
    }

    /// [`Engine::run`] with the kernel set and thread count of `options` (every
    /// choice gives the same bytes; only the frame engine uses threads).
    pub fn run_with(
        self,
        model: &Model<'_>,
        input: &Tensor<i8>,
        options: Options,
    ) -> Result<Tensor<i8>> {
        let model = model.clone().with_kernels(options.kernels);
        let model = &model;
        match self {
            Engine::Frame => run_frame_threads(model, input, options.threads),
            Engine::Stream => run_stream(model, input),
            Engine::Float => Err(Error::Invalid(
                "the float engine runs on real values, not on an int8 tensor".into(),
            )),
        }
    }
}

/// How the int8 engines run: the kernel set and, for the frame engine, the
/// number of threads. Every choice gives the same bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The kernel set.
    pub kernels: Kernels,
    /// Threads of the frame engine (1: the calling thread alone).
    pub threads: usize,
}

impl Options {
    /// The [`default_kernels`] on [`all_cores`].
    ///
    /// # Errors
    ///
    /// As [`default_kernels`].
    pub fn detect() -> Result<Self> {
        Ok(Self {
            kernels: default_kernels()?,
            threads: all_cores(),
        })
    }

    /// One thread with `kernels`.
    pub const fn single(kernels: Kernels) -> Self {
        Self {
            kernels,
            threads: 1,
        }
    }
}

fn check_input(model: &Model<'_>, input: &Tensor<i8>) -> Result<()> {
    if input.shape != model.input_shape() {
        return Err(Error::Shape(format!(
            "the input is {}, the model takes {}",
            input.shape,
            model.input_shape()
        )));
    }
    Ok(())
}

/// The frame engine over a whole tensor, with the model's kernel set.
///
/// ```
/// use scanline::{Activation, Layer, MaxPool2d, Model, Padding, Quant, Rounding, Shape, Window};
/// use scanline_host::engine::{run_frame, run_stream};
/// use scanline_host::Tensor;
/// let q = Quant::new(1.0, 0);
/// let pool = [Layer::MaxPool(MaxPool2d { window: Window::square(2, 2, Padding::Valid), quant: q, activation: Activation::None })];
/// let model = Model::new(Shape::new(2, 4, 1), q, &pool, Rounding::Double).unwrap();
/// let input = Tensor::new(Shape::new(2, 4, 1), vec![1, 5, 2, 0, 3, 4, 7, 6]).unwrap();
/// assert_eq!(run_frame(&model, &input).unwrap().data, vec![5, 7]);
/// assert_eq!(run_stream(&model, &input).unwrap().data, vec![5, 7]);
/// ```
pub fn run_frame(model: &Model<'_>, input: &Tensor<i8>) -> Result<Tensor<i8>> {
    check_input(model, input)?;
    let mut out = Tensor::filled(model.output_shape(), 0i8);
    let mut scratch = vec![0i8; model.frame_scratch_len()];
    scanline::frame::run(model, &input.data, &mut out.data, &mut scratch)?;
    Ok(out)
}

/// The frame engine on `threads` threads: each layer's output rows are split
/// into bands computed in parallel ([`scanline::Layer::compute_rows`], rows
/// independent of each other), the layers one after the other. Byte-identical to
/// [`run_frame`] whatever the thread count (each output row is computed by the
/// same kernel from the same input rows).
///
/// ```
/// use scanline::{Activation, Layer, MaxPool2d, Model, Padding, Quant, Rounding, Shape, Window};
/// use scanline_host::engine::{run_frame, run_frame_threads};
/// use scanline_host::Tensor;
/// let q = Quant::new(1.0, 0);
/// let pool = [Layer::MaxPool(MaxPool2d { window: Window::square(2, 2, Padding::Valid), quant: q, activation: Activation::None })];
/// let model = Model::new(Shape::new(8, 4, 1), q, &pool, Rounding::Double).unwrap();
/// let input = Tensor::new(Shape::new(8, 4, 1), (0..32).collect()).unwrap();
/// assert_eq!(run_frame_threads(&model, &input, 3).unwrap(), run_frame(&model, &input).unwrap());
/// ```
pub fn run_frame_threads(
    model: &Model<'_>,
    input: &Tensor<i8>,
    threads: usize,
) -> Result<Tensor<i8>> {
    if threads <= 1 {
        return run_frame(model, input);
    }
    check_input(model, input)?;
    let mut cur: Option<Tensor<i8>> = None;
    for i in 0..model.layers().len() {
        let next = run_layer_threads(model, i, cur.as_ref().unwrap_or(input), threads)?;
        cur = Some(next);
    }
    Ok(cur.unwrap_or_else(|| input.clone()))
}

/// Layer `i` of `model` (with the model's kernel set and rounding) over its
/// whole input tensor on `threads` threads: its output rows in bands computed
/// in parallel ([`scanline::Layer::compute_rows`]), the same bytes as one
/// thread.
///
/// # Errors
///
/// [`Error::Shape`] if `input` is not layer `i`'s input shape or there is no
/// layer `i`.
pub fn run_layer_threads(
    model: &Model<'_>,
    i: usize,
    input: &Tensor<i8>,
    threads: usize,
) -> Result<Tensor<i8>> {
    use rayon::prelude::*;
    let (Some(layer), Some(shape), Some(out_shape)) =
        (model.layers().get(i), model.shape(i), model.shape(i + 1))
    else {
        return Err(Error::Shape(format!("the model has no layer {i}")));
    };
    let rows = scanline::rows::Tensor::new(&input.data, shape)
        .filter(|_| input.shape == shape)
        .ok_or_else(|| {
            Error::Shape(format!(
                "layer {i}: the input is {}, not {shape}",
                input.shape
            ))
        })?;
    let mut out = Tensor::filled(out_shape, 0i8);
    let n = out_shape.row_len();
    let exec = model.exec();
    // A layer too small to pay for a fork-join (pools, ReLUs, small
    // convolutions) runs on the calling thread.
    let work = layer.macs(shape).max(shape.len() as u64);
    if threads <= 1 || out_shape.height < 2 || work < MIN_PARALLEL_WORK {
        layer.compute_rows(&rows, shape, 0, &mut out.data, exec);
        return Ok(out);
    }
    // A few bands per thread, so uneven rows (borders) balance out.
    let band = out_shape.height.div_ceil(threads * 4).max(1);
    thread_pool(threads)?.install(|| {
        out.data
            .par_chunks_mut(band * n)
            .enumerate()
            .for_each(|(b, chunk)| layer.compute_rows(&rows, shape, b * band, chunk, exec));
    });
    Ok(out)
}

/// MACs (or input values, for layers without MACs) below which a layer runs
/// on one thread: below that, splitting costs more than it saves (measured with
/// the yardsticks benchmark: N3's and W1–W3's max-pools, tens of microseconds
/// each, ran slower on two threads than on one).
const MIN_PARALLEL_WORK: u64 = 1_000_000;

/// A pool of `threads` worker threads, made once per count and kept.
fn thread_pool(threads: usize) -> Result<std::sync::Arc<rayon::ThreadPool>> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> = OnceLock::new();
    let pools = POOLS.get_or_init(Default::default);
    let mut pools = pools.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = pools.get(&threads) {
        return Ok(p.clone());
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Invalid(format!("cannot start {threads} threads: {e}")))?;
    let pool = Arc::new(pool);
    pools.insert(threads, pool.clone());
    Ok(pool)
}

/// The number of threads the host runs the frame engine on by default: every
/// core the process may use.
pub fn all_cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The streaming engine (with the model's kernel set): pushes the input row by row through a [`Pipeline`] in an
/// arena of exactly [`Model::stream_arena_len`] bytes and collects the rows it emits.
pub fn run_stream(model: &Model<'_>, input: &Tensor<i8>) -> Result<Tensor<i8>> {
    check_input(model, input)?;
    let shape = model.output_shape();
    let mut arena = vec![0i8; model.stream_arena_len()];
    let mut pipeline = Pipeline::new(model, &mut arena)?;
    let mut out = Vec::with_capacity(shape.len());
    let mut sink = |_y: usize, row: &[i8]| -> core::result::Result<(), core::convert::Infallible> {
        out.extend_from_slice(row);
        Ok(())
    };
    for row in input.data.chunks_exact(input.shape.row_len()) {
        pipeline.push_row(row, &mut sink).map_err(|e| match e {
            PushError::Stream(e) => Error::Core(e),
            PushError::Sink(never) => match never {},
        })?;
    }
    pipeline.finish()?;
    Tensor::new(shape, out)
}

/// The environment variable that forces a kernel set (`portable`, `avx2`,
/// `avx512`, `dsp`): for tests and benchmarks. Unset, the best set the CPU
/// supports is used (never `dsp` off Arm: there it is the Cortex-M4
/// algorithm in plain Rust, for testing, not a speed-up).
pub const KERNELS_VAR: &str = "SCANLINE_KERNELS";

/// The kernel sets this CPU can run, portable first.
///
/// ```
/// use scanline::exec::Isa;
/// let sets = scanline_host::engine::available_kernels();
/// assert_eq!(sets[0].isa(), Isa::Portable);
/// ```
pub fn available_kernels() -> Vec<Kernels> {
    Isa::ALL
        .iter()
        .filter_map(|&isa| kernels_for(isa))
        .collect()
}

/// The kernels for `isa` if this CPU supports it.
pub fn kernels_for(isa: Isa) -> Option<Kernels> {
    match isa {
        Isa::Portable => Some(Kernels::PORTABLE),
        Isa::Dsp => Some(Kernels::DSP),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 if std::arch::is_x86_feature_detected!("avx2") => {
            // SAFETY: the CPU was just seen to support AVX2.
            #[allow(unsafe_code)]
            let kernels = unsafe { Kernels::assume(Isa::Avx2) };
            Some(kernels)
        }
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512vnni") =>
        {
            // SAFETY: the CPU was just seen to support AVX2 and AVX-512 F, BW
            // and VNNI.
            #[allow(unsafe_code)]
            let kernels = unsafe { Kernels::assume(Isa::Avx512) };
            Some(kernels)
        }
        _ => None,
    }
}

/// Whether `kernels` are a speed-up on this build: every set but the
/// Cortex-M4 one, which runs everywhere (its primitives are plain Rust off
/// Arm, so the host can test it) but is fast only on Arm.
///
/// ```
/// use scanline::exec::Kernels;
/// assert!(scanline_host::engine::is_native(Kernels::PORTABLE));
/// assert_eq!(scanline_host::engine::is_native(Kernels::DSP), cfg!(target_arch = "arm"));
/// ```
pub fn is_native(kernels: Kernels) -> bool {
    kernels.isa() != Isa::Dsp || cfg!(target_arch = "arm")
}

/// The kernel set to run with: the one [`KERNELS_VAR`] names, else the fastest
/// this CPU supports (the last native one of [`available_kernels`]).
///
/// # Errors
///
/// [`Error::Invalid`] if the variable names an unknown set or one this CPU
/// lacks.
pub fn default_kernels() -> Result<Kernels> {
    match std::env::var(KERNELS_VAR) {
        Ok(name) => {
            let isa = Isa::from_name(&name).ok_or_else(|| {
                let names: Vec<&str> = Isa::ALL.iter().map(|i| i.name()).collect();
                Error::Invalid(format!(
                    "{KERNELS_VAR}={name}: unknown kernel set (this build has {})",
                    names.join(", ")
                ))
            })?;
            kernels_for(isa).ok_or_else(|| {
                Error::Invalid(format!(
                    "{KERNELS_VAR}={name}: this CPU does not support {}",
                    isa.name()
                ))
            })
        }
        Err(_) => Ok(available_kernels()
            .into_iter()
            .rfind(|&k| is_native(k))
            .unwrap_or(Kernels::PORTABLE)),
    }
}
