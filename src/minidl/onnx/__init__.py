"""Export a minidl model to ONNX, to run it outside minidl (ONNX Runtime, ...).

    minidl.onnx.export(model, "model.onnx")      # or model.export("model.onnx")

    import onnxruntime as ort
    session = ort.InferenceSession("model.onnx")
    probabilities = session.run(None, {session.get_inputs()[0].name: x.astype("float32")})[0]

The file holds the model's inference graph (Dropout and the other training-only
layers become identities, BatchNormalization uses its moving statistics) and its
weights in float32.  The batch axis is dynamic (named ``"batch"``); the graph's
inputs and outputs carry the model's input and output layer names.  Sequential
and functional models of the layers in ``registry.exportable_classes()`` can be
exported, models nested in them included; any other layer is an error naming it.

Needs the ``onnx`` package: ``pip install minidl[onnx]``.
"""

from __future__ import annotations

import os

from minidl.atomic_write import replacing

DEFAULT_OPSET = 17  # ONNX Runtime 1.12 (2022) and later run it
MIN_OPSET = 13  # Softmax along one axis, Unsqueeze/ReduceSum axes as inputs


def _require_onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError(
            "ONNX export needs the onnx package, an optional extra of minidl: "
            "pip install minidl[onnx]  (or: pip install onnx)."
        ) from None
    return onnx


def to_proto(model, opset=None):
    """The ``onnx.ModelProto`` of ``model`` (checked by ``onnx.checker``)."""
    onnx = _require_onnx()
    from minidl.models.model import Model
    from minidl.onnx import (  # noqa: F401 (importing them registers their converters)
        convert_conv, convert_core, convert_image, convert_merge, convert_recurrent)
    from minidl.onnx.graph import build_model_proto

    if not isinstance(model, Model):
        raise TypeError(f"minidl.onnx.export takes a minidl model, received {type(model).__name__}.")
    if not model.built:
        raise ValueError(
            f'Model "{model.name}" is not built, so its input shape is unknown. Give input_shape= '
            "to its first layer, start it with an Input, or call model.build((None, ...)) first.")
    newest = onnx.defs.onnx_opset_version()
    opset = DEFAULT_OPSET if opset is None else opset
    if isinstance(opset, bool) or not isinstance(opset, int) or not MIN_OPSET <= opset <= newest:
        raise ValueError(f"minidl.onnx.export: opset must be an integer from {MIN_OPSET} to {newest} "
                         f"(the newest your onnx package knows), received {opset!r}.")
    return build_model_proto(model, opset)


def export(model, path, opset=None):
    """Write ``model`` as an ONNX file at ``path`` (opset 17 unless ``opset``).

    The file is written atomically: to a temporary file beside ``path``, then
    renamed over it, so ``path`` holds the old file or the whole new one.
    Returns ``path``.
    """
    proto = to_proto(model, opset)
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with replacing(path) as handle:
        handle.write(proto.SerializeToString())
    return path
