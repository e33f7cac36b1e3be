"""Argument checks of the recurrent step kernels (both backends call them).

A step kernel works on one timestep of a batch: arrays of N rows, each row
``units`` wide (the states) or 3 or 4 times that (the gates of a GRU or an
LSTM).  These checks say which argument has the wrong shape, dtype or layout
before any compiled loop runs.
"""

from __future__ import annotations

import numpy as np

from minidl._kernels import RECURRENT_ACTIVATIONS
from minidl._kernels.checks import _array, _same_dtype, _separate, _shape

_UINT8 = np.dtype(np.uint8)


def check_recurrent_activation(kernel, name, activation):
    if activation not in RECURRENT_ACTIVATIONS:
        raise ValueError(
            f"{kernel}: {name} must be one of {RECURRENT_ACTIVATIONS}, received {activation!r}."
        )


def _check_step(kernel, gates_width, arrays, outputs, mask, activations):
    """``arrays``: name -> (array, width in units, writeable), in order; the first
    array's rows and width fix N and units.  ``gates_width``: the first array's
    width in units (4 for an LSTM's gates, 3 for a GRU's, 1 for a SimpleRNN)."""
    for name, (a, _, writeable) in arrays.items():
        _array(kernel, name, a, 2, writeable=writeable)
    _same_dtype(kernel, **{name: a for name, (a, _, _) in arrays.items()})
    first_name, (first, _, _) = next(iter(arrays.items()))
    n, width = first.shape
    if width % gates_width:
        raise ValueError(
            f"{kernel}: {first_name} must have {gates_width} * units columns, received "
            f"shape {first.shape}."
        )
    units = width // gates_width
    for name, (a, multiple, _) in arrays.items():
        _shape(kernel, name, a, (n, multiple * units))
    if mask is not None:
        _array(kernel, "mask", mask, 1, dtype=_UINT8)
        _shape(kernel, "mask", mask, (n,))
    for name, activation in activations.items():
        check_recurrent_activation(kernel, name, activation)
    inputs = {name: a for name, (a, _, writeable) in arrays.items() if name not in outputs}
    inputs["mask"] = mask
    _separate(kernel, {name: arrays[name][0] for name in outputs}, inputs)


def check_lstm_step_forward(gates, c_prev, h_prev, c, h, mask, activation,
                            recurrent_activation):
    _check_step(
        "lstm_step_forward", 4,
        {"gates": (gates, 4, True), "c_prev": (c_prev, 1, False), "h_prev": (h_prev, 1, False),
         "c": (c, 1, True), "h": (h, 1, True)},
        ("gates", "c", "h"), mask,
        {"activation": activation, "recurrent_activation": recurrent_activation},
    )


def check_lstm_step_backward(gates, c_prev, c, grad_h, grad_c, mask, grad_gates,
                             grad_c_prev, grad_h_prev, activation, recurrent_activation):
    _check_step(
        "lstm_step_backward", 4,
        {"gates": (gates, 4, False), "c_prev": (c_prev, 1, False), "c": (c, 1, False),
         "grad_h": (grad_h, 1, False), "grad_c": (grad_c, 1, False),
         "grad_gates": (grad_gates, 4, True), "grad_c_prev": (grad_c_prev, 1, True),
         "grad_h_prev": (grad_h_prev, 1, True)},
        ("grad_gates", "grad_c_prev", "grad_h_prev"), mask,
        {"activation": activation, "recurrent_activation": recurrent_activation},
    )


def check_gru_step_forward(gates, rec, h_prev, h, mask, activation, recurrent_activation):
    _check_step(
        "gru_step_forward", 3,
        {"gates": (gates, 3, True), "rec": (rec, 3, False), "h_prev": (h_prev, 1, False),
         "h": (h, 1, True)},
        ("gates", "h"), mask,
        {"activation": activation, "recurrent_activation": recurrent_activation},
    )


def check_gru_step_backward(gates, rec, h_prev, grad_h, mask, grad_gates, grad_rec,
                            grad_h_prev, activation, recurrent_activation):
    _check_step(
        "gru_step_backward", 3,
        {"gates": (gates, 3, False), "rec": (rec, 3, False), "h_prev": (h_prev, 1, False),
         "grad_h": (grad_h, 1, False), "grad_gates": (grad_gates, 3, True),
         "grad_rec": (grad_rec, 3, True), "grad_h_prev": (grad_h_prev, 1, True)},
        ("grad_gates", "grad_rec", "grad_h_prev"), mask,
        {"activation": activation, "recurrent_activation": recurrent_activation},
    )


def check_rnn_step_forward(pre, h_prev, mask, activation):
    _check_step(
        "rnn_step_forward", 1, {"pre": (pre, 1, True), "h_prev": (h_prev, 1, False)},
        ("pre",), mask, {"activation": activation},
    )


def check_rnn_step_backward(h, grad_h, mask, grad_pre, grad_h_prev, activation):
    _check_step(
        "rnn_step_backward", 1,
        {"h": (h, 1, False), "grad_h": (grad_h, 1, False), "grad_pre": (grad_pre, 1, True),
         "grad_h_prev": (grad_h_prev, 1, True)},
        ("grad_pre", "grad_h_prev"), mask, {"activation": activation},
    )


# GRU(reset_after=False): the two passes of a step forward, and of its backward
def check_gru_reset_before_gates_forward(gates, rec, dropped_h, reset_h, recurrent_activation):
    _check_step(
        "gru_reset_before_gates_forward", 3,
        {"gates": (gates, 3, True), "rec": (rec, 2, False), "dropped_h": (dropped_h, 1, False),
         "reset_h": (reset_h, 1, True)},
        ("gates", "reset_h"), None, {"recurrent_activation": recurrent_activation},
    )


def check_gru_reset_before_state_forward(gates, rec_h, h_prev, h, mask, activation):
    _check_step(
        "gru_reset_before_state_forward", 3,
        {"gates": (gates, 3, True), "rec_h": (rec_h, 1, False), "h_prev": (h_prev, 1, False),
         "h": (h, 1, True)},
        ("gates", "h"), mask, {"activation": activation},
    )


def check_gru_reset_before_candidate_backward(gates, grad_h, mask, grad_candidate, activation):
    _check_step(
        "gru_reset_before_candidate_backward", 3,
        {"gates": (gates, 3, False), "grad_h": (grad_h, 1, False),
         "grad_candidate": (grad_candidate, 1, True)},
        ("grad_candidate",), mask, {"activation": activation},
    )


def check_gru_reset_before_gates_backward(gates, h_prev, dropped_h, grad_h, grad_reset_h, mask,
                                          grad_gates, grad_dropped, grad_h_prev,
                                          recurrent_activation):
    _check_step(
        "gru_reset_before_gates_backward", 3,
        {"gates": (gates, 3, False), "h_prev": (h_prev, 1, False),
         "dropped_h": (dropped_h, 1, False), "grad_h": (grad_h, 1, False),
         "grad_reset_h": (grad_reset_h, 1, False), "grad_gates": (grad_gates, 2, True),
         "grad_dropped": (grad_dropped, 1, True), "grad_h_prev": (grad_h_prev, 1, True)},
        ("grad_gates", "grad_dropped", "grad_h_prev"), mask,
        {"recurrent_activation": recurrent_activation},
    )
