"""ONNX converters of the merge layers (Add, Concatenate, Dot, ...), and of the
TFOpLambda layers that ``x + inputs`` makes in a functional model.

The elementwise merges fold left over their inputs with one binary node each
(``((a + b) + c)``, the order minidl adds in, so the float32 results match).
An input with fewer axes gets size-1 axes right after its batch axis first,
as minidl's merge layers do, since ONNX would line it up at the last axis.
"""

from __future__ import annotations

from minidl.layers import (
    Add,
    Average,
    Concatenate,
    Dot,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    TFOpLambda,
)
from minidl.onnx.registry import converter

_BINARY_OPS = {Add: "Add", Subtract: "Sub", Multiply: "Mul", Average: "Add",
               Maximum: "Max", Minimum: "Min"}


def _with_rank(b, x, shape, rank, base):
    """``x`` with ``rank - len(shape)`` size-1 axes inserted after the batch axis."""
    missing = rank - len(shape)
    if missing == 0:
        return x
    return b.node("Unsqueeze", [x, b.ints(list(range(1, 1 + missing)), f"{base}/axes")], base)


@converter(Add, Subtract, Multiply, Average, Maximum, Minimum)
def elementwise(b, layer, xs, input_shapes):
    rank = max(len(s) for s in input_shapes)
    xs = [_with_rank(b, x, s, rank, layer.name) for x, s in zip(xs, input_shapes)]
    op = _BINARY_OPS[type(layer)]
    y = xs[0]
    for x in xs[1:]:
        y = b.node(op, [y, x], layer.name)
    if isinstance(layer, Average):
        y = b.node("Div", [y, b.constant(len(xs), f"{layer.name}/count")], layer.name)
    elif len(xs) == 1:
        y = b.node("Identity", [y], layer.name)
    return y


@converter(Concatenate)
def concatenate(b, layer, xs, input_shapes):
    return b.node("Concat", xs, layer.name, axis=layer.axis)


def _l2_normalize(b, x, axis, base, epsilon=1e-12):
    """x / sqrt(max(sum(x^2), epsilon)) along ``axis``, as ``ops.l2_normalize``."""
    squares = b.reduce("ReduceSum", b.node("Mul", [x, x], base), [axis], base, keepdims=True)
    floor = b.node("Max", [squares, b.constant(epsilon, f"{base}/epsilon")], base)
    return b.node("Div", [x, b.node("Sqrt", [floor], base)], base)


@converter(Dot)
def dot(b, layer, xs, input_shapes):
    """Per-sample dot products as one ``Einsum``: x's other axes, then y's; two
    2-D inputs give (N, 1)."""
    (x, y), (shape_x, shape_y) = xs, input_shapes
    axis_x, axis_y = layer._summed_axes([shape_x, shape_y])
    if layer.normalize:
        x = _l2_normalize(b, x, axis_x, layer.name)
        y = _l2_normalize(b, y, axis_y, layer.name)
    letters = iter("abcdefghijlmopqrstuvwxyz")  # n (batch) and k (summed) kept apart
    x_axes = ["n"] + ["k" if i == axis_x else next(letters) for i in range(1, len(shape_x))]
    y_axes = ["n"] + ["k" if i == axis_y else next(letters) for i in range(1, len(shape_y))]
    rest = [a for a in x_axes[1:] + y_axes[1:] if a != "k"]
    equation = f"{''.join(x_axes)},{''.join(y_axes)}->n{''.join(rest)}"
    out = b.node("Einsum", [x, y], layer.name, equation=equation)
    if not rest:
        out = b.node("Unsqueeze", [out, b.ints([1], "axis_1")], layer.name)
    return out


_OPERATORS = {"__operators__.add": "Add", "math.subtract": "Sub", "math.multiply": "Mul",
              "math.truediv": "Div", "math.pow": "Pow", "math.negative": "Neg"}


@converter(TFOpLambda)
def operator(b, layer, x, input_shape):
    """One node; ONNX broadcasts as the layer does (NumPy's rule, from the last axis)."""
    if layer.function == "math.negative":
        operands = [x]
    elif layer.constant is None:
        operands = x
    else:
        constant = b.constant(layer.constant, f"{layer.name}/constant", dtype=layer.constant.dtype)
        operands = [constant, x] if layer.constant_first else [x, constant]
    return b.node(_OPERATORS[layer.function], operands, layer.name)


# The layers whose output mask is made from their inputs' masks (``merged_mask``).
MERGE_LAYERS = (Add, Average, Concatenate, Dot, Maximum, Minimum, Multiply, Subtract)


def merged_mask(b, layer, masks, input_shapes):
    """The output mask of a merge layer from its inputs' masks (float 0/1, (batch, steps);
    None: unmasked), as the layer's ``compute_mask``: the product (logical AND) of the
    masks present; ``Concatenate`` along the steps axis of sequences joins them instead
    (then every input must be masked: the exporter does not make an all-real mask of
    unknown length).  ``Dot`` makes none."""
    present = [m for m in masks if m is not None]
    if not present or isinstance(layer, Dot):
        return None
    if isinstance(layer, Concatenate):
        rank = len(input_shapes[0])
        if rank == 3 and layer.axis % rank == 1:
            if len(present) != len(masks):
                raise NotImplementedError(
                    f'ONNX export: layer "{layer.name}" (Concatenate) joins sequences along their '
                    "steps, some with a timestep mask and some without; the exporter joins "
                    "masks only when every input has one. Give every input a mask (Masking or "
                    "Embedding(mask_zero=True)) or join along the features.")
            return b.node("Concat", present, layer.name, axis=1)
    out = present[0]
    for mask in present[1:]:
        out = b.node("Mul", [out, mask], layer.name)
    return out
