"""The share of a training step that metric updates take, in CPU instructions.

    PYTHONPATH=src python bench/metrics_instructions.py [--metrics auc,precision,recall]

Wall-clock shares are noisy on a shared machine; callgrind's instruction
counts are not.  This runs Python under ``valgrind --tool=callgrind`` four
times on the tutorial MLP (M1: 784-128-drop-10, Adam, batch 32, one-hot
targets, categorical cross-entropy) and takes differences, so start-up and
model building cancel out:

* a fit of 120 steps minus a fit of 20 steps, over 100: instructions per step
  without metrics;
* 500 updates of the metrics on one batch's predictions (32 x 10) minus none,
  over 500: instructions of one step's metric updates.

share = updates / (step + updates).  ``MINIDL_KERNELS=reference`` measures
the metrics on the NumPy twins.  (Needs valgrind; a few minutes.)
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

WORKER = r'''
import sys
sys.path.insert(0, {bench!r})
import numpy as np
import minidl
from minidl import metrics
from tutorial_models import MODELS, build_minidl, make_data
mode, count, names = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
spec = MODELS["M1"]
x, labels = make_data(spec, 130 * 32)
y = np.eye(10, dtype=np.float32)[labels]
minidl.utils.set_random_seed(0)
model = build_minidl(spec)
model.compile(minidl.optimizers.Adam(1e-3), "categorical_crossentropy")
model.fit(x[:64], y[:64], batch_size=32, verbose=0)
classes = {{"auc": "AUC", "precision": "Precision", "recall": "Recall",
            "accuracy": "CategoricalAccuracy"}}
ms = [getattr(metrics, classes[n])() for n in names]
p = model.predict(x[:32], verbose=0)
for m in ms:
    m.update_state(y[:32], p)
if mode == "steps":
    model.fit(x[:count * 32], y[:count * 32], batch_size=32, verbose=0, shuffle=False)
else:
    for _ in range(count):
        for m in ms:
            m.update_state(y[:32], p)
'''


def instructions(script, mode, count, names):
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg.out", sys.executable,
             script, mode, str(count), names],
            capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    found = re.search(r"Collected : (\d+)", out.stderr)
    if found is None or out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return int(found.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--metrics", default="auc,precision,recall")
    args = parser.parse_args()
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(WORKER.format(bench=str(HERE)))
    try:
        step = (instructions(f.name, "steps", 120, args.metrics)
                - instructions(f.name, "steps", 20, args.metrics)) / 100
        update = (instructions(f.name, "updates", 500, args.metrics)
                  - instructions(f.name, "updates", 0, args.metrics)) / 500
    finally:
        os.unlink(f.name)
    kernels = os.environ.get("MINIDL_KERNELS", "compiled")
    print(f"M1, metrics {args.metrics} ({kernels} kernels): {step / 1e6:.2f}M instructions per "
          f"step without metrics, {update / 1e3:.1f}k per step's metric updates, share "
          f"{update / (step + update):.1%}")


if __name__ == "__main__":
    main()
