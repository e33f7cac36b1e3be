"""Where does training time go?  A profiler a learner can read.

    with minidl.profile() as prof:
        model.fit(x, y, epochs=1)
    prof.table()

While active, the profiler wraps (and afterwards restores):

* every op in ``minidl.ops`` -- the forward pass, per op kind;
* every op's ``backward`` closure -- via ``autograd.record``;
* every kernel of the active backend -- time spent inside compiled (or
  reference) code, as opposed to Python around it;
* ``Optimizer.apply_gradients`` and the shuffled batch loader.

Times are *self* times: an op that calls a kernel is charged only for its
own Python work; the kernel's time appears on its own line.  "other" is
the rest of the wall time (loss bookkeeping, metrics, progress bar,
callbacks).  The wrappers cost about a microsecond per call, so very small
models look a little slower under the profiler than without it.
"""

from __future__ import annotations

import functools
import sys
import time
import types
from collections import defaultdict

from minidl import _kernels, autograd



class Profile:
    """Collects self time per (category, name); see the module docstring."""

    def __init__(self):
        self.totals = defaultdict(float)  # (category, name) -> seconds
        self.calls = defaultdict(int)
        self.wall = 0.0
        self._stack = []  # child time accumulated by each open frame
        self._restore = []

    # --- timing -------------------------------------------------------------
    def _timed(self, category, name, fn):
        """``fn`` wrapped so its self time is charged to (category, name)."""
        stack, totals, calls, clock = self._stack, self.totals, self.calls, time.perf_counter

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            stack.append(0.0)
            start = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = clock() - start
                children = stack.pop()
                key = (category, name)
                totals[key] += elapsed - children
                calls[key] += 1
                if stack:
                    stack[-1] += elapsed

        wrapper.__wrapped_by_profiler__ = True
        return wrapper

    def _patch(self, owner, attribute, replacement):
        self._restore.append((owner, attribute, getattr(owner, attribute)))
        setattr(owner, attribute, replacement)

    # --- switching on and off --------------------------------------------------
    def __enter__(self):
        from minidl import ops
        from minidl.models import data_adapter
        from minidl.optimizers import Optimizer

        # kernels: a stand-in module whose functions are timed copies
        backend = _kernels.current
        timed_backend = types.SimpleNamespace(
            **{name: getattr(backend, name) for name in _kernels.CONSTANTS})
        for name in _kernels.FUNCTIONS:
            setattr(timed_backend, name, self._timed("kernel", name, getattr(backend, name)))
        self._patch(_kernels, "current", timed_backend)

        # ops (forward): every module attribute in minidl that *is* an op
        op_functions = {getattr(ops, name): name for name in ops.__all__ if name != "as_tensor"}
        wrapped = {fn: self._timed("forward", name, fn) for fn, name in op_functions.items()}
        for module_name, module in list(sys.modules.items()):
            if not module_name.startswith("minidl") or module is None:
                continue
            for attribute, value in list(vars(module).items()):
                if callable(value) and value in wrapped and not attribute.startswith("__"):
                    self._patch(module, attribute, wrapped[value])

        # ops (backward): wrap each closure as record() stores it
        original_record = autograd.record

        def timed_record(data, parents, backward):
            name = backward.__qualname__.split(".")[0].lstrip("_")  # the op that made it
            return original_record(data, parents, self._timed("backward", name, backward))

        for module_name, module in list(sys.modules.items()):
            if module_name.startswith("minidl") and module is not None \
                    and getattr(module, "record", None) is original_record:
                self._patch(module, "record", timed_record)

        self._patch(Optimizer, "apply_gradients",
                    self._timed("optimizer", "apply_gradients", Optimizer.apply_gradients))
        original_shuffled = data_adapter.BatchLoader.shuffled
        profile = self

        def shuffled(loader, order):
            batches = original_shuffled(loader, order)
            fetch = profile._timed("data", "shuffle + batch", lambda: next(batches))
            while True:
                try:
                    yield fetch()
                except StopIteration:
                    return

        self._patch(data_adapter.BatchLoader, "shuffled", shuffled)
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.wall += time.perf_counter() - self._start
        for owner, attribute, value in reversed(self._restore):
            setattr(owner, attribute, value)
        self._restore.clear()
        return False

    # --- reporting -------------------------------------------------------------
    def rows(self):
        """[(category, name, calls, seconds)], biggest first, plus "other"."""
        rows = [(cat, name, self.calls[(cat, name)], t) for (cat, name), t in self.totals.items()]
        rows.sort(key=lambda row: -row[3])
        accounted = sum(row[3] for row in rows)
        rows.append(("other", "fit loop, losses, metrics, progress bar", 0, max(self.wall - accounted, 0.0)))
        return rows

    def summary(self):
        """Seconds per category: forward, backward, kernel, optimizer, data, other."""
        totals = defaultdict(float)
        for category, _, _, seconds in self.rows():
            totals[category] += seconds
        return dict(totals)

    def table(self, limit=25, file=None):
        """Print where the time went, biggest first."""
        file = file or sys.stdout
        wall = self.wall or 1e-12
        print(f"minidl profile: {self.wall:.3f} s wall, kernels: {_kernels.backend_name()}", file=file)
        print(f"{'category':10s} {'name':38s} {'calls':>8s} {'total ms':>10s} {'us/call':>9s} {'%':>6s}",
              file=file)
        print("-" * 86, file=file)
        for category, name, calls, seconds in self.rows()[:limit]:
            per_call = f"{seconds / calls * 1e6:9.1f}" if calls else " " * 9
            print(f"{category:10s} {name:38s} {calls:8d} {seconds * 1e3:10.1f} {per_call} "
                  f"{100 * seconds / wall:5.1f}%", file=file)
        print("-" * 86, file=file)
        parts = ", ".join(f"{cat} {100 * t / wall:.0f}%" for cat, t in
                          sorted(self.summary().items(), key=lambda kv: -kv[1]))
        print(f"by category: {parts}", file=file)


def profile():
    """A context manager that records where time goes; see ``Profile``."""
    return Profile()
