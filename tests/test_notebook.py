"""minidl in a real Jupyter notebook: plots shown inline once each, a sane progress bar,
and a data-set error that shows its message, not a chain of network errors.

One small notebook is built here and run once, cell by cell, by nbclient in a
python3 kernel of this very interpreter (a kernelspec written to a temporary
directory that ``$JUPYTER_PATH`` puts first); each test then reads the outputs
of its cells. No cell before "with_matplotlib_inline" runs ``%matplotlib inline``
or imports pyplot.
"""

import base64
import importlib.util
import struct
import sys

import pytest

pytest.importorskip("matplotlib")
if importlib.util.find_spec("ipykernel") is None:  # not imported here: see outputs()
    pytest.skip("ipykernel is not installed", allow_module_level=True)
nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

from jupyter_kernel import notebook_environment  # noqa: E402

CELLS = {
    "setup": """\
import sys
import numpy as np
import minidl
from minidl import layers, plot
print(sys.executable)""",
    # A learner's cell: train, then two pictures. The last call also ends the cell.
    "train_and_plot": """\
minidl.utils.set_random_seed(0)
x = np.random.default_rng(0).random((64, 3)).astype("float32")
y = (x.sum(axis=1) > 1.5).astype("int64")
model = minidl.Sequential([layers.Dense(4, activation="relu", input_shape=(3,)),
                           layers.Dense(2, activation="softmax")])
model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
history = model.fit(x, y, batch_size=32, epochs=2, verbose=1)
plot.plot_history(history)
plot.plot_confusion_matrix((y, model.predict(x)), ["low", "high"])""",
    "returned_figure": """\
fig = plot.plot_history(history)
fig.savefig(SAVED_PATH)
print(type(fig).__module__, type(fig).__name__)
fig""",
    "figure_in_a_later_cell": """\
fig""",
    "changed_figure": """\
fig = plot.plot_history(history)
fig.axes[0].set_yscale("log")
fig""",
    "pyplot_untouched": """\
print("matplotlib.pyplot" in sys.modules)""",
    "with_matplotlib_inline": """\
%matplotlib inline
import matplotlib.pyplot as plt
plot.show_images(x[:4, :1].reshape(4, 1, 1), labels=y[:4])""",
    "no_pyplot_figures": """\
print(plt.get_fignums())""",
    # Offline: nothing on disk, and a port nobody listens on stands for the download server.
    "offline_data_set": """\
import dataclasses, os, socket, tempfile
from minidl.datasets import fashion_mnist
os.environ["HOME"] = os.environ["MINIDL_DATA"] = tempfile.mkdtemp()
with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
files = tuple(dataclasses.replace(f, url=f"http://127.0.0.1:{port}/{f.name}")
              for f in fashion_mnist.SPEC.files)
fashion_mnist.SPEC = dataclasses.replace(fashion_mnist.SPEC, files=files, system_dirs=())
fashion_mnist.load_data()""",
}


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """``{cell name: [outputs]}`` of the notebook above, run in a fresh kernel."""
    directory = tmp_path_factory.mktemp("notebook")
    saved = directory / "curves.png"
    cells = {name: source.replace("SAVED_PATH", repr(str(saved))) for name, source in CELLS.items()}
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(source) for source in cells.values()]
    )
    notebook.cells[-1].metadata["tags"] = ["raises-exception"]  # the offline one; run on
    with notebook_environment(directory) as kernel:
        client = nbclient.NotebookClient(notebook, kernel_name=kernel, timeout=60,
                                         resources={"metadata": {"path": str(directory)}})
        client.execute()
    assert saved.is_file(), "fig.savefig() wrote nothing"
    return {name: cell.outputs for name, cell in zip(cells, notebook.cells)}


def stdout(outputs):
    return "".join(o.text for o in outputs if o.output_type == "stream" and o.name == "stdout")


def images(outputs):
    """(width, height) of each PNG in the cell's outputs, in order."""
    sizes = []
    for output in outputs:
        if "image/png" in output.get("data", {}):
            png = base64.b64decode(output.data["image/png"])
            sizes.append(struct.unpack(">II", png[16:24]))
    return sizes


def output_types(outputs):
    return [o.output_type for o in outputs if o.output_type != "stream"]


def test_the_kernel_runs_this_python(outputs):
    assert stdout(outputs["setup"]).strip() == sys.executable


def test_every_plot_of_a_cell_shows_once_in_order(outputs):
    cell = outputs["train_and_plot"]
    assert output_types(cell) == ["display_data", "display_data"]  # no execute_result
    (history_w, history_h), (matrix_w, matrix_h) = images(cell)
    assert history_w / history_h > 2  # two panels side by side
    assert matrix_w / matrix_h < 1.5  # a square matrix and its colour bar


def test_the_progress_bar_ends_each_epoch_with_one_final_line(outputs):
    """Live redraws start with a carriage return; once a browser has applied them,
    each epoch reads as in Keras: its title, then the full bar with the totals."""
    text = stdout(outputs["train_and_plot"])
    assert text.count("\r") <= 10, text  # a few live redraws, not one per step or more
    shown = [line.rsplit("\r", 1)[-1].rstrip() for line in text.split("\n")[:-1]]
    assert len(shown) == 4 and shown[0] == "Epoch 1/2" and shown[2] == "Epoch 2/2", shown
    for line in shown[1], shown[3]:
        assert line.startswith("2/2 [==============================] - "), shown
        assert "/step - loss: " in line, shown
        assert " - accuracy: " in line and "ETA" not in line, shown


def test_a_returned_figure_ending_the_cell_shows_once(outputs):
    cell = outputs["returned_figure"]
    assert output_types(cell) == ["display_data"]
    assert len(images(cell)) == 1
    assert stdout(cell) == "matplotlib.figure Figure\n"


def test_a_figure_shows_again_in_a_later_cell_or_once_changed(outputs):
    cell = outputs["figure_in_a_later_cell"]
    assert output_types(cell) == ["display_data"]
    assert len(images(cell)) == 1
    cell = outputs["changed_figure"]  # as plotted, then with a log scale
    assert output_types(cell) == ["display_data", "display_data"]
    first, second = (base64.b64decode(o.data["image/png"]) for o in cell)
    assert first != second


def test_pyplot_is_neither_imported_nor_given_the_figures(outputs):
    assert stdout(outputs["pyplot_untouched"]).strip() == "False"
    cell = outputs["with_matplotlib_inline"]  # inline backend on: still shown once
    assert output_types(cell) == ["display_data"]
    assert len(images(cell)) == 1
    assert stdout(outputs["no_pyplot_figures"]).strip() == "[]"


def test_the_offline_data_set_error_is_the_message_alone(outputs):
    (error,) = [o for o in outputs["offline_data_set"] if o.output_type == "error"]
    assert error.ename == "DatasetNotFoundError"
    assert error.evalue.startswith("Fashion-MNIST not found. Looked for ")
    assert "apt-get install dataset-fashion-mnist" in error.evalue
    assert "(download failed: train-labels-idx1-ubyte.gz: " in error.evalue
    traceback = "\n".join(error.traceback)
    assert "During handling of the above exception" not in traceback
    assert "URLError" not in traceback and "ConnectionRefusedError" not in traceback
