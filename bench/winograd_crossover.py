"""Where Winograd's F(4x4, 3x3) starts to beat im2col's products, compiled both.

    python bench/winograd_crossover.py [--repeat 3]

For 3x3 convolutions (stride 1, relu, a batch of 64) with few to many input
channels and filters, times forward + backward both ways, alternating, and
prints the speed-up.  Winograd multiplies 4x less but transforms every tile
on the way in and out; with few channels the transforms weigh more and its
products have a short inner size.  conv_plan.WINOGRAD_MIN_CHANNELS comes
from this table.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from kernel_cases import _Convolution  # noqa: E402
from kernel_ratios import best_time  # noqa: E402

from minidl._kernels import compiled, conv  # noqa: E402


def winograd(case):
    compiled.conv2d_winograd_forward(case.x, case.kernel, case.bias, 0, 0, case.out, "relu")
    compiled.conv2d_winograd_backward(case.x, case.kernel, case.out, case.grad_out, 0, 0,
                                      *case.grads, "relu")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--isa", choices=conv.VECTOR_ISAS,
                        help="run this copy of the Winograd kernels (default: the CPU's best); "
                             "with OPENBLAS_CORETYPE=Haswell and --isa avx2, an AVX-512 machine "
                             "shows roughly what an AVX2 laptop sees")
    args = parser.parse_args()
    print(f"Winograd kernels: {conv.vector_isa(args.isa)}; BLAS: {compiled.BLAS.name}")
    print(f"{'convolution (batch 64, 3x3)':32s} {'im2col':>10s} {'Winograd':>10s} {'speed-up':>9s}")
    for size in (26, 13):
        for channels in (4, 8, 16, 32, 64):
            case = _Convolution(64, size, size, channels, channels)
            times = {"im2col": [], "winograd": []}
            for _ in range(args.repeat):
                for name, step in (("im2col", lambda: case.products(compiled)),
                                   ("winograd", lambda: winograd(case))):
                    time.sleep(0.1)
                    times[name].append(best_time(step))
            t = {name: statistics.median(values) for name, values in times.items()}
            label = f"{size}x{size}x{channels} -> {channels}"
            print(f"{label:32s} {t['im2col'] * 1e6:8.0f}us {t['winograd'] * 1e6:8.0f}us "
                  f"{t['im2col'] / t['winograd']:8.2f}x")


if __name__ == "__main__":
    main()
