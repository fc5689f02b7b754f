//! Comparison: the int8 engines against each other (they must be identical) and
//! against the f32 reference (error in output LSBs, PSNR), for `scanline compare`.

use image::RgbImage;
use scanline::Quant;

use crate::mosaic;
use crate::panel::{self, MapRange};
use crate::{Error, Result, Tensor};

/// Per-element error of an int8 output against the float reference, in output
/// LSBs: `|(q - zero_point) - clamp(f) / scale|`, where `clamp(f)` is the float
/// value clipped to the range the int8 output can represent
/// (`scale * (-128 - zp) ..= scale * (127 - zp)`), so a saturated output is not
/// counted as arithmetic error.
///
/// ```
/// use scanline::{Quant, Shape};
/// use scanline_host::{Tensor, comparison::lsb_error};
/// let q = Quant::new(0.5, 0);
/// let int8 = Tensor::new(Shape::new(1, 3, 1), vec![2i8, 127, -3]).unwrap();
/// let float = Tensor::new(Shape::new(1, 3, 1), vec![1.25f32, 100.0, -1.5]).unwrap();
/// let e = lsb_error(&int8, &float, q).unwrap();
/// assert_eq!(e.data, vec![0.5, 0.0, 0.0]); // 100.0 is clipped to 63.5
/// ```
///
/// # Errors
///
/// [`Error::Shape`] if the shapes differ.
pub fn lsb_error(int8: &Tensor<i8>, float: &Tensor<f32>, quant: Quant) -> Result<Tensor<f32>> {
    if int8.shape != float.shape || int8.data.len() != float.data.len() {
        return Err(Error::Shape(format!(
            "the int8 output is {}, the float output {}",
            int8.shape, float.shape
        )));
    }
    let (scale, zp) = (quant.scale as f64, quant.zero_point as f64);
    let (lo, hi) = (-128.0 - zp, 127.0 - zp);
    let data = int8
        .data
        .iter()
        .zip(&float.data)
        .map(|(&q, &f)| {
            let f = (f as f64 / scale).clamp(lo, hi);
            ((q as f64 - zp) - f).abs() as f32
        })
        .collect();
    Tensor::new(int8.shape, data)
}

/// Summary of an int8 output's error against the float reference.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct ErrorStats {
    /// Largest error, in output LSBs.
    pub max_lsb: f64,
    /// Mean error, in output LSBs.
    pub mean_lsb: f64,
    /// Peak signal-to-noise ratio over the int8 range: `10 log10(255² / MSE)`,
    /// with the MSE in LSBs² (infinite for no error; `null` in JSON).
    pub psnr_db: f64,
    /// Float values outside the range the int8 output can represent (clipped
    /// before measuring).
    pub clipped: usize,
}

impl ErrorStats {
    /// The statistics of `int8` (quantized with `quant`) against `float`.
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] if the shapes differ.
    pub fn between(int8: &Tensor<i8>, float: &Tensor<f32>, quant: Quant) -> Result<Self> {
        let err = lsb_error(int8, float, quant)?;
        let n = err.data.len().max(1) as f64;
        let max_lsb = err.data.iter().fold(0f64, |m, &e| m.max(e as f64));
        let mean_lsb = err.data.iter().map(|&e| e as f64).sum::<f64>() / n;
        let mse = err.data.iter().map(|&e| (e as f64).powi(2)).sum::<f64>() / n;
        let psnr_db = if mse == 0.0 {
            f64::INFINITY
        } else {
            10.0 * (255.0f64 * 255.0 / mse).log10()
        };
        let (lo, hi) = (quant.dequantize(-128), quant.dequantize(127));
        let clipped = float.data.iter().filter(|&&f| f < lo || f > hi).count();
        Ok(Self {
            max_lsb,
            mean_lsb,
            psnr_db,
            clipped,
        })
    }
}

/// The three engines' outputs on one input, for `scanline compare`.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The frame engine's int8 output.
    pub frame: Tensor<i8>,
    /// The stream engine's int8 output.
    pub stream: Tensor<i8>,
    /// The float reference's output.
    pub float: Tensor<f32>,
    /// Quantization of the int8 outputs.
    pub quant: Quant,
}

impl Comparison {
    /// How many values differ between the frame and stream outputs (must be 0).
    pub fn frame_stream_differences(&self) -> usize {
        self.frame
            .data
            .iter()
            .zip(&self.stream.data)
            .filter(|(a, b)| a != b)
            .count()
            + self.frame.data.len().abs_diff(self.stream.data.len())
    }

    /// The stream output's error against the float reference.
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] if the shapes differ.
    pub fn error(&self) -> Result<ErrorStats> {
        ErrorStats::between(&self.stream, &self.float, self.quant)
    }

    /// `|int8 - float|` in output LSBs per element (see [`lsb_error`]).
    ///
    /// # Errors
    ///
    /// [`Error::Shape`] if the shapes differ.
    pub fn diff(&self) -> Result<Tensor<f32>> {
        lsb_error(&self.stream, &self.float, self.quant)
    }

    /// A picture of [`Comparison::diff`]: a mosaic of the channels, all coloured
    /// over **one shared** range, 0 to the largest error, so channels compare.
    ///
    /// # Errors
    ///
    /// As [`Comparison::diff`]; [`Error::Invalid`] if the picture would be too large.
    pub fn diff_picture(&self) -> Result<RgbImage> {
        let diff = self.diff()?;
        let max = diff.data.iter().copied().fold(0f32, f32::max);
        let panels = panel::channel_maps(&diff, MapRange::Shared(0.0, max))?;
        mosaic::mosaic(&panels, mosaic::MIN_TILE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scanline::Shape;

    #[test]
    fn error_stats() {
        let q = Quant::new(1.0, 0);
        let s = Shape::new(1, 2, 1);
        let int8 = Tensor::new(s, vec![1i8, 2]).unwrap();
        let same = ErrorStats::between(&int8, &Tensor::new(s, vec![1.0, 2.0]).unwrap(), q).unwrap();
        assert_eq!((same.max_lsb, same.mean_lsb, same.clipped), (0.0, 0.0, 0));
        assert!(same.psnr_db.is_infinite());
        // In JSON an infinite PSNR (no error) is null.
        let doc = serde_json::to_value(same).unwrap();
        assert_eq!(doc["psnr_db"], serde_json::Value::Null);
        assert_eq!(doc["max_lsb"], 0.0);
        let off = ErrorStats::between(&int8, &Tensor::new(s, vec![0.0, 2.0]).unwrap(), q).unwrap();
        assert_eq!((off.max_lsb, off.mean_lsb), (1.0, 0.5));
        // MSE 0.5 LSB²: 10 log10(255² / 0.5).
        assert!((off.psnr_db - 51.1411).abs() < 1e-3, "{}", off.psnr_db);
    }

    #[test]
    fn comparison_counts_frame_stream_differences() {
        let s = Shape::new(1, 3, 1);
        let frame = Tensor::new(s, vec![1i8, 2, 3]).unwrap();
        let c = Comparison {
            stream: Tensor::new(s, vec![1i8, 5, 4]).unwrap(),
            frame,
            float: Tensor::new(s, vec![1.0f32, 2.0, 3.0]).unwrap(),
            quant: Quant::new(1.0, 0),
        };
        assert_eq!(c.frame_stream_differences(), 2);
        assert_eq!(c.diff().unwrap().data, vec![0.0, 3.0, 1.0]);
        // The picture: 3 one-pixel tiles over the shared range 0..3: the worst
        // value takes viridis' top colour, the exact one the bottom colour.
        let panels = panel::channel_maps(&c.diff().unwrap(), MapRange::Shared(0.0, 3.0)).unwrap();
        assert_eq!(
            panels[0].image().get_pixel(1, 0).0,
            crate::colour::viridis(1.0)
        );
        assert_eq!(
            panels[0].image().get_pixel(0, 0).0,
            crate::colour::viridis(0.0)
        );
        let picture = c.diff_picture().unwrap();
        assert_eq!(
            picture.dimensions(),
            mosaic::mosaic_size(&panels, mosaic::MIN_TILE)
        );
    }
}
