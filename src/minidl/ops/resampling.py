"""Resizing NHWC images: upsample2d (nearest, bilinear), zero_pad2d, crop2d.

* Nearest upsampling by integer factors (fh, fw) repeats every pixel into an
  fh x fw block; backward adds each block's gradients back to its pixel.
* Bilinear upsampling, as TensorFlow's ``tf.image.resize`` does it (half-pixel
  centres): output pixel ``o`` along an axis of size ``n`` reads the input at
  ``c = (o + 0.5) / f - 0.5`` and mixes the two nearest pixels linearly, the
  edge pixel repeated beyond the edges.  With ``o = i * f + p`` that is
  ``c = i + d_p``, ``d_p = (p + 0.5) / f - 0.5``: every output "phase" ``p``
  is ``(1 - |d_p|) * x[i] + |d_p| * x[i +- 1]``, a fixed mix of each pixel and
  one neighbour.  The 2-D resize is the 1-D one along height, then along
  width; backward sends each phase's gradient back with the same weights.
* Zero padding and cropping are each other's adjoints: the backward of a pad
  is a crop of the gradient, the backward of a crop pads it with zeros.

Paddings and croppings are ``((top, bottom), (left, right))``.
"""

from __future__ import annotations

import numpy as np

from minidl.autograd import record
from minidl.ops._geometry import image_batch

INTERPOLATIONS = ("nearest", "bilinear")


def upsample2d(x, size=(2, 2), interpolation="nearest"):
    """Upsample (N, H, W, C) images to (N, H * fh, W * fw, C); ``size`` = (fh, fw)."""
    x = image_batch(x, "upsample2d")
    fh, fw = size
    if interpolation == "nearest":
        return _repeat_pixels(x, fh, fw)
    if interpolation == "bilinear":
        return _upsample_linear(_upsample_linear(x, fh, axis=1), fw, axis=2)
    raise ValueError(
        f"upsample2d: interpolation must be one of {INTERPOLATIONS}, received {interpolation!r}."
    )


def _repeat_pixels(x, fh, fw):
    """Nearest: each pixel becomes an fh x fw block."""
    n, h, w, c = x.shape
    out = np.repeat(np.repeat(x.data, fh, axis=1), fw, axis=2)

    def backward(grad):
        return (grad.reshape(n, h, fh, w, fw, c).sum(axis=(2, 4)),)

    backward.__qualname__ = "upsample2d.backward"  # minidl.profile() names it so
    return record(out, (x,), backward)


def _phases(factor):
    """``(|d_p|, sign of d_p)`` of each output phase p (see the module docstring)."""
    d = (np.arange(factor) + 0.5) / factor - 0.5
    return [(float(abs(offset)), int(np.sign(offset))) for offset in d]


def _neighbour(x, step):
    """``x[i + step]`` along axis 0 (step +1 or -1), the edge pixel repeated beyond it."""
    if step > 0:
        return np.concatenate([x[1:], x[-1:]])
    return np.concatenate([x[:1], x[:-1]])


def _neighbour_adjoint(grad, step):
    """The transpose of ``_neighbour``: every value goes back to the pixel it was read from."""
    out = np.zeros_like(grad)
    if step > 0:
        out[1:] += grad[:-1]
        out[-1] += grad[-1]
    else:
        out[:-1] += grad[1:]
        out[0] += grad[0]
    return out


def _upsample_linear(x, factor, axis):
    """Linear (half-pixel) upsampling by ``factor`` along ``axis`` (1 or 2)."""
    phases = _phases(factor)
    source = np.moveaxis(x.data, axis, 0)  # the resized axis first: (n, ...)
    neighbours = {step: _neighbour(source, step) for _, step in phases if step}
    mixed = [source if step == 0 else (1 - weight) * source + weight * neighbours[step]
             for weight, step in phases]
    out = np.moveaxis(np.stack(mixed, axis=1), (0, 1), (axis, axis + 1))
    out_shape = list(x.shape)
    out_shape[axis] *= factor
    out = np.ascontiguousarray(out).reshape(out_shape)

    def backward(grad):
        split = list(x.shape)
        split[axis + 1:axis + 1] = [factor]  # (..., n, factor, ...)
        grad = np.moveaxis(grad.reshape(split), (axis, axis + 1), (0, 1))
        grad_x = np.zeros(grad.shape[:1] + grad.shape[2:], grad.dtype)
        for p, (weight, step) in enumerate(phases):
            grad_x += grad[:, p] if step == 0 else (1 - weight) * grad[:, p]
            if step:
                grad_x += weight * _neighbour_adjoint(grad[:, p], step)
        return (np.ascontiguousarray(np.moveaxis(grad_x, 0, axis)),)

    backward.__qualname__ = "upsample2d.backward"  # minidl.profile() names it so
    return record(out, (x,), backward)


def zero_pad2d(x, padding):
    """Zeros around (N, H, W, C) images: ``padding`` = ((top, bottom), (left, right))."""
    x = image_batch(x, "zero_pad2d")
    (top, bottom), (left, right) = padding
    out = np.pad(x.data, ((0, 0), (top, bottom), (left, right), (0, 0)))
    h, w = x.shape[1:3]
    return record(out, (x,), lambda grad: (
        np.ascontiguousarray(grad[:, top:top + h, left:left + w, :]),))


def crop2d(x, cropping):
    """(N, H, W, C) images without ``cropping`` = ((top, bottom), (left, right)) pixels."""
    x = image_batch(x, "crop2d")
    (top, bottom), (left, right) = cropping
    h, w = x.shape[1:3]
    if top + bottom >= h or left + right >= w:
        raise ValueError(
            f"crop2d: cropping {cropping} leaves nothing of images of size {(h, w)}."
        )
    out = np.ascontiguousarray(x.data[:, top:h - bottom, left:w - right, :])
    return record(out, (x,), lambda grad: (
        np.pad(grad, ((0, 0), (top, bottom), (left, right), (0, 0))),))
