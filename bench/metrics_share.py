"""What share of a training step do the metric updates take?

    PYTHONPATH=src python bench/metrics_share.py [--steps 300] [--repeat 3]

Trains the tutorial MLP (M1: 784-128-drop-10, Adam, batch 32) on the bundled
Fashion-MNIST sample with one-hot targets and categorical cross-entropy, once
per metric set, and times ``compiled_metrics.update_state`` inside ``fit``:
the share printed is (time in metric updates) / (time of the whole fit), the
median over ``--repeat`` runs.  AUC counts 200 thresholds over N x 10
predictions per step; Precision and Recall one threshold.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import minidl  # noqa: E402
from minidl import metrics  # noqa: E402
from tutorial_models import MODELS, build_minidl, make_data  # noqa: E402

METRIC_SETS = {
    "none": lambda: [],
    "accuracy": lambda: ["accuracy"],
    "AUC": lambda: [metrics.AUC()],
    "AUC+Precision+Recall": lambda: [metrics.AUC(), metrics.Precision(), metrics.Recall()],
}


def one_fit(metric_set, x, y, spec):
    minidl.utils.set_random_seed(0)
    model = build_minidl(spec)
    model.compile(minidl.optimizers.Adam(1e-3), "categorical_crossentropy", METRIC_SETS[metric_set]())
    model.fit(x[:64], y[:64], batch_size=spec.batch_size, verbose=0)  # warm up, build
    spent = [0.0]
    update = model.compiled_metrics.update_state

    def timed(*args, **kwargs):
        start = time.perf_counter()
        update(*args, **kwargs)
        spent[0] += time.perf_counter() - start

    model.compiled_metrics.update_state = timed
    start = time.perf_counter()
    model.fit(x, y, batch_size=spec.batch_size, epochs=1, verbose=0)
    return time.perf_counter() - start, spent[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    spec = MODELS["M1"]
    x, labels = make_data(spec, args.steps * spec.batch_size)
    y = np.eye(10, dtype=np.float32)[labels]
    print(f"M1 ({spec.description}), {args.steps} steps, kernels: "
          f"{minidl._kernels.backend_name() if hasattr(minidl._kernels, 'backend_name') else ''}")
    print(f"{'metrics':24s} {'ms/step':>8s} {'metric ms/step':>15s} {'share':>7s}")
    for name in METRIC_SETS:
        runs = [one_fit(name, x, y, spec) for _ in range(args.repeat)]
        total = statistics.median(r[0] for r in runs) / args.steps * 1e3
        spent = statistics.median(r[1] for r in runs) / args.steps * 1e3
        share = statistics.median(r[1] / r[0] for r in runs)
        print(f"{name:24s} {total:8.3f} {spent:15.3f} {share:7.1%}")


if __name__ == "__main__":
    main()
