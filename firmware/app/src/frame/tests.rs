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
    let clean: Vec<u32> = (0..2)
        .map(|f| {
            fnv1a32(&bytes(&expected(
                &model,
                &Source::Int8,
                &data[f * H * W..][..H * W],
            )))
        })
        .collect();
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
