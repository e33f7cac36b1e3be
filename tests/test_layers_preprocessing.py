"""Preprocessing layers: Normalization (adapt, state saved as weights, invert),
Rescaling, Resizing, CenterCrop."""

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl.models import load_model


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def summary_lines(model):
    lines = []
    model.summary(print_fn=lines.append)
    return lines


def assert_config_round_trip(layer):
    copy = layers.deserialize(layers.serialize(layer))
    assert type(copy) is type(layer)
    assert copy.get_config() == layer.get_config()
    return copy


def assert_saves_and_loads(model, x, tmp_path):
    path = tmp_path / "model.mdl"
    expected = model.predict(x, verbose=0)
    model.save(path)
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), expected)
    return loaded


# --- Normalization ------------------------------------------------------------------
def features(n=200, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, 3)) * [1.0, 10.0, 0.1] + [5.0, -20.0, 0.3]).astype(np.float32)


def test_normalization_adapt_standardises_each_feature():
    x = features()
    layer = layers.Normalization()
    layer.adapt(x)
    np.testing.assert_allclose(layer.adapt_mean.numpy(), x.astype(np.float64).mean(0), rtol=1e-6)
    assert layer.mean.shape == (1, 3) and layer.variance.shape == (1, 3)  # as tf_keras's layer.mean
    np.testing.assert_allclose(layer.adapt_variance.numpy(), x.astype(np.float64).var(0), rtol=1e-5)
    assert layer.count.numpy() == 200
    y = np.asarray(layer(x))
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(0), 1, rtol=1e-5)
    assert y.dtype == np.float32


def test_normalization_weights_and_params_like_keras():
    """tf_keras: Normalization().adapt(np.arange(12.).reshape(4, 3)) has weights mean (3,),
    variance (3,), count () -- 7 parameters, all non-trainable."""
    layer = layers.Normalization()
    layer.adapt(np.arange(12.0).reshape(4, 3))
    assert [(w.name, w.shape) for w in layer.weights] == [
        ("normalization/mean", (3,)), ("normalization/variance", (3,)), ("normalization/count", ())]
    assert layer.trainable_weights == [] and layer.count_params() == 7
    # Keras's doc example output: (x - 4.5) / sqrt(11.25)
    np.testing.assert_allclose(np.asarray(layer(np.arange(6.0).reshape(2, 3))),
                               [[-1.3416408] * 3, [-0.4472136] * 3], rtol=1e-6)


def test_normalization_summary_counts_its_state():
    layer = layers.Normalization()
    layer.adapt(features())
    model = minidl.Sequential([minidl.Input((3,)), layer, layers.Dense(1)])
    lines = summary_lines(model)
    assert any(line.startswith(" normalization (Normalizati  (None, 3)") and line.rstrip().endswith(" 7")
               for line in lines)
    assert "Trainable params: 4" in lines and "Non-trainable params: 7" in lines


def test_normalization_adapt_on_batches_gives_the_statistics_of_the_whole():
    x = features(333)
    whole = layers.Normalization()
    whole.adapt(x)
    for data in ([x[:100], x[100:250], x[250:]],              # a list of batches
                 (x[i:i + 64] for i in range(0, 333, 64))):    # a generator
        batched = layers.Normalization()
        batched.adapt(data)
        for a, b in zip(batched.get_weights(), whole.get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5)
    small_batches = layers.Normalization()
    small_batches.adapt(x, batch_size=7)
    np.testing.assert_allclose(small_batches.adapt_variance.numpy(), whole.adapt_variance.numpy(),
                               rtol=1e-5)
    first_two = layers.Normalization()
    first_two.adapt([x[:100], x[100:250], x[250:]], steps=2)
    assert first_two.count.numpy() == 250


def test_normalization_adapt_again_starts_afresh():
    layer = layers.Normalization(axis=None)
    layer.adapt([0.0, 2.0])  # Keras's doc example: then predict([0, 1, 2]) is [-1, 0, 1]
    np.testing.assert_allclose(np.asarray(layer(np.array([0.0, 1.0, 2.0]))), [-1, 0, 1])
    layer.adapt([-1.0, 1.0])
    np.testing.assert_allclose(np.asarray(layer(np.array([0.0, 1.0, 2.0]))), [0, 1, 2])
    assert layer.count.numpy() == 2


def test_normalization_axes_for_images():
    rng = np.random.default_rng(1)
    images = rng.uniform(0, 255, (6, 4, 5, 3))
    per_channel = layers.Normalization()
    per_channel.adapt(images)
    assert per_channel.adapt_mean.shape == (3,) and per_channel.count.numpy() == 6 * 4 * 5
    np.testing.assert_allclose(per_channel.adapt_mean.numpy(), images.mean(axis=(0, 1, 2)), rtol=1e-5)
    per_pixel = layers.Normalization(axis=(1, 2))  # tf_keras: weights of shape (4, 5), (4, 5), ()
    per_pixel.adapt(images)
    assert [w.shape for w in per_pixel.weights] == [(4, 5), (4, 5), ()]
    np.testing.assert_allclose(per_pixel.adapt_variance.numpy(), images.var(axis=(0, 3)), rtol=1e-5)
    overall = layers.Normalization(axis=None)
    overall.adapt(images)
    assert overall.adapt_mean.shape == () and overall.count_params() == 3
    y = np.asarray(overall(images))
    assert abs(y.mean()) < 1e-5 and abs(y.std() - 1) < 1e-5


def test_normalization_adapted_first_layer_builds_a_sequential():
    """Keras's adapt() remembers the input shape, so ``Sequential([normalizer, Dense(64)])``
    is built at once (the regression tutorial's summary() of it)."""
    normalizer = layers.Normalization(axis=-1)
    normalizer.adapt(np.random.default_rng(0).normal(size=(20, 9)))
    model = minidl.Sequential([normalizer, layers.Dense(64), layers.Dense(1)])
    lines = summary_lines(model)
    assert lines[4].split()[2:] == ["(None,", "9)", "19"]
    assert "Total params: 724" in lines
    assert model.predict(np.ones((3, 9)), verbose=0).shape == (3, 1)


def test_normalization_axis_none_adapted_on_1d_data_with_input_shape():
    """The regression tutorial: ``Normalization(input_shape=[1,], axis=None)`` adapted
    on a 1-D column keeps its declared (None, 1), takes inputs of any shape (two numbers
    do the work) and predicts on the 1-D column as tf.keras does."""
    horsepower = np.random.default_rng(0).uniform(50, 200, 40)
    normalizer = layers.Normalization(input_shape=[1,], axis=None)
    normalizer.adapt(horsepower)
    np.testing.assert_allclose(normalizer.mean.numpy().ravel(), [horsepower.mean()], rtol=1e-6)
    model = minidl.Sequential([normalizer, layers.Dense(1)])
    assert summary_lines(model)[4].split()[2:] == ["(None,", "1)", "3"]
    assert model.predict(horsepower[:10], verbose=0).shape == (10, 1)
    expected = (horsepower[:5] - horsepower.mean()) / horsepower.std()
    np.testing.assert_allclose(normalizer(horsepower[:5]).numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(normalizer(horsepower[:5, None]).numpy(), expected[:, None],
                               rtol=1e-5)


def test_normalization_with_given_mean_and_variance_and_invert():
    layer = layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[1.0, 4.0, 9.0])
    x = np.array([[1.0, 4.0, 0.0]])
    np.testing.assert_allclose(np.asarray(layer(x)), [[0.0, 1.0, -1.0]])
    assert layer.weights == [] and layer.count_params() == 0  # as in tf_keras: constants, no weights
    inverse = layers.Normalization(mean=2.0, variance=4.0, invert=True)
    np.testing.assert_allclose(np.asarray(inverse(np.array([[0.0, 1.0]]))), [[2.0, 4.0]])  # tf_keras
    adapted = layers.Normalization(invert=True)
    adapted.adapt(features())
    forward = layers.Normalization(mean=adapted.adapt_mean.numpy(),
                                   variance=adapted.adapt_variance.numpy())
    x = features(5, seed=2)
    np.testing.assert_allclose(np.asarray(adapted(forward(x))), x, rtol=1e-5)


def test_normalization_constant_feature_divides_by_epsilon_not_zero():
    layer = layers.Normalization()
    layer.adapt(np.ones((4, 2)))
    np.testing.assert_array_equal(np.asarray(layer(np.ones((1, 2)))), [[0.0, 0.0]])


def test_normalization_gradient_and_float64():
    layer = layers.Normalization(mean=1.0, variance=4.0, dtype="float64")
    x = minidl.Tensor(np.array([[3.0, 5.0]]), requires_grad=True)
    y = layer(x)
    assert y.dtype == np.float64
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [[0.5, 0.5]])


def test_normalization_config_round_trip():
    for layer in (layers.Normalization(), layers.Normalization(axis=(1, 2), invert=True),
                  layers.Normalization(axis=None, mean=0.5, variance=2.0),
                  layers.Normalization(mean=np.array([1.0, 2.0]), variance=[3.0, 4.0])):
        assert_config_round_trip(layer)
    assert layers.Normalization(mean=np.array([1.0, 2.0]), variance=[3.0, 4.0]).get_config()[
        "mean"] == [1.0, 2.0]


def test_normalization_saves_its_adapted_state(tmp_path):
    layer = layers.Normalization()
    layer.adapt(features())
    model = minidl.Sequential([minidl.Input((3,)), layer, layers.Dense(2)])
    loaded = assert_saves_and_loads(model, features(7, seed=3), tmp_path)
    restored = loaded.layers[0]
    np.testing.assert_array_equal(restored.adapt_mean.numpy(), layer.adapt_mean.numpy())
    assert restored.count.shape == () and restored.count.numpy() == 200


def test_normalization_bad_arguments():
    with pytest.raises(ValueError, match="give both mean and variance"):
        layers.Normalization(mean=1.0)
    with pytest.raises(ValueError, match=r'Normalization layer "normalization_1": axis must be'):
        layers.Normalization(axis="last")
    with pytest.raises(ValueError, match="variance must not be negative"):
        layers.Normalization(mean=0.0, variance=-1.0)
    with pytest.raises(ValueError, match=r"axis \(3,\) is out of range for input shape \(None, 3\)"):
        layers.Normalization(axis=3).build((None, 3))
    with pytest.raises(ValueError, match=r"need shape \(3,\)"):
        layers.Normalization(mean=[1.0, 2.0], variance=[1.0, 1.0]).build((None, 3))
    given = layers.Normalization(mean=0.0, variance=1.0)
    with pytest.raises(ValueError, match="cannot also adapt"):
        given.adapt(features())


def test_normalization_adapt_refuses_bad_data():
    layer = layers.Normalization()
    with pytest.raises(ValueError, match="NaN or infinite"):
        layer.adapt(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="received no data"):
        layers.Normalization().adapt(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="needs an array of numbers"):
        layers.Normalization().adapt([["a", "b"]])
    with pytest.raises(TypeError, match="inputs only"):
        layers.Normalization().adapt(iter([(np.ones((2, 3)), np.ones(2))]))
    adapted = layers.Normalization()
    adapted.adapt(features())
    with pytest.raises(ValueError, match=r"batch of shape \(2, 4\), the layer was built for shape"):
        adapted.adapt(np.ones((2, 4)))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        layers.Normalization().adapt(features(), batch_size=0)


# --- Rescaling ----------------------------------------------------------------------
def test_rescaling_values_and_config():
    layer = layers.Rescaling(scale=1 / 127.5, offset=-1)
    np.testing.assert_allclose(np.asarray(layer(np.array([[0.0, 127.5, 255.0]]))), [[-1.0, 0.0, 1.0]])
    assert layer.get_config()["scale"] == 1 / 127.5 and layer.get_config()["offset"] == -1.0
    assert_config_round_trip(layer)
    per_channel = layers.Rescaling([1.0, 0.5, 0.25])
    np.testing.assert_allclose(np.asarray(per_channel(np.ones((1, 2, 2, 3))))[0, 0, 0], [1.0, 0.5, 0.25])
    assert_config_round_trip(per_channel)
    uint8 = layers.Rescaling(1 / 255)(np.full((1, 2), 255, np.uint8))
    assert uint8.dtype == np.float32 and np.allclose(np.asarray(uint8), 1.0)


def test_rescaling_gradient_shape_summary_and_errors():
    x = minidl.Tensor(np.ones((2, 3)), requires_grad=True)
    layers.Rescaling(3.0, 1.0)(x).sum().backward()
    np.testing.assert_array_equal(x.grad, np.full((2, 3), 3.0, np.float32))
    model = minidl.Sequential([minidl.Input((4, 4, 3)), layers.Rescaling(0.5)])
    assert model.output_shape == (None, 4, 4, 3) and model.count_params() == 0
    with pytest.raises(ValueError, match=r'Rescaling layer "rescaling_\d+": scale must be a finite'):
        layers.Rescaling("1/255")
    with pytest.raises(ValueError, match="offset must be a finite number"):
        layers.Rescaling(1.0, offset=float("nan"))


# --- Resizing and CenterCrop ---------------------------------------------------------
def grid(height, width, batch=1):
    return np.arange(batch * height * width, dtype=np.float32).reshape(batch, height, width, 1)


def test_resizing_values_shapes_and_modes():
    # tf.image.resize(np.arange(6.).reshape(1, 2, 3, 1), (3, 5)) (tf_keras Resizing calls it)
    out = np.asarray(layers.Resizing(3, 5)(grid(2, 3)))
    np.testing.assert_allclose(out[0, :, :, 0], [[0, 0.4, 1, 1.6, 2], [1.5, 1.9, 2.5, 3.1, 3.5],
                                                 [3, 3.4, 4, 4.6, 5]], atol=1e-6)
    nearest = np.asarray(layers.Resizing(3, 5, interpolation="nearest")(grid(2, 3)))
    np.testing.assert_array_equal(nearest[0, :, :, 0], [[0, 0, 1, 2, 2], [3, 3, 4, 5, 5], [3, 3, 4, 5, 5]])
    # crop_to_aspect_ratio: 4x6 -> the centred 4x4 window -> 2x2 (tf_keras: [[4.5, 6.5], [16.5, 18.5]])
    cropped = np.asarray(layers.Resizing(2, 2, crop_to_aspect_ratio=True)(grid(4, 6)))
    np.testing.assert_allclose(cropped[0, :, :, 0], [[4.5, 6.5], [16.5, 18.5]])
    one_image = layers.Resizing(5, 7)(grid(2, 3)[0])  # (H, W, C) without a batch axis
    assert one_image.shape == (5, 7, 1)
    layer = layers.Resizing(8, 9)
    assert layer.compute_output_shape((None, 4, 4, 3)) == (None, 8, 9, 3)
    assert layer.compute_output_shape((4, 4, 3)) == (8, 9, 3)


def test_center_crop_values_and_upsizing():
    # tf_keras CenterCrop(3, 3) of a 4x6 grid: rows 0-2, columns 1-3
    out = np.asarray(layers.CenterCrop(3, 3)(grid(4, 6)))
    np.testing.assert_array_equal(out[0, :, :, 0], [[1, 2, 3], [7, 8, 9], [13, 14, 15]])
    # too small: resized as crop_to_aspect_ratio (tf_keras: column 2, stretched to 5 rows)
    up = np.asarray(layers.CenterCrop(5, 2)(grid(4, 6)))
    np.testing.assert_allclose(up[0, :, :, 0], [[2, 2], [6.2, 6.2], [11, 11], [15.8, 15.8], [20, 20]],
                               rtol=1e-6)


def test_resizing_and_center_crop_gradients():
    x = minidl.Tensor(grid(4, 6, batch=2), requires_grad=True)
    layers.CenterCrop(2, 3)(x).sum().backward()
    expected = np.zeros((2, 4, 6, 1), np.float32)
    expected[:, 1:3, 1:4] = 1
    np.testing.assert_array_equal(x.grad, expected)
    x = minidl.Tensor(grid(4, 6), requires_grad=True)
    layers.Resizing(2, 3)(x).sum().backward()  # each output reads the mean of 2x2 pixels
    np.testing.assert_allclose(x.grad, np.full((1, 4, 6, 1), 0.25), rtol=1e-6)


def test_image_preprocessing_in_a_model_summary_config_and_save(tmp_path):
    model = minidl.Sequential([
        minidl.Input((10, 12, 3)),
        layers.Resizing(8, 8, interpolation="nearest", crop_to_aspect_ratio=True),
        layers.CenterCrop(6, 5),
        layers.Rescaling(1 / 255),
        layers.Conv2D(2, 3),
    ])
    lines = summary_lines(model)
    assert any(line.startswith(" resizing (Resizing)         (None, 8, 8, 3)           0") for line in lines)
    assert any(line.startswith(" center_crop (CenterCrop)    (None, 6, 5, 3)           0") for line in lines)
    for layer in model.layers[:3]:
        assert_config_round_trip(layer)
    x = np.random.default_rng(0).uniform(0, 255, (3, 10, 12, 3)).astype(np.float32)
    assert_saves_and_loads(model, x, tmp_path)


def test_resizing_and_center_crop_bad_arguments():
    with pytest.raises(ValueError, match=r'Resizing layer "resizing": height must be a positive'):
        layers.Resizing(0, 4)
    with pytest.raises(ValueError, match="interpolation must be 'bilinear' or 'nearest'"):
        layers.Resizing(4, 4, interpolation="bicubic")
    with pytest.raises(ValueError, match="width must be a positive integer, received 2.5"):
        layers.CenterCrop(2, 2.5)
    with pytest.raises(ValueError, match=r"expects channels-last images.*\(None, 28, 28\)\..*channel axis"):
        minidl.Sequential([minidl.Input((28, 28)), layers.CenterCrop(20, 20)])


def test_keras_2_experimental_preprocessing_names():
    from minidl import keras

    preprocessing = keras.layers.experimental.preprocessing
    assert preprocessing.Rescaling is layers.Rescaling and preprocessing.RandomFlip is layers.RandomFlip
    assert preprocessing.Normalization is layers.Normalization


def test_keras_2_experimental_preprocessing_imports_as_a_module():
    """TensorFlow 2.3-2.5 tutorials: `from tensorflow.keras.layers.experimental import
    preprocessing`; tf_keras 2.21's module holds the same names (and EinsumDense above it)."""
    from minidl.keras.layers.experimental import EinsumDense, preprocessing
    from minidl.keras.layers.experimental.preprocessing import Normalization, TextVectorization

    assert Normalization is layers.Normalization and TextVectorization is layers.TextVectorization
    assert EinsumDense is layers.EinsumDense
    # tf_keras 2.21: dir(tf_keras.layers.experimental.preprocessing), less PreprocessingLayer
    assert sorted(preprocessing.__all__) == [
        "CategoryEncoding", "CenterCrop", "Discretization", "HashedCrossing", "Hashing",
        "IntegerLookup", "Normalization", "RandomContrast", "RandomCrop", "RandomFlip",
        "RandomHeight", "RandomRotation", "RandomTranslation", "RandomWidth", "RandomZoom",
        "Rescaling", "Resizing", "StringLookup", "TextVectorization"]
    assert all(getattr(preprocessing, name) is getattr(layers, name) for name in preprocessing.__all__)
    normalizer = preprocessing.Normalization(axis=-1)
    normalizer.adapt(np.array([[1.0], [3.0]]))
    np.testing.assert_allclose(normalizer(np.array([[2.0]])).numpy(), [[0.0]])
