//! Network: a `.tflite` model loaded on the host — its file bytes, checked to
//! import — and the engines that run it (int8 frame, int8 stream, f32 reference).
//!
//! The file's bytes are kept; the core's zero-copy import borrows them whenever a
//! [`Model`] is needed ([`Network::import`]), so nothing is copied out of the file.
//! Inputs are made in [`crate::input`], outputs written by [`crate::output`],
//! engines compared in [`crate::comparison`].
//!
//! # Examples
//!
//! ```
//! use scanline_host::engine::Engine;
//! use scanline_host::network::Network;
//! let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/tflite/n3_mini");
//! let net = Network::load(format!("{dir}/model.tflite")).unwrap();
//! let input = net.input_from_npy(format!("{dir}/input.npy")).unwrap();
//! let out = net.run(Engine::Stream, &input).unwrap();
//! assert_eq!(out.shape().to_string(), "3x5x32");
//! assert_eq!(out.dtype(), "int8");
//! ```

use std::path::{Path, PathBuf};

use scanline::tflite::{self, Import};
use scanline::{Model, Shape};

use crate::comparison::Comparison;
use crate::engine::Engine;
use crate::input::Input;
use crate::output::Output;
use crate::reference::{FloatLayer, run_float};
use crate::{Error, Result, Tensor};

/// A `.tflite` model loaded on the host: the file's bytes, checked to import.
#[derive(Clone)]
pub struct Network {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("path", &self.path)
            .field("bytes", &self.bytes.len())
            .finish()
    }
}

impl Network {
    /// Reads and imports a `.tflite` file.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] naming the file if it cannot be read; [`Error::Model`] naming
    /// the file with the core's error as its source if it is malformed or
    /// unsupported (e.g. `operator 1: LEAKY_RELU is not supported`).
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = crate::file::read(path, crate::file::Kind::Model)?;
        Self::from_bytes(path, bytes)
    }

    /// A network from a model file's bytes; `path` names it in errors.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] if the bytes do not import.
    ///
    /// ```
    /// use scanline_host::network::Network;
    /// let err = Network::from_bytes("m.tflite", b"not a model".to_vec()).unwrap_err();
    /// assert!(err.to_string().starts_with("m.tflite: malformed model file"), "{err}");
    /// ```
    pub fn from_bytes(path: impl Into<PathBuf>, bytes: Vec<u8>) -> Result<Self> {
        let net = Self {
            path: path.into(),
            bytes,
        };
        net.import()?;
        Ok(net)
    }

    /// The file the model came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    fn model_error(&self, context: String, source: scanline::Error) -> Error {
        Error::Model {
            path: self.path.clone(),
            context,
            source,
        }
    }

    /// The imported model (borrowing the bytes). The import was checked by
    /// [`Network::load`]; it is repeated here (it is cheap and allocates nothing).
    ///
    /// # Errors
    ///
    /// [`Error::Model`] if the bytes do not import (not after a successful load).
    pub fn import(&self) -> Result<Import<'_>> {
        tflite::parse(&self.bytes).map_err(|e| self.model_error(String::new(), e))
    }

    /// The same layers planned for an input `width` columns wide (same height and
    /// channels): what `scanline info --width` reports.
    ///
    /// # Errors
    ///
    /// [`Error::Model`] naming the width and the layer if the layers do not fit.
    pub fn model_for_width(&self, width: usize) -> Result<Model<'_>> {
        let import = self.import()?;
        let model = import.model();
        let s = model.input_shape();
        Model::new(
            Shape::new(s.height, width, s.channels),
            model.input_quant(),
            model.layers(),
            model.rounding(),
        )
        .map_err(|e| self.model_error(format!("at width {width}: "), e))
    }

    /// The model's layers `0..=last` as a model of their own (same input, same
    /// rounding): its output is layer `last`'s output, computed by the same
    /// engines and arithmetic as the whole model's (`scanline features` runs it).
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] if the model has no layer `last`.
    ///
    /// ```
    /// use scanline::Shape;
    /// use scanline_host::network::Network;
    /// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/tflite/n3_mini/model.tflite");
    /// let net = Network::load(path).unwrap();
    /// let first = net.model_through(0).unwrap();
    /// assert_eq!(first.layers().len(), 1);
    /// assert_eq!(first.output_shape(), Shape::new(30, 40, 8));
    /// assert!(net.model_through(6).is_err());
    /// ```
    pub fn model_through(&self, last: usize) -> Result<Model<'_>> {
        let import = self.import()?;
        let model = import.model();
        let layers = model.layers();
        if last >= layers.len() {
            return Err(Error::Invalid(format!(
                "{}: layer {last} does not exist: the model has {} layers",
                self.path.display(),
                layers.len()
            )));
        }
        Model::new(
            model.input_shape(),
            model.input_quant(),
            &layers[..=last],
            model.rounding(),
        )
        .map_err(|e| self.model_error(format!("through layer {last}: "), e))
    }

    /// Shape of the model's input.
    pub fn input_shape(&self) -> Result<Shape> {
        Ok(self.import()?.model().input_shape())
    }

    /// Runs an int8 engine and returns the model's int8 output (before any
    /// `DEQUANTIZE`).
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] if the input is not shaped like the model's;
    /// [`Error::Invalid`] for the float engine; the engine's errors.
    pub fn run_int8(&self, engine: Engine, input: &Input) -> Result<Tensor<i8>> {
        self.run_int8_with(engine, input, crate::engine::Options::detect()?)
    }

    /// [`Network::run_int8`] with an explicit kernel set and thread count (the
    /// same bytes whatever they are).
    ///
    /// # Errors
    ///
    /// As [`Network::run_int8`].
    pub fn run_int8_with(
        &self,
        engine: Engine,
        input: &Input,
        options: crate::engine::Options,
    ) -> Result<Tensor<i8>> {
        let import = self.import()?;
        engine.run_with(import.model(), &input.int8, options)
    }

    /// Runs the f32 reference: [`FloatLayer::from_layer`] of every layer over
    /// [`Input::real`].
    ///
    /// # Errors
    ///
    /// The reference's errors (shapes that do not fit).
    pub fn run_float(&self, input: &Input) -> Result<Tensor<f32>> {
        let import = self.import()?;
        let layers = import
            .model()
            .layers()
            .iter()
            .map(FloatLayer::from_layer)
            .collect::<Result<Vec<_>>>()?;
        run_float(&input.real, &layers)
    }

    /// The model's output for an int8 result: the int8 tensor, or float32
    /// `scale * (q - zero_point)` if the model ends with `DEQUANTIZE`.
    pub fn output_of(&self, int8: Tensor<i8>) -> Result<Output> {
        let import = self.import()?;
        Ok(match import.float_output() {
            Some(q) => Output::Float(int8.dequantize(q)),
            None => Output::Int8 {
                values: int8,
                quant: import.model().output_quant(),
            },
        })
    }

    /// Runs `engine` on `input`: frame and stream give the model's output tensor
    /// ([`Network::output_of`]), float the reference's real values.
    ///
    /// # Errors
    ///
    /// As [`Network::run_int8`] and [`Network::run_float`].
    pub fn run(&self, engine: Engine, input: &Input) -> Result<Output> {
        match engine {
            Engine::Frame | Engine::Stream => self.output_of(self.run_int8(engine, input)?),
            Engine::Float => Ok(Output::Float(self.run_float(input)?)),
        }
    }

    /// Runs all three engines on `input`.
    ///
    /// # Errors
    ///
    /// As [`Network::run`].
    pub fn compare(&self, input: &Input) -> Result<Comparison> {
        self.compare_with(input, crate::engine::Options::detect()?)
    }

    /// [`Network::compare`] with an explicit kernel set and thread count.
    ///
    /// # Errors
    ///
    /// As [`Network::run`].
    pub fn compare_with(
        &self,
        input: &Input,
        options: crate::engine::Options,
    ) -> Result<Comparison> {
        Ok(Comparison {
            frame: self.run_int8_with(Engine::Frame, input, options)?,
            stream: self.run_int8_with(Engine::Stream, input, options)?,
            float: self.run_float(input)?,
            quant: self.import()?.model().output_quant(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(case: &str) -> Network {
        Network::load(fixture(case, "model.tflite")).unwrap()
    }

    fn fixture(case: &str, file: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/tflite")
            .join(case)
            .join(file)
    }

    #[test]
    fn outputs_follow_the_model_and_the_engine() {
        let n = net("float_conv3x3_relu_pool2");
        let input = n
            .input_from_npy(fixture("float_conv3x3_relu_pool2", "input.npy"))
            .unwrap();
        for engine in [Engine::Frame, Engine::Stream, Engine::Float] {
            assert_eq!(n.run(engine, &input).unwrap().dtype(), "float32");
        }
        let n = net("relu_only");
        let input = n.input_from_npy(fixture("relu_only", "input.npy")).unwrap();
        assert_eq!(n.run(Engine::Stream, &input).unwrap().dtype(), "int8");
        assert_eq!(n.run(Engine::Float, &input).unwrap().dtype(), "float32");
    }

    #[test]
    fn model_for_width_replans() {
        let n = net("n3_mini");
        let m = n.model_for_width(320).unwrap();
        assert_eq!(m.input_shape(), Shape::new(30, 320, 1));
        let base = n.import().unwrap().model().stream_arena_len();
        assert!(m.stream_arena_len() > base);
        let e = net("conv7x7_c8_valid_nobias")
            .model_for_width(3)
            .unwrap_err();
        assert!(e.to_string().contains("at width 3"), "{e}");
    }
    #[test]
    fn model_errors_carry_the_core_error_as_source() {
        let e = net("conv7x7_c8_valid_nobias")
            .model_for_width(3)
            .unwrap_err();
        let Error::Model { source, .. } = &e else {
            panic!("{e:?}")
        };
        assert!(
            matches!(source, scanline::Error::EmptyOutput { .. }),
            "{source:?}"
        );
        assert!(std::error::Error::source(&e).is_some());
        let e = Network::from_bytes("x.tflite", vec![0; 8]).unwrap_err();
        assert!(
            matches!(
                e,
                Error::Model {
                    source: scanline::Error::Malformed { .. },
                    ..
                }
            ),
            "{e:?}"
        );
    }
}
