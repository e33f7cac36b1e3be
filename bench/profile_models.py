"""Where does minidl's training time go?  ``minidl.profile()`` on M1..M6.

    PYTHONPATH=src python bench/profile_models.py M1 M4 [--steps 200]
    PYTHONPATH=src python bench/profile_models.py M5 M6 --threads 1

Each model is built, warmed up with a few steps, then trained for ``--steps``
steps inside ``with minidl.profile() as prof:``; the table shows self time per
op (forward and backward), per kernel, the optimizer and batch gathering.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import minidl  # noqa: E402
from tutorial_models import MODELS, build_minidl, make_data  # noqa: E402


def profile_model(name, steps):
    spec = MODELS[name]
    model = build_minidl(spec)
    x, y = make_data(spec, steps * spec.batch_size)
    model.fit(x[: 3 * spec.batch_size], y[: 3 * spec.batch_size], batch_size=spec.batch_size,
              verbose=0)
    with minidl.profile() as prof:
        model.fit(x, y, batch_size=spec.batch_size, epochs=1, verbose=0)
    print(f"\n{name}: {spec.description}, {steps} steps, "
          f"{prof.wall / steps * 1e3:.3f} ms per step")
    prof.table()
    return prof


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="*", default=["M1", "M4"])
    parser.add_argument("--steps", type=int, default=None,
                        help="training steps (default 300 dense, 40 CNN and LSTM)")
    parser.add_argument("--threads", type=int, default=None, help="minidl.set_num_threads")
    args = parser.parse_args()
    if args.threads:
        minidl.set_num_threads(args.threads)
    for name in args.models:
        spec = MODELS[name]
        profile_model(name, args.steps or (40 if spec.conv or spec.recurrent else 300))


if __name__ == "__main__":
    main()
