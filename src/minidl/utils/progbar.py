"""The Keras 2 progress bar, as ``fit()`` and ``evaluate()`` print it.

verbose=1, while an epoch runs (redrawn in place with ``\\r``)::

     412/1875 [=====>........................] - ETA: 2s - loss: 0.6013 - accuracy: 0.7912

and when it ends::

    1875/1875 [==============================] - 3s 1ms/step - loss: 0.5012 - accuracy: 0.8236

verbose=2 prints only the last form, shorter::

    1875/1875 - 3s - loss: 0.5012 - accuracy: 0.8236 - 3s/epoch - 1ms/step

When the output is not a terminal (a log file, a CI job) the live updates are
skipped and only the final line is written.
"""

from __future__ import annotations

import sys
import time

import numpy as np


def format_value(value):
    """Keras prints 4 decimals, or scientific notation for tiny values; a value of
    several numbers (Precision at several thresholds) as their mean, as Keras does."""
    if np.ndim(value):
        value = float(np.mean(value))
    return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"


def format_step_time(seconds, unit="step"):
    """``3ms/step``: the time per step in the largest unit that keeps it >= 1."""
    if seconds >= 1 or seconds == 0:
        return f"{seconds:.0f}s/{unit}"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.0f}ms/{unit}"
    return f"{seconds * 1e6:.0f}us/{unit}"


def format_eta(seconds):
    if seconds > 3600:
        return f"{int(seconds // 3600)}:{int(seconds % 3600 // 60):02d}:{int(seconds % 60):02d}"
    if seconds > 60:
        return f"{int(seconds // 60)}:{int(seconds % 60):02d}"
    return f"{int(seconds)}s"


class Progbar:
    """A progress bar over ``target`` steps.

    Call ``update(current, values)`` after each step with the values to show
    (``[("loss", 0.31), ("accuracy", 0.9)]``, already averaged by the caller);
    ``update(target, ...)`` prints the final line.  Live redraws are at most
    one every ``interval`` seconds, so the bar costs nothing measurable.
    """

    def __init__(self, target, width=30, verbose=1, interval=0.05, stream=None):
        self.target = None if target is None else int(target)  # None: not known in advance
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.stream = stream if stream is not None else sys.stdout
        isatty = getattr(self.stream, "isatty", None)
        self.dynamic = bool(isatty and isatty()) or "ipykernel" in sys.modules
        self.start = time.perf_counter()
        self._last_draw = 0.0
        self._width_drawn = 0

    def due(self):
        """Whether a live redraw would happen now (lets callers skip preparing values)."""
        return self.verbose == 1 and self.dynamic and time.perf_counter() - self._last_draw >= self.interval

    def update(self, current, values=()):
        """Record that ``current`` steps are done; redraw if it is time to."""
        finished = self.target is not None and current >= self.target
        if self.verbose != 1 or not (finished or self.dynamic):
            if finished and self.verbose == 2:
                self._write_summary(current, values)
            return
        now = time.perf_counter()
        if not finished and now - self._last_draw < self.interval:
            return
        self._last_draw = now
        line = self._bar(current)
        elapsed = now - self.start
        if finished:
            info = f" - {elapsed:.0f}s {format_step_time(elapsed / max(current, 1))}"
        elif self.target is None:
            info = f" - {elapsed:.0f}s {format_step_time(elapsed / max(current, 1))}"
        else:
            info = f" - ETA: {format_eta(elapsed / max(current, 1) * (self.target - current))}"
        line += info + "".join(f" - {name}: {format_value(value)}" for name, value in values)
        padding = " " * max(self._width_drawn - len(line), 0)
        self._width_drawn = len(line)
        prefix = "\r" if self.dynamic else ""
        self.stream.write(prefix + line + padding + ("\n" if finished else ""))
        self.stream.flush()

    def _bar(self, current):
        if self.target is None:  # Keras's form when the number of steps is unknown
            return f"{current:7d}/Unknown"
        digits = len(str(self.target))
        filled = int(self.width * current / self.target) if self.target else self.width
        bar = ""
        if filled > 0:
            bar = "=" * (filled - 1) + (">" if current < self.target else "=")
        bar += "." * (self.width - filled)
        return f"{current:{digits}d}/{self.target} [{bar}]"

    def _write_summary(self, current, values):
        elapsed = time.perf_counter() - self.start
        line = f"{current}/{self.target} - {elapsed:.0f}s"
        line += "".join(f" - {name}: {format_value(value)}" for name, value in values)
        line += f" - {format_step_time(elapsed, 'epoch')}"
        line += f" - {format_step_time(elapsed / max(current, 1))}"
        self.stream.write(line + "\n")
        self.stream.flush()
