//! Model: the `stream` target — a small model built from the fuzzer's bytes
//! (`arbitrary`), mostly valid and sometimes subtly not (a channel count, a weight
//! count, a scale), with its input rows; the core must refuse it cleanly or the
//! streaming pipeline and the frame engine must agree on it.

use arbitrary::{Result, Unstructured};
use scanline::{
    Activation, Axis, Conv2d, DepthwiseConv2d, Layer, MaxPool2d, Model, Padding, Quant, Relu,
    Requantization, Rounding, Shape, Values, WeightLayout, Window,
};

use crate::engines;

/// Entry point of the `stream` target.
pub fn stream(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(spec) = Spec::generate(&mut u) else {
        return;
    };
    let layers: Vec<Layer<'_>> = spec.layers.iter().map(LayerSpec::layer).collect();
    let Ok(model) = Model::new(spec.input, spec.quant, &layers, spec.rounding) else {
        return;
    };
    let n = model.input_shape().len();
    let input: Vec<i8> = if spec.pixels.is_empty() {
        vec![0; n]
    } else {
        (0..n).map(|i| spec.pixels[i % spec.pixels.len()]).collect()
    };
    engines::agree(&model, &input);
}

/// A model's description, owning the weights the layers borrow.
#[derive(Debug)]
struct Spec {
    input: Shape,
    quant: Quant,
    rounding: Rounding,
    layers: Vec<LayerSpec>,
    pixels: Vec<i8>,
}

#[derive(Debug)]
enum Kind {
    Conv { out: usize, layout: WeightLayout },
    Depthwise { multiplier: usize },
    Pool,
    Relu,
}

#[derive(Debug)]
enum Requant {
    Scales(Vec<f32>),
    Fixed(Vec<i32>, Vec<i32>),
}

#[derive(Debug)]
enum Bias {
    None,
    Slice(Vec<i32>),
    Le(Vec<u8>),
}

#[derive(Debug)]
struct LayerSpec {
    kind: Kind,
    in_channels: usize,
    window: Window,
    weights: Vec<i8>,
    bias: Bias,
    requant: Requant,
    input: Quant,
    output: Quant,
    activation: Activation,
}

impl Spec {
    fn generate(u: &mut Unstructured<'_>) -> Result<Self> {
        let input = Shape::new(
            u.int_in_range(1..=12)?,
            u.int_in_range(1..=12)?,
            u.int_in_range(1..=4)?,
        );
        let quant = quant(u)?;
        let rounding = if u.arbitrary()? {
            Rounding::Single
        } else {
            Rounding::Double
        };
        let mut layers = Vec::new();
        let mut channels = input.channels;
        let mut q = quant;
        for _ in 0..u.int_in_range(1..=4)? {
            let layer = LayerSpec::generate(u, channels, q)?;
            channels = layer.out_channels();
            q = layer.output;
            layers.push(layer);
        }
        let pixels = u.arbitrary::<Vec<i8>>()?;
        Ok(Self {
            input,
            quant,
            rounding,
            layers,
            pixels,
        })
    }
}

impl LayerSpec {
    fn generate(u: &mut Unstructured<'_>, channels: usize, q: Quant) -> Result<Self> {
        // Now and then a channel count or quantization that does not chain.
        let in_channels = if u.ratio(1, 16)? {
            u.int_in_range(0..=5)?
        } else {
            channels
        };
        let input = if u.ratio(1, 16)? { quant(u)? } else { q };
        let kind = match u.int_in_range(0..=3)? {
            0 => Kind::Conv {
                out: u.int_in_range(1..=9)?,
                layout: if u.arbitrary()? {
                    WeightLayout::Hwio
                } else {
                    WeightLayout::Ohwi
                },
            },
            1 => Kind::Depthwise {
                multiplier: u.int_in_range(1..=3)?,
            },
            2 => Kind::Pool,
            _ => Kind::Relu,
        };
        let window = Window {
            height: axis(u)?,
            width: axis(u)?,
            padding: if u.arbitrary()? {
                Padding::Same
            } else {
                Padding::Valid
            },
        };
        let activation = match u.int_in_range(0..=3)? {
            0 => Activation::None,
            1 => Activation::Relu,
            2 => Activation::Relu6,
            _ => Activation::ReluN1To1,
        };
        let output = if matches!(kind, Kind::Pool) && !u.ratio(1, 16)? {
            input
        } else {
            quant(u)?
        };
        let mut layer = Self {
            kind,
            in_channels,
            window,
            weights: Vec::new(),
            bias: Bias::None,
            requant: Requant::Scales(Vec::new()),
            input,
            output,
            activation,
        };
        if matches!(layer.kind, Kind::Conv { .. } | Kind::Depthwise { .. }) {
            let taps = window.height.kernel * window.width.kernel;
            let mut n = match layer.kind {
                Kind::Conv { out, .. } => taps * in_channels * out,
                _ => taps * layer.out_channels(),
            };
            if u.ratio(1, 32)? {
                n = n.saturating_add_signed(u.int_in_range(-2..=2)?);
            }
            layer.weights = (0..n).map(|_| u.arbitrary()).collect::<Result<_>>()?;
            let oc = layer.out_channels();
            let per_channel = if u.arbitrary()? { oc } else { 1 };
            layer.bias = match u.int_in_range(0..=2)? {
                0 => Bias::None,
                1 => Bias::Slice(
                    (0..oc)
                        .map(|_| u.int_in_range(-20000..=20000))
                        .collect::<Result<_>>()?,
                ),
                _ => Bias::Le((0..oc * 4).map(|_| u.arbitrary()).collect::<Result<_>>()?),
            };
            layer.requant = if u.ratio(1, 4)? {
                Requant::Fixed(
                    (0..per_channel)
                        .map(|_| u.arbitrary())
                        .collect::<Result<_>>()?,
                    (0..per_channel)
                        .map(|_| u.int_in_range(-33..=32))
                        .collect::<Result<_>>()?,
                )
            } else {
                Requant::Scales((0..per_channel).map(|_| scale(u)).collect::<Result<_>>()?)
            };
        }
        Ok(layer)
    }

    fn out_channels(&self) -> usize {
        match self.kind {
            Kind::Conv { out, .. } => out,
            Kind::Depthwise { multiplier } => self.in_channels * multiplier,
            Kind::Pool | Kind::Relu => self.in_channels,
        }
    }

    fn layer(&self) -> Layer<'_> {
        let bias = match &self.bias {
            Bias::None => None,
            Bias::Slice(v) => Some(Values::Slice(v)),
            Bias::Le(b) => Some(Values::Le(b)),
        };
        let requant = match &self.requant {
            Requant::Scales(s) => Requantization::WeightScales(Values::Slice(s)),
            Requant::Fixed(m, s) => Requantization::Fixed {
                multipliers: Values::Slice(m),
                shifts: Values::Slice(s),
            },
        };
        match self.kind {
            Kind::Conv { out, layout } => Layer::Conv2d(Conv2d {
                in_channels: self.in_channels,
                out_channels: out,
                window: self.window,
                weights: &self.weights,
                layout,
                bias,
                requant,
                input: self.input,
                output: self.output,
                activation: self.activation,
            }),
            Kind::Depthwise { multiplier } => Layer::Depthwise(DepthwiseConv2d {
                in_channels: self.in_channels,
                depth_multiplier: multiplier,
                window: self.window,
                weights: &self.weights,
                bias,
                requant,
                input: self.input,
                output: self.output,
                activation: self.activation,
            }),
            Kind::Pool => Layer::MaxPool(MaxPool2d {
                window: self.window,
                quant: self.input,
                activation: self.activation,
            }),
            Kind::Relu => Layer::Relu(Relu {
                activation: if self.activation == Activation::Relu6 {
                    Activation::Relu6
                } else {
                    Activation::Relu
                },
                input: self.input,
                output: self.output,
            }),
        }
    }
}

/// A window axis: mostly small, now and then beyond the core's limits.
fn axis(u: &mut Unstructured<'_>) -> Result<Axis> {
    if u.ratio(1, 32)? {
        return Ok(Axis::new(
            u.int_in_range(0..=20)?,
            u.int_in_range(0..=5)?,
            u.int_in_range(0..=5)?,
        ));
    }
    Ok(Axis::new(
        u.int_in_range(1..=5)?,
        u.int_in_range(1..=3)?,
        u.int_in_range(1..=2)?,
    ))
}

/// A quantization: mostly plausible, now and then hostile.
fn quant(u: &mut Unstructured<'_>) -> Result<Quant> {
    let zero_point = if u.ratio(1, 32)? {
        u.arbitrary()?
    } else {
        u.int_in_range(-128..=127)?
    };
    Ok(Quant::new(scale(u)?, zero_point))
}

/// A scale: one of a few common ones, any positive one, or a hostile one.
fn scale(u: &mut Unstructured<'_>) -> Result<f32> {
    Ok(match u.int_in_range(0..=9)? {
        0 => 1.0 / 255.0,
        1 => 16.0 / 255.0,
        2 => 0.5,
        3 => 1.0,
        4 => *u.choose(&[
            0.0,
            -1.0,
            f32::NAN,
            f32::INFINITY,
            1e-30,
            1e30,
            f32::MIN_POSITIVE,
        ])?,
        _ => f32::from(u.int_in_range(1u16..=u16::MAX)?) / 4096.0,
    })
}
