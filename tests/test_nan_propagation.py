"""A NaN that goes in comes out, as in Keras and PyTorch: never silently a number.

A diverging model shows NaN; an activation that turned NaN into a number would hide it
(relu(NaN) was 0, sigmoid(NaN) was 1e-35, an LSTM on NaN inputs gave -0.995: the
clamps that keep exp() in range compared in the order that drops NaN).  tf_keras 2.21
gives NaN for all of these.  The kernels are compared with their NumPy twins, which
propagate NaN as NumPy does.
"""

import numpy as np
import pytest

from minidl import _kernels, layers
from minidl._kernels import compiled, reference

NAN = np.nan
ACTIVATIONS = ["relu", "sigmoid", "tanh", "linear"]


def with_nans(shape, dtype=np.float32, seed=0):
    """Random values with a NaN in about every fifth place, and +-inf here and there."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape).astype(dtype)
    flat = x.reshape(-1)
    flat[::5] = NAN
    flat[1::17] = np.inf
    flat[2::19] = -np.inf
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_dense_forward_keeps_nans_like_its_twin(activation, dtype):
    x = with_nans((7, 5), dtype)
    w = np.random.default_rng(1).normal(size=(5, 6)).astype(dtype)
    b = np.zeros(6, dtype)
    outs = []
    for backend in (compiled, reference):
        out = np.empty((7, 6), dtype)
        backend.dense_forward(x, w, b, out, activation)
        outs.append(out)
    assert np.isnan(outs[0]).any()
    np.testing.assert_array_equal(np.isnan(outs[0]), np.isnan(outs[1]))
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-6)  # NaN where NaN


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_dense_layer_nan_in_nan_out(activation):
    y = layers.Dense(3, activation=activation)(np.array([[NAN, 1.0]], np.float32))
    assert np.isnan(y.data).all()  # tf_keras 2.21: [[nan nan nan]]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "hard_sigmoid"])
@pytest.mark.parametrize("kind", ["lstm", "gru", "gru_reset_before", "rnn"])
def test_recurrent_layers_nan_in_nan_out(kind, activation, dtype):
    """Every unit of every output is NaN after a NaN step (tf_keras 2.21 gives NaN)."""
    make = {"lstm": lambda: layers.LSTM(3, activation=activation, dtype=dtype),
            "gru": lambda: layers.GRU(3, activation=activation, dtype=dtype),
            "gru_reset_before": lambda: layers.GRU(3, activation=activation,
                                                   reset_after=False, dtype=dtype),
            "rnn": lambda: layers.SimpleRNN(3, activation=activation, dtype=dtype)}[kind]
    x = np.random.default_rng(2).normal(size=(2, 4, 3)).astype(dtype)
    x[:, 1, 0] = NAN
    y = make()(x).data
    assert np.isnan(y).all(), y


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "hard_sigmoid"])
@pytest.mark.parametrize("recurrent_activation", ["sigmoid", "hard_sigmoid", "tanh"])
def test_lstm_step_kernel_keeps_nans_like_its_twin(activation, recurrent_activation):
    units = 5
    gates = with_nans((4, 4 * units))
    c_prev, h_prev = with_nans((4, units), seed=3), with_nans((4, units), seed=4)
    results = []
    for backend in (compiled, reference):
        g = gates.copy()
        c, h = np.empty((4, units), np.float32), np.empty((4, units), np.float32)
        backend.lstm_step_forward(g, c_prev, h_prev, c, h, None, activation,
                                  recurrent_activation)
        results.append((g, c, h))
    for ours, twin in zip(results[0], results[1]):
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(twin))
        np.testing.assert_allclose(ours, twin, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid", "hard_sigmoid"])
def test_rnn_step_kernel_keeps_nans_like_its_twin(activation):
    pre, h_prev = with_nans((6, 7)), with_nans((6, 7), seed=5)
    outs = []
    for backend in (compiled, reference):
        p = pre.copy()
        backend.rnn_step_forward(p, h_prev, None, activation)
        outs.append(p)
    np.testing.assert_array_equal(np.isnan(outs[0]), np.isnan(outs[1]))
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("channels, kernel", [(1, 3), (2, 5), (16, 3), (16, 1), (40, 2)])
@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_convolution_nan_reaches_every_output_it_touches(channels, kernel, activation, dtype):
    """Direct (small patches), Winograd (3x3, 16 channels) and im2col: every output
    whose window holds the NaN is NaN, and the others agree with the NumPy twins.
    (Winograd computes 4x4 outputs from one 6x6 tile, so a NaN there may also reach
    the rest of its tile: more NaN, never less.)"""
    x = np.random.default_rng(6).normal(size=(1, 9, 9, channels)).astype(dtype)
    x[0, 4, 4, 0] = NAN
    layer = layers.Conv2D(16, kernel, activation=activation, dtype=dtype)
    y = layer(x).data
    touched = np.zeros(y.shape[1:3], bool)
    lo = max(0, 4 - kernel + 1)
    touched[lo:5, lo:5] = True
    assert np.isnan(y[0][touched]).all()
    before = _kernels.backend_name()
    _kernels.use("reference")
    try:
        expected = layer(x).data
    finally:
        _kernels.use(before)
    finite = ~np.isnan(y)
    np.testing.assert_allclose(y[finite], expected[finite], rtol=1e-4, atol=1e-5)


def test_conv1d_and_pooling_keep_nans():
    x = np.random.default_rng(7).normal(size=(1, 8, 3)).astype(np.float32)
    x[0, 3, 0] = NAN
    y = layers.Conv1D(2, 3, activation="relu")(x).data
    assert np.isnan(y[0, 1:4]).all() and not np.isnan(y[0, 4:]).any()
    assert np.isnan(layers.MaxPooling1D(2)(x).data[0, 1, 0])
    assert np.isnan(layers.GlobalMaxPooling1D()(x).data[0, 0])
    assert np.isnan(layers.GlobalAveragePooling1D()(x).data[0, 0])


@pytest.mark.parametrize("channels", [1, 3, 40])  # the narrow copy and the vector clones
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pooling_kernel_keeps_nans_like_its_twin(channels, dtype):
    """The first NaN of a window is its max (np.argmax's rule; PyTorch's max pooling gives
    NaN too), wherever it is in the window; the gradient goes to it."""
    x = with_nans((2, 6, 6, channels), dtype, seed=8)
    x[0, :2, :2] = NAN  # a window of NaNs only
    results = []
    for backend in (compiled, reference):
        out = np.empty((2, 3, 3, channels), dtype)
        argmax = np.empty((2, 3, 3, channels), np.int64)
        backend.max_pool2d_forward(x, 2, 2, 2, 2, 0, 0, out, argmax)
        grad_x = np.empty_like(x)
        backend.max_pool2d_backward(np.ones_like(out), argmax, grad_x)
        results.append((out, argmax, grad_x))
    (out, argmax, grad_x), (twin_out, twin_argmax, twin_grad) = results
    np.testing.assert_array_equal(out, twin_out)  # NaN in the same places
    np.testing.assert_array_equal(argmax, twin_argmax)
    np.testing.assert_array_equal(grad_x, twin_grad)
    windows = x.reshape(2, 3, 2, 3, 2, channels)
    assert (np.isnan(out) == np.isnan(windows).any(axis=(2, 4))).all()


def test_relu_with_keras_options_keeps_nans():
    """tf_keras 2.21: ReLU(max_value=6)([nan, 7, -1]) = [nan, 6, 0]; with
    negative_slope=0.1, threshold=0.5: [nan, 6, -0.15]."""
    x = np.array([[NAN, 7.0, -1.0]], np.float32)
    np.testing.assert_allclose(layers.ReLU(max_value=6)(x).data, [[NAN, 6, 0]])
    np.testing.assert_allclose(layers.ReLU(max_value=6, negative_slope=0.1, threshold=0.5)(x).data,
                               [[NAN, 6, -0.15]], rtol=1e-6)
