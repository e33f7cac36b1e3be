"""Augmentation layers: RandomFlip, RandomRotation, RandomZoom, RandomTranslation,
RandomContrast -- random only while training, seeded, Keras 2's transforms."""

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl.models import load_model
from minidl.testing import gradcheck

AUGMENTATIONS = [
    lambda: layers.RandomFlip(),
    lambda: layers.RandomRotation(0.2),
    lambda: layers.RandomZoom(0.3, 0.1),
    lambda: layers.RandomTranslation(0.2, (-0.1, 0.3)),
    lambda: layers.RandomContrast(0.5),
]


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def images(n=8, height=6, width=7, channels=2, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (n, height, width, channels)).astype(np.float32)


def grid(n=2, height=4, width=5):
    return np.arange(n * height * width, dtype=np.float32).reshape(n, height, width, 1)


@pytest.mark.parametrize("make", AUGMENTATIONS)
def test_identity_unless_training_and_random_when_training(make):
    layer = make()
    x = images()
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    changed = [not np.array_equal(np.asarray(layer(x, training=True)), x) for _ in range(3)]
    assert any(changed)
    # As in Keras 2, a direct call without training= augments (call's training defaults to True)
    assert any(not np.array_equal(np.asarray(layer(x)), x) for _ in range(3))


@pytest.mark.parametrize("make", AUGMENTATIONS)
def test_predict_and_evaluate_leave_images_alone(make):
    model = minidl.Sequential([minidl.Input((6, 7, 2)), make()])
    x = images()
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    model.compile("sgd", "mse")
    assert model.evaluate(x, x, verbose=0) == 0.0


@pytest.mark.parametrize("make", AUGMENTATIONS)
def test_seeds_make_augmentation_repeatable(make):
    x = images()
    seeded = [type(make())(**{**make().get_config(), "name": None, "seed": 11}) for _ in range(2)]
    np.testing.assert_array_equal(np.asarray(seeded[0](x, training=True)),
                                  np.asarray(seeded[1](x, training=True)))
    minidl.utils.set_random_seed(12)
    first = np.asarray(make()(x, training=True))
    minidl.utils.set_random_seed(12)
    np.testing.assert_array_equal(np.asarray(make()(x, training=True)), first)


@pytest.mark.parametrize("make", AUGMENTATIONS)
def test_shapes_one_image_float64_and_config(make):
    layer = make()
    assert layer.compute_output_shape((None, 6, 7, 2)) == (None, 6, 7, 2)
    one = layer(images(1)[0], training=True)  # (H, W, C): one image, as Keras accepts
    assert one.shape == (6, 7, 2)
    config = layer.get_config()
    double = type(layer)(**{**config, "name": None, "dtype": "float64"})
    assert double(images(), training=True).dtype == np.float64
    copy = layers.deserialize(layers.serialize(layer))
    assert type(copy) is type(layer) and copy.get_config() == config
    assert layer.count_params() == 0


# --- each layer's transform, against tf_keras ------------------------------------------
# Values produced with tf_keras 2.21 (/work/tfvenv) on grid() = arange(40).reshape(2, 4, 5, 1),
# layer(grid(), training=True), with a factor range of one value so nothing is random.
TF_KERAS = {
    "rotation": (lambda: layers.RandomRotation((0.25, 0.25), interpolation="nearest",
                                               fill_mode="constant", fill_value=-1),
                 [[4, 9, 14, 18, -1], [3, 8, 13, 18, -1], [2, 7, 12, 16, -1], [-1, 6, 11, 15, -1]]),
    "zoom": (lambda: layers.RandomZoom((-0.5, -0.5), fill_mode="constant"),
             [[4.75, 5.25, 5.75, 6.25, 6.75], [7.25, 7.75, 8.25, 8.75, 9.25],
              [9.75, 10.25, 10.75, 11.25, 11.75], [12.25, 12.75, 13.25, 13.75, 14.25]]),
    "zoom_width": (lambda: layers.RandomZoom((0.5, 0.5), width_factor=(-0.2, -0.2),
                                             fill_mode="nearest"),
                   [[0.4, 1.2, 2, 2.8, 3.6], [4.15, 4.95, 5.75, 6.55, 7.35],
                    [11.65, 12.45, 13.25, 14.05, 14.85], [15.4, 16.2, 17, 17.8, 18.6]]),
    "translation": (lambda: layers.RandomTranslation((0.5, 0.5), (-0.2, -0.2), fill_mode="constant",
                                                     fill_value=-1),
                    [[-1, -1, -1, -1, -1], [-1, -1, -1, -1, -1], [1, 2, 3, 4, -1], [6, 7, 8, 9, -1]]),
    "translation_reflect": (lambda: layers.RandomTranslation((-0.25, -0.25), (0.4, 0.4),
                                                             interpolation="nearest"),
                            [[6, 5, 5, 6, 7], [11, 10, 10, 11, 12], [16, 15, 15, 16, 17],
                             [16, 15, 15, 16, 17]]),
}


@pytest.mark.parametrize("case", sorted(TF_KERAS))
def test_transforms_match_tf_keras(case):
    make, expected = TF_KERAS[case]
    out = np.asarray(make()(grid(), training=True))
    np.testing.assert_allclose(out[0, :, :, 0], expected, atol=1e-5)
    np.testing.assert_allclose(out[1, :, :, 0], np.array(expected) + 20 * (np.array(expected) >= 0),
                               atol=1e-5)


def test_a_quarter_turn_is_rot90():
    x = images(3, 5, 5, 2)
    out = layers.RandomRotation((0.25, 0.25))(x, training=True)
    np.testing.assert_allclose(np.asarray(out), np.rot90(x, axes=(1, 2)), atol=1e-3)


def test_random_ranges_of_the_transforms():
    rotation = layers.RandomRotation((-0.1, 0.05), seed=1).transforms(2000, 8, 8)
    angles = np.arctan2(rotation[:, 3], rotation[:, 0]) / (2 * np.pi)
    assert -0.1 <= angles.min() < -0.09 and 0.04 < angles.max() <= 0.05
    zoom = layers.RandomZoom(0.2, seed=2).transforms(2000, 8, 8)
    np.testing.assert_array_equal(zoom[:, 0], zoom[:, 4])  # width_factor=None keeps the aspect ratio
    assert 0.8 <= zoom[:, 4].min() < 0.81 and 1.19 < zoom[:, 4].max() <= 1.2
    shift = layers.RandomTranslation(0.25, (0.0, 0.5), seed=3).transforms(2000, 8, 10)
    assert -2 <= -shift[:, 5].max() < -1.9 and 1.9 < -shift[:, 5].min() <= 2  # +-25% of 8 rows
    assert -5 <= shift[:, 2].min() < -4.9 and shift[:, 2].max() <= 0  # 0 to 50% of 10 columns, right


def test_random_flip_modes():
    x = grid(200, 2, 3)
    for mode, allowed in (("horizontal", {"none", "h"}), ("vertical", {"none", "v"}),
                          ("horizontal_and_vertical", {"none", "h", "v", "hv"})):  # each 1/2 or 1/4
        out = np.asarray(layers.RandomFlip(mode, seed=4)(x, training=True))
        seen = []
        for original, flipped in zip(x, out):
            kinds = {"none": original, "h": original[:, ::-1], "v": original[::-1],
                     "hv": original[::-1, ::-1]}
            seen.append(next(k for k, v in kinds.items() if np.array_equal(v, flipped)))
        assert set(seen) == allowed
        assert all(abs(seen.count(kind) / 200 - 1 / len(allowed)) < 0.12 for kind in allowed)


def test_random_contrast_one_factor_for_the_batch():
    x = images(4, 5, 5, 3, seed=5) * 0.5 + 60  # values in [60, 188): no clipping below factor 1.5
    out = np.asarray(layers.RandomContrast((0.3, 0.5), seed=6)(x, training=True))
    mean = x.mean(axis=(1, 2), keepdims=True)
    factor = (out - mean) / (x - mean)
    assert np.allclose(factor, factor.flat[0], rtol=1e-3)  # one factor for all, as tf_keras draws it
    assert 0.7 <= factor.flat[0] <= 1.5
    clipped = np.asarray(layers.RandomContrast((0.0, 1.0), seed=7)(images(), training=True))
    assert clipped.min() >= 0 and clipped.max() <= 255


def test_gradients_flow_back_through_the_augmentations():
    x = minidl.Tensor(grid(2, 3, 4), requires_grad=True)
    layers.RandomFlip(seed=8)(x, training=True).sum().backward()
    np.testing.assert_array_equal(x.grad, np.ones_like(x.data))
    start = images(2, 4, 5, 1, seed=9).astype(np.float64)
    for layer in (layers.RandomRotation((0.1, 0.1), dtype="float64"),
                  layers.RandomZoom((0.2, 0.2), (-0.3, -0.3), fill_mode="wrap", dtype="float64"),
                  layers.RandomTranslation((0.3, 0.3), (0.1, 0.1), fill_mode="constant",
                                           dtype="float64")):  # one-value ranges: not random
        gradcheck(lambda t, layer=layer: layer(t, training=True), [start / 255])
    # the contrast factor cannot be pinned: a fresh layer with the same seed draws the same one
    gradcheck(lambda t: layers.RandomContrast(0.5, seed=3, dtype="float64")(t, training=True),
              [start / 255])


def test_augmentation_in_a_cnn_trained_with_fit_and_saved(tmp_path):
    minidl.utils.set_random_seed(0)
    model = minidl.Sequential([
        minidl.Input((8, 8, 3)),
        layers.Rescaling(1 / 255),
        layers.RandomFlip("horizontal"),
        layers.RandomRotation(0.1),
        layers.RandomZoom(0.1),
        layers.RandomTranslation(0.1, 0.1, fill_mode="nearest"),
        layers.RandomContrast(0.2),
        layers.Conv2D(4, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Flatten(),
        layers.Dense(2, activation="softmax"),
    ])
    lines = []
    model.summary(print_fn=lines.append)
    assert any(line.startswith(" random_rotation (RandomRot  (None, 8, 8, 3)           0") for line in lines)
    assert "Trainable params: 186" in lines  # only the Conv2D's 112 and the Dense's 74
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    x = images(16, 8, 8, 3, seed=10)
    y = (x[..., 0].mean(axis=(1, 2)) > 127.5).astype(np.int64)
    history = model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    predictions = model.predict(x, verbose=0)
    np.testing.assert_array_equal(model.predict(x, verbose=0), predictions)  # no augmentation
    path = tmp_path / "augmenting.mdl"
    model.save(path)
    np.testing.assert_array_equal(load_model(path).predict(x, verbose=0), predictions)


def test_bad_arguments_name_the_layer():
    with pytest.raises(ValueError, match=r'RandomFlip layer "random_flip": mode must be one of'):
        layers.RandomFlip("diagonal")
    with pytest.raises(ValueError, match=r"fill_mode must be one of \('reflect', 'wrap', 'constant', "):
        layers.RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match="interpolation must be one of"):
        layers.RandomZoom(0.1, interpolation="bicubic")
    with pytest.raises(ValueError, match="upper bound below its lower bound"):
        layers.RandomRotation(-0.1)
    with pytest.raises(ValueError, match=r"height_factor must have values in \[-1.0, 1.0\]"):
        layers.RandomTranslation(1.5, 0.1)
    with pytest.raises(ValueError, match="width_factor must have values of at least -1"):
        layers.RandomZoom(0.1, width_factor=(-1.5, 0.0))
    with pytest.raises(ValueError, match="factor must be a number or a pair"):
        layers.RandomRotation("10 degrees")
    with pytest.raises(ValueError, match=r"factor must be in \[0, 1\]"):
        layers.RandomContrast(1.5)
    with pytest.raises(TypeError, match="fill_value must be a number"):
        layers.RandomZoom(0.1, fill_value="black")
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        layers.RandomFlip(seed=-1)
    with pytest.raises(ValueError, match=r"expects channels-last images.*\(None, 28, 28\)"):
        minidl.Sequential([minidl.Input((28, 28)), layers.RandomFlip()])
