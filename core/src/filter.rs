//! Filter: how convolution weights are laid out in memory, and the one mapping
//! from a weight's position to its output channel, kernel tap and input channel.

/// How convolution weights are laid out in memory. Always stated, never guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum WeightLayout {
    /// `[out_channels, kh, kw, in_channels]`: TFLite's `CONV_2D` filter tensor.
    #[default]
    Ohwi,
    /// `[kh, kw, in_channels, out_channels]`: `tf.nn.conv2d`'s filter argument,
    /// and (with one input channel) TFLite's `DEPTHWISE_CONV_2D` filter
    /// `[1, kh, kw, channels]`.
    Hwio,
}

/// The dimensions of a filter: output channels, kernel height and width, input
/// channels (whatever the layout).
///
/// # Examples
///
/// ```
/// use scanline::filter::{Filter, WeightLayout};
/// let f = Filter::new(4, 3, 3, 2); // 4 filters of 3x3x2
/// assert_eq!(f.len(), 72);
/// // OHWI: each output channel's weights are one contiguous run.
/// assert_eq!(f.index(WeightLayout::Ohwi, 1, 0, 0, 0), 18);
/// assert_eq!(f.channel_of(WeightLayout::Ohwi, 18), 1);
/// // HWIO: the output channel is innermost.
/// assert_eq!(f.index(WeightLayout::Hwio, 1, 0, 0, 0), 1);
/// assert_eq!(f.channel_of(WeightLayout::Hwio, 18), 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Filter {
    /// Output channels.
    pub out_channels: usize,
    /// Kernel height (taps).
    pub height: usize,
    /// Kernel width (taps).
    pub width: usize,
    /// Input channels.
    pub in_channels: usize,
}

/// Element strides of `(out channel, ky, kx, in channel)` in a weight array.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strides {
    /// Between output channels.
    pub out: usize,
    /// Between kernel rows.
    pub y: usize,
    /// Between kernel columns.
    pub x: usize,
    /// Between input channels.
    pub input: usize,
}

impl Filter {
    /// A filter of `out_channels` kernels of `height` x `width` x `in_channels`.
    pub const fn new(out_channels: usize, height: usize, width: usize, in_channels: usize) -> Self {
        Self {
            out_channels,
            height,
            width,
            in_channels,
        }
    }

    /// The filter of a depthwise convolution with `channels` output channels:
    /// stored `[1, kh, kw, channels]`, i.e. HWIO with one input channel.
    pub const fn depthwise(channels: usize, height: usize, width: usize) -> Self {
        Self::new(channels, height, width, 1)
    }

    /// Number of weights (saturating, so absurd sizes give a length error, not an
    /// overflow).
    pub const fn len(&self) -> usize {
        self.out_channels
            .saturating_mul(self.height)
            .saturating_mul(self.width)
            .saturating_mul(self.in_channels)
    }

    /// True if the filter has no weight.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Weights of one output channel: `height * width * in_channels`.
    pub const fn per_channel(&self) -> usize {
        self.height * self.width * self.in_channels
    }

    /// Element strides in `layout`.
    pub const fn strides(&self, layout: WeightLayout) -> Strides {
        let (kw, ci, co) = (self.width, self.in_channels, self.out_channels);
        match layout {
            WeightLayout::Ohwi => Strides {
                out: self.height * kw * ci,
                y: kw * ci,
                x: ci,
                input: 1,
            },
            WeightLayout::Hwio => Strides {
                out: 1,
                y: kw * ci * co,
                x: ci * co,
                input: co,
            },
        }
    }

    /// Position in a `layout` array of the weight of output channel `oc`, tap
    /// `(ky, kx)`, input channel `ic`.
    #[inline]
    pub const fn index(
        &self,
        layout: WeightLayout,
        oc: usize,
        ky: usize,
        kx: usize,
        ic: usize,
    ) -> usize {
        let s = self.strides(layout);
        oc * s.out + ky * s.y + kx * s.x + ic * s.input
    }

    /// The output channel that owns weight `i` of a `layout` array.
    #[inline]
    pub const fn channel_of(&self, layout: WeightLayout, i: usize) -> usize {
        match layout {
            WeightLayout::Ohwi => i / self.per_channel(),
            WeightLayout::Hwio => i % self.out_channels,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_and_channel_agree_in_both_layouts() {
        let f = Filter::new(3, 2, 4, 5);
        for layout in [WeightLayout::Ohwi, WeightLayout::Hwio] {
            let mut seen = [false; 120];
            for oc in 0..3 {
                for ky in 0..2 {
                    for kx in 0..4 {
                        for ic in 0..5 {
                            let i = f.index(layout, oc, ky, kx, ic);
                            assert!(!seen[i], "{layout:?} {i} twice");
                            seen[i] = true;
                            assert_eq!(f.channel_of(layout, i), oc);
                        }
                    }
                }
            }
            assert!(seen.iter().all(|&s| s));
        }
    }

    #[test]
    fn depthwise_is_hwio_with_one_input_channel() {
        let f = Filter::depthwise(6, 3, 3);
        assert_eq!(f.index(WeightLayout::Hwio, 4, 1, 2, 0), (3 + 2) * 6 + 4);
        assert_eq!(f.channel_of(WeightLayout::Hwio, 29), 5);
    }
}
