"""Read-only inputs: every compiled kernel takes them, as its NumPy twin does.

The kernels' input memoryviews are ``const``, so an array with
``writeable=False`` or memory-mapped data (``np.load(..., mmap_mode="r")``,
``np.memmap``) goes in without a copy; only the outputs must be writeable.
"""

import tracemalloc

import numpy as np
import pytest

from minidl import _kernels
from minidl._kernels import compiled, reference

FLOATS = [np.float32, np.float64]


def _calls(dtype, rng):
    """kernel name -> (arguments, the names of the read-only inputs among them)."""
    def normal(*shape):
        return rng.normal(size=shape).astype(dtype)

    def empty(*shape):
        return np.empty(shape, dtype)

    x, w, b = normal(5, 4), normal(4, 3), normal(3)
    dense_out = np.maximum(x @ w + b, 0).astype(dtype)
    image, kernel = normal(2, 5, 6, 3), normal(2, 3, 3, 4)
    conv_out = np.maximum(normal(2, 4, 2, 4), 0)
    wino_x, wino_w = normal(2, 6, 6, 3), normal(3, 3, 3, 4)
    wino_out = np.maximum(normal(2, 6, 6, 4), 0)
    pool_x = normal(2, 6, 6, 3)
    argmax = rng.integers(0, 6 * 6 * 3, size=(2, 3, 3, 3))
    logits, labels, targets = normal(5, 7), rng.integers(0, 7, size=5), normal(5, 7) ** 2
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    geometry = (2, 3, 1, 2, 0, 1, 4, 3)  # kh, kw, sh, sw, pad_top, pad_left, out_h, out_w
    param = normal(50)
    mask = (rng.random(5) > 0.3).astype(np.uint8)
    steps_mask = (rng.random((3, 5)) > 0.3).astype(np.uint8)
    scores, scores_labels = rng.random(20).astype(dtype), (rng.random(20) > 0.5).astype(dtype)
    text = rng.integers(0, 256, size=100).astype(np.uint8)
    text_offsets = np.array([0, 3, 3, 20, 90, 100], np.int64)
    return {
        "dense_forward": ((x, w, b, empty(5, 3), "relu"), ("x", "w", "b")),
        "dense_backward": ((x, w, dense_out, normal(5, 3), empty(5, 4), empty(4, 3), empty(3),
                            "relu"), ("x", "w", "out", "grad_out")),
        "gemm": ((normal(4, 5), normal(3, 4), normal(5, 3), True, True, 1.5, 0.5), ("a", "b")),
        "pack_panels": ((normal(4, 70), empty(2, 4, 64), False), ("b",)),
        "packed_gemm": ((normal(5, 4), normal(2, 4, 64), normal(5, 70)), ("a", "packed")),
        "im2col": ((image,) + geometry + (empty(2 * 4 * 3, 2 * 3 * 3),), ("x",)),
        "col2im": ((normal(2 * 4 * 3, 2 * 3 * 3),) + geometry + (empty(2, 5, 6, 3),),
                   ("cols",)),
        "conv2d_forward": ((image, kernel, normal(4), 1, 2, 0, 1, empty(2, 4, 3, 4), "relu"),
                           ("x", "w", "b")),
        "conv2d_backward": ((image, kernel, conv_out, normal(2, 4, 2, 4), 1, 2, 0, 0,
                             empty(2, 5, 6, 3), empty(2, 3, 3, 4), empty(4), "relu"),
                            ("x", "w", "out", "grad_out")),
        "conv2d_winograd_forward": ((wino_x, wino_w, normal(4), 1, 1, empty(2, 6, 6, 4),
                                     "relu"), ("x", "w", "b")),
        "conv2d_winograd_backward": ((wino_x, wino_w, wino_out, normal(2, 6, 6, 4), 1, 1,
                                      empty(2, 6, 6, 3), empty(3, 3, 3, 4), empty(4), "relu"),
                                     ("x", "w", "out", "grad_out")),
        "max_pool2d_forward": ((pool_x, 2, 2, 2, 2, 0, 0, empty(2, 3, 3, 3),
                                np.empty((2, 3, 3, 3), np.int64)), ("x",)),
        "max_pool2d_backward": ((normal(2, 3, 3, 3), argmax, empty(2, 6, 6, 3)),
                                ("grad_out", "argmax")),
        "avg_pool2d_forward": ((pool_x, 3, 2, 2, 2, 1, 0, empty(2, 3, 3, 3)), ("x",)),
        "avg_pool2d_backward": ((normal(2, 3, 3, 3), 3, 2, 2, 2, 1, 0, empty(2, 6, 6, 3)),
                                ("grad_out",)),
        "softmax_forward": ((logits, empty(5, 7)), ("logits",)),
        "softmax_cross_entropy_forward": ((logits, labels, empty(5, 7), empty(5)),
                                          ("logits", "labels")),
        "softmax_cross_entropy_forward/dense": ((logits, targets, empty(5, 7), empty(5)),
                                                ("logits", "labels")),
        "softmax_cross_entropy_backward": ((probs.astype(dtype), labels, normal(5), empty(5, 7)),
                                           ("probs", "labels", "grad_losses")),
        "softmax_cross_entropy_backward/dense": ((probs.astype(dtype), targets, normal(5),
                                                  empty(5, 7)),
                                                 ("probs", "labels", "grad_losses")),
        "sgd_update": ((param, normal(50), normal(50), 0.1, 0.9, True), ("grad",)),
        "rmsprop_update": ((param, normal(50), normal(50) ** 2, normal(50), 0.01, 0.9, 0.5),
                           ("grad",)),
        "adam_update": ((param, normal(50), normal(50), normal(50) ** 2, normal(50) ** 2, 0.01),
                        ("grad",)),
        "adagrad_update": ((param, normal(50), normal(50) ** 2 + 0.1, 0.01), ("grad",)),
        "adadelta_update": ((param, normal(50), normal(50) ** 2, normal(50) ** 2, 1.0), ("grad",)),
        "adamax_update": ((param, normal(50), normal(50), normal(50) ** 2, 0.01), ("grad",)),
        "nadam_update": ((param, normal(50), normal(50), normal(50) ** 2, 0.01, 0.9, 0.1, 1.0),
                         ("grad",)),
        "adamw_update": ((param, normal(50), normal(50), normal(50) ** 2, None, 0.01, 0.004),
                         ("grad",)),
        "ftrl_update": ((param, normal(50), normal(50) ** 2 + 0.1, normal(50), 0.01), ("grad",)),
        "embedding_forward": ((rng.integers(0, 6, size=9), normal(6, 4), empty(9, 4)),
                              ("indices", "weights")),
        "embedding_backward": ((rng.integers(0, 6, size=9), normal(9, 4), empty(6, 4)),
                               ("indices", "grad_out")),
        "lstm_step_forward": ((normal(5, 12), normal(5, 3), normal(5, 3), empty(5, 3), empty(5, 3),
                               mask), ("c_prev", "h_prev", "mask")),
        "lstm_step_backward": ((np.abs(normal(5, 12)), normal(5, 3), normal(5, 3), normal(5, 3),
                                normal(5, 3), mask, empty(5, 12), empty(5, 3), empty(5, 3)),
                               ("gates", "c_prev", "c", "grad_h", "grad_c", "mask")),
        "gru_step_forward": ((normal(5, 9), normal(5, 9), normal(5, 3), empty(5, 3), mask),
                             ("rec", "h_prev", "mask")),
        "gru_step_backward": ((np.abs(normal(5, 9)), normal(5, 9), normal(5, 3), normal(5, 3), mask,
                               empty(5, 9), empty(5, 9), empty(5, 3)),
                              ("gates", "rec", "h_prev", "grad_h", "mask")),
        "gru_reset_before_gates_forward": ((normal(5, 9), normal(5, 6), normal(5, 3),
                                            empty(5, 3)), ("rec", "dropped_h")),
        "gru_reset_before_state_forward": ((np.abs(normal(5, 9)), normal(5, 3), normal(5, 3),
                                            empty(5, 3), mask), ("rec_h", "h_prev", "mask")),
        "gru_reset_before_candidate_backward": ((np.abs(normal(5, 9)), normal(5, 3), mask,
                                                 empty(5, 3)), ("gates", "grad_h", "mask")),
        "gru_reset_before_gates_backward": ((np.abs(normal(5, 9)), normal(5, 3), normal(5, 3),
                                             normal(5, 3), normal(5, 3), mask, empty(5, 6),
                                             empty(5, 3), empty(5, 3)),
                                            ("gates", "h_prev", "dropped_h", "grad_h",
                                             "grad_reset_h", "mask")),
        "rnn_step_forward": ((normal(5, 3), normal(5, 3), mask), ("h_prev", "mask")),
        "rnn_step_backward": ((np.tanh(normal(5, 3)), normal(5, 3), mask, empty(5, 3), empty(5, 3)),
                              ("h", "grad_h", "mask")),
        # an LSTM's time loop: T = 3 steps, N = 5 rows, F = 2 features, U = 3 units, a bias
        "lstm_sequence_forward": ((normal(3, 5, 6), normal(1, 6, 64), empty(3, 5, 12),
                                   normal(4, 5, 3), normal(4, 5, 3), steps_mask,
                                   np.abs(normal(5, 3)), 2), ("packed", "masks", "dropout")),
        "lstm_sequence_backward": ((normal(3, 5, 6), normal(1, 12, 64), np.abs(normal(3, 5, 12)),
                                    normal(4, 5, 3), normal(3, 5, 3), normal(5, 3), normal(5, 3),
                                    steps_mask, np.abs(normal(5, 3)), empty(3, 5, 12),
                                    empty(6, 12), 2, 1),
                                   ("xh", "packed_ut", "gates", "cells", "grad_steps", "masks",
                                    "dropout")),
        "confusion_thresholds_add": ((scores_labels, scores, np.abs(normal(20)),
                                      np.linspace(0, 1, 7).astype(dtype),
                                      np.zeros(7, dtype), np.zeros(7, dtype), np.zeros(7, dtype),
                                      np.zeros(7, dtype)),
                                     ("labels", "predictions", "weights", "thresholds")),
        "confusion_buckets_add": ((scores_labels, scores, np.abs(normal(20)), 9, np.zeros(9, dtype),
                                   np.zeros(9, dtype), np.zeros(9, dtype), np.zeros(9, dtype)),
                                  ("labels", "predictions", "weights")),
        # five strings end to end (one empty, one over 64 bytes), hashed into a uint64 each
        "fingerprint64": ((text, text_offsets, np.empty(5, np.uint64)), ("data", "offsets")),
        "siphash64": ((text, text_offsets, 133, 2 ** 64 - 1, np.empty(5, np.uint64)),
                      ("data", "offsets")),
    }


# which argument positions hold the inputs, by the names the calls above give them
INPUT_POSITIONS = {
    "dense_forward": {"x": 0, "w": 1, "b": 2},
    "dense_backward": {"x": 0, "w": 1, "out": 2, "grad_out": 3},
    "gemm": {"a": 0, "b": 1},
    "pack_panels": {"b": 0},
    "packed_gemm": {"a": 0, "packed": 1},
    "im2col": {"x": 0},
    "col2im": {"cols": 0},
    "conv2d_forward": {"x": 0, "w": 1, "b": 2},
    "conv2d_backward": {"x": 0, "w": 1, "out": 2, "grad_out": 3},
    "conv2d_winograd_forward": {"x": 0, "w": 1, "b": 2},
    "conv2d_winograd_backward": {"x": 0, "w": 1, "out": 2, "grad_out": 3},
    "max_pool2d_forward": {"x": 0},
    "max_pool2d_backward": {"grad_out": 0, "argmax": 1},
    "avg_pool2d_forward": {"x": 0},
    "avg_pool2d_backward": {"grad_out": 0},
    "softmax_forward": {"logits": 0},
    "softmax_cross_entropy_forward": {"logits": 0, "labels": 1},
    "softmax_cross_entropy_backward": {"probs": 0, "labels": 1, "grad_losses": 2},
    "sgd_update": {"grad": 1},
    "rmsprop_update": {"grad": 1},
    "adam_update": {"grad": 1},
    "adagrad_update": {"grad": 1},
    "adadelta_update": {"grad": 1},
    "adamax_update": {"grad": 1},
    "nadam_update": {"grad": 1},
    "adamw_update": {"grad": 1},
    "ftrl_update": {"grad": 1},
    "embedding_forward": {"indices": 0, "weights": 1},
    "embedding_backward": {"indices": 0, "grad_out": 1},
    "lstm_step_forward": {"c_prev": 1, "h_prev": 2, "mask": 5},
    "lstm_step_backward": {"gates": 0, "c_prev": 1, "c": 2, "grad_h": 3, "grad_c": 4, "mask": 5},
    "gru_step_forward": {"rec": 1, "h_prev": 2, "mask": 4},
    "gru_step_backward": {"gates": 0, "rec": 1, "h_prev": 2, "grad_h": 3, "mask": 4},
    "gru_reset_before_gates_forward": {"rec": 1, "dropped_h": 2},
    "gru_reset_before_state_forward": {"rec_h": 1, "h_prev": 2, "mask": 4},
    "gru_reset_before_candidate_backward": {"gates": 0, "grad_h": 1, "mask": 2},
    "gru_reset_before_gates_backward": {"gates": 0, "h_prev": 1, "dropped_h": 2, "grad_h": 3,
                                        "grad_reset_h": 4, "mask": 5},
    "rnn_step_forward": {"h_prev": 1, "mask": 2},
    "rnn_step_backward": {"h": 0, "grad_h": 1, "mask": 2},
    "lstm_sequence_forward": {"packed": 1, "masks": 5, "dropout": 6},
    "lstm_sequence_backward": {"xh": 0, "packed_ut": 1, "gates": 2, "cells": 3, "grad_steps": 4,
                               "masks": 7, "dropout": 8},
    "confusion_thresholds_add": {"labels": 0, "predictions": 1, "weights": 2, "thresholds": 3},
    "confusion_buckets_add": {"labels": 0, "predictions": 1, "weights": 2},
    "fingerprint64": {"data": 0, "offsets": 1},
    "siphash64": {"data": 0, "offsets": 1},
}

CASES = list(_calls(np.float64, np.random.default_rng(0)))


def test_every_kernel_is_covered():
    assert {case.split("/")[0] for case in CASES} == set(_kernels.FUNCTIONS)


def _read_only(array, how, tmp_path, name):
    if how == "writeable=False":
        array = array.copy()
        array.flags.writeable = False
        return array
    path = tmp_path / f"{name}.npy"
    if how == "np.load(mmap_mode='r')":
        np.save(path, array)
        return np.load(path, mmap_mode="r")
    mapped = np.memmap(path, array.dtype, "w+", shape=array.shape)
    mapped[...] = array
    mapped.flush()
    del mapped
    return np.memmap(path, array.dtype, "r", shape=array.shape)


@pytest.mark.parametrize("how", ["writeable=False", "np.load(mmap_mode='r')", "np.memmap"])
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("case", CASES)
def test_read_only_inputs_give_the_twins_result(case, dtype, how, tmp_path):
    kernel = case.split("/")[0]
    args, inputs = _calls(dtype, np.random.default_rng(1))[case]
    positions = [INPUT_POSITIONS[kernel][name] for name in inputs]
    outputs = [i for i, a in enumerate(args) if isinstance(a, np.ndarray) and i not in positions]

    twin_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    twin_result = getattr(reference, kernel)(*twin_args)

    ours = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    for i in positions:
        ours[i] = _read_only(args[i], how, tmp_path, f"arg{i}")
        assert not ours[i].flags.writeable
    result = getattr(compiled, kernel)(*ours)

    assert result == twin_result
    tol = dict(rtol=2e-4, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-11)
    for i in outputs:
        if ours[i].dtype.kind in "iu":  # indices, hashes: exactly
            np.testing.assert_array_equal(ours[i], twin_args[i])
        else:
            np.testing.assert_allclose(ours[i], twin_args[i], **tol)
    for i in positions:  # the inputs are as they were
        np.testing.assert_array_equal(ours[i], args[i])


@pytest.mark.parametrize("backend", [compiled, reference], ids=["compiled", "reference"])
@pytest.mark.parametrize("case", CASES)
def test_read_only_outputs_are_refused_by_name(case, backend):
    kernel = case.split("/")[0]
    args, inputs = _calls(np.float32, np.random.default_rng(2))[case]
    positions = [INPUT_POSITIONS[kernel][name] for name in inputs]
    outputs = [i for i, a in enumerate(args) if isinstance(a, np.ndarray) and i not in positions]
    for i in outputs:
        call = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
        call[i].flags.writeable = False
        with pytest.raises(ValueError, match="writeable"):
            getattr(backend, kernel)(*call)


def _big_calls(rng):
    """kernel -> (arguments, the position of an input of 4-8 MB)."""
    def normal(*shape):
        return rng.normal(size=shape).astype(np.float32)

    def empty(*shape):
        return np.empty(shape, np.float32)

    return {
        "dense_forward": ((normal(4000, 500), normal(500, 4), None, empty(4000, 4)), 0),
        "conv2d_forward": ((normal(100, 60, 60, 3), normal(3, 3, 3, 2), None, 2, 2, 0, 0,
                            empty(100, 29, 29, 2)), 0),
        "max_pool2d_forward": ((normal(100, 60, 60, 3), 2, 2, 2, 2, 0, 0, empty(100, 30, 30, 3),
                                np.empty((100, 30, 30, 3), np.int64)), 0),
        "softmax_cross_entropy_forward": ((normal(20000, 100), rng.integers(0, 100, 20000),
                                           empty(20000, 100), empty(20000)), 0),
    }


@pytest.mark.parametrize("kernel", ["dense_forward", "conv2d_forward", "max_pool2d_forward",
                                    "softmax_cross_entropy_forward"])
def test_read_only_inputs_are_not_copied(kernel):
    """tracemalloc sees NumPy's allocations: a copy of the input would show as its size."""
    args, position = _big_calls(np.random.default_rng(3))[kernel]
    args[position].flags.writeable = False
    getattr(compiled, kernel)(*args)  # warm up: first-call allocations are not copies
    tracemalloc.start()
    try:
        getattr(compiled, kernel)(*args)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < args[position].nbytes // 8, (peak, args[position].nbytes)
