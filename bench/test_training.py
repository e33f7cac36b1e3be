"""pytest-benchmark: a few training steps of M1..M6 in minidl and PyTorch.

    PYTHONPATH=src python -m pytest bench/test_training.py

One group per model, so pytest-benchmark's table shows minidl (compiled
kernels), minidl on its NumPy reference kernels and PyTorch side by side.
Each timed call trains ``STEPS`` steps (one ``fit`` epoch on ``STEPS``
batches); PyTorch is skipped when it is not installed.  The ratios and the
targets are printed by ``bench/compare_training.py``, which runs each
framework in its own process: here they share one.  PyTorch is imported
first, before minidl's kernels set ``OMP_WAIT_POLICY=PASSIVE`` in the
environment: PyTorch's OpenMP runtime reads it when it loads, and with
passive waits PyTorch runs 2-4x slower than in a program of its own.
"""

import os
import sys
from pathlib import Path

import pytest

try:
    import torch  # noqa: F401  (first: see the module docstring)
except ImportError:
    torch = None

sys.path.insert(0, str(Path(__file__).parent))

from tutorial_models import MODELS, build_minidl, make_data  # noqa: E402

STEPS = {"M1": 20, "M2": 20, "M3": 20, "M4": 5, "M5": 5, "M6": 3}
FRAMEWORKS = ("minidl", "minidl-reference", "torch")


def minidl_step(spec, x, y, kernels):
    from minidl import _kernels

    _kernels.use(kernels)
    model = build_minidl(spec)

    def train():
        _kernels.use(kernels)
        try:
            model.fit(x, y, batch_size=spec.batch_size, epochs=1, verbose=0)
        finally:
            _kernels.use("compiled")

    _kernels.use("compiled")
    return train


def torch_step(spec, x, y):
    if torch is None:
        pytest.skip("PyTorch is not installed")
    import torch_models

    torch.set_num_threads(len(os.sched_getaffinity(0)))
    model, optimizer = torch_models.build_torch(spec)
    tx, ty = torch_models.to_torch(spec, x), torch.from_numpy(y)
    return lambda: torch_models.train(model, optimizer, tx, ty, spec.batch_size)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("name", sorted(MODELS))
def test_training_steps(benchmark, name, framework):
    spec = MODELS[name]
    benchmark.group = f"{name}: {spec.description}, {STEPS[name]} steps"
    x, y = make_data(spec, STEPS[name] * spec.batch_size)
    if framework == "torch":
        train = torch_step(spec, x, y)
    else:
        train = minidl_step(spec, x, y, "reference" if framework == "minidl-reference" else "compiled")
    rounds = 2 if framework == "minidl-reference" else 5
    benchmark.pedantic(train, rounds=rounds, warmup_rounds=1)
