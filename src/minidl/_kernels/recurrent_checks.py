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
    if not isinstance(activation, str) or activation not in RECURRENT_ACTIVATIONS:
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


# --- an LSTM's whole time loop (lstm_sequence.pyx) ---------------------------
def _check_sequence(kernel, xh, cells, masks, dropout, features, activations):
    """(T, N, U) from ``cells`` (T + 1, N, U), after checking xh (T, N, F + U (+ 1)),
    masks (T, N) uint8 or None, dropout (N, U) or None and ``features``."""
    _array(kernel, "cells", cells, 3)
    if cells.shape[0] < 1:
        raise ValueError(f"{kernel}: cells must have T + 1 >= 1 rows (the initial state "
                         f"first), received shape {cells.shape}.")
    steps, n, units = cells.shape[0] - 1, cells.shape[1], cells.shape[2]
    if isinstance(features, (bool, np.bool_)) or not isinstance(features, (int, np.integer)):
        raise ValueError(f"{kernel}: features must be a whole number, received {features!r}.")
    _array(kernel, "xh", xh, 3)
    if xh.shape[:2] != (steps, n) or xh.shape[2] - features - units not in (0, 1) \
            or features < 0:
        raise ValueError(
            f"{kernel}: xh must have shape ({steps}, {n}, {features} + {units} (+ 1 with a "
            f"bias)) for cells of shape {cells.shape} and features={features}, received "
            f"{xh.shape}.")
    if masks is not None:
        _array(kernel, "masks", masks, 2, dtype=_UINT8)
        _shape(kernel, "masks", masks, (steps, n))
    if dropout is not None:
        _array(kernel, "dropout", dropout, 2)
        _shape(kernel, "dropout", dropout, (n, units))
    for name, activation in activations.items():
        check_recurrent_activation(kernel, name, activation)
    return steps, n, units


def check_lstm_sequence_forward(xh, packed, gates, cells, hidden, masks, dropout, features,
                                activation, recurrent_activation):
    from minidl._kernels.panel_checks import panels_shape

    kernel = "lstm_sequence_forward"
    steps, n, units = _check_sequence(
        kernel, xh, cells, masks, dropout, features,
        {"activation": activation, "recurrent_activation": recurrent_activation})
    _array(kernel, "xh", xh, 3, writeable=True)
    _array(kernel, "packed", packed, 3)
    _shape(kernel, "packed", packed, panels_shape(xh.shape[2], 4 * units))
    _array(kernel, "gates", gates, 3, writeable=True)
    _shape(kernel, "gates", gates, (steps, n, 4 * units))
    _array(kernel, "cells", cells, 3, writeable=True)
    _array(kernel, "hidden", hidden, 3, writeable=True)
    _shape(kernel, "hidden", hidden, cells.shape)
    _same_dtype(kernel, xh=xh, packed=packed, gates=gates, cells=cells, hidden=hidden,
                dropout=dropout)
    _separate(kernel, {"xh": xh, "gates": gates, "cells": cells, "hidden": hidden},
              {"packed": packed, "masks": masks, "dropout": dropout})


def check_lstm_sequence_backward(xh, packed_ut, gates, cells, grad_steps, grad_h, grad_c, masks,
                                 dropout, grad_gates, grad_stacked, features, first, activation,
                                 recurrent_activation):
    from minidl._kernels.panel_checks import panels_shape

    kernel = "lstm_sequence_backward"
    steps, n, units = _check_sequence(
        kernel, xh, cells, masks, dropout, features,
        {"activation": activation, "recurrent_activation": recurrent_activation})
    _array(kernel, "packed_ut", packed_ut, 3)
    _shape(kernel, "packed_ut", packed_ut, panels_shape(4 * units, units))
    _array(kernel, "gates", gates, 3)
    _shape(kernel, "gates", gates, (steps, n, 4 * units))
    if grad_steps is not None:
        _array(kernel, "grad_steps", grad_steps, 3)
        _shape(kernel, "grad_steps", grad_steps, (steps, n, units))
    for name, a in (("grad_h", grad_h), ("grad_c", grad_c)):
        _array(kernel, name, a, 2, writeable=True)
        _shape(kernel, name, a, (n, units))
    if not isinstance(grad_gates, np.ndarray) or grad_gates.ndim not in (2, 3):
        raise ValueError(f"{kernel}: grad_gates must be a (T, N, 4U) or (N, 4U) array.")
    _array(kernel, "grad_gates", grad_gates, grad_gates.ndim, writeable=True)
    _shape(kernel, "grad_gates", grad_gates,
           (steps, n, 4 * units) if grad_gates.ndim == 3 else (n, 4 * units))
    _array(kernel, "grad_stacked", grad_stacked, 2, writeable=True)
    _shape(kernel, "grad_stacked", grad_stacked, (xh.shape[2], 4 * units))
    if (isinstance(first, (bool, np.bool_)) or not isinstance(first, (int, np.integer))
            or first not in (0, 1)):
        raise ValueError(f"{kernel}: first must be 0 or 1, received {first!r}.")
    _same_dtype(kernel, xh=xh, packed_ut=packed_ut, gates=gates, cells=cells,
                grad_steps=grad_steps, grad_h=grad_h, grad_c=grad_c, dropout=dropout,
                grad_gates=grad_gates, grad_stacked=grad_stacked)
    _separate(kernel, {"grad_h": grad_h, "grad_c": grad_c, "grad_gates": grad_gates,
                       "grad_stacked": grad_stacked},
              {"xh": xh, "packed_ut": packed_ut, "gates": gates, "cells": cells,
               "grad_steps": grad_steps, "masks": masks, "dropout": dropout})
