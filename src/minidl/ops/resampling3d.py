"""Resizing NDHWC volumes: upsample3d (nearest), zero_pad3d, crop3d.

Each is its 2-D twin (``ops.resampling``) twice: on every depth slice for height and
width, then along the depth (``_volumes``), so the backward is the 2-D ops'
(repeated voxels add their gradients back; padding and cropping are each other's
adjoints).  Paddings and croppings are ``((front, back), (top, bottom), (left, right))``.
"""

from __future__ import annotations

from minidl.ops._volumes import along_depth, on_slices, volume_batch
from minidl.ops.resampling import crop2d, upsample2d, zero_pad2d


def upsample3d(x, size=(2, 2, 2)):
    """Each voxel repeated into an fd x fh x fw block: (N, D, H, W, C) ->
    (N, D*fd, H*fh, W*fw, C); ``size`` = (fd, fh, fw)."""
    x = volume_batch(x, "upsample3d")
    fd, fh, fw = size
    return along_depth(upsample2d, on_slices(upsample2d, x, (fh, fw)), (fd, 1))


def zero_pad3d(x, padding):
    """Zeros around (N, D, H, W, C) volumes: ``padding`` = ((front, back), (top, bottom),
    (left, right))."""
    x = volume_batch(x, "zero_pad3d")
    depth, *image = padding
    return along_depth(zero_pad2d, on_slices(zero_pad2d, x, image), (depth, (0, 0)))


def crop3d(x, cropping):
    """(N, D, H, W, C) volumes without ``cropping`` = ((front, back), (top, bottom),
    (left, right)) voxels at the edges."""
    x = volume_batch(x, "crop3d")
    if any(before + after >= n for (before, after), n in zip(cropping, x.shape[1:4])):
        raise ValueError(
            f"crop3d: cropping {tuple(cropping)} leaves nothing of volumes of size "
            f"{tuple(x.shape[1:4])}."
        )
    depth, *image = cropping
    return along_depth(crop2d, on_slices(crop2d, x, image), (depth, (0, 0)))
