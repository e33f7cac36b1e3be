"""``data_format="channels_first"``: images with the channel axis first, as Keras takes them.

Keras's image layers read ``data_format="channels_last"``, ``(batch, height, width,
channels)``, or ``"channels_first"``, ``(batch, channels, height, width)`` (PyTorch's
layout); volumes likewise, ``(batch, channels, depth, height, width)``.  ``None``, the
default, is ``minidl.backend.image_data_format()`` (channels_last unless
``set_image_data_format`` changed it), as in Keras.

minidl's kernels work channels-last.  A channels-first layer moves the channel axis
last as its ``call`` starts, runs the channels-last code, and moves it back::

    y = channels_first(f(channels_last(x)))       (N, C, H, W) -> (N, H, W, C) -> ...

Shapes take the same road through ``build`` and ``compute_output_shape``, so the
weights have the shapes they have channels-last (Keras's kernel is (kh, kw, in, out)
either way), ``summary()`` shows (N, C, H, W), and gradients flow back through the two
transposes.  A channels-last layer skips both: nothing changes for it.
"""

from __future__ import annotations

from minidl import backend, ops

DATA_FORMATS = ("channels_first", "channels_last")


def normalize_data_format(layer, data_format):
    """Keras's ``normalize_data_format``: None is ``image_data_format()``; the name is
    lower-cased ("Channels_First" is "channels_first"); anything else is refused."""
    if data_format is None:
        data_format = backend.image_data_format()
    if not isinstance(data_format, str):
        raise TypeError(
            f'{type(layer).__name__} layer "{layer.name}": data_format must be a string, '
            f'"channels_first" or "channels_last", received {data_format!r}.'
        )
    normalized = data_format.lower()
    if normalized not in DATA_FORMATS:
        raise ValueError(
            f'{type(layer).__name__} layer "{layer.name}": the `data_format` argument must be '
            f'one of "channels_first", "channels_last". Received: {data_format}'
        )
    return normalized


def move_axis(value, source, destination):
    """A shape (tuple) or Tensor with axis ``source`` moved to ``destination``."""
    rank = len(value) if isinstance(value, (tuple, list)) else value.ndim
    order = list(range(rank))
    order.insert(destination % rank, order.pop(source % rank))
    if isinstance(value, (tuple, list)):
        return tuple(value[axis] for axis in order)
    return ops.transpose(value, tuple(order))


class ChannelsFirstMixin:
    """``data_format`` for a channels-last layer: ``_channels_last`` at the start of
    ``build``, ``compute_output_shape`` and ``call``, ``_channels_first`` on what they
    return.  ``_input_rank`` is the rank of the inputs the layer moves (4 for images,
    5 for volumes); inputs of another rank go through unchanged, to the layer's own
    error message."""

    _input_rank = 4
    data_format = "channels_last"

    def _set_data_format(self, data_format):
        self.data_format = normalize_data_format(self, data_format)

    def _channels_last(self, value):
        """A channels-first input shape or Tensor as channels-last."""
        if self.data_format == "channels_last":
            return value
        rank = len(value) if isinstance(value, (tuple, list)) else value.ndim
        return move_axis(value, 1, -1) if rank == self._input_rank else value

    def _channels_first(self, value):
        """A channels-last output shape or Tensor back as channels-first ((N, C) stays)."""
        if self.data_format == "channels_last":
            return value
        rank = len(value) if isinstance(value, (tuple, list)) else value.ndim
        return move_axis(value, -1, 1) if rank > 2 else value

    def _expected_shape(self, *axes):
        """``axes`` (a shape's, past the batch) as this layer lays them out, for messages:
        ("height", "width", 3) -> "(None, 3, height, width)" channels-first."""
        return "(" + ", ".join(map(str, self._channels_first((None, *axes)))) + ")"
