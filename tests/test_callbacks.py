"""Callbacks: hooks order, History, EarlyStopping, ModelCheckpoint, LambdaCallback."""

import numpy as np
import pytest

import minidl
from minidl import callbacks, layers
from minidl.utils import set_random_seed


def model_and_data():
    set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = minidl.Sequential([layers.Dense(2, activation="softmax", input_shape=(4,))])
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    return model, x, y


class Recorder(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls = []

    def on_train_begin(self, logs=None):
        self.calls.append("train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self.calls.append(f"epoch_begin {epoch}")

    def on_train_batch_end(self, batch, logs=None):
        self.calls.append(f"batch_end {batch} {sorted(logs)}")

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(f"epoch_end {epoch} {sorted(logs)}")

    def on_train_end(self, logs=None):
        self.calls.append("train_end")


def test_hook_order_and_logs():
    model, x, y = model_and_data()
    recorder = Recorder()
    model.fit(x, y, batch_size=20, epochs=2, validation_split=0.5, verbose=0, callbacks=[recorder])
    assert recorder.model is model and recorder.params["epochs"] == 2
    assert recorder.calls == [
        "train_begin",
        "epoch_begin 0", "batch_end 0 ['accuracy', 'loss']",
        "epoch_end 0 ['accuracy', 'loss', 'val_accuracy', 'val_loss']",
        "epoch_begin 1", "batch_end 0 ['accuracy', 'loss']",
        "epoch_end 1 ['accuracy', 'loss', 'val_accuracy', 'val_loss']",
        "train_end",
    ]


def test_initial_epoch():
    model, x, y = model_and_data()
    history = model.fit(x, y, epochs=3, initial_epoch=1, verbose=0)
    assert history.epoch == [1, 2]
    with pytest.raises(ValueError, match="initial_epoch"):
        model.fit(x, y, epochs=3, initial_epoch=3, verbose=0)


def test_early_stopping_stops_and_restores_best_weights():
    model, x, y = model_and_data()
    values = iter([1.0, 0.5, 0.6, 0.7, 0.8, 0.9])
    seen_weights = []

    class FakeMonitor(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["score"] = next(values)
            seen_weights.append(model.get_weights())

    stop = callbacks.EarlyStopping(monitor="score", patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=6, verbose=0, callbacks=[FakeMonitor(), stop])
    assert history.epoch == [0, 1, 2, 3]
    assert stop.stopped_epoch == 3 and stop.best_epoch == 1
    for a, b in zip(model.get_weights(), seen_weights[1]):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kwargs, expected", [
    # (epochs run, final kernel, best_epoch, stopped_epoch) as tf_keras 2.21 gives them
    (dict(patience=10, restore_best_weights=True), (5, 1.83852, 1, 0)),  # restored at the end
    (dict(patience=1, restore_best_weights=True), (3, 1.83852, 1, 2)),
    (dict(patience=1, restore_best_weights=True, start_from_epoch=2), (4, 2.2773, 2, 3)),
    (dict(patience=0, restore_best_weights=True, start_from_epoch=3), (5, 2.55032, 3, 4)),
    (dict(patience=1, restore_best_weights=False), (3, 2.2773, 1, 2)),
])
def test_early_stopping_restores_at_train_end_as_tf_keras_2_21(kwargs, expected, capsys):
    """The kernel learns y = 3x; validation wants 1.5x, so val_loss falls, then rises."""
    x = np.linspace(-1, 1, 16).reshape(16, 1).astype(np.float32)
    model = minidl.Sequential([layers.Dense(1, kernel_initializer="zeros", use_bias=False,
                                            input_shape=(1,))])
    model.compile(minidl.optimizers.SGD(0.5), "mse")
    stop = callbacks.EarlyStopping(verbose=1, **kwargs)
    history = model.fit(x, 3 * x, epochs=5, batch_size=16, validation_data=(x[:4], 1.5 * x[:4]),
                        verbose=0, callbacks=[stop])
    kernel = round(float(model.get_weights()[0][0, 0]), 5)
    assert (len(history.epoch), kernel, stop.best_epoch, stop.stopped_epoch) == expected
    out = capsys.readouterr().out
    if stop.stopped_epoch:  # Keras 2.21's order: the stop, then the restore
        assert out.index("early stopping") < out.find("Restoring") or "Restoring" not in out
    assert ("Restoring model weights from the end of the best epoch" in out) == \
        kwargs["restore_best_weights"]


def test_early_stopping_refuses_a_bad_start_from_epoch():
    with pytest.raises(ValueError, match="start_from_epoch must be an integer >= 0"):
        callbacks.EarlyStopping(start_from_epoch=-1)


def test_early_stopping_mode_and_min_delta():
    assert callbacks.EarlyStopping(monitor="val_accuracy").mode == "max"
    assert callbacks.EarlyStopping().mode == "min"
    stop = callbacks.EarlyStopping(min_delta=0.1)
    assert not stop._better(0.95, 1.0) and stop._better(0.85, 1.0)
    with pytest.raises(ValueError, match="mode"):
        callbacks.EarlyStopping(mode="up")


def test_model_checkpoint_best_only(tmp_path):
    model, x, y = model_and_data()
    values = iter([0.5, 0.7, 0.4])

    class FakeLoss(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(values)

    saved = []
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "m-{epoch:02d}.mdl"), save_best_only=True)
    model.fit(x, y, epochs=3, verbose=0, callbacks=[FakeLoss(), checkpoint,
              callbacks.LambdaCallback(on_epoch_end=lambda e, logs: saved.append(sorted(p.name for p in tmp_path.iterdir())))])
    assert saved[-1] == ["m-01.mdl", "m-03.mdl"]
    loaded = minidl.models.load_model(tmp_path / "m-03.mdl")
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_model_checkpoint_weights_only(tmp_path):
    model, x, y = model_and_data()
    model.fit(x, y, epochs=1, verbose=0,
              callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "w.mdl"), save_weights_only=True)])
    other = minidl.Sequential([layers.Dense(2, activation="softmax", input_shape=(4,))])
    other.load_weights(tmp_path / "w.mdl")


def test_lambda_callback_and_type_check():
    model, x, y = model_and_data()
    epochs = []
    model.fit(x, y, epochs=2, verbose=0,
              callbacks=[callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: epochs.append(epoch))])
    assert epochs == [0, 1]
    with pytest.raises(TypeError, match="Callback instances"):
        model.fit(x, y, verbose=0, callbacks=[print])


def test_stop_training_from_a_batch_hook():
    model, x, y = model_and_data()

    class StopNow(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            self.model.stop_training = True

    history = model.fit(x, y, epochs=5, batch_size=10, verbose=0, callbacks=[StopNow()])
    assert model.optimizer.iterations == 1 and history.epoch == [0]


def test_model_checkpoint_creates_its_folder_as_keras_does(tmp_path, capsys):
    """The "Save and load" tutorial: ModelCheckpoint("training_1/cp.ckpt", verbose=1)."""
    model, x, y = model_and_data()
    path = tmp_path / "training_1" / "cp.ckpt"
    model.fit(x, y, epochs=1, verbose=0,
              callbacks=[callbacks.ModelCheckpoint(str(path), save_weights_only=True, verbose=1)])
    assert path.exists()
    assert f"Epoch 1: saving model to {path}" in capsys.readouterr().out
    other = minidl.Sequential([layers.Dense(2, activation="softmax", input_shape=(4,))])
    other.load_weights(str(path))
    np.testing.assert_array_equal(other.get_weights()[0], model.get_weights()[0])


def test_model_checkpoint_save_freq_in_batches(tmp_path, capsys):
    """As tf_keras 2.21 names them: 5 samples in batches of 2 is 3 batches an epoch, and
    save_freq=2 counts batches across epochs ({batch} counts from 1 in its epoch)."""
    model, x, y = model_and_data()
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "w-{epoch:02d}-{batch}.mdl"),
                                           save_weights_only=True, save_freq=2, verbose=1)
    model.fit(x[:5], y[:5], batch_size=2, epochs=2, verbose=0, callbacks=[checkpoint])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w-01-2.mdl", "w-02-1.mdl", "w-02-3.mdl"]
    assert capsys.readouterr().out == "".join(
        f"\nEpoch {e}: saving model to {tmp_path / name}\n"
        for e, name in [(1, "w-01-2.mdl"), (2, "w-02-1.mdl"), (2, "w-02-3.mdl")])


def test_model_checkpoint_file_names_from_the_logs(tmp_path):
    model, x, y = model_and_data()
    values = iter([0.123, 0.456])

    class FakeLoss(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(values)

    model.fit(x, y, epochs=2, verbose=0, callbacks=[FakeLoss(), callbacks.ModelCheckpoint(
        str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.mdl"))])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt-01-0.12.mdl", "ckpt-02-0.46.mdl"]
    with pytest.raises(KeyError, match=r'Failed to format this callback filepath: ".*\{foo\}\.mdl"\. '
                                       r"Reason: .*foo"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "{foo}.mdl"))])


def test_model_checkpoint_initial_value_threshold(tmp_path, capsys):
    model, x, y = model_and_data()
    path = tmp_path / "best.mdl"
    model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.ModelCheckpoint(
        str(path), monitor="loss", save_best_only=True, initial_value_threshold=0.0001, verbose=1)])
    assert not path.exists()
    assert capsys.readouterr().out == "\nEpoch 1: loss did not improve from 0.00010\n"
    model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.ModelCheckpoint(
        str(path), monitor="loss", save_best_only=True, initial_value_threshold=100.0)])
    assert path.exists()


def test_model_checkpoint_arguments(tmp_path):
    with pytest.raises(ValueError, match='Unrecognized save_freq: batch. Expected save_freq are '
                                         '"epoch" or a positive integer'):
        callbacks.ModelCheckpoint("m.mdl", save_freq="batch")
    with pytest.raises(ValueError, match="Unrecognized save_freq: 0"):
        callbacks.ModelCheckpoint("m.mdl", save_freq=0)
    model, x, y = model_and_data()
    with pytest.warns(DeprecationWarning, match="`period` argument is deprecated"):
        every_other = callbacks.ModelCheckpoint(str(tmp_path / "m-{epoch}.mdl"), period=2)
    model.fit(x, y, epochs=4, verbose=0, callbacks=[every_other])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-2.mdl", "m-4.mdl"]
    with pytest.raises(IsADirectoryError, match="non-directory filepath for ModelCheckpoint"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.ModelCheckpoint(str(tmp_path))])


def test_model_checkpoint_by_epoch_costs_nothing_per_batch():
    """Only save_freq=<int> needs fit to call the callbacks after every batch."""
    model, _, _ = model_and_data()
    by_epoch = callbacks.CallbackList([callbacks.ModelCheckpoint("m.mdl")], model, {})
    by_batch = callbacks.CallbackList([callbacks.ModelCheckpoint("m.mdl", save_freq=5)], model, {})
    assert not by_epoch.batch_hooks and by_batch.batch_hooks


def test_lambda_callback_takes_every_keras_hook():
    model, x, y = model_and_data()
    calls = []
    hooks = {hook: (lambda *args, hook=hook: calls.append(hook)) for hook in (
        "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_batch_begin",
        "on_batch_end", "on_train_batch_begin", "on_train_batch_end", "on_test_begin",
        "on_test_end", "on_test_batch_begin", "on_test_batch_end", "on_predict_begin",
        "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end")}
    callback = callbacks.LambdaCallback(**hooks)
    model.fit(x, y, batch_size=40, epochs=1, validation_split=0.5, verbose=0, callbacks=[callback])
    model.predict(x, batch_size=40, callbacks=[callback])
    assert calls == [
        "on_train_begin", "on_epoch_begin", "on_train_batch_begin", "on_batch_begin",
        "on_train_batch_end", "on_batch_end", "on_test_begin", "on_test_batch_begin",
        "on_test_batch_end", "on_test_end", "on_epoch_end", "on_train_end",
        "on_predict_begin", "on_predict_batch_begin", "on_predict_batch_end", "on_predict_end",
    ]
    with pytest.raises(ValueError, match="unknown hook 'on_epoch_ends'"):
        callbacks.LambdaCallback(on_epoch_ends=print)


def test_hook_logs_as_tf_keras_gives_them():
    """The logs each hook receives, as tf_keras 2.21 gives them (the callbacks guide prints
    their keys): none before a batch, the batch's predictions after a predict batch, and
    the last epoch's logs (with val_) at the end of fit."""
    seen = {}

    class Recorder(callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.setdefault("on_train_batch_begin", logs)

        def on_test_batch_begin(self, batch, logs=None):
            seen.setdefault("on_test_batch_begin", logs)

        def on_predict_batch_begin(self, batch, logs=None):
            seen.setdefault("on_predict_batch_begin", logs)

        def on_predict_batch_end(self, batch, logs=None):
            seen.setdefault("on_predict_batch_end", logs)

        def on_train_end(self, logs=None):
            seen.setdefault("on_train_end", logs)

    x = np.random.default_rng(0).random((20, 3)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model = minidl.Sequential([minidl.layers.Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse", metrics=["mae"])
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, validation_split=0.5,
              callbacks=[Recorder()])
    predictions = model.predict(x, batch_size=8, verbose=0, callbacks=[Recorder()])
    assert seen["on_train_batch_begin"] == {} and seen["on_test_batch_begin"] == {}
    assert seen["on_predict_batch_begin"] == {}
    assert list(seen["on_train_end"]) == ["loss", "mae", "val_loss", "val_mae"]
    np.testing.assert_array_equal(seen["on_predict_batch_end"]["outputs"], predictions[:8])
