"""Where the sparse convolution backward stops paying: the measurement behind
``minidl.ops.conv.SPARSE_MAX_FRACTION``.

    PYTHONPATH=src python bench/sparse_crossover.py [--repeat 5]

At the tutorial CNN's second convolution (64x13x13x32 -> 64 filters, 3x3,
relu), for gradients with 5% to 50% nonzero dL/dz, times the compiled
backward both ways -- the products of im2col + col2im (``dense_backward`` and
``col2im``), and the walk over the nonzeros (``conv2d_backward_sparse``) --
alternating them round by round, and prints the medians and their ratio.
(ops.conv2d now runs this 3x3 convolution through Winograd, faster than both:
see winograd_crossover.py.  The walk serves im2col's other convolutions --
other kernel sizes, strides, fewer channels -- behind max-pooling; this shape
stays the yardstick.)
"""

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from kernel_ratios import best_time  # noqa: E402
from minidl._kernels import compiled as kernels  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n, size, c, f, k = 64, 13, 32, 64, 3
    out_size = size - k + 1
    x = np.maximum(rng.normal(size=(n, size, size, c)), 0).astype(np.float32)
    w = (rng.normal(size=(k, k, c, f)) * 0.1).astype(np.float32)
    cols = np.empty((n * out_size * out_size, k * k * c), np.float32)
    kernels.im2col(x, k, k, 1, 1, 0, 0, out_size, out_size, cols)
    out = np.empty((len(cols), f), np.float32)
    kernels.dense_forward(cols, w.reshape(-1, f), None, out, "relu")
    image = out.reshape(n, out_size, out_size, f)
    grad_cols, grad_w, grad_b = np.empty_like(cols), np.empty_like(w), np.empty(f, np.float32)
    grad_x = np.empty_like(x)

    print(f"{'nonzero dL/dz':>14s} {'products':>10s} {'sparse walk':>12s} {'speed-up':>9s}")
    for wanted in (0.05, 0.10, 0.15, 0.20, 0.30, 0.50):
        # relu zeroes about half, so keep twice the wanted fraction of dL/dy
        grad = rng.normal(size=out.shape).astype(np.float32)
        grad *= rng.random(out.shape) < 2 * wanted
        grad_image = grad.reshape(image.shape)

        def products(grad=grad):
            kernels.dense_backward(cols, w.reshape(-1, f), out, grad, grad_cols,
                                   grad_w.reshape(-1, f), grad_b, "relu")
            kernels.col2im(grad_cols, k, k, 1, 1, 0, 0, out_size, out_size, grad_x)

        def walk(grad_image=grad_image):
            kernels.conv2d_backward_sparse(x, w, image, grad_image, 1, 1, 0, 0, grad_x, grad_w,
                                           grad_b, "relu")

        times = {"products": [], "walk": []}
        for _ in range(args.repeat):
            times["products"].append(best_time(products))
            times["walk"].append(best_time(walk))
        dense, sparse = (statistics.median(times[key]) for key in ("products", "walk"))
        fraction = kernels.gradient_nonzeros(image, grad_image, "relu") / grad.size
        print(f"{fraction:14.1%} {dense * 1e6:8.0f}us {sparse * 1e6:10.0f}us {dense / sparse:8.2f}x")


if __name__ == "__main__":
    main()
