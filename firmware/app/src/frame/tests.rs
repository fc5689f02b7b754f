//! Tests of the frame loop: output equal to the core's frame engine for every
//! pixel path, timing, and every fault dropping exactly its frame.

use scanline::Model;
use scanline::digest::{Fnv1a32, fnv1a32};
use scanline::edges::EdgeModel;
use scanline::kernel::Kernel;
use scanline::pixel::{ByteOrder, PixelFormat};
use scanline::preset::Preset;

use super::*;
use crate::camera::{At, Faulty, Replay};
use crate::clock::{NoClock, Steps};
use crate::inject::{Injector, Kind, Plan};
use crate::sink::{RowFn, Tee};

const H: usize = 6;
const W: usize = 8;

/// The edge model: a 3x3 Laplacian over `channels` input channels, ReLU, then
/// a 2x2 max-pool.
fn edges(channels: usize) -> EdgeModel {
    EdgeModel::new(Kernel::preset(Preset::Laplacian8), channels, Some(2)).unwrap()
}

fn pixels(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect()
}

/// The frame engine's output for the int8 rows a converter makes of `frame`.
fn expected(model: &Model<'_>, source: &Source, frame: &[u8]) -> Vec<i8> {
    let shape = model.input_shape();
    let mut input = vec![0i8; shape.len()];
    let line_len = source.line_len(shape.row_len());
    for (row, line) in input
        .chunks_mut(shape.row_len())
        .zip(frame.chunks(line_len))
    {
        match source {
            Source::Pixels(c) => c.convert(line, row).unwrap(),
            Source::Int8 => row.iter_mut().zip(line).for_each(|(r, &b)| *r = b as i8),
        }
    }
    let mut out = vec![0i8; model.output_shape().len()];
    let mut scratch = vec![0i8; model.frame_scratch_len()];
    scanline::frame::run(model, &input, &mut out, &mut scratch).unwrap();
    out
}

/// The frame engine's digest of every whole frame of `H` lines of `line_len`
/// bytes in `data`.
fn digests(model: &Model<'_>, source: &Source, data: &[u8], line_len: usize) -> Vec<u32> {
    data.chunks_exact(H * line_len)
        .map(|frame| fnv1a32(&bytes(&expected(model, source, frame))))
        .collect()
}

fn bytes(v: &[i8]) -> Vec<u8> {
    v.iter().map(|&x| x as u8).collect()
}

#[test]
fn every_pixel_path_equals_the_frame_engine() {
    let cases = [
        (PixelFormat::Gray8, 1),
        (PixelFormat::Gray8, 3),
        (PixelFormat::Rgb565(ByteOrder::Big), 1),
        (PixelFormat::Rgb565(ByteOrder::Little), 3),
        (PixelFormat::Rgb888, 1),
        (PixelFormat::Rgb888, 3),
        (PixelFormat::Yuyv, 1),
        (PixelFormat::Yuyv, 3),
    ];
    for (format, channels) in cases {
        let edges = edges(channels);
        let model = edges.model(H, W).unwrap();
        let source = Source::pixels(format, &model).unwrap();
        let line_len = source.line_len(W * channels);
        let data = pixels(3 * H * line_len, 0x1234_5678 + channels as u32);
        let mut camera = Replay::<64>::new(&data, H, line_len);
        let mut arena = vec![0i8; model.stream_arena_len()];
        let mut frames = FrameLoop::<32>::new(&model, &mut arena, source.clone()).unwrap();
        for f in 0..3 {
            let frame = &data[f * H * line_len..(f + 1) * H * line_len];
            let want = expected(&model, &source, frame);
            let mut digest = Fnv1a32::new();
            let report = frames.run(&mut camera, &mut digest, &mut NoClock).unwrap();
            assert_eq!(report.rows, model.output_shape().height);
            assert_eq!(report.lines, H);
            assert_eq!(
                digest.value(),
                fnv1a32(&bytes(&want)),
                "{format:?} into {channels} channels, frame {f}"
            );
        }
        assert_eq!(frames.counters().done, 3);
    }
}

#[test]
fn int8_rows_go_straight_to_the_pipeline() {
    let edges = edges(1);
    let model = edges.model(H, W).unwrap();
    let data = pixels(H * W, 99);
    let want = expected(&model, &Source::Int8, &data);
    let mut camera = Replay::<8>::new(&data, H, W);
    let mut arena = vec![0i8; model.stream_arena_len()];
    let mut frames = FrameLoop::<8>::new(&model, &mut arena, Source::Int8).unwrap();
    let mut rows = Vec::new();
    let mut sink = RowFn(|y: usize, row: &[i8]| {
        rows.push((y, row.to_vec()));
        Ok(())
    });
    frames.run(&mut camera, &mut sink, &mut NoClock).unwrap();
    let got: Vec<i8> = rows.iter().flat_map(|(_, r)| r.clone()).collect();
    assert_eq!(got, want);
    assert!(rows.iter().enumerate().all(|(i, (y, _))| i == *y));
}

#[test]
fn timing_counts_every_push_and_finds_the_worst() {
    let edges = edges(1);
    let model = edges.model(H, W).unwrap();
    let data = pixels(H * W, 5);
    let mut camera = Replay::<8>::new(&data, H, W);
    let mut arena = vec![0i8; model.stream_arena_len()];
    let mut frames = FrameLoop::<8>::new(&model, &mut arena, Source::Int8).unwrap();
    // Each reading advances 10: a push (two readings) costs 10.
    let report = frames
        .run(&mut camera, &mut Fnv1a32::new(), &mut Steps::new(10))
        .unwrap();
    assert_eq!(report.pipeline, 10 * H as u64);
    assert_eq!(report.worst_push, 10);
    assert_eq!(report.worst_line, 0);
    assert_eq!(report.total, 10 * (2 * H as u64 + 1));
}

/// Every fault drops exactly its frame, is counted under its kind, and the next
/// frame's digest is the clean one.
#[test]
fn a_fault_drops_its_frame_and_the_next_is_correct() {
    let edges = edges(1);
    let model = edges.model(H, W).unwrap();
    let data = pixels(2 * H * W, 7);
    let clean = digests(&model, &Source::Int8, &data, W);
    let faults = [
        (At::Begin, Error::Timeout { waited_ms: 100 }, Fault::Timeout),
        (At::Begin, Error::FifoEmpty, Fault::FifoEmpty),
        (
            At::Begin,
            Error::FifoShort {
                expected: 48,
                found: 3,
            },
            Fault::FifoShort,
        ),
        (
            At::Begin,
            Error::FifoOverrun {
                expected: 48,
                found: 900,
            },
            Fault::FifoOverrun,
        ),
        (At::Line(0), Error::Spi, Fault::Spi),
        (At::Line(H - 1), Error::Spi, Fault::Spi),
        (At::Begin, Error::I2c, Fault::I2c),
        (At::Begin, Error::ChipId { pid: 0, ver: 0 }, Fault::Chip),
        (
            At::Line(3),
            Error::Line {
                line: 3,
                expected: W,
                found: 2,
            },
            Fault::Line,
        ),
    ];
    for (at, error, fault) in faults {
        // Frames 0, 1, 2, 3 replay data frames 0, 1, 0, 1; frame 1 fails.
        let mut camera = Faulty::new(Replay::<8>::new(&data, H, W), 1, at, error);
        let mut arena = vec![0i8; model.stream_arena_len()];
        let mut frames = FrameLoop::<8>::new(&model, &mut arena, Source::Int8).unwrap();
        let mut digest = Fnv1a32::new();
        let mut results = Vec::new();
        for _ in 0..4 {
            let r = frames.run(&mut camera, &mut digest, &mut NoClock);
            results.push(r.map(|_| digest.value()));
        }
        assert_eq!(results[0], Ok(clean[0]), "{error:?}");
        assert_eq!(results[1], Err(error), "{error:?}");
        assert_eq!(
            results[2],
            Ok(clean[0]),
            "{error:?}: the frame after the fault"
        );
        assert_eq!(results[3], Ok(clean[1]), "{error:?}");
        let c = frames.counters();
        assert_eq!(
            (c.done, c.dropped_total(), c.dropped_for(fault)),
            (3, 1, 1),
            "{error:?}"
        );
    }
}

#[test]
fn a_failing_sink_drops_the_frame() {
    let edges = edges(1);
    let model = edges.model(H, W).unwrap();
    let data = pixels(H * W, 11);
    let want = fnv1a32(&bytes(&expected(&model, &Source::Int8, &data)));
    let mut camera = Replay::<8>::new(&data, H, W);
    let mut arena = vec![0i8; model.stream_arena_len()];
    let mut frames = FrameLoop::<8>::new(&model, &mut arena, Source::Int8).unwrap();
    let mut fail = true;
    let mut sink = Tee(
        Fnv1a32::new(),
        RowFn(|y: usize, _r: &[i8]| {
            if fail && y == 1 {
                fail = false;
                Err(Error::Io { code: 28 })
            } else {
                Ok(())
            }
        }),
    );
    assert_eq!(
        frames.run(&mut camera, &mut sink, &mut NoClock),
        Err(Error::Io { code: 28 })
    );
    frames.run(&mut camera, &mut sink, &mut NoClock).unwrap();
    assert_eq!(sink.0.value(), want);
    assert_eq!(frames.counters().dropped_for(Fault::Other), 1);
}

#[test]
fn a_camera_of_the_wrong_shape_is_refused_per_frame() {
    let edges = edges(1);
    let model = edges.model(H, W).unwrap();
    let data = pixels(H * W, 3);
    let mut arena = vec![0i8; model.stream_arena_len()];
    let mut frames = FrameLoop::<8>::new(&model, &mut arena, Source::Int8).unwrap();
    let mut wide = Replay::<16>::new(&data, H / 2, 2 * W);
    assert_eq!(
        frames.run(&mut wide, &mut Fnv1a32::new(), &mut NoClock),
        Err(Error::Geometry {
            expected: W,
            found: 2 * W
        })
    );
    let mut short = Replay::<8>::new(&data, H - 1, W);
    assert_eq!(
        frames.run(&mut short, &mut Fnv1a32::new(), &mut NoClock),
        Err(Error::Geometry {
            expected: H,
            found: H - 1
        })
    );
    assert_eq!(frames.counters().dropped_for(Fault::Other), 2);
}

#[test]
fn buffers_too_small_are_errors_at_start() {
    let edges = edges(1);
    let model = edges.model(H, W).unwrap();
    let mut arena = vec![0i8; model.stream_arena_len()];
    assert_eq!(
        FrameLoop::<4>::new(&model, &mut arena, Source::Int8).unwrap_err(),
        Error::Geometry {
            expected: W,
            found: 4
        }
    );
    let mut small = vec![0i8; model.stream_arena_len() - 1];
    assert!(matches!(
        FrameLoop::<8>::new(&model, &mut small, Source::Int8).unwrap_err(),
        Error::Core(scanline::Error::ArenaTooSmall { .. })
    ));
}

/// A delay that returns at once (the stall's bounded wait is counted in
/// `inject::tests`).
struct NoDelay;

impl embedded_hal::delay::DelayNs for NoDelay {
    fn delay_ns(&mut self, _ns: u32) {}
}

#[test]
fn every_injected_fault_drops_exactly_its_frame_and_is_counted_by_reason() {
    let edges = edges(3);
    let model = edges.model(H, W).unwrap();
    let source = Source::pixels(PixelFormat::Rgb565(ByteOrder::Big), &model).unwrap();
    let line_len = source.line_len(W * 3);
    let data = pixels(2 * H * line_len, 99);
    let clean = digests(&model, &source, &data, line_len);
    let budget = crate::wait::Budget {
        timeout_ms: 10,
        poll_ms: 1,
    };
    for kind in Kind::ALL {
        for line in [0, 2, H - 1] {
            let text = format!("1:{}@{line}", kind.name());
            let mut replay = Replay::<64>::new(&data, H, line_len);
            let mut camera =
                Injector::new(&mut replay, Plan::parse(&text).unwrap(), NoDelay, budget);
            let mut arena = vec![0i8; model.stream_arena_len()];
            let mut frames =
                FrameLoop::<{ 3 * W }>::new(&model, &mut arena, source.clone()).unwrap();
            let mut digest = Fnv1a32::new();
            let results: Vec<Result<u32, Error>> = (0..4)
                .map(|_| {
                    frames
                        .run(&mut camera, &mut digest, &mut NoClock)
                        .map(|_| digest.value())
                })
                .collect();
            // Frames 0..4 replay data frames 0, 1, 0, 1; frame 1 breaks.
            assert_eq!(results[0], Ok(clean[0]), "{text}");
            let e = results[1].unwrap_err();
            assert_eq!(e.fault(), kind.fault(), "{text}: {e}");
            assert_eq!(
                results[2],
                Ok(clean[0]),
                "{text}: the frame after the fault"
            );
            assert_eq!(results[3], Ok(clean[1]), "{text}");
            let c = frames.counters();
            assert_eq!((c.done, c.dropped_total()), (3, 1), "{text}");
            assert_eq!(c.dropped_for(kind.fault()), 1, "{text}");
            // A missing line is only noticed at the end of the frame.
            if kind == Kind::Missing {
                assert_eq!(
                    e,
                    Error::Line {
                        line: H - 1,
                        expected: line_len,
                        found: 0
                    }
                );
            }
        }
    }
}

#[test]
fn a_random_plan_drops_exactly_the_planned_frames() {
    let edges = edges(1);
    let model = edges.model(H, W).unwrap();
    let data = pixels(3 * H * W, 5);
    let clean = digests(&model, &Source::Int8, &data, W);
    let plan = Plan::parse("random/2024/300").unwrap();
    let mut replay = Replay::<8>::new(&data, H, W);
    let budget = crate::wait::Budget {
        timeout_ms: 3,
        poll_ms: 1,
    };
    let mut camera = Injector::new(&mut replay, plan, NoDelay, budget);
    let mut arena = vec![0i8; model.stream_arena_len()];
    let mut frames = FrameLoop::<8>::new(&model, &mut arena, Source::Int8).unwrap();
    let mut digest = Fnv1a32::new();
    let mut want = [0u32; Fault::ALL.len()];
    for f in 0..200u32 {
        let r = frames.run(&mut camera, &mut digest, &mut NoClock);
        match plan.at(f, H) {
            Some(i) => {
                assert_eq!(
                    r.map(|_| ()).unwrap_err().fault(),
                    i.kind.fault(),
                    "frame {f}"
                );
                want[i.kind.fault().index()] += 1;
            }
            None => {
                r.unwrap();
                assert_eq!(digest.value(), clean[f as usize % 3], "frame {f}");
            }
        }
    }
    let c = frames.counters();
    assert_eq!(c.dropped, want);
    assert!(c.dropped_total() > 30 && c.done > 100, "{c:?}");
}
