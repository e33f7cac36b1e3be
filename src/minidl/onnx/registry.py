"""Which function writes the ONNX nodes of which layer class.

A converter is ``convert(builder, layer, x, input_shape) -> output name``
(``x`` a list of names and ``input_shape`` a list of shapes for the merge
layers).  Classes match exactly: a subclass of ``Dense`` may compute
something else in its ``call``, so it is refused rather than exported as a
``Dense``.
"""

from __future__ import annotations

_CONVERTERS = {}
_READS_MASKS = set()
_ANY_LENGTH = set()


def converter(*classes, masks=False, any_length=False):
    """Register the decorated function as the converter of ``classes``.

    ``masks=True``: the converter takes the input's mask (``mask=``, the name
    of a float 0/1 (batch, timesteps) value, or None) and returns
    ``(outputs, output masks)``; see ``graph.convert_layer``.
    ``any_length=True``: its nodes work for any number of timesteps (axis 1
    unknown at export, a ``"timesteps"`` axis of the graph).
    """

    def register(function):
        for cls in classes:
            _CONVERTERS[cls] = function
            if masks:
                _READS_MASKS.add(cls)
            if any_length:
                _ANY_LENGTH.add(cls)
        return function

    return register


def takes_any_length(layer):
    """True when ``layer``'s converter works with axis 1 of unknown size."""
    return type(layer) in _ANY_LENGTH


def any_length_classes():
    return sorted(cls.__name__ for cls in _ANY_LENGTH)


def reads_masks(layer):
    """True when ``layer``'s converter takes and makes masks."""
    return type(layer) in _READS_MASKS


def exportable_classes():
    """The names of the layer classes the exporter knows, sorted."""
    return sorted(cls.__name__ for cls in _CONVERTERS)


def find(layer):
    """The converter of ``layer``; a clear error naming it when there is none."""
    try:
        return _CONVERTERS[type(layer)]
    except KeyError:
        raise NotImplementedError(
            f'ONNX export: layer "{layer.name}" ({type(layer).__name__}) cannot be exported to '
            f"ONNX. Layers that can: {', '.join(exportable_classes())}, and Sequential or "
            "functional models made of them."
        ) from None
