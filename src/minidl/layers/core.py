"""Core layers: Dense, Activation, Dropout, Flatten, Reshape, Identity.

``Dense(units)`` computes ``y = activation(x @ kernel + bias)`` with a kernel
of shape ``(input_features, units)`` (Keras's layout, so Keras weights can be
copied in) and a bias of shape ``(units,)``.  Its parameter count is
``input_features * units + units``: 784 * 128 + 128 = 100480.
"""

from __future__ import annotations

import numpy as np

from minidl import activations, backend, constraints, initializers, ops, random, regularizers
from minidl._kernels import ACTIVATIONS as FUSED_ACTIVATIONS  # applied in the product's pass
from minidl.layers.base import Layer, product


class ActivationMixin:
    """For layers ending in an activation (Dense, Conv2D, Activation).

    Sets ``activation`` (the function), ``activation_name`` (its name) and
    splits it into the part the kernel applies (``_fused``) and the part left
    to apply afterwards (``_after``, or None).  A softmax is applied
    afterwards; its output remembers its input, the logits, so that a
    cross-entropy loss can use the fused kernel (see ``ops.softmax``).
    """

    def _set_activation(self, activation):
        self.activation = activations.get(activation)
        self.activation_name = activations.serialize(self.activation)
        if activations.is_builtin(self.activation) and self.activation_name in FUSED_ACTIVATIONS:
            self._fused, self._after = self.activation_name, None
        elif self.activation is activations.softmax:
            self._fused, self._after = "linear", ops.softmax  # the same function, one call less
        else:
            self._fused, self._after = "linear", self.activation


class WeightRegularizersMixin:
    """For layers with a kernel and a bias (Dense, Conv2D, ...): their arguments
    (``use_bias``, the initializers, ``kernel_regularizer`` and ``bias_regularizer``:
    see ``minidl.regularizers``; ``kernel_constraint`` and ``bias_constraint``: see
    ``minidl.constraints``), the two weights, and the regularizer and constraint
    entries of their config, as Keras writes them."""

    def _set_kernel_and_bias(self, use_bias, kernel_initializer, bias_initializer,
                             kernel_regularizer, bias_regularizer, kernel_constraint=None,
                             bias_constraint=None):
        """The weights' arguments, checked; the weights themselves come in ``build``."""
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self._set_regularizers(kernel_regularizer, bias_regularizer)
        self.kernel_constraint = self._constraint("kernel_constraint", kernel_constraint)
        self.bias_constraint = self._constraint("bias_constraint", bias_constraint)
        self.kernel = self.bias = None

    def _add_kernel_and_bias(self, kernel_shape, units):
        """The kernel of ``kernel_shape`` and, with ``use_bias``, a bias of ``units``."""
        self.kernel = self.add_weight("kernel", shape=kernel_shape,
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight("bias", shape=(units,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    def _set_regularizers(self, kernel_regularizer, bias_regularizer):
        self.kernel_regularizer = self._regularizer("kernel_regularizer", kernel_regularizer)
        self.bias_regularizer = self._regularizer("bias_regularizer", bias_regularizer)

    def _regularizers_config(self):
        """The three regularizers' entries, then the two constraints' (Keras's order)."""
        return {
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        }


class Dense(WeightRegularizersMixin, ActivationMixin, Layer):
    """A fully connected layer: ``activation(x @ kernel + bias)``.

    Inputs of rank > 2 are transformed along their last axis, as in Keras.
    """

    supports_masking = True  # a sequence's mask goes on to its per-step outputs

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(
                f'Dense layer "{self.name}": units must be a positive integer, received {units!r}.'
            )
        self.units = int(units)
        self._set_activation(activation)
        self._set_kernel_and_bias(use_bias, kernel_initializer, bias_initializer,
                                  kernel_regularizer, bias_regularizer, kernel_constraint,
                                  bias_constraint)
        self._input_dim = None

    def build(self, input_shape):
        if len(input_shape) < 2 or not input_shape[-1]:
            raise ValueError(
                f'Dense layer "{self.name}" needs inputs with a batch axis and a known, nonzero '
                f"last axis (the features), received input shape {tuple(input_shape)}."
            )
        self._input_dim = input_shape[-1]
        self._add_kernel_and_bias((self._input_dim, self.units), self.units)

    def compute_output_shape(self, input_shape):
        if self._input_dim is not None and input_shape[-1] != self._input_dim:
            raise ValueError(self._shape_message(input_shape))
        return (*input_shape[:-1], self.units)

    def call(self, inputs):
        shape = inputs.shape
        if len(shape) < 2 or shape[-1] != self._input_dim:
            raise ValueError(self._shape_message(shape))
        y = ops.dense(inputs, self.kernel, self.bias, self._fused)
        return y if self._after is None else self._after(y)

    def _shape_message(self, received):
        message = (
            f'Input of layer "{self.name}" is incompatible with the layer: expected shape '
            f"(None, {self._input_dim}) (last axis {self._input_dim}), received shape {tuple(received)}."
        )
        if len(received) > 2:
            message += (
                f" Did you forget Flatten? Images of shape {tuple(received[1:])} must be "
                "flattened first (add layers.Flatten() before this layer, or reshape x "
                f"to (-1, {product(received[1:])}))."
            )
        elif len(received) < 2:
            message += " Inputs need a batch axis: reshape x to (-1, 1) for a single feature."
        else:
            message += " Check input_shape of the first layer against the data's shape."
        return message

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            **self._regularizers_config(),
        }


class Activation(ActivationMixin, Layer):
    """Applies an activation function: ``Activation("softmax")``."""

    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self._set_activation(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Dropout(Layer):
    """Randomly zeroes a fraction ``rate`` of the inputs during training.

    The kept inputs are scaled by ``1 / (1 - rate)`` ("inverted dropout"), so
    the expected value is unchanged and inference needs no rescaling: outside
    training the layer passes its input through untouched.

    ``noise_shape`` drops values together: ``(None, 1, 64)`` on inputs of
    shape ``(N, T, 64)`` draws one mask per sample and feature, shared by all
    T steps (None means the input's size along that axis, as in Keras).
    """

    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        label = f'{type(self).__name__} layer "{self.name}"'
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(f"{label}: rate must be a number in [0, 1), received {rate!r}.")
        if noise_shape is not None and not (isinstance(noise_shape, (tuple, list)) and all(
                d is None or (isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0)
                for d in noise_shape)):
            raise ValueError(f"{label}: noise_shape must be a tuple of positive integers or None "
                             f"(the input's size), received {noise_shape!r}.")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(
            None if d is None else int(d) for d in noise_shape)
        self.seed = seed
        self._generator = np.random.default_rng(seed) if seed is not None else None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def call(self, inputs, training=False):
        if not training or self.rate == 0.0:
            return inputs
        generator = self._generator or random.get_generator()
        return ops.dropout(inputs, self.rate, training=True, generator=generator,
                           noise_shape=self._noise_shape(inputs.shape))

    def _noise_shape(self, input_shape):
        """``noise_shape`` with each None replaced by the input's size on that axis
        (None when there is none: one draw per value)."""
        if self.noise_shape is None:
            return None
        noise_shape = tuple(size if d is None else d for d, size in zip(self.noise_shape, input_shape))
        if len(self.noise_shape) != len(input_shape) or any(
                n not in (1, size) for n, size in zip(noise_shape, input_shape)):
            raise ValueError(
                f'{type(self).__name__} layer "{self.name}": noise_shape {self.noise_shape} does '
                f"not fit inputs of shape {tuple(input_shape)}: it needs one entry per axis, each "
                "None, 1 or that axis's size."
            )
        return noise_shape

    def get_config(self):
        noise_shape = None if self.noise_shape is None else tuple(self.noise_shape)
        return {**super().get_config(), "rate": self.rate, "noise_shape": noise_shape,
                "seed": self.seed}


class Identity(Layer):
    """Passes its input through unchanged: a placeholder where a layer is expected
    (``Identity()`` in place of an optional block).

    As in tf_keras 2.21, a sequence's mask stops here (``supports_masking`` is False):
    after ``Embedding(mask_zero=True)``, an LSTM behind an Identity sees every step.
    """

    def call(self, inputs):
        return ops.reshape(inputs, inputs.shape)  # a new tensor (tf.identity's), without the mask

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class Flatten(Layer):
    """Flattens each sample to one axis: (N, 28, 28) -> (N, 784).

    ``data_format="channels_first"`` (inputs shaped (N, C, ...)) moves the channel
    axis last before flattening, so the features come out in the same order as
    from a channels-last copy of the same data (Keras's rule).
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(
                f'Flatten layer "{self.name}": data_format must be "channels_last" or '
                f'"channels_first", received {data_format!r}.')
        self.data_format = data_format or backend.image_data_format()

    def call(self, inputs):
        if self.data_format == "channels_first" and inputs.ndim > 2:
            inputs = ops.transpose(inputs, (0, *range(2, inputs.ndim), 1))
        return ops.flatten(inputs)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], product(input_shape[1:]))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (one axis may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        try:
            self.target_shape = tuple(int(d) for d in target_shape)
        except (TypeError, ValueError):
            self.target_shape = ()
        if not self.target_shape or sum(d == -1 for d in self.target_shape) > 1 or any(
            d <= 0 and d != -1 for d in self.target_shape
        ):
            raise ValueError(
                f'Reshape layer "{self.name}": target_shape must hold positive integers and '
                f"at most one -1, received {target_shape!r}."
            )

    def compute_output_shape(self, input_shape):
        total = product(input_shape[1:])
        known = product([d for d in self.target_shape if d != -1])
        if -1 in self.target_shape:
            if total is None:
                target = tuple(None if d == -1 else d for d in self.target_shape)
            elif total % known:
                raise ValueError(self._message(input_shape))
            else:
                target = tuple(total // known if d == -1 else d for d in self.target_shape)
        elif total is not None and total != known:
            raise ValueError(self._message(input_shape))
        else:
            target = self.target_shape
        return (input_shape[0], *target)

    def _message(self, input_shape):
        return (
            f'Reshape layer "{self.name}": cannot reshape input of shape {tuple(input_shape)} '
            f"({product(input_shape[1:])} values per sample) to {(None, *self.target_shape)}."
        )

    def build(self, input_shape):
        self._output_shape = self.compute_output_shape(input_shape)[1:]

    def call(self, inputs):
        return ops.reshape(inputs, (inputs.shape[0], *self._output_shape))

    def get_config(self):
        return {**super().get_config(), "target_shape": tuple(self.target_shape)}
