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
    /// run; the core's error is the source.
    #[error("{}: {context}{source}", path.display())]
    Model {
        /// The file.
        path: PathBuf,
        /// What was being done, e.g. `at width 3: ` (empty when it is the import).
        context: String,
        /// The core's error.
        #[source]
        source: scanline::Error,
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
