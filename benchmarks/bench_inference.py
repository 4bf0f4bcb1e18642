"""Inference: predict latency and throughput, glassnet vs its peers.

Three models (the ones bench_models.py and bench_conv.py train, built by
their functions): the seed lecture's Dense(1)-tanh-Dense(1), the MLP
64-256-256-10 and the CNN on 28x28x1 images; batches of 1, 32 and 1024
float32 samples. For each:

- glassnet ``model.predict(x, batch_size=len(x))``, the direct call
  ``model(x)`` under ``no_grad`` and ``model.predict_on_batch(x)``;
- PyTorch eager, the same network under ``torch.no_grad()`` (the CNN's input
  already channels-first, PyTorch's layout);
- Keras 3 ``predict(x, batch_size=len(x))`` and the direct call
  ``model(x, training=False)``;
- onnxruntime on the file glassnet exports (``model.export(...,
  format="onnx")``), ``session.run``.

Every call goes from a NumPy array to a NumPy array (or the library's own
tensor for the direct calls). Each time is the best of ``--repeat`` runs of
enough calls to fill about 0.1 s (0.03 s with ``--quick``), the libraries
taking turns per case, in one process: the ratios are what count on a shared
machine. The peers run with their own random weights (timing only).

``--threads N`` limits every library to N threads (BLAS, glassnet's kernels,
torch, onnxruntime); by default each uses its own default.

Run: ``python benchmarks/bench_inference.py [--quick] [--threads N]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_conv  # noqa: E402
import bench_models  # noqa: E402
from common import best_time, fmt_ratio, have, print_table  # noqa: E402

os.environ.setdefault("KERAS_BACKEND", "torch")

BATCHES = (1, 32, 1024)
MODELS = {
    # name: (input shape, glassnet, torch, keras) builders
    "seed 1-1-1": (
        (1,),
        bench_models.glassnet_seed_model,
        bench_models.torch_seed_model,
        bench_models.keras_seed_model,
    ),
    "mlp 64-256-256-10": (
        (64,),
        bench_models.glassnet_mlp_model,
        bench_models.torch_mlp_model,
        bench_models.keras_mlp_model,
    ),
    "cnn 28x28x1": (
        (28, 28, 1),
        bench_conv.glassnet_cnn,
        bench_conv.torch_cnn,
        bench_conv.keras_cnn,
    ),
}


def glassnet_runners(build) -> tuple[dict, object]:
    from glassnet import no_grad

    model = build()

    def call(x):
        with no_grad():
            return model(x).data

    runners = {
        "glassnet predict": lambda x: model.predict(x, batch_size=len(x), verbose=0),
        "glassnet model(x)": call,
        "glassnet predict_on_batch": model.predict_on_batch,
    }
    return runners, model


def torch_runners(build, channels_first: bool) -> dict:
    import torch

    model = build().eval()

    def call(x):
        if channels_first:
            x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        with torch.no_grad():
            return model(torch.from_numpy(x)).numpy()

    return {"torch eager no_grad": call}


def keras_runners(build) -> dict:
    model = build()
    return {
        "keras predict": lambda x: model.predict(x, batch_size=len(x), verbose=0),
        "keras model(x)": lambda x: model(x, training=False),
    }


def onnx_runners(model, folder: str, threads: int | None) -> dict:
    import onnxruntime

    path = os.path.join(folder, f"{model.name}.onnx")
    model.export(path, format="onnx")
    options = onnxruntime.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    session = onnxruntime.InferenceSession(
        path, options, providers=["CPUExecutionProvider"]
    )
    return {"onnxruntime": lambda x: session.run(None, {"input": x})[0]}


def timed(fn, x, target: float, repeat: int) -> float:
    """Best seconds per call over ``repeat`` runs of about ``target`` seconds."""
    fn(x)  # warm-up: first-call costs, caches
    start = time.perf_counter()
    fn(x)
    once = max(time.perf_counter() - start, 1e-7)
    number = max(1, int(target / once))
    return best_time(lambda: fn(x), repeat=repeat, number=number)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter timings")
    parser.add_argument("--repeat", type=int, default=3, help="best of N runs")
    parser.add_argument("--no-keras", action="store_true", help="skip Keras")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="limit BLAS, glassnet, torch and onnxruntime to N threads",
    )
    args = parser.parse_args()
    target = 0.03 if args.quick else 0.1
    repeat = 2 if args.quick else args.repeat
    import glassnet

    if args.threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.threads)
        glassnet.config.set_kernel_threads(args.threads)
    print(f"glassnet kernels: {glassnet.config.kernel_threads()} threads")

    notes = []
    have_torch = have("torch")
    have_keras = have_torch and not args.no_keras and have("keras")
    have_ort = have("onnxruntime") and have("onnx")
    if have_torch:
        import torch

        if args.threads:
            torch.set_num_threads(args.threads)
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    else:
        notes.append("PyTorch is not installed: its rows are skipped.")
    if not have_keras and not args.no_keras:
        notes.append("Keras 3 is not installed: its rows are skipped.")
    if have_ort:
        import onnxruntime

        print(f"onnxruntime {onnxruntime.__version__}")
    else:
        notes.append("onnx / onnxruntime are not installed: their rows are skipped.")
    print(f"best of {repeat} runs of ~{target:g} s per case, libraries interleaved")

    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for name, (shape, gn, tn, kn) in MODELS.items():
            runners, model = glassnet_runners(gn)
            if have_torch:
                runners.update(torch_runners(tn, channels_first=len(shape) == 3))
            if have_keras:
                runners.update(keras_runners(kn))
            if have_ort:
                runners.update(onnx_runners(model, folder, args.threads))
            rng = np.random.default_rng(0)
            for batch in BATCHES:
                x = rng.standard_normal((batch, *shape)).astype(np.float32)
                times = {k: timed(fn, x, target, repeat) for k, fn in runners.items()}
                ours = times["glassnet predict"], times["glassnet model(x)"]
                for runner, seconds in times.items():
                    rows.append(
                        [
                            name,
                            batch,
                            runner,
                            seconds * 1e3,
                            batch / seconds,
                            fmt_ratio(ours[0], seconds),
                            fmt_ratio(ours[1], seconds),
                        ]
                    )
    print()
    print_table(
        rows,
        [
            "model",
            "batch",
            "runner",
            "ms/call",
            "samples/s",
            "glassnet predict/this",
            "glassnet model(x)/this",
        ],
    )
    print(
        "\nglassnet X/this = glassnet's time / this runner's time (< 1: glassnet "
        "faster). One process, one machine, the runners interleaved per case."
    )
    for note in notes:
        print(note)


if __name__ == "__main__":
    main()
