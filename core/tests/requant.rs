//! Requant: conv and depthwise layers built from integer `(multiplier, shift)`
//! parameters ([`Requantization::Fixed`]) give byte-identical outputs to the same
//! layers built from f32 weight scales ([`Requantization::WeightScales`]) when the
//! integers are exactly what [`Multiplier::for_conv`] computes from the scales —
//! over random models, with both roundings, through the frame and stream engines.

mod models;

use models::{ModelSpec, frame_output, layers, layers_fixed, macs, model_spec, own, random_input};
use proptest::prelude::*;
use scanline::stream::Pipeline;
use scanline::{Layer, Model, Multiplier, Requantization};

/// Whether `layer` is a conv or depthwise layer, and if so whether it
/// requantizes from fixed parameters.
fn fixed(layer: &Layer<'_>) -> Option<bool> {
    let requant = match layer {
        Layer::Conv2d(c) => c.requant,
        Layer::Depthwise(d) => d.requant,
        _ => return None,
    };
    Some(matches!(requant, Requantization::Fixed { .. }))
}

/// The output of streaming `input` through `model`, row by row.
fn stream_output(model: &Model<'_>, input: &[i8]) -> Vec<i8> {
    let mut arena = vec![0i8; model.stream_arena_len()];
    let mut pipeline = Pipeline::new(model, &mut arena).unwrap();
    models::stream_frame(&mut pipeline, input).0
}

/// Checks one model; `Ok(false)` if the scale-built model is rejected or too
/// large to run quickly.
fn check(spec: &ModelSpec) -> Result<bool, TestCaseError> {
    let (owned, q_in) = own(spec);
    let from_scales = layers(&owned, spec.hwio);
    let from_fixed = layers_fixed(&owned, spec.hwio);
    let Ok(a) = Model::new(spec.shape(), q_in, &from_scales, spec.rounding()) else {
        return Ok(false);
    };
    if macs(&a) > 2_000_000 {
        return Ok(false);
    }
    // The fixed parameters are in range wherever the scales are valid.
    let b = Model::new(spec.shape(), q_in, &from_fixed, spec.rounding())
        .map_err(|e| TestCaseError::fail(format!("fixed parameters rejected: {e}")))?;
    for (i, (la, lb)) in a.layers().iter().zip(b.layers()).enumerate() {
        prop_assert_eq!(fixed(la), fixed(lb).map(|_| false), "layer {}", i);
        prop_assert_eq!(fixed(lb), fixed(la).map(|_| true), "layer {}", i);
        // Channel by channel, the same multiplier, and the one for_conv gives.
        let o = &owned[i];
        let channels = match (la, lb) {
            (Layer::Conv2d(x), Layer::Conv2d(y)) => (0..x.out_channels)
                .map(|c| {
                    (
                        x.channel_requant(c, spec.rounding()),
                        y.channel_requant(c, spec.rounding()),
                    )
                })
                .collect(),
            (Layer::Depthwise(x), Layer::Depthwise(y)) => (0..x.out_channels())
                .map(|c| {
                    (
                        x.channel_requant(c, spec.rounding()),
                        y.channel_requant(c, spec.rounding()),
                    )
                })
                .collect(),
            _ => Vec::new(),
        };
        for (c, (x, y)) in channels.into_iter().enumerate() {
            let scale = o.scales[if o.scales.len() == 1 { 0 } else { c }];
            let want = Multiplier::for_conv(o.input.scale, scale, o.output.scale, spec.rounding());
            prop_assert_eq!(x, y, "layer {} channel {}", i, c);
            prop_assert_eq!(x.mult, want, "layer {} channel {}", i, c);
        }
    }
    let input = random_input(spec.shape(), spec.seed);
    let frame = frame_output(&a, &input);
    prop_assert!(
        frame == frame_output(&b, &input),
        "frame engine: fixed != scales"
    );
    prop_assert!(
        frame == stream_output(&a, &input),
        "stream engine (scales) != frame"
    );
    prop_assert!(
        frame == stream_output(&b, &input),
        "stream engine (fixed) != frame"
    );
    Ok(true)
}

proptest! {
    #![proptest_config(models::config(1_500))]

    /// Every random model twice: double and single rounding (the fixed
    /// parameters computed for each).
    #[test]
    fn fixed_parameters_equal_weight_scales(spec in model_spec()) {
        let mut ran = false;
        for single in [false, true] {
            ran |= check(&ModelSpec { single, ..spec.clone() })?;
        }
        prop_assume!(ran);
    }
}

/// The random models exercise what the property claims: conv and depthwise
/// layers, per-channel and per-tensor parameters, both roundings.
#[test]
fn the_random_models_cover_both_layer_kinds_and_both_granularities() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut conv, mut depthwise, mut per_channel, mut per_tensor) = (0, 0, 0, 0);
    for _ in 0..300 {
        let spec = model_spec().new_tree(&mut runner).unwrap().current();
        let (owned, _) = own(&spec);
        for o in &owned {
            match o.spec.kind {
                0 => conv += 1,
                1 => depthwise += 1,
                _ => continue,
            }
            if o.scales.len() > 1 {
                per_channel += 1;
            } else {
                per_tensor += 1;
            }
            assert_eq!(o.multipliers.len(), o.scales.len());
            assert_eq!(o.shifts.len(), o.scales.len());
        }
    }
    assert!(
        conv > 50 && depthwise > 50,
        "conv {conv}, depthwise {depthwise}"
    );
    assert!(
        per_channel > 50 && per_tensor > 50,
        "{per_channel} / {per_tensor}"
    );
}
