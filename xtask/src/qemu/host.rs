//! Host: every call `cargo xtask qemu` makes into scanline-host, in one place,
//! so that re-pointing them after the host's modules move is one edit.

use std::path::Path;

use scanline::Shape;
use scanline_host::network::Network;
use scanline_host::picture::{self, Channels};
use scanline_host::tensor::Tensor;

/// A `.tflite` model loaded and imported by the host library.
pub fn load(path: &Path) -> Result<Network, String> {
    Network::load(path).map_err(|e| e.to_string())
}

/// A `.npy` input for `net`, quantized as `scanline run` does.
pub fn npy_input(net: &Network, path: &Path) -> Result<Tensor<i8>, String> {
    net.input_from_npy(path)
        .map(|input| input.int8)
        .map_err(|e| e.to_string())
}

/// A `.npy` int8 input for a model that is not a file (the edge model):
/// shaped `[H, W, C]` or `[1, H, W, C]`.
pub fn npy_int8(path: &Path) -> Result<Tensor<i8>, String> {
    let (shape, data) = scanline_host::npy::read_i8(path).map_err(|e| e.to_string())?;
    let s = match shape[..] {
        [h, w, c] | [1, h, w, c] => Shape::new(h, w, c),
        _ => {
            return Err(format!(
                "{}: expected an int8 array shaped [H, W, C] or [1, H, W, C], found {shape:?}",
                path.display()
            ));
        }
    };
    Tensor::new(s, data).map_err(|e| e.to_string())
}

/// An image's pixels as stored: 1 channel for a gray image, 3 for colour.
pub fn picture(path: &Path) -> Result<Tensor<u8>, String> {
    picture::load(path, Channels::Keep).map_err(|e| e.to_string())
}

/// The frame engine's output.
pub fn frame(model: &scanline::Model<'_>, input: &Tensor<i8>) -> Result<Tensor<i8>, String> {
    scanline_host::engine::run_frame(model, input).map_err(|e| e.to_string())
}

/// Writes an int8 output as `scanline run` does: the int8 tensor, or float32
/// if the model ends with DEQUANTIZE (`float`), `.npy` or `.png` by the
/// extension.
pub fn save(
    values: Tensor<i8>,
    quant: scanline::Quant,
    float: bool,
    path: &Path,
) -> Result<(), String> {
    use scanline_host::output::Output;
    let output = if float {
        Output::Float(values.map(|q| quant.dequantize(q)))
    } else {
        Output::Int8 { values, quant }
    };
    output.save(path).map_err(|e| e.to_string())
}

/// Writes several frames as one int8 `.npy` shaped `[N, H, W, C]`.
pub fn save_frames(path: &Path, frames: usize, shape: Shape, data: &[i8]) -> Result<(), String> {
    scanline_host::npy::write_i8(
        path,
        &[frames, shape.height, shape.width, shape.channels],
        data,
    )
    .map_err(|e| e.to_string())
}

/// An `expected.npy` of a fixture: its int8 values, or `None` for a float32
/// array (a float-output model, compared before its DEQUANTIZE).
pub fn expected_int8(path: &Path) -> Result<Option<Vec<i8>>, String> {
    match scanline_host::npy::read_any(path)
        .map_err(|e| e.to_string())?
        .data
    {
        scanline_host::npy::Data::I8(v) => Ok(Some(v)),
        scanline_host::npy::Data::F32(_) => Ok(None),
        other => Err(format!(
            "{}: unexpected dtype {}",
            path.display(),
            other.dtype()
        )),
    }
}

pub use scanline_host::tensor::Tensor as HostTensor;
