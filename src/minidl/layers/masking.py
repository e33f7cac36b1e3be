"""``Masking``: mark the padded timesteps of a sequence, so later layers skip them.

Sequences of different lengths are padded to one length (``pad_sequences``)
with a value that never occurs in real data, usually 0.  ``Masking(mask_value=0.)``
marks a timestep as padding when ALL its features equal ``mask_value``:

    mask[n, t] = any(x[n, t, :] != mask_value)          (batch, timesteps) booleans

and outputs the inputs with the padded steps set to 0.  The mask travels with
the output (see ``Layer.compute_mask``): an LSTM after it carries its state
through the padded steps, and the losses and metrics ignore them.
"""

from __future__ import annotations

import numpy as np

from minidl import ops
from minidl.errors import ArgumentTypeError
from minidl.layers.base import Layer
from minidl.tensor import Tensor


class Masking(Layer):
    """Masks the timesteps whose features all equal ``mask_value`` (Keras's Masking)."""

    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(mask_value, bool) or not isinstance(mask_value, (int, float, np.number)):
            raise ArgumentTypeError(f'Masking layer "{self.name}": mask_value must be a '
                                    f"number, received {mask_value!r}.")
        self.mask_value = float(mask_value)

    def _mask(self, inputs):
        if inputs.ndim < 2:
            raise ValueError(
                f'Masking layer "{self.name}" needs inputs of shape (batch, timesteps, '
                f"features), received shape {tuple(inputs.shape)}.")
        values = inputs.data if isinstance(inputs, Tensor) else np.asarray(inputs)
        return np.any(values != self.mask_value, axis=-1)

    def compute_mask(self, inputs, mask=None):
        return self._mask(inputs)

    def call(self, inputs):
        keep = self._mask(inputs)[..., None].astype(inputs.dtype)
        return ops.mul(inputs, keep)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
