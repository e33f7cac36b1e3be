"""Customizing fit the Keras way (train_step, test_step, predict_step) and one
softmax/cross-entropy path for every model style (models/training.py, losses.py)."""

import numpy as np
import pytest

import minidl
from minidl import GradientTape, layers, losses, metrics, ops, optimizers


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_names()


def regression_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 4)).astype(np.float32)
    return x, x @ np.array([[1.0], [-2.0], [0.5], [3.0]], np.float32)


class CustomModel(minidl.Model):
    """The guide's first example, names changed only."""

    steps = 0

    def train_step(self, data):
        x, y = data
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply_gradients(zip(gradients, trainable_vars))
        self.compiled_metrics.update_state(y, y_pred)
        CustomModel.steps += 1
        return {m.name: m.result() for m in self.metrics}


def test_fit_calls_an_overridden_train_step_on_a_functional_subclass():
    inputs = minidl.Input(shape=(4,))
    model = CustomModel(inputs, layers.Dense(1)(inputs))
    assert isinstance(model, CustomModel) and model.output_shape == (None, 1)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x, y = regression_data()
    CustomModel.steps = 0
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert CustomModel.steps == 12
    assert list(history.history) == ["loss", "mae"]
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert [m.name for m in model.metrics] == ["loss", "mae"]


def test_metrics_are_reset_at_each_epoch():
    """An epoch's logs are its own means, not running means since the start."""
    inputs = minidl.Input(shape=(4,))
    model = CustomModel(inputs, layers.Dense(1)(inputs))
    model.compile(optimizer=optimizers.SGD(0.0), loss="mse", metrics=["mae"])  # frozen
    x, y = regression_data()
    history = model.fit(x, y, epochs=2, batch_size=64, shuffle=False, verbose=0)
    assert history.history["loss"][0] == pytest.approx(history.history["loss"][1])
    expected = float(np.mean((model.predict(x) - y) ** 2))
    assert history.history["loss"][1] == pytest.approx(expected, rel=1e-5)


def test_a_train_step_with_its_own_metrics_and_no_compiled_loss():
    """The guide's "going lower-level" example: compile(optimizer) only, metrics property."""
    loss_tracker = metrics.Mean(name="loss")
    mae_metric = metrics.MeanAbsoluteError(name="mae")

    class LowLevel(minidl.Model):
        def train_step(self, data):
            x, y = data
            with GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = losses.mean_squared_error(y, y_pred)
            gradients = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
            loss_tracker.update_state(loss)
            mae_metric.update_state(y, y_pred)
            return {"loss": loss_tracker.result(), "mae": mae_metric.result()}

        @property
        def metrics(self):
            return [loss_tracker, mae_metric]

    inputs = minidl.Input(shape=(4,))
    model = LowLevel(inputs, layers.Dense(1)(inputs))
    model.compile(optimizer="adam")
    x, y = regression_data()
    history = model.fit(x, y, epochs=4, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert float(loss_tracker.count) == 64, "reset at each epoch: one epoch's samples"


def test_a_train_step_without_targets_gan_style():
    class Autoencoder(minidl.Model):
        def __init__(self):
            super().__init__()
            self.code = layers.Dense(2)
            self.back = layers.Dense(4)

        def call(self, x):
            return self.back(self.code(x))

        def train_step(self, data):
            x = data[0] if isinstance(data, tuple) else data
            with GradientTape() as tape:
                loss = ops.mean((self(x, training=True) - x) ** 2)
            self.optimizer.minimize(loss, self.trainable_weights, tape=tape)
            return {"reconstruction": loss}

    model = Autoencoder()
    model.compile("adam")
    history = model.fit(regression_data()[0], epochs=2, verbose=0)
    assert list(history.history) == ["reconstruction"]
    assert isinstance(history.history["reconstruction"][0], float)


def test_evaluate_and_predict_call_test_step_and_predict_step():
    calls = []

    class Steps(minidl.Model):
        def test_step(self, data):
            calls.append("test")
            x, y = data
            y_pred = self(x, training=False)
            self.compiled_loss(y, y_pred, regularization_losses=self.losses)
            self.compiled_metrics.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

        def predict_step(self, data):
            calls.append("predict")
            (x,) = data
            return self(x, training=False) * 2.0

    inputs = minidl.Input(shape=(4,))
    model = Steps(inputs, layers.Dense(1)(inputs))
    model.compile(loss="mse", metrics=["mae"])
    x, y = regression_data(32)
    loss, mae = model.evaluate(x, y, batch_size=16, verbose=0)
    assert calls == ["test", "test"] and loss > 0 and mae > 0
    doubled = model.predict(x, batch_size=16)
    assert calls[2:] == ["predict", "predict"]
    np.testing.assert_allclose(doubled, 2.0 * model(x).numpy(), rtol=1e-6)


def test_compute_loss_and_compute_metrics_are_the_default_steps_parts():
    """Keras 2.12+ spelling of a custom step."""

    class Modern(minidl.Model):
        def train_step(self, data):
            x, y = data
            with GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred)
            self.optimizer.apply_gradients(
                zip(tape.gradient(loss, self.trainable_variables), self.trainable_variables))
            return self.compute_metrics(x, y, y_pred, None)

    inputs = minidl.Input(shape=(4,))
    model = Modern(inputs, layers.Dense(1)(inputs))
    model.compile("adam", "mse", ["mae"])
    x, y = regression_data()
    assert list(model.fit(x, y, verbose=0).history) == ["loss", "mae"]


def test_subclass_passing_inputs_to_super_init_is_functional():
    class Built(minidl.Model):
        def __init__(self):
            inputs = minidl.Input(shape=(4,))
            super().__init__(inputs=inputs, outputs=layers.Dense(1)(inputs), name="built")

        def train_step(self, data):
            return super().train_step(data)

    model = Built()
    assert model.built and model.name == "built" and len(model.layers) == 2
    model.compile("sgd", "mse")
    model.fit(*regression_data(), verbose=0)


def test_a_saved_functional_subclass_loads_with_custom_objects(tmp_path):
    inputs = minidl.Input(shape=(4,))
    model = CustomModel(inputs, layers.Dense(1)(inputs))
    model.compile("adam", "mse")
    model.save(tmp_path / "m.mdl")
    loaded = minidl.models.load_model(tmp_path / "m.mdl", custom_objects={"CustomModel": CustomModel})
    assert isinstance(loaded, CustomModel)
    x = regression_data()[0]
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-6)


def test_the_hand_loop_and_train_step_compute_the_same_gradients():
    """docs/training.md's loop and the default train_step share GradientTape.gradient."""
    x, y = regression_data(16)
    model = minidl.Sequential([layers.Dense(3, activation="relu", input_shape=(4,)), layers.Dense(1)])
    twin = minidl.Sequential([layers.Dense(3, activation="relu", input_shape=(4,)), layers.Dense(1)])
    twin.set_weights(model.get_weights())
    model.compile(optimizers.SGD(0.1), "mse")
    model.train_on_batch(x, y)
    optimizer = optimizers.SGD(0.1)
    with GradientTape() as tape:
        loss = losses.MeanSquaredError()(y, twin(x, training=True))
    grads = tape.gradient(loss, twin.trainable_weights)
    optimizer.apply_gradients(zip(grads, twin.trainable_weights))
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


# --- one softmax/cross-entropy path -----------------------------------------------------------
def confident_weights():
    """Dense(2) weights that put logit 30 on class 0 for every input: a wrong label
    costs 30 with the exact cross-entropy, 16.1 if the softmax were clipped."""
    return [np.zeros((3, 2), np.float32), np.array([30.0, 0.0], np.float32)]


def every_style():
    """The same classifier as a Sequential, functional and subclassed model."""
    sequential = minidl.Sequential([layers.Dense(2, activation="softmax", input_shape=(3,))])
    inputs = minidl.Input(shape=(3,))
    functional = minidl.Model(inputs, layers.Dense(2, activation="softmax")(inputs))

    class Subclassed(minidl.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, x):
            return ops.softmax(self.dense(x))

    subclassed = Subclassed()
    subclassed(np.ones((1, 3)))
    for model in (sequential, functional, subclassed):
        model.set_weights(confident_weights())
    return [sequential, functional, subclassed]


def test_every_model_style_gets_the_exact_fused_loss():
    x, labels = np.ones((4, 3), np.float32), np.ones(4, np.int64)
    for model in every_style():
        model.compile(optimizers.SGD(0.0), "sparse_categorical_crossentropy")
        assert model.evaluate(x, labels, verbose=0) == pytest.approx(30.0, rel=1e-5)
        assert model.train_on_batch(x, labels) == pytest.approx(30.0, rel=1e-5)
        by_hand = losses.sparse_categorical_crossentropy(labels, model(x)).mean()
        assert float(by_hand) == pytest.approx(30.0, rel=1e-5)
        one_hot = np.eye(2, dtype=np.float32)[labels]
        assert float(losses.CategoricalCrossentropy()(one_hot, model(x))) == pytest.approx(30.0, rel=1e-5)


def test_every_model_style_gets_the_same_gradient_softmax_minus_target():
    x, labels = np.ones((4, 3), np.float32), np.array([0, 1, 1, 0])
    expected = None
    for model in every_style():
        with GradientTape() as tape:
            loss = losses.SparseCategoricalCrossentropy()(labels, model(x, training=True))
        grads = [g.numpy() for g in tape.gradient(loss, model.trainable_weights)]
        if expected is None:
            p = np.exp([30.0, 0.0]) / np.exp([30.0, 0.0]).sum()
            grad_b = (np.tile(p, (4, 1)) - np.eye(2)[labels]).mean(axis=0)
            np.testing.assert_allclose(grads[1], grad_b, rtol=1e-5, atol=1e-7)
            expected = grads
        for got, want in zip(grads, expected):
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)


def test_the_fused_kernel_runs_in_every_style(monkeypatch):
    from minidl.ops import losses as loss_ops

    calls = []
    fused = loss_ops.softmax_cross_entropy
    monkeypatch.setattr(loss_ops, "softmax_cross_entropy",
                        lambda *a, **k: calls.append(1) or fused(*a, **k))
    monkeypatch.setattr(losses.ops, "softmax_cross_entropy", loss_ops.softmax_cross_entropy)
    x, labels = np.ones((4, 3), np.float32), np.ones(4, np.int64)
    for model in every_style():
        model.compile("sgd", "sparse_categorical_crossentropy")
        calls.clear()
        model.train_on_batch(x, labels)
        assert calls, f"{type(model).__name__} did not use the fused softmax-cross-entropy"


def test_from_logits_on_a_softmax_output_warns_and_uses_the_logits():
    model = every_style()[0]
    x, labels = np.ones((2, 3), np.float32), np.ones(2, np.int64)
    with pytest.warns(UserWarning, match="produced by a softmax"):
        value = losses.SparseCategoricalCrossentropy(from_logits=True)(labels, model(x))
    assert float(value) == pytest.approx(30.0, rel=1e-5)


def test_a_user_loss_gets_keras_label_handling():
    """(N,) targets against (N, 1) outputs are expanded before a loss function you wrote."""
    seen = []

    def my_mse(y_true, y_pred):
        seen.append(np.shape(y_true))
        return ops.mean((y_pred - y_true) ** 2, axis=-1)

    model = minidl.Sequential([layers.Dense(1, input_shape=(4,))])
    model.compile("sgd", my_mse)
    x, y = regression_data()
    model.fit(x, y[:, 0], batch_size=64, verbose=0)
    assert seen == [(64, 1)]
    sparse_model = minidl.Sequential([layers.Dense(3, input_shape=(4,))])

    def my_sparse(y_true, y_pred):  # integer labels reach it as they are
        return losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=True)

    sparse_model.compile("sgd", my_sparse)
    sparse_model.fit(x, np.arange(64) % 3, verbose=0)


def test_metrics_exist_from_the_first_batch_as_in_keras():
    model = minidl.Sequential([layers.Dense(1, input_shape=(4,))])
    model.compile("sgd", "mse", ["mae"])
    assert model.metrics_names == []
    model.evaluate(*regression_data(), verbose=0)
    assert model.metrics_names == ["loss", "mae"]


def test_an_unbuilt_sequential_model_has_no_weights_to_list_yet():
    model = minidl.Sequential([layers.Dense(2), layers.Dense(3)])
    with pytest.raises(ValueError, match="have not yet been created"):
        model.weights
    with pytest.raises(ValueError, match="have not yet been created"):
        model.get_weights()
    model(np.ones((1, 4)))
    assert len(model.weights) == 4
