"""SpectralNormalization: keep a layer's kernel at spectral norm 1 (Miyato et al. 2018,
"Spectral Normalization for GANs"), a wrapper around Dense, Conv2D, Embedding, ...

The spectral norm sigma(W) of a matrix is its largest singular value: how much W can
stretch a vector.  A GAN's discriminator whose every kernel has sigma = 1 cannot
change faster than its inputs do, which keeps its training stable.

In each TRAINING call (``training=True``: inside ``fit``), before the wrapped layer
runs, the kernel W (seen as a matrix (rows, out): every axis but the last flattened)
is divided by an estimate of sigma(W).  The estimate is the power iteration, carried
from call to call in the non-trainable weight ``vector_u`` (1, out)::

    repeat power_iterations times:
        v = normalize(u W^T)          (1, rows)
        u = normalize(v W)            (1, out)
    sigma = v W u^T                   (1, 1)
    W <- W / sigma;  vector_u <- u

where normalize(a) = a / sqrt(max(sum(a^2), 1e-12)).  One iteration per step is
enough: u changes little between steps, so the estimate follows W as it trains.  The
kernel itself is overwritten (as in Keras: the wrapped layer then runs as usual, and
the gradient of the loss reaches the normalized W, not through the division).  A
kernel of zeros is left alone.  Calls with ``training=False`` (``predict``,
``evaluate``) use the kernel as the last training call left it.

Weights: the wrapped layer's (trainable), then ``vector_u`` (1, out), non-trainable,
drawn from a truncated normal with stddev 0.02.

(tf_keras 2.21's SpectralNormalization cannot be called at all: its build sets a Keras 3
InputSpec and raises TypeError.  The numbers in the tests come from Keras 3.15, whose
layer computes the same as tf_keras's source; the weights are in Keras 2's order.)
"""

from __future__ import annotations

import numpy as np

from minidl import initializers
from minidl.layers.input_spec import InputSpec
from minidl.layers.wrappers import Wrapper


def _l2_normalize(a):
    """a / sqrt(max(sum(a^2), 1e-12)) (``tf.math.l2_normalize`` over all of a)."""
    return a / np.sqrt(np.maximum(np.sum(a * a), a.dtype.type(1e-12)))


class SpectralNormalization(Wrapper):
    """Divides the wrapped layer's kernel (or embeddings) by its largest singular value
    at every training call; see the module docstring.

        layers.SpectralNormalization(layers.Conv2D(64, 3), power_iterations=1)
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        if isinstance(power_iterations, bool) or not isinstance(power_iterations, (int, np.integer)):
            raise ValueError("`power_iterations` should be an integer greater than zero. "
                             f"Received: `power_iterations={power_iterations!r}`")
        if power_iterations <= 0:  # (Keras's words)
            raise ValueError("`power_iterations` should be greater than zero. Received: "
                             f"`power_iterations={power_iterations}`")
        self.power_iterations = int(power_iterations)
        self.vector_u = None

    @property
    def kernel(self):
        """The wrapped layer's kernel (or an Embedding's embeddings): the matrix normalized."""
        for name in ("kernel", "embeddings"):
            if getattr(self.layer, name, None) is not None:
                return getattr(self.layer, name)
            if hasattr(self.layer, name):
                raise ValueError(f'SpectralNormalization layer "{self.name}": the wrapped '
                                 f"{type(self.layer).__name__} has no {name} until it is built; "
                                 "call the wrapper on data first.")
        raise ValueError(f"{type(self.layer).__name__} object has no attribute 'kernel' "
                         "nor 'embeddings'")

    def build(self, input_shape):
        super().build(input_shape)
        self.input_spec = InputSpec(min_ndim=1, axes={-1: input_shape[-1]})
        kernel = self.kernel
        self.vector_u = self.add_weight(
            name="vector_u", shape=(1, kernel.shape[-1]), dtype=kernel.dtype,
            initializer=initializers.TruncatedNormal(stddev=0.02), trainable=False)

    def call(self, inputs, training=False):
        if training:
            self._normalize_kernel()
        return self.layer(inputs)

    def compute_output_shape(self, input_shape):
        return self.layer.compute_output_shape(input_shape)

    def normalized_weights(self):
        """``(vector_u, kernel)`` after one normalization, as arrays (nothing assigned)."""
        kernel = self.kernel.numpy()
        weights = kernel.reshape(-1, kernel.shape[-1])  # (rows, out)
        u = self.vector_u.numpy()
        for _ in range(self.power_iterations):
            v = _l2_normalize(u @ weights.T)  # (1, rows)
            u = _l2_normalize(v @ weights)  # (1, out)
        sigma = (v @ weights) @ u.T  # (1, 1): the largest singular value's estimate
        return u, (weights / sigma).reshape(kernel.shape)

    def _normalize_kernel(self):
        if not self.kernel.numpy().any():  # an all-zero kernel stays (sigma would be 0)
            return
        u, kernel = self.normalized_weights()
        self.vector_u.assign(u)
        self.kernel.assign(kernel)

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations}
