//! Tflite: import of a TensorFlow Lite model file (`.tflite`) into a [`Model`],
//! zero-copy and without allocation: weights, biases and scales stay in the file's
//! bytes and the model borrows them.
//!
//! Supported: a linear chain of `CONV_2D`, `DEPTHWISE_CONV_2D`, `MAX_POOL_2D`,
//! `AVERAGE_POOL_2D`, `RELU`, `RELU6`, `MEAN` (over height and width),
//! `RESHAPE` (a flatten into `FULLY_CONNECTED`, or one that keeps the shape),
//! `FULLY_CONNECTED` and `SOFTMAX` on int8 tensors (per-tensor or per-channel
//! int8 weights, int32 bias, fused
//! `NONE` / `RELU` / `RELU_N1_TO_1` / `RELU6` activations), optionally preceded by a
//! `QUANTIZE` of a float32 input and followed by a `DEQUANTIZE` to a float32 output
//! (the converter's float-I/O models). Anything else is an error naming the
//! operator or tensor and its index in the graph.
//!
//! The requantization multipliers are computed by the core from the file's f32
//! scales, exactly as TFLite does (see DESIGN.md, "Arithmetic").
//!
//! This file is the public API; the import itself is one concern per file:
//! `flatbuffer.rs` reads the FlatBuffers format, `schema.rs` holds TFLite's
//! field ids, codes and names, `file.rs` the typed accessors over a model file's
//! tables and tensors, and `ops.rs` turns one operator into a core [`Layer`].
//!
//! # Examples
//!
//! ```
//! let bytes = include_bytes!("../../../tests/fixtures/tflite/conv3x3_c1_same_relu_pool2/model.tflite");
//! let import = scanline::tflite::parse(bytes).unwrap();
//! let model = import.model();
//! assert_eq!(model.input_shape(), scanline::Shape::new(16, 16, 1));
//! assert_eq!(model.output_shape(), scanline::Shape::new(8, 8, 8));
//! let names: Vec<&str> = import.operators().iter().map(|op| op.name).collect();
//! assert_eq!(names, ["CONV_2D", "MAX_POOL_2D"]);
//! assert!(import.float_input().is_none());
//!
//! let input = vec![0i8; model.input_shape().len()];
//! let mut output = vec![0i8; model.output_shape().len()];
//! let mut scratch = vec![0i8; model.frame_scratch_len()];
//! scanline::frame::run(model, &input, &mut output, &mut scratch).unwrap();
//! ```

mod file;
mod flatbuffer;
mod ops;
mod schema;

use crate::model::MAX_LAYERS;
use crate::{Error, Layer, Model, Param, Quant, Result, Rounding, Shape};
use file::{File, required};
use ops::{Io, layer_of};
use schema::{code, field, ty};

pub use schema::{builtin_name, type_name};

/// Most operators a model may hold: [`MAX_LAYERS`] plus a `QUANTIZE` and a `DEQUANTIZE`.
pub const MAX_OPERATORS: usize = MAX_LAYERS + 2;

/// A tensor of the graph, as the host's `info` command names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TensorRef<'a> {
    /// Index in the graph's tensor list.
    pub index: usize,
    /// Its name in the file (empty if it has none).
    pub name: &'a str,
}

/// One operator of an imported model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator<'a> {
    /// Index in the graph's operator list (execution order).
    pub index: usize,
    /// TFLite builtin name, such as `"CONV_2D"`.
    pub name: &'static str,
    /// The [`Model`] layer it became; `None` for `QUANTIZE`, `DEQUANTIZE` and
    /// `RESHAPE` (a no-op on HWC bytes).
    pub layer: Option<usize>,
    /// Its (activation) input tensor.
    pub input: TensorRef<'a>,
    /// Its output tensor.
    pub output: TensorRef<'a>,
}

/// A model imported from a `.tflite` file: the core [`Model`] (borrowing the file's
/// weights) and what the host needs around it.
#[derive(Debug, Clone, PartialEq)]
pub struct Import<'a> {
    model: Model<'a>,
    float_input: Option<Quant>,
    float_output: Option<Quant>,
    operators: heapless::Vec<Operator<'a>, MAX_OPERATORS>,
    description: &'a str,
}

impl<'a> Import<'a> {
    /// The model, ready for [`crate::frame::run`].
    pub fn model(&self) -> &Model<'a> {
        &self.model
    }

    /// The model, by value.
    pub fn into_model(self) -> Model<'a> {
        self.model
    }

    /// For a model with a float32 input (it starts with `QUANTIZE`): the quantization
    /// to apply to the float input ([`Quant::quantize`]) to get the int8 model input.
    /// `None` if the model takes int8 directly.
    pub fn float_input(&self) -> Option<Quant> {
        self.float_input
    }

    /// For a model with a float32 output (it ends with `DEQUANTIZE`): the
    /// quantization of the int8 model output that the `DEQUANTIZE` undoes
    /// (`real = scale * (q - zero_point)`, [`Quant::dequantize`]). `None` if the
    /// model outputs int8.
    pub fn float_output(&self) -> Option<Quant> {
        self.float_output
    }

    /// Every operator of the graph, in execution order.
    pub fn operators(&self) -> &[Operator<'a>] {
        &self.operators
    }

    /// The operator that became layer `layer` of the model.
    pub fn operator_of_layer(&self, layer: usize) -> Option<&Operator<'a>> {
        self.operators.iter().find(|op| op.layer == Some(layer))
    }

    /// The model's description string (the converter writes e.g. `"MLIR Converted."`).
    pub fn description(&self) -> &'a str {
        self.description
    }
}

/// Imports a TFLite model with TFLite's default (double) rounding.
/// See [`parse_with`] for what is checked.
///
/// # Examples
///
/// An unsupported operator is named, with its index in the graph:
///
/// ```
/// use scanline::{Error, tflite};
/// let bytes = include_bytes!("../../../tests/fixtures/tflite/bad/unsupported_leaky.tflite");
/// let err = tflite::parse(bytes).unwrap_err();
/// assert_eq!(err, Error::UnsupportedOp { operator: 1, op: "LEAKY_RELU" });
/// assert_eq!(err.to_string(), "operator 1: LEAKY_RELU is not supported");
/// ```
///
/// A float-I/O model gives the quantization of its float input and output:
///
/// ```
/// let bytes = include_bytes!("../../../tests/fixtures/tflite/walkthrough_float/model.tflite");
/// let import = scanline::tflite::parse(bytes).unwrap();
/// let q_in = import.float_input().unwrap();
/// assert_eq!(q_in.quantize(1.0), 127); // pixel / 255 with scale 1/255, zero point -128
/// let q_out = import.float_output().unwrap();
/// assert_eq!(q_out, import.model().output_quant());
/// ```
pub fn parse(bytes: &[u8]) -> Result<Import<'_>> {
    parse_with(bytes, Rounding::Double)
}

/// The name of tensor `index` of the main graph, for error messages
/// ([`Error::UnsupportedTensor`] names tensors by index). `None` if the file or the
/// index is bad.
pub fn tensor_name(bytes: &[u8], index: usize) -> Option<&str> {
    let file = File::open(bytes).ok()?;
    let t = file.tensors.table(index).ok()?;
    t.string(field::TENSOR_NAME, "Tensor.name").ok()?
}

/// The builtin names of every operator of the main graph, in execution order, for
/// reporting a model that does not import (all its unsupported operators, say).
/// `None` if the file is malformed; calls `f(index, name)` for each operator.
///
/// ```
/// let bytes = include_bytes!("../../../tests/fixtures/tflite/bad/dense.tflite");
/// let mut names = Vec::new();
/// scanline::tflite::for_each_operator(bytes, |_, name| names.push(name)).unwrap();
/// assert_eq!(names, ["CONV_2D", "RESHAPE", "FULLY_CONNECTED"]);
/// ```
pub fn for_each_operator(bytes: &[u8], mut f: impl FnMut(usize, &'static str)) -> Result<()> {
    let file = File::open(bytes)?;
    for i in 0..file.operators.len() {
        let op = file.operators.table(i)?;
        f(i, builtin_name(file.opcode(&op)?));
    }
    Ok(())
}

/// Imports a TFLite model, requantizing with `rounding`.
///
/// Checks, in this order: the flatbuffer (identifier `"TFL3"`, schema version 3,
/// every offset and length), that every operator is one scanline runs (else
/// [`Error::UnsupportedOp`] naming the first other one), that the operators form a
/// linear chain from the graph's one input to its one output ([`Error::Graph`]),
/// the tensors' types and quantization ([`Error::UnsupportedTensor`]), then the
/// layers themselves ([`Model::new`]; its errors count layers, which are operators
/// less a leading `QUANTIZE`), and finally that every output tensor has the shape
/// the layer computes.
pub fn parse_with(bytes: &[u8], rounding: Rounding) -> Result<Import<'_>> {
    let file = File::open(bytes)?;
    let n_ops = file.operators.len();
    // Every operator supported? Report the first one that is not.
    for i in 0..n_ops {
        let op = file.operators.table(i)?;
        let c = file.opcode(&op)?;
        let ok = matches!(
            c,
            code::CONV_2D
                | code::DEPTHWISE_CONV_2D
                | code::MAX_POOL_2D
                | code::AVERAGE_POOL_2D
                | code::RELU
                | code::RELU6
                | code::MEAN
                | code::RESHAPE
                | code::FULLY_CONNECTED
                | code::SOFTMAX
                | code::QUANTIZE
                | code::DEQUANTIZE
        );
        if !ok {
            return Err(Error::UnsupportedOp {
                operator: i,
                op: builtin_name(c),
            });
        }
    }
    if n_ops == 0 {
        return Err(Error::Graph {
            operator: None,
            reason: "the graph has no operator",
        });
    }
    if n_ops > MAX_OPERATORS {
        return Err(Error::Graph {
            operator: None,
            reason: "too many operators (at most 16 layers)",
        });
    }
    if file.inputs.len() != 1 || file.outputs.len() != 1 {
        return Err(Error::Graph {
            operator: None,
            reason: "the graph must have exactly one input and one output",
        });
    }
    let graph_in = file.inputs.i32(0).unwrap_or(-1);
    let graph_out = file.outputs.i32(0).unwrap_or(-1);

    let mut layers: heapless::Vec<Layer<'_>, MAX_LAYERS> = heapless::Vec::new();
    let mut operators: heapless::Vec<Operator<'_>, MAX_OPERATORS> = heapless::Vec::new();
    let mut layer_outputs: heapless::Vec<Shape, MAX_LAYERS> = heapless::Vec::new();
    let mut float_input = None;
    let mut float_output = None;
    let mut model_input = None;
    let mut current = graph_in;
    for i in 0..n_ops {
        let op = file.operators.table(i)?;
        let at = op.pos();
        let c = file.opcode(&op)?;
        let inputs = op.vector(field::OPERATOR_INPUTS, 4, "Operator.inputs")?;
        let inputs = required(inputs, at, "Operator.inputs missing")?;
        let outputs = op.vector(field::OPERATOR_OUTPUTS, 4, "Operator.outputs")?;
        let outputs = required(outputs, at, "Operator.outputs missing")?;
        if inputs.i32(0) != Some(current) {
            return Err(Error::Graph {
                operator: Some(i),
                reason: "its input is not the previous operator's output (not a linear chain)",
            });
        }
        if outputs.len() != 1 {
            return Err(Error::Graph {
                operator: Some(i),
                reason: "must have exactly one output",
            });
        }
        let io = Io {
            input: file.tensor(current, at)?,
            output: file.tensor(outputs.i32(0).unwrap_or(-1), at)?,
            inputs,
        };
        let mut layer = None;
        match c {
            code::QUANTIZE => {
                if i != 0 {
                    return Err(Error::Graph {
                        operator: Some(i),
                        reason: "QUANTIZE is supported only as the first operator",
                    });
                }
                io.input
                    .expect_type(ty::FLOAT32, "a leading QUANTIZE must take float32")?;
                io.output.activation()?;
                float_input = Some(io.output.quant()?);
            }
            code::DEQUANTIZE => {
                if i + 1 != n_ops {
                    return Err(Error::Graph {
                        operator: Some(i),
                        reason: "DEQUANTIZE is supported only as the last operator",
                    });
                }
                io.output
                    .expect_type(ty::FLOAT32, "a trailing DEQUANTIZE must give float32")?;
                float_output = Some(io.input.activation()?.1);
            }
            code::RESHAPE => {
                // HWC bytes are the same before and after: a reshape is a no-op if
                // a dense layer (which flattens its input) reads it, or if the
                // shape does not change (`[1, 1, 1, C]` and `[1, C]` are both 1x1xC).
                let (in_shape, in_q) = io.input.activation()?;
                let (out_shape, out_q) = io.output.activation()?;
                let next = match file.operators.table(i + 1) {
                    Ok(t) => Some(file.opcode(&t)?),
                    Err(_) => None,
                };
                let flatten = next == Some(code::FULLY_CONNECTED);
                if in_q != out_q || in_shape.len() != out_shape.len() {
                    return Err(Error::Graph {
                        operator: Some(i),
                        reason: "RESHAPE changes the quantization or the element count",
                    });
                }
                if !(flatten || in_shape == out_shape) {
                    return Err(Error::Graph {
                        operator: Some(i),
                        reason: "RESHAPE is supported only as a flatten into FULLY_CONNECTED",
                    });
                }
                if model_input.is_none() {
                    model_input = Some((in_shape, in_q));
                }
            }
            _ => {
                if model_input.is_none() {
                    model_input = Some(io.input.activation()?);
                }
                let l = layer_of(&file, &op, c, i, &io)?;
                let too_many = Error::Invalid {
                    layer: None,
                    param: Param::Layers,
                    reason: "too many layers (at most 16)",
                };
                layer_outputs
                    .push(io.output.activation()?.0)
                    .map_err(|_| too_many)?;
                layer = Some(layers.len());
                layers.push(l).map_err(|_| too_many)?;
            }
        }
        let entry = Operator {
            index: i,
            name: builtin_name(c),
            layer,
            input: io.input.reference()?,
            output: io.output.reference()?,
        };
        // n_ops <= MAX_OPERATORS was checked above.
        let _ = operators.push(entry);
        current = io.output.index as i32;
    }
    if current != graph_out {
        return Err(Error::Graph {
            operator: Some(n_ops - 1),
            reason: "the last operator's output is not the graph's output",
        });
    }
    let Some((in_shape, in_q)) = model_input else {
        return Err(Error::Graph {
            operator: None,
            reason: "the graph has no convolution, pooling or ReLU",
        });
    };
    let model = Model::new(in_shape, in_q, &layers, rounding)?;
    for (l, expected) in layer_outputs.iter().enumerate() {
        if model.shape(l + 1) != Some(*expected) {
            let operator = operators
                .iter()
                .find(|o| o.layer == Some(l))
                .map(|o| o.index);
            return Err(Error::Graph {
                operator,
                reason: "the output tensor's shape differs from the one the operator computes",
            });
        }
    }
    let description = file
        .root
        .string(field::MODEL_DESCRIPTION, "Model.description")?
        .unwrap_or("");
    Ok(Import {
        model,
        float_input,
        float_output,
        operators,
        description,
    })
}
