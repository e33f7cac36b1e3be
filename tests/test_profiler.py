"""minidl.profile(): every kernel, op and optimizer step is timed, and everything is put back."""

import io

import numpy as np
import pytest

import minidl
from minidl import _kernels, layers, ops


def small_cnn():
    model = minidl.Sequential([
        layers.Conv2D(16, (3, 3), activation="relu", input_shape=(12, 12, 1)),  # direct kernels
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(16, (3, 3), activation="relu"),  # Winograd (compiled), im2col (twins)
        layers.Flatten(),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("backend", _kernels.BACKENDS)
def test_profile_of_a_cnn_fit_names_its_kernels_and_ops(backend):
    previous = _kernels.current
    _kernels.use(backend)
    try:
        rng = np.random.default_rng(0)
        x, y = rng.random((64, 12, 12, 1), dtype=np.float32), rng.integers(0, 10, 64)
        model = small_cnn()
        model.fit(x[:8], y[:8], epochs=1, verbose=0)  # build outside the profile
        with minidl.profile() as prof:
            model.fit(x, y, batch_size=16, epochs=1, verbose=0)
        names = {(category, name) for category, name, _, _ in prof.rows()}
        second_layer = ([("kernel", "conv2d_winograd_forward"), ("kernel", "conv2d_winograd_backward")]
                        if backend == "compiled" else [("kernel", "im2col"), ("kernel", "col2im")])
        for expected in [("kernel", "conv2d_forward"), ("kernel", "conv2d_backward"), ("backward", "conv2d"),
                         *second_layer, ("kernel", "max_pool2d_forward"), ("kernel", "dense_forward"),
                         ("kernel", "adam_update"), ("forward", "conv2d"),
                         ("optimizer", "apply_gradients"), ("data", "shuffle + batch")]:
            assert expected in names, expected
        calls = {(c, n): k for c, n, k, _ in prof.rows()}
        assert calls[("kernel", "conv2d_forward")] == 4  # one per batch of 16
        assert sum(prof.summary().values()) == pytest.approx(prof.wall, rel=1e-6)
        out = io.StringIO()
        prof.table(file=out)
        assert f"kernels: {backend}" in out.getvalue() and "conv2d_backward" in out.getvalue()
    finally:
        _kernels.current = previous


def test_profile_puts_everything_back():
    before_kernels, before_dense, before_apply = (
        _kernels.current, ops.dense, minidl.optimizers.Optimizer.apply_gradients)
    with minidl.profile():
        assert _kernels.current is not before_kernels
    assert _kernels.current is before_kernels
    assert ops.dense is before_dense
    assert minidl.optimizers.Optimizer.apply_gradients is before_apply
