//! Text: titles and captions drawn with the font8x8 bitmap font, and numbers
//! formatted for captions.

use font8x8::UnicodeFonts;
use image::RgbImage;

use crate::colour::INK;

/// Width in pixels of `text` drawn at `scale`.
pub fn text_width(text: &str, scale: u32) -> u32 {
    (text.chars().count() as u32).saturating_mul(8 * scale)
}

/// Draws `text` with its top-left corner at `(x, y)`; characters outside font8x8's
/// basic set are drawn as `?`.
pub fn draw_text(img: &mut RgbImage, x: u32, y: u32, text: &str, scale: u32) {
    for (i, ch) in text.chars().enumerate() {
        let glyph = font8x8::BASIC_FONTS
            .get(ch)
            .or_else(|| font8x8::BASIC_FONTS.get('?'))
            .unwrap_or([0; 8]);
        let x0 = x + i as u32 * 8 * scale;
        for (row, bits) in glyph.iter().enumerate() {
            for col in 0..8u32 {
                if (bits >> col) & 1 == 0 {
                    continue;
                }
                for dy in 0..scale {
                    for dx in 0..scale {
                        let (px, py) = (x0 + col * scale + dx, y + row as u32 * scale + dy);
                        if px < img.width() && py < img.height() {
                            img.put_pixel(px, py, INK);
                        }
                    }
                }
            }
        }
    }
}

/// A value for a caption: two decimals, or scientific notation when that would
/// hide it.
pub fn number(v: f32) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0.00".into() // also for -0.0
    } else if !v.is_finite() {
        format!("{v}")
    } else if (0.01..99_999.5).contains(&a) {
        format!("{v:.2}")
    } else {
        format!("{v:.2e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_size_visible() {
        assert_eq!(number(0.0), "0.00");
        assert_eq!(number(-0.0), "0.00");
        assert_eq!(number(-1.234), "-1.23");
        assert_eq!(number(1e-5), "1.00e-5");
        assert_eq!(number(2e6), "2.00e6");
        assert_eq!(number(f32::INFINITY), "inf");
    }

    #[test]
    fn glyphs_land_in_their_cells() {
        let mut img = RgbImage::from_pixel(40, 10, crate::colour::BACKGROUND);
        draw_text(&mut img, 0, 0, "i?", 1);
        assert_eq!(text_width("i?", 1), 16);
        assert_eq!(text_width("→", 2), 16);
        // font8x8's "i" has its dot in row 0, columns 3-4.
        assert_eq!(*img.get_pixel(3, 0), INK);
        // Nothing is drawn past the two cells.
        assert!((16..40).all(|x| (0..10).all(|y| *img.get_pixel(x, y) != INK)));
        // Drawing off the image is clipped, not a panic.
        draw_text(&mut img, 38, 8, "WW", 2);
    }
}
