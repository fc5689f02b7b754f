//! Figure: the `edges` figure — a row of titled panels, every image scaled with
//! nearest neighbour to the height of the first, the way a matplotlib `subplots`
//! row would show them — and saving figures.
//!
//! Layout, left to right: a white margin, then one column per panel separated by a
//! gap. Each column holds its title (font8x8 at 2x, dark on white, centred), the
//! panel's image, and under map panels a small caption (1x) giving the value range.
//!
//! # Examples
//!
//! ```
//! use scanline::Shape;
//! use scanline_host::{Tensor, figure, panel::Panel};
//! let photo = Tensor::filled(Shape::new(8, 8, 3), 200u8);
//! let map = Tensor::new(Shape::new(4, 4, 1), (0..16).map(|v| v as f32).collect()).unwrap();
//! let fig = figure::render(&[
//!     Panel::picture("input", &photo).unwrap(),
//!     Panel::map("max-pool 2x2", &map).unwrap(),
//! ])
//! .unwrap();
//! assert_eq!(fig.height(), figure::figure_height(8, true));
//! ```

use std::path::Path;

use image::RgbImage;
use image::imageops::{self, FilterType};

use crate::colour::BACKGROUND;
use crate::panel::Panel;
use crate::text::{draw_text, text_width};
use crate::{Error, Result};

/// White space around the figure, in pixels.
pub const MARGIN: u32 = 12;
/// Space between two panels, in pixels.
pub const GAP: u32 = 24;
/// Title glyphs are 8x8 scaled by this factor.
pub const TITLE_SCALE: u32 = 2;
/// Caption glyphs are 8x8 scaled by this factor.
pub const CAPTION_SCALE: u32 = 1;
/// Space between a title and its image, and between an image and its caption.
pub const SPACING: u32 = 6;
/// Largest figure [`render`] draws, in pixels.
pub const MAX_PIXELS: u64 = 1 << 27;

/// Copies `img` scaled to `w` x `h` (nearest neighbour) into `fig` at `(x, y)`.
pub(crate) fn blit(fig: &mut RgbImage, img: &RgbImage, x: u32, y: u32, w: u32, h: u32) {
    let scaled = imageops::resize(img, w, h, FilterType::Nearest);
    imageops::replace(fig, &scaled, x.into(), y.into());
}

/// Height of a figure whose first panel is `image_height` pixels high, with or
/// without a caption row.
pub const fn figure_height(image_height: u32, captions: bool) -> u32 {
    let caption = if captions {
        SPACING + 8 * CAPTION_SCALE
    } else {
        0
    };
    MARGIN + 8 * TITLE_SCALE + SPACING + image_height + caption + MARGIN
}

/// Width of `img` scaled to `height` (at least 1).
fn scaled_width(img: &RgbImage, height: u32) -> u64 {
    let w = img.width() as u64 * height as u64;
    ((w + img.height() as u64 / 2) / img.height() as u64).max(1)
}

/// Composes the panels side by side into one figure (see the module
/// documentation for the layout).
///
/// # Errors
///
/// [`Error::Invalid`] if there is no panel or the figure would exceed
/// [`MAX_PIXELS`].
pub fn render(panels: &[Panel]) -> Result<RgbImage> {
    let Some(first) = panels.first() else {
        return Err(Error::Invalid("a figure needs at least one panel".into()));
    };
    let height = first.image().height();
    let captions = panels.iter().any(|p| p.caption().is_some());
    let columns: Vec<(u64, u64)> = panels
        .iter()
        .map(|p| {
            let image = scaled_width(p.image(), height);
            let title = text_width(p.title(), TITLE_SCALE) as u64;
            let caption = p.caption().map_or(0, |c| text_width(c, CAPTION_SCALE)) as u64;
            (image, image.max(title).max(caption))
        })
        .collect();
    let inner: u64 =
        columns.iter().map(|c| c.1).sum::<u64>() + GAP as u64 * (panels.len() as u64 - 1);
    let total_w = inner + 2 * MARGIN as u64;
    let total_h = figure_height(height, captions) as u64;
    if total_w * total_h > MAX_PIXELS || total_w > u32::MAX as u64 {
        return Err(Error::Invalid(format!(
            "the figure would be {total_w}x{total_h} pixels, more than {MAX_PIXELS}"
        )));
    }
    let mut fig = RgbImage::from_pixel(total_w as u32, total_h as u32, BACKGROUND);
    let title_y = MARGIN;
    let image_y = title_y + 8 * TITLE_SCALE + SPACING;
    let caption_y = image_y + height + SPACING;
    let mut x = MARGIN;
    for (p, &(image_w, column_w)) in panels.iter().zip(&columns) {
        let (image_w, column_w) = (image_w as u32, column_w as u32);
        let centre = |w: u32| x + (column_w - w) / 2;
        draw_text(
            &mut fig,
            centre(text_width(p.title(), TITLE_SCALE)),
            title_y,
            p.title(),
            TITLE_SCALE,
        );
        let left = centre(image_w);
        blit(&mut fig, p.image(), left, image_y, image_w, height);
        if let Some(c) = p.caption() {
            let cx = centre(text_width(c, CAPTION_SCALE));
            draw_text(&mut fig, cx, caption_y, c, CAPTION_SCALE);
        }
        x += column_w + GAP;
    }
    Ok(fig)
}

/// Saves a figure; the format follows the extension (`.png`, or `.jpg`/`.jpeg`).
///
/// A PNG of at most 256 colours (every figure of viridis maps and text is) is
/// written with a palette, losslessly: about four times smaller than RGB.
///
/// # Errors
///
/// [`Error::Io`] if the file cannot be written; [`Error::Image`] naming the path
/// for an unsupported extension or an encoding failure.
pub fn save(path: impl AsRef<Path>, figure: &RgbImage) -> Result<()> {
    let path = path.as_ref();
    let is_png = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("png"));
    if is_png && let Some((palette, indices)) = palette_of(figure) {
        let file = std::io::BufWriter::new(fs_err::File::create(path)?);
        return write_indexed(file, figure.width(), figure.height(), &palette, &indices).map_err(
            |e| Error::Image {
                path: path.to_path_buf(),
                message: format!("cannot write the PNG: {e}"),
            },
        );
    }
    figure
        .save(path)
        .map_err(|e| crate::picture::from_image_error(path, e))
}

/// The image's colours (at most 256, in order of appearance, as RGB triples)
/// and every pixel's index into them; `None` for more colours.
fn palette_of(img: &RgbImage) -> Option<(Vec<u8>, Vec<u8>)> {
    let mut index: std::collections::HashMap<[u8; 3], u8> = std::collections::HashMap::new();
    let mut palette = Vec::new();
    let mut indices = Vec::with_capacity(img.width() as usize * img.height() as usize);
    for p in img.pixels() {
        let i = match index.get(&p.0) {
            Some(&i) => i,
            None => {
                let i = u8::try_from(index.len()).ok()?;
                index.insert(p.0, i);
                palette.extend_from_slice(&p.0);
                i
            }
        };
        indices.push(i);
    }
    Some((palette, indices))
}

/// Writes an indexed-colour PNG (8 bits per pixel, best compression).
fn write_indexed(
    out: impl std::io::Write,
    width: u32,
    height: u32,
    palette: &[u8],
    indices: &[u8],
) -> std::result::Result<(), png::EncodingError> {
    let mut encoder = png::Encoder::new(out, width, height);
    encoder.set_color(png::ColorType::Indexed);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_palette(palette.to_vec());
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(indices)?;
    writer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::colour::{INK, viridis};
    use image::Rgb;
    use scanline::Shape;

    fn ramp(h: usize, w: usize) -> Tensor<f32> {
        Tensor::new(
            Shape::new(h, w, 1),
            (0..h * w).map(|v| v as f32 - 3.0).collect(),
        )
        .unwrap()
    }
    fn is_ink(p: &Rgb<u8>) -> bool {
        *p == INK
    }

    #[test]
    fn figure_size_and_alignment() {
        let photo = Tensor::filled(Shape::new(20, 30, 3), 90u8);
        let panels = [
            Panel::picture("input", &photo).unwrap(),
            Panel::map("convolution", &ramp(20, 30)).unwrap(),
            Panel::map("max-pool 2x2", &ramp(10, 15)).unwrap(),
        ];
        let fig = render(&panels).unwrap();
        // Column widths: max(image 30, title, caption).
        let widths: Vec<u32> = panels
            .iter()
            .map(|p| {
                let t = text_width(p.title(), TITLE_SCALE);
                let c = p.caption().map_or(0, |c| text_width(c, CAPTION_SCALE));
                30.max(t).max(c)
            })
            .collect();
        assert_eq!(widths[0], 80); // "input" at 16 px a glyph
        let expected_w = 2 * MARGIN + widths.iter().sum::<u32>() + 2 * GAP;
        assert_eq!(fig.dimensions(), (expected_w, figure_height(20, true)));
        assert_eq!(figure_height(20, true), 12 + 16 + 6 + 20 + 6 + 8 + 12);
        // Without maps there is no caption row.
        let fig = render(&panels[..1]).unwrap();
        assert_eq!(
            fig.dimensions(),
            (2 * MARGIN + 80, figure_height(20, false))
        );
    }

    #[test]
    fn pooled_map_is_scaled_up_by_nearest_neighbour() {
        let small = ramp(2, 2);
        let big = Tensor::filled(Shape::new(4, 4, 1), 7u8);
        let fig = render(&[
            Panel::picture("a", &big).unwrap(),
            Panel::map("b", &small).unwrap(),
        ])
        .unwrap();
        // Second column: title "b" is 16 wide, caption wider; image 4 wide centred.
        let p = Panel::map("b", &small).unwrap();
        let col_w = text_width(p.caption().unwrap(), CAPTION_SCALE);
        let left = MARGIN + 16 + GAP + (col_w - 4) / 2;
        let top = MARGIN + 16 + SPACING;
        let at = |x: u32, y: u32| *fig.get_pixel(left + x, top + y);
        for (y, x) in [(0, 0), (0, 2), (2, 0), (2, 2)] {
            assert_eq!(at(x, y), at(x + 1, y));
            assert_eq!(at(x, y), at(x, y + 1));
            assert_eq!(at(x, y), at(x + 1, y + 1));
        }
        assert_eq!(at(0, 0).0, viridis(0.0));
        assert_eq!(at(2, 2).0, viridis(1.0));
        // The first panel is gray 7 replicated to RGB.
        let first = *fig.get_pixel(MARGIN + (16 - 4) / 2, top);
        assert_eq!(first, Rgb([7, 7, 7]));
    }

    #[test]
    fn titles_and_captions_are_drawn() {
        let photo = Tensor::filled(Shape::new(10, 10, 3), 255u8);
        let fig = render(&[
            Panel::picture("input", &photo).unwrap(),
            Panel::map("after ReLU", &ramp(10, 10)).unwrap(),
        ])
        .unwrap();
        let band = |y0: u32, y1: u32, x0: u32, x1: u32| {
            (y0..y1)
                .flat_map(|y| (x0..x1).map(move |x| (x, y)))
                .filter(|&(x, y)| is_ink(fig.get_pixel(x, y)))
                .count()
        };
        let w = fig.width();
        let title_ink = band(MARGIN, MARGIN + 16, 0, w);
        assert!(title_ink > 100, "{title_ink}");
        // Both titles: ink on each side of the gap.
        assert!(band(MARGIN, MARGIN + 16, 0, MARGIN + 80) > 30);
        assert!(band(MARGIN, MARGIN + 16, MARGIN + 80 + GAP, w) > 30);
        // Caption row under the images.
        let cap_y = MARGIN + 16 + SPACING + 10 + SPACING;
        assert!(band(cap_y, cap_y + 8, 0, w) > 20);
        // Margins stay white.
        assert_eq!(band(0, MARGIN, 0, w), 0);
        assert!((0..w).all(|x| *fig.get_pixel(x, fig.height() - 1) == BACKGROUND));
        // Glyph check: the "i" of "input" at 2x has its dot in column 3-4 of the cell.
        let cell_x = MARGIN; // "input" (80 px) fills its column exactly
        assert!(is_ink(fig.get_pixel(cell_x + 2 * 3, MARGIN)));
    }

    #[test]
    fn huge_or_empty_figures_are_refused() {
        assert!(matches!(render(&[]), Err(Error::Invalid(_))));
        // A 1-pixel-high first panel with a tall second one: huge, refused.
        let line = Tensor::filled(Shape::new(1, 1, 1), 0u8);
        let tall = Tensor::filled(Shape::new(1, 20000, 1), 0u8);
        let fig = render(&[
            Panel::picture("a", &tall).unwrap(),
            Panel::picture("b", &line).unwrap(),
        ])
        .unwrap();
        assert_eq!(fig.height(), figure_height(1, false));
        let wide = Tensor::filled(Shape::new(1, 200_000, 1), 0u8);
        let tall = Tensor::filled(Shape::new(2000, 1, 1), 0u8);
        let fig = render(&[
            Panel::picture("tall", &tall).unwrap(),
            Panel::picture("wide", &wide).unwrap(),
        ]);
        assert!(matches!(fig, Err(Error::Invalid(_))));
    }

    #[test]
    fn unicode_titles_do_not_panic() {
        let t = Tensor::filled(Shape::new(4, 4, 1), 0u8);
        let fig = render(&[Panel::picture("Faltung → ReLU ✓", &t).unwrap()]).unwrap();
        assert_eq!(
            fig.width(),
            2 * MARGIN + text_width("Faltung → ReLU ✓", TITLE_SCALE)
        );
    }

    #[test]
    fn save_round_trip_and_errors() {
        let dir = std::env::temp_dir();
        let pid = std::process::id();
        let path = dir.join(format!("scanline-panel-{pid}.png"));
        let fig = render(&[Panel::map("m", &ramp(5, 5)).unwrap()]).unwrap();
        save(&path, &fig).unwrap();
        // Few colours: an indexed PNG, decoding to the same pixels.
        let decoder =
            png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap()));
        assert_eq!(
            decoder.read_info().unwrap().info().color_type,
            png::ColorType::Indexed
        );
        assert_eq!(image::open(&path).unwrap().to_rgb8(), fig);
        // More than 256 colours: RGB, the same pixels too.
        let many = RgbImage::from_fn(40, 20, |x, y| Rgb([x as u8 * 6, y as u8 * 12, 7]));
        assert!(palette_of(&many).is_none());
        save(&path, &many).unwrap();
        assert_eq!(image::open(&path).unwrap().to_rgb8(), many);
        std::fs::remove_file(&path).unwrap();

        let bad_ext = dir.join(format!("scanline-panel-{pid}.xyz"));
        let e = save(&bad_ext, &fig).unwrap_err();
        assert!(
            matches!(e, Error::Image { .. }) && e.to_string().contains(".xyz"),
            "{e}"
        );
        let no_dir = dir.join(format!("scanline-panel-{pid}-missing/f.png"));
        let e = save(&no_dir, &fig).unwrap_err();
        assert!(
            matches!(e, Error::Image { .. } | Error::Io(_)) && e.to_string().contains("missing"),
            "{e:?}"
        );
    }
}
