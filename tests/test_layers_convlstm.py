"""ConvLSTM1D and ConvLSTM2D: tf_keras 2.21's outputs and gradients, PyTorch's, gradcheck.

``fixtures/conv_lstm/outputs.json`` holds tf_keras 2.21's results (its script,
``make_fixtures.py``, says which): the outputs of ``return_sequences=True,
return_state=True`` layers of 2 filters on ``values(0, [input shape])`` with the
weights ``values(1, shapes of get_weights())``, rounded to 6 decimals.
"""

import json
import pathlib

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl.models import load_model
from minidl.tensor import Tensor
from minidl.testing import gradcheck

FIXTURES = pathlib.Path(__file__).parent / "fixtures" / "conv_lstm"
KERAS = json.loads((FIXTURES / "outputs.json").read_text())
MASK = np.array([[True, False, True], [True, True, False]])
X2D = (2, 3, 5, 4, 2)


def values(seed, shapes, dtype=np.float32):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-1, 1, size=s).astype(dtype) for s in shapes]


def keras_like(rank, shape, arguments, dtype="float32", **more):
    """A layer as the fixtures' script makes it: 2 filters, its weights ``values(1, ...)``."""
    cls = layers.ConvLSTM2D if rank == 2 else layers.ConvLSTM1D
    arguments = {k: tuple(v) if isinstance(v, list) else v for k, v in arguments.items()}
    layer = cls(2, return_sequences=True, return_state=True, dtype=dtype, **arguments, **more)
    layer.build((None, *shape[1:]))
    layer.set_weights(values(1, [w.shape for w in layer.get_weights()]))
    return layer


# --- tf_keras 2.21 -------------------------------------------------------------------
@pytest.mark.parametrize("case", sorted(KERAS["cases"]))
def test_outputs_match_keras(case):
    entry = KERAS["cases"][case]
    shape = tuple(entry["input_shape"])
    layer = keras_like(entry["rank"], shape, entry["arguments"])
    kwargs = {}
    if "mask" in entry["extras"]:
        kwargs["mask"] = MASK
    if "initial" in entry["extras"]:
        kwargs["initial_state"] = values(2, [layer.compute_output_shape(shape)[1]] * 2)
    results = layer(values(0, [shape])[0], **kwargs)
    assert len(results) == 3
    for result, expected in zip(results, entry["outputs"]):
        expected = np.array(expected)
        assert result.shape == expected.shape
        np.testing.assert_allclose(result.data, expected, atol=2e-6)


def test_last_output_alone_is_the_last_step():
    entry = KERAS["cases"]["2d-same"]
    layer = layers.ConvLSTM2D(2, (3, 2), padding="same")
    layer.build((None, *X2D[1:]))
    layer.set_weights(values(1, [w.shape for w in layer.get_weights()]))
    np.testing.assert_allclose(layer(values(0, [X2D])[0]).data, np.array(entry["outputs"][1]),
                               atol=2e-6)


def test_stateful_carries_the_states_as_keras():
    layer = keras_like(2, X2D, {"kernel_size": (3, 2)}, stateful=True)
    x = values(0, [X2D])[0]
    first, second = layer(x[:, :2])[0], layer(x[:, 2:])[0]
    for ours, expected in zip((first, second), KERAS["stateful"]):
        np.testing.assert_allclose(ours.data, np.array(expected), atol=2e-6)
    layer.reset_states()
    np.testing.assert_allclose(layer(x[:, :2])[0].data, np.array(KERAS["stateful"][0]), atol=2e-6)
    with pytest.raises(ValueError, match="stateful"):
        layer(x[:1])
    h, c = values(5, [(2, 3, 3, 2)] * 2)
    layer.reset_states([h, c])
    np.testing.assert_array_equal(layer.states[0], h)
    with pytest.raises(ValueError, match=r"2 arrays \[h, c\]"):
        layer.reset_states(np.stack([h, c]))  # one array is not the list of two
    with pytest.raises(AttributeError, match="stateful"):
        layers.ConvLSTM2D(2, 3).reset_states()


def test_gradients_match_keras():
    entry = KERAS["cases"]["2d-same-strides"]
    layer = keras_like(2, X2D, entry["arguments"])
    x = Tensor(values(0, [X2D])[0], requires_grad=True)
    sequence = layer(x, mask=MASK)[0]
    (sequence * Tensor(values(3, [sequence.shape])[0])).sum().backward()
    ours = [x.grad, layer.kernel.grad, layer.recurrent_kernel.grad, layer.bias.grad]
    for grad, expected in zip(ours, KERAS["gradients"]):
        np.testing.assert_allclose(grad, np.array(expected), atol=2e-5)


def test_summary_shapes_and_parameter_counts_as_keras(capsys):
    layers.reset_names()
    model = minidl.Sequential([
        layers.ConvLSTM2D(40, (3, 3), padding="same", return_sequences=True,
                          input_shape=(None, 40, 40, 1)),
        layers.ConvLSTM2D(20, (3, 3), strides=2),
    ])
    other = minidl.Sequential([layers.ConvLSTM1D(5, 4, return_sequences=True,
                                                 input_shape=(7, 12, 3))])
    found = [[list(layer.output_shape), layer.count_params()]
             for layer in model.layers + other.layers]
    assert found == KERAS["summary"]
    model.summary()
    table = capsys.readouterr().out
    assert " conv_lstm2d (ConvLSTM2D)    (None, None, 40, 40, 40   59200" in table
    assert " conv_lstm2d_1 (ConvLSTM2D)  (None, 19, 19, 20)        43280" in table


def test_weights_in_keras_layout_and_initial_values():
    layers.reset_names()
    layer = layers.ConvLSTM2D(4, (3, 2))
    layer.build((None, 6, 7, 8, 3))
    assert [w.name for w in layer.weights] == [
        "conv_lstm2d/kernel", "conv_lstm2d/recurrent_kernel", "conv_lstm2d/bias"]
    assert [w.shape for w in layer.get_weights()] == [(3, 2, 3, 16), (3, 2, 4, 16), (16,)]
    np.testing.assert_array_equal(layer.bias.data, np.r_[np.zeros(4), np.ones(4), np.zeros(8)])
    u = layer.recurrent_kernel.data.reshape(-1, 16).astype(np.float64)  # orthonormal columns
    np.testing.assert_allclose(u.T @ u, np.eye(16), atol=1e-5)
    layer = layers.ConvLSTM1D(4, 3, unit_forget_bias=False, use_bias=False)
    layer.build((None, 6, 8, 3))
    assert [w.shape for w in layer.get_weights()] == [(3, 3, 16), (3, 4, 16)]


def test_default_recurrent_activation_is_keras_2s_hard_sigmoid():
    assert layers.ConvLSTM2D(2, 3).get_config()["recurrent_activation"] == "hard_sigmoid"


@pytest.mark.parametrize("name", ["ConvLSTM2D", "ConvLSTM1D"])
def test_config_keys_and_values_as_keras(name):
    config = getattr(layers, name)(3, 3).get_config()
    keras = KERAS["config"][name]
    assert list(config)[1:] == list(keras)
    for key, value in keras.items():
        ours = config[key]
        if isinstance(value, dict):  # initializers: Keras adds module and registered_name
            assert ours["class_name"] == value["class_name"] and ours["config"] == value["config"]
        else:
            assert (list(ours) if isinstance(ours, tuple) else ours) == value, key


@pytest.mark.parametrize("name, shape", [("ConvLSTM2D", (3, 6, 5, 2)), ("ConvLSTM1D", (3, 6, 2))])
def test_config_round_trip_and_save_load(name, shape, tmp_path):
    layer = getattr(layers, name)(3, 3, strides=2, padding="same", go_backwards=True,
                                  dropout=0.1, recurrent_dropout=0.2, kernel_regularizer="l2",
                                  activation="relu", recurrent_activation="sigmoid",
                                  return_sequences=True, input_shape=shape)
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    model = minidl.Sequential([layer, getattr(layers, name)(2, 2)])
    x = values(3, [(2, *shape)])[0]
    expected = model.predict(x, verbose=0)
    model.save(tmp_path / "convlstm.mdl")
    loaded = load_model(tmp_path / "convlstm.mdl")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
    assert type(loaded.layers[0]) is type(layer)
    assert loaded.layers[0].get_config() == config


def test_functional_initial_state_and_return_state_save_load(tmp_path):
    frames, h0, c0 = minidl.Input((3, 5, 4, 2)), minidl.Input((5, 4, 2)), minidl.Input((5, 4, 2))
    output, h, c = layers.ConvLSTM2D(2, 3, padding="same", return_state=True)(
        frames, initial_state=[h0, c0])
    model = minidl.Model([frames, h0, c0], [output, h, c])
    x, s = values(4, [(2, 3, 5, 4, 2), (2, 5, 4, 2)])
    results = model.predict([x, s, s], verbose=0)
    assert [r.shape for r in results] == [(2, 5, 4, 2)] * 3
    np.testing.assert_array_equal(results[0], results[1])  # the output is h
    model.save(tmp_path / "functional.mdl")
    for ours, theirs in zip(load_model(tmp_path / "functional.mdl").predict([x, s, s], verbose=0),
                            results):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("path, key", [("keras2.h5", "keras2"), ("keras3.keras", "keras3")])
def test_keras_files_load(path, key):
    stored = np.load(FIXTURES / "files.npz")
    model = load_model(FIXTURES / path)
    assert [type(layer) for layer in model.layers[:2]] == [layers.ConvLSTM2D] * 2
    np.testing.assert_allclose(model.predict(stored["x"], verbose=0), stored[key], atol=1e-5)


def test_keras_3_file_written_by_minidl_is_refused_by_name(tmp_path):
    """The Keras 3 writer does not translate ConvLSTM2D: save() says so, naming the layer,
    and writes minidl's own layout (which load_model reads)."""
    pytest.importorskip("h5py")
    model = minidl.Sequential([layers.ConvLSTM2D(2, 3, name="video", input_shape=(3, 5, 4, 2))])
    with pytest.warns(UserWarning, match=r'layer "video" is a ConvLSTM2D, which this writer '
                                         r"does not translate"):
        model.save(tmp_path / "video.keras")
    x = values(4, [X2D])[0]
    np.testing.assert_array_equal(load_model(tmp_path / "video.keras").predict(x, verbose=0),
                                  model.predict(x, verbose=0))


def test_mask_goes_on_with_the_sequence_only():
    layer = layers.ConvLSTM2D(2, 3, padding="same", return_sequences=True, return_state=True)
    x = values(0, [X2D])[0]
    masks = layer.compute_mask(x, MASK)
    np.testing.assert_array_equal(masks[0], MASK)
    assert masks[1:] == [None, None]
    layer = layers.ConvLSTM2D(2, 3, padding="same")
    assert layer.compute_mask(x, MASK) is None
    with pytest.raises(ValueError, match=r"\(batch, time\)"):  # what Masking() would give
        layer(x, mask=np.ones(X2D[:-1], bool))


# --- PyTorch, the same steps from torch's conv2d ---------------------------------------
def torch_conv_lstm(torch, x, kernel, recurrent_kernel, bias, h, c, strides, padding):
    """ConvLSTM2D written with torch.nn.functional.conv2d (NCHW, OIHW), hard_sigmoid gates;
    every h of the sequence stacked on axis 1, channels last."""
    functional = torch.nn.functional
    w = kernel.permute(3, 2, 0, 1)
    u = recurrent_kernel.permute(3, 2, 0, 1)
    kh, kw = kernel.shape[:2]
    h, c = h.permute(0, 3, 1, 2), c.permute(0, 3, 1, 2)
    outputs = []
    for t in range(x.shape[1]):
        frame = x[:, t].permute(0, 3, 1, 2)
        if padding == "same":  # TensorFlow's: the odd extra zero after
            rows, cols = frame.shape[2:]
            out_r, out_c = -(-rows // strides[0]), -(-cols // strides[1])
            pad_r = max((out_r - 1) * strides[0] + kh - rows, 0)
            pad_c = max((out_c - 1) * strides[1] + kw - cols, 0)
            frame = functional.pad(frame, (pad_c // 2, pad_c - pad_c // 2,
                                           pad_r // 2, pad_r - pad_r // 2))
        recurrent = functional.pad(h, ((kw - 1) // 2, kw // 2, (kh - 1) // 2, kh // 2))
        z = functional.conv2d(frame, w, bias, stride=strides) + functional.conv2d(recurrent, u)
        i, f, g, o = torch.chunk(z, 4, dim=1)
        gate = lambda v: torch.clamp(0.2 * v + 0.5, 0, 1)  # noqa: E731
        c = gate(f) * c + gate(i) * torch.tanh(g)
        h = gate(o) * torch.tanh(c)
        outputs.append(h.permute(0, 2, 3, 1))
    return torch.stack(outputs, 1), h.permute(0, 2, 3, 1), c.permute(0, 2, 3, 1)


@pytest.mark.parametrize("strides, padding, kernel_size", [
    ((1, 1), "same", (3, 2)), ((2, 2), "valid", (3, 2)), ((2, 1), "same", (2, 3))])
def test_forward_and_gradients_match_pytorch(strides, padding, kernel_size):
    torch = pytest.importorskip("torch")
    layer = layers.ConvLSTM2D(3, kernel_size, strides=strides, padding=padding,
                              return_sequences=True, return_state=True, dtype="float64")
    shape = (2, 4, 7, 6, 2)
    layer.build((None, *shape[1:]))
    weights = [w * 0.5 for w in values(7, [w.shape for w in layer.get_weights()], np.float64)]
    layer.set_weights(weights)
    state_shape = layer.compute_output_shape(shape)[1]
    x, h0, c0 = values(8, [shape, state_shape, state_shape], np.float64)
    ours = [Tensor(a, requires_grad=True) for a in (x, h0, c0)]
    results = layer(ours[0], initial_state=ours[1:])
    grads = values(9, [r.shape for r in results], np.float64)
    sum((r * Tensor(g)).sum() for r, g in zip(results, grads)).backward()

    theirs = [torch.tensor(a, requires_grad=True) for a in (x, *weights, h0, c0)]
    torch_results = torch_conv_lstm(torch, theirs[0], *theirs[1:4], *theirs[4:], strides, padding)
    sum((r * torch.tensor(g)).sum() for r, g in zip(torch_results, grads)).backward()

    tol = dict(rtol=1e-9, atol=1e-11)
    for result, expected in zip(results, torch_results):
        np.testing.assert_allclose(result.data, expected.detach().numpy(), **tol)
    ours_grads = [ours[0].grad, layer.kernel.grad, layer.recurrent_kernel.grad, layer.bias.grad,
                  ours[1].grad, ours[2].grad]
    for grad, expected in zip(ours_grads, theirs):
        np.testing.assert_allclose(grad, expected.grad.numpy(), **tol)


# --- float64 gradient checks ------------------------------------------------------------
@pytest.mark.parametrize("name, shape, arguments", [
    ("ConvLSTM2D", (2, 3, 4, 3, 2), dict(kernel_size=(2, 3), padding="same", strides=(2, 1))),
    ("ConvLSTM2D", (2, 3, 4, 3, 2), dict(kernel_size=2, go_backwards=True, masked=True)),
    ("ConvLSTM1D", (2, 3, 5, 2), dict(kernel_size=2, padding="same", dilation_rate=2)),
    ("ConvLSTM1D", (2, 3, 5, 2), dict(kernel_size=3, strides=2, activation="relu")),
])
def test_gradcheck(name, shape, arguments):
    masked = arguments.pop("masked", False)
    layer = getattr(layers, name)(2, recurrent_activation="sigmoid", return_sequences=True,
                                  dtype="float64", **arguments)
    layer.build((None, *shape[1:]))
    arrays = [values(11, [shape], np.float64)[0],
              *values(12, [w.shape for w in layer.get_weights()], np.float64)]

    def fn(x, kernel, recurrent_kernel, bias):
        for attribute, tensor in (("kernel", kernel), ("recurrent_kernel", recurrent_kernel),
                                  ("bias", bias)):
            object.__setattr__(layer, attribute, tensor)  # the checked tensors, untracked
        return layer(x, mask=MASK if masked else None)

    assert gradcheck(fn, arrays)


# --- training -----------------------------------------------------------------------------
def test_a_small_next_frame_model_learns():
    """Keras's next-frame example in small: frames in, the next frames out."""
    minidl.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    frames = np.zeros((16, 5, 6, 6, 1), np.float32)  # a dot moving right one pixel a step
    for n in range(16):
        row, col = rng.integers(0, 6), rng.integers(0, 2)
        for t in range(5):
            frames[n, t, row, col + t, 0] = 1
    model = minidl.Sequential([
        layers.ConvLSTM2D(4, 3, padding="same", return_sequences=True, dropout=0.1,
                          recurrent_dropout=0.1, input_shape=(4, 6, 6, 1)),
        layers.TimeDistributed(layers.Conv2D(1, 3, padding="same", activation="sigmoid")),
    ])
    model.compile(minidl.optimizers.Adam(0.03), "binary_crossentropy")
    history = model.fit(frames[:, :4], frames[:, 1:], epochs=10, batch_size=8, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]


def test_training_dropout_differs_and_inference_does_not():
    layer = layers.ConvLSTM2D(2, 3, padding="same", dropout=0.5, recurrent_dropout=0.5)
    x = values(0, [X2D])[0]
    plain = layer(x).data
    np.testing.assert_array_equal(layer(x, training=False).data, plain)
    assert not np.allclose(layer(x, training=True).data, plain)


# --- hostile arguments ----------------------------------------------------------------------
@pytest.mark.parametrize("arguments, match", [
    (dict(filters=0, kernel_size=3), "filters"),
    (dict(filters=-2, kernel_size=3), "filters"),
    (dict(filters=2, kernel_size=-1), "kernel_size"),
    (dict(filters=2, kernel_size=(3, 0)), "kernel_size"),
    (dict(filters=2, kernel_size=3, strides=0), "strides"),
    (dict(filters=2, kernel_size=3, padding="causal"), "padding"),
    (dict(filters=2, kernel_size=3, data_format="NCHW"), "data_format"),
    (dict(filters=2, kernel_size=3, strides=2, dilation_rate=2), "dilation_rate"),
    (dict(filters=2, kernel_size=3, dropout=1.5), "dropout"),
    (dict(filters=2, kernel_size=3, kernel_constraint="non_negative"), "kernel_constraint"),
    (dict(filters=2, kernel_size=3, unroll=True), "unroll"),
])
def test_hostile_arguments_are_refused_naming_the_layer(arguments, match):
    with pytest.raises(ValueError, match=match) as error:
        layers.ConvLSTM2D(name="video", **arguments)
    assert 'ConvLSTM2D layer "video"' in str(error.value)


def test_strides_with_dilation_refused_as_keras():
    with pytest.raises(ValueError, match="strides > 1 together with dilation_rate > 1"):
        layers.ConvLSTM1D(2, 3, strides=2, dilation_rate=2)


@pytest.mark.parametrize("name, shape", [
    ("ConvLSTM2D", (2, 3, 5, 5)), ("ConvLSTM2D", (2, 3, 5, 5, 1, 1)), ("ConvLSTM1D", (2, 3, 5))])
def test_wrong_input_rank_refused_naming_the_layer(name, shape):
    layer = getattr(layers, name)(2, 3, padding="same", name="frames")
    with pytest.raises(ValueError, match=f'"frames".*expected ndim={5 if "2D" in name else 4}'):
        layer(np.zeros(shape, np.float32))
    assert not layer.built


def test_wrong_channels_kernel_too_large_and_wrong_initial_state_refused():
    layer = layers.ConvLSTM2D(2, 3)
    layer(np.zeros(X2D, np.float32))
    with pytest.raises(ValueError, match="expected ndim=5"):
        layer(np.zeros((2, 3, 5, 4, 3), np.float32))
    with pytest.raises(ValueError, match="larger than its input frames"):
        layers.ConvLSTM2D(2, 7)(np.zeros(X2D, np.float32))
    with pytest.raises(ValueError, match=r"2 states, h and c, each of shape \(2, 3, 2, 2\)"):
        layer(np.zeros(X2D, np.float32), initial_state=[np.zeros((2, 5, 4, 2), np.float32)] * 2)


def test_sequence_of_zero_steps_refused():
    with pytest.raises(ValueError, match="0 timesteps"):
        layers.ConvLSTM2D(2, 3, padding="same")(np.zeros((2, 0, 5, 4, 2), np.float32))
