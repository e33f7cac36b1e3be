"""The compiled kernels, gathered under one name.

Each function lives in a Cython module beside this file (``dense.pyx``,
``conv.pyx``, ``pool.pyx``, ``softmax.pyx``, ``optim.pyx``, ``metrics.pyx``), built when the
package is installed.  Their NumPy twins, with the same signatures, are in
``reference.py``.
"""

from minidl._kernels import blas_library, dense, threads
from minidl._kernels.conv import (
    col2im,
    conv2d_backward,
    conv2d_backward_sparse,
    conv2d_forward,
    conv2d_winograd_backward,
    conv2d_winograd_forward,
    gradient_nonzeros,
    im2col,
)
from minidl._kernels.dense import dense_backward, dense_forward, gemm
from minidl._kernels.metrics import confusion_buckets_add, confusion_thresholds_add
from minidl._kernels.optim import adam_update, rmsprop_update, sgd_update
from minidl._kernels.pool import (
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)
from minidl._kernels.softmax import (
    softmax_cross_entropy_backward,
    softmax_cross_entropy_forward,
    softmax_forward,
)

NAME = "compiled"
# conv2d_backward_sparse walks only the nonzeros of dL/dz: worth taking when most are zero
SPARSE_BACKWARD = True
# conv2d_winograd_*: 3x3 convolutions with 4x fewer multiplications than im2col's products
WINOGRAD = True

__all__ = [
    "NAME",
    "SPARSE_BACKWARD",
    "WINOGRAD",
    "adam_update",
    "avg_pool2d_backward",
    "avg_pool2d_forward",
    "col2im",
    "confusion_buckets_add",
    "confusion_thresholds_add",
    "conv2d_backward",
    "conv2d_backward_sparse",
    "conv2d_forward",
    "conv2d_winograd_backward",
    "conv2d_winograd_forward",
    "dense_backward",
    "dense_forward",
    "gemm",
    "gradient_nonzeros",
    "im2col",
    "max_pool2d_backward",
    "max_pool2d_forward",
    "rmsprop_update",
    "sgd_update",
    "softmax_cross_entropy_backward",
    "softmax_cross_entropy_forward",
    "softmax_forward",
]

BLAS = blas_library.install(dense)  # which OpenBLAS the products call
threads.configure_default(BLAS)
