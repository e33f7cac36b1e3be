"""``InputSpec``: what a layer's inputs must look like, checked at every call (Keras 2).

A layer may set ``self.input_spec`` (in ``__init__`` or ``build``) to one
``InputSpec`` or a list of them, one per input.  Each call then checks its inputs
before the layer builds or computes, and refuses a mismatch with Keras's
ValueError, naming the layer and the input::

    class Affine(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.input_spec = layers.InputSpec(min_ndim=2, axes={-1: 3})

    Affine()(np.ones((2, 4)))   # ValueError: Input 0 of layer "affine" is incompatible
                                # with the layer: expected axis -1 of input shape to have
                                # value 3, but received input with shape (2, 4)

What a spec may require (None: anything): ``ndim`` (the number of axes, batch
included), ``min_ndim``/``max_ndim``, ``shape`` (None entries match any size; it
sets ``ndim`` too), ``axes`` ({axis: size}), ``dtype`` (a name: "float32").
"""

from __future__ import annotations

import numpy as np


class InputSpec:
    """The rank, sizes and dtype a layer's input must have (see the module docstring)."""

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None,
                 axes=None, allow_last_axis_squeeze=False, name=None):
        self.dtype = None if dtype is None else np.dtype(dtype).name
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim, self.min_ndim = max_ndim, min_ndim
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        self.name = name
        try:
            self.axes = {int(axis): value for axis, value in (axes or {}).items()}
        except (ValueError, TypeError, AttributeError):
            raise TypeError(f"InputSpec: axes must be a dict with integer keys, received "
                            f"{axes!r}.") from None
        if self.axes and (self.ndim is not None or self.max_ndim is not None):
            highest = (self.ndim if self.ndim is not None else self.max_ndim) - 1
            for axis in self.axes:
                if axis > highest:
                    raise ValueError(f"Axis {axis} is greater than the maximum allowed "
                                     f"value: {highest}")

    def __repr__(self):
        parts = [f"dtype={self.dtype}" if self.dtype else "",
                 f"shape={self.shape}" if self.shape else "",
                 f"ndim={self.ndim}" if self.ndim else "",
                 f"max_ndim={self.max_ndim}" if self.max_ndim else "",
                 f"min_ndim={self.min_ndim}" if self.min_ndim else "",
                 f"axes={self.axes}" if self.axes else ""]
        return f"InputSpec({', '.join(part for part in parts if part)})"

    def get_config(self):
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim,
                "max_ndim": self.max_ndim, "min_ndim": self.min_ndim, "axes": self.axes}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _specs(input_spec):
    return list(input_spec) if isinstance(input_spec, (list, tuple)) else [input_spec]


def _shape_and_dtype(x):
    """An input's shape (a tuple, None entries unknown) and dtype name (or None)."""
    shape = getattr(x, "shape", None)
    if shape is None:
        x = np.asarray(x)
        shape = x.shape
    dtype = getattr(x, "dtype", None)
    try:
        dtype = None if dtype is None else np.dtype(dtype).name
    except TypeError:
        dtype = None
    return tuple(shape), dtype


def assert_input_compatibility(input_spec, inputs, layer_name):
    """Refuse ``inputs`` that ``input_spec`` (one spec or a list) does not admit, with
    Keras 2's ValueError naming the layer, the input and what was expected."""
    specs = _specs(input_spec)
    if all(spec is None for spec in specs):
        return
    values = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
    if len(values) != len(specs):
        raise ValueError(f'Layer "{layer_name}" expects {len(specs)} input(s), but it received '
                         f"{len(values)} input tensors. Inputs received: {values}")
    for index, (x, spec) in enumerate(zip(values, specs)):
        if spec is None:
            continue
        shape, dtype = _shape_and_dtype(x)
        start = f'Input {index} of layer "{layer_name}" is incompatible with the layer'
        rank = len(shape)
        if spec.ndim is not None and not spec.allow_last_axis_squeeze and rank != spec.ndim:
            raise ValueError(f"{start}: expected ndim={spec.ndim}, found ndim={rank}. Full "
                             f"shape received: {shape}")
        if spec.max_ndim is not None and rank > spec.max_ndim:
            raise ValueError(f"{start}: expected max_ndim={spec.max_ndim}, found ndim={rank}")
        if spec.min_ndim is not None and rank < spec.min_ndim:
            raise ValueError(f"{start}: expected min_ndim={spec.min_ndim}, found ndim={rank}. "
                             f"Full shape received: {shape}")
        if spec.dtype is not None and dtype is not None and dtype != spec.dtype:
            raise ValueError(f"{start}: expected dtype={spec.dtype}, found dtype={dtype}")
        for axis, value in spec.axes.items():
            if value is not None and -rank <= axis < rank and shape[axis] not in (value, None):
                raise ValueError(f"{start}: expected axis {axis} of input shape to have value "
                                 f"{value}, but received input with shape {shape}")
        if spec.shape is not None:
            for expected, size in zip(spec.shape, shape):
                if expected is not None and size is not None and expected != size:
                    raise ValueError(f"{start}: expected shape={spec.shape}, found shape="
                                     f"{shape}")
