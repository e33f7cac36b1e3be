"""Each compiled kernel against its NumPy twin, as a table of ratios.

    python bench/kernel_ratios.py [--repeat 7] [--only adam]

For every tutorial-shaped workload (forward + backward), times the compiled
kernels and the reference kernels alternately, round by round, and prints the
median time of each and the speed-up.  The gemm rows compare against numpy's
``@`` as well: the compiled gemm must be no slower, and the fused
dense_forward (product + bias + relu) faster than ``@`` followed by NumPy's
bias and relu.
"""

import argparse
import statistics
import time

import numpy as np

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from kernel_cases import CASES, RNG, numpy_blas_threads  # noqa: E402
from minidl._kernels import compiled, reference  # noqa: E402


def best_time(fn, min_time=0.05):
    """Median seconds per call over enough calls to last ``min_time``."""
    fn()
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_time:
            return elapsed / calls
        calls *= 2


def compare(functions, repeat, numpy_side=()):
    """Time each function ``repeat`` rounds, alternating; return medians.

    The functions named in ``numpy_side`` run with numpy's OpenBLAS on all the
    threads minidl uses (see ``kernel_cases.numpy_blas_threads``).
    """
    times = {name: [] for name in functions}
    for _ in range(repeat):
        for name, fn in functions.items():
            # idle threads (OpenBLAS's spin for a while after a product) go quiet
            time.sleep(0.2)
            if name in numpy_side:
                with numpy_blas_threads():
                    times[name].append(best_time(fn))
            else:
                times[name].append(best_time(fn))
    return {name: statistics.median(values) for name, values in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--only", default="", help="only the workloads whose name holds this")
    args = parser.parse_args()

    print(f"{'kernel (forward + backward)':34s} {'compiled':>11s} {'reference':>11s} {'ratio':>7s}")
    for name, make in CASES.items():
        if args.only not in name:
            continue
        step = make()
        t = compare({"compiled": lambda: step(compiled), "reference": lambda: step(reference)},
                    args.repeat, numpy_side={"reference"})
        print(f"{name:34s} {t['compiled'] * 1e6:9.1f}us {t['reference'] * 1e6:9.1f}us "
              f"{t['reference'] / t['compiled']:6.1f}x")

    if args.only:
        return
    # gemm against numpy's @, and the fused epilogue against @ + bias + relu
    a = RNG.normal(size=(64, 784)).astype(np.float32)
    b = RNG.normal(size=(784, 128)).astype(np.float32)
    bias = RNG.normal(size=128).astype(np.float32)
    out = np.empty((64, 128), np.float32)
    t = compare({
        "gemm": lambda: compiled.gemm(a, b, out),
        "numpy @": lambda: np.matmul(a, b, out=out),
        "fused": lambda: compiled.dense_forward(a, b, bias, out, "relu"),
        "numpy @ + bias + relu": lambda: np.maximum(np.matmul(a, b, out=out) + bias, 0, out=out),
    }, args.repeat, numpy_side={"numpy @", "numpy @ + bias + relu"})
    print()
    print(f"gemm 64x784x128: compiled {t['gemm'] * 1e6:.1f}us, numpy @ {t['numpy @'] * 1e6:.1f}us "
          f"(numpy/compiled {t['numpy @'] / t['gemm']:.2f}x)")
    print(f"with bias + relu: fused {t['fused'] * 1e6:.1f}us, numpy {t['numpy @ + bias + relu'] * 1e6:.1f}us "
          f"(numpy/fused {t['numpy @ + bias + relu'] / t['fused']:.2f}x)")


if __name__ == "__main__":
    main()
