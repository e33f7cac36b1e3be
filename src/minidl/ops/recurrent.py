"""Recurrent ops: ``lstm``, ``gru`` and ``simple_rnn`` over a whole sequence.

Each op runs every timestep forward, keeping what backward needs, and its
backward walks the steps in reverse: backpropagation through time.  The work
is split the way it costs least (equations in ``minidl._kernels.reference``,
``lstm_step_forward``):

forward
    1. x_t W + b for ALL timesteps in one product: the inputs, time-major,
       are one (T*N, F) matrix (``dense_forward``);
    2. per step, h_{t-1} U added by one product (``packed_gemm``, U packed once), then
       one fused kernel for the gates and the new state (``*_step_forward``).
backward
    1. per step, one fused kernel gives dL/dz of every gate
       (``*_step_backward``), and one product (``packed_gemm``) sends dL/dz U^T to h_{t-1};
    2. after the loop, with every step's dL/dz stacked as (T*N, gates):
       dL/dW, dL/db and dL/dx in one ``dense_backward``, dL/dU in one product.

The LSTM goes one step further (see ``lstm``): forward, x_t W + h_{t-1} U + b is ONE
product per step, of the row [x_t, h_{t-1}, 1] with [W; U; b]; backward, dL/dW, dL/dU
and dL/db come out of one product per step, [x_t, h_{t-1}, 1]^T dL/dz_t added up while
dL/dz_t is still in the cache.  And its time loop runs in C, one kernel call each way
(``lstm_sequence_forward``/``_backward``: the NumPy twins are the same loop in Python,
over the same step kernels).

Shapes: x (N, T, F); kernel (F, G*U); recurrent_kernel (U, G*U) with G = 4
(LSTM: i, f, c, o), 3 (GRU: z, r, h) or 1; states (N, U).  ``mask`` (N, T),
true where a step is real: a padded step leaves the state as it was.  The
output at step t is h_t, except where no real step has come yet: there it is
0 (Keras's rule: a masked step repeats the previous output, which starts at 0);
``zero_output_for_mask=True`` gives 0 at every masked step (Bidirectional's
rule).  With ``go_backwards`` the sequence is read from its end, and the
outputs are in that order, as in Keras.

``recurrent_dropout_mask`` (N, U) multiplies h_{t-1} before its product
(the same mask every step, as Keras does).

``return_sequences=False`` returns ``None`` in place of the output sequence
(a layer that keeps only the final state need not copy out, and send back,
T steps of zeros' gradient).

Without ``initial_h`` the first step starts from h_0 = 0, so h_0 U is 0: that
product is skipped forward, and backward skips dL/dh_0 (nothing asks for it)
and step 0's rows of dL/dU = sum_t h_{t-1}^T dL/dz_t (they are 0).  An LSTM
of T steps does T - 1 products each way instead of T.
"""

from __future__ import annotations

import numpy as np

from minidl import _kernels
from minidl._kernels.panel_checks import panels_shape
from minidl.autograd import record
from minidl.ops.arithmetic import as_tensor
from minidl.ops.shaping import getitem
from minidl.tensor import Tensor


class _Sequence:
    """What the three ops share: the inputs in time-major order, the masks, and
    the way back to the caller's (N, T, ...) layout."""

    def __init__(self, op, x, kernel, recurrent_kernel, gates, mask, go_backwards,
                 zero_output_for_mask, recurrent_dropout_mask, initial_states,
                 return_sequences=True):
        self.dtype = kernel.dtype
        self.with_sequence = bool(return_sequences)
        if x.ndim != 3:
            raise ValueError(f"{op}: inputs must be 3-D (batch, timesteps, features), "
                             f"received shape {x.shape}.")
        n, steps, features = x.shape
        units = recurrent_kernel.shape[0]
        if kernel.shape != (features, gates * units):
            raise ValueError(f"{op}: kernel must have shape ({features}, {gates * units}) for "
                             f"{features} input features, received {kernel.shape}.")
        if recurrent_kernel.shape != (units, gates * units):
            raise ValueError(f"{op}: recurrent_kernel must have shape ({units}, {gates * units}), "
                             f"received {recurrent_kernel.shape}.")
        for name, state in initial_states.items():
            if state is not None and state.shape != (n, units):
                raise ValueError(f"{op}: {name} must have shape ({n}, {units}) (batch, units), "
                                 f"received {state.shape}.")
        self.shape = (n, steps, features, units)
        # the first step whose h_{t-1} U is not known to be 0 (see the module docstring)
        self.first = 1 if initial_states.get("initial_h") is None else 0
        self.order = slice(None, None, -1) if go_backwards else slice(None)
        # (T, N, F), in the order the steps run: ``x`` (a copy, made on first use)
        self.steps_view = np.swapaxes(x.data, 0, 1)[self.order]
        self._x = None
        self.masks, self.valid = [None] * steps, None
        if mask is not None:
            mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
            if mask.shape != (n, steps):
                raise ValueError(f"{op}: mask must have shape ({n}, {steps}) (batch, timesteps), "
                                 f"received {mask.shape}.")
            self.masks = np.ascontiguousarray(mask.T[self.order], dtype=np.uint8)
            seen = self.masks if zero_output_for_mask else np.logical_or.accumulate(self.masks)
            self.valid = seen.astype(bool)[..., None]
        self.dropout = None
        if recurrent_dropout_mask is not None:
            self.dropout = np.ascontiguousarray(recurrent_dropout_mask, dtype=self.dtype)
            if self.dropout.shape != (n, units):
                raise ValueError(f"{op}: recurrent_dropout_mask must have shape ({n}, {units}), "
                                 f"received {self.dropout.shape}.")

    @property
    def x(self):
        """The inputs (T, N, F) in the order the steps run, contiguous."""
        if self._x is None:
            self._x = np.ascontiguousarray(self.steps_view, dtype=self.dtype)
        return self._x

    def states(self, initial):
        """(T+1, N, U): row 0 the initial state (zeros if None), row t+1 the state after step t."""
        n, steps, _, units = self.shape
        states = np.empty((steps + 1, n, units), self.dtype)
        states[0] = 0 if initial is None else initial.data
        return states

    def panels(self, recurrent_kernel, transposed):
        """U (or U^T) packed for ``packed_gemm``: once per op call, on first use (U is
        the same at every step, and BLAS would pack it again at each product)."""
        key = "packed_transposed" if transposed else "packed_forward"
        if getattr(self, key, None) is None:
            k, n = recurrent_kernel.shape[::-1] if transposed else recurrent_kernel.shape
            packed = np.empty(panels_shape(k, n), self.dtype)
            _kernels.current.pack_panels(recurrent_kernel, packed, trans_b=transposed)
            setattr(self, key, packed)
        return getattr(self, key)

    def add_recurrent_product(self, t, h, recurrent_kernel, out, dropped):
        """out += h U (h times the dropout mask first, kept in ``dropped`` for dL/dU);
        nothing at a step before ``first`` (h is 0 there)."""
        if t < self.first:
            return
        if self.dropout is not None:
            np.multiply(h, self.dropout, out=dropped)
            h = dropped
        _kernels.current.packed_gemm(h, self.panels(recurrent_kernel, False), out)

    def add_recurrent_gradient(self, t, grad_gates, recurrent_kernel, grad_h, scratch):
        """grad_h += (grad_gates U^T) (times the dropout mask); skipped before ``first``,
        where grad_h is dL/dh_0 of a zero initial state that is no input of the op."""
        if t < self.first:
            return
        packed = self.panels(recurrent_kernel, True)
        if self.dropout is None:
            _kernels.current.packed_gemm(grad_gates, packed, grad_h)
        else:
            scratch[...] = 0
            _kernels.current.packed_gemm(grad_gates, packed, scratch)
            scratch *= self.dropout
            grad_h += scratch

    def packed(self, hidden, *finals):
        """(N, T + k, U): the output sequence, then the k final states, for one record
        ((N, k, U), the final states alone, without the sequence)."""
        n, steps, _, units = self.shape
        start = steps if self.with_sequence else 0
        out = np.empty((n, start + len(finals), units), self.dtype)
        if self.with_sequence:
            sequence = hidden[1:] if self.valid is None else np.where(self.valid, hidden[1:], 0)
            out[:, :steps] = np.swapaxes(sequence, 0, 1)
        for k, final in enumerate(finals):
            out[:, start + k] = final
        return out

    def unpack_gradient(self, grad, finals):
        """The gradient of ``packed``'s output: per step (T, N, U) (None without the
        sequence), and each final state's."""
        steps = self.shape[1]
        grad = np.asarray(grad, self.dtype)
        if not self.with_sequence:
            return None, [np.array(grad[:, k], order="C") for k in range(finals)]
        per_step = np.ascontiguousarray(np.swapaxes(grad[:, :steps], 0, 1))
        if self.valid is not None:
            per_step *= self.valid
        # (copies: the ops write the final states' gradients over as they go back)
        return per_step, [np.array(grad[:, steps + k], order="C") for k in range(finals)]

    @staticmethod
    def step_gradient(per_step, t, grad_h, total_h):
        """dL/dh_t: from the output at step t (if any) plus from step t + 1."""
        if per_step is None:
            return grad_h
        return np.add(per_step[t], grad_h, out=total_h)

    def inputs_gradient(self, grad_steps):
        """(T*N, F) in step order -> (N, T, F) in the caller's order."""
        n, steps, features, _ = self.shape
        grad = grad_steps.reshape(steps, n, features)[self.order]
        return np.ascontiguousarray(np.swapaxes(grad, 0, 1))

    def flat(self, a):
        return a.reshape(-1, a.shape[-1])

    def recurrent_kernel_gradient(self, dropped, grad_z, recurrent_kernel):
        """dL/dU = sum over steps t >= first of dropped[t]^T grad_z[t], as one product."""
        grad_u = np.empty_like(recurrent_kernel)
        if len(dropped) > self.first:
            _kernels.current.gemm(self.flat(dropped[self.first:]), self.flat(grad_z[self.first:]),
                                  grad_u, trans_a=True)
        else:
            grad_u[...] = 0
        return grad_u

    def unpacked(self, out, finals):
        """The recorded (N, T + k, U) tensor cut into (outputs, *final states)
        (outputs None without the sequence)."""
        if not self.with_sequence:
            return (None, *(getitem(out, (slice(None), k)) for k in range(finals)))
        steps = self.shape[1]
        return (getitem(out, (slice(None), slice(0, steps))),
                *(getitem(out, (slice(None), steps + k)) for k in range(finals)))


def _tensors(x, kernel, recurrent_kernel, bias, *states):
    kernel = as_tensor(kernel)
    return (as_tensor(x, kernel), kernel, as_tensor(recurrent_kernel, kernel),
            None if bias is None else as_tensor(bias, kernel),
            *(None if s is None else as_tensor(s, kernel) for s in states))


def _record(out, parents, grads):
    """Record ``out`` with the parents that exist (a None parent has no gradient)."""
    present = [i for i, p in enumerate(parents) if p is not None]

    def backward(grad):
        values = grads(grad)
        return tuple(values[i] if parents[i].requires_grad else None for i in present)

    return record(out, tuple(parents[i] for i in present), backward)


def lstm(x, kernel, recurrent_kernel, bias=None, initial_h=None, initial_c=None, mask=None,
         go_backwards=False, zero_output_for_mask=False, recurrent_dropout_mask=None,
         activation="tanh", recurrent_activation="sigmoid", return_sequences=True):
    """An LSTM over a sequence: ``(outputs (N, T, U), h_T (N, U), c_T (N, U))``.

    kernel (F, 4U) and recurrent_kernel (U, 4U) in Keras's gate order i, f, c, o;
    bias (4U,) or None.  See the module docstring for the rest.

    Unlike GRU and SimpleRNN, the LSTM does its input and recurrent products as ONE
    product per step: each step's inputs are one row ``[x_t, h_{t-1}, 1]`` (F + U + 1
    values; the 1 multiplies the bias) against the weights stacked as ``[W; U; b]``
    ((F + U + 1, 4U), packed once).  The rows of all steps, kept in ``xh`` (T, N,
    F + U + 1), then give every weight's gradient in one product per step backward:
    ``[dL/dW; dL/dU; dL/db] = sum_t xh_t^T dL/dz_t``.  (BLAS is slow on the thin
    products x W with F = 28 inputs; a product with K = F + U + 1 runs at full speed.
    Adding up step by step reads each dL/dz_t (N, 4U) while it is still in the cache,
    and needs only one step's dL/dz unless dL/dx asks for all of them: about 5%
    faster on M5 than one product over all steps after the loop.)
    """
    x, kernel, recurrent_kernel, bias, initial_h, initial_c = _tensors(
        x, kernel, recurrent_kernel, bias, initial_h, initial_c)
    seq = _Sequence("lstm", x, kernel, recurrent_kernel, 4, mask, go_backwards,
                    zero_output_for_mask, recurrent_dropout_mask,
                    {"initial_h": initial_h, "initial_c": initial_c}, return_sequences)
    k = _kernels.current
    n, steps, features, units = seq.shape
    w, u = kernel.data, recurrent_kernel.data
    if bias is not None and bias.shape != (4 * units,):
        raise ValueError(f"lstm: bias must have shape ({4 * units},), received {bias.shape}.")
    # xh[t] = [x_t, h_{t-1} (times the dropout mask), 1]; stacked = [W; U; b]
    ones = 0 if bias is None else 1
    xh = np.empty((steps, n, features + units + ones), seq.dtype)
    xh[:, :, :features] = seq.steps_view  # (one copy, no time-major x of its own)
    if ones:
        xh[:, :, -1] = 1
    h_part = slice(features, features + units)
    hidden, cells = seq.states(initial_h), seq.states(initial_c)
    stacked = np.empty((features + units + ones, 4 * units), seq.dtype)
    stacked[:features], stacked[h_part] = w, u
    if ones:
        stacked[-1] = bias.data
    packed = np.empty(panels_shape(*stacked.shape), seq.dtype)
    k.pack_panels(stacked, packed)
    gates = np.empty((steps, n, 4 * units), seq.dtype)
    masks = None if mask is None else seq.masks
    # every step: xh[t]'s h part, z_t = xh[t] @ [W; U; b], the gates, c_t and h_t
    k.lstm_sequence_forward(xh, packed, gates, cells, hidden, masks, seq.dropout, features,
                            activation, recurrent_activation)
    out = seq.packed(hidden, hidden[steps], cells[steps])

    def grads(grad):
        per_step, (grad_h, grad_c) = seq.unpack_gradient(grad, 2)
        # one step's dL/dz at a time, unless dL/dx needs them all after the loop
        grad_gates = np.empty_like(gates) if x.requires_grad else np.empty_like(gates[0])
        grad_stacked = np.empty_like(stacked)
        # every step from the last: dL/dz_t, dL/dh_{t-1} = dL/dz_t U^T, dL/dc_{t-1}, and
        # [dL/dW; dL/dU; dL/db] += xh[t]^T dL/dz_t; grad_h, grad_c end as dL/dh_0, dL/dc_0
        k.lstm_sequence_backward(xh, seq.panels(u, True), gates, cells, per_step, grad_h,
                                 grad_c, masks, seq.dropout, grad_gates, grad_stacked,
                                 features, seq.first, activation, recurrent_activation)
        grad_w, grad_u = grad_stacked[:features], grad_stacked[h_part]
        grad_b = grad_stacked[-1] if ones else None
        grad_x = None
        if x.requires_grad:
            grad_x = np.empty((steps * n, features), seq.dtype)
            k.gemm(seq.flat(grad_gates), w, grad_x, trans_b=True)
        return (None if grad_x is None else seq.inputs_gradient(grad_x), grad_w, grad_u,
                grad_b, grad_h, grad_c)

    parents = (x, kernel, recurrent_kernel, bias, initial_h, initial_c)
    return seq.unpacked(_record(out, parents, grads), 2)


def gru(x, kernel, recurrent_kernel, bias=None, initial_h=None, mask=None, go_backwards=False,
        zero_output_for_mask=False, recurrent_dropout_mask=None, activation="tanh",
        recurrent_activation="sigmoid", return_sequences=True):
    """A GRU over a sequence (Keras's ``reset_after=True``, PyTorch's GRU):
    ``(outputs (N, T, U), h_T (N, U))``.

    kernel (F, 3U) and recurrent_kernel (U, 3U) in Keras's gate order z, r, h;
    bias (2, 3U) -- row 0 added to x W, row 1 to h U -- or None.  Equations in
    ``minidl._kernels.reference.gru_step_forward``.
    """
    x, kernel, recurrent_kernel, bias, initial_h = _tensors(
        x, kernel, recurrent_kernel, bias, initial_h)
    seq = _Sequence("gru", x, kernel, recurrent_kernel, 3, mask, go_backwards,
                    zero_output_for_mask, recurrent_dropout_mask, {"initial_h": initial_h},
                    return_sequences)
    k = _kernels.current
    n, steps, _, units = seq.shape
    w, u = kernel.data, recurrent_kernel.data
    if bias is not None and bias.shape != (2, 3 * units):
        raise ValueError(f"gru: bias must have shape (2, {3 * units}) (input and recurrent "
                         f"biases), received {bias.shape}.")
    b = None if bias is None else np.ascontiguousarray(bias.data)
    gates = np.empty((steps, n, 3 * units), seq.dtype)
    k.dense_forward(seq.flat(seq.x), w, None if b is None else b[0], seq.flat(gates), "linear")
    rec = np.empty_like(gates)
    rec[...] = 0 if b is None else b[1]
    hidden = seq.states(initial_h)
    dropped = hidden[:-1] if seq.dropout is None else np.empty((steps, n, units), seq.dtype)
    for t in range(steps):
        seq.add_recurrent_product(t, hidden[t], u, rec[t], dropped[t])
        k.gru_step_forward(gates[t], rec[t], hidden[t], hidden[t + 1], seq.masks[t], activation,
                           recurrent_activation)
    out = seq.packed(hidden, hidden[steps])

    def grads(grad):
        per_step, (grad_h,) = seq.unpack_gradient(grad, 1)
        grad_gates, grad_rec = np.empty_like(gates), np.empty_like(rec)
        total_h, grad_h_prev = np.empty_like(grad_h), np.empty_like(grad_h)
        scratch = np.empty_like(grad_h) if seq.dropout is not None else None
        for t in reversed(range(steps)):
            total_h = seq.step_gradient(per_step, t, grad_h, total_h)
            k.gru_step_backward(gates[t], rec[t], hidden[t], total_h, seq.masks[t],
                                grad_gates[t], grad_rec[t], grad_h_prev, activation,
                                recurrent_activation)
            seq.add_recurrent_gradient(t, grad_rec[t], u, grad_h_prev, scratch)
            grad_h, grad_h_prev = grad_h_prev, grad_h
        flat_gates, flat_rec = seq.flat(grad_gates), seq.flat(grad_rec)
        grad_x = np.empty_like(seq.flat(seq.x)) if x.requires_grad else None
        grad_w = np.empty_like(w)
        grad_b = np.empty((2, 3 * units), seq.dtype) if bias is not None else None
        k.dense_backward(seq.flat(seq.x), w, flat_gates, flat_gates, grad_x, grad_w,
                         None if grad_b is None else grad_b[0], "linear")
        grad_u = seq.recurrent_kernel_gradient(dropped, grad_rec, u)
        if grad_b is not None:
            flat_rec.sum(axis=0, out=grad_b[1])
        return (None if grad_x is None else seq.inputs_gradient(grad_x), grad_w, grad_u,
                grad_b, grad_h)

    parents = (x, kernel, recurrent_kernel, bias, initial_h)
    return seq.unpacked(_record(out, parents, grads), 1)


def simple_rnn(x, kernel, recurrent_kernel, bias=None, initial_h=None, mask=None,
               go_backwards=False, zero_output_for_mask=False, recurrent_dropout_mask=None,
               activation="tanh", return_sequences=True):
    """A fully connected RNN, h_t = act(x_t W + b + h_{t-1} U):
    ``(outputs (N, T, U), h_T (N, U))``.  kernel (F, U), recurrent_kernel (U, U),
    bias (U,) or None.  Backward: dL/dpre_t = dL/dh_t * act'(h_t), and
    dL/dh_{t-1} = dL/dpre_t U^T."""
    x, kernel, recurrent_kernel, bias, initial_h = _tensors(
        x, kernel, recurrent_kernel, bias, initial_h)
    seq = _Sequence("simple_rnn", x, kernel, recurrent_kernel, 1, mask, go_backwards,
                    zero_output_for_mask, recurrent_dropout_mask, {"initial_h": initial_h},
                    return_sequences)
    k = _kernels.current
    n, steps, _, units = seq.shape
    w, u = kernel.data, recurrent_kernel.data
    hidden = seq.states(initial_h)  # hidden[t + 1] holds x_t W + b, then h_t
    k.dense_forward(seq.flat(seq.x), w, None if bias is None else bias.data,
                    seq.flat(hidden[1:]), "linear")
    dropped = hidden[:-1] if seq.dropout is None else np.empty((steps, n, units), seq.dtype)
    for t in range(steps):
        seq.add_recurrent_product(t, hidden[t], u, hidden[t + 1], dropped[t])
        k.rnn_step_forward(hidden[t + 1], hidden[t], seq.masks[t], activation)
    out = seq.packed(hidden, hidden[steps])

    def grads(grad):
        per_step, (grad_h,) = seq.unpack_gradient(grad, 1)
        grad_pre = np.empty((steps, n, units), seq.dtype)
        total_h, grad_h_prev = np.empty_like(grad_h), np.empty_like(grad_h)
        scratch = np.empty_like(grad_h) if seq.dropout is not None else None
        for t in reversed(range(steps)):
            total_h = seq.step_gradient(per_step, t, grad_h, total_h)
            k.rnn_step_backward(hidden[t + 1], total_h, seq.masks[t], grad_pre[t], grad_h_prev,
                                activation)
            seq.add_recurrent_gradient(t, grad_pre[t], u, grad_h_prev, scratch)
            grad_h, grad_h_prev = grad_h_prev, grad_h
        flat_pre = seq.flat(grad_pre)
        grad_x = np.empty_like(seq.flat(seq.x)) if x.requires_grad else None
        grad_w = np.empty_like(w)
        grad_b = np.empty(units, seq.dtype) if bias is not None else None
        k.dense_backward(seq.flat(seq.x), w, flat_pre, flat_pre, grad_x, grad_w, grad_b, "linear")
        grad_u = seq.recurrent_kernel_gradient(dropped, grad_pre, u)
        return (None if grad_x is None else seq.inputs_gradient(grad_x), grad_w, grad_u,
                grad_b, grad_h)

    parents = (x, kernel, recurrent_kernel, bias, initial_h)
    return seq.unpacked(_record(out, parents, grads), 1)
