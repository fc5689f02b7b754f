//! Info: what `scanline info` prints about a model — its layers (operator, shapes,
//! window, quantization, MACs, weight bytes) and its memory, streaming against a
//! full-frame engine.
//!
//! Memory per layer:
//! - **stream**: the arena bytes of that stage of the streaming pipeline,
//!   [`Model::stream_layer_len`] (its ring of input rows plus one output row);
//!   the whole arena is their sum, [`Model::stream_arena_len`];
//! - **frame**: what a full-frame engine in the style of TFLite Micro holds while
//!   the layer runs: its whole int8 input tensor and its whole int8 output tensor.
//!   The full-frame peak is the largest of these over the layers.
//!
//! `QUANTIZE` / `DEQUANTIZE` operators (float-I/O models) are listed but not counted:
//! they convert the float input and output at the edges of the int8 chain.
//!
//! # Examples
//!
//! ```
//! use scanline_host::{info, network::Network};
//! let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/tflite/n3_mini/model.tflite");
//! let net = Network::load(path).unwrap();
//! let summary = info::Summary::of(&net, None).unwrap();
//! assert_eq!(summary.layers.len(), 6);
//! assert!(summary.stream_arena < summary.frame_peak);
//! let text = info::report(&net, None).unwrap();
//! assert!(text.contains("MAX_POOL_2D"));
//! ```

use std::path::PathBuf;

use scanline::tflite::Import;
use scanline::{Activation, Axis, Layer, Model, Padding, Quant, Shape, Window};
use serde::Serialize;

use crate::Result;
use crate::json::{self, Schema};
use crate::network::Network;

/// One layer of a model, as `info` describes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerInfo {
    /// Index of the TFLite operator in the graph.
    pub operator: usize,
    /// TFLite builtin name, e.g. `CONV_2D`.
    pub name: &'static str,
    /// Input shape.
    #[serde(serialize_with = "json::shape")]
    pub input: Shape,
    /// Output shape.
    #[serde(serialize_with = "json::shape")]
    pub output: Shape,
    /// Kernel, stride, dilation and padding (and depth multiplier), e.g.
    /// `3x3 s1 d1 same`; `-` for a standalone activation.
    pub window: String,
    /// The same as numbers; `None` for a standalone activation.
    pub geometry: Option<Geometry>,
    /// Fused (or standalone) activation: `none`, `relu`, `relu6`, `relu_n1_to_1`.
    pub activation: &'static str,
    /// Input quantization.
    #[serde(serialize_with = "json::quant")]
    pub input_quant: Quant,
    /// Output quantization.
    #[serde(serialize_with = "json::quant")]
    pub output_quant: Quant,
    /// Weight quantization: `per-channel (N)`, `per-tensor`, or `-`.
    pub weights_quant: String,
    /// Multiply-accumulates per frame.
    pub macs: u64,
    /// Bytes of int8 weights plus int32 bias.
    pub weight_bytes: usize,
    /// Streaming arena bytes of this stage.
    pub stream_bytes: usize,
    /// Full-frame bytes: input tensor + output tensor.
    pub frame_bytes: usize,
}

/// A model's layers and totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    /// Input shape the model is planned for (in JSON, in [`ModelInfo::input`]).
    #[serde(skip)]
    pub input: Shape,
    /// Output shape (in JSON, in [`ModelInfo::output`]).
    #[serde(skip)]
    pub output: Shape,
    /// The layers.
    pub layers: Vec<LayerInfo>,
    /// Operators that are not layers (`QUANTIZE`, `DEQUANTIZE`): index and name.
    #[serde(rename = "conversions", serialize_with = "edge_operators")]
    pub edges: Vec<(usize, &'static str)>,
    /// Total MACs.
    pub macs: u64,
    /// Total weight bytes.
    pub weight_bytes: usize,
    /// The streaming arena, [`Model::stream_arena_len`].
    #[serde(rename = "stream_arena_bytes")]
    pub stream_arena: usize,
    /// The full-frame peak: the largest [`LayerInfo::frame_bytes`].
    #[serde(rename = "frame_peak_bytes")]
    pub frame_peak: usize,
    /// Every activation tensor (the input and each layer's output) at once: what a
    /// full-frame engine needs without reusing memory between layers.
    #[serde(rename = "frame_total_bytes")]
    pub frame_total: usize,
}

impl Summary {
    /// Describes `net`, planned for its own input or (with `width`) for an input
    /// `width` columns wide.
    ///
    /// # Errors
    ///
    /// [`crate::Error::Model`] if the layers do not fit the width.
    pub fn of(net: &Network, width: Option<usize>) -> Result<Self> {
        let import = net.import()?;
        let model = match width {
            Some(w) => net.model_for_width(w)?,
            None => import.model().clone(),
        };
        Ok(Self::from_model(&import, &model))
    }

    fn from_model(import: &Import<'_>, model: &Model<'_>) -> Self {
        let layers: Vec<LayerInfo> = model
            .layers()
            .iter()
            .enumerate()
            .map(|(i, layer)| {
                // A model has a shape before and after every layer.
                let none = Shape::new(0, 0, 0);
                let input = model.shape(i).unwrap_or(none);
                let output = model.shape(i + 1).unwrap_or(none);
                let op = import.operator_of_layer(i);
                LayerInfo {
                    operator: op.map_or(i, |o| o.index),
                    name: op.map_or(layer.name(), |o| o.name),
                    input,
                    output,
                    window: window(layer),
                    geometry: Geometry::of(layer),
                    activation: activation(layer),
                    input_quant: layer.input_quant(),
                    output_quant: layer.output_quant(),
                    weights_quant: weights_quant(layer),
                    macs: layer.macs(input),
                    weight_bytes: weight_bytes(layer),
                    stream_bytes: model.stream_layer_len(i).unwrap_or(0),
                    frame_bytes: input.len() + output.len(),
                }
            })
            .collect();
        let edges = import
            .operators()
            .iter()
            .filter(|o| o.layer.is_none())
            .map(|o| (o.index, o.name))
            .collect();
        Self {
            input: model.input_shape(),
            output: model.output_shape(),
            macs: layers.iter().map(|l| l.macs).sum(),
            weight_bytes: layers.iter().map(|l| l.weight_bytes).sum(),
            stream_arena: model.stream_arena_len(),
            frame_peak: layers.iter().map(|l| l.frame_bytes).max().unwrap_or(0),
            frame_total: (0..=model.layers().len())
                .filter_map(|i| model.shape(i))
                .map(|s| s.len())
                .sum(),
            layers,
            edges,
        }
    }
}

/// A layer's window as numbers: what [`LayerInfo::window`] writes as text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Geometry {
    /// Kernel (or pooling window) height and width.
    pub kernel: [usize; 2],
    /// Vertical and horizontal stride.
    pub stride: [usize; 2],
    /// Vertical and horizontal dilation (1 for pooling).
    pub dilation: [usize; 2],
    /// `"same"` or `"valid"`.
    pub padding: &'static str,
    /// Depth multiplier of a depthwise convolution (`None` otherwise).
    pub depth_multiplier: Option<usize>,
}

impl Geometry {
    /// The geometry of `layer`; `None` for a standalone activation.
    pub fn of(layer: &Layer<'_>) -> Option<Self> {
        let of = |w: &Window, depth_multiplier| Self {
            kernel: [w.height.kernel, w.width.kernel],
            stride: [w.height.stride, w.width.stride],
            dilation: [w.height.dilation, w.width.dilation],
            padding: padding_name(w.padding),
            depth_multiplier,
        };
        match layer {
            Layer::Conv2d(l) => Some(of(&l.window, None)),
            Layer::Depthwise(l) => Some(of(&l.window, Some(l.depth_multiplier))),
            Layer::MaxPool(l) => Some(of(&l.window, None)),
            Layer::AvgPool(l) => Some(of(&l.window, None)),
            Layer::Relu(_) | Layer::Mean(_) | Layer::Dense(_) | Layer::Softmax(_) => None,
        }
    }
}

const fn padding_name(p: Padding) -> &'static str {
    match p {
        Padding::Same => "same",
        Padding::Valid => "valid",
    }
}

/// `QUANTIZE` / `DEQUANTIZE` operators as `[{"operator": i, "name": ...}]`.
fn edge_operators<S: serde::Serializer>(
    edges: &[(usize, &'static str)],
    ser: S,
) -> std::result::Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Edge {
        operator: usize,
        name: &'static str,
    }
    ser.collect_seq(
        edges
            .iter()
            .map(|&(operator, name)| Edge { operator, name }),
    )
}

fn pair(h: usize, w: usize) -> String {
    if h == w {
        format!("{h}")
    } else {
        format!("{h}x{w}")
    }
}

fn describe_window(height: Axis, width: Axis, padding: Padding) -> String {
    format!(
        "{}x{} s{} d{} {}",
        height.kernel,
        width.kernel,
        pair(height.stride, width.stride),
        pair(height.dilation, width.dilation),
        padding_name(padding)
    )
}

fn window(layer: &Layer<'_>) -> String {
    match layer {
        Layer::Conv2d(l) => describe_window(l.window.height, l.window.width, l.window.padding),
        Layer::Depthwise(l) => format!(
            "{} m{}",
            describe_window(l.window.height, l.window.width, l.window.padding),
            l.depth_multiplier
        ),
        Layer::MaxPool(scanline::MaxPool2d { window: w, .. })
        | Layer::AvgPool(scanline::AvgPool2d { window: w, .. }) => {
            format!(
                "{}x{} s{} {}",
                w.height.kernel,
                w.width.kernel,
                pair(w.height.stride, w.width.stride),
                padding_name(w.padding)
            )
        }
        Layer::Mean(_) => "all rows".into(),
        Layer::Dense(l) => format!("{} -> {}", l.in_features, l.out_features),
        Layer::Relu(_) | Layer::Softmax(_) => "-".into(),
    }
}

fn activation_name(a: Activation) -> &'static str {
    match a {
        Activation::None => "none",
        Activation::Relu => "relu",
        Activation::Relu6 => "relu6",
        Activation::ReluN1To1 => "relu_n1_to_1",
    }
}

fn activation(layer: &Layer<'_>) -> &'static str {
    match layer {
        Layer::Conv2d(l) => activation_name(l.activation),
        Layer::Depthwise(l) => activation_name(l.activation),
        Layer::MaxPool(l) => activation_name(l.activation),
        Layer::Relu(l) => activation_name(l.activation),
        Layer::AvgPool(l) => activation_name(l.activation),
        Layer::Dense(l) => activation_name(l.activation),
        Layer::Mean(_) => "none",
        Layer::Softmax(_) => "softmax",
    }
}

fn weights_quant(layer: &Layer<'_>) -> String {
    let n = match layer {
        Layer::Conv2d(l) => l.requant.len(),
        Layer::Depthwise(l) => l.requant.len(),
        Layer::Dense(l) => l.requant.len(),
        _ => return "-".into(),
    };
    if n == 1 {
        "per-tensor".into()
    } else {
        format!("per-channel ({n})")
    }
}

fn weight_bytes(layer: &Layer<'_>) -> usize {
    let bias = |b: Option<scanline::Values<'_, i32>>| b.map_or(0, |b| b.len() * 4);
    match layer {
        Layer::Conv2d(l) => l.weights.len() + bias(l.bias),
        Layer::Depthwise(l) => l.weights.len() + bias(l.bias),
        Layer::Dense(l) => l.weights.len() + bias(l.bias),
        _ => 0,
    }
}

/// `scale/zero_point`, the scale with six significant digits.
fn quant(q: Quant) -> String {
    format!("{:.6}/{}", q.scale, q.zero_point)
}

/// A number with comma thousands separators (`12,345`).
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// Lays out rows as a table: columns padded to their widest cell, numbers (cells
/// whose column `right[i]` is set) right-aligned, two spaces between columns.
fn table(rows: &[Vec<String>], right: &[bool]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c > 0 {
                line.push_str("  ");
            }
            let w = widths[c];
            if right.get(c).copied().unwrap_or(false) {
                line.push_str(&format!("{cell:>w$}"));
            } else {
                line.push_str(&format!("{cell:<w$}"));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The int8 tensor at one end of a model, and whether the file converts it from
/// or to float32 there (`QUANTIZE` at the input, `DEQUANTIZE` at the output).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Port {
    /// Its shape.
    #[serde(serialize_with = "json::shape")]
    pub shape: Shape,
    /// The quantization of the int8 tensor.
    #[serde(serialize_with = "json::quant")]
    pub quant: Quant,
    /// True if the file's tensor is float32 (converted at this end).
    pub float: bool,
}

impl Port {
    fn describe(&self, conversion: &str) -> String {
        let q = self.quant;
        if self.float {
            format!(
                "{} float32 ({conversion}, int8 scale {:.6}, zero point {})",
                self.shape, q.scale, q.zero_point
            )
        } else {
            format!(
                "{} int8 (scale {:.6}, zero point {})",
                self.shape, q.scale, q.zero_point
            )
        }
    }
}

/// Everything `scanline info` says about a model: the file, its ends, and the
/// [`Summary`] of its layers. [`Display`](std::fmt::Display) gives the text,
/// `serde` the `scanline/info/1` JSON document (`docs/json.md`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelInfo {
    /// The model file.
    #[serde(serialize_with = "json::path")]
    pub model: PathBuf,
    /// The description the converter wrote (may be empty).
    pub description: String,
    /// Operators in the graph (layers plus any `QUANTIZE` / `DEQUANTIZE`).
    pub operators: usize,
    /// The model's input, as planned (at `planned_width` if given).
    pub input: Port,
    /// The model's output, as planned.
    pub output: Port,
    /// The width asked for with `--width`, if any.
    pub planned_width: Option<usize>,
    /// The input shape the model file declares.
    #[serde(serialize_with = "json::shape")]
    pub file_input: Shape,
    /// The layers and totals.
    #[serde(flatten)]
    pub summary: Summary,
}

impl Schema for ModelInfo {
    const SCHEMA: &'static str = "scanline/info/1";
}

impl ModelInfo {
    /// Describes `net`, planned for its own input or (with `width`) for an input
    /// `width` columns wide.
    ///
    /// # Errors
    ///
    /// As [`Summary::of`].
    pub fn of(net: &Network, width: Option<usize>) -> Result<Self> {
        let import = net.import()?;
        let model = import.model();
        let summary = Summary::of(net, width)?;
        Ok(Self {
            model: net.path().to_path_buf(),
            description: import.description().to_string(),
            operators: import.operators().len(),
            input: Port {
                shape: summary.input,
                quant: model.input_quant(),
                float: import.float_input().is_some(),
            },
            output: Port {
                shape: summary.output,
                quant: model.output_quant(),
                float: import.float_output().is_some(),
            },
            planned_width: width,
            file_input: model.input_shape(),
            summary,
        })
    }
}

impl std::fmt::Display for ModelInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.summary;
        writeln!(
            f,
            "model: {}{}, {} operators, {} layers",
            self.model.display(),
            if self.description.is_empty() {
                String::new()
            } else {
                format!(" ({})", self.description)
            },
            self.operators,
            s.layers.len()
        )?;
        writeln!(f, "input:  {}", self.input.describe("QUANTIZE to int8"))?;
        writeln!(
            f,
            "output: {}",
            self.output.describe("DEQUANTIZE from int8")
        )?;
        if self.planned_width.is_some() {
            writeln!(
                f,
                "planned for width {} (the model file's input is {})",
                s.input.width, self.file_input
            )?;
        }
        writeln!(f)?;

        let mut rows = vec![
            [
                "op", "operator", "input", "output", "window", "act", "in s/zp", "out s/zp",
                "weights", "MACs", "weight B", "stream B", "frame B",
            ]
            .map(String::from)
            .to_vec(),
        ];
        let mut ops: Vec<(usize, Vec<String>)> = s
            .layers
            .iter()
            .map(|l| {
                (
                    l.operator,
                    vec![
                        l.operator.to_string(),
                        l.name.to_string(),
                        l.input.to_string(),
                        l.output.to_string(),
                        l.window.clone(),
                        l.activation.to_string(),
                        quant(l.input_quant),
                        quant(l.output_quant),
                        l.weights_quant.clone(),
                        grouped(l.macs),
                        grouped(l.weight_bytes as u64),
                        grouped(l.stream_bytes as u64),
                        grouped(l.frame_bytes as u64),
                    ],
                )
            })
            .collect();
        for &(index, name) in &s.edges {
            let (input, output, note) = if name == "QUANTIZE" {
                (s.input, s.input, "float32 -> int8")
            } else {
                (s.output, s.output, "int8 -> float32")
            };
            let mut row = vec![
                index.to_string(),
                name.to_string(),
                input.to_string(),
                output.to_string(),
                note.to_string(),
            ];
            row.resize(13, "-".into());
            ops.push((index, row));
        }
        ops.sort_by_key(|(i, _)| *i);
        rows.extend(ops.into_iter().map(|(_, r)| r));
        let right = [
            true, false, false, false, false, false, false, false, false, true, true, true, true,
        ];
        f.write_str(&table(&rows, &right))?;
        if !s.edges.is_empty() {
            writeln!(
                f,
                "(QUANTIZE / DEQUANTIZE convert the float input / output; not counted below)"
            )?;
        }
        writeln!(f)?;
        let ratio = if s.stream_arena > 0 {
            format!(
                "; streaming needs {:.1}x less",
                s.frame_peak as f64 / s.stream_arena as f64
            )
        } else {
            String::new()
        };
        writeln!(f, "total MACs:       {}", grouped(s.macs))?;
        writeln!(
            f,
            "weights:          {} bytes (int8 weights + int32 bias)",
            grouped(s.weight_bytes as u64)
        )?;
        writeln!(
            f,
            "streaming arena:  {} bytes",
            grouped(s.stream_arena as u64)
        )?;
        writeln!(
            f,
            "full-frame peak:  {} bytes (largest input + output tensor pair){ratio}",
            grouped(s.frame_peak as u64)
        )?;
        writeln!(
            f,
            "full-frame sum:   {} bytes (every activation tensor, no reuse)",
            grouped(s.frame_total as u64)
        )
    }
}

/// The full `scanline info` text: a header, the layer table and the totals
/// ([`ModelInfo`] displayed).
///
/// # Errors
///
/// As [`Summary::of`].
pub fn report(net: &Network, width: Option<usize>) -> Result<String> {
    Ok(ModelInfo::of(net, width)?.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(1234567), "1,234,567");
    }

    #[test]
    fn table_aligns() {
        let rows = vec![
            vec!["a".to_string(), "1".to_string()],
            vec!["bbb".to_string(), "100".to_string()],
        ];
        assert_eq!(table(&rows, &[false, true]), "a      1\nbbb  100\n");
    }

    #[test]
    fn n3_mini_numbers() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/tflite/n3_mini/model.tflite"
        );
        let net = Network::load(path).unwrap();
        let s = Summary::of(&net, None).unwrap();
        let first = &s.layers[0];
        assert_eq!((first.name, first.operator), ("CONV_2D", 0));
        assert_eq!(first.window, "3x3 s1 d1 same");
        assert_eq!(first.macs, 30 * 40 * 8 * 9);
        assert_eq!(first.weight_bytes, 8 * 9 + 8 * 4);
        assert_eq!(first.frame_bytes, 30 * 40 + 30 * 40 * 8);
        assert_eq!(s.layers[1].window, "2x2 s2 valid");
        assert_eq!(
            s.stream_arena,
            s.layers.iter().map(|l| l.stream_bytes).sum::<usize>()
        );
        let wide = Summary::of(&net, Some(320)).unwrap();
        assert_eq!(wide.input, Shape::new(30, 320, 1));
        assert_eq!(wide.macs, s.macs * 8);
    }
}
