#!/usr/bin/env python3
"""Host yardsticks for `cargo xtask bench`: TensorFlow Lite and OpenCV timed on
this machine, in the same run as scanline, one thread each.

Builds Keras models of the same shapes as scanline's workloads (W1, W2, W3, N3
and the walkthrough-sized WT), converts each to a full-int8 .tflite with a
representative dataset, and times `Interpreter.invoke()` with three op
resolvers: the default (XNNPACK delegate), BUILTIN_WITHOUT_DEFAULT_DELEGATES
(TFLite's optimized integer kernels) and BUILTIN_REF (the reference kernels
scanline is bit-exact with). Then OpenCV's `filter2D` (3x3, u8 -> i16) on
320x240 and 1920x1080 gray and colour images.

Prints one JSON object on stdout:
  {"versions": {...}, "tflite": {"W1": {"xnnpack": ms, "builtin": ms, "ref": ms}, ...},
   "opencv": {"gray 320x240": Mpx_per_s, ...}}
Timings are medians of repeated runs after a warm-up. Weights are random:
the timing of these kernels does not depend on the values.
"""

import json
import os
import sys
import time
import warnings

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402

WORKLOADS = {
    # name: (input HWC, [(filters, padding), ...]) — each conv 3x3 stride 1 ReLU,
    # followed by a 2x2 max-pool.
    "W1": ((240, 320, 1), [1]),
    "W2": ((120, 160, 3), [8]),
    "W3": ((60, 80, 8), [16]),
    "N3": ((240, 320, 1), [8, 16, 32]),
    "WT": ((300, 451, 3), [64, 32]),
}


def median_ms(fn, budget_s, max_runs=200):
    fn()  # warm-up
    times = []
    start = time.perf_counter()
    while len(times) < 3 or (time.perf_counter() - start < budget_s and len(times) < max_runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    times.sort()
    return times[len(times) // 2]


def tflite_model(shape, filters, seed):
    import tensorflow as tf
    import keras

    rng = np.random.default_rng(seed)
    x = inp = keras.Input(shape=shape, batch_size=1)
    for f in filters:
        x = keras.layers.Conv2D(f, 3, padding="same", activation="relu")(x)
        x = keras.layers.MaxPool2D(2)(x)
    model = keras.Model(inp, x)
    for w in model.weights:
        w.assign(rng.uniform(-0.5, 0.5, size=w.shape).astype(np.float32))

    def representative():
        for _ in range(4):
            yield [rng.uniform(0, 1, size=(1,) + shape).astype(np.float32)]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    return conv.convert()


def time_tflite(flat, budget_s):
    import tensorflow as tf

    R = tf.lite.experimental.OpResolverType
    out = {}
    for name, resolver in [
        ("xnnpack", R.AUTO),
        ("builtin", R.BUILTIN_WITHOUT_DEFAULT_DELEGATES),
        ("ref", R.BUILTIN_REF),
    ]:
        it = tf.lite.Interpreter(
            model_content=flat, num_threads=1, experimental_op_resolver_type=resolver
        )
        it.allocate_tensors()
        d = it.get_input_details()[0]
        x = np.random.default_rng(1).integers(-128, 128, size=d["shape"], dtype=np.int8)
        it.set_tensor(d["index"], x)
        out[name] = median_ms(it.invoke, budget_s if name != "ref" else budget_s / 2)
    return out


def time_opencv(budget_s):
    import cv2

    cv2.setNumThreads(1)
    k = np.array([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]], dtype=np.float32)
    rng = np.random.default_rng(2)
    out = {}
    for (w, h) in [(320, 240), (1920, 1080)]:
        for colour, shape in [("gray", (h, w)), ("colour", (h, w, 3))]:
            img = rng.integers(0, 256, size=shape, dtype=np.uint8)
            ms = median_ms(lambda: cv2.filter2D(img, cv2.CV_16S, k), budget_s)
            out[f"{colour} {w}x{h}"] = (w * h) / (ms * 1e-3) / 1e6
    return out


def main():
    # TensorFlow's converter prints to file descriptor 1 from C++: send
    # everything to stderr while working, and only the JSON to stdout.
    stdout = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    budget = float(os.environ.get("SCANLINE_BENCH_SECONDS", "1.0"))
    only = set(sys.argv[1:])
    result = {"versions": {}, "tflite": {}, "opencv": {}, "errors": []}
    try:
        import tensorflow as tf

        result["versions"]["tensorflow"] = tf.__version__
        for i, (name, (shape, filters)) in enumerate(WORKLOADS.items()):
            if only and name not in only:
                continue
            flat = tflite_model(shape, filters, seed=10 + i)
            result["tflite"][name] = time_tflite(flat, budget)
    except Exception as e:  # report and carry on: the scanline half still prints
        result["errors"].append(f"tensorflow: {type(e).__name__}: {e}")
    try:
        import cv2

        result["versions"]["opencv"] = cv2.__version__
        result["opencv"] = time_opencv(budget)
    except Exception as e:
        result["errors"].append(f"opencv: {type(e).__name__}: {e}")
    result["versions"]["numpy"] = np.__version__
    sys.stderr.flush()
    os.dup2(stdout, 1)
    sys.stdout = os.fdopen(1, "w")
    json.dump(result, sys.stdout)
    print()


if __name__ == "__main__":
    main()
