//! Malformed and unsupported TFLite models: truncated files, corrupted bytes, a
//! wrong identifier and the `bad/` fixtures all give typed errors, never a panic,
//! and whatever still imports also runs.

use proptest::prelude::*;
use scanline::{Error, tflite};
use scanline_testkit::fixture;

/// File `file` of fixture case `case`.
fn read(case: &str, file: &str) -> Vec<u8> {
    fixture::read(fixture::tflite(case, file))
}

/// The model of fixture case `case`.
fn model_file(case: &str) -> Vec<u8> {
    read(case, "model.tflite")
}

/// A model of `bad/`.
fn bad(file: &str) -> Vec<u8> {
    fixture::read(fixture::tflite_bad(file))
}

/// Small fixtures covering every operator, float I/O and per-channel weights.
const MODELS: [&str; 5] = [
    "conv3x3_c1_same_relu_pool2",
    "float_relu_first_dw3x3",
    "deep_s2_dw_pool_conv",
    "relu6_first_pool2",
    "float_pool3_first_conv5x5_relu6",
];

/// Runs an imported model on a zero input, if its tensors are of a sane size: an
/// import that succeeds must give a model that runs without panicking.
fn run_if_small(import: &tflite::Import<'_>) {
    let m = import.model();
    let (i, o, s) = (
        m.input_shape().len(),
        m.output_shape().len(),
        m.frame_scratch_len(),
    );
    if i.max(o).max(s) > 1 << 20 {
        return;
    }
    let input = vec![0i8; i];
    let mut output = vec![0i8; o];
    let mut scratch = vec![0i8; s];
    scanline::frame::run(m, &input, &mut output, &mut scratch).unwrap();
}

#[test]
fn every_truncation_is_a_malformed_error_or_the_same_model() {
    for name in MODELS {
        let bytes = model_file(name);
        let full = tflite::parse(&bytes).unwrap();
        let mut errors = 0;
        for n in 0..bytes.len() {
            match tflite::parse(&bytes[..n]) {
                Err(Error::Malformed { offset, .. }) => {
                    assert!(offset <= bytes.len(), "{name}[..{n}]: offset {offset}");
                    errors += 1;
                }
                Err(e) => panic!("{name}[..{n}]: expected Malformed, got {e:?}"),
                // Only trailing bytes nothing points into may go.
                Ok(import) => assert_eq!(import, full, "{name}[..{n}]"),
            }
        }
        // All but (at most) some trailing padding must fail.
        assert!(
            errors + 16 >= bytes.len(),
            "{name}: only {errors} truncations failed"
        );
    }
}

#[test]
fn wrong_identifier_and_tiny_files() {
    let mut bytes = model_file(MODELS[0]);
    bytes[4..8].copy_from_slice(b"TFL2");
    let e = tflite::parse(&bytes).unwrap_err();
    assert_eq!(
        e,
        Error::Malformed {
            offset: 4,
            what: "file identifier is not \"TFL3\""
        }
    );
    assert_eq!(
        e.to_string(),
        "malformed model file at byte 4: file identifier is not \"TFL3\""
    );
    // Shorter than root offset and identifier: the identifier is what is missing.
    for n in 0..8 {
        assert_eq!(
            tflite::parse(&vec![0u8; n]),
            Err(Error::Malformed {
                offset: 4,
                what: "file identifier (file too short)"
            }),
            "{n} bytes"
        );
    }
    // Root offset past the end.
    let mut bytes = model_file(MODELS[0]);
    bytes[0..4].copy_from_slice(&u32::MAX.to_le_bytes());
    let past_the_end = Error::Malformed {
        offset: 0,
        what: "root table offset",
    };
    assert_eq!(tflite::parse(&bytes), Err(past_the_end));
    assert_eq!(
        tflite::for_each_operator(&bytes, |_, _| {}),
        Err(past_the_end)
    );
    assert_eq!(tflite::tensor_name(&bytes, 0), None);
}

#[test]
fn unsupported_operator_is_named_with_its_index_and_all_are_listed() {
    let bytes = bad("unsupported_leaky.tflite");
    // The first operator scanline does not run, in execution order, is the
    // LEAKY_RELU; the listing shows the flatten and dense layer after it.
    let e = tflite::parse(&bytes).unwrap_err();
    assert_eq!(
        e,
        Error::UnsupportedOp {
            operator: 1,
            op: "LEAKY_RELU"
        }
    );
    assert_eq!(e.to_string(), "operator 1: LEAKY_RELU is not supported");
    let mut ops = Vec::new();
    tflite::for_each_operator(&bytes, |i, name| ops.push((i, name))).unwrap();
    assert_eq!(
        ops,
        [
            (0, "CONV_2D"),
            (1, "LEAKY_RELU"),
            (2, "RESHAPE"),
            (3, "FULLY_CONNECTED")
        ]
    );
}

#[test]
fn models_once_refused_for_their_pooling_or_head_now_import() {
    // Both were generated as "unsupported" before average pooling and the
    // classifier head were run; they are kept byte-identical as import tests.
    let import = bad("unsupported_op.tflite");
    let import = tflite::parse(&import).unwrap();
    assert_eq!(import.model().layers()[1].name(), "avgpool");
    let bytes = bad("dense.tflite");
    let import = tflite::parse(&bytes).unwrap();
    let names: Vec<_> = import.model().layers().iter().map(|l| l.name()).collect();
    assert_eq!(names, ["conv", "dense"]);
    let layers: Vec<_> = import.operators().iter().map(|o| o.layer).collect();
    assert_eq!(layers, [Some(0), None, Some(1)]); // the RESHAPE is no layer
    assert_eq!(import.model().output_shape(), scanline::Shape::new(1, 1, 5));
}

#[test]
fn float_model_names_the_float_tensor() {
    let bytes = bad("float_model.tflite");
    // Tensor 0 is the graph's float32 input, which the first CONV_2D reads.
    let e = tflite::parse(&bytes).unwrap_err();
    assert_eq!(
        e,
        Error::UnsupportedTensor {
            tensor: 0,
            ty: "FLOAT32",
            reason: "activations must be int8"
        }
    );
    assert_eq!(
        tflite::tensor_name(&bytes, 0),
        Some("serving_default_input:0")
    );
    assert_eq!(
        e.to_string(),
        "tensor 0 (FLOAT32): activations must be int8"
    );
}

fn check_corrupted(bytes: &[u8]) {
    if let Ok(import) = tflite::parse(bytes) {
        run_if_small(&import);
    }
    let _ = tflite::for_each_operator(bytes, |_, _| {});
    let _ = tflite::tensor_name(bytes, 0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: scanline_testkit::cases::count(2000), failure_persistence: None, ..ProptestConfig::default() })]

    /// Random bytes overwritten anywhere: an error or a model that runs, never a panic.
    #[test]
    fn random_byte_corruption_never_panics(
        model in 0..MODELS.len(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut bytes = model_file(MODELS[model]);
        for (at, v) in edits {
            let i = at.index(bytes.len());
            bytes[i] = v;
        }
        check_corrupted(&bytes);
    }

    /// Whole 32-bit words overwritten, aligned as offsets are: large, negative and
    /// near-miss offsets, vector lengths and soffsets.
    #[test]
    fn random_word_corruption_never_panics(
        model in 0..MODELS.len(),
        edits in proptest::collection::vec(
            (any::<prop::sample::Index>(), prop_oneof![any::<u32>(), 0u32..64, (0u32..64).prop_map(|x| x.wrapping_neg())]),
            1..4,
        ),
    ) {
        let mut bytes = model_file(MODELS[model]);
        for (at, v) in edits {
            let i = at.index(bytes.len() / 4) * 4;
            bytes[i..i + 4].copy_from_slice(&v.to_le_bytes());
        }
        check_corrupted(&bytes);
    }
}

/// A minimal reader for editing fixture files in place: absolute positions of
/// tables and fields, unchecked (the fixtures are valid).
struct Fb<'a>(&'a [u8]);

impl Fb<'_> {
    fn u16(&self, p: usize) -> usize {
        u16::from_le_bytes([self.0[p], self.0[p + 1]]) as usize
    }
    fn u32(&self, p: usize) -> usize {
        u32::from_le_bytes(self.0[p..p + 4].try_into().unwrap()) as usize
    }
    /// Absolute position of field `id` of the table at `t`, if present.
    fn field(&self, t: usize, id: usize) -> Option<usize> {
        let soff = i32::from_le_bytes(self.0[t..t + 4].try_into().unwrap());
        let vt = (t as i64 - soff as i64) as usize;
        let slot = 4 + 2 * id;
        if slot + 2 > self.u16(vt) {
            return None;
        }
        let off = self.u16(vt + slot);
        (off != 0).then_some(t + off)
    }
    /// Target of the offset stored in field `id` of table `t`.
    fn deref(&self, t: usize, id: usize) -> usize {
        let p = self.field(t, id).unwrap();
        p + self.u32(p)
    }
    /// Table `i` of the vector of tables at `v`.
    fn elem(&self, v: usize, i: usize) -> usize {
        let e = v + 4 + 4 * i;
        e + self.u32(e)
    }
    fn root(&self) -> usize {
        self.u32(0)
    }
    fn subgraph(&self) -> usize {
        self.elem(self.deref(self.root(), 2), 0)
    }
    fn operator(&self, i: usize) -> usize {
        self.elem(self.deref(self.subgraph(), 3), i)
    }
    fn tensor(&self, i: usize) -> usize {
        self.elem(self.deref(self.subgraph(), 0), i)
    }
    /// Position of element `i` of the int vector in field `id` of table `t`.
    fn int_elem(&self, t: usize, id: usize, i: usize) -> usize {
        self.deref(t, id) + 4 + 4 * i
    }
    fn options(&self, op: usize) -> usize {
        self.deref(op, 4)
    }
}

fn put_u32(bytes: &mut [u8], p: usize, v: u32) {
    bytes[p..p + 4].copy_from_slice(&v.to_le_bytes());
}

/// Runs the fixture's input through `bytes` and returns the output.
fn run_fixture(bytes: &[u8], case: &str) -> Vec<i8> {
    let import = tflite::parse(bytes).unwrap();
    let m = import.model();
    let npy = read(case, "input.npy");
    // int8 .npy files here have a 128-byte header.
    let input: Vec<i8> = npy[128..].iter().map(|&b| b as i8).collect();
    assert_eq!(input.len(), m.input_shape().len());
    let mut out = vec![0i8; m.output_shape().len()];
    let mut scratch = vec![0i8; m.frame_scratch_len()];
    scanline::frame::run(m, &input, &mut out, &mut scratch).unwrap();
    out
}

/// Moves every buffer's data past the end of the flatbuffer (Buffer.offset/size,
/// as large models store them) and overwrites the old data with garbage. Returns
/// the new file and the positions of the new Buffer tables.
fn externalize_buffers(orig: &[u8]) -> (Vec<u8>, Vec<usize>) {
    let fb = Fb(orig);
    let mut out = orig.to_vec();
    let buffers = fb.deref(fb.root(), 4);
    let n = fb.u32(buffers);
    let mut moved = Vec::new();
    for i in 0..n {
        let b = fb.elem(buffers, i);
        let Some(p) = fb.field(b, 0) else { continue };
        let v = p + fb.u32(p);
        let len = fb.u32(v);
        if len == 0 {
            continue;
        }
        let data = orig[v + 4..v + 4 + len].to_vec();
        out[v + 4..v + 4 + len].fill(0x5a);
        while !out.len().is_multiple_of(16) {
            out.push(0);
        }
        let at = out.len();
        out.extend_from_slice(&data);
        while !out.len().is_multiple_of(4) {
            out.push(0);
        }
        // vtable: 3 fields (data absent, offset at 4, size at 12), table 20 bytes.
        let vt = out.len();
        for h in [10u16, 20, 0, 4, 12, 0] {
            out.extend_from_slice(&h.to_le_bytes());
        }
        let t = out.len();
        out.extend_from_slice(&((t - vt) as i32).to_le_bytes());
        out.extend_from_slice(&(at as u64).to_le_bytes());
        out.extend_from_slice(&(len as u64).to_le_bytes());
        let e = buffers + 4 + 4 * i;
        put_u32(&mut out, e, (t - e) as u32);
        moved.push(t);
    }
    assert!(!moved.is_empty());
    (out, moved)
}

#[test]
fn buffers_stored_past_the_flatbuffer_are_read() {
    for case in ["deep_s2_dw_pool_conv", "conv3x3_c1_same_relu_pool2"] {
        let orig = model_file(case);
        let (ext, tables) = externalize_buffers(&orig);
        assert_eq!(tflite::parse(&ext).unwrap(), tflite::parse(&orig).unwrap());
        assert_eq!(run_fixture(&ext, case), run_fixture(&orig, case));
        // A size or offset reaching past the end of the file is malformed.
        for field in [4, 12] {
            let mut bad = ext.clone();
            for &t in &tables {
                bad[t + field..t + field + 8].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
            }
            assert!(matches!(tflite::parse(&bad), Err(Error::Malformed { .. })));
        }
    }
}

#[test]
fn a_branch_in_the_graph_is_an_error_naming_the_operator() {
    let mut bytes = model_file("deep_s2_dw_pool_conv");
    let fb = Fb(&bytes);
    // Operator 2 reads operator 0's input instead of operator 1's output.
    let p = fb.int_elem(fb.operator(2), 1, 0);
    let graph_in = fb.u32(fb.int_elem(fb.subgraph(), 1, 0));
    put_u32(&mut bytes, p, graph_in as u32);
    assert!(matches!(
        tflite::parse(&bytes),
        Err(Error::Graph {
            operator: Some(2),
            ..
        })
    ));
    // A tensor index past the tensor list is malformed.
    let mut bytes = model_file("deep_s2_dw_pool_conv");
    let fb = Fb(&bytes);
    let p = fb.int_elem(fb.operator(0), 2, 0);
    put_u32(&mut bytes, p, 9999);
    assert!(matches!(
        tflite::parse(&bytes),
        Err(Error::Malformed { .. })
    ));
}

#[test]
fn options_are_read_from_the_right_fields() {
    let case = "dw3x3_m2_c3_s2_valid_relu6";
    let orig = model_file(case);
    let fb = Fb(&orig);
    let op = fb.operator(0);
    let opts = fb.options(op);
    // DepthwiseConv2DOptions: padding 0, stride_w 1, stride_h 2, depth_multiplier 3,
    // fused_activation_function 4.
    assert_eq!(orig[fb.field(opts, 0).unwrap()], 1, "VALID");
    assert_eq!(fb.u32(fb.field(opts, 1).unwrap()), 2, "stride_w");
    assert_eq!(orig[fb.field(opts, 4).unwrap()], 3, "RELU6");

    // A wrong depth_multiplier in the file is ignored: the channel counts decide.
    let p = fb.field(opts, 3).expect("depth_multiplier stored");
    assert_eq!(fb.u32(p), 2);
    for wrong in [0, 1, 5, u32::MAX] {
        let mut bytes = orig.clone();
        put_u32(&mut bytes, p, wrong);
        assert_eq!(
            tflite::parse(&bytes).unwrap(),
            tflite::parse(&orig).unwrap()
        );
    }
    // An unknown padding value is malformed.
    let mut bytes = orig.clone();
    bytes[fb.field(opts, 0).unwrap()] = 7;
    assert!(matches!(
        tflite::parse(&bytes),
        Err(Error::Malformed { .. })
    ));
    // A fused TANH is named.
    let mut bytes = orig.clone();
    bytes[fb.field(opts, 4).unwrap()] = 4;
    assert_eq!(
        tflite::parse(&bytes),
        Err(Error::UnsupportedOp {
            operator: 0,
            op: "TANH (fused activation)"
        })
    );
    // Options of another type (Pool2DOptions = 5) for a depthwise convolution.
    let mut bytes = orig.clone();
    bytes[fb.field(op, 3).unwrap()] = 5;
    assert!(matches!(
        tflite::parse(&bytes),
        Err(Error::Graph {
            operator: Some(0),
            ..
        })
    ));
    // A different stride changes the output shape, which no longer matches the
    // output tensor.
    let mut bytes = orig.clone();
    put_u32(&mut bytes, fb.field(opts, 1).unwrap(), 1);
    assert!(matches!(
        tflite::parse(&bytes),
        Err(Error::Graph {
            operator: Some(0),
            ..
        })
    ));
}

#[test]
fn tensor_types_and_quantization_are_checked() {
    let case = "dw3x3_m2_c3_s2_valid_relu6";
    let orig = model_file(case);
    let fb = Fb(&orig);
    let op = fb.operator(0);
    let filter = fb.u32(fb.int_elem(op, 1, 1));
    let output = fb.u32(fb.int_elem(op, 2, 0));

    // Output tensor as INT16.
    let mut bytes = orig.clone();
    bytes[fb.field(fb.tensor(output), 1).unwrap()] = 7;
    assert_eq!(
        tflite::parse(&bytes),
        Err(Error::UnsupportedTensor {
            tensor: output,
            ty: "INT16",
            reason: "activations must be int8"
        })
    );
    // Weights as UINT8.
    let mut bytes = orig.clone();
    bytes[fb.field(fb.tensor(filter), 1).unwrap()] = 3;
    assert!(matches!(
        tflite::parse(&bytes),
        Err(Error::UnsupportedTensor { tensor, ty: "UINT8", .. }) if tensor == filter
    ));
    // Per-channel weight scales along dimension 0 instead of 3.
    let q = fb.deref(fb.tensor(filter), 4);
    let p = fb.field(q, 6).expect("quantized_dimension stored");
    assert_eq!(fb.u32(p), 3);
    let mut bytes = orig.clone();
    put_u32(&mut bytes, p, 0);
    assert_eq!(
        tflite::parse(&bytes),
        Err(Error::UnsupportedTensor {
            tensor: filter,
            ty: "INT8",
            reason: "per-channel quantization is along the wrong dimension"
        })
    );
    // A non-zero weight zero point.
    let mut bytes = orig.clone();
    let zp = fb.int_elem(q, 3, 0);
    bytes[zp] = 1;
    assert_eq!(
        tflite::parse(&bytes),
        Err(Error::UnsupportedTensor {
            tensor: filter,
            ty: "INT8",
            reason: "weights must be symmetric (zero point 0)"
        })
    );
}
