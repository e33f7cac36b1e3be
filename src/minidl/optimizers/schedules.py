"""Learning-rate schedules: the learning rate as a function of the step.

Pass a schedule where an optimizer takes a number::

    schedule = minidl.optimizers.schedules.ExponentialDecay(
        initial_learning_rate=0.1, decay_steps=1000, decay_rate=0.96, staircase=True)
    model.compile(optimizer=minidl.optimizers.SGD(learning_rate=schedule), ...)

Before each step the optimizer calls ``schedule(optimizer.iterations)`` (the
number of steps already taken: 0 for the first step) and uses what it returns
for that step.  The schedules here are Keras 2's, with its arguments, defaults
and formulas; each class writes its formula out.

A schedule is a plain function of the step: ``schedule(10)`` returns one rate
(a Python float), ``schedule(np.arange(1000))`` an array of 1000 (handy to plot
one).  The built-in ones write their formula once, for one step, with the
``math`` module: an optimizer evaluates it at every step, and the same formula
in NumPy calls on one number took 10 to 30 us a step where ``math`` takes about
2 (the tutorial MLP's whole step at batch 32 takes about 450 us).
Write your own by subclassing ``LearningRateSchedule``: ``__call__(step)``,
and ``get_config()`` if models compiled with it should save.
"""

from __future__ import annotations

import math

import numpy as np

from minidl.errors import unknown_name_message
from minidl.utils.object_registration import custom_objects_in_effect, get_registered_name


class LearningRateSchedule:
    """Base class of learning-rate schedules.

    A subclass implements ``__call__(self, step)``, returning the learning rate
    for ``step`` (an int, or an array of steps), and ``get_config(self)``, the
    constructor's arguments as a dict, so that an optimizer using it can be saved
    (``from_config(config)`` calls ``cls(**config)``)::

        class InverseSqrt(minidl.optimizers.schedules.LearningRateSchedule):
            def __init__(self, scale):
                self.scale = scale

            def __call__(self, step):
                return self.scale / np.sqrt(step + 1)

            def get_config(self):
                return {"scale": self.scale}
    """

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`."
        )

    def get_config(self):
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()` in "
            "order to be serializable."
        )

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = "..."
        return f"{type(self).__name__}({args})"


class _Formula(LearningRateSchedule):
    """A built-in schedule: ``rate(step)`` computes one step's rate from a float;
    calling the schedule applies it to one step or to each of an array of steps."""

    def rate(self, step):
        raise NotImplementedError

    def __call__(self, step):
        if not isinstance(step, (int, float, np.number)):  # maybe an array of steps
            steps = np.asarray(step, dtype=np.float64)
            if steps.ndim:
                return np.vectorize(self.rate, otypes=[np.float64])(steps)
        return self.rate(float(step))


class _DecayEveryDecaySteps(_Formula):
    """ExponentialDecay and InverseTimeDecay: the same arguments, and both use
    ``p = step / decay_steps`` (rounded down with ``staircase=True``)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name=None):
        self.initial_learning_rate = _number(self, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = _positive(self, "decay_steps", decay_steps)
        self.decay_rate = _number(self, "decay_rate", decay_rate)
        self.staircase = bool(staircase)
        self.name = name

    def _periods(self, step):
        p = step / self.decay_steps
        return math.floor(p) if self.staircase else p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_DecayEveryDecaySteps):
    """Multiply the rate by ``decay_rate`` every ``decay_steps`` steps, smoothly::

        initial_learning_rate * decay_rate ** (step / decay_steps)

    ``staircase=True`` rounds ``step / decay_steps`` down, so the rate drops in
    steps: constant for ``decay_steps`` steps, then ``decay_rate`` times smaller.
    """

    def rate(self, step):
        return self.initial_learning_rate * self.decay_rate**self._periods(step)


class InverseTimeDecay(_DecayEveryDecaySteps):
    """Divide the rate by a factor that grows linearly with the step (a 1/t decay)::

        initial_learning_rate / (1 + decay_rate * step / decay_steps)

    ``staircase=True`` rounds ``step / decay_steps`` down.
    """

    def rate(self, step):
        return self.initial_learning_rate / (1 + self.decay_rate * self._periods(step))


class PiecewiseConstantDecay(_Formula):
    """A constant rate per interval of steps::

        values[0]    while step <= boundaries[0]
        values[i]    while boundaries[i-1] < step <= boundaries[i]
        values[-1]   once step > boundaries[-1]

    ``PiecewiseConstantDecay([100000, 110000], [1.0, 0.5, 0.1])`` gives 1.0 for
    the first 100001 steps, 0.5 for the next 10000, then 0.1.
    """

    def __init__(self, boundaries, values, name=None):
        boundaries, values = list(boundaries), list(values)
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. Received: "
                f"boundaries={boundaries} of length {len(boundaries)}, and values={values} of "
                f"length {len(values)}."
            )
        boundaries = [_number(self, f"boundaries[{i}]", b) for i, b in enumerate(boundaries)]
        values = [_number(self, f"values[{i}]", v) for i, v in enumerate(values)]
        if any(b >= c for b, c in zip(boundaries, boundaries[1:])):
            raise ValueError(
                f"PiecewiseConstantDecay: boundaries must increase strictly, received {boundaries}."
            )
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def rate(self, step):
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return float(value)
        return float(self.values[-1])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(_Formula):
    """Go from ``initial_learning_rate`` to ``end_learning_rate`` in ``decay_steps``
    steps along a polynomial (a straight line for ``power=1``)::

        step = min(step, decay_steps)
        (initial_learning_rate - end_learning_rate) * (1 - step / decay_steps) ** power
            + end_learning_rate

    and stay at ``end_learning_rate`` after that.  With ``cycle=True`` the decay
    starts over, each time over a longer span: ``decay_steps`` becomes the first
    multiple of ``decay_steps`` that is at least ``step``
    (``decay_steps * ceil(step / decay_steps)``; ``decay_steps`` itself at step 0).
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name=None):
        self.initial_learning_rate = _number(self, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = _positive(self, "decay_steps", decay_steps)
        self.end_learning_rate = _number(self, "end_learning_rate", end_learning_rate)
        self.power = _number(self, "power", power)
        self.cycle = bool(cycle)
        self.name = name

    def rate(self, step):
        if self.cycle:
            decay_steps = self.decay_steps * max(math.ceil(step / self.decay_steps), 1)
        else:
            step = min(step, self.decay_steps)
            decay_steps = self.decay_steps
        span = self.initial_learning_rate - self.end_learning_rate
        return span * (1 - step / decay_steps) ** self.power + self.end_learning_rate

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class CosineDecay(_Formula):
    """Half a cosine from the starting rate down to ``alpha`` times it, in
    ``decay_steps`` steps (SGDR, Loshchilov & Hutter 2016), after an optional
    linear warmup (Goyal et al. 2017).

    Without ``warmup_target`` (the default)::

        step = min(step, decay_steps)
        cosine = 0.5 * (1 + cos(pi * step / decay_steps))          # 1 -> 0
        initial_learning_rate * ((1 - alpha) * cosine + alpha)

    With ``warmup_target``, the rate first climbs in a straight line from
    ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps`` steps::

        initial_learning_rate + (warmup_target - initial_learning_rate) * step / warmup_steps

    and then decays as above from ``warmup_target`` instead of
    ``initial_learning_rate``, counting steps from the end of the warmup.
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name=None,
                 warmup_target=None, warmup_steps=0):
        self.initial_learning_rate = _number(self, "initial_learning_rate", initial_learning_rate)
        self.decay_steps = _positive(self, "decay_steps", decay_steps)
        self.alpha = _number(self, "alpha", alpha)
        self.name = name
        self.warmup_target = (None if warmup_target is None
                              else _number(self, "warmup_target", warmup_target))
        self.warmup_steps = _non_negative(self, "warmup_steps", warmup_steps)

    def rate(self, step):
        if self.warmup_target is None:
            return self._decay(step, self.initial_learning_rate)
        if step < self.warmup_steps:
            climb = self.warmup_target - self.initial_learning_rate
            return self.initial_learning_rate + climb * step / self.warmup_steps
        return self._decay(step - self.warmup_steps, self.warmup_target)

    def _decay(self, step, start):
        step = min(step, self.decay_steps)
        cosine = 0.5 * (1 + math.cos(math.pi * step / self.decay_steps))
        return start * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(_Formula):
    """Cosine decays that start over ("warm restarts", SGDR, Loshchilov & Hutter 2016).

    The first decay lasts ``first_decay_steps`` steps; each one after lasts
    ``t_mul`` times longer than the one before and starts from ``m_mul`` times
    its rate.  For step ``step``, with ``f = step / first_decay_steps``::

        i = floor(f)                                       if t_mul == 1
        i = floor(log(1 - f * (1 - t_mul)) / log(t_mul))   otherwise  (the restart we are in)
        done = f - i                                       if t_mul == 1
        done = (f - (1 - t_mul**i) / (1 - t_mul)) / t_mul**i          (fraction of it done)
        cosine = 0.5 * m_mul**i * (1 + cos(pi * done))
        initial_learning_rate * ((1 - alpha) * cosine + alpha)
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
                 name=None):
        self.initial_learning_rate = _number(self, "initial_learning_rate", initial_learning_rate)
        self.first_decay_steps = _positive(self, "first_decay_steps", first_decay_steps)
        self.t_mul = _positive(self, "t_mul", t_mul)
        self.m_mul = _number(self, "m_mul", m_mul)
        self.alpha = _number(self, "alpha", alpha)
        self.name = name

    def rate(self, step):
        fraction = step / self.first_decay_steps
        t_mul = self.t_mul
        if t_mul == 1.0:
            restart = math.floor(fraction)
            done = fraction - restart
        else:
            restart = math.floor(math.log(1 - fraction * (1 - t_mul)) / math.log(t_mul))
            before = (1 - t_mul**restart) / (1 - t_mul)  # the decays before, in first_decay_steps
            done = (fraction - before) / t_mul**restart
        cosine = 0.5 * self.m_mul**restart * (1 + math.cos(math.pi * done))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self.t_mul,
                "m_mul": self.m_mul, "alpha": self.alpha, "name": self.name}


BUILT_IN = (ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, PolynomialDecay,
            CosineDecay, CosineDecayRestarts)


def serialize(schedule):
    """``{"class_name": "ExponentialDecay", "config": {...}}``: what an optimizer's
    ``get_config()`` holds as its ``learning_rate``."""
    return {"class_name": get_registered_name(type(schedule)), "config": schedule.get_config()}


def deserialize(config, custom_objects=None):
    """The schedule ``serialize`` described.

    The class is looked up by name among minidl's schedules (and your own
    classes in ``custom_objects``, ``{"MySchedule": MySchedule}``), never imported
    or evaluated from the file; its constructor then checks the arguments.
    """
    if not isinstance(config, dict) or not isinstance(config.get("config"), dict):
        raise ValueError(
            f"a serialized schedule is a dict {{'class_name': ..., 'config': {{...}}}}, "
            f"received {config!r}."
        )
    known = {cls.__name__: cls for cls in BUILT_IN}
    known.update(custom_objects_in_effect(custom_objects))
    cls = known.get(config.get("class_name"))
    if cls is None:
        raise ValueError(unknown_name_message("learning rate schedule", config.get("class_name"),
                                              known))
    return cls.from_config(dict(config["config"]))


def _number(schedule, argument, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value):
        raise ValueError(
            f"{type(schedule).__name__}: {argument} must be a finite number. "
            f"Received: {argument}={value!r}"
        )
    return value.item() if isinstance(value, np.generic) else value  # JSON-able in a model file


def _positive(schedule, argument, value):
    if _number(schedule, argument, value) <= 0:
        raise ValueError(
            f"{type(schedule).__name__}: {argument} must be > 0. Received: {argument}={value!r}"
        )
    return value


def _non_negative(schedule, argument, value):
    if _number(schedule, argument, value) < 0:
        raise ValueError(
            f"{type(schedule).__name__}: {argument} must be >= 0. Received: {argument}={value!r}"
        )
    return value
