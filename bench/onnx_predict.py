"""Predict throughput: ONNX Runtime running minidl's exported model against minidl's predict.

    PYTHONPATH=src python bench/onnx_predict.py                 # M1, M4, M5, 10,000 images
    PYTHONPATH=src python bench/onnx_predict.py --quick         # a smoke run
    PYTHONPATH=src python bench/onnx_predict.py --threads 1 --batch-sizes 32 256 --models M5

For the tutorial MLP (M1), CNN (M4) and LSTM over image rows (M5) of
tutorial_models.py, trained for a
few steps on the bundled Fashion-MNIST images, the model is exported with
``model.export`` and both runtimes predict the same images in batches of
each given size, with the same thread count, taking turns for ``--rounds``
rounds.  The table gives images per second (median round) and the ratio ONNX
Runtime / minidl; the outputs are checked to agree first.  A ratio measured
in one run is the unit of comparison: the absolute numbers depend on the
machine and on what else it runs.  Needs ``onnx`` and ``onnxruntime``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tutorial_models import MODELS, build_minidl, make_data  # noqa: E402

BENCHED = ("M1", "M4", "M5")  # M6 reads int32 tokens; the exported graph takes float32


def cores():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def onnx_session(model, path, threads):
    import onnxruntime as ort

    model.export(path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_predict(session, x, batch_size):
    """Like ``model.predict``: the images in batches, the outputs concatenated."""
    name = session.get_inputs()[0].name
    return np.concatenate([session.run(None, {name: x[i:i + batch_size]})[0]
                           for i in range(0, len(x), batch_size)])


def seconds(work):
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def bench(spec, images, batch_sizes, rounds, threads, train_steps, folder):
    model = build_minidl(spec)
    x_train, y_train = make_data(spec, train_steps * spec.batch_size)
    model.fit(x_train, y_train, batch_size=spec.batch_size, epochs=1, verbose=0)
    session = onnx_session(model, Path(folder) / f"{spec.name}.onnx", threads)
    x = make_data(spec, images, seed=1)[0]
    expected = model.predict(x[:500], verbose=0)
    difference = float(np.abs(onnx_predict(session, x[:500], 100) - expected).max())
    if difference > 1e-5:
        raise AssertionError(f"{spec.name}: ONNX Runtime's outputs differ from predict's by "
                             f"{difference:.2e}")
    rows = []
    for batch_size in batch_sizes:
        runs = {
            "minidl": lambda: model.predict(x, batch_size=batch_size, verbose=0),
            "onnxruntime": lambda: onnx_predict(session, x, batch_size),
        }
        for work in runs.values():  # warm up
            work()
        times = {name: [] for name in runs}
        for round_index in range(rounds):
            order = list(runs) if round_index % 2 == 0 else list(reversed(runs))
            for name in order:
                times[name].append(seconds(runs[name]))
        rate = {name: images / statistics.median(t) for name, t in times.items()}
        rows.append((spec.name, batch_size, rate["minidl"], rate["onnxruntime"],
                     rate["onnxruntime"] / rate["minidl"]))
    return rows, difference


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[32, 256])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=cores())
    parser.add_argument("--quick", action="store_true", help="1,000 images, 2 rounds")
    parser.add_argument("--models", nargs="+", choices=BENCHED, default=list(BENCHED))
    args = parser.parse_args(argv)
    if args.quick:
        args.images, args.rounds = 1_000, 2

    import minidl
    import onnxruntime

    minidl.set_num_threads(args.threads)
    print(f"minidl {minidl.__version__}, onnxruntime {onnxruntime.__version__}, "
          f"{args.threads} threads, {args.images} images, median of {args.rounds} rounds")
    print(f"{'model':6} {'batch':>6} {'minidl img/s':>13} {'onnxruntime img/s':>18} {'ratio':>6}")
    with tempfile.TemporaryDirectory() as folder:
        for key in args.models:
            rows, difference = bench(MODELS[key], args.images, args.batch_sizes, args.rounds,
                                     args.threads, train_steps=20, folder=folder)
            for name, batch, ours, theirs, ratio in rows:
                print(f"{name:6} {batch:6d} {ours:13,.0f} {theirs:18,.0f} {ratio:5.2f}x")
            print(f"{'':6} largest output difference {difference:.1e}")


if __name__ == "__main__":
    main()
