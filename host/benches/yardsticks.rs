//! Yardsticks: scanline's side of `cargo xtask bench`'s host table — each
//! workload (W1–W3 with the CMSIS-NN data of `scanline::workload`, N3, the
//! walkthrough-sized WT) with every kernel set this CPU runs, on one thread and
//! on all, frame and stream; and the `edges` walkthrough on 320x240 and
//! 1920x1080 gray and colour photos. Prints one JSON object on stdout (xtask
//! merges it with TensorFlow Lite's and OpenCV's figures measured in the same
//! run). Every run is checked against the portable frame engine's bytes first:
//! a wrong result is a failure, never a figure.
//!
//! `cargo bench -p scanline-host --bench yardsticks [-- --quick]` (`--quick`: a
//! shorter timing budget per measurement).

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

use scanline::exec::Kernels;
use scanline::workload::{Buffers, Workload as Cmsis};
use scanline::{Model, Rounding};
use scanline_host::Tensor;
use scanline_host::edges::{Edges, INPUT_QUANT};
use scanline_host::engine::{
    Engine, Options, all_cores, available_kernels, is_native, run_frame, run_frame_threads,
    run_stream,
};
use scanline_host::kernel;
use scanline_host::picture::{self, Channels};
use scanline_host::workload::Workload;
use scanline_testkit::fixture;

/// Median wall time of `f` in milliseconds: one warm-up, then runs until
/// `budget` is spent (at least 3, at most 500).
fn median_ms(budget: Duration, mut f: impl FnMut()) -> f64 {
    f();
    let start = Instant::now();
    let mut times = Vec::new();
    while times.len() < 3 || (start.elapsed() < budget && times.len() < 500) {
        let t = Instant::now();
        f();
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// One timed configuration, as JSON.
fn entry(kernels: Kernels, threads: usize, engine: &str, ms: f64) -> String {
    format!(
        "{{\"kernels\": \"{}\", \"threads\": {threads}, \"engine\": \"{engine}\", \"ms\": {ms:.5}}}",
        kernels.isa().name()
    )
}

/// Every configuration of one model: each kernel set, frame on 1 and all
/// threads, stream on 1; checked against the portable frame output.
fn model_entries(model: &Model<'_>, input: &Tensor<i8>, budget: Duration) -> Vec<String> {
    let want = run_frame(model, input).expect("portable frame engine");
    let cores = all_cores();
    let mut out = Vec::new();
    for k in timed_kernels() {
        let m = model.clone().with_kernels(k);
        let mut threads = vec![1];
        if cores > 1 {
            threads.push(cores);
        }
        for t in threads {
            let got = run_frame_threads(&m, input, t).expect("frame engine");
            assert!(got == want, "{} x{t}: frame output differs", k.isa().name());
            let ms = median_ms(budget, || {
                black_box(run_frame_threads(&m, black_box(input), t).expect("frame engine"));
            });
            out.push(entry(k, t, "frame", ms));
        }
        let got = run_stream(&m, input).expect("stream engine");
        assert!(got == want, "{}: stream output differs", k.isa().name());
        let ms = median_ms(budget, || {
            black_box(run_stream(&m, black_box(input)).expect("stream engine"));
        });
        out.push(entry(k, 1, "stream", ms));
    }
    out
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let budget = Duration::from_millis(if quick { 300 } else { 1500 });
    let mut json = String::from("{\"workloads\": [");
    let mut first = true;
    let mut push = |json: &mut String, name: &str, macs: u64, entries: Vec<String>| {
        if !first {
            json.push_str(", ");
        }
        first = false;
        let _ = write!(
            json,
            "{{\"name\": \"{name}\", \"macs\": {macs}, \"results\": [{}]}}",
            entries.join(", ")
        );
    };
    // W1–W3: the CMSIS-NN data, checked against its checksums.
    for w in Cmsis::ALL {
        let mut b = Buffers::new(w);
        w.generate(&mut b.as_mut());
        let data = b.as_ref();
        let layers = w.layers(&data).expect("workload layers");
        let model = Model::new(w.input_shape(), w.quant(), &layers, Rounding::Double)
            .expect("workload model");
        let input = Tensor::new(w.input_shape(), data.input.to_vec()).expect("input");
        let out = run_frame(&model, &input).expect("frame engine");
        let digest = scanline_host::output::digest(&out.data);
        assert_eq!(
            digest,
            w.pool_digest(),
            "{}: not CMSIS-NN's output",
            w.name()
        );
        eprintln!("timing {} ...", w.name());
        push(
            &mut json,
            w.name(),
            w.macs() as u64,
            model_entries(&model, &input, budget),
        );
    }
    for w in [Workload::N3, Workload::Wt] {
        eprintln!("building {} ...", w.name());
        let owned = w.build();
        let model = owned.model();
        eprintln!("timing {} ...", w.name());
        push(
            &mut json,
            w.name(),
            owned.macs(),
            model_entries(&model, owned.input(), budget),
        );
    }
    json.push_str("], \"edges\": [");
    // The walkthrough on a photo resized to each size, gray and colour.
    let photo = picture::load(fixture::photo("chelsea.png"), Channels::Keep).expect("photo");
    let edges_of = |c| Edges::new(kernel::parse("laplacian8").expect("preset"), c, Some(2));
    let mut rows = Vec::new();
    for (w, h) in [(320, 240), (1920, 1080)] {
        let resized = picture::resize(&photo, h, w).expect("resize");
        for (name, channels) in [("gray", 1), ("colour", 3)] {
            let pixels =
                picture::to_channels(&resized, channels, scanline::pixel::GrayRule::TensorFlow)
                    .expect("channels");
            let input = picture::to_int8(&pixels, INPUT_QUANT).expect("pixels");
            let edges = edges_of(channels).expect("edge model");
            let want = edges
                .run_int8_with(Engine::Frame, &input, Options::single(Kernels::PORTABLE))
                .expect("edges");
            for k in timed_kernels() {
                for t in [1, all_cores()] {
                    let opts = Options {
                        kernels: k,
                        threads: t,
                    };
                    let got = edges
                        .run_int8_with(Engine::Frame, &input, opts)
                        .expect("edges");
                    assert!(
                        got == want,
                        "edges {name} {w}x{h} {} x{t} differs",
                        k.isa().name()
                    );
                    let ms = median_ms(budget, || {
                        black_box(
                            edges
                                .run_int8_with(Engine::Frame, black_box(&input), opts)
                                .expect("edges"),
                        );
                    });
                    rows.push(format!(
                        "{{\"image\": \"{name} {w}x{h}\", \"pixels\": {}, \"kernels\": \"{}\", \"threads\": {t}, \"ms\": {ms:.5}}}",
                        w * h,
                        k.isa().name()
                    ));
                }
            }
        }
    }
    json.push_str(&rows.join(", "));
    let _ = write!(
        json,
        "], \"cores\": {}, \"kernel_sets\": [{}]}}",
        all_cores(),
        timed_kernels()
            .iter()
            .map(|k| format!("\"{}\"", k.isa().name()))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("{json}");
}

/// The kernel sets worth timing here: the native ones (the Cortex-M4 set's
/// figures come from QEMU, `cargo xtask bench --m4`).
fn timed_kernels() -> Vec<scanline::exec::Kernels> {
    available_kernels()
        .into_iter()
        .filter(|&k| is_native(k))
        .collect()
}
