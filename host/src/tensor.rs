//! Tensor: an owned HWC tensor (`Vec` of values plus its [`Shape`]).

use crate::{Error, Result};
use scanline::{Quant, Shape};

/// An owned HWC tensor.
///
/// # Examples
///
/// ```
/// use scanline::Shape;
/// use scanline_host::tensor::Tensor;
/// let t = Tensor::new(Shape::new(2, 2, 1), vec![1.0f32, 2.0, 3.0, 4.0]).unwrap();
/// assert_eq!(t.at(1, 0, 0), 3.0);
/// assert!(Tensor::new(Shape::new(2, 2, 1), vec![0i8; 3]).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor<T> {
    /// Height, width, channels.
    pub shape: Shape,
    /// Values, row-major HWC.
    pub data: Vec<T>,
}

impl<T: Copy> Tensor<T> {
    /// A tensor of `shape` holding `data`; an error if the lengths differ.
    pub fn new(shape: Shape, data: Vec<T>) -> Result<Self> {
        if data.len() != shape.len() {
            return Err(Error::Shape(format!(
                "{} values cannot fill a {shape} tensor ({} needed)",
                data.len(),
                shape.len()
            )));
        }
        Ok(Self { shape, data })
    }

    /// A tensor of `shape` filled with `value`.
    pub fn filled(shape: Shape, value: T) -> Self {
        Self {
            shape,
            data: vec![value; shape.len()],
        }
    }

    /// The value at row `y`, column `x`, channel `c` (panics if out of range).
    pub fn at(&self, y: usize, x: usize, c: usize) -> T {
        self.data[(y * self.shape.width + x) * self.shape.channels + c]
    }

    /// The same tensor with every value mapped.
    pub fn map<U>(&self, f: impl FnMut(T) -> U) -> Tensor<U> {
        Tensor {
            shape: self.shape,
            data: self.data.iter().copied().map(f).collect(),
        }
    }
}

impl Tensor<f32> {
    /// Every value quantized with `q` ([`Quant::quantize`]: round half away from
    /// zero, saturate).
    ///
    /// ```
    /// use scanline::{Quant, Shape};
    /// use scanline_host::Tensor;
    /// let q = Quant::new(0.5, 10);
    /// let t = Tensor::new(Shape::new(1, 2, 1), vec![10i8, 13]).unwrap();
    /// let real = t.dequantize(q);
    /// assert_eq!(real.data, vec![0.0, 1.5]);
    /// assert_eq!(real.quantize(q), t);
    /// ```
    pub fn quantize(&self, q: Quant) -> Tensor<i8> {
        self.map(|v| q.quantize(v))
    }
}

impl Tensor<i8> {
    /// The real values of an int8 tensor quantized with `q`.
    pub fn dequantize(&self, q: Quant) -> Tensor<f32> {
        self.map(|v| q.dequantize(v))
    }
}
