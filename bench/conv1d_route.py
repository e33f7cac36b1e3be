"""Is Conv1D through the 2-D convolution's kernels as fast as a 1-D route?

``ops.conv1d`` runs a 1-D convolution as ``conv2d`` on images of height 1 (or, when
dilated, on rows of d steps).  The plain 1-D alternative: gather the k steps of
every output into a matrix with NumPy (a 1-D im2col: ``sliding_window_view``),
one ``dense_forward``/``dense_backward`` product pair, and the gather's adjoint
(k shifted additions).  Both are timed forward + backward on the same arrays,
alternating, and PyTorch's ``conv1d`` beside them for scale.

    PYTHONPATH=src python bench/conv1d_route.py [threads]

Threads (minidl's and PyTorch's alike) default to 1: on a machine shared with
other work a parallel loop waits for its slowest thread, and the timings then
measure the neighbours more than the code.
"""

import statistics
import sys
import time

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

import minidl
from minidl import _kernels, ops
from minidl.tensor import Tensor

SHAPES = [  # batch, steps, channels, filters, kernel_size, dilation_rate
    (128, 200, 32, 32, 5, 1),   # over M6's embeddings (Embedding(10000, 32), 200 tokens)
    (128, 200, 32, 64, 3, 1),
    (32, 500, 8, 16, 7, 1),     # a time series with few channels
    (128, 200, 32, 32, 3, 2),   # dilated
]


def via_conv2d(x, w, b, dilation):
    out = ops.conv1d(x, w, b, 1, "valid", dilation, "relu")
    out.backward(np.ones(out.shape, np.float32))


def via_unfold(x, w, b, dilation):
    """The 1-D route: NumPy gather, the dense kernels, k shifted additions back."""
    kernels = _kernels.current
    n, length, c = x.shape
    k, _, f = w.shape
    steps = length - (k - 1) * dilation
    windows = sliding_window_view(x.data, (k - 1) * dilation + 1, axis=1)[..., ::dilation]
    cols = np.ascontiguousarray(windows.transpose(0, 1, 3, 2)).reshape(n * steps, k * c)
    out = np.empty((n * steps, f), np.float32)
    w2 = w.data.reshape(k * c, f)
    kernels.dense_forward(cols, w2, b.data, out, "relu")
    grad_cols, grad_w, grad_b = np.empty_like(cols), np.empty_like(w2), np.empty_like(b.data)
    kernels.dense_backward(cols, w2, out, np.ones_like(out), grad_cols, grad_w, grad_b, "relu")
    grad_cols = grad_cols.reshape(n, steps, k, c)
    grad_x = np.zeros_like(x.data)
    for j in range(k):
        grad_x[:, j * dilation:j * dilation + steps] += grad_cols[:, :, j]


def main(threads=1, rounds=7):
    rng = np.random.default_rng(0)
    minidl.set_num_threads(threads)
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        torch = None
    print(f"kernels: {_kernels.backend_name()}, {threads} thread(s); median of {rounds} "
          "alternating rounds, forward + backward")
    for n, length, c, f, k, d in SHAPES:
        x = Tensor(rng.normal(size=(n, length, c)).astype(np.float32), requires_grad=True)
        w = Tensor((rng.normal(size=(k, c, f)) * 0.1).astype(np.float32), requires_grad=True)
        b = Tensor(np.zeros(f, np.float32), requires_grad=True)
        runs = {"conv2d route": lambda: via_conv2d(x, w, b, d),
                "1-D unfold route": lambda: via_unfold(x, w, b, d)}
        if torch is not None:
            tx = torch.tensor(x.data.transpose(0, 2, 1).copy(), requires_grad=True)
            tw = torch.tensor(w.data.transpose(2, 1, 0).copy(), requires_grad=True)
            tb = torch.zeros(f, requires_grad=True)

            def torch_step():
                out = torch.relu(torch.nn.functional.conv1d(tx, tw, tb, dilation=d))
                out.backward(torch.ones_like(out))

            runs["torch conv1d"] = torch_step
        times = {name: [] for name in runs}
        for _ in range(rounds):
            for name, run in runs.items():
                start = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - start)
        median = {name: statistics.median(t) for name, t in times.items()}
        base = median["conv2d route"]
        shown = ", ".join(f"{name} {1e3 * t:.1f} ms ({t / base:.2f}x)" for name, t in median.items())
        print(f"x {(n, length, c)}, Conv1D({f}, {k}, dilation_rate={d}): {shown}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
