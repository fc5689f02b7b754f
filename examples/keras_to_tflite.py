#!/usr/bin/env python3
"""From Keras to a full-int8 .tflite that scanline runs: the walkthrough's model.

The model is the one the convolution walkthrough ends with, on an RGB photo:

    Conv2D(64, 3) -> ReLU -> MaxPool2D(2)

Its first 13 filters are scanline's preset kernels (`scanline kernels`), each
stacked over the three colour channels as `scanline edges --color` does, so that
their feature maps can be recognised; the other 51 are random, uniform in
[-1, 1] (seeded), taps of the same size as the presets'. Nothing is trained: the
point is the path from a Keras model to a file the board runs.

Usage (from the repository root; needs TensorFlow 2.x, NumPy and Pillow —
`pip install tensorflow-cpu pillow`):

    python3 examples/keras_to_tflite.py [--photo tests/data/chelsea.png] [--out examples/walkthrough]
                                        [--height 64 --width 96] [--filters 64]

--height/--width set the input size (the board's camera gives 240x320) and
--filters the number of Conv2D filters (at least 13: the presets come first).
It writes into --out:

  model.tflite   the model converted with full-integer quantization: int8
                 input and output, per-channel int8 weights, int32 bias
                 (CONV_2D with the ReLU fused, then MAX_POOL_2D)
  input.png      the photo resized to the model's input size (96x64, W x H)
  input.npy      that picture as the model's int8 input [1, 64, 96, 3]
  expected.npy   what TensorFlow Lite's reference kernels (BUILTIN_REF, the
                 arithmetic of TFLite Micro and CMSIS-NN) output for it

and prints the operators and the commands to try next (docs/tutorial.md walks
through them). No test uses this script; what is committed under
examples/walkthrough/ is its output with TensorFlow 2.21, and
examples/board/model.tflite that of `--height 240 --width 320 --filters 32
--out examples/board`, the model for the board (it fits the board binary's
28 KiB arena; the 64-filter model at 320 columns would need 52,800 bytes).
"""

import argparse
import os
import warnings
from pathlib import Path

# Before TensorFlow is imported: no oneDNN float reordering, quiet logs.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402
from PIL import Image  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SEED = 12

# scanline's presets (scanline::preset::Preset::ALL order): name, taps, divisor.
PRESETS = [
    ("laplacian8", [-1, -1, -1, -1, 8, -1, -1, -1, -1], 1),
    ("laplacian4", [0, 1, 0, 1, -4, 1, 0, 1, 0], 1),
    ("sobel-x", [-1, 0, 1, -2, 0, 2, -1, 0, 1], 1),
    ("sobel-y", [-1, -2, -1, 0, 0, 0, 1, 2, 1], 1),
    ("scharr-x", [-3, 0, 3, -10, 0, 10, -3, 0, 3], 1),
    ("scharr-y", [-3, -10, -3, 0, 0, 0, 3, 10, 3], 1),
    ("prewitt-x", [-1, 0, 1, -1, 0, 1, -1, 0, 1], 1),
    ("prewitt-y", [-1, -1, -1, 0, 0, 0, 1, 1, 1], 1),
    ("sharpen", [0, -1, 0, -1, 5, -1, 0, -1, 0], 1),
    ("box-blur", [1] * 9, 9),
    ("gaussian", [1, 2, 1, 2, 4, 2, 1, 2, 1], 16),
    ("emboss", [-2, -1, 0, -1, 1, 1, 0, 1, 2], 1),
    ("outline", [-1, -1, -1, -1, 8, -1, -1, -1, -1], 1),
]


def build_model(height, width, filters):
    """Conv2D(filters, 3) -> ReLU -> MaxPool2D(2) on a height x width RGB
    input, as a Keras tutorial writes it (the Conv2D's default padding is
    'valid')."""
    keras.utils.set_random_seed(SEED)
    model = keras.Sequential(
        [
            # A static batch of 1: the converter then writes plain CONV_2D ops.
            keras.Input(shape=(height, width, 3), batch_size=1, name="photo"),
            keras.layers.Conv2D(
                filters,
                3,
                kernel_initializer=keras.initializers.RandomUniform(-1.0, 1.0, seed=SEED),
                name="conv2d",
            ),
            keras.layers.ReLU(name="relu"),
            keras.layers.MaxPool2D(2, name="max_pooling2d"),
        ],
        name="walkthrough",
    )
    conv = model.get_layer("conv2d")
    kernel, bias = conv.get_weights()  # kernel: [3, 3, 3 in, filters out] (HWIO)
    for i, (_, taps, divisor) in enumerate(PRESETS):
        k = np.array(taps, dtype=np.float32).reshape(3, 3) / divisor
        kernel[:, :, :, i] = k[:, :, None]  # the same kernel on R, G and B
    conv.set_weights([kernel, bias])
    return model


def load_photo(path, height, width):
    """The photo resized to width x height (bilinear), and as reals in [0, 1]:
    p * f32(1/255), what tf.image.convert_image_dtype computes and scanline's
    pixel rule uses."""
    img = Image.open(path).convert("RGB").resize((width, height), Image.BILINEAR)
    pixels = np.asarray(img, dtype=np.uint8)
    real = tf.image.convert_image_dtype(pixels, tf.float32).numpy()
    return img, real[None]


def convert(model, photo):
    """Full-integer quantization: int8 everywhere, int8 input and output."""

    def representative():
        # Zeros and ones pin the input range to exactly [0, 1]: input scale
        # 1/255, zero point -128, so the int8 input is exactly pixel - 128.
        rng = np.random.default_rng(SEED)
        yield [np.zeros_like(photo)]
        yield [np.ones_like(photo)]
        yield [photo]
        yield [photo[:, :, ::-1]]
        for _ in range(8):
            yield [rng.uniform(0, 1, size=photo.shape).astype(np.float32)]

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.representative_dataset = representative
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()


def reference_output(model_bytes, x):
    """The output of TFLite's reference kernels, which scanline matches bit for
    bit (the default interpreter hands conv/pool to XNNPACK, which does not)."""
    it = tf.lite.Interpreter(
        model_content=model_bytes,
        experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF,
    )
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    it.set_tensor(inp["index"], x)
    it.invoke()
    ops = [o["op_name"] for o in it._get_ops_details()]
    return it.get_tensor(out["index"]).copy(), ops, inp


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photo", type=Path, default=REPO / "tests/data/chelsea.png")
    ap.add_argument("--out", type=Path, default=REPO / "examples/walkthrough")
    ap.add_argument("--height", type=int, default=64)
    ap.add_argument("--width", type=int, default=96)  # 3:2, like chelsea.png (451x300)
    ap.add_argument("--filters", type=int, default=64)
    args = ap.parse_args()
    if args.filters < len(PRESETS):
        ap.error(f"--filters must be at least {len(PRESETS)}: the presets come first")
    args.out.mkdir(parents=True, exist_ok=True)

    img, photo = load_photo(args.photo, args.height, args.width)
    model = build_model(args.height, args.width, args.filters)
    model.summary()
    tflite = convert(model, photo)
    (args.out / "model.tflite").write_bytes(tflite)
    img.save(args.out / "input.png")

    # The int8 input: the model's input quantization applied to the reals.
    x = np.zeros(photo.shape, np.int8)
    scale, zero_point = tf.lite.Interpreter(model_content=tflite).get_input_details()[0]["quantization"]
    q = np.floor(photo / np.float32(scale) + np.float32(0.5)) + zero_point
    x[...] = np.clip(q, -128, 127)
    expected, ops, inp = reference_output(tflite, x)
    np.save(args.out / "input.npy", x)
    np.save(args.out / "expected.npy", expected)

    print(f"\nwrote {args.out}/model.tflite ({len(tflite)} bytes): {' -> '.join(ops)}")
    print(f"input {inp['shape'].tolist()} int8, scale {scale:.6f}, zero point {zero_point}")
    print(f"output {list(expected.shape)} int8 (TFLite reference kernels) -> {args.out}/expected.npy")
    rel = os.path.relpath(args.out, Path.cwd())
    print("\nnext (docs/tutorial.md):")
    print(f"  scanline info --model {rel}/model.tflite")
    print(f"  scanline features --model {rel}/model.tflite --input {rel}/input.png -o features.png")
    print(f"  scanline run --model {rel}/model.tflite --input {rel}/input.npy --output out.npy")


if __name__ == "__main__":
    main()
