"""SeparableConv2D and SeparableConv1D: a depthwise convolution, then a 1x1 convolution.

A Conv2D does two jobs at once: it looks at a spatial window, and it mixes the
channels.  A separable convolution does them one after the other (Xception,
MobileNet):

1. depthwise: each input channel convolved with its own ``depth_multiplier`` (M)
   filters, no mixing (``ops.depthwise_conv2d``): (..., C) -> (..., C*M);
2. pointwise: a 1x1 convolution, a Dense layer applied at every pixel, mixes the
   C*M channels into ``filters`` (F): (..., C*M) -> (..., F); then bias and activation.

    out = activation(pointwise(depthwise(x, depthwise_kernel), pointwise_kernel) + bias)

Weights, in Keras's order: ``depthwise_kernel`` (kh, kw, C, M) -- (k, C, M) for
SeparableConv1D --, ``pointwise_kernel`` (1, 1, C*M, F) -- (1, C*M, F) --, ``bias``
(F,).  Parameters: kh*kw*C*M + C*M*F + F; for 3x3, 64 channels in and out, M = 1:
576 + 4096 + 64 = 4736, where a Conv2D has 36928.  SeparableConv1D also takes
``padding="causal"`` (zeros in front only, as Conv1D), as in Keras.
"""

from __future__ import annotations

from minidl import constraints, initializers, ops, regularizers
from minidl.layers.base import check_positive_int
from minidl.layers.depthwise_conv import DepthwiseConvBase


class SeparableConvBase(DepthwiseConvBase):
    """The pointwise half shared by SeparableConv1D and SeparableConv2D."""

    def __init__(self, filters, kernel_size, strides, padding, data_format, dilation_rate,
                 depth_multiplier, activation, use_bias, depthwise_initializer,
                 pointwise_initializer, bias_initializer, depthwise_regularizer,
                 pointwise_regularizer, bias_regularizer, depthwise_constraint,
                 pointwise_constraint, bias_constraint, kernel_initializer="glorot_uniform",
                 kernel_regularizer=None, kernel_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         depthwise_constraint, bias_constraint, **kwargs)
        # Keras 2's configs carry kernel_initializer, kernel_regularizer and kernel_constraint
        # (its Conv base class's, unused: there is no "kernel"); taken only at their defaults.
        if (initializers.serialize(initializers.get(kernel_initializer))
                != initializers.serialize(initializers.get("glorot_uniform"))
                or kernel_regularizer is not None or kernel_constraint is not None):
            raise ValueError(
                f"{self._label}: a separable convolution has no single kernel; use "
                "depthwise_initializer and pointwise_initializer (depthwise_regularizer and "
                "pointwise_regularizer, depthwise_constraint and pointwise_constraint), "
                f"received kernel_initializer={kernel_initializer!r}, "
                f"kernel_regularizer={kernel_regularizer!r}, "
                f"kernel_constraint={kernel_constraint!r}."
            )
        self.filters = check_positive_int(self._label, "filters", filters)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.pointwise_regularizer = self._regularizer("pointwise_regularizer",
                                                       pointwise_regularizer)
        self.pointwise_constraint = self._constraint("pointwise_constraint", pointwise_constraint)
        self.pointwise_kernel = None

    def _out_channels(self, in_channels):
        return self.filters

    def _add_weights(self, channels):
        self._add_depthwise_kernel(channels)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel",
            shape=(*(1,) * self.rank, channels * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint)
        self._add_bias(self.filters)

    def call(self, inputs):
        mixed = self._depthwise(inputs, None)
        if self.rank == 2:
            y = ops.conv2d(mixed, self.pointwise_kernel, self.bias, (1, 1), "valid", self._fused)
        else:
            y = ops.conv1d(mixed, self.pointwise_kernel, self.bias, 1, "valid", 1, self._fused)
        return self._channels_first(y if self._after is None else self._after(y))

    def get_config(self):
        """Keras 2's keys, in its order."""
        config = super().get_config()
        keys = ["name", "trainable", "dtype", "batch_input_shape", "filters", "kernel_size",
                "strides", "padding", "data_format", "dilation_rate", "groups", "activation",
                "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer",
                "bias_regularizer", "activity_regularizer", "kernel_constraint",
                "bias_constraint", "depth_multiplier", "depthwise_initializer",
                "pointwise_initializer", "depthwise_regularizer", "pointwise_regularizer",
                "depthwise_constraint", "pointwise_constraint"]
        config.update({
            "filters": self.filters,
            "kernel_initializer": initializers.serialize(initializers.get("glorot_uniform")),
            "kernel_regularizer": None,
            "kernel_constraint": None,
            "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
            "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer),
            "pointwise_constraint": constraints.serialize(self.pointwise_constraint),
        })
        return {key: config[key] for key in keys if key in config}


class SeparableConv2D(SeparableConvBase):
    """Depthwise-separable 2-D convolution over images (Keras's arguments)."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, depthwise_constraint=None, pointwise_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         depth_multiplier, activation, use_bias, depthwise_initializer,
                         pointwise_initializer, bias_initializer, depthwise_regularizer,
                         pointwise_regularizer, bias_regularizer, depthwise_constraint,
                         pointwise_constraint, bias_constraint, **kwargs)


class SeparableConv1D(SeparableConvBase):
    """Depthwise-separable 1-D convolution over ``(batch, steps, channels)`` sequences
    (Keras's arguments; ``padding="causal"`` too)."""

    rank = 1
    paddings = ("valid", "same", "causal")

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, depthwise_constraint=None, pointwise_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         depth_multiplier, activation, use_bias, depthwise_initializer,
                         pointwise_initializer, bias_initializer, depthwise_regularizer,
                         pointwise_regularizer, bias_regularizer, depthwise_constraint,
                         pointwise_constraint, bias_constraint, **kwargs)
