//! Pool: the AVX2 max-pool kernel — rows reduced with `vpmaxsb`, then columns.

use core::arch::x86_64::*;
use core::mem::MaybeUninit;

use crate::{MaxPool2d, Rows, Shape};

/// Largest input row (values) [`pool_row`] takes through its vector path.
const POOL_ROW: usize = 32 * 1024;

/// Max-pooling of one output row: the window's rows are reduced with `vpmaxsb`
/// into one row, whose columns are then reduced per output pixel (16 at a time
/// for the common 2-wide, stride-2 gray pool; up to 16 channels at a time
/// otherwise), then clamped to the activation range. Max is exact in any order.
#[target_feature(enable = "avx2")]
pub(super) fn pool_row<R: Rows + ?Sized>(
    pool: &MaxPool2d,
    rows: &R,
    input: Shape,
    oy: usize,
    out: &mut [i8],
) {
    let n = input.row_len();
    if n > POOL_ROW {
        pool.row(rows, input, oy, out);
        return;
    }
    let win = &pool.window;
    let c = input.channels;
    let out_w = win.width.output(input.width, win.padding);
    let pad_left = win.pad_left(input.width);
    let y0 = win.height.first_tap(oy, win.pad_top(input.height));
    let (ky_lo, ky_hi) = win.height.tap_range(y0, input.height);
    // The window's rows reduced to one (i8::MIN where no row is valid).
    let mut tmp = [const { MaybeUninit::<i8>::uninit() }; POOL_ROW];
    let tmp = &mut tmp[..n];
    tmp.fill(MaybeUninit::new(i8::MIN));
    for ky in ky_lo..ky_hi {
        let Some(row) = rows.row(y0 + ky as isize) else {
            continue;
        };
        max_into(tmp, &row[..n]);
    }
    // SAFETY: every element of tmp was written by the fill above.
    let tmp = unsafe { &*(tmp as *const [MaybeUninit<i8>] as *const [i8]) };
    let out = &mut out[..out_w * c];
    let ax = win.width;
    let halving = ax.kernel == 2 && ax.stride == 2 && pad_left == 0 && 2 * out_w <= input.width;
    if halving && c == 1 {
        max_pairs(&tmp[..2 * out_w], out);
    } else if halving && matches!(c, 4 | 8 | 16 | 32 | 64) {
        // Each value against the same channel one pixel on, then every other
        // pixel's channels copied out.
        let len = 2 * out_w * c;
        let mut next = [const { MaybeUninit::<i8>::uninit() }; POOL_ROW];
        let next = &mut next[..len - c];
        for (d, &x) in next.iter_mut().zip(&tmp[..len - c]) {
            d.write(x);
        }
        max_into(next, &tmp[c..len]);
        // SAFETY: every element of next was written by the copy above.
        let next = unsafe { &*(next as *const [MaybeUninit<i8>] as *const [i8]) };
        match c {
            4 => every_other::<4>(next, out),
            8 => every_other::<8>(next, out),
            16 => every_other::<16>(next, out),
            32 => every_other::<32>(next, out),
            _ => every_other::<64>(next, out),
        }
    } else {
        for (ox, o) in out.chunks_exact_mut(c).enumerate() {
            let x0 = ax.first_tap(ox, pad_left);
            let (kx_lo, kx_hi) = ax.tap_range(x0, input.width);
            o.fill(i8::MIN);
            for kx in kx_lo..kx_hi {
                let ix = (x0 + kx as isize) as usize * c;
                max_into_i8(o, &tmp[ix..ix + c]);
            }
        }
    }
    let (lo, hi) = pool.activation.bounds(pool.quant);
    if (lo, hi) != (-128, 127) {
        clamp_row(out, lo as i8, hi as i8);
    }
}

/// `dst[i] = max(dst[i], src[i])`, 32 at a time.
#[target_feature(enable = "avx2")]
fn max_into(dst: &mut [MaybeUninit<i8>], src: &[i8]) {
    let n = dst.len().min(src.len());
    let mut i = 0;
    while i + 32 <= n {
        // SAFETY: i + 32 <= n: 32 bytes of both, `dst` initialized (by the caller's
        // fill), MaybeUninit<i8> has i8's layout.
        unsafe {
            let d = dst.as_mut_ptr().add(i).cast::<__m256i>();
            let v = _mm256_max_epi8(
                _mm256_loadu_si256(d),
                _mm256_loadu_si256(src.as_ptr().add(i).cast()),
            );
            _mm256_storeu_si256(d, v);
        }
        i += 32;
    }
    for (d, &x) in dst[i..n].iter_mut().zip(&src[i..n]) {
        // SAFETY: initialized by the caller's fill.
        let v = unsafe { d.assume_init() };
        d.write(v.max(x));
    }
}

/// `dst[i] = max(dst[i], src[i])` for short runs (one pixel's channels).
#[target_feature(enable = "avx2")]
fn max_into_i8(dst: &mut [i8], src: &[i8]) {
    let n = dst.len().min(src.len());
    let mut i = 0;
    while i + 16 <= n {
        // SAFETY: i + 16 <= n: 16 bytes of both.
        unsafe {
            let d = dst.as_mut_ptr().add(i).cast::<__m128i>();
            let v = _mm_max_epi8(
                _mm_loadu_si128(d),
                _mm_loadu_si128(src.as_ptr().add(i).cast()),
            );
            _mm_storeu_si128(d, v);
        }
        i += 16;
    }
    for (d, &x) in dst[i..n].iter_mut().zip(&src[i..n]) {
        *d = (*d).max(x);
    }
}

/// `out[i] = max(src[2i], src[2i + 1])`: the 2-wide, stride-2 pool of one
/// channel, 16 outputs per step.
#[target_feature(enable = "avx2")]
fn max_pairs(src: &[i8], out: &mut [i8]) {
    let n = out.len().min(src.len() / 2);
    let low = _mm256_set1_epi16(0x00ff);
    let mut i = 0;
    while i + 16 <= n {
        // SAFETY: 2i + 32 <= 2n <= src.len(); i + 16 <= n <= out.len().
        unsafe {
            let v = _mm256_loadu_si256(src.as_ptr().add(2 * i).cast());
            // Low byte of each 16-bit lane: max of the pair (the high byte moved down).
            let m = _mm256_max_epi8(v, _mm256_srli_epi16::<8>(v));
            let m = _mm256_and_si256(m, low);
            // 16-bit lanes in 0..=255 pack to bytes exactly; the lanes' halves
            // come back in order after the permute.
            let packed = _mm256_permute4x64_epi64::<0b1000>(_mm256_packus_epi16(m, m));
            _mm_storeu_si128(
                out.as_mut_ptr().add(i).cast(),
                _mm256_castsi256_si128(packed),
            );
        }
        i += 16;
    }
    for (o, p) in out[i..n].iter_mut().zip(src[2 * i..].chunks_exact(2)) {
        *o = p[0].max(p[1]);
    }
}

/// `out`'s pixels of `C` channels are `src`'s even pixels: fixed-size copies.
#[target_feature(enable = "avx2")]
fn every_other<const C: usize>(src: &[i8], out: &mut [i8]) {
    for (o, s) in out.chunks_exact_mut(C).zip(src.chunks(2 * C)) {
        if let (Ok(o), Some(s)) = (<&mut [i8; C]>::try_from(o), s.first_chunk::<C>()) {
            *o = *s;
        }
    }
}

/// Clamps every value of `out` to `lo..=hi`.
#[target_feature(enable = "avx2")]
fn clamp_row(out: &mut [i8], lo: i8, hi: i8) {
    let (vlo, vhi) = (_mm256_set1_epi8(lo), _mm256_set1_epi8(hi));
    let mut i = 0;
    while i + 32 <= out.len() {
        // SAFETY: 32 bytes of `out` from i.
        unsafe {
            let p = out.as_mut_ptr().add(i).cast::<__m256i>();
            _mm256_storeu_si256(
                p,
                _mm256_min_epi8(_mm256_max_epi8(_mm256_loadu_si256(p), vlo), vhi),
            );
        }
        i += 32;
    }
    for v in &mut out[i..] {
        *v = (*v).clamp(lo, hi);
    }
}
