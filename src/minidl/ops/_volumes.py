"""Volumes as stacks of images: how the 3-D ops reuse the 2-D ones.

A batch of volumes is (N, D, H, W, C): N volumes (a clip of D video frames, a CT
scan of D slices), each D images of H x W pixels with C channels.  Two reshapes,
neither of which moves a number in memory, turn it into batches of images:

* ``on_slices``: the (N * D) depth slices as images, (N*D, H, W, C): a 2-D op on
  them works on height and width, each slice on its own;
* ``along_depth``: each volume as one image of D rows and H*W columns,
  (N, D, H*W, C): a 2-D op with a window of width 1 (or padding on the rows only)
  works along the depth, each (h, w) position on its own.

Reshapes are ops with their own backward, so what is built from these two needs no
new gradient.
"""

from __future__ import annotations

from minidl.ops.arithmetic import as_tensor
from minidl.ops.shaping import reshape


def volume_batch(x, op):
    """``x`` as a Tensor, checked to be 5-D (batch, depth, height, width, channels)."""
    x = as_tensor(x)
    if x.ndim != 5:
        raise ValueError(
            f"{op}: input must be 5-D (batch, depth, height, width, channels), received "
            f"shape {x.shape}."
        )
    return x


def on_slices(image_op, x, *args):
    """``image_op(images, *args)`` on every depth slice: (N, D, H, W, C) -> (N, D, H', W', C')."""
    n, d, h, w, c = x.shape
    out = image_op(reshape(x, (n * d, h, w, c)), *args)
    return reshape(out, (n, d, *out.shape[1:]))


def along_depth(image_op, x, *args):
    """``image_op(rows, *args)`` on (N, D, H*W, C), with ``image_op`` leaving the width
    (the H*W columns) as it is: (N, D, H, W, C) -> (N, D', H, W, C)."""
    n, d, h, w, c = x.shape
    out = image_op(reshape(x, (n, d, h * w, c)), *args)
    return reshape(out, (n, out.shape[1], h, w, c))
