"""Differentiable operations, one module per family.

Every op takes Tensors (or numbers/arrays, converted), returns a Tensor, and
defines its backward right beside its forward (see ``minidl.autograd``).
Ops that do heavy work call the active kernel backend, ``minidl._kernels``.

    arithmetic     add sub mul div neg pow
    reductions     sum mean max
    shape          reshape transpose flatten concatenate getitem
    elementwise    exp log sqrt abs clip cast
    activations    relu leaky_relu elu sigmoid tanh softplus softmax log_softmax
    linalg         matmul
    dense          dense (x @ w + b, activation fused)
    conv           conv2d
    conv_transpose conv2d_transpose
    pooling        max_pool2d avg_pool2d global_avg_pool2d global_max_pool2d
    resampling     upsample2d zero_pad2d crop2d
    dropout        dropout
    normalization  batch_norm batch_norm_train
    losses         softmax_cross_entropy squared_error absolute_error
                   binary_cross_entropy binary_cross_entropy_with_logits
"""

from minidl.ops.activations import elu, leaky_relu, log_softmax, relu, sigmoid, softmax, softplus, tanh
from minidl.ops.arithmetic import add, as_tensor, div, mul, neg, pow, sub
from minidl.ops.conv import conv2d
from minidl.ops.conv_transpose import conv2d_transpose
from minidl.ops.dense import dense
from minidl.ops.dropout import dropout
from minidl.ops.elementwise import abs, cast, clip, exp, log, sqrt
from minidl.ops.linalg import matmul
from minidl.ops.losses import (
    absolute_error,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    softmax_cross_entropy,
    squared_error,
)
from minidl.ops.normalization import batch_norm, batch_norm_train
from minidl.ops.pooling import avg_pool2d, global_avg_pool2d, global_max_pool2d, max_pool2d
from minidl.ops.reductions import max, mean, sum
from minidl.ops.resampling import crop2d, upsample2d, zero_pad2d
from minidl.ops.shape import concatenate, flatten, getitem, reshape, transpose

__all__ = [
    "abs", "absolute_error", "add", "as_tensor", "avg_pool2d", "batch_norm", "batch_norm_train",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cast", "clip", "concatenate", "conv2d",
    "conv2d_transpose", "crop2d",
    "dense", "div", "dropout", "elu", "exp", "flatten", "getitem", "global_avg_pool2d",
    "global_max_pool2d",
    "leaky_relu", "log", "log_softmax", "matmul", "max", "max_pool2d", "mean", "mul", "neg",
    "pow", "relu", "reshape", "sigmoid", "softmax", "softmax_cross_entropy", "softplus", "sqrt",
    "squared_error", "sub", "sum", "tanh", "transpose",
    "upsample2d", "zero_pad2d",
]
