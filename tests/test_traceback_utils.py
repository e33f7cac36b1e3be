"""Short tracebacks (utils/traceback_utils.py), the keras namespace, random.set_seed."""

import os
import signal
import subprocess
import sys
import textwrap
import traceback

import numpy as np
import pytest

import minidl
from minidl import layers
from minidl.utils import traceback_utils

MINIDL_DIR = os.path.dirname(minidl.__file__)


def frames(error):
    """The files of the traceback's frames; the line that re-raises with the
    filtered traceback (as Keras shows its error_handler) does not count."""
    return [frame.filename for frame in traceback.extract_tb(error.__traceback__)
            if "with_traceback(" not in (frame.line or "")]


def inside_minidl(files):
    return [f for f in files if f.startswith(MINIDL_DIR)]


def shape_mistake():
    model = minidl.Sequential([layers.Dense(4, input_shape=(784,)), layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(np.ones((4, 28, 28)), np.zeros(4), verbose=0)


def test_an_error_from_fit_shows_the_users_frame_and_the_message_only():
    with pytest.raises(ValueError, match="did you forget Flatten") as caught:
        shape_mistake()
    files = frames(caught.value)
    assert files[0] == __file__ and inside_minidl(files) == []
    assert len(files) <= 4
    assert caught.value.__suppress_context__


def test_the_users_own_code_called_by_minidl_stays_in_the_traceback():
    class Broken(layers.Layer):
        def call(self, x):
            raise KeyError("inside my layer")

    model = minidl.Sequential([layers.Dense(3), Broken()])  # built by its first call
    with pytest.raises(KeyError) as caught:
        model.predict(np.ones((1, 2)))
    assert inside_minidl(frames(caught.value)) == []
    inputs = minidl.Input(shape=(2,))
    with pytest.raises(KeyError) as caught:
        Broken()(inputs)
    text = "".join(traceback.format_exception(caught.value))
    assert "inside my layer" in text and "raise KeyError" in text
    assert inside_minidl(frames(caught.value)) == []


def test_a_direct_call_of_a_model_is_filtered_too():
    model = minidl.Sequential([layers.Dense(3, input_shape=(5,))])
    with pytest.raises(ValueError) as caught:
        model(np.ones((2, 4)))
    assert inside_minidl(frames(caught.value)) == []


def test_filtering_can_be_switched_off_for_debugging():
    minidl.config.disable_traceback_filtering()
    try:
        assert not minidl.config.is_traceback_filtering_enabled()
        with pytest.raises(ValueError) as caught:
            shape_mistake()
        assert len(inside_minidl(frames(caught.value))) >= 3
    finally:
        minidl.config.enable_traceback_filtering()
    assert traceback_utils.is_traceback_filtering_enabled()


def test_the_environment_switch():
    code = textwrap.dedent("""
        import numpy as np, minidl
        from minidl import layers
        m = minidl.Sequential([layers.Dense(4, input_shape=(784,))])
        m.compile("sgd", "mse")
        m.fit(np.ones((2, 28, 28)), np.ones((2, 4)), verbose=0)
    """)
    for value, minidl_frames in (("0", True), ("1", False)):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env={**os.environ, "MINIDL_TRACEBACK_FILTERING": value})
        shown = [line for line in done.stderr.splitlines()
                 if "minidl" in line and "File" in line and "traceback_utils" not in line]
        assert bool(shown) == minidl_frames, done.stderr


# --- Ctrl-C in evaluate and predict ---------------------------------------------------
@pytest.mark.parametrize("method", ["evaluate", "predict"])
def test_ctrl_c_in_evaluate_and_predict_raises_keyboard_interrupt(method):
    model = minidl.Sequential([layers.Dense(2, activation="softmax", input_shape=(3,))])
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = np.ones((4096, 3), np.float32), np.zeros(4096)

    class Interrupt(layers.Layer):
        calls = 0

        def call(self, inputs):
            Interrupt.calls += 1
            if Interrupt.calls == 3:
                signal.raise_signal(signal.SIGINT)
            return inputs

    model.add(Interrupt())
    with pytest.raises(KeyboardInterrupt):
        if method == "evaluate":
            model.evaluate(x, y, batch_size=32, verbose=0)
        else:
            model.predict(x, batch_size=32)
    assert Interrupt.calls < 4096 // 32


# --- names ----------------------------------------------------------------------------------
def test_from_minidl_import_keras_gives_the_tf_keras_names():
    from minidl import keras

    for name in ("layers", "models", "Sequential", "Model", "Input", "optimizers", "losses",
                 "metrics", "callbacks", "datasets", "utils", "initializers", "activations"):
        assert hasattr(keras, name), name
    assert keras.layers is minidl.layers and keras.Sequential is minidl.Sequential
    from minidl.keras import layers as keras_layers

    model = keras.Sequential([keras_layers.Dense(2, input_shape=(3,))])
    model.compile(optimizer=keras.optimizers.Adam(), loss=keras.losses.MeanSquaredError())
    assert model.built


def test_random_set_seed_is_tf_random_set_seed():
    minidl.random.set_seed(7)
    a = layers.Dense(3)(np.ones((1, 2))).numpy()
    minidl.random.set_seed(7)
    b = layers.Dense(3)(np.ones((1, 2))).numpy()
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="non-negative integer"):
        minidl.random.set_seed(-1)
