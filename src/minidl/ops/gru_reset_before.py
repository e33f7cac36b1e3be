"""``gru_reset_before``: Keras's GRU with ``reset_after=False`` over a whole sequence.

Keras 1's GRU, kept in Keras 2 as ``GRU(reset_after=False)``: the reset gate r
multiplies h_{t-1} BEFORE the candidate's recurrent product, and there is one
bias vector (3U,).  For x (N, T, F), kernel W (F, 3U), recurrent kernel
U_ (U, 3U) = [U_z | U_r | U_h] (gate order z, r, h, as Keras stores them):

    z_t  = sigma(x_t W_z + b_z + h_{t-1} U_z)
    r_t  = sigma(x_t W_r + b_r + h_{t-1} U_r)
    hh_t = tanh(x_t W_h + b_h + (r_t * h_{t-1}) U_h)
    h_t  = z_t * h_{t-1} + (1 - z_t) * hh_t

(``ops.gru`` is the other form, ``reset_after=True``: r_t * (h_{t-1} U_h + b).)
Because the candidate's product needs r_t, a step is: one product h [U_z | U_r],
a fused pass for z, r and r * h (``gru_reset_before_gates_forward``), one
product (r * h) U_h, a fused pass for hh and h_t (``..._state_forward``);
backward the same in reverse (equations in ``minidl._kernels.reference``,
``gru_reset_before_gates_forward``).  x W + b for all steps is one product
before the loop; dL/dW, dL/db and dL/dx one ``dense_backward`` after it, and
dL/dU_ two products, as for the other recurrent ops (``ops.recurrent``, whose
masks, ``go_backwards``, dropout and packing of outputs this op shares).

With a ``recurrent_dropout_mask`` d (N, U), h = h_{t-1} * d feeds both
products (z, r and r * h); h_{t-1} itself is mixed into h_t, as Keras does.
(Keras 2 draws one such mask per gate -- with recurrent_dropout it switches to
``implementation=1`` -- where minidl shares one, as its ``ops.gru`` does: the
same expected values, other random draws.)
"""

from __future__ import annotations

import numpy as np

from minidl import _kernels
from minidl.ops.recurrent import _record, _Sequence, _tensors


def gru_reset_before(x, kernel, recurrent_kernel, bias=None, initial_h=None, mask=None,
                     go_backwards=False, zero_output_for_mask=False,
                     recurrent_dropout_mask=None, activation="tanh",
                     recurrent_activation="sigmoid", return_sequences=True):
    """A GRU with ``reset_after=False`` over a sequence: ``(outputs (N, T, U), h_T (N, U))``
    (outputs None with ``return_sequences=False``).

    kernel (F, 3U), recurrent_kernel (U, 3U) in Keras's gate order z, r, h; bias
    (3U,) or None.  mask, go_backwards, zero_output_for_mask and
    recurrent_dropout_mask as in ``minidl.ops.recurrent``.
    """
    x, kernel, recurrent_kernel, bias, initial_h = _tensors(
        x, kernel, recurrent_kernel, bias, initial_h)
    seq = _Sequence("gru_reset_before", x, kernel, recurrent_kernel, 3, mask, go_backwards,
                    zero_output_for_mask, recurrent_dropout_mask, {"initial_h": initial_h},
                    return_sequences)
    k = _kernels.current
    n, steps, _, units = seq.shape
    if bias is not None and bias.shape != (3 * units,):
        raise ValueError(f"gru_reset_before: bias must have shape ({3 * units},) (one bias, "
                         f"reset_after=False), received {bias.shape}.")
    w = kernel.data
    u_gates = np.ascontiguousarray(recurrent_kernel.data[:, :2 * units])  # [U_z | U_r]
    u_cand = np.ascontiguousarray(recurrent_kernel.data[:, 2 * units:])  # U_h
    gates = np.empty((steps, n, 3 * units), seq.dtype)
    k.dense_forward(seq.flat(seq.x), w, None if bias is None else bias.data, seq.flat(gates),
                    "linear")
    hidden = seq.states(initial_h)
    # h_{t-1} as the products see it (times the dropout mask); 0 before step ``first``
    dropped = hidden[:-1] if seq.dropout is None else np.zeros((steps, n, units), seq.dtype)
    reset_h = np.empty((steps, n, units), seq.dtype)  # r_t * dropped[t]
    rec, rec_h = np.zeros((n, 2 * units), seq.dtype), np.zeros((n, units), seq.dtype)
    for t in range(steps):
        if t >= seq.first:  # (before it h is 0, and so are the products)
            if seq.dropout is not None:
                np.multiply(hidden[t], seq.dropout, out=dropped[t])
            k.gemm(dropped[t], u_gates, rec)
        k.gru_reset_before_gates_forward(gates[t], rec, dropped[t], reset_h[t],
                                         recurrent_activation)
        if t >= seq.first:
            k.gemm(reset_h[t], u_cand, rec_h)
        k.gru_reset_before_state_forward(gates[t], rec_h, hidden[t], hidden[t + 1],
                                         seq.masks[t], activation)
    out = seq.packed(hidden, hidden[steps])

    def grads(grad):
        per_step, (grad_h,) = seq.unpack_gradient(grad, 1)
        grad_gates = np.empty((steps, n, 2 * units), seq.dtype)  # dL/d of z's and r's sums
        grad_cand = np.empty((steps, n, units), seq.dtype)  # dL/d of the candidate's sum
        grad_reset = np.zeros((n, units), seq.dtype)  # dL/d(r * h), through U_h
        grad_dropped = np.empty((n, units), seq.dtype)
        total_h, grad_h_prev = np.empty_like(grad_h), np.empty_like(grad_h)
        for t in reversed(range(steps)):
            total_h = seq.step_gradient(per_step, t, grad_h, total_h)
            k.gru_reset_before_candidate_backward(gates[t], total_h, seq.masks[t], grad_cand[t],
                                                  activation)
            if t >= seq.first:
                k.gemm(grad_cand[t], u_cand, grad_reset, trans_b=True)
            else:  # h is 0, so r * h does not depend on r
                grad_reset[...] = 0
            k.gru_reset_before_gates_backward(gates[t], hidden[t], dropped[t], total_h,
                                              grad_reset, seq.masks[t], grad_gates[t],
                                              grad_dropped, grad_h_prev, recurrent_activation)
            if t >= seq.first:  # dL/dh_{t-1} through the products (not for a zero h_0)
                k.gemm(grad_gates[t], u_gates, grad_dropped, trans_b=True, beta=1.0)
                if seq.dropout is not None:
                    grad_dropped *= seq.dropout
                grad_h_prev += grad_dropped
            grad_h, grad_h_prev = grad_h_prev, grad_h
        flat = seq.flat(np.concatenate([grad_gates, grad_cand], axis=2))  # (T*N, 3U)
        grad_x = np.empty_like(seq.flat(seq.x)) if x.requires_grad else None
        grad_w = np.empty_like(w)
        grad_b = np.empty(3 * units, seq.dtype) if bias is not None else None
        k.dense_backward(seq.flat(seq.x), w, flat, flat, grad_x, grad_w, grad_b, "linear")
        grad_u = np.concatenate([seq.recurrent_kernel_gradient(dropped, grad_gates, u_gates),
                                 seq.recurrent_kernel_gradient(reset_h, grad_cand, u_cand)],
                                axis=1)
        return (None if grad_x is None else seq.inputs_gradient(grad_x), grad_w, grad_u,
                grad_b, grad_h)

    parents = (x, kernel, recurrent_kernel, bias, initial_h)
    return seq.unpacked(_record(out, parents, grads), 1)
