"""Ctrl-C during fit(), and a loss that becomes NaN.

Ctrl-C is a real SIGINT sent to a child Python process that is training.  The
child checks, after ``fit()`` raised KeyboardInterrupt (as Keras lets it, so
a notebook's "Run All" stops there), that

* the step in flight was completed: the weights are exactly those recorded
  at the end of the last step, and ``optimizer.iterations`` counts exactly
  the completed steps;
* the weights and the optimizer's state are bitwise those of an uninterrupted
  run stopped after the same number of steps (so the state matches the weights);
* ``model.history`` holds exactly the epochs that finished;
* ``fit()`` can be called again and trains on.

It prints one JSON line with what it saw; the test reads it.
"""

import json
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import numpy as np
import pytest
from child_env import child_env

import minidl
from minidl import callbacks, layers, optimizers

CHILD = textwrap.dedent(r"""
    import json, os, signal, sys, time
    import numpy as np
    import minidl
    from minidl import callbacks, layers

    MODE, WHEN = sys.argv[1], int(sys.argv[2])   # "self" (SIGINT at global step WHEN) or "parent"
    rng = np.random.default_rng(0)
    x = rng.random((256, 8)).astype("float32")
    y = (x.sum(axis=1) > 4).astype("int64") + (x[:, 0] > 0.5)

    def build():
        minidl.utils.set_random_seed(1)
        model = minidl.Sequential([layers.Dense(16, activation="relu", input_shape=(8,)),
                                   layers.Dropout(0.1),
                                   layers.Dense(3, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
        return model

    def state(model):
        s = model.optimizer.get_state(list(model.trainable_weights))
        return [w.data.copy() for w in model.weights], s["iterations"], s["slots"]

    class Recorder(callbacks.Callback):
        # keeps the weights at the end of every step; sends or announces Ctrl-C
        def __init__(self):
            super().__init__()
            self.steps = 0
            self.last = None
        def on_train_batch_end(self, batch, logs=None):
            self.steps += 1
            self.last = [w.data.copy() for w in self.model.weights]
            if MODE == "self" and self.steps == WHEN:
                signal.raise_signal(signal.SIGINT)
            if MODE == "parent":
                if self.steps == WHEN:
                    print("TRAINING", flush=True)
                time.sleep(0.002)   # give the parent a window inside fit()

    model = build()
    recorder = Recorder()
    try:
        model.fit(x, y, epochs=200, batch_size=16, verbose=0, callbacks=[recorder])
        message = None
    except KeyboardInterrupt as interrupt:
        message = str(interrupt)
    history = model.history
    weights, iterations, slots = state(model)
    report = {
        "message": message,
        "steps": recorder.steps,
        "iterations": int(iterations),
        "epochs_in_history": history.epoch,
        "loss_entries": len(history.history.get("loss", [])),
        "weights_are_last_step": all(np.array_equal(a, b) for a, b in zip(weights, recorder.last)),
    }

    # an uninterrupted run, stopped after the same number of steps
    class StopAfter(callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.steps = 0
        def on_train_batch_end(self, batch, logs=None):
            self.steps += 1
            if self.steps == recorder.steps:
                self.model.stop_training = True
    replay = build()
    replay.fit(x, y, epochs=200, batch_size=16, verbose=0, callbacks=[StopAfter()])
    w2, it2, slots2 = state(replay)
    report["same_as_replay"] = (
        it2 == iterations
        and all(a.tobytes() == b.tobytes() for a, b in zip(weights, w2))
        and all(a.tobytes() == b.tobytes() for s, t in zip(slots, slots2) for a, b in zip(s, t))
    )

    # fit() continues
    more = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    report["continued_epochs"] = more.epoch
    report["continued_loss_finite"] = bool(np.isfinite(more.history["loss"]).all())
    report["iterations_after_continue"] = int(model.optimizer.iterations)
    print("REPORT " + json.dumps(report), flush=True)
""")

STEPS_PER_EPOCH = 256 // 16


def run_child(mode, when, send_after=None):
    env = child_env(OMP_NUM_THREADS="1")
    process = subprocess.Popen([sys.executable, "-c", CHILD, mode, str(when)], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if send_after is not None:
        line = process.stdout.readline()
        assert line.strip() == "TRAINING", line + process.stderr.read()
        time.sleep(send_after)
        process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, f"child failed:\n{err}"
    reports = [line for line in out.splitlines() if line.startswith("REPORT ")]
    assert reports, out + err
    return json.loads(reports[0][len("REPORT "):]), out


def check_report(report):
    assert report["message"] is not None, "fit() must raise KeyboardInterrupt after stopping cleanly"
    steps = report["steps"]
    assert steps >= 1
    assert report["iterations"] == steps, "optimizer.iterations must count the completed steps"
    assert report["weights_are_last_step"], "weights differ from those after the last complete step"
    assert report["same_as_replay"], "weights/optimizer state differ from an uninterrupted run of the same length"
    finished = steps // STEPS_PER_EPOCH  # epochs whose every step completed
    assert report["epochs_in_history"] == list(range(finished))
    assert report["loss_entries"] == finished
    assert report["continued_epochs"] == [0, 1]
    assert report["continued_loss_finite"]
    assert report["iterations_after_continue"] == steps + 2 * STEPS_PER_EPOCH


@pytest.mark.parametrize("when", [1, 5, STEPS_PER_EPOCH, STEPS_PER_EPOCH + 3])
def test_ctrl_c_at_a_known_step(when):
    """SIGINT raised in the training process itself, at a chosen step (deterministic)."""
    report, out = run_child("self", when)
    assert report["steps"] == when, "training must stop right after the step in flight"
    check_report(report)
    assert "interrupted" in report["message"].lower() and "fit() again" in report["message"]


@pytest.mark.skipif(sys.platform == "win32", reason="Windows cannot send SIGINT to one process: its "
                    "Ctrl-C event goes to the whole console, this test run included")
def test_ctrl_c_from_outside_at_a_random_moment():
    """SIGINT from the parent process, at a random moment of the second epoch or later."""
    rng = np.random.default_rng()
    report, _ = run_child("parent", STEPS_PER_EPOCH + 1, send_after=float(rng.uniform(0.0, 0.05)))
    check_report(report)
    assert report["steps"] > STEPS_PER_EPOCH


# --- NaN ---------------------------------------------------------------------------
def exploding_model():
    minidl.utils.set_random_seed(0)
    model = minidl.Sequential([layers.Dense(1, input_shape=(2,))])
    model.compile(optimizers.SGD(learning_rate=1e30), "mse")
    return model


X = np.full((64, 2), 1e3, np.float32)
Y = np.full(64, -1e3, np.float32)


def test_a_nan_loss_warns_naming_epoch_and_step():
    model = exploding_model()
    with pytest.warns(RuntimeWarning) as caught:
        model.fit(X, Y, epochs=2, batch_size=16, verbose=0)
    messages = [str(w.message) for w in caught if "loss became" in str(w.message)]
    assert len(messages) == 1, "warn once, not at every step"
    assert "epoch 1" in messages[0] and "step 2" in messages[0] and "TerminateOnNaN" in messages[0]


def test_terminate_on_nan_stops_at_that_step(capsys):
    model = exploding_model()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        history = model.fit(X, Y, epochs=5, batch_size=16, verbose=0, callbacks=[callbacks.TerminateOnNaN()])
    assert model.optimizer.iterations == 2, "training stops after the step whose loss was not finite"
    assert len(history.epoch) == 1
    assert "invalid loss" in capsys.readouterr().out.lower()
