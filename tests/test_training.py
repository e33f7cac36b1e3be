"""compile / fit / evaluate / predict: the Keras training API."""

import re
import signal

import numpy as np
import pytest

import minidl
from minidl import callbacks, layers, losses, metrics, optimizers
from minidl.utils import set_random_seed, to_categorical


def mlp(classes=3, features=4, activation="softmax"):
    return minidl.Sequential([
        layers.Dense(8, activation="relu", input_shape=(features,)),
        layers.Dense(classes, activation=activation),
    ])


def data(n=64, features=4, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 1)
    return x, np.minimum(y, classes - 1)


def snapshot(model):
    state = model.optimizer.get_state(model.trainable_weights) if model.optimizer else None
    return [w.copy() for w in model.get_weights()], state


def assert_unchanged(model, before):
    weights, state = before
    for a, b in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    if state is not None:
        after = model.optimizer.get_state(model.trainable_weights)
        assert after["iterations"] == state["iterations"]


# --- fit, history, evaluate, predict ---------------------------------------------
def test_fit_history_keys_and_evaluate_return():
    set_random_seed(0)
    x, y = data()
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
    assert list(history.history) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert history.epoch == [0, 1, 2]
    assert history.params == {"verbose": 0, "epochs": 3, "steps": 3}
    assert history.model is model and model.history is history
    result = model.evaluate(x, y, verbose=0)
    assert isinstance(result, list) and len(result) == 2
    assert 0.0 <= result[1] <= 1.0


def test_loss_decreases_and_model_learns():
    set_random_seed(1)
    x, y = data(n=256)
    model = mlp()
    model.compile(optimizers.Adam(learning_rate=0.01), "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(x, y, epochs=20, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.85


def test_evaluate_without_metrics_returns_the_loss_alone():
    x, y = data()
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy")
    value = model.evaluate(x, y, verbose=0)
    assert isinstance(value, float)


def test_fused_loss_equals_the_plain_formula():
    """Training uses softmax-cross-entropy on logits; the number must equal -log p[label]."""
    x, y = data()
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy")
    probs = model.predict(x)
    expected = np.mean(-np.log(probs[np.arange(len(y)), y]))
    assert model.evaluate(x, y, verbose=0, batch_size=64) == pytest.approx(expected, rel=1e-5)
    model.compile("sgd", "categorical_crossentropy", ["accuracy"])
    loss, accuracy = model.evaluate(x, to_categorical(y, 3), verbose=0)
    assert loss == pytest.approx(expected, rel=1e-5)
    assert accuracy == pytest.approx(np.mean(probs.argmax(1) == y))


@pytest.mark.parametrize("loss,metric,key", [
    (losses.sparse_categorical_crossentropy, metrics.sparse_categorical_accuracy, "sparse_categorical_accuracy"),
    (losses.SparseCategoricalCrossentropy(), "acc", "acc"),
    ("sparse_categorical_crossentropy", "mae", "mae"),
])
def test_functions_objects_and_names_in_compile(loss, metric, key):
    x, y = data()
    model = mlp()
    model.compile(optimizer="rmsprop", loss=loss, metrics=[metric])
    history = model.fit(x, y, epochs=1, verbose=0)
    assert list(history.history) == ["loss", key]


def test_from_logits_model():
    x, y = data()
    model = mlp(activation=None)
    model.compile("adam", losses.SparseCategoricalCrossentropy(from_logits=True), ["accuracy"])
    history = model.fit(x, y, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_binary_and_regression_models():
    x, y = data(classes=2)
    model = mlp(classes=1, activation="sigmoid")
    model.compile("adam", "binary_crossentropy", ["accuracy"])
    history = model.fit(x, y, epochs=2, verbose=0)
    assert list(history.history) == ["loss", "accuracy"]
    reg = minidl.Sequential([layers.Dense(1, input_shape=(1,))])
    reg.compile(optimizers.RMSprop(learning_rate=0.05), "mse", ["mae"])
    xs = np.linspace(3, 9, 40)  # float64, 1-D, as in the regression tutorial
    history = reg.fit(xs, 3 * xs + 1, batch_size=16, epochs=30, validation_split=0.3, verbose=0)
    assert list(history.history) == ["loss", "mae", "val_loss", "val_mae"]
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert reg.predict([3, 4, 5]).shape == (3, 1)  # a plain list


def test_inputs_are_forgiving():
    x, y = data()
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(x.tolist(), y.tolist(), epochs=1, verbose=0)
    model.fit(x.astype(np.float64), y.astype(np.uint8), epochs=1, verbose=0)
    model.fit(x, y.reshape(-1, 1).astype(np.float32), epochs=1, verbose=0)
    images = (np.random.default_rng(0).random((16, 2, 2)) * 255).astype(np.uint8)
    flat = minidl.Sequential([layers.Flatten(input_shape=(2, 2)), layers.Dense(3, activation="softmax")])
    flat.compile("adam", "sparse_categorical_crossentropy")
    flat.fit(images, y[:16], epochs=1, verbose=0)


def test_unbuilt_sequential_builds_on_fit():
    x, y = data()
    model = minidl.Sequential([layers.Dense(8, activation="relu"), layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(x, y, epochs=1, verbose=0)
    assert list(history.history) == ["loss", "accuracy"]


def test_validation_split_takes_the_last_fraction():
    x, y = data(n=40)
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy")
    seen = []
    model.fit(x, y, epochs=1, verbose=0, validation_split=0.25, shuffle=False, batch_size=30,
              callbacks=[callbacks.LambdaCallback(on_train_batch_begin=lambda b, logs: seen.append(b))])
    assert seen == [0]  # 30 rows train: one batch of 30 (all 40 would make two)
    model_val = model.evaluate(x[30:], y[30:], verbose=0)
    h = model.fit(x, y, epochs=1, verbose=0, validation_split=0.25, shuffle=False, batch_size=30)
    assert h.history["val_loss"][0] != model_val  # weights moved, so the value is after the step
    assert model.evaluate(x[30:], y[30:], verbose=0) == pytest.approx(h.history["val_loss"][0], rel=1e-6)


def test_validation_data_and_keys():
    x, y = data()
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    h = model.fit(x, y, validation_data=(x[:10], y[:10]), epochs=1, verbose=0)
    assert set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}


def test_same_seed_same_history():
    x, y = data(n=96)

    def run():
        set_random_seed(123)
        model = minidl.Sequential([
            layers.Dense(16, activation="relu", input_shape=(4,)),
            layers.Dropout(0.3),
            layers.Dense(3, activation="softmax"),
        ])
        model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
        return model.fit(x, y, epochs=3, batch_size=10, validation_split=0.2, verbose=0).history, model.get_weights()

    (h1, w1), (h2, w2) = run(), run()
    assert h1 == h2
    for a, b in zip(w1, w2):
        np.testing.assert_array_equal(a, b)


def test_multi_output_functional_model():
    set_random_seed(0)
    x, y = data()
    inputs = layers.Input(shape=(4,))
    hidden = layers.Dense(8, activation="relu")(inputs)
    cls = layers.Dense(3, activation="softmax", name="cls")(hidden)
    reg = layers.Dense(1, name="reg")(hidden)
    model = minidl.Model(inputs=inputs, outputs=[cls, reg])
    model.compile("adam", loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                  metrics={"cls": ["accuracy"]}, loss_weights=[1.0, 0.5])
    history = model.fit(x, [y, x[:, 0]], epochs=2, verbose=0)
    assert list(history.history) == ["loss", "cls_loss", "reg_loss", "cls_accuracy"]
    h = history.history
    np.testing.assert_allclose(h["loss"], np.array(h["cls_loss"]) + 0.5 * np.array(h["reg_loss"]), rtol=1e-5)
    loss, cls_loss, reg_loss, acc = model.evaluate(x, {"cls": y, "reg": x[:, 0]}, verbose=0)
    assert loss == pytest.approx(cls_loss + 0.5 * reg_loss, rel=1e-5)
    out_cls, out_reg = model.predict(x)
    assert out_cls.shape == (64, 3) and out_reg.shape == (64, 1)


def test_train_and_test_on_batch():
    x, y = data()
    model = mlp()
    model.compile("sgd", "sparse_categorical_crossentropy", ["accuracy"])
    loss, acc = model.train_on_batch(x[:8], y[:8])
    assert model.optimizer.iterations == 1
    assert model.test_on_batch(x[:8], y[:8], return_dict=True).keys() == {"loss", "accuracy"}
    assert model.predict_on_batch(x[:5]).shape == (5, 3)


def test_progress_output(capsys):
    x, y = data()
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(x, y, epochs=2, batch_size=16, validation_split=0.25)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Epoch 1/2" and out[2] == "Epoch 2/2" and len(out) == 4
    assert out[1].startswith("3/3 [==============================] - ")
    assert "/step - loss: " in out[1] and " - accuracy: " in out[1] and " - val_accuracy: " in out[1]
    model.fit(x, y, epochs=1, verbose=2)
    out = capsys.readouterr().out.splitlines()
    # Keras 2: no "Epoch 1/1" line for one epoch; verbose=2 ends with the epoch's and
    # the step's times ("4/4 - 0s - loss: 0.2810 - 476ms/epoch - 119ms/step", tf_keras 2.21)
    assert len(out) == 1
    assert re.fullmatch(r"2/2 - \d+s - loss: [\d.]+ - accuracy: [\d.]+ - \d+[mu]?s/epoch"
                        r" - \d+[mu]?s/step", out[0]), out[0]
    model.fit(x, y, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""


# --- refusals: before anything changes ------------------------------------------
BAD_FIT = [
    (dict(y=np.full(64, 3)), "label 3.*3 units"),
    (dict(y=np.full(64, -1)), ">= 0, received -1"),
    (dict(y=np.eye(3)[np.zeros(64, int)]), "one-hot"),
    (dict(x=np.full((64, 4), np.nan, np.float32)), "NaN"),
    (dict(x=np.full((64, 4), np.inf)), "inf"),
    (dict(y=np.zeros(63)), "same number of samples"),
    (dict(x=np.zeros((0, 4)), y=np.zeros(0)), "empty"),
    (dict(x=np.zeros((64, 2, 2))), "Flatten"),
    (dict(x=np.zeros((64, 5))), r"expects input samples of shape \(4,\)"),
    (dict(x=np.array([["a"] * 4] * 64)), "must hold numbers"),
    (dict(x=np.array([object()] * 64)), "must hold numbers"),
    (dict(batch_size=0), "batch_size must be a positive integer, received 0"),
    (dict(epochs=-1), "epochs must be a positive integer, received -1"),
    (dict(validation_split=1.0), r"validation_split must be a number in \[0, 1\)"),
    (dict(validation_split=-0.1), r"validation_split"),
    (dict(validation_data=(np.zeros((5, 3)), np.zeros(5))), "validation_data"),
    (dict(validation_data=np.zeros(3)), "validation_data must be a tuple"),
    (dict(y=np.full(64, 0.5)), "whole numbers"),
]


@pytest.mark.parametrize("override,message", BAD_FIT)
def test_bad_fit_input_is_refused_before_any_change(override, message):
    x, y = data()
    model = mlp()
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(x, y, epochs=1, verbose=0)  # optimizer has state
    before = snapshot(model)
    args = dict(x=x, y=y, epochs=1, verbose=0)
    args.update(override)
    with pytest.raises(ValueError, match=message):
        model.fit(**args)
    assert_unchanged(model, before)


def test_integer_labels_with_categorical_loss():
    x, y = data()
    model = mlp()
    model.compile("adam", "categorical_crossentropy")
    with pytest.raises(ValueError, match="to_categorical"):
        model.fit(x, y, verbose=0)


def test_fit_before_compile():
    x, y = data()
    with pytest.raises(ValueError, match="compile"):
        mlp().fit(x, y)
    with pytest.raises(RuntimeError):
        mlp().evaluate(x, y)


def test_unknown_names_in_compile():
    model = mlp()
    with pytest.raises(ValueError, match="Did you mean 'adam'"):
        model.compile("addam", "mse")
    with pytest.raises(ValueError, match="Did you mean 'accuracy'"):
        model.compile("adam", "mse", ["accurracy"])
    model.compile("adam")  # legal: a train_step of your own needs no compiled loss
    with pytest.raises(ValueError, match="no loss"):
        model.fit(np.ones((4, 4)), np.zeros(4), verbose=0)


# --- interruptions and NaN ---------------------------------------------------------
def test_ctrl_c_stops_after_the_current_step_and_fit_can_continue(capsys):
    x, y = data(n=80)
    set_random_seed(5)
    model = mlp()
    twin = mlp()
    twin.set_weights(model.get_weights())
    model.compile("adam", "sparse_categorical_crossentropy")
    twin.compile("adam", "sparse_categorical_crossentropy")

    def interrupt(batch, logs):
        if batch == 2:
            signal.raise_signal(signal.SIGINT)  # as Ctrl-C, on every OS

    previous = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt, match="interrupted"):  # as Keras: the cell stops
        model.fit(x, y, batch_size=10, epochs=3, shuffle=False, verbose=0,
                  callbacks=[callbacks.LambdaCallback(on_batch_end=interrupt)])
    assert signal.getsignal(signal.SIGINT) is previous
    history = model.history
    assert history.epoch == [] and history.history == {}
    assert model.optimizer.iterations == 3
    for i in range(3):  # the twin takes the same three steps
        twin.train_on_batch(x[10 * i:10 * i + 10], y[10 * i:10 * i + 10])
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)
    history = model.fit(x, y, batch_size=10, epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1


def test_nan_loss_warns_and_terminate_on_nan_stops():
    x, y = data()
    model = minidl.Sequential([layers.Dense(1, input_shape=(4,))])
    model.compile(optimizers.SGD(learning_rate=1e6), "mse")
    big = np.full((64, 1), 1e30, np.float32)
    with pytest.warns(RuntimeWarning, match="epoch 1, step"), np.errstate(all="ignore"):
        history = model.fit(x * 1e3, big, epochs=2, batch_size=8, verbose=0,
                            callbacks=[callbacks.TerminateOnNaN()])
    assert model.stop_training
    assert len(history.epoch) <= 1


def test_hand_written_training_loop_on_a_subclassed_model():
    """The loop of the subclassing tutorial: forward, loss, backward, apply_gradients."""
    set_random_seed(3)
    x, y = data(n=128)

    class Net(minidl.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(16, activation="relu")
            self.out = layers.Dense(3, activation="softmax")

        def call(self, inputs, training=False):
            return self.out(self.hidden(inputs))

    model = Net()
    optimizer = optimizers.Adam(learning_rate=0.01)
    first = None
    for epoch in range(30):
        for w in model.trainable_weights:
            w.grad = None
        loss = losses.sparse_categorical_crossentropy(y, model(x, training=True)).mean()
        loss.backward()
        grads = [w.grad for w in model.trainable_weights]
        optimizer.apply_gradients(zip(grads, model.trainable_weights))
        first = loss.item() if first is None else first
    assert loss.item() < 0.6 * first
    model.compile(optimizer, "sparse_categorical_crossentropy", ["accuracy"])
    assert model.evaluate(x, y, verbose=0)[1] > 0.8
