//! Workload: the CMSIS-NN comparison jobs (`workload/W1` ...): the data
//! generated here from the integer recipe of [`scanline::workload`], the
//! convolution and the max-pool timed apart in the frame engine and in the
//! stream engine, and every output checked against the CMSIS-NN run's
//! checksums. One log line per engine:
//!
//! ```text
//! scanline workload=W1 engine=frame conv=… pool=… macs=… conv_digest=… pool_digest=… ok=true
//! ```
//!
//! (`conv` and `pool` in guest instructions).

use scanline::digest::Fnv1a32;
use scanline::frame;
use scanline::stream::{Pipeline, PushError};
use scanline::workload::{Buffers, MAX_INPUT, Workload};
use scanline::{Error as CoreError, Model, Rounding};
use scanline_firmware::Error;
use scanline_firmware::arena::Arena;
use scanline_firmware::clock::Clock;
use static_cell::ConstStaticCell;

use crate::clock::{INSTRUCTIONS_PER_TICK, SysTickClock};

/// Largest convolution output of the workloads (W2: 120 * 160 * 8).
const MAX_CONV: usize = 120 * 160 * 8;
/// Largest pool output (W2).
const MAX_POOL: usize = MAX_CONV / 4;

static DATA: ConstStaticCell<Buffers> = ConstStaticCell::new(Buffers::new(Workload::W1));
static CONV: ConstStaticCell<Arena<MAX_CONV>> = ConstStaticCell::new(Arena::new());
static POOL: ConstStaticCell<Arena<MAX_POOL>> = ConstStaticCell::new(Arena::new());

/// The workloads' storage (taken once per boot).
pub struct Space {
    data: &'static mut Buffers,
    conv: &'static mut [i8],
    pool: &'static mut [i8],
}

impl Space {
    /// The static buffers; `None` if taken before.
    pub fn take() -> Option<Self> {
        Some(Self {
            data: DATA.try_take()?,
            conv: CONV.try_take()?.bytes(),
            pool: POOL.try_take()?.bytes(),
        })
    }
}

/// Instructions, from SysTick ticks.
fn instructions(ticks: u64) -> u64 {
    ticks * u64::from(INSTRUCTIONS_PER_TICK)
}

fn digest(v: &[i8]) -> u32 {
    let mut d = Fnv1a32::new();
    d.update(v);
    d.value()
}

/// Runs workload `w` in both engines; `Ok(false)` if a checksum differs from
/// CMSIS-NN's.
pub fn run(
    w: Workload,
    space: &mut Space,
    arena: &mut [i8],
    clock: &mut SysTickClock,
) -> Result<bool, Error> {
    const _: () = assert!(MAX_INPUT >= 120 * 160 * 3);
    space.data.select(w);
    w.generate(&mut space.data.as_mut());
    let data = space.data.as_ref();
    let [conv, pool] = w.layers(&data)?;
    let q = w.quant();
    let conv_model = Model::new(w.input_shape(), q, &[conv], Rounding::Double)?;
    let pool_model = Model::new(w.conv_shape(), q, &[pool], Rounding::Double)?;
    let conv_out = &mut space.conv[..w.conv_shape().len()];
    let pool_out = &mut space.pool[..w.pool_shape().len()];

    // Frame engine: whole tensors.
    let t0 = clock.now();
    frame::run_layer_with(
        &conv,
        conv_model.exec(),
        data.input,
        w.input_shape(),
        conv_out,
    )?;
    let t1 = clock.now();
    frame::run_layer_with(&pool, pool_model.exec(), conv_out, w.conv_shape(), pool_out)?;
    let t2 = clock.now();
    let frame_ok = report(
        w,
        "frame",
        t1 - t0,
        t2 - t1,
        digest(conv_out),
        digest(pool_out),
    );

    // Stream engine: the same layers, one input row at a time; the sink
    // copies each row into the output tensor (the frame engine's store), the
    // digest comes after the clock stops.
    conv_out.fill(0);
    let conv_ticks = stream(&conv_model, data.input, conv_out, arena, clock)?;
    let conv_digest = digest(conv_out);
    pool_out.fill(0);
    let pool_ticks = stream(&pool_model, conv_out, pool_out, arena, clock)?;
    let pool_digest = digest(pool_out);
    let stream_ok = report(
        w,
        "stream",
        conv_ticks,
        pool_ticks,
        conv_digest,
        pool_digest,
    );
    Ok(frame_ok && stream_ok)
}

/// Streams `input` through `model` row by row into `output`; the ticks of
/// all the `push_row` calls.
fn stream(
    model: &Model<'_>,
    input: &[i8],
    output: &mut [i8],
    arena: &mut [i8],
    clock: &mut SysTickClock,
) -> Result<u64, Error> {
    let mut pipeline = Pipeline::new(model, arena)?;
    let n = model.output_shape().row_len();
    let mut sink = |y: usize, row: &[i8]| {
        output[y * n..(y + 1) * n].copy_from_slice(row);
        Ok::<(), CoreError>(())
    };
    let t0 = clock.now();
    for row in input.chunks_exact(model.input_shape().row_len()) {
        pipeline.push_row(row, &mut sink).map_err(|e| match e {
            PushError::Stream(e) | PushError::Sink(e) => e,
        })?;
    }
    let ticks = clock.now() - t0;
    pipeline.finish()?;
    Ok(ticks)
}

/// Logs one engine's figures; true if both checksums are CMSIS-NN's.
fn report(w: Workload, engine: &str, conv: u64, pool: u64, cd: u32, pd: u32) -> bool {
    let ok = cd == w.conv_digest() && pd == w.pool_digest();
    defmt::info!(
        "scanline workload={=str} engine={=str} conv={=u64} pool={=u64} macs={=usize} conv_digest={=u32:08x} pool_digest={=u32:08x} ok={=bool}",
        w.name(),
        engine,
        instructions(conv),
        instructions(pool),
        w.macs(),
        cd,
        pd,
        ok
    );
    if !ok {
        defmt::error!(
            "scanline workload={=str} engine={=str}: checksums differ from CMSIS-NN's (conv {=u32:08x}, pool {=u32:08x})",
            w.name(),
            engine,
            w.conv_digest(),
            w.pool_digest()
        );
    }
    ok
}
