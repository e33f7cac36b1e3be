"""pytest-benchmark: each compiled kernel and its NumPy twin at the tutorial shapes.

    python -m pytest bench/test_kernels.py

Each workload (forward + backward) runs once per backend; pytest-benchmark
groups the two so its table shows them side by side.  ``bench/kernel_ratios.py``
prints the same comparison as ratios.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from kernel_cases import CASES, numpy_blas_threads  # noqa: E402
from minidl._kernels import compiled, reference  # noqa: E402

BACKENDS = {"compiled": compiled, "reference": reference}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", CASES)
def test_kernel(benchmark, case, backend):
    benchmark.group = case
    step = CASES[case]()
    if backend == "reference":  # the NumPy twins get numpy's threads, as in a NumPy program
        with numpy_blas_threads():
            benchmark(step, BACKENDS[backend])
    else:
        benchmark(step, BACKENDS[backend])
