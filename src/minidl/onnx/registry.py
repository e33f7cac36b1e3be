"""Which function writes the ONNX nodes of which layer class.

A converter is ``convert(builder, layer, x, input_shape) -> output name``
(``x`` a list of names and ``input_shape`` a list of shapes for the merge
layers).  Classes match exactly: a subclass of ``Dense`` may compute
something else in its ``call``, so it is refused rather than exported as a
``Dense``.
"""

from __future__ import annotations

_CONVERTERS, _FLAGS = {}, {}  # class -> converter; class -> (masks, any_length), see below
_CHANNELS_FIRST = set()  # classes whose converter also takes data_format="channels_first"


def converter(*classes, masks=False, any_length=False, channels_first=False):
    """Register the decorated function as the converter of ``classes`` (``channels_first``:
    it also converts layers made with ``data_format="channels_first"``)."""

    def register(function):
        for cls in classes:
            _CONVERTERS[cls], _FLAGS[cls] = function, (masks, any_length)
            if channels_first:
                _CHANNELS_FIRST.add(cls)
        return function

    return register


def exportable_classes():
    """The names of the layer classes the exporter knows, sorted."""
    return sorted(cls.__name__ for cls in _CONVERTERS)


def find(layer):
    """The converter of ``layer``; a clear error naming it when there is none."""
    try:
        convert = _CONVERTERS[type(layer)]
    except KeyError:
        raise NotImplementedError(
            f'ONNX export: layer "{layer.name}" ({type(layer).__name__}) cannot be exported to '
            f"ONNX. Layers that can: {', '.join(exportable_classes())}, and Sequential or "
            "functional models made of them."
        ) from None
    if getattr(layer, "data_format", None) == "channels_first" and (
            type(layer) not in _CHANNELS_FIRST):
        raise NotImplementedError(
            f'ONNX export: layer "{layer.name}" ({type(layer).__name__}) with '
            'data_format="channels_first" cannot be exported to ONNX yet; build the model '
            'channels-last (data_format="channels_last", images x.transpose(0, 2, 3, 1)).'
        )
    return convert


# A converter may return a list of names (a layer with several outputs, e.g.
# return_state).  Registered with ``masks=True`` it also takes the input's
# timestep mask (``mask=``: the name of a float 0/1 (batch, timesteps) value,
# or None) and returns ``(outputs, output masks)``; see ``graph.convert_layer``.
# Registered with ``any_length=True`` its nodes work for any number of
# timesteps (axis 1 unknown at export: the graph's ``"timesteps"`` axis).
def reads_masks(layer):
    """True when ``layer``'s converter takes and makes masks."""
    return _FLAGS.get(type(layer), (False, False))[0]


def takes_any_length(layer):
    """True when ``layer``'s converter works with axis 1 of unknown size."""
    return _FLAGS.get(type(layer), (False, False))[1]


def any_length_classes():
    """The names of the layer classes that take sequences of any length, sorted."""
    return sorted(cls.__name__ for cls, (_, any_length) in _FLAGS.items() if any_length)
