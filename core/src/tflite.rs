//! Tflite: import of a TensorFlow Lite model file (`.tflite`) into a [`Model`],
//! zero-copy and without allocation: weights, biases and scales stay in the file's
//! bytes and the model borrows them.
//!
//! Supported: a linear chain of `CONV_2D`, `DEPTHWISE_CONV_2D`, `MAX_POOL_2D`,
//! `RELU` and `RELU6` on int8 tensors (per-channel int8 weights, int32 bias, fused
//! `NONE` / `RELU` / `RELU_N1_TO_1` / `RELU6` activations), optionally preceded by a
//! `QUANTIZE` of a float32 input and followed by a `DEQUANTIZE` to a float32 output
//! (the converter's float-I/O models). Anything else is an error naming the
//! operator or tensor and its index in the graph.
//!
//! The requantization multipliers are computed by the core from the file's f32
//! scales, exactly as TFLite does (see DESIGN.md, "Arithmetic").
//!
//! # Examples
//!
//! ```
//! let bytes = include_bytes!("../../tests/fixtures/tflite/conv3x3_c1_same_relu_pool2/model.tflite");
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

use crate::WeightLayout;
use crate::flatbuffer::{self, Table, Vector, bytes_at, malformed};
use crate::model::MAX_LAYERS;
use crate::{
    Activation, Axis, Conv2d, DepthwiseConv2d, Error, Layer, MaxPool2d, Model, Padding, Param,
    Quant, Relu, Requantization, Result, Rounding, Shape, Values, Window,
};

/// Most operators a model may hold: [`MAX_LAYERS`] plus a `QUANTIZE` and a `DEQUANTIZE`.
pub const MAX_OPERATORS: usize = MAX_LAYERS + 2;

/// Field ids (vtable slots) of the schema's tables, from TFLite's `schema.fbs`. A
/// union takes two slots: its type, then its value.
mod field {
    pub const MODEL_VERSION: usize = 0;
    pub const MODEL_OPERATOR_CODES: usize = 1;
    pub const MODEL_SUBGRAPHS: usize = 2;
    pub const MODEL_DESCRIPTION: usize = 3;
    pub const MODEL_BUFFERS: usize = 4;

    pub const SUBGRAPH_TENSORS: usize = 0;
    pub const SUBGRAPH_INPUTS: usize = 1;
    pub const SUBGRAPH_OUTPUTS: usize = 2;
    pub const SUBGRAPH_OPERATORS: usize = 3;

    pub const TENSOR_SHAPE: usize = 0;
    pub const TENSOR_TYPE: usize = 1;
    pub const TENSOR_BUFFER: usize = 2;
    pub const TENSOR_NAME: usize = 3;
    pub const TENSOR_QUANTIZATION: usize = 4;
    pub const TENSOR_SPARSITY: usize = 6;

    pub const BUFFER_DATA: usize = 0;
    pub const BUFFER_OFFSET: usize = 1;
    pub const BUFFER_SIZE: usize = 2;

    pub const QUANT_SCALE: usize = 2;
    pub const QUANT_ZERO_POINT: usize = 3;
    pub const QUANT_DETAILS_TYPE: usize = 4;
    pub const QUANT_DIMENSION: usize = 6;

    pub const OPCODE_DEPRECATED_BUILTIN_CODE: usize = 0;
    pub const OPCODE_BUILTIN_CODE: usize = 3;

    pub const OPERATOR_OPCODE_INDEX: usize = 0;
    pub const OPERATOR_INPUTS: usize = 1;
    pub const OPERATOR_OUTPUTS: usize = 2;
    pub const OPERATOR_BUILTIN_OPTIONS_TYPE: usize = 3;
    pub const OPERATOR_BUILTIN_OPTIONS: usize = 4;

    // Conv2DOptions
    pub const CONV_PADDING: usize = 0;
    pub const CONV_STRIDE_W: usize = 1;
    pub const CONV_STRIDE_H: usize = 2;
    pub const CONV_ACTIVATION: usize = 3;
    pub const CONV_DILATION_W: usize = 4;
    pub const CONV_DILATION_H: usize = 5;
    pub const CONV_QUANTIZED_BIAS_TYPE: usize = 6;

    // DepthwiseConv2DOptions
    pub const DW_PADDING: usize = 0;
    pub const DW_STRIDE_W: usize = 1;
    pub const DW_STRIDE_H: usize = 2;
    pub const DW_DEPTH_MULTIPLIER: usize = 3;
    pub const DW_ACTIVATION: usize = 4;
    pub const DW_DILATION_W: usize = 5;
    pub const DW_DILATION_H: usize = 6;

    // Pool2DOptions
    pub const POOL_PADDING: usize = 0;
    pub const POOL_STRIDE_W: usize = 1;
    pub const POOL_STRIDE_H: usize = 2;
    pub const POOL_FILTER_W: usize = 3;
    pub const POOL_FILTER_H: usize = 4;
    pub const POOL_ACTIVATION: usize = 5;
}

/// `BuiltinOptions` union members.
mod options {
    pub const CONV_2D: u8 = 1;
    pub const DEPTHWISE_CONV_2D: u8 = 2;
    pub const POOL_2D: u8 = 5;
}

/// `BuiltinOperator` codes scanline runs.
mod code {
    pub const CONV_2D: i32 = 3;
    pub const DEPTHWISE_CONV_2D: i32 = 4;
    pub const DEQUANTIZE: i32 = 6;
    pub const MAX_POOL_2D: i32 = 17;
    pub const RELU: i32 = 19;
    pub const RELU6: i32 = 21;
    pub const QUANTIZE: i32 = 114;
}

/// `TensorType` values scanline reads.
mod ty {
    pub const FLOAT32: i8 = 0;
    pub const INT32: i8 = 2;
    pub const INT8: i8 = 9;
}

/// TFLite's `BuiltinOperator` names, indexed by code.
const BUILTIN_NAMES: [&str; 208] = [
    "ADD",
    "AVERAGE_POOL_2D",
    "CONCATENATION",
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "DEPTH_TO_SPACE",
    "DEQUANTIZE",
    "EMBEDDING_LOOKUP",
    "FLOOR",
    "FULLY_CONNECTED",
    "HASHTABLE_LOOKUP",
    "L2_NORMALIZATION",
    "L2_POOL_2D",
    "LOCAL_RESPONSE_NORMALIZATION",
    "LOGISTIC",
    "LSH_PROJECTION",
    "LSTM",
    "MAX_POOL_2D",
    "MUL",
    "RELU",
    "RELU_N1_TO_1",
    "RELU6",
    "RESHAPE",
    "RESIZE_BILINEAR",
    "RNN",
    "SOFTMAX",
    "SPACE_TO_DEPTH",
    "SVDF",
    "TANH",
    "CONCAT_EMBEDDINGS",
    "SKIP_GRAM",
    "CALL",
    "CUSTOM",
    "EMBEDDING_LOOKUP_SPARSE",
    "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN",
    "GATHER",
    "BATCH_TO_SPACE_ND",
    "SPACE_TO_BATCH_ND",
    "TRANSPOSE",
    "MEAN",
    "SUB",
    "DIV",
    "SQUEEZE",
    "UNIDIRECTIONAL_SEQUENCE_LSTM",
    "STRIDED_SLICE",
    "BIDIRECTIONAL_SEQUENCE_RNN",
    "EXP",
    "TOPK_V2",
    "SPLIT",
    "LOG_SOFTMAX",
    "DELEGATE",
    "BIDIRECTIONAL_SEQUENCE_LSTM",
    "CAST",
    "PRELU",
    "MAXIMUM",
    "ARG_MAX",
    "MINIMUM",
    "LESS",
    "NEG",
    "PADV2",
    "GREATER",
    "GREATER_EQUAL",
    "LESS_EQUAL",
    "SELECT",
    "SLICE",
    "SIN",
    "TRANSPOSE_CONV",
    "SPARSE_TO_DENSE",
    "TILE",
    "EXPAND_DIMS",
    "EQUAL",
    "NOT_EQUAL",
    "LOG",
    "SUM",
    "SQRT",
    "RSQRT",
    "SHAPE",
    "POW",
    "ARG_MIN",
    "FAKE_QUANT",
    "REDUCE_PROD",
    "REDUCE_MAX",
    "PACK",
    "LOGICAL_OR",
    "ONE_HOT",
    "LOGICAL_AND",
    "LOGICAL_NOT",
    "UNPACK",
    "REDUCE_MIN",
    "FLOOR_DIV",
    "REDUCE_ANY",
    "SQUARE",
    "ZEROS_LIKE",
    "FILL",
    "FLOOR_MOD",
    "RANGE",
    "RESIZE_NEAREST_NEIGHBOR",
    "LEAKY_RELU",
    "SQUARED_DIFFERENCE",
    "MIRROR_PAD",
    "ABS",
    "SPLIT_V",
    "UNIQUE",
    "CEIL",
    "REVERSE_V2",
    "ADD_N",
    "GATHER_ND",
    "COS",
    "WHERE",
    "RANK",
    "ELU",
    "REVERSE_SEQUENCE",
    "MATRIX_DIAG",
    "QUANTIZE",
    "MATRIX_SET_DIAG",
    "ROUND",
    "HARD_SWISH",
    "IF",
    "WHILE",
    "NON_MAX_SUPPRESSION_V4",
    "NON_MAX_SUPPRESSION_V5",
    "SCATTER_ND",
    "SELECT_V2",
    "DENSIFY",
    "SEGMENT_SUM",
    "BATCH_MATMUL",
    "PLACEHOLDER_FOR_GREATER_OP_CODES",
    "CUMSUM",
    "CALL_ONCE",
    "BROADCAST_TO",
    "RFFT2D",
    "CONV_3D",
    "IMAG",
    "REAL",
    "COMPLEX_ABS",
    "HASHTABLE",
    "HASHTABLE_FIND",
    "HASHTABLE_IMPORT",
    "HASHTABLE_SIZE",
    "REDUCE_ALL",
    "CONV_3D_TRANSPOSE",
    "VAR_HANDLE",
    "READ_VARIABLE",
    "ASSIGN_VARIABLE",
    "BROADCAST_ARGS",
    "RANDOM_STANDARD_NORMAL",
    "BUCKETIZE",
    "RANDOM_UNIFORM",
    "MULTINOMIAL",
    "GELU",
    "DYNAMIC_UPDATE_SLICE",
    "RELU_0_TO_1",
    "UNSORTED_SEGMENT_PROD",
    "UNSORTED_SEGMENT_MAX",
    "UNSORTED_SEGMENT_SUM",
    "ATAN2",
    "UNSORTED_SEGMENT_MIN",
    "SIGN",
    "BITCAST",
    "BITWISE_XOR",
    "RIGHT_SHIFT",
    "STABLEHLO_LOGISTIC",
    "STABLEHLO_ADD",
    "STABLEHLO_DIVIDE",
    "STABLEHLO_MULTIPLY",
    "STABLEHLO_MAXIMUM",
    "STABLEHLO_RESHAPE",
    "STABLEHLO_CLAMP",
    "STABLEHLO_CONCATENATE",
    "STABLEHLO_BROADCAST_IN_DIM",
    "STABLEHLO_CONVOLUTION",
    "STABLEHLO_SLICE",
    "STABLEHLO_CUSTOM_CALL",
    "STABLEHLO_REDUCE",
    "STABLEHLO_ABS",
    "STABLEHLO_AND",
    "STABLEHLO_COSINE",
    "STABLEHLO_EXPONENTIAL",
    "STABLEHLO_FLOOR",
    "STABLEHLO_LOG",
    "STABLEHLO_MINIMUM",
    "STABLEHLO_NEGATE",
    "STABLEHLO_OR",
    "STABLEHLO_POWER",
    "STABLEHLO_REMAINDER",
    "STABLEHLO_RSQRT",
    "STABLEHLO_SELECT",
    "STABLEHLO_SUBTRACT",
    "STABLEHLO_TANH",
    "STABLEHLO_SCATTER",
    "STABLEHLO_COMPARE",
    "STABLEHLO_CONVERT",
    "STABLEHLO_DYNAMIC_SLICE",
    "STABLEHLO_DYNAMIC_UPDATE_SLICE",
    "STABLEHLO_PAD",
    "STABLEHLO_IOTA",
    "STABLEHLO_DOT_GENERAL",
    "STABLEHLO_REDUCE_WINDOW",
    "STABLEHLO_SORT",
    "STABLEHLO_WHILE",
    "STABLEHLO_GATHER",
    "STABLEHLO_TRANSPOSE",
    "DILATE",
    "STABLEHLO_RNG_BIT_GENERATOR",
    "REDUCE_WINDOW",
    "STABLEHLO_COMPOSITE",
    "COMPLEX",
];

/// TFLite's `TensorType` names, indexed by value.
const TYPE_NAMES: [&str; 19] = [
    "FLOAT32",
    "FLOAT16",
    "INT32",
    "UINT8",
    "INT64",
    "STRING",
    "BOOL",
    "INT16",
    "COMPLEX64",
    "INT8",
    "FLOAT64",
    "COMPLEX128",
    "UINT64",
    "RESOURCE",
    "VARIANT",
    "UINT32",
    "UINT16",
    "INT4",
    "BFLOAT16",
];

/// The name of a TFLite builtin operator code (`"UNKNOWN"` past the schema's list).
///
/// ```
/// assert_eq!(scanline::tflite::builtin_name(1), "AVERAGE_POOL_2D");
/// assert_eq!(scanline::tflite::builtin_name(9), "FULLY_CONNECTED");
/// assert_eq!(scanline::tflite::builtin_name(-1), "UNKNOWN");
/// ```
pub fn builtin_name(code: i32) -> &'static str {
    usize::try_from(code)
        .ok()
        .and_then(|c| BUILTIN_NAMES.get(c))
        .copied()
        .unwrap_or("UNKNOWN")
}

/// The name of a TFLite tensor type (`"UNKNOWN"` past the schema's list).
///
/// ```
/// assert_eq!(scanline::tflite::type_name(0), "FLOAT32");
/// assert_eq!(scanline::tflite::type_name(9), "INT8");
/// ```
pub fn type_name(ty: i8) -> &'static str {
    usize::try_from(ty)
        .ok()
        .and_then(|t| TYPE_NAMES.get(t))
        .copied()
        .unwrap_or("UNKNOWN")
}

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
    /// The [`Model`] layer it became; `None` for `QUANTIZE` and `DEQUANTIZE`.
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
/// let bytes = include_bytes!("../../tests/fixtures/tflite/bad/unsupported_op.tflite");
/// let err = tflite::parse(bytes).unwrap_err();
/// assert_eq!(err, Error::UnsupportedOp { operator: 1, op: "AVERAGE_POOL_2D" });
/// assert_eq!(err.to_string(), "operator 1: AVERAGE_POOL_2D is not supported");
/// ```
///
/// A float-I/O model gives the quantization of its float input and output:
///
/// ```
/// let bytes = include_bytes!("../../tests/fixtures/tflite/walkthrough_float/model.tflite");
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
/// let bytes = include_bytes!("../../tests/fixtures/tflite/bad/dense.tflite");
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

/// The tables of a model file that the import walks.
struct File<'a> {
    bytes: &'a [u8],
    root: Table<'a>,
    opcodes: Vector<'a>,
    buffers: Vector<'a>,
    tensors: Vector<'a>,
    inputs: Vector<'a>,
    outputs: Vector<'a>,
    operators: Vector<'a>,
}

fn required<T>(v: Option<T>, at: usize, what: &'static str) -> Result<T> {
    v.ok_or(malformed(at, what))
}

/// A tensor of the graph.
#[derive(Clone, Copy)]
struct Tensor<'a> {
    index: usize,
    table: Table<'a>,
    ty: i8,
}

impl<'a> Tensor<'a> {
    fn reference(&self) -> Result<TensorRef<'a>> {
        Ok(TensorRef {
            index: self.index,
            name: self.name()?,
        })
    }

    fn name(&self) -> Result<&'a str> {
        Ok(self
            .table
            .string(field::TENSOR_NAME, "Tensor.name")?
            .unwrap_or(""))
    }

    fn unsupported(&self, reason: &'static str) -> Error {
        Error::UnsupportedTensor {
            tensor: self.index,
            ty: type_name(self.ty),
            reason,
        }
    }

    fn expect_type(&self, ty: i8, reason: &'static str) -> Result<()> {
        if self.ty == ty {
            Ok(())
        } else {
            Err(self.unsupported(reason))
        }
    }

    /// The shape vector (absent means a scalar: empty).
    fn dims(&self) -> Result<Vector<'a>> {
        match self.table.vector(field::TENSOR_SHAPE, 4, "Tensor.shape")? {
            Some(v) => Ok(v),
            None => Err(self.unsupported("has no shape")),
        }
    }

    /// The dimensions of a rank-4 tensor, each at least 1.
    fn dims4(&self) -> Result<[usize; 4]> {
        let v = self.dims()?;
        if v.len() != 4 {
            return Err(self.unsupported("must have rank 4"));
        }
        let mut d = [0usize; 4];
        for (i, x) in d.iter_mut().enumerate() {
            let n = v.i32(i).unwrap_or(0);
            if n < 1 {
                return Err(self.unsupported("has a dimension below 1 (dynamic shape?)"));
            }
            *x = n as usize;
        }
        Ok(d)
    }

    /// An int8 activation `[1, H, W, C]` with per-tensor quantization.
    fn activation(&self) -> Result<(Shape, Quant)> {
        self.expect_type(ty::INT8, "activations must be int8")?;
        let d = self.dims4()?;
        if d[0] != 1 {
            return Err(self.unsupported("batch size must be 1"));
        }
        Ok((Shape::new(d[1], d[2], d[3]), self.quant()?))
    }

    fn quant_table(&self) -> Result<Table<'a>> {
        let q = self
            .table
            .table(field::TENSOR_QUANTIZATION, "Tensor.quantization")?
            .ok_or(self.unsupported("is not quantized"))?;
        if q.u8(
            field::QUANT_DETAILS_TYPE,
            0,
            "QuantizationParameters.details",
        )? != 0
        {
            return Err(self.unsupported("has custom quantization"));
        }
        Ok(q)
    }

    /// Scales (f32, little-endian) and zero points (i64, little-endian).
    fn scales_and_zero_points(&self) -> Result<(Vector<'a>, Vector<'a>)> {
        let q = self.quant_table()?;
        let scale = q.vector(field::QUANT_SCALE, 4, "QuantizationParameters.scale")?;
        let zp = q.vector(
            field::QUANT_ZERO_POINT,
            8,
            "QuantizationParameters.zero_point",
        )?;
        match (scale, zp) {
            (Some(s), Some(z)) if s.len() > 0 && s.len() == z.len() => Ok((s, z)),
            _ => Err(self.unsupported("needs as many scales as zero points, at least one")),
        }
    }

    /// Per-tensor quantization.
    fn quant(&self) -> Result<Quant> {
        let (s, z) = self.scales_and_zero_points()?;
        if s.len() != 1 {
            return Err(self.unsupported("needs per-tensor quantization"));
        }
        let scale = Values::<f32>::Le(s.bytes()).get(0).unwrap_or(f32::NAN);
        let zp = Values::<i64>::Le(z.bytes()).get(0).unwrap_or(i64::MAX);
        let q = Quant::new(scale, i32::try_from(zp).unwrap_or(i32::MAX));
        if q.validate(Param::InputQuant).is_err() {
            return Err(self.unsupported(
                "quantization needs a finite scale > 0 and a zero point in -128..=127",
            ));
        }
        Ok(q)
    }

    /// Symmetric weight scales along `dim` (one scale, or one per `channels`).
    fn weight_scales(&self, dim: i32, channels: usize) -> Result<Values<'a, f32>> {
        let (s, z) = self.scales_and_zero_points()?;
        if s.len() != 1 {
            if s.len() != channels {
                return Err(self.unsupported("needs one scale or one per output channel"));
            }
            let q = self.quant_table()?;
            let d = q.i32(field::QUANT_DIMENSION, 0, "quantized_dimension")?;
            if d != dim {
                return Err(
                    self.unsupported("per-channel quantization is along the wrong dimension")
                );
            }
        }
        let zps = Values::<i64>::Le(z.bytes());
        if (0..zps.len()).any(|i| zps.get(i) != Some(0)) {
            return Err(self.unsupported("weights must be symmetric (zero point 0)"));
        }
        Ok(Values::Le(s.bytes()))
    }
}

impl<'a> File<'a> {
    fn open(bytes: &'a [u8]) -> Result<Self> {
        let root = flatbuffer::root(bytes, b"TFL3")?;
        let at = root.pos();
        let version = root.u32(field::MODEL_VERSION, 0, "Model.version")?;
        if version != 3 {
            return Err(malformed(at, "schema version is not 3"));
        }
        let opcodes = root.vector(field::MODEL_OPERATOR_CODES, 4, "Model.operator_codes")?;
        let opcodes = required(opcodes, at, "Model.operator_codes missing")?;
        let subgraphs = root.vector(field::MODEL_SUBGRAPHS, 4, "Model.subgraphs")?;
        let subgraphs = required(subgraphs, at, "Model.subgraphs missing")?;
        let buffers = root.vector(field::MODEL_BUFFERS, 4, "Model.buffers")?;
        let buffers = required(buffers, at, "Model.buffers missing")?;
        if subgraphs.len() == 0 {
            return Err(malformed(subgraphs.pos(), "Model.subgraphs is empty"));
        }
        let graph = subgraphs.table(0)?;
        let at = graph.pos();
        let vec =
            |id, what| -> Result<Vector<'a>> { required(graph.vector(id, 4, what)?, at, what) };
        Ok(Self {
            bytes,
            root,
            opcodes,
            buffers,
            tensors: vec(field::SUBGRAPH_TENSORS, "SubGraph.tensors")?,
            inputs: vec(field::SUBGRAPH_INPUTS, "SubGraph.inputs")?,
            outputs: vec(field::SUBGRAPH_OUTPUTS, "SubGraph.outputs")?,
            operators: vec(field::SUBGRAPH_OPERATORS, "SubGraph.operators")?,
        })
    }

    /// The builtin code of an operator: the larger of `deprecated_builtin_code` (an
    /// int8, all that old files have) and `builtin_code` (int32, added for codes
    /// beyond 127).
    fn opcode(&self, op: &Table<'a>) -> Result<i32> {
        let i = op.u32(field::OPERATOR_OPCODE_INDEX, 0, "Operator.opcode_index")? as usize;
        if i >= self.opcodes.len() {
            return Err(malformed(op.pos(), "Operator.opcode_index out of range"));
        }
        let oc = self.opcodes.table(i)?;
        let old = oc.i8(
            field::OPCODE_DEPRECATED_BUILTIN_CODE,
            0,
            "OperatorCode.deprecated_builtin_code",
        )?;
        let new = oc.i32(field::OPCODE_BUILTIN_CODE, 0, "OperatorCode.builtin_code")?;
        Ok(new.max(old as i32))
    }

    fn tensor(&self, index: i32, at: usize) -> Result<Tensor<'a>> {
        let index = usize::try_from(index)
            .ok()
            .filter(|&i| i < self.tensors.len())
            .ok_or(malformed(at, "tensor index out of range"))?;
        let table = self.tensors.table(index)?;
        let ty = table.i8(field::TENSOR_TYPE, 0, "Tensor.type")?;
        Ok(Tensor { index, table, ty })
    }

    /// The constant data of a tensor: its buffer's `data`, or the bytes at
    /// `offset..offset + size` of the file (large models store buffers after the
    /// flatbuffer). Empty if the tensor has no data.
    fn data(&self, t: &Tensor<'a>) -> Result<&'a [u8]> {
        if t.table
            .table(field::TENSOR_SPARSITY, "Tensor.sparsity")?
            .is_some()
        {
            return Err(t.unsupported("sparse tensors are not supported"));
        }
        let b = t.table.u32(field::TENSOR_BUFFER, 0, "Tensor.buffer")? as usize;
        if b >= self.buffers.len() {
            return Err(malformed(t.table.pos(), "Tensor.buffer out of range"));
        }
        let buf = self.buffers.table(b)?;
        let offset = buf.u64(field::BUFFER_OFFSET, 0, "Buffer.offset")?;
        if offset > 1 {
            let size = buf.u64(field::BUFFER_SIZE, 0, "Buffer.size")?;
            let (Ok(offset), Ok(size)) = (usize::try_from(offset), usize::try_from(size)) else {
                return Err(malformed(buf.pos(), "Buffer.offset or size out of range"));
            };
            return bytes_at(self.bytes, offset, size, "Buffer.offset/size out of range");
        }
        Ok(buf
            .vector(field::BUFFER_DATA, 1, "Buffer.data")?
            .map_or(&[][..], |v| v.bytes()))
    }

    /// Constant data of exactly `len` bytes.
    fn constant(&self, t: &Tensor<'a>, len: usize, empty: &'static str) -> Result<&'a [u8]> {
        let d = self.data(t)?;
        if d.is_empty() {
            return Err(t.unsupported(empty));
        }
        if d.len() != len {
            return Err(malformed(
                t.table.pos(),
                "tensor data size does not match its shape",
            ));
        }
        Ok(d)
    }
}

/// A builtin options table of the expected union type.
fn options<'a>(op: &Table<'a>, ty: u8, i: usize) -> Result<Table<'a>> {
    let found = op.u8(
        field::OPERATOR_BUILTIN_OPTIONS_TYPE,
        0,
        "Operator.builtin_options_type",
    )?;
    if found != ty {
        return Err(Error::Graph {
            operator: Some(i),
            reason: "builtin options of the wrong type",
        });
    }
    op.table(field::OPERATOR_BUILTIN_OPTIONS, "Operator.builtin_options")?
        .ok_or(Error::Graph {
            operator: Some(i),
            reason: "builtin options missing",
        })
}

fn padding(t: &Table<'_>, id: usize) -> Result<Padding> {
    match t.i8(id, 0, "padding")? {
        0 => Ok(Padding::Same),
        1 => Ok(Padding::Valid),
        _ => Err(malformed(t.pos(), "padding is neither SAME nor VALID")),
    }
}

fn activation(t: &Table<'_>, id: usize, i: usize) -> Result<Activation> {
    match t.i8(id, 0, "fused_activation_function")? {
        0 => Ok(Activation::None),
        1 => Ok(Activation::Relu),
        2 => Ok(Activation::ReluN1To1),
        3 => Ok(Activation::Relu6),
        4 => Err(Error::UnsupportedOp {
            operator: i,
            op: "TANH (fused activation)",
        }),
        5 => Err(Error::UnsupportedOp {
            operator: i,
            op: "SIGN_BIT (fused activation)",
        }),
        _ => Err(malformed(t.pos(), "unknown fused activation")),
    }
}

/// A positive integer option; 0 and negatives become 0, which the core rejects.
fn positive(t: &Table<'_>, id: usize, default: i32, what: &'static str) -> Result<usize> {
    Ok(t.i32(id, default, what)?.max(0) as usize)
}

/// Activation input/output, and optional weights/bias, of an operator.
struct Io<'a> {
    input: Tensor<'a>,
    output: Tensor<'a>,
    inputs: Vector<'a>,
}

fn layer_of<'a>(
    file: &File<'a>,
    op: &Table<'a>,
    code: i32,
    i: usize,
    io: &Io<'a>,
) -> Result<Layer<'a>> {
    let (in_shape, in_q) = io.input.activation()?;
    let (out_shape, out_q) = io.output.activation()?;
    let at = op.pos();
    match code {
        code::CONV_2D | code::DEPTHWISE_CONV_2D => {
            let depthwise = code == code::DEPTHWISE_CONV_2D;
            let filter = file.tensor(io.inputs.i32(1).unwrap_or(-1), at)?;
            filter.expect_type(ty::INT8, "weights must be int8")?;
            let d = filter.dims4()?;
            let co = out_shape.channels;
            let (kh, kw) = (d[1], d[2]);
            let (o, dim) = if depthwise { (d[3], 3) } else { (d[0], 0) };
            if o != co || (depthwise && d[0] != 1) {
                return Err(Error::Graph {
                    operator: Some(i),
                    reason: "filter shape does not match the output channels",
                });
            }
            let n = d.iter().try_fold(1usize, |a, &x| a.checked_mul(x));
            let n = n.ok_or(malformed(filter.table.pos(), "filter too large"))?;
            let weights: &[i8] =
                bytemuck::cast_slice(file.constant(&filter, n, "weights must be constant")?);
            let weight_scales = filter.weight_scales(dim, co)?;
            let bias = match io.inputs.i32(2) {
                Some(b) if b >= 0 => {
                    let bias = file.tensor(b, at)?;
                    bias.expect_type(ty::INT32, "bias must be int32")?;
                    let len = co.saturating_mul(4);
                    Some(Values::Le(file.constant(
                        &bias,
                        len,
                        "bias must be constant",
                    )?))
                }
                _ => None,
            };
            if depthwise {
                let t = options(op, options::DEPTHWISE_CONV_2D, i)?;
                use field::*;
                let ci = in_shape.channels;
                if co % ci != 0 {
                    return Err(Error::Graph {
                        operator: Some(i),
                        reason: "output channels are not a multiple of the input channels",
                    });
                }
                // The file's depth_multiplier is redundant and not always right (TFLite
                // ignores it); the channel counts decide.
                let _ = t.i32(DW_DEPTH_MULTIPLIER, 1, "depth_multiplier")?;
                Ok(Layer::Depthwise(DepthwiseConv2d {
                    in_channels: ci,
                    depth_multiplier: co / ci,
                    window: Window {
                        height: Axis::new(
                            kh,
                            positive(&t, DW_STRIDE_H, 0, "stride_h")?,
                            positive(&t, DW_DILATION_H, 1, "dilation_h_factor")?,
                        ),
                        width: Axis::new(
                            kw,
                            positive(&t, DW_STRIDE_W, 0, "stride_w")?,
                            positive(&t, DW_DILATION_W, 1, "dilation_w_factor")?,
                        ),
                        padding: padding(&t, DW_PADDING)?,
                    },
                    weights,
                    bias,
                    requant: Requantization::WeightScales(weight_scales),
                    input: in_q,
                    output: out_q,
                    activation: activation(&t, DW_ACTIVATION, i)?,
                }))
            } else {
                let t = options(op, options::CONV_2D, i)?;
                use field::*;
                let bias_ty = t.i8(CONV_QUANTIZED_BIAS_TYPE, 0, "quantized_bias_type")?;
                if bias_ty != 0 && bias_ty != ty::INT32 {
                    return Err(Error::Graph {
                        operator: Some(i),
                        reason: "quantized_bias_type must be int32",
                    });
                }
                Ok(Layer::Conv2d(Conv2d {
                    in_channels: d[3],
                    out_channels: co,
                    window: Window {
                        height: Axis::new(
                            kh,
                            positive(&t, CONV_STRIDE_H, 0, "stride_h")?,
                            positive(&t, CONV_DILATION_H, 1, "dilation_h_factor")?,
                        ),
                        width: Axis::new(
                            kw,
                            positive(&t, CONV_STRIDE_W, 0, "stride_w")?,
                            positive(&t, CONV_DILATION_W, 1, "dilation_w_factor")?,
                        ),
                        padding: padding(&t, CONV_PADDING)?,
                    },
                    weights,
                    layout: WeightLayout::Ohwi,
                    bias,
                    requant: Requantization::WeightScales(weight_scales),
                    input: in_q,
                    output: out_q,
                    activation: activation(&t, CONV_ACTIVATION, i)?,
                }))
            }
        }
        code::MAX_POOL_2D => {
            let t = options(op, options::POOL_2D, i)?;
            use field::*;
            if in_q != out_q {
                return Err(Error::Graph {
                    operator: Some(i),
                    reason: "MAX_POOL_2D input and output quantization differ",
                });
            }
            let axis = |k, s, ks, ss| -> Result<Axis> {
                Ok(Axis::new(
                    positive(&t, k, 0, ks)?,
                    positive(&t, s, 0, ss)?,
                    1,
                ))
            };
            Ok(Layer::MaxPool(MaxPool2d {
                window: Window {
                    height: axis(POOL_FILTER_H, POOL_STRIDE_H, "filter_height", "stride_h")?,
                    width: axis(POOL_FILTER_W, POOL_STRIDE_W, "filter_width", "stride_w")?,
                    padding: padding(&t, POOL_PADDING)?,
                },
                quant: in_q,
                activation: activation(&t, POOL_ACTIVATION, i)?,
            }))
        }
        code::RELU | code::RELU6 => Ok(Layer::Relu(Relu {
            activation: if code == code::RELU {
                Activation::Relu
            } else {
                Activation::Relu6
            },
            input: in_q,
            output: out_q,
        })),
        _ => Err(Error::UnsupportedOp {
            operator: i,
            op: builtin_name(code),
        }),
    }
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
                | code::RELU
                | code::RELU6
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_agree_with_the_schema() {
        for (c, name) in [
            (code::CONV_2D, "CONV_2D"),
            (code::DEPTHWISE_CONV_2D, "DEPTHWISE_CONV_2D"),
            (code::DEQUANTIZE, "DEQUANTIZE"),
            (code::MAX_POOL_2D, "MAX_POOL_2D"),
            (code::RELU, "RELU"),
            (code::RELU6, "RELU6"),
            (code::QUANTIZE, "QUANTIZE"),
            (127, "PLACEHOLDER_FOR_GREATER_OP_CODES"),
            (162, "STABLEHLO_LOGISTIC"),
            (207, "COMPLEX"),
        ] {
            assert_eq!(builtin_name(c), name);
        }
        assert_eq!(builtin_name(208), "UNKNOWN");
        assert_eq!(type_name(ty::FLOAT32), "FLOAT32");
        assert_eq!(type_name(ty::INT32), "INT32");
        assert_eq!(type_name(ty::INT8), "INT8");
        assert_eq!(type_name(18), "BFLOAT16");
        assert_eq!(type_name(19), "UNKNOWN");
        assert_eq!(type_name(-1), "UNKNOWN");
    }
}
