//! Pool: the Cortex-M4 max-pool kernel — 2x2 windows at stride 2 over whole
//! rows, four bytes per `SSUB8`/`SEL` pair.

use super::{max8x4, word};
use crate::{MaxPool2d, Rows, Shape};

/// 2x2, stride 2, both rows inside the image, no left padding, no clamping
/// activation; `false` (nothing done) otherwise.
///
/// With 4k channels, each output pixel is three word maxima per four
/// channels; with one channel, the vertical maximum of four columns, then
/// the maximum of it and itself shifted by a byte gives two outputs.
pub(crate) fn pool2x2<R: Rows + ?Sized>(
    pool: &MaxPool2d,
    rows: &R,
    input: Shape,
    oy: usize,
    out: &mut [i8],
) -> bool {
    let win = &pool.window;
    let (h, w) = (win.height, win.width);
    let c = input.channels;
    if h.kernel != 2 || w.kernel != 2 || h.stride != 2 || w.stride != 2 {
        return false;
    }
    if pool.activation.bounds(pool.quant) != (-128, 127) || win.pad_left(input.width) != 0 {
        return false;
    }
    let out_w = w.output(input.width, win.padding);
    if 2 * out_w > input.width || !(c == 1 || c.is_multiple_of(4)) {
        return false;
    }
    let y0 = h.first_tap(oy, win.pad_top(input.height));
    let (Some(r0), Some(r1)) = (rows.row(y0), rows.row(y0 + 1)) else {
        return false;
    };
    pool_row(r0, r1, input.width, c, &mut out[..out_w * c]);
    true
}

/// [`pool2x2`] once the rows are found (one copy of the code for both engines).
#[inline(never)]
fn pool_row(r0: &[i8], r1: &[i8], width: usize, c: usize, out: &mut [i8]) {
    let out_w = out.len() / c;
    if c == 1 {
        let mut j = 0;
        while 2 * j + 4 <= width && j + 1 < out_w {
            let v = max8x4(word(r0, 2 * j), word(r1, 2 * j));
            let m = max8x4(v, v >> 8);
            out[j] = m as u8 as i8;
            out[j + 1] = (m >> 16) as u8 as i8;
            j += 2;
        }
        for (j, o) in out.iter_mut().enumerate().skip(j) {
            *o = r0[2 * j]
                .max(r0[2 * j + 1])
                .max(r1[2 * j])
                .max(r1[2 * j + 1]);
        }
        return;
    }
    for (ox, px) in out.chunks_exact_mut(c).enumerate() {
        let a = 2 * ox * c;
        for (k, o) in px.chunks_exact_mut(4).enumerate() {
            let i = a + 4 * k;
            let m = max8x4(
                max8x4(word(r0, i), word(r0, i + c)),
                max8x4(word(r1, i), word(r1, i + c)),
            );
            o.copy_from_slice(&m.to_le_bytes().map(|b| b as i8));
        }
    }
}

/// The running maximum of the streaming engine ([`MaxPool2d::fold_row`]) for
/// 2-wide, stride-2 windows with no left padding over whole pixels of one or
/// 4k channels; `false` (nothing done) otherwise.
pub(crate) fn fold2x2(
    pool: &MaxPool2d,
    row: &[i8],
    input: Shape,
    acc: &mut [i8],
    first: bool,
) -> bool {
    let w = pool.window.width;
    let c = input.channels;
    let out_w = w.output(input.width, pool.window.padding);
    if w.kernel != 2 || w.stride != 2 || pool.window.pad_left(input.width) != 0 {
        return false;
    }
    if 2 * out_w > input.width || !(c == 1 || c.is_multiple_of(4)) {
        return false;
    }
    fold_row(row, input.width, c, &mut acc[..out_w * c], first);
    true
}

/// [`fold2x2`] once checked (one copy of the code for every caller).
#[inline(never)]
fn fold_row(row: &[i8], width: usize, c: usize, acc: &mut [i8], first: bool) {
    let out_w = acc.len() / c;
    if c == 1 {
        let mut j = 0;
        while 2 * j + 4 <= width && j + 1 < out_w {
            let v = word(row, 2 * j);
            let mut m = max8x4(v, v >> 8);
            if !first {
                let old = (acc[j] as u8 as u32) | ((acc[j + 1] as u8 as u32) << 16);
                m = max8x4(m, old);
            }
            acc[j] = m as u8 as i8;
            acc[j + 1] = (m >> 16) as u8 as i8;
            j += 2;
        }
        for (j, a) in acc.iter_mut().enumerate().skip(j) {
            let m = row[2 * j].max(row[2 * j + 1]);
            *a = if first { m } else { (*a).max(m) };
        }
        return;
    }
    for (ox, px) in acc.chunks_exact_mut(c).enumerate() {
        let a = 2 * ox * c;
        for (k, o) in px.chunks_exact_mut(4).enumerate() {
            let i = a + 4 * k;
            let mut m = max8x4(word(row, i), word(row, i + c));
            if !first {
                m = max8x4(m, word(o, 0));
            }
            o.copy_from_slice(&m.to_le_bytes().map(|b| b as i8));
        }
    }
}
