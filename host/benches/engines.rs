//! Engines benchmark: the frame and stream int8 engines on the reference workloads
//! of DESIGN.md (W1–W3, N3) and the `edges` walkthrough on `coins.png`, then a
//! table of medians against the DESIGN.md yardsticks.
//!
//! `cargo bench -p scanline-host` (or `cargo xtask bench`); arguments after `--`
//! go to criterion, e.g. `cargo bench -p scanline-host -- N3` runs only N3. The
//! yardstick table is printed after a full `--bench` run (not in `cargo test`'s
//! one-pass test mode, nor when a filter is given).

use std::convert::Infallible;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use scanline::Model;
use scanline::stream::Pipeline;
use scanline_host::edges::{Edges, INPUT_QUANT};
use scanline_host::engine::Engine;
use scanline_host::kernel;
use scanline_host::picture::{self, Channels};
use scanline_host::workload::{
    CORTEX_M4_MACS_PER_CYCLE, OPENCV_FILTER2D_PIXELS_PER_SECOND, OwnedModel, Workload,
};

/// Runs measured per workload and engine for the yardstick table.
const TABLE_RUNS: usize = 20;

/// Buffers allocated once, so that only the engines are timed.
struct Bench<'m> {
    model: Model<'m>,
    input: &'m [i8],
    output: Vec<i8>,
    scratch: Vec<i8>,
    arena: Vec<i8>,
}

impl<'m> Bench<'m> {
    fn new(owned: &'m OwnedModel) -> Self {
        let model = owned.model();
        let output = vec![0; model.output_shape().len()];
        let scratch = vec![0; model.frame_scratch_len()];
        let arena = vec![0; model.stream_arena_len()];
        Self {
            model,
            input: &owned.input().data,
            output,
            scratch,
            arena,
        }
    }

    /// The frame engine: whole tensors, intermediates in `scratch`.
    fn frame(&mut self) {
        scanline::frame::run(&self.model, self.input, &mut self.output, &mut self.scratch)
            .expect("frame engine");
    }

    /// The stream engine: row by row through the arena, output rows copied out.
    fn stream(&mut self) {
        let in_row = self.model.input_shape().row_len();
        let out_row = self.model.output_shape().row_len();
        let output = &mut self.output;
        let mut pipeline = Pipeline::new(&self.model, &mut self.arena).expect("arena");
        let mut sink = |y: usize, row: &[i8]| {
            output[y * out_row..(y + 1) * out_row].copy_from_slice(row);
            Ok::<(), Infallible>(())
        };
        for row in self.input.chunks_exact(in_row) {
            pipeline.push_row(row, &mut sink).expect("push");
        }
        pipeline.finish().expect("finish");
    }
}

fn engines(c: &mut Criterion, built: &[OwnedModel]) {
    for owned in built {
        let name = owned.workload().name();
        let mut b = Bench::new(owned);
        let mut group = c.benchmark_group(name);
        group.throughput(Throughput::Elements(
            owned.workload().input_shape().len() as u64
        ));
        if owned.workload() == Workload::N3 {
            group.measurement_time(Duration::from_secs(3));
        }
        group.bench_function("frame", |bench| bench.iter(|| black_box(&mut b).frame()));
        group.bench_function("stream", |bench| bench.iter(|| black_box(&mut b).stream()));
        group.finish();
    }
}

/// The walkthrough as the CLI runs it (`scanline edges coins.png --pool 2`):
/// conv, standalone ReLU and pool, every stage kept; the stream engine runs one
/// model per stage.
fn edges(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/coins.png");
    let pixels = picture::load(&path, Channels::Gray).expect("tests/data/coins.png");
    let input = picture::to_int8(&pixels, INPUT_QUANT).expect("a gray photo");
    let kernel = kernel::parse("laplacian8").expect("a preset kernel");
    let walk = Edges::new(kernel, 1, Some(2)).expect("edges");
    let mut group = c.benchmark_group("edges-coins");
    group.throughput(Throughput::Elements(input.shape.len() as u64));
    for (name, engine) in [("frame", Engine::Frame), ("stream", Engine::Stream)] {
        group.bench_function(name, |bench| {
            bench.iter(|| walk.run_int8(engine, black_box(&input)).expect("edges"))
        });
    }
    group.finish();
}

/// Median wall time of `runs` calls of `f`, after one warm-up call.
fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    f();
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort_unstable();
    times[runs / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The medians of our own short timing loop against DESIGN.md's yardsticks.
fn yardstick_table(built: &[OwnedModel]) {
    println!();
    println!("Yardsticks (median of {TABLE_RUNS} runs each; DESIGN.md \"Performance yardsticks\")");
    println!(
        "{:<4} {:>11} {:>9} {:>9} {:>7} {:>8} {:>10} {:>10} {:>14} {:>13}",
        "",
        "MACs",
        "frame ms",
        "stream ms",
        "str/frm",
        "GMAC/s",
        "TFLite ms",
        "x TFLite",
        "Mpx/s (frame)",
        "CMSIS i/MAC"
    );
    let mut w1_pixels_per_s = None;
    for owned in built {
        let w = owned.workload();
        let mut b = Bench::new(owned);
        let frame = median(TABLE_RUNS, || black_box(&mut b).frame());
        let stream = median(TABLE_RUNS, || black_box(&mut b).stream());
        let macs = owned.macs();
        let yard = w.yardstick();
        let pixels = w.input_shape().height * w.input_shape().width;
        let px_per_s = pixels as f64 / frame.as_secs_f64();
        if w == Workload::W1 {
            w1_pixels_per_s = Some(px_per_s);
        }
        let (tflite, vs) = match yard.tflite_host_seconds {
            Some(t) => (
                format!("{:.2}", t * 1e3),
                format!("{:.2}", frame.as_secs_f64() / t),
            ),
            None => ("-".into(), "-".into()),
        };
        let cmsis = yard
            .cmsis_nn_instructions
            .map_or("-".into(), |i| format!("{:.1}", i as f64 / macs as f64));
        println!(
            "{:<4} {:>11} {:>9.3} {:>9.3} {:>7.2} {:>8.2} {:>10} {:>10} {:>14.1} {:>13}",
            w.name(),
            macs,
            ms(frame),
            ms(stream),
            stream.as_secs_f64() / frame.as_secs_f64(),
            macs as f64 / frame.as_secs_f64() / 1e9,
            tflite,
            vs,
            px_per_s / 1e6,
            cmsis,
        );
    }
    println!(
        "x TFLite: our frame time / TFLite's (above 1: slower). CMSIS i/MAC: CMSIS-NN \
         instructions per MAC on a Cortex-M4 (floor {:.1} cycles/MAC).",
        1.0 / CORTEX_M4_MACS_PER_CYCLE as f64
    );
    if let Some(px) = w1_pixels_per_s {
        println!(
            "W1 frame (conv3x3 + requantize + ReLU + pool): {:.0} Mpx/s = {:.3}x OpenCV \
             filter2D's {:.0} Gpx/s (3x3 u8->i16 alone).",
            px / 1e6,
            px / OPENCV_FILTER2D_PIXELS_PER_SECOND,
            OPENCV_FILTER2D_PIXELS_PER_SECOND / 1e9
        );
    }
    if let Some(n3) = built.iter().find(|o| o.workload() == Workload::N3) {
        let model = n3.model();
        println!(
            "N3 memory: stream arena {} bytes; frame engine scratch {} bytes + output {} bytes.",
            model.stream_arena_len(),
            model.frame_scratch_len(),
            model.output_shape().len()
        );
    }
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .configure_from_args();
    let built: Vec<OwnedModel> = Workload::ALL.iter().map(|w| w.build()).collect();
    engines(&mut c, &built);
    edges(&mut c);
    c.final_summary();
    // A full benchmark run: `--bench` (cargo bench) without a filter.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let full = args.iter().any(|a| a == "--bench") && args.iter().all(|a| a.starts_with('-'));
    if full {
        yardstick_table(&built);
    }
}
