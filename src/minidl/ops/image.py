"""Image resampling: resize, affine_transform (rotate, zoom, shift) and flip.

Images are channels-last, ``(N, H, W, C)``.  Resizing, rotating, zooming
and shifting all do the same thing: for every output pixel ``(row, col)``
they compute where it comes from in the input, a point ``(y, x)`` that
usually falls between pixels, and read the input there.  ``sample`` does the
reading, as TensorFlow's ``ImageProjectiveTransformV3`` (what Keras 2's
augmentation layers call) and ``tf.image.resize`` do:

* a point outside the image is first brought back according to ``fill_mode``
  (for a row of pixels ``a b c d``)::

      "reflect"   d c b a | a b c d | d c b a    (the edge pixel repeated once)
      "wrap"      a b c d | a b c d | a b c d
      "nearest"   a a a a | a b c d | d d d d
      "constant"  k k k k | a b c d | k k k k    (k = fill_value)

* ``"nearest"`` interpolation reads the pixel at ``(round(y), round(x))``
  (halves rounded away from zero); ``"bilinear"`` mixes the four pixels
  around the point, each weighted by how close it is::

      y0, x0 = floor(y), floor(x);   y1, x1 = y0 + 1, x0 + 1
      out = (y1 - y) (x1 - x) img[y0, x0] + (y1 - y) (x - x0) img[y0, x1]
          + (y - y0) (x1 - x) img[y1, x0] + (y - y0) (x - x0) img[y1, x1]

  (a pixel outside the image reads ``fill_value``).

For fixed points the output is a linear function of the image: each output
value is a weighted sum of at most four input values.  The backward is its
adjoint (its transpose): each output gradient goes back to those four input
pixels, times the same weights.  No gradient flows into the points
themselves (the transform parameters), as in TensorFlow.
"""

from __future__ import annotations

import numpy as np

from minidl.autograd import record
from minidl.ops._geometry import pair
from minidl.ops.arithmetic import as_tensor

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("bilinear", "nearest")


def _reflect(coords, length):
    """Points outside ``[0, length - 1]`` folded back in, mirrored at the edges
    (TensorFlow's rule: ``-1`` reads pixel 0, ``length`` reads the last)."""
    period = 2 * length
    below = coords < 0
    low = coords + period * np.trunc(-coords / period)
    low = np.where(low < -length, low + period, -low - 1)
    high = coords - period * np.trunc(coords / period)
    high = np.where(high >= length, period - high - 1, high)
    return np.where(below, low, high)


def _wrap(coords, length):
    """Points outside ``[0, length - 1]`` moved by whole image lengths (TensorFlow's rule)."""
    span = length - 1
    return np.where(coords < 0, coords + length * (np.trunc(-coords / span) + 1),
                    coords - length * np.trunc(coords / span))


def map_coordinates(coords, length, fill_mode):
    """Bring points along one axis of ``length`` pixels back into ``[0, length - 1]``
    according to ``fill_mode`` ("constant" leaves them: they read fill_value)."""
    outside = (coords < 0) | (coords > length - 1)
    if fill_mode == "constant" or not outside.any():
        return coords
    coords = coords.copy()
    if length > 1 and fill_mode == "reflect":
        coords[outside] = _reflect(coords[outside], length)
    elif length > 1 and fill_mode == "wrap":
        coords[outside] = _wrap(coords[outside], length)
    return np.clip(coords, 0, length - 1)


def _round_half_away(values):
    """Round to the nearest integer, halves away from zero (C's ``round``, as TensorFlow).

    ``floor(v + 0.5)`` would be wrong in float32 just below a half: 0.49999997 + 0.5
    rounds to 1.  ``np.round`` is exact but sends halves to the even neighbour."""
    whole = np.trunc(values)
    return np.where(np.abs(values - whole) == 0.5, whole + np.sign(values), np.round(values))


def _axis_taps(coords, length, interpolation, constant):
    """The pixels points along one axis read, and their weights: a list of
    ``(pixel index, weight)``, one entry for "nearest", two for "bilinear"
    (``floor(c)`` with weight ``floor(c) + 1 - c``, ``floor(c) + 1`` with ``c - floor(c)``).

    With ``constant`` fill a pixel outside the image gets weight 0 (its share
    goes to fill_value); indices are clipped into the image either way (a
    clipped index past the edge only ever has weight 0).
    """
    if interpolation == "nearest":
        taps = [(_round_half_away(coords), np.ones((), coords.dtype))]
    else:
        low = np.floor(coords)
        taps = [(low, low + 1 - coords), (low + 1, coords - low)]
    result = []
    for pixel, weight in taps:
        if constant:
            weight = np.where((pixel >= 0) & (pixel < length), weight, 0)
        result.append((np.clip(pixel, 0, length - 1).astype(np.int64), weight))
    return result


def sample(images, rows, cols, interpolation="bilinear", fill_mode="reflect", fill_value=0.0):
    """Read ``images`` (N, H, W, C) at the points ``(rows, cols)`` (see the module docstring).

    ``rows`` and ``cols`` are arrays of the output's shape ``(N, OH, OW)``
    (or broadcastable to it) holding, for each output pixel, the input row
    and column it reads, in pixels.  Returns an (N, OH, OW, C) Tensor.

    With the images as a matrix of N*H*W pixels by C channels, the output is
    ``S @ pixels``, where ``S`` (N*OH*OW by N*H*W) holds in each row the
    weights of the pixels that output pixel reads: at most four nonzeros per
    row, so ``S`` is stored as a SciPy sparse matrix.  The backward is
    ``S.T @ grad``.
    """
    from scipy import sparse  # imported on first use: it takes 0.2 s

    images = as_tensor(images)
    _check_sampling(images, interpolation, fill_mode)
    n, height, width, channels = images.shape
    dtype = images.dtype
    constant = fill_mode == "constant"
    rows = map_coordinates(np.asarray(rows, dtype), height, fill_mode)
    cols = map_coordinates(np.asarray(cols, dtype), width, fill_mode)
    out_shape = (n, *np.broadcast_shapes(rows.shape, cols.shape)[1:])
    row_taps = _axis_taps(rows, height, interpolation, constant)
    col_taps = _axis_taps(cols, width, interpolation, constant)
    first_pixel = (np.arange(n) * (height * width)).reshape(n, 1, 1)
    taps = len(row_taps) * len(col_taps)
    indices = np.empty((*out_shape, taps), np.int64)  # the pixels each output pixel reads
    weights = np.empty((*out_shape, taps), dtype)     # and how much of each
    for k, ((row, row_weight), (col, col_weight)) in enumerate(
            (r, c) for r in row_taps for c in col_taps):
        indices[..., k] = first_pixel + row * width + col
        weights[..., k] = row_weight * col_weight
    matrix = sparse.csr_matrix(
        (weights.reshape(-1), indices.reshape(-1), np.arange(0, indices.size + 1, taps)),
        shape=(indices.size // taps, n * height * width))
    out = matrix @ images.data.reshape(-1, channels)
    if constant and fill_value != 0:  # the share of the points outside: 1 - the share inside
        inside = sum(w for _, w in row_taps) * sum(w for _, w in col_taps)
        out += dtype.type(fill_value) * np.broadcast_to(1 - inside, out_shape).reshape(-1, 1)

    def backward(grad):
        return ((matrix.T @ grad.reshape(-1, channels)).reshape(images.shape),)

    return record(out.reshape(*out_shape, channels), (images,), backward)


def _check_sampling(images, interpolation, fill_mode):
    if images.ndim != 4:
        raise ValueError(
            f"image sampling: images must be 4-D (batch, height, width, channels), "
            f"received shape {images.shape}."
        )
    if interpolation not in INTERPOLATIONS:
        raise ValueError(
            f"image sampling: interpolation must be one of {INTERPOLATIONS}, "
            f"received {interpolation!r}."
        )
    if fill_mode not in FILL_MODES:
        raise ValueError(f"image sampling: fill_mode must be one of {FILL_MODES}, received {fill_mode!r}.")


def affine_transform(images, transforms, interpolation="bilinear", fill_mode="reflect",
                     fill_value=0.0):
    """Apply one affine transform per image, as TensorFlow's ``ImageProjectiveTransformV3``.

    ``transforms`` is (N, 6) (or (6,) for all images); a row
    ``[a0, a1, a2, b0, b1, b2]`` (TensorFlow's first six entries; its last
    two, for perspective, are 0 here) sends the *output* pixel at column
    ``x``, row ``y`` to the input point::

        x_in = a0 x + a1 y + a2,    y_in = b0 x + b1 y + b2

    The output has the input's shape.
    """
    images = as_tensor(images)
    _check_sampling(images, interpolation, fill_mode)
    n, height, width = images.shape[:3]
    transforms = np.asarray(transforms, images.dtype)
    if transforms.shape == (6,):
        transforms = np.broadcast_to(transforms, (n, 6))
    if transforms.shape != (n, 6):
        raise ValueError(
            f"affine_transform: transforms must have shape ({n}, 6) or (6,), received "
            f"{transforms.shape}."
        )
    a0, a1, a2, b0, b1, b2 = (transforms[:, i].reshape(n, 1, 1) for i in range(6))
    y = np.arange(height, dtype=images.dtype).reshape(1, height, 1)
    x = np.arange(width, dtype=images.dtype).reshape(1, 1, width)
    return sample(images, b0 * x + b1 * y + b2, a0 * x + a1 * y + a2, interpolation, fill_mode,
                  fill_value)


def resize_coordinates(in_size, out_size, interpolation):
    """The input positions ``tf.image.resize`` reads along one axis (half-pixel centres).

    Output pixel ``i`` covers ``[i, i + 1)`` scaled by ``in_size / out_size``;
    its centre ``(i + 0.5) * scale`` is at input position ``(i + 0.5) * scale - 0.5``
    (bilinear).  Nearest takes the pixel that centre falls in,
    ``floor((i + 0.5) * scale)``.  Computed in float32, as TensorFlow does.
    """
    scale = np.float32(in_size) / np.float32(out_size)
    centres = (np.arange(out_size, dtype=np.float32) + np.float32(0.5)) * scale
    if interpolation == "nearest":
        return np.minimum(np.floor(centres), in_size - 1)
    return centres - np.float32(0.5)


def resize(images, height, width, interpolation="bilinear"):
    """Resize (N, H, W, C) images to (N, height, width, C), as ``tf.image.resize``
    (half-pixel centres, no antialiasing; positions past the edge read the edge pixel)."""
    images = as_tensor(images)
    _check_sampling(images, interpolation, "nearest")
    height, width = pair((height, width), "(height, width)", "resize")
    rows = resize_coordinates(images.shape[1], height, interpolation).reshape(1, height, 1)
    cols = resize_coordinates(images.shape[2], width, interpolation).reshape(1, 1, width)
    return sample(images, rows, cols, interpolation, fill_mode="nearest")


def flip(images, horizontal, vertical):
    """Flip each image left-right where ``horizontal`` (N booleans) is True and
    upside down where ``vertical`` is True.  A flip only moves values, and
    flipping twice gives back the original: the backward flips the gradient
    the same way."""
    images = as_tensor(images)
    horizontal = np.broadcast_to(np.asarray(horizontal, bool), images.shape[:1])
    vertical = np.broadcast_to(np.asarray(vertical, bool), images.shape[:1])

    def flipped(batch):
        out = np.empty_like(batch)
        for i, image in enumerate(batch):  # one copy per image, of the view that flips it
            image = image[:, ::-1] if horizontal[i] else image
            out[i] = image[::-1] if vertical[i] else image
        return out

    return record(flipped(images.data), (images,), lambda grad: (flipped(grad),))
