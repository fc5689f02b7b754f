//! Panel: the `edges` figure — a row of titled panels (pictures, and single-channel
//! maps colour-mapped with viridis), drawn the way a matplotlib `subplots` row
//! would show them.
//!
//! Layout, left to right: a white margin, then one column per panel separated by a
//! gap. Each column holds its title (font8x8 at 2x, dark on white, centred), the
//! panel's image, and under map panels a small caption (1x) giving the value range.
//! Every image is scaled with nearest neighbour to the height of the first panel,
//! so a pooled map lines up with the input it came from.
//!
//! Colours: a map is normalised from its minimum to its maximum (finite values)
//! and coloured with matplotlib's 256-step lookup (`index = floor(t * 256)`,
//! clipped to 255) taken from `colorous::VIRIDIS` — matplotlib's table as
//! resampled by colorous, so a level or so off matplotlib's own. A constant map
//! takes the lowest colour (as matplotlib does when `vmin == vmax`); NaN cells are
//! white, +inf and -inf take the end colours.
//!
//! # Examples
//!
//! ```
//! use scanline::Shape;
//! use scanline_host::{Tensor, panel::{self, Panel}};
//! let photo = Tensor::filled(Shape::new(8, 8, 3), 200u8);
//! let map = Tensor::new(Shape::new(4, 4, 1), (0..16).map(|v| v as f32).collect()).unwrap();
//! let figure = panel::render(&[
//!     Panel::picture("input", &photo).unwrap(),
//!     Panel::map("max-pool 2x2", &map).unwrap(),
//! ])
//! .unwrap();
//! assert_eq!(figure.height(), panel::figure_height(8, true));
//! ```

use std::path::Path;

use font8x8::UnicodeFonts;
use image::{Rgb, RgbImage};

use crate::{Error, Result, Tensor};

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

const BACKGROUND: Rgb<u8> = Rgb([255, 255, 255]);
const INK: Rgb<u8> = Rgb([25, 25, 25]);
const NAN_COLOUR: Rgb<u8> = BACKGROUND;

/// One panel of the figure: a title and an image (and for maps a caption).
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    title: String,
    caption: Option<String>,
    image: RgbImage,
    range: Option<(f32, f32)>,
}

impl Panel {
    /// A picture shown as is: 3 channels as RGB, 1 channel as gray.
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] for another channel count, an empty tensor, or data that
    /// does not fill its shape.
    pub fn picture(title: impl Into<String>, pixels: &Tensor<u8>) -> Result<Self> {
        let title = title.into();
        let (w, h) = dimensions(&title, pixels)?;
        let rgb: Vec<u8> = match pixels.shape.channels {
            3 => pixels.data.clone(),
            1 => pixels.data.iter().flat_map(|&v| [v, v, v]).collect(),
            c => {
                return Err(Error::Shape(format!(
                    "panel \"{title}\": a picture needs 1 or 3 channels, not {c}"
                )));
            }
        };
        let image = RgbImage::from_raw(w, h, rgb)
            .ok_or_else(|| Error::Shape(format!("panel \"{title}\": wrong data length")))?;
        Ok(Self {
            title,
            caption: None,
            image,
            range: None,
        })
    }

    /// A single-channel map coloured with viridis from its minimum to its maximum,
    /// captioned with that range (e.g. `min -1.23  max 4.56`).
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] if the map has more than one channel, is empty, or its data
    /// does not fill its shape.
    ///
    /// # Examples
    ///
    /// ```
    /// use scanline::Shape;
    /// use scanline_host::{Tensor, panel::Panel};
    /// let m = Tensor::new(Shape::new(1, 2, 1), vec![-1.5f32, 4.0]).unwrap();
    /// let p = Panel::map("convolution", &m).unwrap();
    /// assert_eq!(p.caption(), Some("min -1.50  max 4.00"));
    /// assert!(Panel::map("rgb", &Tensor::filled(Shape::new(2, 2, 3), 0.0f32)).is_err());
    /// ```
    pub fn map(title: impl Into<String>, map: &Tensor<f32>) -> Result<Self> {
        Self::map_in(title, map, MapRange::PerMap)
    }

    /// A single-channel map coloured with viridis over `range`: its own minimum
    /// to maximum ([`MapRange::PerMap`], as [`Panel::map`]) or a given range shared
    /// with other maps (values outside it take the end colours). The caption gives
    /// the map's own range either way.
    ///
    /// # Errors
    ///
    /// As [`Panel::map`].
    ///
    /// ```
    /// use scanline::Shape;
    /// use scanline_host::{Tensor, panel::{MapRange, Panel}};
    /// let m = Tensor::new(Shape::new(1, 2, 1), vec![0.0f32, 1.0]).unwrap();
    /// let p = Panel::map_in("diff", &m, MapRange::Shared(0.0, 4.0)).unwrap();
    /// assert_eq!(p.range(), Some((0.0, 4.0)));
    /// assert_eq!(p.caption(), Some("min 0.00  max 1.00"));
    /// ```
    pub fn map_in(title: impl Into<String>, map: &Tensor<f32>, range: MapRange) -> Result<Self> {
        let title = title.into();
        if map.shape.channels != 1 {
            return Err(Error::Shape(format!(
                "panel \"{title}\": a map needs 1 channel, not {} ({})",
                map.shape.channels, map.shape
            )));
        }
        let (w, h) = dimensions(&title, map)?;
        let values = || map.data.iter().copied().filter(|v| !v.is_nan());
        let finite = || values().filter(|v| v.is_finite());
        let (lo, hi) = match range {
            MapRange::PerMap => (
                finite().fold(f32::INFINITY, f32::min),
                finite().fold(f32::NEG_INFINITY, f32::max),
            ),
            MapRange::Shared(lo, hi) => (lo, hi),
        };
        let span = hi as f64 - lo as f64;
        let lut = viridis_table();
        let colour = |v: f32| -> Rgb<u8> {
            if v.is_nan() {
                return NAN_COLOUR;
            }
            let t = if v == f32::INFINITY {
                1.0
            } else if v == f32::NEG_INFINITY || span <= 0.0 {
                0.0
            } else {
                ((v as f64 - lo as f64) / span).clamp(0.0, 1.0)
            };
            lut[((t * 256.0) as usize).min(255)]
        };
        let image = RgbImage::from_fn(w, h, |x, y| {
            colour(map.data[y as usize * w as usize + x as usize])
        });
        let caption = match (
            values().fold(f32::INFINITY, f32::min),
            values().fold(f32::NEG_INFINITY, f32::max),
        ) {
            (lo, hi) if lo <= hi => format!("min {}  max {}", number(lo), number(hi)),
            _ => "all NaN".to_string(),
        };
        Ok(Self {
            title,
            caption: Some(caption),
            image,
            range: (lo <= hi).then_some((lo, hi)),
        })
    }

    /// The same panel with another caption under its image.
    pub fn with_caption(mut self, caption: impl Into<String>) -> Self {
        self.caption = Some(caption.into());
        self
    }

    /// The title drawn above the image.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The caption drawn under the image, if any.
    pub fn caption(&self) -> Option<&str> {
        self.caption.as_deref()
    }

    /// For a map, the finite range its colours span (`None` for pictures and for
    /// maps without a finite value).
    pub fn range(&self) -> Option<(f32, f32)> {
        self.range
    }

    /// The panel's image before scaling.
    pub fn image(&self) -> &RgbImage {
        &self.image
    }
}

/// The range a map's colours span.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MapRange {
    /// The map's own finite minimum to maximum.
    PerMap,
    /// A fixed range, shared by several maps so that their colours compare.
    Shared(f32, f32),
}

/// One map panel per channel of an HWC tensor, titled `channel c`.
///
/// # Errors
///
/// [`Error::Shape`] for an empty tensor or data that does not fill its shape.
///
/// ```
/// use scanline::Shape;
/// use scanline_host::{Tensor, panel::{self, MapRange}};
/// let t = Tensor::new(Shape::new(1, 2, 2), vec![0.0f32, 1.0, 2.0, 3.0]).unwrap();
/// let panels = panel::channel_maps(&t, MapRange::PerMap).unwrap();
/// assert_eq!(panels[1].title(), "channel 1");
/// assert_eq!(panels[1].caption(), Some("min 1.00  max 3.00"));
/// ```
pub fn channel_maps(t: &Tensor<f32>, range: MapRange) -> Result<Vec<Panel>> {
    let s = t.shape;
    if t.data.len() != s.len() || s.is_empty() {
        return Err(Error::Shape(format!(
            "{} values cannot make maps of a {s} tensor",
            t.data.len()
        )));
    }
    let plane = scanline::Shape::new(s.height, s.width, 1);
    (0..s.channels)
        .map(|c| {
            let data = t.data.iter().skip(c).step_by(s.channels).copied().collect();
            Panel::map_in(format!("channel {c}"), &Tensor::new(plane, data)?, range)
        })
        .collect()
}

/// Smallest image height of a [`mosaic`] tile that the CLI asks for: small maps
/// are enlarged (by a whole factor, nearest neighbour) to at least this.
pub const MIN_TILE: u32 = 64;

/// Composes panels into a grid (`ceil(sqrt(n))` columns): each tile is a title,
/// the panel's image enlarged by the whole factor that makes the first image at
/// least `min_height` pixels high (nearest neighbour; every image is scaled to
/// that size), and its caption. Tiles are as wide as the widest title, caption or
/// image, separated by [`GAP`], with a [`MARGIN`] around the grid.
///
/// # Errors
///
/// [`Error::Invalid`] if there is no panel or the figure would exceed
/// [`MAX_PIXELS`].
///
/// ```
/// use scanline::Shape;
/// use scanline_host::{Tensor, panel::{self, MapRange}};
/// let t = Tensor::filled(Shape::new(4, 4, 5), 1.0f32);
/// let panels = panel::channel_maps(&t, MapRange::PerMap).unwrap();
/// let fig = panel::mosaic(&panels, 32).unwrap();
/// assert_eq!(fig.height(), panel::mosaic_size(&panels, 32).1);
/// ```
pub fn mosaic(panels: &[Panel], min_height: u32) -> Result<RgbImage> {
    if panels.is_empty() {
        return Err(Error::Invalid("a mosaic needs at least one panel".into()));
    }
    let (total_w, total_h) = mosaic_size(panels, min_height);
    let layout = MosaicLayout::of(panels, min_height);
    if total_w as u64 * total_h as u64 > MAX_PIXELS || total_w == u32::MAX || total_h == u32::MAX {
        return Err(Error::Invalid(format!(
            "the mosaic would be {total_w}x{total_h} pixels, more than {MAX_PIXELS}"
        )));
    }
    let mut fig = RgbImage::from_pixel(total_w, total_h, BACKGROUND);
    for (i, p) in panels.iter().enumerate() {
        let (col, row) = ((i % layout.columns) as u32, (i / layout.columns) as u32);
        let x = MARGIN + col * (layout.tile_w + GAP);
        let y = MARGIN + row * (layout.tile_h + GAP);
        let centre = |w: u32| x + (layout.tile_w - w.min(layout.tile_w)) / 2;
        draw_text(
            &mut fig,
            centre(text_width(&p.title, TITLE_SCALE)),
            y,
            &p.title,
            TITLE_SCALE,
        );
        let image_y = y + 8 * TITLE_SCALE + SPACING;
        let (sw, sh) = p.image.dimensions();
        let left = centre(layout.image_w);
        for dy in 0..layout.image_h {
            let sy = (dy as u64 * sh as u64 / layout.image_h as u64) as u32;
            for dx in 0..layout.image_w {
                let sx = (dx as u64 * sw as u64 / layout.image_w as u64) as u32;
                fig.put_pixel(left + dx, image_y + dy, *p.image.get_pixel(sx, sy));
            }
        }
        if let Some(c) = &p.caption {
            let cy = image_y + layout.image_h + SPACING;
            draw_text(
                &mut fig,
                centre(text_width(c, CAPTION_SCALE)),
                cy,
                c,
                CAPTION_SCALE,
            );
        }
    }
    Ok(fig)
}

/// Width and height in pixels of the [`mosaic`] of `panels` (saturating at
/// `u32::MAX`; `(0, 0)` for no panel).
pub fn mosaic_size(panels: &[Panel], min_height: u32) -> (u32, u32) {
    if panels.is_empty() {
        return (0, 0);
    }
    let l = MosaicLayout::of(panels, min_height);
    let rows = panels.len().div_ceil(l.columns) as u64;
    let cols = l.columns as u64;
    let w = 2 * MARGIN as u64 + cols * l.tile_w as u64 + (cols - 1) * GAP as u64;
    let h = 2 * MARGIN as u64 + rows * l.tile_h as u64 + (rows - 1) * GAP as u64;
    let clip = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    (clip(w), clip(h))
}

/// Sizes of a mosaic's grid.
struct MosaicLayout {
    columns: usize,
    image_w: u32,
    image_h: u32,
    tile_w: u32,
    tile_h: u32,
}

impl MosaicLayout {
    /// `panels` must not be empty.
    fn of(panels: &[Panel], min_height: u32) -> Self {
        let n = panels.len().max(1);
        let mut columns = (n as f64).sqrt().ceil() as usize;
        while columns * columns < n {
            columns += 1;
        }
        let (w, h) = panels.first().map_or((1, 1), |p| p.image.dimensions());
        let factor = min_height.div_ceil(h.max(1)).max(1);
        let image_w = w.saturating_mul(factor).min(1 << 15);
        let image_h = h.saturating_mul(factor).min(1 << 15);
        let text = panels
            .iter()
            .map(|p| {
                let caption = p
                    .caption
                    .as_deref()
                    .map_or(0, |c| text_width(c, CAPTION_SCALE));
                text_width(&p.title, TITLE_SCALE).max(caption)
            })
            .max()
            .unwrap_or(0);
        let captions = panels.iter().any(|p| p.caption.is_some());
        let tile_h = figure_height(image_h, captions) - 2 * MARGIN;
        Self {
            columns,
            image_w,
            image_h,
            tile_w: image_w.max(text),
            tile_h,
        }
    }
}

/// Width and height of a non-empty, consistent tensor, as `u32`.
fn dimensions<T>(title: &str, t: &Tensor<T>) -> Result<(u32, u32)> {
    let s = t.shape;
    if s.is_empty() {
        return Err(Error::Shape(format!("panel \"{title}\": empty {s} tensor")));
    }
    if t.data.len() != s.len() {
        return Err(Error::Shape(format!(
            "panel \"{title}\": {} values cannot fill {s}",
            t.data.len()
        )));
    }
    match (u32::try_from(s.width), u32::try_from(s.height)) {
        (Ok(w), Ok(h)) => Ok((w, h)),
        _ => Err(Error::Shape(format!("panel \"{title}\": {s} is too large"))),
    }
}

/// A value for a caption: two decimals, or scientific notation when that would
/// hide it.
fn number(v: f32) -> String {
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

/// matplotlib's viridis lookup: 256 colours, entry `i` at `t = i / 255`.
fn viridis_table() -> [Rgb<u8>; 256] {
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
/// use scanline_host::panel::viridis;
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

/// Width in pixels of `text` drawn at `scale`.
fn text_width(text: &str, scale: u32) -> u32 {
    (text.chars().count() as u32).saturating_mul(8 * scale)
}

/// Draws `text` with its top-left corner at `(x, y)`; characters outside font8x8's
/// basic set are drawn as `?`.
fn draw_text(img: &mut RgbImage, x: u32, y: u32, text: &str, scale: u32) {
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
    let height = first.image.height();
    let captions = panels.iter().any(|p| p.caption.is_some());
    let columns: Vec<(u64, u64)> = panels
        .iter()
        .map(|p| {
            let image = scaled_width(&p.image, height);
            let title = text_width(&p.title, TITLE_SCALE) as u64;
            let caption = p
                .caption
                .as_deref()
                .map_or(0, |c| text_width(c, CAPTION_SCALE)) as u64;
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
            centre(text_width(&p.title, TITLE_SCALE)),
            title_y,
            &p.title,
            TITLE_SCALE,
        );
        let (sw, sh) = p.image.dimensions();
        let left = centre(image_w);
        for y in 0..height {
            let sy = (y as u64 * sh as u64 / height as u64) as u32;
            for dx in 0..image_w {
                let sx = (dx as u64 * sw as u64 / image_w as u64) as u32;
                fig.put_pixel(left + dx, image_y + y, *p.image.get_pixel(sx, sy));
            }
        }
        if let Some(c) = &p.caption {
            let cx = centre(text_width(c, CAPTION_SCALE));
            draw_text(&mut fig, cx, caption_y, c, CAPTION_SCALE);
        }
        x += column_w + GAP;
    }
    Ok(fig)
}

/// Saves a figure; the format follows the extension (`.png`, or `.jpg`/`.jpeg`).
///
/// # Errors
///
/// [`Error::Io`] if the file cannot be written; [`Error::Image`] naming the path
/// for an unsupported extension or an encoding failure.
pub fn save(path: impl AsRef<Path>, figure: &RgbImage) -> Result<()> {
    let path = path.as_ref();
    figure
        .save(path)
        .map_err(|e| crate::picture::from_image_error(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;
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
        // A map's min and max take exactly those colours.
        let p = Panel::map("m", &ramp(3, 3)).unwrap();
        assert_eq!(p.range(), Some((-3.0, 5.0)));
        assert_eq!(p.image().get_pixel(0, 0).0, viridis(0.0));
        assert_eq!(p.image().get_pixel(2, 2).0, viridis(1.0));
        // matplotlib's binning: t just under 1/256 is entry 0, t = 0.5 is entry 128.
        assert_eq!(viridis(0.003), viridis(0.0));
        assert_eq!(viridis(0.5), viridis(128.0 / 256.0 + 1e-4));
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
    fn constant_and_odd_maps() {
        let flat = Tensor::filled(Shape::new(3, 4, 1), 2.5f32);
        let p = Panel::map("flat", &flat).unwrap();
        assert!(p.image().pixels().all(|c| c.0 == viridis(0.0)));
        assert_eq!(p.caption(), Some("min 2.50  max 2.50"));

        let odd = Tensor::new(
            Shape::new(1, 5, 1),
            vec![f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1.0, 3.0],
        )
        .unwrap();
        let p = Panel::map("odd", &odd).unwrap();
        let px: Vec<[u8; 3]> = p.image().pixels().map(|c| c.0).collect();
        assert_eq!(
            px,
            vec![
                [255, 255, 255],
                viridis(1.0),
                viridis(0.0),
                viridis(0.0),
                viridis(1.0)
            ]
        );
        assert_eq!(p.range(), Some((1.0, 3.0)));
        assert_eq!(p.caption(), Some("min -inf  max inf"));

        let nan = Tensor::filled(Shape::new(1, 2, 1), f32::NAN);
        let p = Panel::map("nan", &nan).unwrap();
        assert_eq!((p.range(), p.caption()), (None, Some("all NaN")));
        render(&[p]).unwrap();

        let tiny = Tensor::new(Shape::new(1, 2, 1), vec![1e-5f32, 2e6]).unwrap();
        assert_eq!(
            Panel::map("t", &tiny).unwrap().caption(),
            Some("min 1.00e-5  max 2.00e6")
        );
    }

    #[test]
    fn bad_tensors_are_rejected() {
        let rgb = Tensor::filled(Shape::new(2, 2, 3), 0.0f32);
        let e = Panel::map("rgb map", &rgb).unwrap_err();
        assert!(
            matches!(e, Error::Shape(_)) && e.to_string().contains("rgb map"),
            "{e}"
        );
        let two = Tensor::filled(Shape::new(2, 2, 2), 0u8);
        assert!(matches!(Panel::picture("p", &two), Err(Error::Shape(_))));
        let empty = Tensor::filled(Shape::new(0, 3, 1), 0.0f32);
        assert!(matches!(Panel::map("e", &empty), Err(Error::Shape(_))));
        let short = Tensor {
            shape: Shape::new(2, 2, 1),
            data: vec![0.0f32; 3],
        };
        assert!(matches!(Panel::map("s", &short), Err(Error::Shape(_))));
        assert!(matches!(render(&[]), Err(Error::Invalid(_))));
        // A 1-pixel-high first panel with a tall second one: huge, refused.
        let line = Tensor::filled(Shape::new(1, 1, 1), 0u8);
        let tall = Tensor::filled(Shape::new(1, 20000, 1), 0u8);
        let fig = render(&[
            Panel::picture("a", &tall).unwrap(),
            Panel::picture("b", &line).unwrap(),
        ]);
        assert!(fig.is_ok());
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
        assert_eq!(image::open(&path).unwrap().to_rgb8(), fig);
        std::fs::remove_file(&path).unwrap();

        let bad_ext = dir.join(format!("scanline-panel-{pid}.xyz"));
        let e = save(&bad_ext, &fig).unwrap_err();
        assert!(
            matches!(e, Error::Image { .. }) && e.to_string().contains(".xyz"),
            "{e}"
        );
        let no_dir = dir.join(format!("scanline-panel-{pid}-missing/f.png"));
        let e = save(&no_dir, &fig).unwrap_err();
        assert!(matches!(e, Error::Io { .. }), "{e:?}");
    }

    #[test]
    fn mosaic_grid_and_enlargement() {
        // 5 maps of 4x6: a 3-column grid of 2 rows, each image enlarged 16x to 64x96.
        let t = Tensor::filled(Shape::new(4, 6, 5), 1.0f32);
        let panels = channel_maps(&t, MapRange::PerMap).unwrap();
        let l = MosaicLayout::of(&panels, MIN_TILE);
        assert_eq!((l.columns, l.image_w, l.image_h), (3, 96, 64));
        let tile_w = l.tile_w.max(96);
        let (w, h) = mosaic_size(&panels, MIN_TILE);
        assert_eq!(w, 2 * MARGIN + 3 * tile_w + 2 * GAP);
        assert_eq!(h, 2 * MARGIN + 2 * l.tile_h + GAP);
        let fig = mosaic(&panels, MIN_TILE).unwrap();
        assert_eq!(fig.dimensions(), (w, h));
        // Titles are drawn: some ink in the first tile's title row.
        assert!((0..w).any(|x| is_ink(fig.get_pixel(x, MARGIN + 4))));
        assert!(mosaic(&[], MIN_TILE).is_err());
        // A shared range colours a constant map by its place in that range.
        let half = Tensor::filled(Shape::new(1, 1, 1), 0.5f32);
        let p = Panel::map_in("x", &half, MapRange::Shared(0.0, 1.0)).unwrap();
        assert_eq!(p.image().get_pixel(0, 0).0, viridis(0.5));
    }
}
