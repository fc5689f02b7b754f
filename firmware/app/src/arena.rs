//! Arena: the pipeline's working memory as a word-aligned static buffer, so
//! the rows the streaming engine copies (ring slots, output rows) start on
//! word boundaries and `memcpy` takes its word path.

/// `N` bytes for [`scanline::stream::Pipeline`], aligned to 8 bytes.
///
/// ```
/// use scanline_firmware::arena::Arena;
/// let mut a = Arena::<64>::new();
/// assert_eq!(a.bytes().as_ptr() as usize % 8, 0);
/// assert_eq!(a.bytes().len(), 64);
/// ```
#[repr(C, align(8))]
#[derive(Debug)]
pub struct Arena<const N: usize>([i8; N]);

impl<const N: usize> Arena<N> {
    /// A zeroed arena (a `const fn`: for statics).
    pub const fn new() -> Self {
        Self([0; N])
    }

    /// The whole buffer.
    pub fn bytes(&mut self) -> &mut [i8] {
        &mut self.0
    }
}

impl<const N: usize> Default for Arena<N> {
    fn default() -> Self {
        Self::new()
    }
}
