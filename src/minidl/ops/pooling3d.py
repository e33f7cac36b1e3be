"""Pooling over NDHWC volumes: max_pool3d, avg_pool3d, global_avg_pool3d, global_max_pool3d.

A (pd, ph, pw) window is a box, and both summaries split along its axes:

    max over the box  = max over depth of (max over each slice's ph x pw window)
    mean over the box = mean over depth of (mean over each slice's ph x pw window)

The mean splits too with "same" padding, where only the real voxels are counted
(as in TensorFlow): the real part of a box is itself a box, depth x height x width,
so its count is a product.  So each op is the 2-D pooling op twice: on every depth
slice (height and width), then along the depth (``_volumes``), with the 2-D
kernels and their backward (the maximum's gradient to the voxel that won, the mean's
shared among the real voxels of the window).  Output sizes per axis: "valid"
(n - p) // s + 1, "same" ceil(n / s); ``strides=None`` means ``pool_size``.
"""

from __future__ import annotations

from minidl.ops._geometry import check_padding, triple
from minidl.ops._volumes import along_depth, on_slices, volume_batch
from minidl.ops.pooling import avg_pool2d, max_pool2d
from minidl.ops.reductions import max, mean


def max_pool3d(x, pool_size=(2, 2, 2), strides=None, padding="valid"):
    """Maximum over each ``pool_size`` box: (N, D, H, W, C) -> (N, OD, OH, OW, C)."""
    return _pool3d(max_pool2d, x, pool_size, strides, padding, "max_pool3d")


def avg_pool3d(x, pool_size=(2, 2, 2), strides=None, padding="valid"):
    """Mean over each ``pool_size`` box: (N, D, H, W, C) -> (N, OD, OH, OW, C)."""
    return _pool3d(avg_pool2d, x, pool_size, strides, padding, "avg_pool3d")


def _pool3d(pool2d, x, pool_size, strides, padding, op):
    x = volume_batch(x, op)
    pool_size = triple(pool_size, "pool_size", op)
    strides = pool_size if strides is None else triple(strides, "strides", op)
    padding = check_padding(padding, op)
    if padding == "valid" and any(p > n for p, n in zip(pool_size, x.shape[1:4])):
        raise ValueError(
            f"{op}: pool_size {pool_size} is larger than the input volume "
            f"{tuple(x.shape[1:4])}; use padding='same' or a smaller pool_size."
        )
    x = on_slices(pool2d, x, pool_size[1:], strides[1:], padding)
    return along_depth(pool2d, x, (pool_size[0], 1), (strides[0], 1), padding)


def global_avg_pool3d(x):
    """Mean over depth, height and width: (N, D, H, W, C) -> (N, C)."""
    return mean(volume_batch(x, "global_avg_pool3d"), axis=(1, 2, 3))


def global_max_pool3d(x):
    """Maximum over depth, height and width: (N, D, H, W, C) -> (N, C) (ties share the
    gradient, as in TensorFlow; see ``reductions.max``)."""
    return max(volume_batch(x, "global_max_pool3d"), axis=(1, 2, 3))
