//! Panel: one titled picture or colour-mapped map of a figure — a photo as it is,
//! or a single-channel map coloured with viridis over its own range or a shared
//! one — and the map panels of every channel of a tensor.
//!
//! A constant map takes the lowest colour (as matplotlib does when
//! `vmin == vmax`); NaN cells are white, +inf and -inf take the end colours.
//!
//! # Examples
//!
//! ```
//! use scanline::Shape;
//! use scanline_host::{Tensor, figure, panel::Panel};
//! let photo = Tensor::filled(Shape::new(8, 8, 3), 200u8);
//! let map = Tensor::new(Shape::new(4, 4, 1), (0..16).map(|v| v as f32).collect()).unwrap();
//! let panels = [
//!     Panel::picture("input", &photo).unwrap(),
//!     Panel::map("max-pool 2x2", &map).unwrap(),
//! ];
//! assert_eq!(panels[1].caption(), Some("min 0.00  max 15.00"));
//! let fig = figure::render(&panels).unwrap();
//! assert_eq!(fig.height(), figure::figure_height(8, true));
//! ```

use image::{Rgb, RgbImage};

use crate::colour::{NAN_COLOUR, viridis_table};
use crate::text::number;
use crate::{Error, Result, Tensor};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::colour::viridis;
    use scanline::Shape;

    fn ramp(h: usize, w: usize) -> Tensor<f32> {
        Tensor::new(
            Shape::new(h, w, 1),
            (0..h * w).map(|v| v as f32 - 3.0).collect(),
        )
        .unwrap()
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

        let tiny = Tensor::new(Shape::new(1, 2, 1), vec![1e-5f32, 2e6]).unwrap();
        assert_eq!(
            Panel::map("t", &tiny).unwrap().caption(),
            Some("min 1.00e-5  max 2.00e6")
        );
    }

    #[test]
    fn map_colours_span_its_range() {
        let p = Panel::map("m", &ramp(3, 3)).unwrap();
        assert_eq!(p.range(), Some((-3.0, 5.0)));
        assert_eq!(p.image().get_pixel(0, 0).0, viridis(0.0));
        assert_eq!(p.image().get_pixel(2, 2).0, viridis(1.0));
        // A shared range colours a constant map by its place in that range.
        let half = Tensor::filled(Shape::new(1, 1, 1), 0.5f32);
        let p = Panel::map_in("x", &half, MapRange::Shared(0.0, 1.0)).unwrap();
        assert_eq!(p.image().get_pixel(0, 0).0, viridis(0.5));
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
    }
}
