"""The callbacks that steer and record training: the learning-rate callbacks, CSVLogger,
ProgbarLogger, BackupAndRestore, RemoteMonitor; History's place among them."""

import json
import os
import urllib.parse
import urllib.request

import numpy as np
import pytest

import minidl
from minidl import callbacks, layers, optimizers
from minidl.utils import set_random_seed

def model_and_data(optimizer=None, n=40):
    set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = minidl.Sequential([layers.Dense(2, activation="softmax", input_shape=(4,))])
    model.compile(optimizer or optimizers.SGD(0.1), "sparse_categorical_crossentropy",
                  ["accuracy"])
    return model, x, y


class Feed(callbacks.Callback):
    """Writes the next of ``values`` into each epoch's logs as ``key`` (a monitor we control)."""

    def __init__(self, key, values):
        super().__init__()
        self.key = key
        self.values = iter(values)

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = next(self.values)


# --- History ----------------------------------------------------------------------------------
def test_history_records_what_other_callbacks_add():
    """History runs after the callbacks given to fit, as in Keras."""
    model, x, y = model_and_data()
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[Feed("score", [3.0, 4.0])])
    assert history.history["score"] == [3.0, 4.0]


# --- ProgbarLogger ----------------------------------------------------------------------------
def test_progbar_logger_draws_the_bar_in_your_own_loop(capsys):
    bar = callbacks.ProgbarLogger(count_mode="steps")
    hooks = callbacks.CallbackList([bar], None, {"verbose": 1, "epochs": 2, "steps": 4})
    hooks.call("on_train_begin", {})
    for epoch in range(2):
        hooks.call("on_epoch_begin", epoch, {})
        for step in range(4):
            hooks.batch_end(step, {"loss": 0.5})
        hooks.call("on_epoch_end", epoch, {"loss": 0.5, "lr": 0.01})
    lines = capsys.readouterr().out.splitlines()  # not a terminal: the final lines only
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert lines[1].startswith("4/4 [==============================] - 0s ")
    assert lines[1].endswith("/step - loss: 0.5000 - lr: 0.0100")


def test_progbar_logger_arguments_and_verbose_0(capsys):
    with pytest.raises(ValueError, match="Unknown `count_mode`: lines"):
        callbacks.ProgbarLogger(count_mode="lines")
    model, x, y = model_and_data()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.ProgbarLogger()])
    assert capsys.readouterr().out == ""


def test_progbar_logger_given_to_fit_replaces_fits_own_bar(capsys):
    model, x, y = model_and_data()
    model.fit(x, y, epochs=2, verbose=1, callbacks=[callbacks.ProgbarLogger()])
    out = capsys.readouterr().out
    assert out.count("Epoch 1/2") == 1 and out.count("2/2 [====") == 2


# --- the learning rate ------------------------------------------------------------------------
def test_a_rate_set_during_fit_is_used_from_the_next_step():
    model, x, y = model_and_data()
    weights = []

    def after_batch(batch, logs):
        weights.append(model.get_weights()[0].copy())
        model.optimizer.learning_rate = 0.0

    model.fit(x, y, batch_size=10, epochs=1, shuffle=False, verbose=0,
              callbacks=[callbacks.LambdaCallback(on_train_batch_end=after_batch)])
    assert not np.array_equal(weights[0], model_and_data()[0].get_weights()[0])  # step 1 moved
    for later in weights[1:]:
        np.testing.assert_array_equal(later, weights[0])  # steps 2-4 used 0


def test_reduce_lr_on_plateau_after_patience_epochs(capsys):
    """val_loss 1.0, 0.9, then no improvement: with patience=2 the rate halves at the end of
    epoch 4, as tf_keras 2.21 does for this sequence (its logs' lr is the rate the epoch used)."""
    model, x, y = model_and_data(optimizers.SGD(0.01))
    reduce = callbacks.ReduceLROnPlateau(factor=0.5, patience=2, verbose=1, min_lr=0.001)
    history = model.fit(x, y, epochs=8, verbose=0, callbacks=[
        Feed("val_loss", [1.0, 0.9, 0.95, 0.96, 0.97, 0.5, 0.6, 0.7]), reduce])
    assert history.history["lr"] == pytest.approx([0.01] * 4 + [0.005] * 4)
    assert float(model.optimizer.lr) == pytest.approx(0.0025)
    out = capsys.readouterr().out
    assert "\nEpoch 4: ReduceLROnPlateau reducing learning rate to 0.005.\n" in out
    assert "\nEpoch 8: ReduceLROnPlateau reducing learning rate to 0.0025.\n" in out


def test_reduce_lr_on_plateau_cooldown_min_lr_and_mode():
    model, x, y = model_and_data(optimizers.SGD(0.1))
    reduce = callbacks.ReduceLROnPlateau(monitor="val_accuracy", factor=0.1, patience=1,
                                         cooldown=2, min_lr=0.002)
    assert reduce.mode == "max"
    history = model.fit(x, y, epochs=7, verbose=0,
                        callbacks=[Feed("val_accuracy", [0.5] * 7), reduce])
    # epoch 2 reduces; cooldown=2 covers epochs 3 and 4, and epoch 4 counts again and reduces
    # (to min_lr): tf_keras 2.21 logs the same rates
    assert history.history["lr"] == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.002, 0.002, 0.002])


def test_reduce_lr_on_plateau_arguments_and_a_missing_monitor():
    with pytest.raises(ValueError, match="does not support a factor >= 1.0. Got 1.5"):
        callbacks.ReduceLROnPlateau(factor=1.5)
    with pytest.warns(DeprecationWarning, match="`epsilon` argument is deprecated"):
        assert callbacks.ReduceLROnPlateau(epsilon=0.01).min_delta == 0.01
    model, x, y = model_and_data()
    with pytest.warns(UserWarning, match="conditioned on metric `val_loss` which is not "
                                         "available. Available metrics are: loss,accuracy,lr"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.ReduceLROnPlateau()])


def test_reduce_lr_on_plateau_refuses_a_scheduled_rate():
    """Keras would change the rate and lose it at the next step; minidl says so."""
    schedule = optimizers.schedules.ExponentialDecay(0.1, 4, 0.5)
    model, x, y = model_and_data(optimizers.SGD(schedule))
    with pytest.raises(TypeError, match="not settable"):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[
            Feed("val_loss", [1.0, 1.0]), callbacks.ReduceLROnPlateau(patience=1)])


def test_learning_rate_scheduler_keras_example():
    """The example of Keras 2's docstring: 0.01 for ten epochs, then times exp(-0.1)."""
    def scheduler(epoch, lr):
        return lr if epoch < 10 else lr * float(np.exp(-0.1))

    model, x, y = model_and_data(optimizers.SGD())
    assert round(model.optimizer.lr.numpy(), 5) == 0.01
    history = model.fit(x, y, epochs=15, verbose=0,
                        callbacks=[callbacks.LearningRateScheduler(scheduler)])
    assert round(model.optimizer.lr.numpy(), 5) == 0.00607
    assert history.history["lr"][9:11] == pytest.approx([0.01, 0.01 * np.exp(-0.1)])


def test_learning_rate_scheduler_one_argument_verbose_and_bad_output(capsys):
    model, x, y = model_and_data()
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[
        callbacks.LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1), verbose=1)])
    assert history.history["lr"] == pytest.approx([0.1, 0.05])
    out = capsys.readouterr().out
    assert out == ("\nEpoch 1: LearningRateScheduler setting learning rate to 0.1.\n"
                   "\nEpoch 2: LearningRateScheduler setting learning rate to 0.05.\n")
    with pytest.raises(ValueError, match='The output of the "schedule" function should be '
                                         'float. Got: 1'):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[callbacks.LearningRateScheduler(lambda epoch: 1)])


def test_learning_rate_scheduler_changes_the_steps():
    """The rate set at the start of an epoch is the one its steps use."""
    model, x, y = model_and_data(optimizers.SGD(0.1))
    frozen = model.get_weights()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[
        callbacks.LearningRateScheduler(lambda epoch, lr: 0.0)])
    for a, b in zip(model.get_weights(), frozen):
        np.testing.assert_array_equal(a, b)


# --- CSVLogger --------------------------------------------------------------------------------
def run_epochs(callback, epoch_logs, model=None):
    """Drive ``callback`` through one training run, as fit does, with the logs given."""
    hooks = callbacks.CallbackList([callback], model, {"verbose": 0, "epochs": len(epoch_logs)})
    hooks.call("on_train_begin", {})
    for epoch, logs in enumerate(epoch_logs):
        hooks.call("on_epoch_begin", epoch, {})
        hooks.call("on_epoch_end", epoch, dict(logs))
    hooks.call("on_train_end", {})


def test_csv_logger_writes_keras_2s_file(tmp_path):
    path = tmp_path / "log.csv"
    run_epochs(callbacks.CSVLogger(path), [
        {"loss": 0.75, "accuracy": 0.5, "val_loss": 1.0, "val_accuracy": 0.25, "lr": 0.01},
        {"loss": 0.5, "accuracy": 0.75, "val_loss": 0.9, "val_accuracy": 0.5, "lr": 0.005},
    ])
    assert path.read_bytes() == (
        b"epoch,accuracy,loss,lr,val_accuracy,val_loss\r\n"
        b"0,0.5,0.75,0.01,0.25,1.0\r\n"
        b"1,0.75,0.5,0.005,0.5,0.9\r\n"
    )


def test_csv_logger_without_validation_append_and_separator(tmp_path):
    """No val_ keys in the first epoch: Keras adds val_ columns, written NA when absent
    (validation_freq=2 fills them every other epoch); append=True writes no second header."""
    path = tmp_path / "log.csv"
    run_epochs(callbacks.CSVLogger(path, separator=";"), [
        {"loss": 0.75, "mae": 0.5}, {"loss": 0.5, "mae": 0.25, "val_loss": 0.5, "val_mae": 0.125}])
    run_epochs(callbacks.CSVLogger(path, separator=";", append=True), [{"loss": 0.25, "mae": 0.1}])
    assert path.read_text().splitlines() == [
        "epoch;loss;mae;val_loss;val_mae",
        "0;0.75;0.5;NA;NA",
        "1;0.5;0.25;0.5;0.125",
        "0;0.25;0.1;NA;NA",
    ]
    run_epochs(callbacks.CSVLogger(path), [{"loss": 0.5, "f1": np.array([0.25, 0.5])}])
    assert path.read_text().splitlines() == [
        "epoch,f1,loss,val_f1,val_loss", '0,"""[0.25, 0.5]""",0.5,NA,NA']


def test_csv_logger_in_fit_matches_history(tmp_path):
    model, x, y = model_and_data()
    path = tmp_path / "run" / "log.csv"
    path.parent.mkdir()
    history = model.fit(x, y, epochs=3, validation_split=0.25, verbose=0, callbacks=[
        callbacks.ReduceLROnPlateau(), callbacks.CSVLogger(str(path))])
    rows = [line.split(",") for line in path.read_text().splitlines()]
    assert rows[0] == ["epoch", "accuracy", "loss", "lr", "val_accuracy", "val_loss"]
    assert [float(r[2]) for r in rows[1:]] == history.history["loss"]
    assert [float(r[3]) for r in rows[1:]] == [0.1, 0.1, 0.1]


# --- BackupAndRestore -------------------------------------------------------------------------
class InterruptAt(callbacks.Callback):
    """Stops fit with an error when ``epoch`` (and ``batch``, if given) begins."""

    def __init__(self, epoch, batch=None):
        super().__init__()
        self.epoch, self.batch = epoch, batch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch and self.batch is None:
            raise RuntimeError("Interrupting!")
        self.current = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if self.current == self.epoch and batch == self.batch:
            raise RuntimeError("Interrupting!")


def test_backup_and_restore_backs_up_each_epoch_and_cleans_up(tmp_path):
    model, x, y = model_and_data(optimizers.Adam(0.01))
    backup = callbacks.BackupAndRestore(tmp_path / "backup")
    seen = []

    def look(epoch, logs):
        with np.load(backup.backup_path) as state:
            seen.append((int(state["epoch"]), int(state["iterations"])))

    model.fit(x, y, batch_size=20, epochs=3, verbose=0,
              callbacks=[backup, callbacks.LambdaCallback(on_epoch_end=look)])
    assert seen == [(1, 2), (2, 4), (3, 6)]  # after epoch e: go on at epoch e + 1
    assert not (tmp_path / "backup").exists()  # deleted at the end of a complete fit
    keep = callbacks.BackupAndRestore(tmp_path / "kept", delete_checkpoint=False)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[keep])
    assert os.listdir(tmp_path / "kept") == ["training_state.npz"]


def test_backup_and_restore_restores_weights_and_optimizer(tmp_path):
    """The interrupted run's state comes back into a new model when training begins."""
    model, x, y = model_and_data(optimizers.Adam(0.01))
    backup = callbacks.BackupAndRestore(tmp_path)
    saved = []
    with pytest.raises(RuntimeError, match="Interrupting!"):
        model.fit(x, y, batch_size=20, epochs=5, verbose=0, callbacks=[
            backup, InterruptAt(epoch=2),
            callbacks.LambdaCallback(on_epoch_end=lambda e, logs: saved.append(
                (model.get_weights(), model.optimizer.get_state(model.trainable_weights))))])
    fresh, _, _ = model_and_data(optimizers.Adam(0.01))
    hooks = callbacks.CallbackList([callbacks.BackupAndRestore(tmp_path)], fresh,
                                   {"verbose": 0, "epochs": 5, "steps": 2})
    hooks.call("on_train_begin", {})
    assert hooks.resume_point(0) == (2, 0)
    weights, state = saved[-1]
    for a, b in zip(fresh.get_weights(), weights):
        np.testing.assert_array_equal(a, b)
    restored = fresh.optimizer.get_state(fresh.trainable_weights)
    assert restored["iterations"] == state["iterations"] == 4
    for ours, theirs in zip(restored["slots"], state["slots"]):  # Adam's m and v per weight
        for a, b in zip(ours, theirs):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(RuntimeError, match="did not ask its callbacks where to resume"):
        hooks.call("on_epoch_begin", 0, {})  # a loop that ignores resume_point is stopped


def test_backup_and_restore_refuses_another_models_backup(tmp_path):
    model, x, y = model_and_data()
    model.fit(x, y, epochs=1, verbose=0,
              callbacks=[callbacks.BackupAndRestore(tmp_path, delete_checkpoint=False)])
    other = minidl.Sequential([layers.Dense(3, input_shape=(4,)), layers.Dense(2)])
    other.compile("sgd", "mse")
    with pytest.raises(ValueError, match="written by another model"):
        other.fit(x, np.zeros((40, 2)), epochs=1, verbose=0,
                  callbacks=[callbacks.BackupAndRestore(tmp_path)])


def test_backup_and_restore_arguments():
    with pytest.raises(ValueError, match="Unrecognized save_freq: batch"):
        callbacks.BackupAndRestore("b", save_freq="batch")
    with pytest.raises(ValueError, match="Either `save_freq` or `save_before_preemption`"):
        callbacks.BackupAndRestore("b", save_freq=False)


def _uninterrupted(epochs, **fit_args):
    model, x, y = model_and_data(optimizers.Adam(0.01))
    model.fit(x, y, epochs=epochs, shuffle=False, verbose=0, **fit_args)
    return model.get_weights()


def test_backup_and_restore_resumes_at_the_next_epoch(tmp_path):
    """Keras 2's docstring example: interrupted as epoch 5 (index 4) begins, the second fit
    runs the 6 epochs left, and ends where an uninterrupted run ends."""
    model, x, y = model_and_data(optimizers.Adam(0.01))
    backup = callbacks.BackupAndRestore(tmp_path / "backup")
    with pytest.raises(RuntimeError):
        model.fit(x, y, batch_size=20, epochs=10, shuffle=False, verbose=0,
                  callbacks=[backup, InterruptAt(epoch=4)])
    history = model.fit(x, y, batch_size=20, epochs=10, shuffle=False, verbose=0,
                        callbacks=[backup])
    assert len(history.history["loss"]) == 6 and history.epoch == [4, 5, 6, 7, 8, 9]
    for a, b in zip(model.get_weights(), _uninterrupted(10, batch_size=20)):
        np.testing.assert_array_equal(a, b)
    assert not (tmp_path / "backup").exists()


def test_backup_and_restore_every_few_batches_resumes_in_the_epoch(tmp_path):
    model, x, y = model_and_data(optimizers.Adam(0.01))
    backup = callbacks.BackupAndRestore(tmp_path, save_freq=3)  # 4 batches an epoch
    with pytest.raises(RuntimeError):  # backups after batches 3 (epoch 1) and 6 (2 of epoch 2)
        model.fit(x, y, batch_size=10, epochs=3, shuffle=False, verbose=0,
                  callbacks=[backup, InterruptAt(epoch=1, batch=3)])
    fresh, _, _ = model_and_data(optimizers.Adam(0.01))
    history = fresh.fit(x, y, batch_size=10, epochs=3, shuffle=False, verbose=0,
                        callbacks=[callbacks.BackupAndRestore(tmp_path, save_freq=3)])
    assert history.epoch == [1, 2] and fresh.optimizer.iterations == 12
    for a, b in zip(fresh.get_weights(), _uninterrupted(3, batch_size=10)):
        np.testing.assert_array_equal(a, b)


# --- RemoteMonitor ----------------------------------------------------------------------------
def test_remote_monitor_posts_each_epoch(monkeypatch):
    sent = []

    class Response:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def urlopen(request):
        sent.append(request)
        return Response()

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    model, x, y = model_and_data()
    model.fit(x, y, epochs=2, verbose=0, callbacks=[
        callbacks.RemoteMonitor(headers={"X-Run": "7"}),
        callbacks.RemoteMonitor(root="http://example.invalid", path="/log", send_as_json=True)])
    form, as_json = sent[0], sent[1]
    assert form.full_url == "http://localhost:9000/publish/epoch/end/"
    assert form.get_method() == "POST" and form.get_header("X-run") == "7"
    payload = json.loads(urllib.parse.parse_qs(form.data.decode())["data"][0])
    assert set(payload) == {"epoch", "loss", "accuracy"} and payload["epoch"] == 0
    assert as_json.full_url == "http://example.invalid/log"
    assert as_json.get_header("Content-type") == "application/json"
    assert json.loads(as_json.data)["epoch"] == 0 and len(sent) == 4


def test_remote_monitor_warns_when_the_server_cannot_be_reached(monkeypatch):
    def urlopen(request):
        raise urllib.error.URLError("refused")

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    model, x, y = model_and_data()
    with pytest.warns(UserWarning, match="could not reach RemoteMonitor root server at "
                                         "http://localhost:9000"):
        history = model.fit(x, y, epochs=2, verbose=0, callbacks=[callbacks.RemoteMonitor()])
    assert history.epoch == [0, 1]
