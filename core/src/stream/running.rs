//! Running: the stage of a max-pool whose windows do not overlap vertically
//! (window height equal to its stride): no ring, each input row folded into the
//! output row as it comes (a running maximum), the row passed on, clamped,
//! after its window's last row.

use super::{Sink, Stage, feed};
use crate::Layer;
use crate::exec::Exec;

/// True for a max-pool whose windows do not overlap vertically: its stage keeps
/// a running maximum in its output row and no ring ([`crate::MaxPool2d::runs`]).
pub(super) fn runs(layer: &Layer<'_>) -> bool {
    matches!(layer, Layer::MaxPool(p) if p.runs())
}

/// [`feed`] for a running max-pool stage ([`runs`]): input row `y` belongs to
/// output `o = (y + pad) / stride` alone; it is folded into the output row
/// (replacing it at the window's first row inside the image), and the row goes
/// on, clamped, once its window's last row inside the image has come.
#[allow(clippy::too_many_arguments)]
pub(super) fn feed_running<S: Sink + ?Sized>(
    stage: &mut Stage,
    later: &mut [Stage],
    pool: &crate::MaxPool2d,
    later_layers: &[Layer<'_>],
    rounding: Exec,
    newest: Option<(usize, &[i8])>,
    out: &mut [i8],
    rest: &mut [i8],
    sink: &mut S,
) -> Result<(), S::Error> {
    let Some((y, row)) = newest else {
        return feed(later, later_layers, rounding, None, rest, sink);
    };
    stage.received = y + 1;
    let s = stage.axis.stride;
    let o = (y + stage.pad) / s;
    if o >= stage.out_height {
        return Ok(()); // below the last window (VALID)
    }
    let first = y == 0 || (y + stage.pad).is_multiple_of(s);
    pool.fold_row(row, stage.input, out, first, rounding);
    if stage.ready_after(o) <= stage.received {
        pool.clamp_row(out);
        stage.next_out = o + 1;
        if later.is_empty() {
            sink.row(o, out)?;
        } else {
            feed(later, later_layers, rounding, Some((o, &*out)), rest, sink)?;
        }
    }
    Ok(())
}
