"""A learner's mistakes, through the public API: each ends in a message that teaches.

Every mistake here must raise ValueError or TypeError (FileNotFoundError for a
path) whose message names the thing that is wrong, the value received and what
was expected.  A mistake caught by ``fit()`` must be caught before the first
step: the weights and the optimizer's state are bitwise the same afterwards.
"""

import numpy as np
import pytest

import minidl
from minidl import layers, optimizers
from minidl.utils import to_categorical

RNG = np.random.default_rng(0)
X = RNG.random((24, 4)).astype(np.float32)
Y = np.arange(24) % 3
IMAGES = RNG.random((24, 6, 6, 1)).astype(np.float32)


def check_message(error, words):
    """Every word (the thing, the value received, what was expected) is in the message."""
    message = str(error.value).lower()
    missing = [w for w in words if w.lower() not in message]
    assert not missing, f"message {str(error.value)!r} does not mention {missing}"


# --- models a learner would have, each trained one epoch so the optimizer has state ---
def classifier():
    model = minidl.Sequential([
        layers.Dense(8, activation="relu", input_shape=(4,)),
        layers.Dense(3, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(X, Y, epochs=1, batch_size=8, verbose=0)
    return model


def onehot_classifier():
    model = minidl.Sequential([layers.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile("rmsprop", "categorical_crossentropy", ["accuracy"])
    model.fit(X, to_categorical(Y, 3), epochs=1, batch_size=8, verbose=0)
    return model


def flat_image_classifier():
    model = minidl.Sequential([layers.Dense(3, activation="softmax", input_shape=(36,))])
    model.compile(optimizers.SGD(0.1, momentum=0.9), "sparse_categorical_crossentropy")
    model.fit(IMAGES.reshape(24, 36), Y, epochs=1, batch_size=8, verbose=0)
    return model


def cnn():
    model = minidl.Sequential([
        layers.Conv2D(2, 3, activation="relu", input_shape=(6, 6, 1)),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(3, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(IMAGES, Y, epochs=1, batch_size=8, verbose=0)
    return model


def cnn_without_flatten():
    model = minidl.Sequential([
        layers.Conv2D(2, 3, activation="relu", input_shape=(6, 6, 1)),
        layers.Dense(3, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def regressor():
    model = minidl.Sequential([layers.Dense(1, input_shape=(4,))])
    model.compile("sgd", "mse", ["mae"])
    model.fit(X, Y.astype(np.float32), epochs=1, batch_size=8, verbose=0)
    return model


def binary_classifier():
    model = minidl.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(4,))])
    model.compile("adam", "binary_crossentropy", ["accuracy"])
    model.fit(X, Y % 2, epochs=1, batch_size=8, verbose=0)
    return model


GOOD_DATA = {
    classifier: (X, Y),
    onehot_classifier: (X, to_categorical(Y, 3)),
    flat_image_classifier: (IMAGES.reshape(24, 36), Y),
    cnn: (IMAGES, Y),
    regressor: (X, Y.astype(np.float32)),
    binary_classifier: (X, Y % 2),
}


def with_nan(array, index=(3, 1), value=np.nan):
    array = np.array(array, dtype=np.float32)
    array[index] = value
    return array


# --- mistakes caught by fit(): (id, model, fit arguments, error, words in the message) ---
FIT_MISTAKES = [
    ("label-too-large", classifier, dict(x=X, y=np.full(24, 3)), ValueError, ["y", "3", "[0, 2]"]),
    ("label-negative", classifier, dict(x=X, y=-(Y + 1)), ValueError, ["y", "-3", ">= 0"]),
    ("onehot-with-sparse-loss", classifier, dict(x=X, y=to_categorical(Y, 3)), ValueError,
     ["y", "(24, 3)", "(N,)", "categorical_crossentropy"]),
    ("integers-with-categorical-loss", onehot_classifier, dict(x=X, y=Y), ValueError,
     ["y", "(24,)", "one-hot", "to_categorical"]),
    ("onehot-wrong-width", onehot_classifier, dict(x=X, y=to_categorical(Y, 4)), ValueError,
     ["y", "4 columns", "3 classes"]),
    ("nan-in-x", classifier, dict(x=with_nan(X), y=Y), ValueError, ["x", "nan", "non-finite"]),
    ("inf-in-x", classifier, dict(x=with_nan(X, value=np.inf), y=Y), ValueError, ["x", "inf"]),
    ("nan-in-y", regressor, dict(x=X, y=with_nan(Y, (5,))), ValueError, ["y", "nan"]),
    ("inf-in-onehot-y", onehot_classifier, dict(x=X, y=with_nan(to_categorical(Y, 3), value=-np.inf)),
     ValueError, ["y", "inf"]),
    ("len-x-differs-from-len-y", classifier, dict(x=X, y=Y[:10]), ValueError,
     ["x", "y", "len(x)=24", "len(y)=10"]),
    ("empty-x", classifier, dict(x=X[:0], y=Y[:0]), ValueError, ["x", "empty", "(0, 4)"]),
    ("empty-list", classifier, dict(x=[], y=[]), ValueError, ["x", "empty"]),
    ("wrong-feature-count", classifier, dict(x=RNG.random((24, 5)), y=Y), ValueError,
     ["x", "(4,)", "(24, 5)"]),
    ("images-into-dense-needs-flatten", flat_image_classifier, dict(x=IMAGES[..., 0], y=Y), ValueError,
     ["x", "(36,)", "(24, 6, 6)", "flatten"]),
    ("one-sample-without-batch-axis", classifier, dict(x=X[0], y=Y[:1]), ValueError, ["x", "(4,)"]),
    ("images-without-channel-axis", cnn, dict(x=IMAGES[..., 0], y=Y), ValueError,
     ["x", "(6, 6, 1)", "(24, 6, 6)", "reshape"]),
    ("wrong-channel-count", cnn, dict(x=np.repeat(IMAGES, 3, axis=-1), y=Y), ValueError,
     ["x", "(6, 6, 1)", "(24, 6, 6, 3)"]),
    ("object-array", classifier, dict(x=np.array([[1, 2, 3, "a"]] * 24, dtype=object), y=Y), ValueError,
     ["x", "object", "float32"]),
    ("string-array", classifier, dict(x=np.array([["1", "2", "3", "4"]] * 24), y=Y), ValueError,
     ["x", "strings", "numbers"]),
    ("string-labels", classifier, dict(x=X, y=np.array(["cat", "dog", "cow"] * 8)), ValueError,
     ["y", "strings"]),
    ("ragged-list", classifier, dict(x=[[1, 2, 3, 4], [1, 2]] * 12, y=Y), ValueError, ["x", "rectangular"]),
    ("fractional-class-labels", classifier, dict(x=X, y=Y + 0.5), ValueError, ["y", "whole numbers", "0.5"]),
    ("regression-target-shape", regressor, dict(x=X, y=RNG.random((24, 3))), ValueError,
     ["y", "(24, 3)", "(1,)"]),
    ("x-none", classifier, dict(x=None, y=Y), ValueError, ["x", "none"]),
    ("y-none", classifier, dict(x=X, y=None), ValueError, ["y", "none"]),
    ("batch-size-zero", classifier, dict(x=X, y=Y, batch_size=0), ValueError, ["batch_size", "0", "positive"]),
    ("batch-size-negative", classifier, dict(x=X, y=Y, batch_size=-8), ValueError, ["batch_size", "-8"]),
    ("batch-size-string", classifier, dict(x=X, y=Y, batch_size="32"), ValueError, ["batch_size", "'32'"]),
    ("epochs-zero", classifier, dict(x=X, y=Y, epochs=0), ValueError, ["epochs", "0", "positive"]),
    ("epochs-negative", classifier, dict(x=X, y=Y, epochs=-1), ValueError, ["epochs", "-1"]),
    ("epochs-fractional", classifier, dict(x=X, y=Y, epochs=2.5), ValueError, ["epochs", "2.5", "integer"]),
    ("verbose", classifier, dict(x=X, y=Y, verbose=5), ValueError, ["verbose", "5", "0, 1 or 2"]),
    ("validation-split-one", classifier, dict(x=X, y=Y, validation_split=1.0), ValueError,
     ["validation_split", "1.0", "[0, 1)"]),
    ("validation-split-negative", classifier, dict(x=X, y=Y, validation_split=-0.2), ValueError,
     ["validation_split", "-0.2", "[0, 1)"]),
    ("validation-split-percent", classifier, dict(x=X, y=Y, validation_split=20), ValueError,
     ["validation_split", "20", "[0, 1)"]),
    ("validation-data-wrong-features", classifier, dict(x=X, y=Y, validation_data=(RNG.random((5, 7)), Y[:5])),
     ValueError, ["validation_data[0]", "(4,)", "(5, 7)"]),
    ("validation-data-not-a-tuple", classifier, dict(x=X, y=Y, validation_data=X[:5]), ValueError,
     ["validation_data", "tuple", "ndarray"]),
    ("validation-data-bad-labels", classifier, dict(x=X, y=Y, validation_data=(X[:5], np.full(5, 7))),
     ValueError, ["validation_data[1]", "7", "[0, 2]"]),
    ("validation-data-lengths", classifier, dict(x=X, y=Y, validation_data=(X[:5], Y[:3])), ValueError,
     ["validation_data[0]", "validation_data[1]", "=5", "=3"]),
    ("validation-data-nan", classifier, dict(x=X, y=Y, validation_data=(with_nan(X[:5]), Y[:5])), ValueError,
     ["validation_data[0]", "nan"]),
    ("misspelled-fit-argument", classifier, dict(x=X, y=Y, epoch=3), TypeError, ["fit()", "epoch"]),
    ("callback-given-by-name", classifier, dict(x=X, y=Y, callbacks=["early_stopping"]), TypeError,
     ["callbacks", "early_stopping", "str"]),
    ("initial-epoch-past-epochs", classifier, dict(x=X, y=Y, epochs=2, initial_epoch=5), ValueError,
     ["initial_epoch", "5", "epochs=2"]),
    ("binary-labels-outside-0-1", binary_classifier, dict(x=X, y=Y), ValueError, ["y", "2", "[0, 1]"]),
    ("dense-on-feature-maps-needs-flatten", cnn_without_flatten, dict(x=IMAGES, y=Y), ValueError,
     ["dense", "(None, 4, 4, 3)", "flatten"]),
]


def as_params(cases):
    """(id, *values) tuples as pytest params named by their id."""
    return [pytest.param(*case[1:], id=case[0]) for case in cases]


def snapshot(model):
    """Copies of every weight and of the optimizer's whole state (iterations and slots)."""
    weights = [np.array(w.data, copy=True) for w in model.weights]
    optimizer = model.optimizer
    state = optimizer.get_state(list(model.trainable_weights))
    config = optimizer.get_config()
    return weights, state["iterations"], state["slots"], config


def assert_bitwise_equal(before, after):
    (w0, it0, slots0, config0), (w1, it1, slots1, config1) = before, after
    assert len(w0) == len(w1)
    for a, b in zip(w0, w1):
        assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(), "a weight changed"
    assert it0 == it1, "optimizer.iterations changed"
    for per_weight0, per_weight1 in zip(slots0, slots1):
        for a, b in zip(per_weight0, per_weight1):
            assert a.tobytes() == b.tobytes(), "an optimizer slot changed"
    assert config0 == config1


@pytest.mark.parametrize("make_model,fit_args,error,words", as_params(FIT_MISTAKES))
def test_refused_fit_changes_nothing(make_model, fit_args, error, words):
    model = make_model()
    before = snapshot(model)
    with pytest.raises(error) as caught:
        model.fit(**{"verbose": 0, **fit_args})
    check_message(caught, words)
    assert_bitwise_equal(before, snapshot(model))
    # and the model still trains afterwards on good data
    if make_model in GOOD_DATA:
        x, y = GOOD_DATA[make_model]
        history = model.fit(x, y, epochs=1, batch_size=8, verbose=0)
        assert np.isfinite(history.history["loss"][0])


# --- mistakes outside fit(): building layers, compiling, weights, files ---------------
def compile_with(**kwargs):
    model = minidl.Sequential([layers.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(**{"optimizer": "adam", "loss": "sparse_categorical_crossentropy", **kwargs})


def fit_without_loss():
    """compile() without a loss is legal (a custom train_step needs none); fit() is not."""
    model = minidl.Sequential([layers.Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(optimizer="adam")
    model.fit(np.ones((4, 4)), np.zeros(4), verbose=0)


def sequential(*layer_list):
    return minidl.Sequential(list(layer_list))


OTHER_MISTAKES = [
    ("unknown-optimizer", lambda: compile_with(optimizer="adamm"), ValueError, ["optimizer", "'adamm'", "'adam'"]),
    ("unknown-loss", lambda: compile_with(loss="sparse_categorical_crossentropyy"), ValueError,
     ["loss", "crossentropyy", "did you mean 'sparse_categorical_crossentropy'"]),
    ("unknown-metric", lambda: compile_with(metrics=["acuracy"]), ValueError,
     ["metric", "'acuracy'", "did you mean 'accuracy'"]),
    ("metrics-not-a-list", lambda: compile_with(metrics=42), TypeError, ["metrics", "list", "42"]),
    ("optimizer-not-an-optimizer", lambda: compile_with(optimizer=42), TypeError, ["optimizer", "42", "int"]),
    ("fit-without-loss", lambda: fit_without_loss(), ValueError, ["no loss", "sparse_categorical_crossentropy"]),
    ("misspelled-compile-argument", lambda: compile_with(metric=["accuracy"]), TypeError, ["compile()", "metric"]),
    ("unknown-activation", lambda: layers.Dense(3, activation="rellu"), ValueError,
     ["activation", "'rellu'", "did you mean 'relu'"]),
    ("unknown-activation-layer", lambda: layers.Activation("sofmax"), ValueError,
     ["activation", "'sofmax'", "'softmax'"]),
    ("activation-not-a-name", lambda: layers.Dense(3, activation=42), TypeError, ["activation", "42", "name"]),
    ("unknown-initializer", lambda: layers.Dense(3, kernel_initializer="glorot_unifrom"), ValueError,
     ["initializer", "'glorot_unifrom'", "did you mean 'glorot_uniform'"]),
    ("unknown-bias-initializer", lambda: layers.Dense(3, bias_initializer="zeroes"), ValueError,
     ["initializer", "'zeroes'", "'zeros'"]),
    ("zero-units", lambda: layers.Dense(0), ValueError, ["dense", "units", "received 0", "positive"]),
    ("negative-units", lambda: layers.Dense(-3), ValueError, ["dense", "units", "-3", "positive"]),
    ("fractional-units", lambda: layers.Dense(2.5), ValueError, ["dense", "units", "2.5", "integer"]),
    ("units-as-string", lambda: layers.Dense("10"), ValueError, ["dense", "units", "'10'"]),
    ("zero-filters", lambda: layers.Conv2D(0, 3), ValueError, ["conv2d", "filters", "received 0", "positive"]),
    ("negative-kernel-size", lambda: layers.Conv2D(2, (3, -1)), ValueError, ["conv2d", "kernel_size", "(3, -1)"]),
    ("zero-pool-size", lambda: layers.MaxPooling2D(0), ValueError, ["maxpooling2d", "pool_size", "received 0"]),
    ("unknown-layer-argument", lambda: layers.Dense(2, kernel_regulariser="l2"), TypeError,
     ["dense", "kernel_regulariser"]),
    ("unknown-regularizer", lambda: layers.Dense(2, kernel_regularizer="l1l2"), ValueError,
     ["dense", "kernel_regularizer", "'l1l2'", "did you mean 'l1_l2'"]),
    ("dropout-rate-one", lambda: layers.Dropout(1.0), ValueError, ["dropout", "rate", "1.0", "[0, 1)"]),
    ("dropout-rate-negative", lambda: layers.Dropout(-0.1), ValueError, ["dropout", "rate", "-0.1", "[0, 1)"]),
    ("dropout-rate-percent", lambda: layers.Dropout(20), ValueError, ["dropout", "rate", "20", "[0, 1)"]),
    ("kernel-larger-than-image", lambda: sequential(layers.Conv2D(2, 7, input_shape=(5, 5, 1))), ValueError,
     ["conv2d", "kernel_size", "(7, 7)", "(5, 5)", "padding='same'"]),
    ("pool-larger-than-image", lambda: sequential(layers.MaxPooling2D(7, input_shape=(5, 5, 1))), ValueError,
     ["max_pooling2d", "pool_size", "(7, 7)", "(5, 5)"]),
    ("too-many-poolings", lambda: sequential(
        layers.Conv2D(2, 3, input_shape=(8, 8, 1)), layers.MaxPooling2D(2), layers.MaxPooling2D(2),
        layers.Conv2D(2, 3)), ValueError, ["conv2d", "(3, 3)", "(1, 1)", "pooling"]),
    ("bad-padding", lambda: layers.Conv2D(2, 3, padding="full"), ValueError,
     ["conv2d", "padding", "'full'", "'valid' or 'same'"]),
    ("padding-as-number", lambda: layers.Conv2D(2, 3, padding=1), ValueError, ["padding", "received 1", "'same'"]),
    ("bad-pool-padding", lambda: layers.MaxPooling2D(2, padding="sam"), ValueError, ["padding", "'sam'"]),
    ("zero-strides", lambda: layers.Conv2D(2, 3, strides=0), ValueError, ["conv2d", "strides", "received 0"]),
    ("negative-pool-strides", lambda: layers.MaxPooling2D(2, strides=-1), ValueError, ["strides", "-1"]),
    ("three-strides", lambda: layers.Conv2D(2, 3, strides=(1, 1, 1)), ValueError,
     ["strides", "(1, 1, 1)", "tuple of 2"]),
    ("negative-learning-rate", lambda: optimizers.Adam(learning_rate=-0.1), ValueError,
     ["adam", "learning_rate", "-0.1", "non-negative"]),
    ("learning-rate-string", lambda: optimizers.RMSprop(learning_rate="fast"), ValueError,
     ["learning_rate", "'fast'"]),
    ("momentum-negative", lambda: optimizers.SGD(momentum=-1), ValueError, ["sgd", "momentum", "-1"]),
    ("beta-above-one", lambda: optimizers.Adam(beta_1=1.5), ValueError, ["beta_1", "1.5", "[0, 1)"]),
    ("zero-sized-input", lambda: minidl.Input(shape=(0,)), ValueError, ["shape", "(0,)", "positive"]),
    ("negative-input-shape", lambda: sequential(layers.Dense(2, input_shape=(-1,))), ValueError,
     ["dense", "input_shape", "(-1,)", "positive"]),
    ("zero-input-shape", lambda: sequential(layers.Dense(2, input_shape=(0,))), ValueError,
     ["dense", "input_shape", "(0,)", "positive"]),
    ("loss-weights-count", lambda: compile_with(loss_weights=[1.0, 2.0]), ValueError,
     ["loss_weights", "2", "1 output"]),
    ("to-categorical-class-too-large", lambda: to_categorical([0, 5], num_classes=3), ValueError,
     ["to_categorical", "num_classes=3", "5"]),
    ("to-categorical-negative", lambda: to_categorical([0, -1]), ValueError, ["to_categorical", "-1", ">= 0"]),
    ("seed-negative", lambda: minidl.utils.set_random_seed(-1), ValueError, ["seed", "-1", "non-negative"]),
    ("add-a-non-layer", lambda: minidl.Sequential().add("relu"), TypeError, ["sequential", "add()", "'relu'", "str"]),
    ("functional-inputs-not-input", lambda: minidl.Model(inputs=3, outputs=4), TypeError,
     ["model(inputs=", "input()", "3"]),
    ("batchnorm-axis", lambda: sequential(layers.BatchNormalization(axis=5, input_shape=(4,))), ValueError,
     ["batchnormalization", "axis 5", "(none, 4)"]),
    ("reshape-wrong-size", lambda: sequential(layers.Reshape((5,), input_shape=(4,))), ValueError,
     ["reshape", "(none, 4)", "(none, 5)"]),
]


@pytest.mark.parametrize("action,error,words", as_params(OTHER_MISTAKES))
def test_mistake_is_explained(action, error, words):
    with pytest.raises(error) as caught:
        action()
    check_message(caught, words)


# --- mistakes on a model that has weights: nothing may change -------------------------
def test_set_weights_with_wrong_shapes_changes_nothing():
    model = classifier()
    before = snapshot(model)
    arrays = [np.ones_like(w) for w in model.get_weights()]
    arrays[-1] = np.ones(5, np.float32)  # only the last is wrong: the first three must not be assigned
    with pytest.raises(ValueError) as caught:
        model.set_weights(arrays)
    check_message(caught, ["dense", "bias", "(3,)", "(5,)"])
    assert_bitwise_equal(before, snapshot(model))


def test_set_weights_with_wrong_count_changes_nothing():
    model = classifier()
    before = snapshot(model)
    with pytest.raises(ValueError) as caught:
        model.set_weights(model.get_weights()[:2])
    check_message(caught, ["sequential", "4 weight arrays", "received 2", "(8, 3)"])
    assert_bitwise_equal(before, snapshot(model))


def test_layer_set_weights_with_wrong_shape():
    model = classifier()
    with pytest.raises(ValueError) as caught:
        model.layers[0].set_weights([np.zeros((5, 8)), np.zeros(8)])
    check_message(caught, ["dense", "(4, 8)", "(5, 8)"])


def test_refused_compile_keeps_the_previous_settings():
    model = classifier()
    optimizer = model.optimizer
    before = snapshot(model)
    with pytest.raises(ValueError):
        model.compile("sgd", "mse", metrics=["acuracy"])
    assert model.optimizer is optimizer
    assert_bitwise_equal(before, snapshot(model))
    model.fit(X, Y, epochs=1, verbose=0)  # still the sparse loss: integer labels work


def test_fit_before_compile():
    model = minidl.Sequential([layers.Dense(3, input_shape=(4,))])
    weights = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError) as caught:
        model.fit(X, Y, verbose=0)
    check_message(caught, ["fit()", "compile", "model.compile(optimizer="])
    assert all(a.tobytes() == b.tobytes() for a, b in zip(weights, model.get_weights()))


def test_evaluate_before_compile():
    model = minidl.Sequential([layers.Dense(3, input_shape=(4,))])
    with pytest.raises(ValueError) as caught:
        model.evaluate(X, Y, verbose=0)
    check_message(caught, ["evaluate()", "compile"])


def test_summary_before_build():
    model = minidl.Sequential([layers.Dense(3), layers.Dense(2)])
    with pytest.raises(ValueError) as caught:
        model.summary()
    check_message(caught, ["sequential", "not yet been built", "input_shape"])


def test_predict_with_wrong_feature_count():
    model = classifier()
    with pytest.raises(ValueError) as caught:
        model.predict(RNG.random((3, 5)))
    check_message(caught, ["x", "(4,)", "(3, 5)"])


def test_calling_a_model_on_the_wrong_shape():
    model = classifier()
    with pytest.raises(ValueError) as caught:
        model(np.zeros((2, 5), np.float32))
    check_message(caught, ["sequential", "(none, 4)", "(2, 5)"])


def test_get_layer_with_unknown_name():
    model = classifier()
    with pytest.raises(ValueError) as caught:
        model.get_layer("dense_9")
    check_message(caught, ["'dense_9'", "its layers are"])


# --- paths --------------------------------------------------------------------------
def test_load_model_missing_file(tmp_path):
    path = tmp_path / "nothing.mdl"
    with pytest.raises(FileNotFoundError) as caught:
        minidl.models.load_model(path)
    check_message(caught, [str(path)])


def test_load_weights_missing_file(tmp_path):
    model = classifier()
    before = snapshot(model)
    path = tmp_path / "nothing.weights"
    with pytest.raises(FileNotFoundError) as caught:
        model.load_weights(path)
    check_message(caught, [str(path)])
    assert_bitwise_equal(before, snapshot(model))


def test_save_into_missing_directory_creates_it_as_tensorflow_does(tmp_path):
    model = classifier()
    path = tmp_path / "no" / "such" / "dir" / "model.mdl"
    model.save(path)
    assert path.exists()
    blocked = tmp_path / "a_file"
    blocked.write_text("not a folder")
    with pytest.raises(FileExistsError) as caught:
        model.save_weights(blocked / "w.mdl")
    check_message(caught, [str(blocked), "is a file"])


def test_load_weights_of_another_architecture_changes_nothing(tmp_path):
    other = cnn()
    path = tmp_path / "cnn.weights"
    other.save_weights(path)
    model = classifier()
    before = snapshot(model)
    with pytest.raises(ValueError) as caught:
        model.load_weights(path)
    check_message(caught, [str(path), "conv2d", "(3, 3, 1, 2)", "(4, 8)"])
    assert_bitwise_equal(before, snapshot(model))


def test_dataset_explicit_path_missing(tmp_path):
    from minidl.datasets import fashion_mnist

    with pytest.raises(FileNotFoundError) as caught:
        fashion_mnist.load_data(path=tmp_path / "empty")
    check_message(caught, ["fashion-mnist", "empty", "train-images-idx3-ubyte.gz"])


def test_at_least_40_distinct_mistakes():
    """The issue asks for at least 40; the two tables alone hold them (ids are unique)."""
    ids = [case[0] for case in FIT_MISTAKES + OTHER_MISTAKES]
    assert len(ids) == len(set(ids)) and len(ids) >= 40


def test_predict_gives_nan_for_a_nan_input_where_fit_refuses_it():
    """As in Keras and PyTorch: inference passes NaN through; training refuses it."""
    model = minidl.Sequential([layers.Dense(3, input_shape=(4,)), layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.ones((5, 4), np.float32)
    x[1, 2] = np.nan
    out = model.predict(x, verbose=0)
    assert np.isnan(out[1]).all() and np.isfinite(np.delete(out, 1, axis=0)).all()
    with pytest.raises(ValueError, match="non-finite"):
        model.fit(x, np.zeros(5), verbose=0)
    with pytest.raises(ValueError, match="non-finite"):
        model.evaluate(x, np.zeros(5), verbose=0)


def test_huge_but_finite_inputs_are_accepted_without_warnings():
    """The finiteness check sums in float32; an overflowing sum must not refuse good data."""
    import warnings

    model = minidl.Sequential([layers.Dense(2, input_shape=(4,), activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    x = np.full((8, 4), 3e38, np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.evaluate(x, np.zeros(8), verbose=0)


# --- values float32 cannot hold, empty samples, late failures (issue 13) -----------------------
def test_float64_values_beyond_float32_are_refused_after_the_cast():
    model = classifier()
    before = snapshot(model)
    x, y = np.ones((8, 4)), np.zeros(8)
    big = x.copy()
    big[2, 1] = 1e39
    with pytest.raises(ValueError, match="beyond float32's range"):
        model.fit(big, y, verbose=0)
    regression = minidl.Sequential([layers.Dense(1, input_shape=(4,))])
    regression.compile("sgd", "mse")
    with pytest.raises(ValueError, match="1e\\+39.*beyond float32's range"):
        regression.fit(x, np.full(8, 1e39), verbose=0)
    with pytest.raises(ValueError, match="beyond float32's range"):
        model.fit(x, y, validation_data=(big, y), verbose=0)
    assert_bitwise_equal(before, snapshot(model))


def test_samples_without_values_are_a_clear_error():
    model = minidl.Sequential([layers.Dense(3)])
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"shape \(8, 0\).*no values"):
        model.fit(np.ones((8, 0)), np.ones((8, 3)), verbose=0)
    with pytest.raises(ValueError, match='Dense layer "dense.*nonzero last axis'):
        layers.Dense(3)(np.ones((8, 0)))


def test_an_empty_batch_is_a_clear_error_in_fit_evaluate_and_predict():
    """No samples at all: refused by each method alike, the message not about training
    when the call only predicts."""
    model = minidl.Sequential([layers.Dense(3, input_shape=(4,))])
    model.compile("sgd", "mse")
    empty = np.ones((0, 4), np.float32)
    for call in (lambda: model.fit(empty, np.ones((0, 3)), verbose=0),
                 lambda: model.evaluate(empty, np.ones((0, 3)), verbose=0),
                 lambda: model.predict(empty, verbose=0)):
        with pytest.raises(ValueError, match=r"x is empty \(shape \(0, 4\)\): it holds no "
                                             r"samples"):
            call()


def test_a_bad_validation_set_fails_before_the_first_step():
    model = classifier()
    model.compile("adam", "sparse_categorical_crossentropy")
    before = snapshot(model)
    x, y = np.ones((8, 4)), np.zeros(8)
    for bad in [(np.ones((8, 5)), y), (x, np.full(8, 7)), (x, y[:5]), (x,)]:
        with pytest.raises(ValueError):
            model.fit(x, y, validation_data=bad, verbose=0)
        assert_bitwise_equal(before, snapshot(model))
