"""Differentiable operations, one module per family.

Every op takes Tensors (or numbers/arrays, converted), returns a Tensor, and
defines its backward right beside its forward (see ``minidl.autograd``).
Ops that do heavy work call the active kernel backend, ``minidl._kernels``.

This is also ``keras.ops`` (``from minidl import keras``): Keras 3's names,
arguments and results.  Where Keras gives integers or booleans (``shape`` a
tuple, ``arange(5)``, ``argmax``, ``equal``) the result is a NumPy array viewed as
``EagerArray`` (``.numpy()`` works), since a Tensor holds floats (see ``_dtypes``).

    arithmetic     add sub mul div neg pow (Keras: subtract multiply divide negative power)
    reductions     sum mean max min cumsum
    statistics     var std moments
    shaping        reshape expand_dims squeeze ravel flatten transpose broadcast_to
                   concatenate stack getitem
    rearranging    tile repeat split slice flip roll pad triu tril
    gathering      take take_along_axis one_hot segment_sum
    ordering       argmax argmin argsort sort top_k (positions are int32)
    creation       arange linspace zeros ones full zeros_like ones_like full_like eye
    conversion     shape cast convert_to_tensor convert_to_numpy stop_gradient
    comparison     equal not_equal less less_equal greater greater_equal logical_and
                   logical_or logical_not any all isnan isfinite (boolean results)
    elementwise    exp log sqrt abs clip square log1p expm1 sin cos erf nan_to_num
    rounding       floor ceil round sign floor_divide mod (step functions: gradient 0)
    activations    relu leaky_relu elu sigmoid tanh softplus log_sigmoid softmax log_softmax
    piecewise_activations   rectified_linear relu6 hard_sigmoid selu softsign
    gated_activations       gelu swish (silu) mish
    selection      where maximum minimum
    similarity     batch_dot l2_normalize
    linalg         matmul dot norm (also ``ops.linalg.norm``, as Keras's submodule)
    einsum         einsum (two operands, explicit '->': "ab,bc->ac", "...b,bc->...c")
    crossentropy   binary_crossentropy categorical_crossentropy
                   sparse_categorical_crossentropy (Keras 3's, per sample)
    dense          dense (x @ w + b, activation fused)
    recurrent      lstm gru simple_rnn (whole sequences, backpropagation through time)
    gru_reset_before  gru_reset_before (Keras's GRU with reset_after=False)
    convolution    conv conv_transpose depthwise_conv (Keras 3's, of any rank: through the
                   ops below)
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
    image          resize affine_transform flip (``ops.image``, as Keras's submodule; and
                   sample, the resampling they share)
    normalization  batch_norm batch_norm_train layer_norm
    losses         softmax_cross_entropy squared_error absolute_error
                   binary_cross_entropy binary_cross_entropy_with_logits
"""

from minidl.ops import image, linalg
from minidl.ops.activations import (
    elu,
    leaky_relu,
    log_sigmoid,
    log_softmax,
    relu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)
from minidl.ops.arithmetic import (
    add,
    as_tensor,
    div,
    divide,
    mul,
    multiply,
    neg,
    negative,
    pow,
    power,
    sub,
    subtract,
)
from minidl.ops.comparison import (
    all,
    any,
    equal,
    greater,
    greater_equal,
    isfinite,
    isnan,
    less,
    less_equal,
    logical_and,
    logical_not,
    logical_or,
    not_equal,
)
from minidl.ops.conv2d import conv2d
from minidl.ops.conv1d import conv1d
from minidl.ops.conv1d_transpose import conv1d_transpose
from minidl.ops.conv3d import conv3d
from minidl.ops.conv3d_transpose import conv3d_transpose
from minidl.ops.conv2d_transpose import conv2d_transpose
from minidl.ops.convolution import conv, conv_transpose, depthwise_conv
from minidl.ops.conversion import cast, convert_to_numpy, convert_to_tensor, shape, stop_gradient
from minidl.ops.creation import arange, eye, full, full_like, linspace, ones, ones_like, zeros, zeros_like
from minidl.ops.crossentropy import (
    binary_crossentropy,
    categorical_crossentropy,
    sparse_categorical_crossentropy,
)
from minidl.ops.dense import dense
from minidl.ops.depthwise import depthwise_conv1d, depthwise_conv2d
from minidl.ops.dropout import dropout
from minidl.ops.einsum import einsum
from minidl.ops.elementwise import abs, clip, cos, erf, exp, expm1, log, log1p, nan_to_num, sin, sqrt, square
from minidl.ops.embedding import embedding
from minidl.ops.gated_activations import gelu, mish, silu, swish
from minidl.ops.gathering import one_hot, segment_sum, take, take_along_axis
from minidl.ops.image import affine_transform, resize
from minidl.ops.linalg import dot, matmul, norm
from minidl.ops.losses import (
    absolute_error,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    softmax_cross_entropy,
    squared_error,
)
from minidl.ops.normalization import batch_norm, batch_norm_train, layer_norm
from minidl.ops.ordering import argmax, argmin, argsort, sort, top_k
from minidl.ops.piecewise_activations import (
    hard_sigmoid,
    rectified_linear,
    relu6,
    selu,
    softsign,
)
from minidl.ops.pooling import avg_pool2d, global_avg_pool2d, global_max_pool2d, max_pool2d
from minidl.ops.pooling1d import avg_pool1d, max_pool1d
from minidl.ops.pooling3d import avg_pool3d, global_avg_pool3d, global_max_pool3d, max_pool3d
from minidl.ops.gru_reset_before import gru_reset_before
from minidl.ops.rearranging import flip, pad, repeat, roll, slice, split, tile, tril, triu
from minidl.ops.recurrent import gru, lstm, simple_rnn
from minidl.ops.reductions import cumsum, max, mean, min, sum
from minidl.ops.resampling import crop2d, upsample2d, zero_pad2d
from minidl.ops.resampling3d import crop3d, upsample3d, zero_pad3d
from minidl.ops.rounding import ceil, floor, floor_divide, mod, round, sign
from minidl.ops.selection import maximum, minimum, where
from minidl.ops.shaping import (
    broadcast_to,
    concatenate,
    expand_dims,
    flatten,
    getitem,
    ravel,
    reshape,
    squeeze,
    stack,
    transpose,
)
from minidl.ops.similarity import batch_dot, l2_normalize
from minidl.ops.statistics import moments, std, var

__all__ = [
    "abs", "absolute_error", "add", "affine_transform", "all", "any", "arange", "argmax",
    "argmin", "argsort", "as_tensor", "avg_pool1d", "avg_pool2d", "avg_pool3d", "batch_dot",
    "batch_norm", "batch_norm_train", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "binary_crossentropy", "broadcast_to", "cast",
    "categorical_crossentropy", "ceil", "clip", "concatenate", "conv", "conv1d",
    "conv1d_transpose", "conv2d", "conv2d_transpose", "conv3d", "conv3d_transpose",
    "conv_transpose", "convert_to_numpy", "convert_to_tensor", "cos", "crop2d", "crop3d",
    "cumsum", "dense", "depthwise_conv", "depthwise_conv1d", "depthwise_conv2d", "div",
    "divide", "dot", "dropout", "einsum", "elu", "embedding", "equal", "erf", "exp",
    "expand_dims", "expm1", "eye", "flatten", "flip", "floor", "floor_divide", "full",
    "full_like", "gelu", "getitem", "global_avg_pool2d", "global_avg_pool3d",
    "global_max_pool2d", "global_max_pool3d", "greater", "greater_equal", "gru",
    "gru_reset_before", "hard_sigmoid", "image", "isfinite", "isnan", "l2_normalize",
    "layer_norm", "leaky_relu", "less", "less_equal", "linalg", "linspace", "log", "log1p",
    "log_sigmoid", "log_softmax", "logical_and", "logical_not", "logical_or", "lstm",
    "matmul", "max", "max_pool1d", "max_pool2d", "max_pool3d", "maximum", "mean", "min",
    "minimum", "mish", "mod", "moments", "mul", "multiply", "nan_to_num", "neg", "negative",
    "norm", "not_equal", "one_hot", "ones", "ones_like", "pad", "pow", "power", "ravel",
    "rectified_linear", "relu", "relu6", "repeat", "reshape", "resize", "roll", "round",
    "segment_sum", "selu", "shape", "sigmoid", "sign", "silu", "simple_rnn", "sin", "slice",
    "softmax", "softmax_cross_entropy", "softplus", "softsign", "sort",
    "sparse_categorical_crossentropy", "split", "sqrt", "square", "squared_error",
    "squeeze", "stack", "std", "stop_gradient", "sub", "subtract", "sum", "swish", "take",
    "take_along_axis", "tanh", "tile", "top_k", "transpose", "tril", "triu", "upsample2d",
    "upsample3d", "var", "where", "zero_pad2d", "zero_pad3d", "zeros", "zeros_like",
]

# Keras 3's behaviour on integers and on a functional model's symbolic tensors (see
# ops/_keras_api.py); ``shape`` answers with the symbolic shape itself.
from minidl.ops._keras_api import keras_op  # noqa: E402

for _name in __all__:
    if _name not in ("as_tensor", "getitem", "image", "linalg", "shape"):
        globals()[_name] = keras_op(_name, globals()[_name])
del _name
