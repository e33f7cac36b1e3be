"""LocallyConnected1D and LocallyConnected2D: a convolution whose weights are not shared.

A Conv1D slides one kernel along the sequence; a locally connected layer has a
kernel of its own at every output position.  For output position p, whose
window of ``kernel_size`` input positions (times ``C`` channels) is flattened
into a patch of ``K = prod(kernel_size) * C`` values::

    y[n, p, f] = sum_k patch[n, p, k] * W[p, k, f]  +  bias[p, f]

Shapes (1-D, channels_last; 2-D has two spatial axes where 1-D has one):

    inputs   (N, steps, C)
    patches  (N, P, K)        P output positions, K = kernel_size * C
    W        (P, K, F)        one (K, F) matrix per position: P times a Conv1D's kernel
    outputs  (N, P, F)  ->  (N, steps', F),   bias (steps', F)

It is computed as in im2col: the patches are gathered with one integer index
(``ops.getitem``; its backward adds the gradients of overlapping windows back
together), then one batched product per position (``ops.matmul`` of (P, N, K) by
(P, K, F)), so minidl's autograd gives every gradient.  Parameters:
``P * K * F + P * F``; a LocallyConnected2D(32, 3) on 28x28x1 images has
26 * 26 * (9 * 32 + 32) = 216320 where a Conv2D has 320.

Output size along an axis of size n, kernel k, stride s: ``(n - k) // s + 1``
for ``padding="valid"``; ``ceil(n / s)`` for ``"same"``, whose window for output
o starts at ``o * s - k // 2`` (Keras's rule here, not Conv's); positions outside
the input read zeros and have no weights.

``implementation`` (1, 2, 3) is how tf_keras 2.21 computes it, and decides how
the kernel is stored, which ``get_weights`` shows and Keras files hold:

* 1: ``(P, K, F)``, the W above (``padding="valid"`` only, as in Keras);
* 2: a dense matrix between every input and every output position, connections
  outside a window masked to zero: ``(*in_dims, C, *out_dims, F)``
  (channels_first: ``(C, *in_dims, F, *out_dims)``), many more parameters;
* 3: only the connected weights, ``(number of connections,)``, sorted by (flat
  output index, flat input index) as Keras's sparse matrix.

The results are the same; minidl computes all three as above, gathering W from
the stored kernel (``_kernel_index``).  With ``data_format="channels_first"``
tf_keras adds the bias as its (P, F) values reshaped, not transposed, to
(F, P); minidl does the same so that Keras's weights give Keras's outputs.
"""

from __future__ import annotations

import numpy as np

from minidl import activations, backend, initializers, ops
from minidl.errors import ArgumentTypeError
from minidl.layers.base import Layer, check_positive_int
from minidl.layers.core import WeightRegularizersMixin


def output_size(n, k, s, padding):
    """Output positions along an axis (see the module docstring); None stays None."""
    if n is None:
        return None
    return -(-n // s) if padding == "same" else (n - k) // s + 1


def window_indices(in_dims, channels, kernel_size, strides, padding, channels_first):
    """For every output position, kernel offset and channel: the input position it reads.

    Returns ``(out_dims, positions, inside)``: ``positions`` has shape
    ``(rank + 1, *out_dims, *kernel_size, C)``, the input coordinates (one per spatial
    axis, then the channel), and ``inside`` (without the first axis) marks those within
    the input ("same" windows reach outside).  With ``channels_first`` the channel axis
    comes before the kernel offsets, ``(rank + 1, *out_dims, C, *kernel_size)``, as the
    flattened windows of tf_keras's implementation 1 order them.
    """
    rank = len(in_dims)
    out_dims = tuple(output_size(n, k, s, padding)
                     for n, k, s in zip(in_dims, kernel_size, strides))
    grid = np.indices((*out_dims, *kernel_size, channels))
    positions = np.stack([grid[d] * strides[d] + grid[rank + d]
                          - (kernel_size[d] // 2 if padding == "same" else 0)
                          for d in range(rank)])
    positions = np.concatenate([positions, grid[-1:]])  # the channel last
    if channels_first:
        positions = np.moveaxis(positions, -1, 1 + rank)
    inside = np.all([(positions[d] >= 0) & (positions[d] < in_dims[d]) for d in range(rank)],
                    axis=0)
    return out_dims, positions, inside


def _strict_ints(label, argument, value, rank):
    """An int or a tuple of ``rank`` positive ints, as a tuple."""
    items = (value,) * rank if not isinstance(value, (tuple, list)) else tuple(value)
    if len(items) != rank:
        raise ValueError(f"{label}: {argument} must be an integer or a tuple of {rank} "
                         f"integers, received {value!r}.")
    return tuple(check_positive_int(label, argument, v) for v in items)


class _LocallyConnected(WeightRegularizersMixin, Layer):
    """What LocallyConnected1D and LocallyConnected2D share; ``rank`` spatial axes."""

    rank = None
    _integer_inputs = "refuse"  # as the convolutions

    def __init__(self, filters, kernel_size, strides, padding="valid", data_format=None,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 implementation=1, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        label = f'{type(self).__name__} layer "{self.name}"'
        self.filters = check_positive_int(label, "filters", filters)
        self.kernel_size = _strict_ints(label, "kernel_size", kernel_size, self.rank)
        self.strides = _strict_ints(label, "strides", strides, self.rank)
        if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
            raise ValueError(f"{label}: padding must be 'valid' or 'same', received {padding!r}.")
        self.padding = padding.lower()
        if data_format not in (None, "channels_last", "channels_first"):
            raise ValueError(f"{label}: data_format must be 'channels_last' or "
                             f"'channels_first', received {data_format!r}.")
        self.data_format = data_format or backend.image_data_format()
        if isinstance(implementation, bool) or implementation not in (1, 2, 3):
            error = ValueError if isinstance(implementation, (int, np.integer)) else ArgumentTypeError
            raise error(f"{label}: implementation must be 1, 2 or 3, received {implementation!r}.")
        self.implementation = int(implementation)
        if self.padding != "valid" and self.implementation == 1:
            raise ValueError(f"{label}: padding='{self.padding}' needs implementation=2 or 3; "
                             "implementation=1 takes only padding='valid' (as in Keras).")
        self.activation = activations.get(activation)
        self._set_kernel_and_bias(use_bias, kernel_initializer, bias_initializer,
                                  kernel_regularizer, bias_regularizer, kernel_constraint,
                                  bias_constraint)
        self._in_shape = None  # (*in_dims, C) channels_last, once built

    # --- shapes -------------------------------------------------------------
    def _split(self, input_shape):
        """``(in_dims, channels)`` of a shape in this layer's data_format, checked."""
        input_shape = tuple(input_shape)
        if len(input_shape) != self.rank + 2:
            axes = "steps" if self.rank == 1 else "rows, cols"
            layout = (f"(batch, channels, {axes})" if self.data_format == "channels_first"
                      else f"(batch, {axes}, channels)")
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) expects inputs of rank '
                f"{self.rank + 2}, {layout}, received input shape {input_shape}."
            )
        if self.data_format == "channels_first":
            return input_shape[2:], input_shape[1]
        return input_shape[1:-1], input_shape[-1]

    def _channels_last_sizes(self, shape):
        dims, channels = self._split(shape)
        return (*dims, channels)

    def _join(self, batch, dims, channels):
        if self.data_format == "channels_first":
            return (batch, channels, *dims)
        return (batch, *dims, channels)

    def compute_output_shape(self, input_shape):
        dims, channels = self._split(input_shape)
        if self._in_shape is not None and self._channels_last_sizes(input_shape) != self._in_shape:
            raise ValueError(self._shape_message(input_shape))
        out_dims = tuple(output_size(n, k, s, self.padding)
                         for n, k, s in zip(dims, self.kernel_size, self.strides))
        return self._join(tuple(input_shape)[0], out_dims, self.filters)

    def _shape_message(self, received):
        expected = self._join(None, self._in_shape[:-1], self._in_shape[-1])
        return (f'Input of layer "{self.name}" is incompatible with the layer: expected shape '
                f"{expected}, received shape {tuple(received)}. A locally connected layer "
                "has weights for one input size only.")

    # --- weights ------------------------------------------------------------
    def build(self, input_shape):
        dims, channels = self._split(input_shape)
        if None in dims or channels is None or 0 in (*dims, channels):
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) needs inputs whose sizes are all '
                f"known and nonzero (it has weights for each output position), received "
                f"input shape {tuple(input_shape)}."
            )
        out_dims, positions, inside = window_indices(
            dims, channels, self.kernel_size, self.strides, self.padding,
            self.data_format == "channels_first")
        if min(out_dims) <= 0:
            raise ValueError(
                f'Layer "{self.name}": kernel_size {self.kernel_size} is larger than its input '
                f"{tuple(dims)} (input shape {tuple(input_shape)}), which would give an output "
                f"of size {out_dims}; use a smaller kernel_size or padding='same' "
                "(with implementation=2 or 3)."
            )
        self._in_shape, self._out_dims = (*dims, channels), out_dims
        in_layout = self._join(None, dims, channels)[1:]
        flat_input = np.ravel_multi_index(
            [np.where(inside, p, 0) for p in self._channel_order(positions)], in_layout)
        positions_count, patch = int(np.prod(out_dims)), int(np.prod(self.kernel_size)) * channels
        # where each patch value is read in a sample's flattened input; outside: the zero
        # appended after it
        self._input_index = np.where(inside, flat_input, int(np.prod(in_layout))).reshape(
            positions_count, patch)
        self.kernel = self.add_weight(
            "kernel", shape=self._kernel_shape(dims, channels, out_dims, inside),
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        self._kernel_index = self._make_kernel_index(dims, channels, out_dims, positions, inside)
        if self.use_bias:
            self.bias = self.add_weight("bias", shape=(*out_dims, self.filters),
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)

    def _channel_order(self, positions):
        """The coordinates of ``positions`` in the input's own axis order."""
        if self.data_format == "channels_first":
            return [positions[-1], *positions[:-1]]
        return list(positions)

    def _kernel_shape(self, dims, channels, out_dims, inside):
        patch = int(np.prod(self.kernel_size)) * channels
        if self.implementation == 1:
            return (int(np.prod(out_dims)), patch, self.filters)
        if self.implementation == 2:
            return self._dense_layout(dims, channels, out_dims)
        return (int(inside.sum()) * self.filters,)

    def _dense_layout(self, dims, channels, out_dims):
        """Implementation 2's kernel shape: input axes, then output axes."""
        if self.data_format == "channels_first":
            return (channels, *dims, self.filters, *out_dims)
        return (*dims, channels, *out_dims, self.filters)

    def _make_kernel_index(self, dims, channels, out_dims, positions, inside):
        """``(P, K, F)``: where each W[p, k, f] is in the flattened stored kernel (its
        size, the appended zero, for a position outside the input); None for
        implementation 1, whose kernel is W itself."""
        if self.implementation == 1:
            return None
        rank, filters = self.rank, self.filters
        # every (output position, kernel offset, channel, filter)
        coords = [np.repeat(p[..., None], filters, axis=-1)
                  for p in self._channel_order(np.where(inside, positions, 0))]
        grid = np.indices((*out_dims, *positions.shape[1 + rank:], filters))
        outputs, filter_index = list(grid[:rank]), grid[-1]
        inside = np.repeat(inside[..., None], filters, axis=-1)
        if self.implementation == 2:
            flat = np.ravel_multi_index(
                [*coords, filter_index, *outputs] if self.data_format == "channels_first"
                else [*coords, *outputs, filter_index],
                self._dense_layout(dims, channels, out_dims))
            size = int(np.prod(self._dense_layout(dims, channels, out_dims)))
        else:  # rank of (flat output index, flat input index) among the connections
            first = self.data_format == "channels_first"
            out_flat = np.ravel_multi_index(
                [filter_index, *outputs] if first else [*outputs, filter_index],
                (filters, *out_dims) if first else (*out_dims, filters))
            in_flat = np.ravel_multi_index(coords, self._join(None, dims, channels)[1:])
            keys = out_flat.astype(np.int64) * int(np.prod(self._in_shape)) + in_flat
            size = int(inside.sum())
            flat = np.searchsorted(np.sort(keys[inside]), keys)
        return np.where(inside, flat, size).reshape(*self._input_index.shape, filters)

    def _per_position_kernel(self, kernel):
        """W, shape (P, K, F), gathered from the stored kernel (see the module docstring)."""
        if self._kernel_index is None:
            return kernel
        flat = ops.concatenate([ops.reshape(kernel, (-1,)), np.zeros(1, kernel.dtype)])
        return ops.getitem(flat, self._kernel_index)

    # --- forward ------------------------------------------------------------
    def call(self, inputs):
        received = inputs.shape
        if len(received) != self.rank + 2 or self._channels_last_sizes(received) != self._in_shape:
            raise ValueError(self._shape_message(received))
        return self.activation(self._unshared_conv(inputs, self.kernel, self.bias))

    def _unshared_conv(self, inputs, kernel, bias):
        """The module docstring's sum, before the activation, for this layer's geometry."""
        batch = inputs.shape[0]
        flat = ops.reshape(inputs, (batch, -1))
        flat = ops.concatenate([flat, np.zeros((batch, 1), flat.dtype)], axis=1)
        patches = ops.getitem(flat, (slice(None), self._input_index))  # (N, P, K)
        y = ops.matmul(ops.transpose(patches, (1, 0, 2)), self._per_position_kernel(kernel))
        y = ops.reshape(ops.transpose(y, (1, 0, 2)), (batch, *self._out_dims, self.filters))
        if self.data_format == "channels_first":
            y = ops.transpose(y, (0, self.rank + 1, *range(1, self.rank + 1)))
            if bias is not None:  # tf_keras reshapes the (P, F) bias to (F, P)
                y = ops.add(y, ops.reshape(bias, (self.filters, *self._out_dims)))
        elif bias is not None:
            y = ops.add(y, bias)
        return y

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            **self._regularizers_config(),
            "implementation": self.implementation,
        }


class LocallyConnected1D(_LocallyConnected):
    """Conv1D with a kernel of its own at each output step; see the module docstring.

    Inputs ``(batch, steps, channels)`` (channels_first: ``(batch, channels, steps)``),
    outputs ``(batch, steps', filters)``; kernel (implementation=1)
    ``(steps', kernel_size * channels, filters)``, bias ``(steps', filters)``.
    """

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 implementation=1, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, activity_regularizer, kernel_constraint,
                         bias_constraint, implementation, **kwargs)


class LocallyConnected2D(_LocallyConnected):
    """Conv2D with a kernel of its own at each output pixel; see the module docstring.

    Inputs ``(batch, rows, cols, channels)`` (channels_first: ``(batch, channels, rows,
    cols)``), outputs ``(batch, rows', cols', filters)``; kernel (implementation=1)
    ``(rows' * cols', kernel_rows * kernel_cols * channels, filters)``, bias
    ``(rows', cols', filters)``.
    """

    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 implementation=1, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, activity_regularizer, kernel_constraint,
                         bias_constraint, implementation, **kwargs)
