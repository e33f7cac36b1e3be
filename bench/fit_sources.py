"""What feeding ``fit`` from a generator, a Sequence or a Dataset costs, against arrays.

The tutorial MLP (M1: Flatten, Dense 128 relu, Dropout 0.2, Dense 10 softmax,
Adam, batch 32) trains one epoch over the same rows fed five ways:

* arrays: ``fit(x, y, batch_size=32)``, minidl's own batch loader (the baseline);
* generator: a Python generator yielding ``(x[i:i+32], y[i:i+32])`` with
  ``steps_per_epoch``;
* Sequence: a ``minidl.utils.Sequence`` whose ``__getitem__`` slices the arrays;
* Dataset: ``Dataset.from_tensor_slices((x, y)).batch(32)``;
* Dataset, shuffled: ``.shuffle(len(x)).batch(32).prefetch(1)``, as the tutorials write it.

Every batch from a source is checked as arrays are (shapes, dtypes, finite
values, label range): the first in full, the later ones of the same format by
the quick check of ``models/batch_format.py`` (one sum for NaN/inf, min/max
of the labels), so a source costs little more per batch than arrays; the
issue's target is a median within 5% of arrays.  Rounds alternate between the
ways and the median of the rounds is reported, so a slower machine or a busy
neighbour affects every way alike.  The time a source adds is Python work,
serial, so it weighs more when the kernels run on more threads: compare at
the same ``OMP_NUM_THREADS``.

    python bench/fit_sources.py [--rows 12000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tutorial_models import MODELS, build_minidl, make_data  # noqa: E402

import minidl  # noqa: E402
from minidl.data import Dataset  # noqa: E402
from minidl.utils import Sequence  # noqa: E402


class Slices(Sequence):
    def __init__(self, x, y, batch_size):
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return self.x[rows], self.y[rows]


def generator(x, y, batch_size):
    while True:
        for i in range(0, len(x), batch_size):
            yield x[i:i + batch_size], y[i:i + batch_size]


def ways(x, y, batch_size):
    """name -> a function that trains a fresh model one epoch, fed that way."""
    steps = -(-len(x) // batch_size)
    return {
        "arrays": lambda m: m.fit(x, y, batch_size=batch_size, epochs=1, verbose=0),
        "generator": lambda m: m.fit(generator(x, y, batch_size), steps_per_epoch=steps,
                                     epochs=1, verbose=0),
        "Sequence": lambda m: m.fit(Slices(x, y, batch_size), epochs=1, verbose=0),
        "Dataset": lambda m: m.fit(Dataset.from_tensor_slices((x, y)).batch(batch_size),
                                   epochs=1, verbose=0),
        "Dataset, shuffled": lambda m: m.fit(
            Dataset.from_tensor_slices((x, y)).shuffle(len(x)).batch(batch_size).prefetch(1),
            epochs=1, verbose=0),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=12000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    spec = MODELS["M1"]
    x, y = make_data(spec, args.rows)
    feeds = ways(x, y, spec.batch_size)
    times = {name: [] for name in feeds}
    for _ in range(args.rounds):
        for name, train in feeds.items():
            minidl.utils.set_random_seed(0)
            model = build_minidl(spec)
            model.fit(x[:64], y[:64], batch_size=spec.batch_size, verbose=0)  # built, warm
            start = time.perf_counter()
            train(model)
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["arrays"])
    print(f"M1 ({spec.description}), one epoch of {args.rows} rows, median of "
          f"{args.rounds} alternating rounds")
    print(f"{'fed by':<20}{'seconds':>10}{'vs arrays':>12}")
    for name, measured in times.items():
        median = statistics.median(measured)
        print(f"{name:<20}{median:>10.3f}{median / base:>11.2f}x")


if __name__ == "__main__":
    main()
