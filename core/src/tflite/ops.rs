//! Ops: building the core [`Layer`] of one TFLite operator — its builtin options,
//! padding, fused activation, filter, bias and weight scales.

use super::file::{File, Tensor};
use super::flatbuffer::{Table, Vector, malformed};
use super::schema::{builtin_name, code, field, options, ty};
use crate::{
    Activation, AvgPool2d, Axis, Conv2d, Dense, DepthwiseConv2d, Error, Layer, MaxPool2d, Mean,
    Padding, Relu, Requantization, Result, Softmax, Values, WeightLayout, Window,
};

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

/// The field ids of a convolution window in an options table: padding, then
/// `(height, width)` strides and dilations.
struct WindowFields {
    padding: usize,
    stride: (usize, usize),
    dilation: (usize, usize),
}

/// `Conv2DOptions`' window fields.
const CONV_WINDOW: WindowFields = WindowFields {
    padding: field::CONV_PADDING,
    stride: (field::CONV_STRIDE_H, field::CONV_STRIDE_W),
    dilation: (field::CONV_DILATION_H, field::CONV_DILATION_W),
};

/// `DepthwiseConv2DOptions`' window fields.
const DW_WINDOW: WindowFields = WindowFields {
    padding: field::DW_PADDING,
    stride: (field::DW_STRIDE_H, field::DW_STRIDE_W),
    dilation: (field::DW_DILATION_H, field::DW_DILATION_W),
};

/// The window of a `kh` x `kw` convolution kernel from its options table `t`
/// (strides default to 0, which the core rejects; dilations to 1).
fn conv_window(t: &Table<'_>, (kh, kw): (usize, usize), f: &WindowFields) -> Result<Window> {
    Ok(Window {
        height: Axis::new(
            kh,
            positive(t, f.stride.0, 0, "stride_h")?,
            positive(t, f.dilation.0, 1, "dilation_h_factor")?,
        ),
        width: Axis::new(
            kw,
            positive(t, f.stride.1, 0, "stride_w")?,
            positive(t, f.dilation.1, 1, "dilation_w_factor")?,
        ),
        padding: padding(t, f.padding)?,
    })
}

/// The optional int32 bias (input 2) of a conv, depthwise or dense operator with
/// `co` outputs.
fn bias<'a>(file: &File<'a>, io: &Io<'a>, co: usize, at: usize) -> Result<Option<Values<'a, i32>>> {
    match io.inputs.i32(2) {
        Some(b) if b >= 0 => {
            let bias = file.tensor(b, at)?;
            bias.expect_type(ty::INT32, "bias must be int32")?;
            let len = co.saturating_mul(4);
            Ok(Some(Values::Le(file.constant(
                &bias,
                len,
                "bias must be constant",
            )?)))
        }
        _ => Ok(None),
    }
}

/// The window of a pooling operator from its `Pool2DOptions` table `t`.
fn pool_window(t: &Table<'_>) -> Result<Window> {
    use field::*;
    let axis = |k, s, ks, ss| -> Result<Axis> {
        Ok(Axis::new(positive(t, k, 0, ks)?, positive(t, s, 0, ss)?, 1))
    };
    Ok(Window {
        height: axis(POOL_FILTER_H, POOL_STRIDE_H, "filter_height", "stride_h")?,
        width: axis(POOL_FILTER_W, POOL_STRIDE_W, "filter_width", "stride_w")?,
        padding: padding(t, POOL_PADDING)?,
    })
}

/// Checks that a `quantized_bias_type` option is unset or int32.
fn int32_bias_type(t: &Table<'_>, id: usize, i: usize) -> Result<()> {
    let bias_ty = t.i8(id, 0, "quantized_bias_type")?;
    if bias_ty != 0 && bias_ty != ty::INT32 {
        return Err(Error::Graph {
            operator: Some(i),
            reason: "quantized_bias_type must be int32",
        });
    }
    Ok(())
}

/// Activation input/output, and optional weights/bias, of an operator.
pub(super) struct Io<'a> {
    pub(super) input: Tensor<'a>,
    pub(super) output: Tensor<'a>,
    pub(super) inputs: Vector<'a>,
}

/// The core layer of operator `i` (builtin `code`, options table `op`): conv and
/// depthwise filters, bias and weight scales borrowed from `file`, pooling
/// windows and standalone ReLUs; an operator scanline does not run is
/// [`Error::UnsupportedOp`].
pub(super) fn layer_of<'a>(
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
            let bias = bias(file, io, co, at)?;
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
                    window: conv_window(&t, (kh, kw), &DW_WINDOW)?,
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
                int32_bias_type(&t, CONV_QUANTIZED_BIAS_TYPE, i)?;
                Ok(Layer::Conv2d(Conv2d {
                    in_channels: d[3],
                    out_channels: co,
                    window: conv_window(&t, (kh, kw), &CONV_WINDOW)?,
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
        code::MAX_POOL_2D | code::AVERAGE_POOL_2D => {
            let t = options(op, options::POOL_2D, i)?;
            if in_q != out_q {
                return Err(Error::Graph {
                    operator: Some(i),
                    reason: "pooling input and output quantization differ",
                });
            }
            let window = pool_window(&t)?;
            let activation = activation(&t, field::POOL_ACTIVATION, i)?;
            Ok(if code == code::MAX_POOL_2D {
                Layer::MaxPool(MaxPool2d {
                    window,
                    quant: in_q,
                    activation,
                })
            } else {
                Layer::AvgPool(AvgPool2d {
                    window,
                    quant: in_q,
                    activation,
                })
            })
        }
        code::MEAN => {
            let t = options(op, options::REDUCER, i)?;
            let axis = file.tensor(io.inputs.i32(1).unwrap_or(-1), at)?;
            axis.expect_type(ty::INT32, "MEAN axes must be int32")?;
            let bytes = file.constant(&axis, 8, "MEAN axes must be constant")?;
            let axes = Values::<i32>::Le(bytes);
            let hw = |a: Option<i32>| matches!(a, Some(1 | 2 | -3 | -2));
            let (a, b) = (axes.get(0), axes.get(1));
            if !(hw(a) && hw(b) && a.map(|v| v.rem_euclid(4)) != b.map(|v| v.rem_euclid(4))) {
                return Err(Error::Graph {
                    operator: Some(i),
                    reason: "MEAN is supported over height and width only (axes 1 and 2)",
                });
            }
            Ok(Layer::Mean(Mean {
                keep_dims: t.u8(field::REDUCER_KEEP_DIMS, 0, "keep_dims")? != 0,
                input: in_q,
                output: out_q,
            }))
        }
        code::FULLY_CONNECTED => {
            let t = options(op, options::FULLY_CONNECTED, i)?;
            use field::*;
            if t.i8(FC_WEIGHTS_FORMAT, 0, "weights_format")? != 0 {
                return Err(Error::Graph {
                    operator: Some(i),
                    reason: "FULLY_CONNECTED weights must be in the DEFAULT format",
                });
            }
            int32_bias_type(&t, FC_QUANTIZED_BIAS_TYPE, i)?;
            let filter = file.tensor(io.inputs.i32(1).unwrap_or(-1), at)?;
            filter.expect_type(ty::INT8, "weights must be int8")?;
            let [co, depth] = filter.dims2()?;
            if co != out_shape.channels || depth != in_shape.len() {
                return Err(Error::Graph {
                    operator: Some(i),
                    reason: "filter shape does not match the input size and output channels",
                });
            }
            let n = co
                .checked_mul(depth)
                .ok_or(malformed(filter.table.pos(), "filter too large"))?;
            let weights: &[i8] =
                bytemuck::cast_slice(file.constant(&filter, n, "weights must be constant")?);
            Ok(Layer::Dense(Dense {
                in_features: depth,
                out_features: co,
                weights,
                bias: bias(file, io, co, at)?,
                requant: Requantization::WeightScales(filter.weight_scales(0, co)?),
                input: in_q,
                output: out_q,
                activation: activation(&t, FC_ACTIVATION, i)?,
            }))
        }
        code::SOFTMAX => {
            let t = options(op, options::SOFTMAX, i)?;
            let beta = f32::from_bits(t.u32(field::SOFTMAX_BETA, 0, "beta")?);
            Ok(Layer::Softmax(Softmax {
                beta,
                input: in_q,
                output: out_q,
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
