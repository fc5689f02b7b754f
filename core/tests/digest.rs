//! Digest: [`Fnv1a32`] as the stream engine's sink gives [`fnv1a32`] of the frame
//! engine's output bytes, on random models, frame after frame.

mod models;

use models::{frame_output, layers, macs, model_spec, own, random_input};
use proptest::prelude::*;
use scanline::Model;
use scanline::digest::{Fnv1a32, fnv1a32};
use scanline::stream::Pipeline;

/// FNV-1a 32 of int8 values as their two's-complement bytes.
fn digest_of(values: &[i8]) -> u32 {
    let bytes: Vec<u8> = values.iter().map(|&v| v as u8).collect();
    fnv1a32(&bytes)
}

proptest! {
    #![proptest_config(models::config(1_000))]

    #[test]
    fn streamed_digest_equals_the_digest_of_the_frame_output(spec in model_spec()) {
        let (owned, q_in) = own(&spec);
        let layers = layers(&owned, spec.hwio);
        let model = Model::new(spec.shape(), q_in, &layers, spec.rounding());
        prop_assume!(model.is_ok());
        let model = model.unwrap();
        prop_assume!(macs(&model) <= 2_000_000);
        let mut arena = vec![0i8; model.stream_arena_len()];
        let mut pipeline = Pipeline::new(&model, &mut arena).unwrap();
        let mut digest = Fnv1a32::new();
        let n = spec.shape().row_len();
        // Two frames through one pipeline and one digest, reset in between.
        for seed in [spec.seed, spec.seed ^ 0xf00d] {
            let input = random_input(spec.shape(), seed);
            let frame = frame_output(&model, &input);
            for row in input.chunks(n) {
                pipeline.push_row(row, &mut digest).unwrap();
            }
            pipeline.finish().unwrap();
            prop_assert_eq!(digest.len(), frame.len());
            prop_assert_eq!(digest.value(), digest_of(&frame));
            pipeline.reset();
            digest.reset();
        }
    }
}

/// The digest depends on every byte and on their order: one changed output value
/// changes it, and so does a swap of two rows.
#[test]
fn one_changed_value_or_swapped_rows_change_the_digest() {
    let values: Vec<i8> = (0..48).map(|i| (i * 37 % 256) as u8 as i8).collect();
    let base = digest_of(&values);
    for i in 0..values.len() {
        let mut changed = values.clone();
        changed[i] = changed[i].wrapping_add(1);
        assert_ne!(digest_of(&changed), base, "value {i}");
    }
    let mut swapped = values.clone();
    swapped[..24].rotate_left(12);
    assert_ne!(digest_of(&swapped), base);
    // Row by row through the sink equals the whole.
    let mut d = Fnv1a32::new();
    for row in values.chunks(12) {
        d.update(row);
    }
    assert_eq!((d.value(), d.len()), (base, 48));
}
