"""Adam's relatives: Adamax, Nadam, AdamW (Keras 2's rules).

All three keep Adam's running mean of the gradient, m; they differ in what the
step is divided by (Adamax: a running maximum of |g|), in how the momentum
enters the step (Nadam: Nesterov's look-ahead) or in a weight decay kept out of
the gradient (AdamW).  One kernel pass per weight each (``adamax_update``,
``nadam_update``, ``adamw_update``; their twins in ``_kernels/reference.py``).
Names, arguments and defaults are tf_keras 2.21's (``tf.keras.optimizers``).
"""

from __future__ import annotations

from minidl import _kernels
from minidl.optimizers import Adam, Optimizer, _positive, in_unit_interval


class Adamax(Optimizer):
    """Adamax (Kingma & Ba 2015, section 7): Adam with the infinity norm.

        t = iterations + 1
        m = beta_1 * m + (1 - beta_1) * g
        u = max(beta_2 * u, |g|)
        w = w - learning_rate / (1 - beta_1^t) * m / (u + epsilon)

    u needs no bias correction: it is a maximum, not an average started at 0.
    Slots: ``m``, ``u`` (never negative).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name="Adamax", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.beta_1 = in_unit_interval(name, "beta_1", beta_1)
        self.beta_2 = in_unit_interval(name, "beta_2", beta_2)
        self.epsilon = _positive(name, "epsilon", epsilon)

    def slot_names(self):
        return ("m", "u")

    def nonnegative_slots(self):
        return ("u",)

    def _step_rate(self, learning_rate):
        return learning_rate / (1 - self.beta_1 ** (self._iterations + 1))  # lr_t

    def _update(self, param, grad, slots, rate):
        _kernels.current.adamax_update(param, grad, slots["m"], slots["u"], rate, self.beta_1,
                                        self.beta_2, self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class Nadam(Optimizer):
    """Nadam (Dozat 2016): Adam whose step already holds the next step's momentum.

    Keras's form, with a momentum that warms up, mu_t = beta_1 * (1 - 0.5 * 0.96^t),
    and prod_t = mu_1 * mu_2 * ... * mu_t::

        t = iterations + 1
        m = beta_1 * m + (1 - beta_1) * g
        v = beta_2 * v + (1 - beta_2) * g^2
        m_hat = mu_{t+1} * m / (1 - prod_{t+1}) + (1 - mu_t) * g / (1 - prod_t)
        v_hat = v / (1 - beta_2^t)
        w = w - learning_rate * m_hat / (sqrt(v_hat) + epsilon)

    prod_t is kept from step to step and recomputed from ``iterations`` after a
    restore (Keras restarts it at 1 when a model is loaded).
    PyTorch's ``NAdam`` is this rule with mu_t = beta_1 * (1 - 0.5 * 0.96^(t * momentum_decay)):
    its default ``momentum_decay=0.004`` warms the momentum up far more slowly than
    Keras; ``momentum_decay=1`` gives Keras's rule.
    Slots: ``m``, ``v`` (never negative).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name="Nadam", **kwargs):
        super().__init__(learning_rate, name, **kwargs)
        self.beta_1 = in_unit_interval(name, "beta_1", beta_1)
        self.beta_2 = in_unit_interval(name, "beta_2", beta_2)
        self.epsilon = _positive(name, "epsilon", epsilon)
        self._momentum_product = (0, 1.0)  # (t, prod_t)

    def slot_names(self):
        return ("m", "v")

    def nonnegative_slots(self):
        return ("v",)

    def _mu(self, t):
        return self.beta_1 * (1.0 - 0.5 * 0.96**t)

    def _product(self, t):
        """prod_t = mu_1 * ... * mu_t, from the cached product of an earlier step."""
        done, product = self._momentum_product
        if done > t:
            done, product = 0, 1.0
        for k in range(done + 1, t + 1):
            product *= self._mu(k)
        self._momentum_product = (t, product)
        return product

    def _step_rate(self, learning_rate):
        """(learning_rate, m_scale, g_scale, v_scale) of this step (see the class docstring)."""
        t = self._iterations + 1
        mu_t, mu_next = self._mu(t), self._mu(t + 1)
        product = self._product(t)
        m_scale = mu_next / (1.0 - product * mu_next)
        g_scale = (1.0 - mu_t) / (1.0 - product)
        v_scale = 1.0 / (1.0 - self.beta_2**t)
        return learning_rate, m_scale, g_scale, v_scale

    def _update(self, param, grad, slots, rate):
        learning_rate, m_scale, g_scale, v_scale = rate
        _kernels.current.nadam_update(param, grad, slots["m"], slots["v"], learning_rate,
                                       m_scale, g_scale, v_scale, self.beta_1, self.beta_2,
                                       self.epsilon)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter 2019): Adam with decoupled weight decay.

        w = w - learning_rate * weight_decay * w          (not through the gradient)
        then Adam's step (``Adam``'s docstring), in the same kernel pass.

    An L2 penalty in the loss would pass through Adam's division by sqrt(v) and
    shrink weights with large gradients less; this decay shrinks every weight by
    the same fraction.  Keras multiplies by the (un-corrected) learning rate; PyTorch's
    ``AdamW`` does too (``lr * weight_decay``), but adds epsilon to the corrected
    sqrt(v_hat), as for Adam.  Slots: ``m``, ``v`` (and ``v_max`` with amsgrad).
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, name="AdamW", **kwargs):
        if weight_decay is None:
            raise ValueError("Missing value of `weight_decay` which is required and must be "
                             "a float value.")
        super().__init__(learning_rate, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
                         amsgrad=amsgrad, name=name, weight_decay=weight_decay, **kwargs)
