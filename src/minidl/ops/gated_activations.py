"""Self-gated activations: gelu, swish (silu), mish.

Each multiplies its input by a smooth gate s(x) between 0 and 1 (a soft
version of relu's step):

    gelu   s = Phi(x), the standard normal's CDF  (or its tanh approximation)
    swish  s = sigmoid(x)
    mish   s = tanh(softplus(x))

so they share one forward, y = x * s(x), and one backward, by the product
rule: dy/dx = s(x) + x * s'(x).  Each gate below comes with its derivative.
"""

from __future__ import annotations

import math

import numpy as np

from minidl.autograd import record
from minidl.ops.activations import _sigmoid
from minidl.ops.arithmetic import as_tensor

_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
_GELU_CUBIC = 0.044715  # the cubic term of GELU's tanh approximation (Hendrycks & Gimpel)


def _gated(x, gate, gate_derivative):
    """y = x * gate(x);  dy/dx = gate(x) + x * gate_derivative(x, gate(x))."""
    x = as_tensor(x)
    s = gate(x.data)

    def backward(grad):
        return (grad * (s + x.data * gate_derivative(x.data, s)),)

    return record(x.data * s, (x,), backward)


def _normal_cdf(x):
    from scipy.special import erf  # imported here: scipy.special is slow to import

    return 0.5 * (1 + erf(x / math.sqrt(2)))


def _normal_pdf(x, s):
    return np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _gelu_tanh_gate(x):
    return 0.5 * (1 + np.tanh(_SQRT_2_OVER_PI * (x + _GELU_CUBIC * x * x * x)))


def _gelu_tanh_gate_derivative(x, s):
    tanh = 2 * s - 1
    return 0.5 * (1 - tanh * tanh) * _SQRT_2_OVER_PI * (1 + 3 * _GELU_CUBIC * x * x)


def gelu(x, approximate=False):
    """Gaussian error linear unit: x * Phi(x), Phi(x) = (1 + erf(x / sqrt 2)) / 2.

    Keras 2's default is this exact form; ``approximate=True`` uses
    Phi(x) ~ (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2.
    Gate derivatives: Phi'(x) = e^(-x^2/2) / sqrt(2 pi); for the approximation,
    (1 - tanh^2) / 2 * sqrt(2/pi) * (1 + 3 * 0.044715 x^2).
    """
    if approximate:
        return _gated(x, _gelu_tanh_gate, _gelu_tanh_gate_derivative)
    return _gated(x, _normal_cdf, _normal_pdf)


def swish(x):
    """x * sigmoid(x) (also called silu).   Gate derivative: s (1 - s)."""
    return _gated(x, _sigmoid, lambda x, s: s * (1 - s))


silu = swish  # Keras 3's name


def mish(x):
    """x * tanh(softplus(x)), softplus(x) = log(1 + e^x).

    Gate derivative: (1 - s^2) * sigmoid(x), since softplus' = sigmoid.
    """
    return _gated(x, lambda x: np.tanh(np.logaddexp(0, x)),
                  lambda x, s: (1 - s * s) * _sigmoid(x))
