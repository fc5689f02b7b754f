//! Values: a read-only array of per-channel numbers (bias, scales), either a native
//! slice or little-endian bytes borrowed straight from a model file.

/// A read-only array of `T`, held natively or as little-endian bytes.
///
/// Model files store biases and scales as little-endian bytes that may not be
/// aligned for `T`; `Values::Le` reads them in place, without copying.
///
/// # Examples
///
/// ```
/// use scanline::Values;
/// let native = Values::Slice(&[1i32, -2]);
/// let bytes = [1u8, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff];
/// let le: Values<'_, i32> = Values::Le(&bytes);
/// assert_eq!(native.len(), le.len());
/// assert_eq!(le.get(1), Some(-2));
/// assert_eq!(le.get(2), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Values<'a, T> {
    /// A native slice.
    Slice(&'a [T]),
    /// Little-endian bytes, `size_of::<T>()` per value (a trailing partial value is ignored).
    Le(&'a [u8]),
}

/// A number that can be read from little-endian bytes.
pub trait LeValue: Copy {
    /// Size in bytes.
    const SIZE: usize;
    /// Reads one value from the first `SIZE` bytes (`None` if fewer).
    fn from_le(bytes: &[u8]) -> Option<Self>;
}

impl LeValue for i32 {
    const SIZE: usize = 4;
    fn from_le(b: &[u8]) -> Option<Self> {
        b.first_chunk().copied().map(i32::from_le_bytes)
    }
}

impl LeValue for f32 {
    const SIZE: usize = 4;
    fn from_le(b: &[u8]) -> Option<Self> {
        b.first_chunk().copied().map(f32::from_le_bytes)
    }
}

impl LeValue for i64 {
    const SIZE: usize = 8;
    fn from_le(b: &[u8]) -> Option<Self> {
        b.first_chunk().copied().map(i64::from_le_bytes)
    }
}

impl<T: LeValue> Values<'_, T> {
    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            Values::Slice(s) => s.len(),
            Values::Le(b) => b.len() / T::SIZE,
        }
    }

    /// True if there is no value.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Value `i`, or `None` past the end.
    pub fn get(&self, i: usize) -> Option<T> {
        match self {
            Values::Slice(s) => s.get(i).copied(),
            Values::Le(b) => {
                let start = i.checked_mul(T::SIZE)?;
                let end = start.checked_add(T::SIZE)?;
                b.get(start..end).and_then(T::from_le)
            }
        }
    }

    /// The value for channel `c` of an array that is either per-tensor (one value,
    /// broadcast) or per-channel.
    pub fn per_channel(&self, c: usize) -> Option<T> {
        if self.len() == 1 {
            self.get(0)
        } else {
            self.get(c)
        }
    }
}
