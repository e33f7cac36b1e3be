"""Read-only and memory-mapped data through fit, evaluate and predict.

Learners load big data sets with ``np.load(..., mmap_mode="r")`` or
``np.memmap``, or get arrays marked ``writeable=False``: each must train,
evaluate and predict exactly as the same values held in ordinary arrays do, on
the compiled kernels and on their NumPy twins, and fit must check all its data
(validation included) before the first step changes anything.
"""

import numpy as np
import pytest

import minidl
from minidl import _kernels, layers
from minidl.utils import set_random_seed

HOW = ["writeable=False", "np.load(mmap_mode='r')", "np.memmap"]


@pytest.fixture(params=_kernels.BACKENDS)
def kernels(request):
    previous = _kernels.current
    _kernels.use(request.param)
    yield request.param
    _kernels.current = previous


def mlp():
    return minidl.Sequential([layers.Flatten(input_shape=(8, 8, 1)),
                              layers.Dense(16, activation="relu"),
                              layers.Dense(3, activation="softmax")])


def cnn():
    return minidl.Sequential([layers.Conv2D(4, (3, 3), activation="relu", input_shape=(8, 8, 1)),
                              layers.MaxPooling2D((2, 2)), layers.Flatten(),
                              layers.Dense(3, activation="softmax")])


def data(seed=0, n=48):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 8, 8, 1)).astype(np.float32), rng.integers(0, 3, n)


def read_only(array, how, path):
    """``array``'s values, read-only in the way ``how`` names (written under ``path``)."""
    if how == "writeable=False":
        array = array.copy()
        array.flags.writeable = False
        return array
    if how == "np.load(mmap_mode='r')":
        np.save(path.with_suffix(".npy"), array)
        return np.load(path.with_suffix(".npy"), mmap_mode="r")
    writer = np.memmap(path, array.dtype, "w+", shape=array.shape)
    writer[...] = array
    writer.flush()
    del writer
    return np.memmap(path, array.dtype, "r", shape=array.shape)


def train(make, x, y, **fit_args):
    set_random_seed(7)
    model = make()
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0, **fit_args)
    return model, history.history


@pytest.mark.parametrize("validation", ["none", "validation_split", "validation_data"])
@pytest.mark.parametrize("how", HOW)
@pytest.mark.parametrize("make", [mlp, cnn], ids=["mlp", "cnn"])
def test_fit_evaluate_predict_take_read_only_data(make, how, validation, kernels, tmp_path):
    x, y = data()
    x_val, y_val = data(seed=1, n=16)
    ro = {name: read_only(a, how, tmp_path / name)
          for name, a in dict(x=x, y=y, x_val=x_val, y_val=y_val).items()}
    assert not any(a.flags.writeable for a in ro.values())

    def fit_args(x_val, y_val):
        if validation == "validation_split":
            return dict(validation_split=0.25)
        if validation == "validation_data":
            return dict(validation_data=(x_val, y_val))
        return {}

    model, history = train(make, ro["x"], ro["y"], **fit_args(ro["x_val"], ro["y_val"]))
    twin, twin_history = train(make, x, y, **fit_args(x_val, y_val))

    assert history == twin_history
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.evaluate(ro["x_val"], ro["y_val"], verbose=0) == \
        twin.evaluate(x_val, y_val, verbose=0)
    np.testing.assert_array_equal(model.predict(ro["x_val"], verbose=0),
                                  twin.predict(x_val, verbose=0))
    np.testing.assert_array_equal(model(ro["x_val"]).numpy(), twin(x_val).numpy())
    # nothing was written into the data
    np.testing.assert_array_equal(ro["x"], x)
    np.testing.assert_array_equal(ro["y_val"], y_val)


@pytest.mark.parametrize("make", [mlp, cnn], ids=["mlp", "cnn"])
def test_a_bad_memory_mapped_validation_set_fails_before_the_first_step(make, tmp_path):
    x, y = data()
    x_val, y_val = data(seed=1, n=16)
    x_val[5, 2, 2, 0] = np.nan  # found only by reading every value
    bad = (read_only(x_val, "np.memmap", tmp_path / "x_val"),
           read_only(y_val, "np.memmap", tmp_path / "y_val"))
    set_random_seed(7)
    model = make()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.build((None, 8, 8, 1))
    before = [w.copy() for w in model.get_weights()]
    with pytest.raises(ValueError, match=r"validation_data\[0\].*non-finite"):
        model.fit(read_only(x, "np.memmap", tmp_path / "x"), y, validation_data=bad,
                  epochs=2, batch_size=16, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.iterations == 0
