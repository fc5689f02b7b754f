//! Run: works through the job list — for each job, load the model, open the
//! recording, run every frame through the frame loop into the output file and
//! the digest, and log the capture lines and per-frame report.

use core::ffi::CStr;

use scanline::digest::Fnv1a32;
use scanline::{Model, tflite};
use scanline_firmware::arena::Arena;
use scanline_firmware::camera::LinePair;
use scanline_firmware::capture::{self, LineKind, Logged};
use scanline_firmware::frame::{Counters, FrameLoop, Source};
use scanline_firmware::inject::Injector;
use scanline_firmware::job::{self, Dump, Job, ModelSpec};
use scanline_firmware::recording::Kind;
use scanline_firmware::sink::{RowFn, Tee};
use scanline_firmware::wait::Budget;
use scanline_firmware::{Error, stack};
use static_cell::ConstStaticCell;

use crate::clock::{INSTRUCTIONS_PER_TICK, Sleep, SysTickClock};
use crate::file::{self, MAX_LINE, Output, Recording};
use crate::workload::{self, Space};

/// The job list's bytes.
static JOBS: ConstStaticCell<[u8; 64 * 1024]> = ConstStaticCell::new([0; 64 * 1024]);
/// A `.tflite` model's bytes (the model borrows its weights from here).
static MODEL: ConstStaticCell<[u8; 1024 * 1024]> = ConstStaticCell::new([0; 1024 * 1024]);
/// The pipeline's arena.
static ARENA: ConstStaticCell<Arena<{ 256 * 1024 }>> = ConstStaticCell::new(Arena::new());

/// Values of the widest input row.
const MAX_ROW: usize = 4 * 1024;

/// How long an injected stall is waited for before the frame is dropped
/// (guest time, polled every millisecond).
const STALL: Budget = Budget {
    timeout_ms: 5,
    poll_ms: 1,
};

/// Frames between two progress lines (stack high-water, counts).
const PROGRESS: usize = 100;

/// Runs every job of the list at `path`; true if all of their frames went
/// through.
pub fn jobs(path: &CStr, clock: &mut SysTickClock) -> bool {
    let (Some(jobs), Some(model_buf), Some(arena), Some(lines), Some(mut space)) = (
        JOBS.try_take(),
        MODEL.try_take(),
        ARENA.try_take().map(Arena::bytes),
        file::line_pair(),
        Space::take(),
    ) else {
        defmt::error!("scanline fatal: static buffers taken twice");
        return false;
    };
    let len = match file::read_c(path, jobs) {
        Ok(len) => len,
        Err(e) => {
            defmt::error!(
                "scanline fatal: cannot read the job list scanline-jobs.txt: {}",
                e
            );
            return false;
        }
    };
    let Ok(list) = core::str::from_utf8(&jobs[..len]) else {
        defmt::error!("scanline fatal: the job list is not UTF-8");
        return false;
    };
    let mut ok = true;
    for (i, job) in Job::all(list).enumerate() {
        let result = job.and_then(|job| {
            defmt::info!(
                "scanline job={=usize} input={=str} output={=str}",
                i,
                job.input,
                job.output
            );
            if let ModelSpec::Workload(w) = job.model {
                return workload::run(w, &mut space, arena, clock);
            }
            run_job(&job, model_buf, arena, lines, clock)
        });
        match result {
            Ok(true) => {}
            Ok(false) => ok = false,
            Err(e) => {
                defmt::error!("scanline job={=usize} failed error={}", i, e);
                ok = false;
            }
        }
    }
    ok
}

/// Runs one job; `Ok(false)` if a frame was dropped.
fn run_job(
    job: &Job<'_>,
    model_buf: &mut [u8],
    arena: &mut [i8],
    lines: &mut LinePair<MAX_LINE>,
    clock: &mut SysTickClock,
) -> Result<bool, Error> {
    let recording = Recording::open(job.input, lines)?;
    match job.model {
        ModelSpec::File(path) => {
            let len = file::read_all(path, model_buf)?;
            let import = tflite::parse(&model_buf[..len])?;
            run_model(job, import.model(), recording, arena, clock)
        }
        ModelSpec::Fit(path) => {
            let len = file::read_all(path, model_buf)?;
            let import = tflite::parse(&model_buf[..len])?;
            let model = fit(import.model(), recording.header())?;
            run_model(job, &model, recording, arena, clock)
        }
        ModelSpec::Edges { channels, pool } => {
            let edges = job::edge_model(channels, pool)?;
            let h = recording.header();
            let model = edges.model(h.height, h.width)?;
            run_model(job, &model, recording, arena, clock)
        }
        ModelSpec::Workload(_) => Err(Error::Recording {
            reason: "job: a workload job has no recording",
        }),
    }
}

/// Runs every frame of the job's recording through `model`.
fn run_model(
    job: &Job<'_>,
    model: &Model<'_>,
    mut recording: Recording<'_>,
    arena: &mut [i8],
    clock: &mut SysTickClock,
) -> Result<bool, Error> {
    let header = *recording.header();
    let (source, kind) = match header.kind {
        Kind::Int8 { .. } => (Source::Int8, LineKind::Int8),
        Kind::Pixels { format, gray } => (
            Source::pixels_with(format, gray, model)?,
            LineKind::Pixels(format, gray),
        ),
    };
    let input = model.input_shape();
    if header.width != input.width || header.height != input.height {
        return Err(Error::Geometry {
            expected: input.width * input.height,
            found: header.width * header.height,
        });
    }
    job.faults.check(header.height)?;
    capture::model(&job.model, model, kind);
    let mut frames = FrameLoop::<MAX_ROW>::new(model, arena, source)?;
    if frames.line_len() != header.line_len() {
        return Err(Error::Geometry {
            expected: frames.line_len(),
            found: header.line_len(),
        });
    }
    let mut output = Output::create(job.output)?;
    // The stack pointer where the frame loop starts: the frame loop's own depth
    // is the high-water mark below it.
    let sp = cortex_m::register::msp::read() as usize;
    let mut all_ok = true;
    // Every frame goes through the injector; without a plan it only passes
    // the recording's lines on.
    let mut injector = Injector::new(&mut recording, job.faults, Sleep, STALL);
    for n in 0..header.frames {
        let frame = n as u32;
        let dump_rows = job.dump == Dump::Full;
        let vector = model.output_is_vector();
        let mut sink = Tee(
            Fnv1a32::new(),
            RowFn(|y: usize, row: &[i8]| {
                if dump_rows {
                    capture::row(frame, y, row);
                }
                if vector {
                    capture::scores(frame, row);
                }
                output.write(bytemuck_bytes(row))
            }),
        );
        let mut camera = Logged::new(&mut injector, frame, job.dump);
        let result = frames.run(&mut camera, &mut sink, clock);
        let planned = injector.current();
        if let Some(i) = planned {
            defmt::info!(
                "scanline frame={=u32} injected={=str} at={=usize} expect={=str}",
                frame,
                i.kind.name(),
                i.line,
                i.kind.fault().name()
            );
        }
        match result {
            Ok(report) => {
                if planned.is_some() {
                    defmt::error!(
                        "scanline frame={=u32} an injected fault went through unnoticed",
                        frame
                    );
                    all_ok = false;
                }
                capture::done(frame, sink.0.value(), report.rows);
                let i = u64::from(INSTRUCTIONS_PER_TICK);
                defmt::info!(
                    "scanline frame={=u32} instructions={=u64} pipeline={=u64} worst_push_row={=u64} worst_line={=usize} stack={=usize} loop_stack={=usize}",
                    frame,
                    report.total * i,
                    report.pipeline * i,
                    report.worst_push * i,
                    report.worst_line,
                    stack::high_water(),
                    loop_depth(sp)
                );
            }
            Err(e) => {
                capture::dropped(frame, &e);
                // A drop is a failure unless it is the one injected.
                if planned.map(|i| i.kind.fault()) != Some(e.fault()) {
                    all_ok = false;
                }
            }
        }
        if (n + 1) % PROGRESS == 0 {
            progress(n + 1, &frames.counters(), sp);
        }
    }
    capture::counts(&frames.counters());
    let c = frames.counters();
    defmt::info!(
        "scanline job done frames={=usize} ok={=u32} dropped={=u32}",
        header.frames,
        c.done,
        c.dropped_total()
    );
    Ok(all_ok)
}

/// Logs the progress line of every [`PROGRESS`] frames: counts and the stack.
fn progress(frames: usize, c: &Counters, sp: usize) {
    defmt::info!(
        "scanline progress={=usize} ok={=u32} dropped={=u32} stack_high_water={=usize} loop_stack={=usize}",
        frames,
        c.done,
        c.dropped_total(),
        stack::high_water(),
        loop_depth(sp)
    );
}

fn bytemuck_bytes(row: &[i8]) -> &[u8] {
    bytemuck::cast_slice(row)
}

/// Bytes of stack used below `sp` since reset (the deepest point reached,
/// measured from the paint, less what was already in use at `sp`).
fn loop_depth(sp: usize) -> usize {
    sp.saturating_sub(stack::deepest())
}

/// `model`'s layers planned for the recording's height and width (same
/// channels, quantization and weights).
pub fn fit<'a>(
    model: &Model<'a>,
    header: &scanline_firmware::recording::Header,
) -> Result<Model<'a>, Error> {
    let s = model.input_shape();
    Ok(Model::new(
        scanline::Shape::new(header.height, header.width, s.channels),
        model.input_quant(),
        model.layers(),
        model.rounding(),
    )?)
}
