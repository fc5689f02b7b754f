//! Schema: the parts of TFLite's `schema.fbs` the import reads — table field ids,
//! options union members, builtin operator codes, tensor type codes — and the
//! names of every builtin operator and tensor type, for error messages.

/// Field ids (vtable slots) of the schema's tables, from TFLite's `schema.fbs`. A
/// union takes two slots: its type, then its value.
pub(super) mod field {
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

    // FullyConnectedOptions
    pub const FC_ACTIVATION: usize = 0;
    pub const FC_WEIGHTS_FORMAT: usize = 1;
    pub const FC_QUANTIZED_BIAS_TYPE: usize = 4;

    // SoftmaxOptions
    pub const SOFTMAX_BETA: usize = 0;

    // ReducerOptions
    pub const REDUCER_KEEP_DIMS: usize = 0;
}

/// `BuiltinOptions` union members.
pub(super) mod options {
    pub const CONV_2D: u8 = 1;
    pub const DEPTHWISE_CONV_2D: u8 = 2;
    pub const POOL_2D: u8 = 5;
    pub const FULLY_CONNECTED: u8 = 8;
    pub const SOFTMAX: u8 = 9;
    pub const REDUCER: u8 = 27;
}

/// `BuiltinOperator` codes scanline runs.
pub(super) mod code {
    pub const AVERAGE_POOL_2D: i32 = 1;
    pub const CONV_2D: i32 = 3;
    pub const DEPTHWISE_CONV_2D: i32 = 4;
    pub const DEQUANTIZE: i32 = 6;
    pub const FULLY_CONNECTED: i32 = 9;
    pub const MAX_POOL_2D: i32 = 17;
    pub const RELU: i32 = 19;
    pub const RELU6: i32 = 21;
    pub const RESHAPE: i32 = 22;
    pub const SOFTMAX: i32 = 25;
    pub const MEAN: i32 = 40;
    pub const QUANTIZE: i32 = 114;
}

/// `TensorType` values scanline reads.
pub(super) mod ty {
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
