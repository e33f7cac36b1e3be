"""Each plot renders headless to a real PNG of the expected shape with more than one colour,
and in a notebook (a simulated IPython kernel here; tests/test_notebook.py runs a real one)
shows its figure once, at once."""

import struct
import subprocess
import sys
import types

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from minidl import plot  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def check_png(path, figure):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    # The figure's shape, not matplotlib's exact pixel count (its rounding and
    # rcParams["savefig.dpi"] may change that).
    expected_width, expected_height = figure.get_size_inches()
    assert width / height == pytest.approx(expected_width / expected_height, rel=0.02)
    assert min(width, height) >= 100
    from matplotlib.image import imread

    pixels = imread(path)
    assert len(np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)) > 1


class FakeHistory:
    history = {"loss": [1.0, 0.6, 0.4], "accuracy": [0.6, 0.8, 0.85], "val_loss": [0.9, 0.7, 0.6], "val_accuracy": [0.65, 0.75, 0.8]}


def test_plot_history(tmp_path):
    figure = plot.plot_history(FakeHistory(), path=tmp_path / "h.png")
    check_png(tmp_path / "h.png", figure)
    assert len(figure.axes) == 2
    assert [line.get_label() for line in figure.axes[0].lines] == ["training loss", "validation loss"]


def test_plot_history_selects_metrics_and_accepts_a_dict(tmp_path):
    figure = plot.plot_history({"loss": [3, 2, 1]}, metrics=["loss"])
    assert len(figure.axes) == 1
    with pytest.raises(ValueError, match="no metric named \\['accuracy'\\]"):
        plot.plot_history({"loss": [3, 2, 1]}, metrics=["accuracy"])


def test_plot_confusion_matrix_from_labels(tmp_path):
    y_true = np.array([0, 0, 1, 1, 2, 2, 2])
    y_pred = np.eye(3)[[0, 1, 1, 1, 2, 0, 2]]  # probabilities/one-hot rows
    figure = plot.plot_confusion_matrix((y_true, y_pred), class_names=["a", "b", "c"], path=tmp_path / "cm.png")
    check_png(tmp_path / "cm.png", figure)
    texts = [t.get_text() for t in figure.axes[0].texts]
    assert texts == ["1", "1", "0", "0", "2", "0", "1", "0", "2"]


def test_plot_confusion_matrix_normalized(tmp_path):
    cm = np.array([[8, 2], [0, 0]])
    figure = plot.plot_confusion_matrix(cm, normalize=True, path=tmp_path / "n.png")
    check_png(tmp_path / "n.png", figure)
    assert [t.get_text() for t in figure.axes[0].texts] == ["0.80", "0.20", "0.00", "0.00"]


def test_show_images_marks_mistakes_in_red(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (6, 28, 28, 1), dtype=np.uint8)
    labels = np.array([0, 1, 2, 0, 1, 2])
    predictions = np.array([0, 1, 1, 0, 2, 2])
    figure = plot.show_images(images, labels, predictions, class_names=["x", "y", "z"], ncols=3, path=tmp_path / "s.png")
    check_png(tmp_path / "s.png", figure)
    colors = [axes.title.get_color() for axes in figure.axes]
    assert colors.count("red") == 2
    assert "(true: z)" in figure.axes[2].get_title()


def test_show_images_flat_input_and_labels_only(tmp_path):
    figure = plot.show_images(np.linspace(0, 1, 4 * 784).reshape(4, 784), labels=[3, 1, 4, 1], path=tmp_path / "f.png")
    check_png(tmp_path / "f.png", figure)
    assert figure.axes[0].get_title() == "3"


def test_plot_filters(tmp_path):
    kernel = np.random.default_rng(1).normal(size=(3, 3, 1, 12))
    figure = plot.plot_filters(kernel, path=tmp_path / "k.png")
    check_png(tmp_path / "k.png", figure)
    assert len(figure.axes) == 12 + 1  # the filters and the colour bar


def test_plot_filters_single_kernel():
    sobel = np.array([[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    assert len(plot.plot_filters(sobel).axes) == 2


class _Layer:
    def __init__(self, name, fn):
        self.name, self.fn = name, fn

    def __call__(self, x):
        return self.fn(x)


class _FakeModel:
    """Just enough of a Sequential model: ``layers`` in order and ``input_shapes``."""

    input_shapes = [(None, 8, 8, 1)]
    layers = [
        _Layer("conv", lambda x: np.concatenate([x, -x, x * 2], axis=-1)),
        _Layer("pool", lambda x: x[:, ::2, ::2, :]),
        _Layer("flatten", lambda x: x.reshape(len(x), -1)),
    ]


def test_plot_feature_maps(tmp_path):
    image = np.arange(64, dtype=np.float32).reshape(8, 8)
    figure = plot.plot_feature_maps(_FakeModel(), image, path=tmp_path / "fm.png")
    check_png(tmp_path / "fm.png", figure)
    assert len(figure.axes) == 3 + 3  # conv and pool rows, three channels each
    with pytest.raises(ValueError, match="no layer named \\['dense'\\]"):
        plot.plot_feature_maps(_FakeModel(), image, layer_names=["dense"])


def test_plot_feature_maps_on_a_real_model(tmp_path):
    layers = pytest.importorskip("minidl.layers")
    models = pytest.importorskip("minidl.models")
    model = models.Sequential([
        layers.Conv2D(4, (3, 3), activation="relu", input_shape=(10, 10, 1)),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(3, activation="softmax"),
    ])
    figure = plot.plot_feature_maps(model, np.random.default_rng(0).random((10, 10)), path=tmp_path / "r.png")
    check_png(tmp_path / "r.png", figure)
    assert len(figure.axes) == 8
    assert len(plot.plot_filters(model.layers[0]).axes) == 5


def test_without_matplotlib_the_error_says_how_to_install(monkeypatch):
    for name in [name for name in sys.modules if name == "matplotlib" or name.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install minidl\[plot\]"):
        plot.plot_history({"loss": [1, 0.5]})


def test_plot_feature_maps_on_a_functional_model_with_branches(tmp_path):
    layers = pytest.importorskip("minidl.layers")
    models = pytest.importorskip("minidl.models")
    inputs = layers.Input(shape=(8, 8, 1))
    left = layers.Conv2D(2, (3, 3), padding="same", name="left")(inputs)
    right = layers.Conv2D(2, (5, 5), padding="same", name="right")(inputs)
    merged = layers.Add(name="both")([left, right])
    model = models.Model(inputs=inputs, outputs=layers.Dense(3)(layers.Flatten()(merged)))
    figure = plot.plot_feature_maps(model, np.ones((8, 8)), layer_names=["left", "both"], path=tmp_path / "b.png")
    check_png(tmp_path / "b.png", figure)
    labels = [axes.get_ylabel() for axes in figure.axes if axes.get_ylabel()]
    assert labels == ["left\n8x8x2", "both\n8x8x2"]


# --- in a notebook -------------------------------------------------------------------


class FakeKernelShell:
    """What ``get_ipython()`` returns in a Jupyter kernel, as far as minidl.plot looks."""

    kernel = object()
    execution_count = 1


@pytest.fixture
def notebook(monkeypatch):
    """A simulated Jupyter kernel: ``notebook.shown`` collects the bundles it displays.

    Its ``display(obj)`` does what IPython's does for an object with ``_ipython_display_``.
    """
    shown = []

    def display(obj, raw=False):
        if raw:
            shown.append(obj)
        else:
            obj._ipython_display_()

    shell = FakeKernelShell()
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    monkeypatch.setitem(sys.modules, "IPython.display", types.SimpleNamespace(display=display))
    return types.SimpleNamespace(shown=shown, shell=shell)


def pngs(bundles):
    return [bundle["image/png"] for bundle in bundles]


def test_in_a_notebook_each_plot_shows_once_in_order(notebook):
    history = plot.plot_history(FakeHistory())
    matrix = plot.plot_confusion_matrix(np.eye(3))
    assert [bundle["text/plain"] for bundle in notebook.shown] == [repr(history), repr(matrix)]
    assert all(png.startswith(PNG_SIGNATURE) for png in pngs(notebook.shown))


def test_in_a_notebook_a_returned_figure_ending_the_cell_is_not_shown_again(notebook):
    figure = plot.plot_history(FakeHistory())
    figure._ipython_display_()  # what the cell's display hook does with ``figure``
    assert len(notebook.shown) == 1
    notebook.shell.execution_count += 1  # the next cell: ``figure`` alone shows it
    figure._ipython_display_()
    assert len(notebook.shown) == 2


def test_in_a_notebook_a_changed_figure_is_shown_again(notebook):
    figure = plot.plot_history(FakeHistory())
    figure.axes[0].set_yscale("log")
    figure._ipython_display_()
    assert len(notebook.shown) == 2
    assert pngs(notebook.shown)[0] != pngs(notebook.shown)[1]


def test_in_a_notebook_path_still_saves(notebook, tmp_path):
    figure = plot.plot_filters(np.ones((3, 3)), path=tmp_path / "k.png")
    check_png(tmp_path / "k.png", figure)
    assert len(notebook.shown) == 1


@pytest.mark.parametrize("get_ipython", [
    lambda: None,  # IPython imported by a plain script
    lambda: types.SimpleNamespace(execution_count=1),  # a terminal IPython: no kernel
])
def test_outside_a_kernel_nothing_is_displayed(monkeypatch, capsys, get_ipython):
    def display(*args, **kwargs):
        pytest.fail("displayed outside a kernel")

    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=get_ipython))
    monkeypatch.setitem(sys.modules, "IPython.display", types.SimpleNamespace(display=display))
    figure = plot.plot_history(FakeHistory())
    assert not hasattr(figure, "_ipython_display_")
    assert capsys.readouterr() == ("", "")


def test_a_script_shows_and_prints_nothing_and_leaves_pyplot_alone(tmp_path):
    script = f"""
import sys
from minidl import plot
figure = plot.plot_history({{"loss": [1.0, 0.5]}}, path={str(tmp_path / "h.png")!r})
figure.savefig({str(tmp_path / "again.png")!r})
assert "IPython" not in sys.modules and "matplotlib.pyplot" not in sys.modules, sorted(sys.modules)
"""
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60, check=False)
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
    assert (tmp_path / "h.png").is_file() and (tmp_path / "again.png").is_file()


def test_show_saves_a_figure_of_your_own_and_returns_it(tmp_path):
    from matplotlib.figure import Figure

    figure = Figure(figsize=(2, 2))
    figure.subplots().plot([0, 1], [1, 0])
    path = tmp_path / "mine.png"
    assert plot.show(figure, path) is figure
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
