"""M5: LSTM(128) on Fashion-MNIST rows (28 steps x 28 features) + Dense(10), Adam,
batch 64 -- minidl's ``fit`` against the same PyTorch training loop (``nn.LSTM``).

    PYTHONPATH=src python bench/lstm_rows.py [--steps 100] [--rounds 5]

Each framework trains in its own worker process with the same thread count;
the workers take turns round by round (the order flipping every round) so a
noisy machine hurts both alike.  Prints the median and best seconds per round
and the ratio minidl / PyTorch of the medians, of wall time and of CPU time
(the process's own CPU seconds: on a loaded machine the steadier of the two;
a ratio measured in one run on one machine is the unit of comparison).  The images are the bundled sample,
repeated as needed.

It also prints the arithmetic floor: the multiply-adds no LSTM can skip, at this machine's
best matrix-product rate (``floor``).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time

import numpy as np

BATCH, UNITS = 64, 128


def sample_rows(steps):
    """``(x (steps*64, 28, 28) float32 in [0, 1], y int64)``: images read row by row."""
    from minidl.datasets import fashion_mnist

    (x, y), _ = fashion_mnist.load_data(sample=True)
    count = steps * BATCH
    order = np.resize(np.random.default_rng(0).permutation(len(x)), count)
    return (x[order] / np.float32(255)).astype(np.float32), y[order].astype(np.int64)


def minidl_worker(connection, steps, threads):
    import minidl
    from minidl import layers

    minidl.set_num_threads(threads)
    minidl.utils.set_random_seed(0)
    x, y = sample_rows(steps)
    model = minidl.Sequential([layers.LSTM(UNITS, input_shape=(28, 28)), layers.Dense(10)])
    model.compile(minidl.optimizers.Adam(1e-3),
                  minidl.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(x[:BATCH * 2], y[:BATCH * 2], batch_size=BATCH, epochs=1, verbose=0)  # warm up
    while connection.recv():
        start, cpu = time.perf_counter(), time.process_time()
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
        connection.send((time.perf_counter() - start, time.process_time() - cpu))


def torch_worker(connection, steps, threads):
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    x, y = sample_rows(steps)
    x, y = torch.from_numpy(x), torch.from_numpy(y)

    class Model(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(28, UNITS, batch_first=True)
            self.dense = torch.nn.Linear(UNITS, 10)

        def forward(self, images):
            _, (h, _) = self.lstm(images)
            return self.dense(h[0])

    model = Model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()

    def epoch(count):
        for start in range(0, count * BATCH, BATCH):
            optimizer.zero_grad()
            loss = loss_fn(model(x[start:start + BATCH]), y[start:start + BATCH])
            loss.backward()
            optimizer.step()

    epoch(2)
    while connection.recv():
        start, cpu = time.perf_counter(), time.process_time()
        epoch(steps)
        connection.send((time.perf_counter() - start, time.process_time() - cpu))


def step_flops(steps=28, features=28, units=UNITS, batch=BATCH):
    """The floating-point operations of the matrix products of one training step, which any
    framework must do (2 per multiply-add; G = 4 units gate columns):
    forward  x_t W for every step, h_{t-1} U for the steps after the first;
    backward dL/dz_t U^T for those steps, dL/dW = x^T dL/dz, dL/dU = h^T dL/dz.
    (The Dense(10) layer and the element-wise work are left out: they only add.)"""
    gates = 4 * units
    return 2 * batch * gates * (2 * steps * features + 3 * (steps - 1) * units)


def floor(threads, repeats=20):
    """(GFLOP/s, source): the best rate of a 1024 x 1024 float32 product here, on
    ``threads`` threads, of minidl's BLAS and of PyTorch's (the fastest this machine does)."""
    import minidl
    import torch
    from minidl import _kernels

    minidl.set_num_threads(threads)
    torch.set_num_threads(threads)
    a = np.random.default_rng(0).random((1024, 1024), dtype=np.float32)
    out, ta = np.empty_like(a), torch.from_numpy(a)
    best = {}
    for name, product in (("minidl's BLAS", lambda: _kernels.current.gemm(a, a, out)),
                          ("PyTorch", lambda: torch.mm(ta, ta))):
        product()
        seconds = []
        for _ in range(repeats):
            start = time.perf_counter()
            product()
            seconds.append(time.perf_counter() - start)
        best[name] = 2 * 1024 ** 3 / min(seconds) / 1e9
    name = max(best, key=best.get)
    return best[name], name


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=100, help="training steps per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    workers = {}
    for name, target in (("minidl", minidl_worker), ("pytorch", torch_worker)):
        ours, theirs = context.Pipe()
        process = context.Process(target=target, args=(theirs, args.steps, args.threads))
        process.start()
        workers[name] = (process, ours)
    times = {name: [] for name in workers}
    for round_ in range(args.rounds):
        for name in (list(workers) if round_ % 2 == 0 else list(workers)[::-1]):
            workers[name][1].send(True)
            times[name].append(workers[name][1].recv())
    for process, connection in workers.values():
        connection.send(False)
        process.join()
    print(f"M5 LSTM(128) on 28x28 rows + Dense(10), Adam, batch {BATCH}, {args.steps} steps "
          f"per round, {args.rounds} rounds, {args.threads} threads")
    for name, values in times.items():
        walls, cpus = [w for w, _ in values], [c for _, c in values]
        print(f"  {name:8s} median {statistics.median(walls):.3f} s   best {min(walls):.3f} s   "
              f"median CPU {statistics.median(cpus):.3f} s")
    for label, index in (("wall", 0), ("CPU", 1)):
        ratio = (statistics.median(v[index] for v in times["minidl"])
                 / statistics.median(v[index] for v in times["pytorch"]))
        print(f"  minidl / pytorch (median {label} times): {ratio:.2f}")
    # this machine's speed drifts by up to 1.5x within minutes: the two runs of one round,
    # back to back, see the same speed, so the median of the rounds' own ratios is steadier
    paired = statistics.median(m[0] / t[0] for m, t in zip(times["minidl"], times["pytorch"]))
    print(f"  minidl / pytorch (median of the {args.rounds} rounds' wall-time ratios): "
          f"{paired:.2f}")
    rate, source = floor(args.threads)
    seconds = step_flops() * args.steps / rate / 1e9
    torch_best = min(w for w, _ in times["pytorch"])
    print(f"  floor: {step_flops() / 1e6:.0f} MFLOP of matrix products per step; at "
          f"{rate:.0f} GFLOP/s ({source}, 1024 x 1024, best of 20) {seconds:.3f} s per round"
          f" = {seconds / torch_best:.2f} of PyTorch's best round")


if __name__ == "__main__":
    main()
