"""Optimizers: how a gradient becomes a change of the weights.

Each optimizer follows Keras's update rule exactly (defaults included), and
does its arithmetic in one pass over each weight with a kernel
(``minidl._kernels.current.sgd_update`` / ``rmsprop_update`` /
``adam_update``, whose NumPy twins in ``_kernels/reference.py`` spell out the
math).  The kernels work on flat 1-D views: ``param.data.reshape(-1)`` of a
C-contiguous array shares its memory, so the update lands in the weight.

An optimizer keeps, per weight, the "slots" its rule needs (SGD's velocity,
RMSprop's mean square, Adam's two moments) and counts its steps in
``iterations`` (an int that also answers ``.numpy()``, as Keras's int64
variable).  ``get_state()``/``set_state()`` export and restore all of it, so a
saved model resumes training exactly where it stopped.

The learning rate is a number or a schedule (``minidl.optimizers.schedules``,
evaluated at ``iterations`` before each step).  ``optimizer.learning_rate``
(alias ``lr``) is a 0-d ``LearningRate`` variable, as in Keras 2, so tutorials
and callbacks read and change it during training::

    float(model.optimizer.lr)                       # 0.001
    model.optimizer.learning_rate = 1e-4            # used from the next step on
    minidl.backend.set_value(model.optimizer.lr, 1e-4)

Each step reads it once, as a Python float, and hands that to the kernels.

Every optimizer also takes Keras 2's ``clipnorm``, ``clipvalue`` and
``global_clipnorm`` (``clipping.py``) and ``weight_decay`` (decoupled: the
weights shrink by ``learning_rate * weight_decay`` of themselves before each
step; ``AdamW`` is Adam with it on by default).  Keras 2's legacy ``decay``
(Deep Learning with Python's ``RMSprop(lr=1e-4, decay=1e-6)``) is time-based
learning-rate decay, as ``tf.keras.optimizers.legacy`` does it: step ``k``
(counting from 0) uses ``learning_rate / (1 + decay * k)``, while
``optimizer.learning_rate`` keeps reading the rate that was set.  Keras 2's other optimizers
live beside this file: ``Adagrad``, ``Adadelta`` and ``Ftrl`` in
``accumulators.py``, ``Adamax``, ``Nadam`` and ``AdamW`` in ``adam_family.py``.

Use with ``compile("adam")`` or by hand::

    with minidl.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    grads = tape.gradient(loss, model.trainable_weights)
    optimizer.apply_gradients(zip(grads, model.trainable_weights))
"""

from __future__ import annotations

import math
import operator
import warnings

import numpy as np

from minidl import _kernels
from minidl.autograd import GradientTape, mark_changed, no_grad
from minidl.errors import unknown_name_message
from minidl.optimizers import schedules
from minidl.optimizers.clipping import check_clip_arguments, clip_gradients
from minidl.optimizers.schedules import LearningRateSchedule
from minidl.tensor import Tensor, Variable

_NOT_SETTABLE = (
    "This optimizer was created with a `LearningRateSchedule` object as its `learning_rate` "
    "constructor argument, hence its learning rate is not settable. If you need the learning "
    "rate to be settable, you should instantiate the optimizer with a float `learning_rate` "
    "argument."
)


class LearningRate(Variable):
    """An optimizer's learning rate: a 0-d float64 ``Variable`` (Keras 2 keeps it in one too).

    ``float(lr)``, ``lr.numpy()``, ``print(lr)``, ``lr.assign(1e-4)`` and
    ``minidl.backend.get_value/set_value`` work as on any variable; comparisons
    and format specs (``f"{lr:.2e}"``) treat it as the number it holds.  A value
    assigned is checked: a number >= 0.  It is float64 so that the rate you set
    is exactly the rate used (Keras keeps float32: 0.001 reads 0.0010000000474974513).

    The rate an optimizer with a schedule reports (``scheduled=True``) belongs to
    the schedule: assigning to it raises TypeError, as setting it does in Keras.
    """

    __slots__ = ("_owner", "_scheduled")

    def __init__(self, value, owner, scheduled=False):
        name = "current_learning_rate" if scheduled else "learning_rate"
        super().__init__(np.float64(value), trainable=False, name=name, dtype=np.float64)
        self._owner = owner
        self._scheduled = scheduled

    def assign(self, value):
        if self._scheduled:
            raise TypeError(_NOT_SETTABLE)
        self._store(_as_rate(self._owner, value))
        return self

    def assign_add(self, value):
        return self.assign(self.data + np.asarray(value))

    def assign_sub(self, value):
        return self.assign(self.data - np.asarray(value))

    def numpy(self):
        """The value as a NumPy scalar (``np.float64``), as ``.numpy()`` of a 0-d
        variable is in Keras: ``round(optimizer.lr.numpy(), 5)`` works."""
        return self.data[()]

    def _store(self, rate):
        self.data[()] = rate
        mark_changed(self)
        return rate

    def __format__(self, spec):
        return format(float(self), spec) if spec else repr(self)

    def _compare(self, other, compare):
        return compare(float(self), float(other) if isinstance(other, Tensor) else other)

    def __eq__(self, other):
        return self._compare(other, operator.eq)

    def __lt__(self, other):
        return self._compare(other, operator.lt)

    def __le__(self, other):
        return self._compare(other, operator.le)

    def __gt__(self, other):
        return self._compare(other, operator.gt)

    def __ge__(self, other):
        return self._compare(other, operator.ge)

    __hash__ = Variable.__hash__  # still one object (defining __eq__ would drop the hash)


# tf_keras 2's get_config() keys without a minidl counterpart, and the values that ask
# for nothing (jit_compile and the legacy flag change nothing in what is computed)
# (None: any value)
_KERAS_ONLY = {"use_ema": (False,), "ema_momentum": None, "ema_overwrite_frequency": (None,),
               "jit_compile": None, "is_legacy_optimizer": (False,)}


class Iterations(int):
    """``optimizer.iterations``: the number of steps taken, an ``int`` that also
    reads like Keras 2's int64 variable (``.numpy()``, ``.assign(n)``, ``dtype``).

    ``int(opt.iterations)``, arithmetic and comparisons work as on the number;
    ``assign`` sets the optimizer's count (as ``opt.iterations = n`` does).
    """

    dtype = np.dtype(np.int64)
    shape = ()

    def __new__(cls, value, owner):
        self = super().__new__(cls, value)
        self._owner = owner
        return self

    def numpy(self):
        return np.int64(self)

    def assign(self, value):
        self._owner.iterations = value
        return self._owner.iterations


class Optimizer:
    """Base class: bookkeeping shared by every optimizer.

    Subclasses list their slot names in ``slot_names(self)`` and implement
    ``_update(param, grad, slots, rate)`` on flat arrays; ``rate`` is what
    ``_step_rate(learning_rate)`` made of this step's learning rate.  A subclass
    whose kernel applies ``weight_decay`` itself sets ``_FUSED_WEIGHT_DECAY``.
    """

    _FUSED_WEIGHT_DECAY = False

    def __init__(self, learning_rate, name, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, decay=0.0, **kwargs):
        if "lr" in kwargs:
            warnings.warn(
                f"{name}: the `lr` argument is deprecated, use `learning_rate` instead.",
                DeprecationWarning,
                stacklevel=3,
            )
            learning_rate = kwargs.pop("lr")
        if kwargs:
            raise TypeError(f"{name}: unexpected keyword argument(s) {sorted(kwargs)}.")
        self.name = name
        self._iterations = 0
        self.decay = 0.0 if decay is None else _non_negative(name, "decay", decay)
        self.weight_decay = None if weight_decay is None else _non_negative(name, "weight_decay",
                                                                            weight_decay)
        self.clipnorm, self.clipvalue, self.global_clipnorm = check_clip_arguments(
            name, clipnorm, clipvalue, global_clipnorm)
        self._slots = {}  # id(weight) -> (weight, {slot name: flat array})
        self._schedule = None  # a LearningRateSchedule, or None for a rate that stays as set
        self._learning_rate = None  # the LearningRate that `learning_rate` returns
        self.learning_rate = learning_rate

    # --- what subclasses provide ------------------------------------------
    def slot_names(self):
        return ()

    def _step_rate(self, learning_rate):
        """The rate the updates of this step use (Adam's bias correction changes it)."""
        return learning_rate

    def _update(self, param, grad, slots, rate):
        raise NotImplementedError

    def _initial_slot_value(self, name):
        """What a slot holds before the first step (Adagrad's accumulator: not 0)."""
        return 0.0

    def nonnegative_slots(self):
        """The slots that can never be negative (running means of squares and the like):
        a saved file whose such slot holds a negative, NaN or inf value is refused."""
        return tuple(name for name in self.slot_names() if name in ("v", "v_max", "rms"))

    # --- the step counter ------------------------------------------------------
    @property
    def iterations(self):
        """The number of steps taken (``Iterations``: an int with ``.numpy()``)."""
        return Iterations(self._iterations, self)

    @iterations.setter
    def iterations(self, value):
        if isinstance(value, Tensor):
            value = value.data
        if isinstance(value, np.ndarray) and value.size == 1:
            value = value.item()
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(
                f"{self.name}: iterations must be a non-negative integer, received {value!r}."
            )
        self._iterations = int(value)

    # --- the learning rate ----------------------------------------------------
    @property
    def learning_rate(self):
        """The learning rate as a ``LearningRate`` variable (``float()`` it for the number).

        With a schedule it is the rate of the latest step (of the first step
        before any), as Keras reports it, and it cannot be set.
        """
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, LearningRateSchedule):
            self._schedule = value
            latest = self._scheduled_rate(max(self._iterations - 1, 0))
            self._learning_rate = LearningRate(latest, self.name, scheduled=True)
        elif self._schedule is not None:
            raise TypeError(_NOT_SETTABLE)
        elif self._learning_rate is None:
            self._learning_rate = LearningRate(_as_rate(self.name, value), self.name)
        else:
            self._learning_rate.assign(value)  # the same variable: references to it stay valid

    lr = learning_rate  # Keras 2's alias, read and set

    def _rate_for_step(self):
        """The learning rate of the step about to run, as a Python float."""
        if self._schedule is None:
            return self._learning_rate.data.item()
        return self._learning_rate._store(self._scheduled_rate(self._iterations))

    def _scheduled_rate(self, step):
        rate = self._schedule(step)
        try:
            return _as_rate(self.name, rate)
        except ValueError:
            raise ValueError(
                f"{self.name}: the learning rate schedule {self._schedule!r} returned {rate!r} "
                f"for step {step}; a learning rate must be a number >= 0."
            ) from None

    # --- public API ---------------------------------------------------------
    def apply_gradients(self, grads_and_vars):
        """Apply one step: ``grads_and_vars`` is an iterable of (gradient, weight).

        A gradient may be an ndarray or a Tensor shaped like its weight;
        pairs whose gradient is None (the weight did not affect the loss)
        are skipped, as Keras does after warning.  The gradients are clipped
        first (``clipnorm`` / ``global_clipnorm`` / ``clipvalue``), then the
        weights decay (``weight_decay``), then the rule steps; last, a weight with
        a ``constraint`` (``minidl.constraints``) becomes ``constraint(weight)``.
        """
        pairs = [(g, w) for g, w in grads_and_vars if g is not None]
        for grad, weight in pairs:
            if not isinstance(weight, Tensor):
                raise TypeError(
                    f"{self.name}.apply_gradients: expected (gradient, weight Tensor) pairs, "
                    f"received a weight of type {type(weight).__name__}."
                )
        grads = [self._flat_grad(g, w) for g, w in pairs]
        if self.clipnorm or self.clipvalue or self.global_clipnorm:
            grads = clip_gradients(grads, self.clipnorm, self.clipvalue, self.global_clipnorm)
        learning_rate = self._rate_for_step()  # read once per step
        if self.decay:  # Keras 2's time-based decay (see the module docstring)
            learning_rate /= 1.0 + self.decay * self._iterations
        rate = self._step_rate(learning_rate)
        decay = learning_rate * self.weight_decay if self.weight_decay else 0.0
        for grad, (_, weight) in zip(grads, pairs):
            param = weight.data.reshape(-1)
            if decay and not self._FUSED_WEIGHT_DECAY:
                param -= param * param.dtype.type(decay)  # Keras 2: w -= w * wd * lr
            self._update(param, grad, self._slots_for(weight), rate)
            mark_changed(weight)  # a graph recorded before this step must not reuse it
        for _, weight in pairs:  # Keras 2: constraints after the whole update
            if getattr(weight, "constraint", None) is not None:
                _apply_constraint(self.name, weight)
        self._iterations += 1

    def minimize(self, loss, var_list, tape=None):
        """One step that lowers ``loss``: its gradients with respect to
        ``var_list`` (through ``tape`` if given), then ``apply_gradients``."""
        var_list = var_list if type(var_list) is list else list(var_list)
        grads = (tape or GradientTape()).gradient(loss, var_list, as_arrays=True)
        self.apply_gradients(zip(grads, var_list))

    def _flat_grad(self, grad, weight):
        grad = grad.data if isinstance(grad, Tensor) else grad
        grad = np.ascontiguousarray(grad, dtype=weight.dtype)
        if grad.shape != weight.shape:
            raise ValueError(
                f"{self.name}.apply_gradients: the gradient for {weight.name or 'a weight'} has "
                f"shape {grad.shape}, the weight has shape {weight.shape}."
            )
        if not weight.data.flags.c_contiguous:
            raise ValueError(f"{self.name}: weight {weight.name} is not C-contiguous.")
        return grad.reshape(-1)

    def _slots_for(self, weight):
        entry = self._slots.get(id(weight))
        if entry is None or entry[0] is not weight:
            slots = {name: np.full(weight.size, self._initial_slot_value(name), weight.dtype)
                     for name in self.slot_names()}
            entry = self._slots[id(weight)] = (weight, slots)
        return entry[1]

    # --- state, for saving --------------------------------------------------
    def get_config(self):
        """The constructor's arguments: the learning rate as it is now (a float), or
        the schedule's ``{"class_name": ..., "config": ...}``."""
        if self._schedule is not None:
            learning_rate = schedules.serialize(self._schedule)
        else:
            learning_rate = float(self._learning_rate)
        config = {"name": self.name, "weight_decay": self.weight_decay, "clipnorm": self.clipnorm,
                  "global_clipnorm": self.global_clipnorm, "clipvalue": self.clipvalue,
                  "learning_rate": learning_rate}
        if self.decay:  # (only then: a config without it is a Keras 2 new-style one)
            config["decay"] = self.decay
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """The optimizer ``get_config`` described.  A tf_keras 2 config loads too: its
        keys for what minidl does not have (an EMA of the weights, XLA) are dropped
        when they ask for nothing (``use_ema=False``), refused otherwise."""
        config = dict(config)
        for key, allowed in _KERAS_ONLY.items():
            value = config.pop(key, None)
            if allowed and value is not None and value not in allowed:
                raise ValueError(
                    f"{cls.__name__}.from_config: {key}={value!r} asks for something "
                    f"minidl's optimizers do not do (only {allowed} is accepted)."
                )
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"],
                                                            custom_objects)
        return cls(**config)

    def variables(self):
        """Every slot array (flat), weight by weight, in the order first seen."""
        return [array for _, slots in self._slots.values() for array in slots.values()]

    def get_state(self, weights=None):
        """``{"iterations": int, "slots": [[array per slot name] per weight]}``.

        ``weights`` fixes the order (a model passes its trainable_weights);
        a weight the optimizer has not updated yet gets zero slots.
        """
        if weights is None:
            weights = [w for w, _ in self._slots.values()]
        slots = [
            [self._slots_for(w)[name].reshape(w.shape).copy() for name in self.slot_names()]
            for w in weights
        ]
        return {"iterations": self._iterations, "slots": slots}

    def set_state(self, state, weights):
        """Restore what ``get_state(weights)`` returned onto ``weights``."""
        slots = state["slots"]
        if len(slots) != len(weights):
            raise ValueError(
                f"{self.name}.set_state: the state holds slots for {len(slots)} weights, "
                f"the model has {len(weights)} trainable weights."
            )
        for weight, arrays in zip(weights, slots):
            target = self._slots_for(weight)
            if len(arrays) != len(target):
                raise ValueError(
                    f"{self.name}.set_state: expected {len(target)} slot arrays "
                    f"{self.slot_names()} per weight, received {len(arrays)}."
                )
            for name, array in zip(self.slot_names(), arrays):
                array = np.asarray(array)
                if array.size != weight.size:
                    raise ValueError(
                        f"{self.name}.set_state: slot {name!r} for {weight.name} has "
                        f"{array.size} values, the weight has {weight.size}."
                    )
                target[name][...] = array.reshape(-1)
        self.iterations = int(state["iterations"])
        if self._schedule is not None:  # the rate of the latest step, as after that step
            self._learning_rate._store(self._scheduled_rate(max(self._iterations - 1, 0)))

    def __repr__(self):
        config = self.get_config()
        if self._schedule is not None:
            config["learning_rate"] = self._schedule
        args = ", ".join(f"{k}={v!r}" for k, v in config.items()
                         if k != "name" and v is not None)
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum (Keras rule).

        v = momentum * v - learning_rate * g
        w = w + v                                  (nesterov: w + momentum * v - learning_rate * g)

    With momentum=0 this is plain ``w -= learning_rate * g``.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"SGD: momentum must be in [0, 1], received {momentum!r}.")
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def slot_names(self):
        return ("momentum",) if self.momentum > 0 else ()

    def _update(self, param, grad, slots, rate):
        _kernels.current.sgd_update(
            param, grad, slots.get("momentum"), rate, self.momentum, self.nesterov
        )

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """Divide each step by a running root-mean-square of the gradient (Keras rule).

        s = rho * s + (1 - rho) * g^2
        step = learning_rate * g / sqrt(s + epsilon)
        w = w - step              (momentum: m = momentum * m + step; w = w - m)

    Weights with consistently large gradients take smaller steps.
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 name="RMSprop", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        if not 0.0 <= rho < 1.0:
            raise ValueError(f"RMSprop: rho must be in [0, 1), received {rho!r}.")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"RMSprop: momentum must be in [0, 1], received {momentum!r}.")
        self.rho = float(rho)
        self.momentum = float(momentum)
        self.epsilon = _positive(name, "epsilon", epsilon)

    def slot_names(self):
        return ("rms", "momentum") if self.momentum > 0 else ("rms",)

    def _update(self, param, grad, slots, rate):
        _kernels.current.rmsprop_update(
            param, grad, slots["rms"], slots.get("momentum"), rate, self.rho, self.momentum,
            self.epsilon,
        )

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon}


class Adam(Optimizer):
    """Adam: running means of the gradient (m) and of its square (v) (Keras rule).

        t = iterations + 1
        lr_t = learning_rate * sqrt(1 - beta_2^t) / (1 - beta_1^t)      (bias correction)
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g^2
        w = w - lr_t * m / (sqrt(v) + epsilon)

    Keras adds epsilon to sqrt(v), not to the bias-corrected sqrt(v_hat) as
    PyTorch does; the two differ only through epsilon.
    ``amsgrad=True`` divides by the running maximum of v instead.
    With ``weight_decay`` the weights first shrink by ``learning_rate * weight_decay``
    of themselves, in the same pass (the ``adamw_update`` kernel; see ``AdamW``).
    """

    _FUSED_WEIGHT_DECAY = True

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, name="Adam", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        for arg, value in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0.0 <= value < 1.0:
                raise ValueError(f"Adam: {arg} must be in [0, 1), received {value!r}.")
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = _positive(name, "epsilon", epsilon)
        self.amsgrad = bool(amsgrad)

    def slot_names(self):
        return ("m", "v", "v_max") if self.amsgrad else ("m", "v")

    def nonnegative_slots(self):
        return self.slot_names()[1:]  # v (and v_max)

    def _step_rate(self, learning_rate):
        """(lr_t, decay): the bias-corrected rate and the weight decay of this step."""
        t = self._iterations + 1
        lr_t = learning_rate * math.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)
        return lr_t, learning_rate * (self.weight_decay or 0.0)

    def _update(self, param, grad, slots, rate):
        lr_t, decay = rate
        if decay:
            _kernels.current.adamw_update(
                param, grad, slots["m"], slots["v"], slots.get("v_max"), lr_t, decay,
                self.beta_1, self.beta_2, self.epsilon,
            )
        else:
            _kernels.current.adam_update(
                param, grad, slots["m"], slots["v"], slots.get("v_max"), lr_t, self.beta_1,
                self.beta_2, self.epsilon,
            )

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


def get(identifier):
    """An Optimizer from a name (``"adam"``, any case), an Optimizer instance or
    class, or a ``{"class_name": ..., "config": ...}`` dict (``deserialize``)."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        from minidl.utils.object_registration import get_registered_object

        cls = _BY_NAME.get(identifier.lower()) or get_registered_object(identifier)
        if cls is None:
            raise ValueError(unknown_name_message("optimizer", identifier, _BY_NAME))
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    raise TypeError(
        f"optimizer must be a name such as 'adam' or an Optimizer instance, "
        f"received {identifier!r} of type {type(identifier).__name__}."
    )


def serialize(optimizer):
    """``{"class_name": "Adam", "config": {...}}`` (a schedule nested as its own such dict)."""
    from minidl.utils.object_registration import get_registered_name

    return {"class_name": get_registered_name(type(optimizer)), "config": optimizer.get_config()}


def deserialize(config, custom_objects=None):
    """The optimizer ``serialize`` described.  Classes (the optimizer's and its
    schedule's) are looked up by name among minidl's own and ``custom_objects``;
    nothing from the file is imported or run."""
    from minidl.utils.object_registration import custom_objects_in_effect

    classes = {cls.__name__: cls for cls in _BY_NAME.values()}
    classes.update({name: cls for name, cls in custom_objects_in_effect(custom_objects).items()
                    if isinstance(cls, type) and issubclass(cls, Optimizer)})
    cls = classes.get(config["class_name"])
    if cls is None and isinstance(config["class_name"], str):  # Keras takes "adam" here too
        cls = _BY_NAME.get(config["class_name"].lower())
    if cls is None:
        raise ValueError(unknown_name_message("optimizer class", config["class_name"], classes))
    return cls.from_config(config["config"], custom_objects)


def _apply_constraint(owner, weight):
    """``weight.assign(weight.constraint(weight))``, outside any graph; a constraint
    returning another shape is refused before anything is written."""
    with no_grad():
        projected = weight.constraint(weight)
    if np.shape(projected) != weight.shape:
        raise ValueError(
            f"{owner}: the constraint {weight.constraint!r} of {weight.name or 'a weight'} "
            f"returned shape {np.shape(projected)}; a constraint must keep the weight's shape "
            f"{weight.shape}."
        )
    weight.assign(projected)


def _as_rate(owner, value):
    """A learning rate as a Python float: a number >= 0 (0 is allowed: it freezes
    the weights, as in Keras and PyTorch), or a Tensor or array holding one."""
    if isinstance(value, (Tensor, np.ndarray)) and value.size == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not math.isfinite(value) or value < 0:
        raise ValueError(
            f"{owner}: learning_rate must be a non-negative number or a LearningRateSchedule, "
            f"received {value!r}."
        )
    return float(value)


def _non_negative(owner, arg, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not math.isfinite(value) or value < 0:
        raise ValueError(f"{owner}: {arg} must be a number >= 0, received {value!r}.")
    return float(value)


def in_unit_interval(owner, arg, value, closed=False):
    """``value`` as a float in [0, 1) ([0, 1] if ``closed``), or Keras-worded ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not (0.0 <= value <= 1.0 if closed else 0.0 <= value < 1.0):
        raise ValueError(f"{owner}: {arg} must be in [0, 1{']' if closed else ')'}, "
                         f"received {value!r}.")
    return float(value)


def _positive(owner, arg, value):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)) \
            or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{owner}: {arg} must be a positive number, received {value!r}.")
    return float(value)


# Keras 2's other optimizers, in modules of their own (they build on the helpers above)
from minidl.optimizers.accumulators import Adadelta, Adagrad, Ftrl  # noqa: E402
from minidl.optimizers.adam_family import Adamax, AdamW, Nadam  # noqa: E402

_BY_NAME = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "adagrad": Adagrad,
            "adadelta": Adadelta, "adamax": Adamax, "nadam": Nadam, "adamw": AdamW,
            "ftrl": Ftrl}
