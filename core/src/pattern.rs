//! Pattern: a test helper in the style of embedded-graphics' `assert_pattern` —
//! small int8 tensors written as rows of numbers, one grid per channel, so a
//! hand-worked expectation reads like the picture it describes.

use crate::{Layer, Rounding, Shape};

/// An HWC tensor and its shape.
pub(crate) type Image = (Shape, Vec<i8>);

/// Parses one channel: rows of whitespace-separated integers, all as long.
fn parse(rows: &[&str]) -> Vec<Vec<i8>> {
    let grid: Vec<Vec<i8>> = rows
        .iter()
        .map(|row| {
            row.split_whitespace()
                .map(|v| {
                    v.parse()
                        .unwrap_or_else(|e| panic!("`{v}` in `{row}`: {e}"))
                })
                .collect()
        })
        .collect();
    assert!(
        grid.iter().all(|r| r.len() == grid[0].len()),
        "ragged rows: {rows:?}"
    );
    grid
}

/// A tensor from one grid per channel (each grid `height` rows of `width`
/// values), interleaved into HWC order.
pub(crate) fn image(channels: &[&[&str]]) -> Image {
    let grids: Vec<Vec<Vec<i8>>> = channels.iter().map(|c| parse(c)).collect();
    let (h, w) = (grids[0].len(), grids[0][0].len());
    assert!(
        grids.iter().all(|g| g.len() == h && g[0].len() == w),
        "channels of different sizes"
    );
    let mut data = Vec::with_capacity(h * w * grids.len());
    for y in 0..h {
        for x in 0..w {
            data.extend(grids.iter().map(|g| g[y][x]));
        }
    }
    (Shape::new(h, w, grids.len()), data)
}

/// Runs `layer` over the whole `input` with the frame engine's row loop.
pub(crate) fn run(layer: &Layer<'_>, rounding: Rounding, input: &Image) -> Image {
    let out = layer.output_shape(input.0).unwrap();
    let mut data = vec![0i8; out.len()];
    crate::frame::run_layer(layer, rounding, &input.1, input.0, &mut data).unwrap();
    (out, data)
}

/// Channel `c` of `image` as rows of right-aligned numbers.
fn draw(image: &Image, c: usize) -> Vec<String> {
    let (s, data) = image;
    (0..s.height)
        .map(|y| {
            (0..s.width)
                .map(|x| format!("{:>4}", data[(y * s.width + x) * s.channels + c]))
                .collect::<String>()
        })
        .collect()
}

/// Asserts that `actual` is the tensor `expected` draws (one grid per channel),
/// showing both, channel by channel, when it is not.
#[track_caller]
pub(crate) fn assert_pattern(actual: &Image, expected: &[&[&str]]) {
    let want = image(expected);
    if *actual != want {
        let mut text = format!("expected {}, got {}\n", want.0, actual.0);
        for c in 0..want.0.channels.max(actual.0.channels) {
            text.push_str(&format!("channel {c}:\n"));
            let (a, w) = (
                draw(actual, c.min(actual.0.channels - 1)),
                draw(&want, c.min(want.0.channels - 1)),
            );
            for i in 0..a.len().max(w.len()) {
                let get = |v: &[String]| v.get(i).cloned().unwrap_or_default();
                text.push_str(&format!("  got {:<28} want {}\n", get(&a), get(&w)));
            }
        }
        panic!("{text}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_interleave_channels_in_hwc_order() {
        let (shape, data) = image(&[&["1 2", "3 4"], &["-1 -2", "-3 -4"]]);
        assert_eq!(shape, Shape::new(2, 2, 2));
        assert_eq!(data, [1, -1, 2, -2, 3, -3, 4, -4]);
    }

    #[test]
    #[should_panic(expected = "channel 0:\n  got    1   2")]
    fn a_mismatch_shows_both_grids() {
        assert_pattern(&image(&[&["1 2"]]), &[&["1 3"]]);
    }
}
