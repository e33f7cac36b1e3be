"""Does training leak?  Train the tutorial CNN and print resident memory after each epoch.

    PYTHONPATH=src python scripts/memory_growth.py [--samples 1000] [--epochs 3]

The first epoch allocates what training needs for good: weights, optimizer
slots, batch buffers, and whatever NumPy and the allocator keep for reuse.
After it, each epoch does the same work again, so resident memory (RSS) must
stay flat: if every step's graph, gradients and temporary buffers are
released, there is nothing to accumulate.  The script prints RSS after every
epoch (and after each tenth of an epoch, to show the shape within one), then
the growth from the end of epoch 1 to the end of the last epoch, and exits
with status 1 if that growth exceeds ``--tolerance-mb``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

import minidl
from minidl import callbacks
from minidl.datasets import fashion_mnist
from minidl.demo import build_model


def rss_mb():
    """Resident set size of this process now, in MB (from /proc/self/statm)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


class MemoryLog(callbacks.Callback):
    """Records RSS every ``every`` steps and at the end of every epoch."""

    def __init__(self, every):
        super().__init__()
        self.every = every
        self.steps = []   # (epoch, step, MB)
        self.epochs = []  # MB at the end of each epoch
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (batch + 1) % self.every == 0:
            self.steps.append((self.epoch, batch + 1, rss_mb()))

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append(rss_mb())
        print(f"epoch {epoch + 1}: loss {logs['loss']:.4f}, RSS {self.epochs[-1]:.1f} MB", flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000, help="training images (bundled sample)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--tolerance-mb", type=float, default=4.0,
                        help="largest allowed RSS growth after epoch 1")
    args = parser.parse_args(argv)

    (x, y), _ = fashion_mnist.load_data(sample=True)
    x = x[: args.samples, :, :, None].astype(np.float32) / 255.0
    y = y[: args.samples]
    minidl.utils.set_random_seed(0)
    model = build_model("cnn")  # the demo's CNN, compiled with adam and sparse cross-entropy
    train = int(len(x) * 0.9)  # validation_split=0.1 keeps the last tenth
    steps = -(-train // args.batch_size)
    log = MemoryLog(every=max(steps // 10, 1))
    print(f"CNN on {train} images (+{len(x) - train} validation), {args.epochs} epochs of {steps} steps; RSS before fit: {rss_mb():.1f} MB")
    start = time.perf_counter()
    model.fit(x, y, epochs=args.epochs, batch_size=args.batch_size, validation_split=0.1, verbose=0,
              callbacks=[log])
    seconds = time.perf_counter() - start

    for epoch in range(args.epochs):
        trace = " ".join(f"{mb:.0f}" for e, _, mb in log.steps if e == epoch)
        print(f"  RSS within epoch {epoch + 1} (MB, every {log.every} steps): {trace}")
    growth = log.epochs[-1] - log.epochs[0]
    peak_after_1 = max([mb for e, _, mb in log.steps if e > 0] + log.epochs[1:]) - log.epochs[0]
    print(f"growth from the end of epoch 1 to the end of epoch {args.epochs}: {growth:+.1f} MB "
          f"(largest excursion {peak_after_1:+.1f} MB; tolerance {args.tolerance_mb} MB; {seconds:.1f} s)")
    ok = growth <= args.tolerance_mb
    print("RESULT:", "OK, no growth after epoch 1" if ok else "FAIL, memory grows from epoch to epoch")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
