"""The compiled kernels, gathered under one name.

Each function lives in a Cython module beside this file (``dense.pyx``,
``embedding.pyx``, ``im2col.pyx``, ``conv.pyx``, ``pool.pyx``, ``softmax.pyx``,
``optim.pyx``, ``recurrent.pyx``, ``metrics.pyx``, ``hashing.pyx``), built when the
package is installed.  Their NumPy twins, with the same signatures, are in
``reference.py``.
"""

from minidl._kernels import blas_library, dense, process_settings
from minidl._kernels.conv import (
    conv2d_backward,
    conv2d_forward,
    conv2d_winograd_backward,
    conv2d_winograd_forward,
)
from minidl._kernels.dense import dense_backward, dense_forward, gemm
from minidl._kernels.embedding import embedding_backward, embedding_forward
from minidl._kernels.hashing import fingerprint64, siphash64
from minidl._kernels.im2col import col2im, im2col
from minidl._kernels.metrics import confusion_buckets_add, confusion_thresholds_add
from minidl._kernels.optim import (
    adadelta_update,
    adagrad_update,
    adam_update,
    adamax_update,
    adamw_update,
    ftrl_update,
    nadam_update,
    rmsprop_update,
    sgd_update,
)
from minidl._kernels.lstm_sequence import lstm_sequence_backward, lstm_sequence_forward
from minidl._kernels.packed_gemm import pack_panels, packed_gemm
from minidl._kernels.recurrent import (
    gru_reset_before_candidate_backward,
    gru_reset_before_gates_backward,
    gru_reset_before_gates_forward,
    gru_reset_before_state_forward,
    gru_step_backward,
    gru_step_forward,
    lstm_step_backward,
    lstm_step_forward,
    rnn_step_backward,
    rnn_step_forward,
)
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

__all__ = [
    "NAME",
    "adadelta_update",
    "adagrad_update",
    "adam_update",
    "adamax_update",
    "adamw_update",
    "avg_pool2d_backward",
    "avg_pool2d_forward",
    "col2im",
    "confusion_buckets_add",
    "confusion_thresholds_add",
    "conv2d_backward",
    "conv2d_forward",
    "conv2d_winograd_backward",
    "conv2d_winograd_forward",
    "dense_backward",
    "dense_forward",
    "embedding_backward",
    "embedding_forward",
    "fingerprint64",
    "ftrl_update",
    "gemm",
    "gru_reset_before_candidate_backward",
    "gru_reset_before_gates_backward",
    "gru_reset_before_gates_forward",
    "gru_reset_before_state_forward",
    "gru_step_backward",
    "gru_step_forward",
    "im2col",
    "lstm_sequence_backward",
    "lstm_sequence_forward",
    "lstm_step_backward",
    "lstm_step_forward",
    "max_pool2d_backward",
    "max_pool2d_forward",
    "nadam_update",
    "pack_panels",
    "packed_gemm",
    "rmsprop_update",
    "rnn_step_backward",
    "rnn_step_forward",
    "sgd_update",
    "siphash64",
    "softmax_cross_entropy_backward",
    "softmax_cross_entropy_forward",
    "softmax_forward",
]

BLAS = blas_library.install(dense)  # which OpenBLAS the products call
process_settings.configure_threads(BLAS)
