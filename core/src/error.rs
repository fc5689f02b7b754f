//! Error: the one error type of the core, naming the layer and the parameter at fault.

use crate::Shape;

/// A parameter of a layer or model, named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Param {
    /// Kernel (or pooling window) height.
    KernelHeight,
    /// Kernel (or pooling window) width.
    KernelWidth,
    /// Vertical stride.
    StrideHeight,
    /// Horizontal stride.
    StrideWidth,
    /// Vertical dilation.
    DilationHeight,
    /// Horizontal dilation.
    DilationWidth,
    /// Input channel count.
    InChannels,
    /// Output channel count.
    OutChannels,
    /// Depth multiplier of a depthwise convolution.
    DepthMultiplier,
    /// Weight array.
    Weights,
    /// Bias array.
    Bias,
    /// Weight scales (per tensor or per channel).
    WeightScales,
    /// Fixed-point requantization multipliers.
    Multipliers,
    /// Fixed-point requantization shifts.
    Shifts,
    /// Input quantization (scale or zero point).
    InputQuant,
    /// Output quantization (scale or zero point).
    OutputQuant,
    /// The model's input shape.
    InputShape,
    /// Number of layers.
    Layers,
    /// An input row.
    Row,
    /// An output buffer.
    Output,
    /// A scratch buffer.
    Scratch,
    /// A camera line (raw pixel bytes).
    Line,
    /// A camera pixel format.
    PixelFormat,
    /// An image kernel (size or taps).
    Kernel,
    /// A pooling size.
    Pool,
}

impl Param {
    /// The parameter's name as a user would write it.
    pub const fn name(self) -> &'static str {
        match self {
            Param::KernelHeight => "kernel height",
            Param::KernelWidth => "kernel width",
            Param::StrideHeight => "stride height",
            Param::StrideWidth => "stride width",
            Param::DilationHeight => "dilation height",
            Param::DilationWidth => "dilation width",
            Param::InChannels => "input channels",
            Param::OutChannels => "output channels",
            Param::DepthMultiplier => "depth multiplier",
            Param::Weights => "weights",
            Param::Bias => "bias",
            Param::WeightScales => "weight scales",
            Param::Multipliers => "requantization multipliers",
            Param::Shifts => "requantization shifts",
            Param::InputQuant => "input quantization",
            Param::OutputQuant => "output quantization",
            Param::InputShape => "input shape",
            Param::Layers => "layers",
            Param::Row => "row",
            Param::Output => "output buffer",
            Param::Scratch => "scratch buffer",
            Param::Line => "camera line",
            Param::PixelFormat => "pixel format",
            Param::Kernel => "kernel",
            Param::Pool => "pool size",
        }
    }
}

/// Everything that can go wrong in the core. Never a panic: each case names
/// what is wrong, and the layer (index in the model) where it applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// A parameter is out of its valid range.
    Invalid {
        /// Layer index, if the error belongs to a layer of a model.
        layer: Option<usize>,
        /// The parameter.
        param: Param,
        /// What the valid range is.
        reason: &'static str,
    },
    /// An array or buffer has the wrong number of elements.
    Length {
        /// Layer index, if any.
        layer: Option<usize>,
        /// The array.
        param: Param,
        /// Elements needed.
        expected: usize,
        /// Elements given.
        found: usize,
    },
    /// A layer's input does not match what the previous layer produces.
    Shape {
        /// Layer index, if any.
        layer: Option<usize>,
        /// What the layer was built for.
        expected: Shape,
        /// What it is given.
        found: Shape,
    },
    /// The layer produces no output for this input (a VALID window larger than the input).
    EmptyOutput {
        /// Layer index, if any.
        layer: Option<usize>,
        /// The input shape.
        input: Shape,
    },
    /// The worst-case accumulator of an output channel does not fit in i32.
    AccumulatorOverflow {
        /// Layer index, if any.
        layer: Option<usize>,
        /// The output channel.
        channel: usize,
    },
    /// A caller-provided arena is too small.
    ArenaTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes given.
        found: usize,
    },
    /// A streaming pipeline was given more rows than the frame has; it needs
    /// `reset` before the next frame.
    TooManyRows {
        /// Rows in a frame (the model's input height).
        height: usize,
    },
    /// A streaming frame was finished before all of its rows were pushed.
    IncompleteFrame {
        /// Rows pushed so far.
        received: usize,
        /// Rows in a frame.
        height: usize,
    },
    /// A streaming frame was aborted (its sink failed); the pipeline needs `reset`.
    FrameAborted,
    /// A model file is not a valid TFLite flatbuffer: truncated, a wrong file
    /// identifier, an offset or length out of range, or contents that contradict
    /// each other.
    Malformed {
        /// Byte offset in the file where the problem was found.
        offset: usize,
        /// What was being read.
        what: &'static str,
    },
    /// A model operator that scanline does not run.
    UnsupportedOp {
        /// Index of the operator in the model's graph (execution order).
        operator: usize,
        /// Its TFLite builtin name, such as `"AVERAGE_POOL_2D"`.
        op: &'static str,
    },
    /// A model tensor of a type or quantization that scanline does not run.
    UnsupportedTensor {
        /// Index of the tensor in the model's graph (`tflite::tensor_name` gives its name).
        tensor: usize,
        /// Its TFLite type, such as `"FLOAT32"`.
        ty: &'static str,
        /// What scanline needs instead.
        reason: &'static str,
    },
    /// A model graph that is not a linear chain scanline can run.
    Graph {
        /// Index of the operator at fault, if any.
        operator: Option<usize>,
        /// What is wrong.
        reason: &'static str,
    },
}

impl Error {
    /// The same error, attributed to layer `index` of a model (errors that do not
    /// belong to a layer are returned unchanged).
    pub fn at_layer(mut self, index: usize) -> Self {
        if let Some(layer) = self.layer_slot() {
            *layer = Some(index);
        }
        self
    }

    /// Layer index the error belongs to, if any.
    pub fn layer(&self) -> Option<usize> {
        let mut e = *self;
        e.layer_slot().and_then(|l| *l)
    }

    /// The layer field of the variants that have one.
    fn layer_slot(&mut self) -> Option<&mut Option<usize>> {
        match self {
            Error::Invalid { layer, .. }
            | Error::Length { layer, .. }
            | Error::Shape { layer, .. }
            | Error::EmptyOutput { layer, .. }
            | Error::AccumulatorOverflow { layer, .. } => Some(layer),
            Error::ArenaTooSmall { .. }
            | Error::TooManyRows { .. }
            | Error::IncompleteFrame { .. }
            | Error::FrameAborted
            | Error::Malformed { .. }
            | Error::UnsupportedOp { .. }
            | Error::UnsupportedTensor { .. }
            | Error::Graph { .. } => None,
        }
    }

    pub(crate) const fn invalid(param: Param, reason: &'static str) -> Self {
        Error::Invalid {
            layer: None,
            param,
            reason,
        }
    }

    pub(crate) const fn length(param: Param, expected: usize, found: usize) -> Self {
        Error::Length {
            layer: None,
            param,
            expected,
            found,
        }
    }
}

struct LayerPrefix(Option<usize>);

impl core::fmt::Display for LayerPrefix {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.0 {
            Some(i) => write!(f, "layer {i}: "),
            None => Ok(()),
        }
    }
}

impl core::fmt::Display for Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Error::Invalid {
                layer,
                param,
                reason,
            } => write!(f, "{}{}: {}", LayerPrefix(layer), param.name(), reason),
            Error::Length {
                layer,
                param,
                expected,
                found,
            } => write!(
                f,
                "{}{}: expected {} elements, found {}",
                LayerPrefix(layer),
                param.name(),
                expected,
                found
            ),
            Error::Shape {
                layer,
                expected,
                found,
            } => write!(
                f,
                "{}input shape {} does not match the expected {}",
                LayerPrefix(layer),
                found,
                expected
            ),
            Error::EmptyOutput { layer, input } => write!(
                f,
                "{}the window is larger than the {} input: no output (VALID padding)",
                LayerPrefix(layer),
                input
            ),
            Error::AccumulatorOverflow { layer, channel } => write!(
                f,
                "{}output channel {}: the worst-case accumulator does not fit in i32",
                LayerPrefix(layer),
                channel
            ),
            Error::ArenaTooSmall { needed, found } => {
                write!(f, "arena too small: {needed} bytes needed, {found} given")
            }
            Error::TooManyRows { height } => write!(
                f,
                "too many rows: the frame has {height}; reset before the next frame"
            ),
            Error::IncompleteFrame { received, height } => {
                write!(f, "frame incomplete: {received} of {height} rows pushed")
            }
            Error::FrameAborted => write!(f, "frame aborted by its sink: reset the pipeline"),
            Error::Malformed { offset, what } => {
                write!(f, "malformed model file at byte {offset}: {what}")
            }
            Error::UnsupportedOp { operator, op } => {
                write!(f, "operator {operator}: {op} is not supported")
            }
            Error::UnsupportedTensor { tensor, ty, reason } => {
                write!(f, "tensor {tensor} ({ty}): {reason}")
            }
            Error::Graph {
                operator: Some(i),
                reason,
            } => write!(f, "operator {i}: {reason}"),
            Error::Graph {
                operator: None,
                reason,
            } => write!(f, "model graph: {reason}"),
        }
    }
}

impl core::error::Error for Error {}
