"""Optimizers that accumulate squared gradients: Adagrad, Adadelta, Ftrl (Keras 2's rules).

Each weight gets its own step size from the history of its gradients: a weight
that has seen large gradients takes smaller steps.  The arithmetic of a step is
one kernel pass per weight (``adagrad_update``, ``adadelta_update``,
``ftrl_update``; the NumPy twins in ``_kernels/reference.py`` write it out).
Names, arguments and defaults are tf_keras 2.21's (``tf.keras.optimizers``).
"""

from __future__ import annotations

from minidl import _kernels
from minidl.optimizers import Optimizer, _non_negative, _positive, in_unit_interval


class Adagrad(Optimizer):
    """Adagrad (Duchi et al. 2011): divide by the root of all past squared gradients.

        a = a + g^2                        (a starts at initial_accumulator_value)
        w = w - learning_rate * g / sqrt(a + epsilon)

    The steps only ever shrink, so Adagrad suits sparse features and short runs.
    Slot: ``accumulator`` (never negative).
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 name="Adagrad", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.initial_accumulator_value = _non_negative(name, "initial_accumulator_value",
                                                       initial_accumulator_value)
        self.epsilon = _positive(name, "epsilon", epsilon)

    def slot_names(self):
        return ("accumulator",)

    def nonnegative_slots(self):
        return ("accumulator",)

    def _initial_slot_value(self, name):
        return self.initial_accumulator_value

    def _update(self, param, grad, slots, rate):
        _kernels.current.adagrad_update(param, grad, slots["accumulator"], rate, self.epsilon)

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """Adadelta (Zeiler 2012): steps sized by the running size of the past steps.

        a = rho * a + (1 - rho) * g^2                      (running mean of g^2)
        delta = -sqrt(d + epsilon) / sqrt(a + epsilon) * g
        d = rho * d + (1 - rho) * delta^2                  (running mean of delta^2)
        w = w + learning_rate * delta

    The paper has no learning rate (it is 1.0 there); Keras keeps one, 0.001 by default,
    so with Keras's defaults Adadelta moves slowly: tutorials often pass 1.0.
    Slots: ``accumulated_grad``, ``accumulated_delta_var`` (both never negative).
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, name="Adadelta", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.rho = in_unit_interval(name, "rho", rho, closed=True)
        self.epsilon = _positive(name, "epsilon", epsilon)

    def slot_names(self):
        return ("accumulated_grad", "accumulated_delta_var")

    def nonnegative_slots(self):
        return self.slot_names()

    def _update(self, param, grad, slots, rate):
        _kernels.current.adadelta_update(param, grad, slots["accumulated_grad"],
                                          slots["accumulated_delta_var"], rate, self.rho,
                                          self.epsilon)

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class Ftrl(Optimizer):
    """FTRL-Proximal (McMahan et al. 2013), Keras's form; z is the ``linear`` slot:

        g' = g + 2 * l2_shrinkage_regularization_strength * w
        a' = a + g^2                                  (a starts at initial_accumulator_value)
        z = z + g' - (a'^(-p) - a^(-p)) / learning_rate * w        (p = learning_rate_power)
        q = a'^(-p) / learning_rate + 2 * (l2_regularization_strength + beta / (2 * learning_rate))
        w = (clip(z, -l1, l1) - z) / q                (l1 = l1_regularization_strength)
        a = a'

    The new weight is computed from z and a alone (not from the old weight): a weight
    whose |z| stays within l1 is exactly 0, which is how Ftrl makes sparse models.
    The rule divides by the learning rate, so it must be > 0.
    Slots: ``accumulator`` (never negative), ``linear``.
    """

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, name="Ftrl", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        if isinstance(learning_rate_power, bool) or not isinstance(learning_rate_power,
                                                                   (int, float)) \
                or not learning_rate_power <= 0:
            raise ValueError("`learning_rate_power` needs to be negative or zero. Received: "
                             f"learning_rate_power={learning_rate_power}.")
        self.learning_rate_power = float(learning_rate_power)
        for arg, value in (("initial_accumulator_value", initial_accumulator_value),
                           ("l1_regularization_strength", l1_regularization_strength),
                           ("l2_regularization_strength", l2_regularization_strength),
                           ("l2_shrinkage_regularization_strength",
                            l2_shrinkage_regularization_strength),
                           ("beta", beta)):
            setattr(self, arg, _non_negative(name, arg, value))
        if self._schedule is None:
            self._step_rate(float(self.learning_rate))

    def slot_names(self):
        return ("accumulator", "linear")

    def nonnegative_slots(self):
        return ("accumulator",)

    def _initial_slot_value(self, name):
        return self.initial_accumulator_value if name == "accumulator" else 0.0

    def _step_rate(self, learning_rate):
        if not learning_rate > 0:
            raise ValueError(
                f"{self.name}: learning_rate must be > 0 (Ftrl divides by it), the rate of step "
                f"{self._iterations} is {learning_rate!r}."
            )
        return learning_rate

    def _update(self, param, grad, slots, rate):
        _kernels.current.ftrl_update(
            param, grad, slots["accumulator"], slots["linear"], rate, self.learning_rate_power,
            self.l1_regularization_strength, self.l2_regularization_strength,
            self.l2_shrinkage_regularization_strength, self.beta,
        )

    def get_config(self):
        return {**super().get_config(),
                "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength":
                    self.l2_shrinkage_regularization_strength,
                "beta": self.beta}
