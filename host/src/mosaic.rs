//! Mosaic: the panels of many maps (every channel of a feature tensor) composed
//! into a grid of tiles, each enlarged by a whole factor with nearest neighbour.

use image::RgbImage;

use crate::colour::BACKGROUND;
use crate::figure::{
    CAPTION_SCALE, GAP, MARGIN, MAX_PIXELS, SPACING, TITLE_SCALE, blit, figure_height,
};
use crate::panel::Panel;
use crate::text::{draw_text, text_width};
use crate::{Error, Result};

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
/// use scanline_host::{Tensor, mosaic, panel::{self, MapRange}};
/// let t = Tensor::filled(Shape::new(4, 4, 5), 1.0f32);
/// let panels = panel::channel_maps(&t, MapRange::PerMap).unwrap();
/// let fig = mosaic::mosaic(&panels, 32).unwrap();
/// assert_eq!(fig.height(), mosaic::mosaic_size(&panels, 32).1);
/// ```
pub fn mosaic(panels: &[Panel], min_height: u32) -> Result<RgbImage> {
    compose(None, panels, min_height)
}

/// A [`mosaic`] under a heading line (drawn like the tiles' titles, left-aligned
/// above the grid): what `scanline features` draws, the heading naming the layer.
///
/// # Errors
///
/// As [`mosaic`].
///
/// ```
/// use scanline::Shape;
/// use scanline_host::{Tensor, mosaic, panel::{self, MapRange}};
/// let t = Tensor::filled(Shape::new(4, 4, 2), 1.0f32);
/// let panels = panel::channel_maps(&t, MapRange::PerMap).unwrap();
/// let fig = mosaic::titled("layer 0: CONV_2D", &panels, 32).unwrap();
/// assert_eq!(fig.dimensions(), mosaic::titled_size("layer 0: CONV_2D", &panels, 32));
/// assert!(fig.height() > mosaic::mosaic_size(&panels, 32).1);
/// ```
pub fn titled(heading: &str, panels: &[Panel], min_height: u32) -> Result<RgbImage> {
    compose(Some(heading), panels, min_height)
}

/// Height of a heading line and the space under it.
const HEADING_HEIGHT: u32 = 8 * TITLE_SCALE + GAP;

fn compose(heading: Option<&str>, panels: &[Panel], min_height: u32) -> Result<RgbImage> {
    if panels.is_empty() {
        return Err(Error::Invalid("a mosaic needs at least one panel".into()));
    }
    let (total_w, total_h) = match heading {
        Some(h) => titled_size(h, panels, min_height),
        None => mosaic_size(panels, min_height),
    };
    let layout = MosaicLayout::of(panels, min_height);
    if total_w as u64 * total_h as u64 > MAX_PIXELS || total_w == u32::MAX || total_h == u32::MAX {
        return Err(Error::Invalid(format!(
            "the mosaic would be {total_w}x{total_h} pixels, more than {MAX_PIXELS}"
        )));
    }
    let mut fig = RgbImage::from_pixel(total_w, total_h, BACKGROUND);
    let top = match heading {
        Some(h) => {
            draw_text(&mut fig, MARGIN, MARGIN, h, TITLE_SCALE);
            MARGIN + HEADING_HEIGHT
        }
        None => MARGIN,
    };
    for (i, p) in panels.iter().enumerate() {
        let (col, row) = ((i % layout.columns) as u32, (i / layout.columns) as u32);
        let x = MARGIN + col * (layout.tile_w + GAP);
        let y = top + row * (layout.tile_h + GAP);
        let centre = |w: u32| x + (layout.tile_w - w.min(layout.tile_w)) / 2;
        draw_text(
            &mut fig,
            centre(text_width(p.title(), TITLE_SCALE)),
            y,
            p.title(),
            TITLE_SCALE,
        );
        let image_y = y + 8 * TITLE_SCALE + SPACING;
        let left = centre(layout.image_w);
        blit(
            &mut fig,
            p.image(),
            left,
            image_y,
            layout.image_w,
            layout.image_h,
        );
        if let Some(c) = p.caption() {
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

/// Width and height in pixels of the [`titled`] mosaic: the grid, a heading line
/// above it, and as wide as the heading if that is wider.
pub fn titled_size(heading: &str, panels: &[Panel], min_height: u32) -> (u32, u32) {
    let (w, h) = mosaic_size(panels, min_height);
    let heading_w = text_width(heading, TITLE_SCALE).saturating_add(2 * MARGIN);
    (w.max(heading_w), h.saturating_add(HEADING_HEIGHT))
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
        let (w, h) = panels.first().map_or((1, 1), |p| p.image().dimensions());
        let factor = min_height.div_ceil(h.max(1)).max(1);
        let image_w = w.saturating_mul(factor).min(1 << 15);
        let image_h = h.saturating_mul(factor).min(1 << 15);
        let text = panels
            .iter()
            .map(|p| {
                let caption = p.caption().map_or(0, |c| text_width(c, CAPTION_SCALE));
                text_width(p.title(), TITLE_SCALE).max(caption)
            })
            .max()
            .unwrap_or(0);
        let captions = panels.iter().any(|p| p.caption().is_some());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Tensor;
    use crate::colour::INK;
    use crate::panel::{MapRange, channel_maps};
    use scanline::Shape;

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
        assert!((0..w).any(|x| *fig.get_pixel(x, MARGIN + 4) == INK));
        assert!(matches!(mosaic(&[], MIN_TILE), Err(Error::Invalid(_))));
        // Each 4x6 image is enlarged 16x: a cell's colour fills a 16x16 block.
        let top = MARGIN + 8 * TITLE_SCALE + SPACING;
        let left = MARGIN + (tile_w - 96) / 2;
        let c = *fig.get_pixel(left, top);
        assert!((0..16).all(|d| *fig.get_pixel(left + d, top + d) == c));
    }
}
