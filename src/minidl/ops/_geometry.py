"""Window arithmetic shared by convolution and pooling (Keras's rules).

For one spatial axis of size ``n``, a window (kernel or pool) of size ``k``
moved with stride ``s``:

* ``"valid"``: only windows that fit entirely inside the input,
  ``out = (n - k) // s + 1``, no padding.
* ``"same"``: ``out = ceil(n / s)``; the input is padded with
  ``pad_total = max((out - 1) * s + k - n, 0)`` pixels, ``pad_total // 2``
  before and the rest (the odd extra pixel) after, at the bottom/right.
"""

from __future__ import annotations

from minidl.ops.arithmetic import as_tensor

PADDINGS = ("valid", "same")


def pair(value, what, op):
    """``value`` as a (height, width) pair of positive ints: ``3`` -> ``(3, 3)``."""
    return positive_sizes(value, 2, what, op)


def triple(value, what, op):
    """``value`` as a (depth, height, width) triple of positive ints: ``3`` -> ``(3, 3, 3)``."""
    return positive_sizes(value, 3, what, op)


def positive_sizes(value, count, what, op):
    """``value``, an int or ``count`` ints, as a tuple of ``count`` positive ints;
    a TypeError (not ints) or a ValueError (wrong length, < 1) naming ``op``."""
    word = {2: "pair", 3: "triple"}[count]
    if isinstance(value, int):
        value = (value,) * count
    try:
        value = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(
            f"{op}: {what} must be an int or a {word} of ints, received {value!r}."
        ) from None
    if len(value) != count or min(value) < 1:
        raise ValueError(
            f"{op}: {what} must be an int or a {word} of positive ints, received {value!r}."
        )
    return value


def check_padding(padding, op, choices=PADDINGS):
    """``padding`` lower-cased, or a ValueError naming ``op`` (an op or a layer) and
    the ``choices``: ``"valid"`` and ``"same"``, and ``"causal"`` for 1-D convolutions."""
    if not isinstance(padding, str) or padding.lower() not in choices:
        listed = ", ".join(repr(c) for c in choices[:-1]) + f" or {choices[-1]!r}"
        raise ValueError(f"{op}: padding must be {listed}, received {padding!r}.")
    return padding.lower()


def image_batch(x, op):
    """``x`` as a Tensor, checked to be 4-D (batch, height, width, channels)."""
    x = as_tensor(x)
    check_image_batch(x, op)
    return x


def check_image_batch(x, op):
    """A ValueError naming ``op`` unless ``x`` is 4-D: (batch, height, width, channels)."""
    if x.ndim != 4:
        raise ValueError(
            f"{op}: input must be 4-D (batch, height, width, channels), received shape {x.shape}."
        )


def output_size(n, k, s, padding):
    """``(out, pad_before)`` for one axis; see the module docstring."""
    if padding == "valid":
        return (n - k) // s + 1, 0
    out = -(-n // s)
    pad_total = max((out - 1) * s + k - n, 0)
    return out, pad_total // 2


def window_geometry(image_shape, window, strides, padding, op, what="kernel"):
    """Output size and top/left padding of a 2-D window over an NHWC image.

    Returns ``(out_h, out_w, pad_top, pad_left)``; raises a ValueError when
    the window does not fit.
    """
    h, w = image_shape
    kh, kw = window
    if padding == "valid" and (kh > h or kw > w):
        raise ValueError(
            f"{op}: {what} {tuple(window)} is larger than the padded input {(h, w)}; "
            "use padding='same' or a smaller window."
        )
    out_h, pad_top = output_size(h, kh, strides[0], padding)
    out_w, pad_left = output_size(w, kw, strides[1], padding)
    if out_h < 1 or out_w < 1:
        raise ValueError(f"{op}: input {(h, w)} gives an empty output {(out_h, out_w)}.")
    return out_h, out_w, pad_top, pad_left
