"""Conv2DTranspose: Keras's shapes, kernel layout and parameter counts, PyTorch's values,
configs, saving, summary, bad arguments, and a DCGAN-style generator that trains."""

import numpy as np
import pytest

import minidl
from minidl import layers, ops, regularizers
from minidl.models import load_model


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


# (layer, input shape, output shape, parameters, output shape of a call on a batch of 2 with
# unknown sizes 8), as tf_keras 2 printed them
KERAS_SHAPES = [
    (lambda: layers.Conv2DTranspose(4, 3), (None, 7, 6, 3), (None, 9, 8, 4), 112, (2, 9, 8, 4)),
    (lambda: layers.Conv2DTranspose(2, (3, 2), strides=(2, 3)), (None, 7, 6, 3), (None, 15, 18, 2),
     38, (2, 15, 18, 2)),
    (lambda: layers.Conv2DTranspose(2, 4, strides=2, padding="same"), (None, 7, 6, 3),
     (None, 14, 12, 2), 98, (2, 14, 12, 2)),
    (lambda: layers.Conv2DTranspose(5, 3, strides=3, output_padding=(2, 1)), (None, 7, 6, 3),
     (None, 23, 19, 5), 140, (2, 23, 19, 5)),
    (lambda: layers.Conv2DTranspose(1, 1, strides=(2, 3)), (None, None, 6, 3), (None, None, 18, 1),
     4, (2, 16, 18, 1)),
    (lambda: layers.Conv2DTranspose(3, 5, strides=2, padding="same", output_padding=1),
     (None, 4, 4, 2), (None, 8, 8, 3), 153, (2, 8, 8, 3)),
]


@pytest.mark.parametrize("make, input_shape, output_shape, params, called", KERAS_SHAPES)
def test_shapes_and_parameters_as_in_keras(make, input_shape, output_shape, params, called):
    layer = make()
    assert layer.compute_output_shape(input_shape) == output_shape
    x = np.random.default_rng(0).random((2, *(8 if d is None else d for d in input_shape[1:])))
    assert layer(x).shape == called
    assert layer.kernel.shape == (*layer.kernel_size, layer.filters, input_shape[3])  # Keras's HWOI
    assert layer.count_params() == params


def test_weights_from_pytorch_dcgan_layer_give_its_outputs():
    """PyTorch's ``ConvTranspose2d(C, F, 4, stride=2, padding=1)`` (DCGAN's upsampling) is
    Keras's ``Conv2DTranspose(F, 4, strides=2, padding="same")``: its weight (C, F, kh, kw)
    transposed to (kh, kw, F, C) gives the same images."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    twin = torch.nn.ConvTranspose2d(3, 5, 4, stride=2, padding=1).double()
    layer = layers.Conv2DTranspose(5, 4, strides=2, padding="same", activation="tanh",
                                   dtype="float64")
    layer.build((None, 6, 7, 3))
    layer.set_weights([twin.weight.detach().numpy().transpose(2, 3, 1, 0), twin.bias.detach().numpy()])
    x = np.random.default_rng(1).normal(size=(2, 6, 7, 3))
    expected = torch.tanh(twin(torch.tensor(x.transpose(0, 3, 1, 2)))).detach().numpy()
    np.testing.assert_allclose(layer(x).numpy(), expected.transpose(0, 2, 3, 1), rtol=1e-10, atol=1e-12)


def test_keras_same_padding_crops_the_bottom_not_the_top():
    """For a 3x3 kernel at stride 2, "same" (TensorFlow) keeps the first 2n rows of the full
    (2n + 1)-row output; PyTorch's padding=1, output_padding=1 keeps the last 2n."""
    x = np.ones((1, 2, 2, 1), np.float32)
    layer = layers.Conv2DTranspose(1, 3, strides=2, padding="same", use_bias=False,
                                   kernel_initializer="ones")
    full = layers.Conv2DTranspose(1, 3, strides=2, use_bias=False, kernel_initializer="ones")
    np.testing.assert_array_equal(layer(x).numpy(), full(x).numpy()[:, :4, :4, :])


def test_layer_is_the_op_plus_the_activation():
    rng = np.random.default_rng(2)
    layer = layers.Conv2DTranspose(3, (2, 3), strides=(2, 1), padding="same", activation="relu",
                                   bias_initializer="random_normal")
    layer.build((None, 4, 5, 2))
    x = rng.normal(size=(2, 4, 5, 2)).astype(np.float32)
    expected = ops.relu(ops.conv2d_transpose(x, layer.kernel, layer.bias, (2, 1), "same"))
    np.testing.assert_allclose(layer(x).numpy(), expected.numpy(), rtol=1e-6)
    assert layer(x, training=True).numpy().tolist() == layer(x, training=False).numpy().tolist()


def test_is_a_conv2d_with_keras_config_and_alias():
    layer = layers.Conv2DTranspose(8, 3, strides=2, padding="same", output_padding=1,
                                   activation="relu", kernel_regularizer="l2")
    assert isinstance(layer, layers.Conv2D)  # as in Keras
    assert layers.Convolution2DTranspose is layers.Conv2DTranspose
    config = layer.get_config()
    assert config["output_padding"] == (1, 1) and config["strides"] == (2, 2)
    assert config["kernel_regularizer"] == {"module": "keras.regularizers", "class_name": "L2",
                                            "config": {"l2": 0.01}, "registered_name": None}
    assert layers.Conv2DTranspose(2, 3).get_config()["output_padding"] is None
    for copy in (layers.Conv2DTranspose.from_config(config), layers.deserialize(layers.serialize(layer))):
        assert type(copy) is layers.Conv2DTranspose and copy.get_config() == config


def test_float64_layer_and_regularizers():
    layer = layers.Conv2DTranspose(2, 3, dtype="float64", kernel_regularizer=regularizers.L2(0.1),
                                   bias_regularizer="l1", activity_regularizer="l2")
    y = layer(np.ones((2, 3, 3, 1)))
    assert y.dtype == np.float64 and layer.kernel.dtype == np.float64
    kernel_penalty = 0.1 * (layer.kernel.numpy() ** 2).sum()
    activity = 0.01 * (y.numpy() ** 2).sum() / 2
    assert [float(v) for v in layer.losses] == pytest.approx([activity, kernel_penalty, 0.0])


def generator(latent_dim=8):
    """A DCGAN generator, as in Keras's GAN examples: Dense -> Reshape -> transposed
    convolutions with strides 2 -> a sigmoid image."""
    return minidl.Sequential([
        minidl.Input(shape=(latent_dim,)),
        layers.Dense(7 * 7 * 16),
        layers.Activation("relu"),
        layers.Reshape((7, 7, 16)),
        layers.Conv2DTranspose(16, (4, 4), strides=(2, 2), padding="same", activation="relu"),
        layers.Conv2DTranspose(8, (4, 4), strides=(2, 2), padding="same", activation="relu"),
        layers.Conv2D(1, (7, 7), padding="same", activation="sigmoid"),
    ], name="generator")


def test_dcgan_generator_summary_as_keras_prints_it():
    """tf_keras 2's table for the same model (totals in Keras 2.x's tutorial format)."""
    lines = []
    generator().summary(print_fn=lines.append)
    assert [line.rstrip() for line in lines] == [
        'Model: "generator"', "_" * 65,
        " Layer (type)                Output Shape              Param #", "=" * 65,
        " dense (Dense)               (None, 784)               7056", "",
        " activation (Activation)     (None, 784)               0", "",
        " reshape (Reshape)           (None, 7, 7, 16)          0", "",
        " conv2d_transpose (Conv2DTr  (None, 14, 14, 16)        4112",
        " anspose)", "",
        " conv2d_transpose_1 (Conv2D  (None, 28, 28, 8)         2056",
        " Transpose)", "",
        " conv2d (Conv2D)             (None, 28, 28, 1)         393", "",
        "=" * 65,
        "Total params: 13,617", "Trainable params: 13,617", "Non-trainable params: 0",
    ]


def test_dcgan_generator_trains_saves_and_loads(tmp_path):
    minidl.utils.set_random_seed(0)
    model = generator()
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(16, 8)).astype(np.float32)
    images = (rng.random((16, 28, 28, 1)) > 0.5).astype(np.float32)
    model.compile("adam", "binary_crossentropy")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(noise, images, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert model.predict(noise, verbose=0).shape == (16, 28, 28, 1)
    model.save(tmp_path / "generator.mdl")
    loaded = load_model(tmp_path / "generator.mdl")
    np.testing.assert_array_equal(loaded.predict(noise, verbose=0), model.predict(noise, verbose=0))
    assert loaded.evaluate(noise, images, verbose=0) == pytest.approx(
        model.evaluate(noise, images, verbose=0))


@pytest.mark.parametrize("make, error, words", [
    (lambda: layers.Conv2DTranspose(0, 3), ValueError, ["conv2dtranspose", "filters", "received 0"]),
    (lambda: layers.Conv2DTranspose(2, (3, 0)), ValueError, ["conv2dtranspose", "kernel_size", "(3, 0)"]),
    (lambda: layers.Conv2DTranspose(2, 3, strides=2, output_padding=2), ValueError,
     ["conv2dtranspose", "output_padding", "smaller than the strides", "(2, 2)"]),
    (lambda: layers.Conv2DTranspose(2, 3, output_padding=(0, -1)), ValueError,
     ["conv2dtranspose", "output_padding", "(0, -1)"]),
    (lambda: layers.Conv2DTranspose(2, 3, padding="full"), ValueError, ["conv2dtranspose", "'full'"]),
    (lambda: layers.Conv2DTranspose(2, 3, strides=2, dilation_rate=2), ValueError,
     ["dilation_rate", "strides > 1"]),
    (lambda: layers.Conv2DTranspose(2, 3, dilation_rate=(1, 2)), ValueError,
     ["dilation_rate", "equal"]),
    (lambda: layers.Conv2DTranspose(2, 3, groups=2), ValueError, ["groups=2", "ignores"]),
    (lambda: layers.Conv2DTranspose(2, 3, data_format="NCHW"), ValueError, ["data_format", "nchw"]),
    (lambda: layers.Conv2DTranspose(2, 3, kernel_regularizer="l3"), ValueError,
     ["conv2dtranspose", "kernel_regularizer", "'l3'"]),
    (lambda: minidl.Sequential([minidl.Input((5, 5, 2)), layers.Conv2DTranspose(
        2, 4, strides=2, padding="same", output_padding=0)]), ValueError,
     ["conv2d_transpose", "output_padding=0", "size 8", "output_padding=none"]),
    (lambda: layers.Conv2DTranspose(2, 3)(np.ones((2, 5, 5))), ValueError,
     ["conv2d_transpose", "(none, height, width, channels)", "(2, 5, 5)", "channel axis"]),
])
def test_bad_arguments(make, error, words):
    with pytest.raises(error) as caught:
        make()
    message = str(caught.value).lower()
    assert all(word in message for word in words), message


def test_wrong_channels_at_call():
    layer = layers.Conv2DTranspose(2, 3)
    layer(np.ones((1, 4, 4, 3)))
    with pytest.raises(ValueError, match=r"expected shape \(None, height, width, 3\), received shape "
                                         r"\(1, 4, 4, 2\)"):
        layer(np.ones((1, 4, 4, 2)))
