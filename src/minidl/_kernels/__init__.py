"""The kernels: the few functions where training spends its time.

Two backends with the same functions and signatures:

* ``minidl._kernels.compiled`` -- Cython (typed memoryviews, ``nogil``,
  OpenMP ``prange`` over the batch), matrix products through BLAS;
* ``minidl._kernels.reference`` -- the same math in plain NumPy, to read.

Ops call ``minidl._kernels.current.<function>(...)``; ``use("reference")`` or
the environment variable ``MINIDL_KERNELS=reference`` switches the whole
framework to the NumPy twins, so you can see both the math and the speed-up.

Every function takes C-contiguous float32 or float64 arrays (all floats of one
call share a dtype), writes into the output arrays it is given, and raises
``ValueError`` on a bad argument before any compiled loop runs.  Inputs are
only read (``const`` in the compiled kernels): read-only and memory-mapped
arrays (``np.load(..., mmap_mode="r")``, ``np.memmap``) go in without a copy;
outputs must be writeable.  Sizes and offsets are 64-bit throughout.

Functions (N batch, K inputs, M outputs; images NHWC):

``dense_forward(x (N,K), w (K,M), b (M,) or None, out (N,M), activation)``
    out = act(x @ w + b); activation in ACTIVATIONS.
``dense_backward(x, w, out, grad_out (N,M), grad_x (N,K) or None,
grad_w (K,M), grad_b (M,) or None, activation)``
    grad_pre = grad_out * act'(out); grad_x = grad_pre @ w.T;
    grad_w = x.T @ grad_pre; grad_b = grad_pre.sum(0).  ``grad_out`` is
    only read.
``gemm(a, b, out, trans_a=False, trans_b=False, alpha=1.0, beta=0.0)``
    out = alpha * op(a) @ op(b) + beta * out  (2-D arrays).
``im2col(x (N,H,W,C), kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, cols)``
    cols (N*OH*OW, kh*kw*C); row (n, oh, ow), column (i, j, c); padded
    pixels are 0.  Output pixel (oh, ow) reads input rows
    oh*sh - pad_top + i, columns ow*sw - pad_left + j.
``col2im(cols, kh, kw, sh, sw, pad_top, pad_left, out_h, out_w, grad_x (N,H,W,C))``
    the adjoint of im2col: grad_x is zeroed, then every column entry added
    back to the pixel it came from.
``conv2d_forward(x (N,H,W,C), w (kh,kw,C,F), b (F,) or None, sh, sw, pad_top,
pad_left, out (N,OH,OW,F), activation)``
    out = act(conv(x, w) + b) computed directly, without im2col (for small
    patches); same window rule as im2col.
``conv2d_backward(x, w, out, grad_out, sh, sw, pad_top, pad_left, grad_x or
None, grad_w, grad_b or None, activation)``
    the gradients of conv2d_forward (``grad_out`` is only read).
``conv2d_winograd_forward(x, w (3,3,C,F), b or None, pad_top, pad_left, out,
activation)``
    out = act(conv(x, w) + b) for a 3x3 kernel at stride 1, by Winograd's
    F(4x4, 3x3) (4x fewer multiplications).  Which of im2col, the direct
    kernels and Winograd's a convolution takes: ``conv_plan.py``.
``conv2d_winograd_backward(x, w, out, grad_out, pad_top, pad_left, grad_x or
None, grad_w, grad_b or None, activation)``
    its gradients.
``max_pool2d_forward(x, ph, pw, sh, sw, pad_top, pad_left, out (N,OH,OW,C),
argmax (N,OH,OW,C) int64)``
    argmax holds the flat index (h * W + w) * C + c of the maximum within
    its image; padding never wins.
``max_pool2d_backward(grad_out (N,OH,OW,C), argmax, grad_x (N,H,W,C))``
``avg_pool2d_forward(x, ph, pw, sh, sw, pad_top, pad_left, out)``
    mean over the window's pixels inside the image (padding not counted,
    as TensorFlow does).
``avg_pool2d_backward(grad_out, ph, pw, sh, sw, pad_top, pad_left, grad_x)``
``softmax_forward(logits (N,C), probs (N,C))``
    probs = softmax(logits) row by row, the row's maximum subtracted before
    exp; a row holding NaN or +inf comes out NaN.
``softmax_cross_entropy_forward(logits (N,C), labels, probs (N,C), losses (N,))``
    labels int64 (N,) class indices, or float (N,C) target distributions.
``softmax_cross_entropy_backward(probs, labels, grad_losses (N,), grad_logits)``
    grad_logits = (probs - target) * grad_losses[:, None].
``embedding_forward(indices (N,) int64, weights (V,D), out (N,D))``
    out[i] = weights[indices[i]]; an index outside [0, V) is a ValueError.
``embedding_backward(indices, grad_out (N,D), grad_weights (V,D))``
    grad_weights = 0, then grad_weights[indices[i]] += grad_out[i] in token order.
``sgd_update(param, grad, velocity or None, lr, momentum, nesterov)``
``rmsprop_update(param, grad, mean_square, momentum_buffer or None, lr, rho,
momentum, epsilon)``
``adam_update(param, grad, m, v, v_max or None, lr_t, beta_1, beta_2, epsilon)``
``adagrad_update(param, grad, accumulator, lr, epsilon)``
``adadelta_update(param, grad, accumulated_grad, accumulated_delta, lr, rho, epsilon)``
``adamax_update(param, grad, m, u, lr_t, beta_1, beta_2, epsilon)``
``nadam_update(param, grad, m, v, lr, m_scale, g_scale, v_scale, beta_1, beta_2, epsilon)``
``adamw_update(param, grad, m, v, v_max or None, lr_t, decay, beta_1, beta_2, epsilon)``
``ftrl_update(param, grad, accumulator, linear, lr, lr_power, l1, l2, l2_shrinkage, beta)``
    1-D flat buffers, updated in place with Keras's rules (see reference.py).
``lstm_step_forward(gates (N,4U), c_prev, h_prev, c, h (N,U), mask (N,) uint8 or None,
activation, recurrent_activation)``
    one LSTM step after the products: gates z -> i, f, g, o in place, c and h
    written; masked rows (mask 0) keep c_prev, h_prev.
``lstm_step_backward(gates, c_prev, c, grad_h, grad_c, mask, grad_gates (N,4U),
grad_c_prev, grad_h_prev, activation, recurrent_activation)``
    dL/dz of the gates, dL/dc_prev, and dL/dh_prev's part not through the
    recurrent kernel (the caller adds grad_gates @ U^T).
``pack_panels(b (k,n), out (ceil(n/64),k,64), trans_b=False)`` and ``packed_gemm(a, packed,
out, accumulate=True, trans_a=False)``
    out (+)= a @ B with B packed once in panels of 64 columns (an LSTM's products).
``lstm_sequence_forward(xh (T,N,K), packed, gates (T,N,4U), cells, hidden (T+1,N,U),
masks (T,N) uint8 or None, dropout (N,U) or None, features, activation,
recurrent_activation)`` and ``lstm_sequence_backward(xh, packed_ut, gates, cells,
grad_steps (T,N,U) or None, grad_h, grad_c (N,U), masks, dropout, grad_gates
(T,N,4U) or (N,4U), grad_stacked (K,4U), features, first, activation,
recurrent_activation)``
    an LSTM's whole time loop each way (packed_gemm and the step kernels, step after
    step; K = features + U (+ 1): the row [x_t, h_{t-1}, 1]).
``gru_step_forward(gates (N,3U), rec (N,3U), h_prev, h, mask, activation,
recurrent_activation)`` and ``gru_step_backward(gates, rec, h_prev, grad_h, mask,
grad_gates, grad_rec, grad_h_prev, activation, recurrent_activation)``
    the same for a GRU (reset_after=True: rec = h_prev @ U + recurrent bias).
``gru_reset_before_gates_forward(gates (N,3U), rec (N,2U), dropped_h (N,U), reset_h (N,U),
recurrent_activation)``, ``gru_reset_before_state_forward(gates, rec_h (N,U), h_prev, h,
mask, activation)``, ``gru_reset_before_candidate_backward(gates, grad_h, mask,
grad_candidate (N,U), activation)`` and ``gru_reset_before_gates_backward(gates, h_prev,
dropped_h, grad_h, grad_reset_h, mask, grad_gates (N,2U), grad_dropped, grad_h_prev,
recurrent_activation)``
    a GRU with reset_after=False (reset gate before the candidate's product):
    two passes per step each way, a product between them.
``rnn_step_forward(pre (N,U), h_prev, mask, activation)`` and
``rnn_step_backward(h, grad_h, mask, grad_pre, grad_h_prev, activation)``
    a SimpleRNN step: h = act(pre) in place.  Equations in reference.py.
``confusion_thresholds_add(labels (M,), predictions (M,), weights (M,) or None,
thresholds (T,), tp, fp, fn, tn)``
    adds the weighted counts of (label != 0, p > t_j) to tp[j], fp, fn, tn
    (each (T,) or None): the state of Precision, Recall and AUC.
``confusion_buckets_add(labels, predictions, weights or None, num_thresholds,
tp, fp, fn, tn)``
    the same at AUC's evenly spread thresholds, by buckets in O(M + T).
``fingerprint64(data (B,) uint8, offsets (N+1,) int64, out (N,) uint64)``
    out[i] = FarmHash's Fingerprint64 of the bytes data[offsets[i]:offsets[i+1]]
    (TensorFlow's string fingerprint: the Hashing layers, StringLookup's OOV indices).
``siphash64(data, offsets, key0, key1, out)``
    the same strings' SipHash-2-4 under the 128-bit key (key0, key1) (a salted Hashing).
"""

from __future__ import annotations

import os

# The activations the dense and convolution kernels fuse, by Keras name; their C codes
# are in activation_codes.h.  The recurrent steps know one more: RECURRENT_ACTIVATIONS.
ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh")
RECURRENT_ACTIVATIONS = ACTIVATIONS + ("hard_sigmoid",)  # Keras 2's clip(0.2 z + 0.5, 0, 1)
BACKENDS = ("compiled", "reference")
# the functions every backend provides (the list above, by name)
FUNCTIONS = (
    "dense_forward", "dense_backward", "gemm", "im2col", "col2im", "conv2d_forward",
    "conv2d_backward", "conv2d_winograd_forward", "conv2d_winograd_backward",
    "max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward", "avg_pool2d_backward",
    "softmax_forward", "softmax_cross_entropy_forward", "softmax_cross_entropy_backward",
    "sgd_update", "rmsprop_update", "adam_update",
    "adagrad_update", "adadelta_update", "adamax_update", "nadam_update", "adamw_update",
    "ftrl_update",
    "embedding_forward", "embedding_backward",
    "lstm_step_forward", "lstm_step_backward", "gru_step_forward", "gru_step_backward",
    "gru_reset_before_gates_forward", "gru_reset_before_state_forward",
    "gru_reset_before_candidate_backward", "gru_reset_before_gates_backward",
    "rnn_step_forward", "rnn_step_backward",
    "confusion_thresholds_add", "confusion_buckets_add", "fingerprint64", "siphash64",
    "pack_panels", "packed_gemm", "lstm_sequence_forward", "lstm_sequence_backward",
)
# and the constants: the backend's name
CONSTANTS = ("NAME",)


def use(name):
    """Switch every op to the ``"compiled"`` or the ``"reference"`` kernels."""
    global current
    if name not in BACKENDS:
        raise ValueError(f"kernel backend must be one of {BACKENDS}, received {name!r}.")
    if name == "compiled":
        from minidl._kernels import compiled as backend

        process_settings.keep_freed_memory()
    else:
        from minidl._kernels import reference as backend
    current = backend
    return backend


def backend_name():
    """``"compiled"`` or ``"reference"``: which kernels ops are using now."""
    backend = globals().get("current") or __getattr__("current")
    return backend.NAME


def __getattr__(name):
    """Load the backend on first use of ``current``.

    Loading the compiled kernels finds a BLAS library and starts OpenMP's
    threads; doing that when the first op runs keeps ``import minidl`` quick.
    """
    if name == "current":
        return use(os.environ.get("MINIDL_KERNELS", "compiled"))
    raise AttributeError(f"module 'minidl._kernels' has no attribute {name!r}")


# What minidl changes for the whole process (the environment here, before any kernel
# loads the OpenMP runtime) is in process_settings.py, and only there.
from minidl._kernels import process_settings  # noqa: E402

process_settings.set_environment()
