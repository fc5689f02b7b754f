//! Engines: the oracle every model target ends with — the frame engine and the
//! streaming pipeline, with every kernel set this CPU runs, must give the same
//! bytes for the same model and input, or all refuse.

use scanline::Model;
use scanline_host::Tensor;
use scanline_host::engine::{available_kernels, run_stream};

/// Largest tensor, scratch or arena (in bytes) a fuzzed model may need before
/// the oracle skips running it: the engines take any size, but a fuzzer
/// execution should stay in milliseconds.
pub const MAX_BYTES: usize = 1 << 18;

/// Runs `model` on `input` with the frame engine and the streaming pipeline,
/// with every available kernel set, and returns the output they agree on
/// (`None` when every one refused, or the model is too big to run quickly).
///
/// # Panics
///
/// When two runs disagree: different bytes, or one refusing what another ran.
pub fn agree(model: &Model<'_>, input: &[i8]) -> Option<Vec<i8>> {
    let sizes = [
        model.input_shape().len(),
        model.output_shape().len(),
        model.frame_scratch_len(),
        model.stream_arena_len(),
    ];
    if sizes.iter().any(|&n| n > MAX_BYTES) {
        return None;
    }
    let tensor = Tensor::new(model.input_shape(), input.to_vec()).ok()?;
    let mut runs: Vec<(String, Result<Vec<i8>, String>)> = Vec::new();
    for kernels in available_kernels() {
        let m = model.clone().with_kernels(kernels);
        let isa = kernels.isa().name();
        runs.push((format!("frame/{isa}"), frame(&m, input)));
        let stream = run_stream(&m, &tensor)
            .map(|t| t.data)
            .map_err(|e| e.to_string());
        runs.push((format!("stream/{isa}"), stream));
    }
    let (first_name, first) = &runs[0];
    for (name, run) in &runs[1..] {
        match (first, run) {
            (Ok(a), Ok(b)) if a == b => {}
            (Err(_), Err(_)) => {}
            _ => panic!(
                "engines disagree on {model:?} with input {input:?}:\n{first_name}: {first:?}\n{name}: {run:?}"
            ),
        }
    }
    first.as_ref().ok().cloned()
}

/// The frame engine alone, buffers sized by the model.
fn frame(model: &Model<'_>, input: &[i8]) -> Result<Vec<i8>, String> {
    let mut output = vec![0i8; model.output_shape().len()];
    let mut scratch = vec![0i8; model.frame_scratch_len()];
    scanline::frame::run(model, input, &mut output, &mut scratch).map_err(|e| e.to_string())?;
    Ok(output)
}
