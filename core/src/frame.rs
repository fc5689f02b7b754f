//! Frame: the full-frame engine, running row kernels over whole tensors in memory.

use crate::exec::Exec;
use crate::rows::Tensor;
use crate::{Error, Layer, Model, Param, Result, Rounding, Shape};

/// Runs one layer over a whole input tensor of shape `input_shape`, writing the
/// whole output tensor. Returns the output shape.
///
/// # Examples
///
/// ```
/// use scanline::{Activation, Layer, MaxPool2d, Padding, Quant, Rounding, Shape, Window};
/// let pool = Layer::MaxPool(MaxPool2d {
///     window: Window::square(2, 2, Padding::Valid),
///     quant: Quant::new(1.0, 0),
///     activation: Activation::None,
/// });
/// let input = [1i8, 5, 2, 0, 3, 4, 7, 6];
/// let mut out = [0i8; 2];
/// let shape = scanline::frame::run_layer(&pool, Rounding::Double, &input, Shape::new(2, 4, 1), &mut out).unwrap();
/// assert_eq!((shape, out), (Shape::new(1, 2, 1), [5, 7]));
/// ```
pub fn run_layer(
    layer: &Layer<'_>,
    rounding: Rounding,
    input: &[i8],
    input_shape: Shape,
    output: &mut [i8],
) -> Result<Shape> {
    run_layer_with(layer, Exec::portable(rounding), input, input_shape, output)
}

/// [`run_layer`] with a kernel set: the same bytes, other instructions.
pub fn run_layer_with(
    layer: &Layer<'_>,
    exec: Exec,
    input: &[i8],
    input_shape: Shape,
    output: &mut [i8],
) -> Result<Shape> {
    let out_shape = layer.output_shape(input_shape)?;
    let rows = Tensor::new(input, input_shape).ok_or(Error::length(
        Param::Row,
        input_shape.len(),
        input.len(),
    ))?;
    let found = output.len();
    let output = output.get_mut(..out_shape.len()).ok_or(Error::length(
        Param::Output,
        out_shape.len(),
        found,
    ))?;
    layer.compute_rows(&rows, input_shape, 0, output, exec);
    Ok(out_shape)
}

/// The intermediate tensor of `len` values in `buf` (scratch is sized for the
/// largest, so a short buffer is a planning error, never a panic).
fn held(buf: &[i8], len: usize) -> Result<&[i8]> {
    buf.get(..len).ok_or(Error::ArenaTooSmall {
        needed: len,
        found: buf.len(),
    })
}

/// Runs a whole model over `input`, writing its output tensor to `output`, with
/// `scratch` (at least [`Model::frame_scratch_len`] bytes) for intermediate tensors.
pub fn run(model: &Model<'_>, input: &[i8], output: &mut [i8], scratch: &mut [i8]) -> Result<()> {
    let in_len = model.input_shape().len();
    if input.len() != in_len {
        return Err(Error::length(Param::Row, in_len, input.len()));
    }
    let out_len = model.output_shape().len();
    if output.len() != out_len {
        return Err(Error::length(Param::Output, out_len, output.len()));
    }
    let need = model.frame_scratch_len();
    let found = scratch.len();
    let scratch = scratch.get_mut(..need).ok_or(Error::ArenaTooSmall {
        needed: need,
        found,
    })?;
    let half = model.max_intermediate_len();
    let (a, b) = scratch.split_at_mut(half.min(need));
    let n = model.layers().len();
    // Where the current input lives: 0 the model input, 1 buffer a, 2 buffer b.
    let mut cur = 0u8;
    for (i, layer) in model.layers().iter().enumerate() {
        let shape = model.shape(i).unwrap_or_default();
        let len = shape.len();
        let last = i + 1 == n;
        let next = if last {
            3
        } else if cur == 1 {
            2
        } else {
            1
        };
        let r = model.exec();
        let res = match (cur, next) {
            (0, 1) => run_layer_with(layer, r, input, shape, a),
            (0, _) => run_layer_with(layer, r, input, shape, output),
            (1, 2) => run_layer_with(layer, r, held(a, len)?, shape, b),
            (1, _) => run_layer_with(layer, r, held(a, len)?, shape, output),
            (2, 1) => run_layer_with(layer, r, held(b, len)?, shape, a),
            _ => run_layer_with(layer, r, held(b, len)?, shape, output),
        };
        res.map_err(|e| e.at_layer(i))?;
        cur = next;
    }
    Ok(())
}
