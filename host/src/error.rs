//! Error: the one error type of the host library; every variant names what is wrong.

use std::path::PathBuf;

/// Everything the host library can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read or written. The message names the file and the
    /// operating system's reason (`fs-err` builds it).
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A file is not a readable image (or an image could not be written).
    #[error("{}: {message}", path.display())]
    Image {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A `.npy` file is malformed or holds the wrong type or shape.
    #[error("{}: {message}", path.display())]
    Npy {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A raw camera frame does not fit its pixel format and width.
    #[error("{}: {message}", path.display())]
    Frame {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A `.tflite` model file is malformed or uses something scanline does not
    /// run; the core's error is the source. The message ends with [`advice`]
    /// on what to do about it.
    #[error("{}: {context}{source}{}", path.display(), advice(source))]
    Model {
        /// The file.
        path: PathBuf,
        /// What was being done, e.g. `at width 3: ` (empty when it is the import).
        context: String,
        /// The core's error.
        #[source]
        source: scanline::Error,
    },
    /// An input file is larger than scanline reads for its kind (see
    /// [`crate::file`]): refused before it is read, so a huge file cannot
    /// exhaust memory.
    #[error("{}: the {kind} is {size} bytes, more than the {limit} bytes scanline reads", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// What the file was read as, e.g. `model file`.
        kind: &'static str,
        /// Its size in bytes.
        size: u64,
        /// The limit for its kind.
        limit: u64,
    },
    /// A kernel given on the command line is malformed.
    #[error("kernel: {0}")]
    Kernel(String),
    /// Tensor shapes do not fit together.
    #[error("shape: {0}")]
    Shape(String),
    /// A parameter is out of range.
    #[error("{0}")]
    Invalid(String),
    /// A report could not be written as JSON.
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The core rejected a model or layer.
    #[error(transparent)]
    Core(#[from] scanline::Error),
}

/// Result type of the host library.
pub type Result<T> = std::result::Result<T, Error>;

/// What scanline runs, as the advice after an unsupported model says it.
pub const SUPPORTED: &str = "scanline runs a chain of CONV_2D, DEPTHWISE_CONV_2D, MAX_POOL_2D, \
AVERAGE_POOL_2D, RELU, RELU6, MEAN (over height and width), RESHAPE (a flatten into \
FULLY_CONNECTED), FULLY_CONNECTED and SOFTMAX on int8 tensors, with QUANTIZE / DEQUANTIZE only \
at a float32 input and output";

/// What to do about a model the core refuses: for an unsupported operator why
/// it is not run and what is ([`SUPPORTED`]); for a float model how to quantize
/// it. Empty for other errors. Starts with `: ` when not empty, to follow the
/// core's message.
///
/// ```
/// use scanline_host::error::advice;
/// let e = scanline::Error::UnsupportedOp { operator: 1, op: "LEAKY_RELU" };
/// let text = format!("{e}{}", advice(&e));
/// assert!(text.starts_with("operator 1: LEAKY_RELU is not supported: the only activations"));
/// assert!(text.ends_with("with QUANTIZE / DEQUANTIZE only at a float32 input and output"));
/// ```
pub fn advice(e: &scanline::Error) -> String {
    match *e {
        scanline::Error::UnsupportedOp { op, .. } => {
            let why = match op {
                "L2_POOL_2D" => "scanline pools by maximum or average only",
                "SQUEEZE" | "ARG_MAX" | "ARG_MIN" => {
                    "it belongs to post-processing; scanline ends at the dense layer or softmax, \
                     so convert the model up to it (in Keras: \
                     keras.Model(model.input, model.get_layer(NAME).output))"
                }
                "ADD" | "SUB" | "MUL" | "CONCATENATION" => {
                    "it joins branches (residual or parallel paths); scanline runs a single chain of layers"
                }
                "PAD" | "PADV2" => {
                    "explicit padding is not run; use padding='same' in the convolution instead"
                }
                "LOGISTIC" | "TANH" | "HARD_SWISH" | "LEAKY_RELU" | "PRELU" | "ELU" | "GELU"
                | "TANH (fused activation)" | "SIGN_BIT (fused activation)" => {
                    "the only activations scanline computes are ReLU and ReLU6 (fused or \
                     standalone) and a final softmax"
                }
                _ => "scanline runs small CNN classifiers (a convolutional front and its head) only",
            };
            format!(": {why}; {SUPPORTED}")
        }
        scanline::Error::UnsupportedTensor { ty: "FLOAT32", .. } => ": a float (not fully quantized) model; \
            convert it with full-integer quantization (converter.optimizations = [tf.lite.Optimize.DEFAULT], \
            a representative_dataset, inference_input_type / inference_output_type tf.int8 or tf.float32; \
            see docs/tutorial.md)"
            .to_string(),
        _ => String::new(),
    }
}
