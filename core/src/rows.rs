//! Rows: the one interface through which every row kernel reads its input, so the
//! full-frame and streaming engines feed the same arithmetic.

use crate::Shape;

/// Read access to the rows of an HWC input tensor.
///
/// `row(y)` returns row `y` (`width * channels` values) or `None` for rows outside
/// the image (padding), which row kernels treat as contributing nothing.
pub trait Rows {
    /// Row `y`, or `None` if `y` is outside `0..height`.
    fn row(&self, y: isize) -> Option<&[i8]>;
}

/// A whole tensor held in memory, read row by row.
///
/// # Examples
///
/// ```
/// use scanline::{Rows, Shape};
/// use scanline::rows::Tensor;
/// let data = [1i8, 2, 3, 4, 5, 6];
/// let t = Tensor::new(&data, Shape::new(3, 2, 1)).unwrap();
/// assert_eq!(t.row(1), Some(&[3i8, 4][..]));
/// assert_eq!(t.row(-1), None);
/// assert_eq!(t.row(3), None);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Tensor<'a> {
    data: &'a [i8],
    shape: Shape,
}

impl<'a> Tensor<'a> {
    /// Views `data` as a tensor of `shape`; `None` if the length does not match.
    pub fn new(data: &'a [i8], shape: Shape) -> Option<Self> {
        (data.len() == shape.len()).then_some(Self { data, shape })
    }

    /// The shape.
    pub fn shape(&self) -> Shape {
        self.shape
    }
}

impl Rows for Tensor<'_> {
    #[inline]
    fn row(&self, y: isize) -> Option<&[i8]> {
        if y < 0 || y as usize >= self.shape.height {
            return None;
        }
        let n = self.shape.row_len();
        let start = y as usize * n;
        self.data.get(start..start + n)
    }
}

/// The input rows read by the taps of output row `oy` of a convolution window,
/// fetched once per output row: `(rows, lo, hi)` where `rows[lo..hi]` are the taps
/// that fall inside the image (the others are padding and contribute nothing).
pub(crate) fn gather<'r, R: Rows + ?Sized>(
    rows: &'r R,
    window: &crate::Window,
    height: usize,
    oy: usize,
) -> ([&'r [i8]; crate::geometry::MAX_KERNEL], usize, usize) {
    let axis = window.height;
    let y0 = axis.first_tap(oy, window.pad_top(height));
    let (lo, hi) = axis.tap_range(y0, height);
    let mut taps: [&[i8]; crate::geometry::MAX_KERNEL] = [&[]; crate::geometry::MAX_KERNEL];
    for (ky, tap) in taps.iter_mut().enumerate().take(hi).skip(lo) {
        *tap = rows.row(y0 + (ky * axis.dilation) as isize).unwrap_or(&[]);
    }
    (taps, lo, hi)
}
