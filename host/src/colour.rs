//! Colour: the figures' palette — matplotlib's viridis colormap for maps, and the
//! ink and paper of titles and captions.
//!
//! A map is normalised from its minimum to its maximum (finite values) and
//! coloured with matplotlib's 256-step lookup (`index = floor(t * 256)`, clipped
//! to 255) taken from `colorous::VIRIDIS` — matplotlib's table as resampled by
//! colorous, so a level or so off matplotlib's own.

use image::Rgb;

/// The figure's background.
pub const BACKGROUND: Rgb<u8> = Rgb([255, 255, 255]);
/// Text colour.
pub const INK: Rgb<u8> = Rgb([25, 25, 25]);
/// The colour of a NaN cell in a map.
pub const NAN_COLOUR: Rgb<u8> = BACKGROUND;

/// matplotlib's viridis lookup: 256 colours, entry `i` at `t = i / 255`.
pub(crate) fn viridis_table() -> [Rgb<u8>; 256] {
    std::array::from_fn(|i| {
        let c = colorous::VIRIDIS.eval_rational(i, 256);
        Rgb([c.r, c.g, c.b])
    })
}

/// The viridis colour of `t` in `[0, 1]` (clamped; NaN gives the lowest colour),
/// quantized to 256 steps as matplotlib's colormaps are.
///
/// # Examples
///
/// ```
/// use scanline_host::colour::viridis;
/// assert_eq!(viridis(0.0), [68, 1, 84]);
/// ```
pub fn viridis(t: f32) -> [u8; 3] {
    let i = if t >= 1.0 {
        255
    } else if t > 0.0 {
        ((t * 256.0) as usize).min(255)
    } else {
        0
    };
    let c = colorous::VIRIDIS.eval_rational(i, 256);
    [c.r, c.g, c.b]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viridis_endpoints() {
        assert_eq!(viridis(0.0), [68, 1, 84]);
        assert_eq!(viridis(1.0), [253, 231, 37]);
        // matplotlib's entry 128 is (33, 145, 140); colorous's resampling is close.
        let mid = viridis(0.5);
        assert!(
            mid.iter()
                .zip([33u8, 145, 140])
                .all(|(a, b)| a.abs_diff(b) <= 2),
            "{mid:?}"
        );
        assert_eq!(viridis(-5.0), viridis(0.0));
        assert_eq!(viridis(f32::NAN), viridis(0.0));
        assert_eq!(viridis(7.0), viridis(1.0));
        // matplotlib's binning: t just under 1/256 is entry 0, t = 0.5 is entry 128.
        assert_eq!(viridis(0.003), viridis(0.0));
        assert_eq!(viridis(0.5), viridis(128.0 / 256.0 + 1e-4));
        assert_eq!(viridis_table()[255].0, viridis(1.0));
    }
}
