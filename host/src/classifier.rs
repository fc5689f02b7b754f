//! Classifier: the f32 reference of the operators a classifier adds to its
//! convolutional front — the mean over height and width (global average
//! pooling), the dense layer over the whole (flattened) input and the softmax —
//! and the ranking of class scores that `scanline run` prints.

use scanline::Dense;

use crate::{Error, Result, Tensor};

/// A float dense layer: `out[o] = act(Σ w[o][i] * x[i] + bias[o])`.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseF32 {
    /// Outputs.
    pub out_features: usize,
    /// `[out_features][inputs]`, row-major.
    pub weights: Vec<f32>,
    /// Optional per-output bias.
    pub bias: Option<Vec<f32>>,
    /// Fused activation.
    pub activation: scanline::Activation,
}

impl DenseF32 {
    /// The float counterpart of an int8 dense layer: weights `q * scale[o]`, bias
    /// `b * (input_scale * scale[o])`, both in f32.
    pub fn of(l: &Dense<'_>) -> Result<Self> {
        let scale = |o: usize| {
            l.requant
                .weight_scale(o, l.input, l.output)
                .ok_or_else(|| Error::Invalid(format!("dense: no scale for output {o}")))
        };
        if l.weights.len() != l.in_features * l.out_features {
            return Err(Error::Shape(format!(
                "dense: {} weights for {} x {}",
                l.weights.len(),
                l.out_features,
                l.in_features
            )));
        }
        let mut weights = Vec::with_capacity(l.weights.len());
        for (o, row) in l.weights.chunks_exact(l.in_features).enumerate() {
            let s = scale(o)?;
            weights.extend(row.iter().map(|&q| q as f32 * s));
        }
        let bias = match l.bias {
            None => None,
            Some(b) => Some(
                (0..l.out_features)
                    .map(|o| Ok(b.get(o).unwrap_or(0) as f32 * (l.input.scale * scale(o)?)))
                    .collect::<Result<Vec<f32>>>()?,
            ),
        };
        Ok(Self {
            out_features: l.out_features,
            weights,
            bias,
            activation: l.activation,
        })
    }
}

/// The mean of every channel over height and width: a `1x1xC` tensor.
///
/// ```
/// use scanline::Shape;
/// use scanline_host::{Tensor, classifier::mean};
/// let t = Tensor::new(Shape::new(2, 1, 2), vec![1.0f32, 10.0, 3.0, 20.0]).unwrap();
/// assert_eq!(mean(&t).unwrap().data, vec![2.0, 15.0]);
/// ```
pub fn mean(input: &Tensor<f32>) -> Result<Tensor<f32>> {
    let c = input.shape.channels;
    let n = input.shape.height * input.shape.width;
    if c == 0 || n == 0 || input.data.len() != n * c {
        return Err(Error::Shape(format!("mean: a {} input", input.shape)));
    }
    let mut sums = vec![0f32; c];
    for px in input.data.chunks_exact(c) {
        for (s, &v) in sums.iter_mut().zip(px) {
            *s += v;
        }
    }
    Tensor::new(
        scanline::Shape::new(1, 1, c),
        sums.into_iter().map(|s| s / n as f32).collect(),
    )
}

/// A dense layer over the whole input (flattened in HWC order): a `1x1xN` tensor.
pub fn dense(input: &Tensor<f32>, l: &DenseF32) -> Result<Tensor<f32>> {
    let n = input.data.len();
    if n == 0 || l.weights.len() != n * l.out_features {
        return Err(Error::Shape(format!(
            "dense: {} weights do not fit a {} input and {} outputs",
            l.weights.len(),
            input.shape,
            l.out_features
        )));
    }
    let out = l
        .weights
        .chunks_exact(n)
        .enumerate()
        .map(|(o, w)| {
            let dot: f32 = w.iter().zip(&input.data).map(|(w, x)| w * x).sum();
            let b = l.bias.as_ref().map_or(0.0, |b| b[o]);
            l.activation.apply_f32(dot + b)
        })
        .collect();
    Tensor::new(scanline::Shape::new(1, 1, l.out_features), out)
}

/// Softmax over the channels of every pixel, `exp(beta * (x - max)) / Σ`.
///
/// ```
/// use scanline::Shape;
/// use scanline_host::{Tensor, classifier::softmax};
/// let t = Tensor::new(Shape::new(1, 1, 2), vec![0.0f32, 0.0]).unwrap();
/// assert_eq!(softmax(&t, 1.0).unwrap().data, vec![0.5, 0.5]);
/// ```
pub fn softmax(input: &Tensor<f32>, beta: f32) -> Result<Tensor<f32>> {
    let c = input.shape.channels;
    if c == 0 || input.data.len() != input.shape.len() {
        return Err(Error::Shape(format!("softmax: a {} input", input.shape)));
    }
    let mut out = Vec::with_capacity(input.data.len());
    for px in input.data.chunks_exact(c) {
        let max = px.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let e: Vec<f32> = px.iter().map(|&v| ((v - max) * beta).exp()).collect();
        let sum: f32 = e.iter().sum();
        out.extend(e.iter().map(|v| v / sum));
    }
    Tensor::new(input.shape, out)
}

/// The `k` highest scores of a 1-D class output as `(class, score)`, best first;
/// ties keep the lower class first.
///
/// ```
/// use scanline_host::classifier::top;
/// assert_eq!(top(&[0.1f32, 0.7, 0.2, 0.7], 3), vec![(1, 0.7), (3, 0.7), (2, 0.2)]);
/// ```
pub fn top<T: Copy + PartialOrd>(scores: &[T], k: usize) -> Vec<(usize, T)> {
    let mut ranked: Vec<(usize, T)> = scores.iter().copied().enumerate().collect();
    ranked.sort_by(|a, b| {
        b.1.partial_cmp(&a.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.0.cmp(&b.0))
    });
    ranked.truncate(k);
    ranked
}

/// Class names from a labels file: one per line (surrounding whitespace trimmed,
/// a trailing empty line ignored); an error unless there are exactly `classes`.
///
/// ```
/// use scanline_host::classifier::labels;
/// assert_eq!(labels("cat\ndog\n", 2).unwrap(), ["cat", "dog"]);
/// assert!(labels("cat\n", 2).unwrap_err().to_string().contains("1 label"));
/// ```
pub fn labels(text: &str, classes: usize) -> Result<Vec<String>> {
    let names: Vec<String> = text.lines().map(|l| l.trim().to_string()).collect();
    if names.len() != classes {
        return Err(Error::Invalid(format!(
            "{} label{} for a model with {classes} classes (one name per line)",
            names.len(),
            if names.len() == 1 { "" } else { "s" }
        )));
    }
    Ok(names)
}
