//! Tensor shape: height, width and channels of an HWC tensor (NHWC with N = 1).

/// The shape of an HWC tensor; the batch dimension is always 1.
///
/// # Examples
///
/// ```
/// use scanline::Shape;
/// let s = Shape::new(240, 320, 3);
/// assert_eq!(s.len(), 240 * 320 * 3);
/// assert_eq!(s.row_len(), 320 * 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Shape {
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// Channels per pixel (innermost, contiguous).
    pub channels: usize,
}

impl Shape {
    /// A shape of `height` rows, `width` columns and `channels` channels.
    pub const fn new(height: usize, width: usize, channels: usize) -> Self {
        Self {
            height,
            width,
            channels,
        }
    }

    /// Number of elements (saturating, so absurd shapes never wrap).
    pub const fn len(&self) -> usize {
        self.height
            .saturating_mul(self.width)
            .saturating_mul(self.channels)
    }

    /// True if the tensor holds no element.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Elements in one row (`width * channels`).
    pub const fn row_len(&self) -> usize {
        self.width.saturating_mul(self.channels)
    }
}

impl core::fmt::Display for Shape {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}x{}x{}", self.height, self.width, self.channels)
    }
}
