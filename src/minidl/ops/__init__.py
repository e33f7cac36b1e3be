"""Differentiable operations, one module per family.

Every op takes Tensors (or numbers/arrays, converted), returns a Tensor, and
defines its backward right beside its forward (see ``minidl.autograd``).
Ops that do heavy work call the active kernel backend, ``minidl._kernels``.

    arithmetic     add sub mul div neg pow
    reductions     sum mean max
    shaping        reshape transpose flatten concatenate getitem
    elementwise    exp log sqrt abs clip cast
    activations    relu leaky_relu elu sigmoid tanh softplus softmax log_softmax
    piecewise_activations   rectified_linear hard_sigmoid selu softsign
    gated_activations       gelu swish mish
    selection      where maximum minimum
    similarity     batch_dot l2_normalize
    linalg         matmul
    einsum         einsum (two operands, explicit '->': "ab,bc->ac", "...b,bc->...c")
    dense          dense (x @ w + b, activation fused)
    recurrent      lstm gru simple_rnn (whole sequences, backpropagation through time)
    gru_reset_before  gru_reset_before (Keras's GRU with reset_after=False)
    conv2d         conv2d
    conv_dilated   conv2d's dilation_rate and groups (sub-images through the plain conv2d;
                   a group convolution per group)
    conv1d         conv1d (through conv2d: height-1 images, or rows of d steps when dilated)
    conv3d         conv3d (through conv2d: each output depth's kd input slices side by side)
    conv2d_transpose  conv2d_transpose
    conv1d_transpose  conv1d_transpose (through conv2d_transpose: height-1 images)
    conv3d_transpose  conv3d_transpose (through conv2d_transpose: the depth slices, then
                   each depth tap added in place)
    depthwise      depthwise_conv2d depthwise_conv1d (each channel its own filters: a
                   multiply-add per kernel tap over strided slices, in NumPy)
    embedding      embedding (a gather; scatter-add backward)
    hashing        fingerprint64 siphash64 fingerprint_cat64 (TensorFlow's string hashes, for
                   the Hashing layers; no gradient)
    pooling        max_pool2d avg_pool2d global_avg_pool2d global_max_pool2d
    pooling1d      max_pool1d avg_pool1d
    pooling3d      max_pool3d avg_pool3d global_avg_pool3d global_max_pool3d (2-D pooling
                   on each depth slice, then along the depth)
    resampling     upsample2d zero_pad2d crop2d
    resampling3d   upsample3d zero_pad3d crop3d (the 2-D ops on slices, then along the depth)
    dropout        dropout
    image          resize affine_transform flip (and sample, the resampling they share)
    normalization  batch_norm batch_norm_train layer_norm
    losses         softmax_cross_entropy squared_error absolute_error
                   binary_cross_entropy binary_cross_entropy_with_logits
"""

from minidl.ops.activations import elu, leaky_relu, log_softmax, relu, sigmoid, softmax, softplus, tanh
from minidl.ops.arithmetic import add, as_tensor, div, mul, neg, pow, sub
from minidl.ops.conv2d import conv2d
from minidl.ops.conv1d import conv1d
from minidl.ops.conv1d_transpose import conv1d_transpose
from minidl.ops.conv3d import conv3d
from minidl.ops.conv3d_transpose import conv3d_transpose
from minidl.ops.conv2d_transpose import conv2d_transpose
from minidl.ops.dense import dense
from minidl.ops.depthwise import depthwise_conv1d, depthwise_conv2d
from minidl.ops.dropout import dropout
from minidl.ops.elementwise import abs, cast, clip, exp, log, sqrt
from minidl.ops.einsum import einsum
from minidl.ops.embedding import embedding
from minidl.ops.gated_activations import gelu, mish, swish
from minidl.ops.image import affine_transform, flip, resize
from minidl.ops.linalg import matmul
from minidl.ops.losses import (
    absolute_error,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    softmax_cross_entropy,
    squared_error,
)
from minidl.ops.normalization import batch_norm, batch_norm_train, layer_norm
from minidl.ops.piecewise_activations import (
    hard_sigmoid,
    rectified_linear,
    selu,
    softsign,
)
from minidl.ops.pooling import avg_pool2d, global_avg_pool2d, global_max_pool2d, max_pool2d
from minidl.ops.pooling1d import avg_pool1d, max_pool1d
from minidl.ops.pooling3d import avg_pool3d, global_avg_pool3d, global_max_pool3d, max_pool3d
from minidl.ops.gru_reset_before import gru_reset_before
from minidl.ops.recurrent import gru, lstm, simple_rnn
from minidl.ops.reductions import max, mean, sum
from minidl.ops.resampling import crop2d, upsample2d, zero_pad2d
from minidl.ops.resampling3d import crop3d, upsample3d, zero_pad3d
from minidl.ops.selection import maximum, minimum, where
from minidl.ops.shaping import concatenate, flatten, getitem, reshape, stack, transpose
from minidl.ops.similarity import batch_dot, l2_normalize

__all__ = [
    "abs", "absolute_error", "add", "affine_transform", "as_tensor", "avg_pool1d", "avg_pool2d", "avg_pool3d", "batch_dot",
    "batch_norm", "batch_norm_train", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "cast", "clip", "concatenate", "conv1d", "conv1d_transpose", "conv2d", "conv2d_transpose", "conv3d", "conv3d_transpose",
    "crop2d", "crop3d", "dense",
    "depthwise_conv1d", "depthwise_conv2d",
    "div", "dropout", "einsum", "elu", "embedding", "exp", "flatten", "flip", "gelu", "getitem",
    "global_avg_pool2d", "global_avg_pool3d", "global_max_pool2d", "global_max_pool3d",
    "gru", "gru_reset_before", "hard_sigmoid", "l2_normalize", "layer_norm",
    "leaky_relu", "log", "log_softmax", "lstm", "matmul", "max", "max_pool1d", "max_pool2d", "max_pool3d",
    "maximum", "mean", "minimum", "mish", "mul", "neg", "pow", "rectified_linear", "relu",
    "reshape", "resize", "selu", "sigmoid", "simple_rnn", "softmax",
    "softmax_cross_entropy", "softplus", "softsign", "sqrt", "squared_error", "stack", "sub", "sum",
    "swish", "tanh", "transpose", "upsample2d", "upsample3d", "where", "zero_pad2d",
    "zero_pad3d",
]
