"""Pictures of training: curves, confusion matrices, image grids, filters, feature maps,
and the autograd graph behind a value.

    from minidl import plot
    history = model.fit(x, y, validation_split=0.1, epochs=5)
    plot.plot_history(history, path="curves.png")
    plot.plot_confusion_matrix((y_test, model.predict(x_test)), class_names, path="cm.png")
    plot.show_images(x_test[:20], y_test[:20], model.predict(x_test[:20]), class_names, path="mistakes.png")
    plot.plot_graph(loss, path="graph.png")
    plot.show(my_figure, path="mine.png")   # a matplotlib Figure of your own, the same way

Every function returns a ``matplotlib.figure.Figure`` and saves it when given
``path``. Figures are built directly on matplotlib's Agg canvas, without
``pyplot``: no window, no display needed, and no global state changed, so in a
script nothing is shown or printed.

In a Jupyter notebook (any IPython kernel) each function also shows its figure
at once, below the cell, as pyplot code does: a cell that calls ``plot_history``
then ``plot_confusion_matrix`` shows both, in that order, and ``%matplotlib
inline`` is not needed. ``fig = plot_history(history)`` still gives the figure
(``fig.savefig("curves.png")``), and a call or a ``fig`` ending the cell does
not show it a second time; a figure changed since it was shown
(``fig.axes[0].set_yscale("log")``) is shown again by ``fig`` or
``display(fig)``.

matplotlib is an optional dependency (``pip install minidl[plot]``),
imported only when a function here is called.
"""

from __future__ import annotations

import io
import math
import sys

import numpy as np

_INSTALL_HINT = "minidl.plot needs matplotlib, which is not installed: pip install minidl[plot]"


def plot_history(history, metrics=None, path=None):
    """Loss and metrics per epoch, training (solid) against validation (dashed).

    ``history`` is what ``fit()`` returns (or its ``.history`` dict);
    ``metrics`` picks names such as ``["loss", "accuracy"]`` (default: all
    training metrics). Each metric gets its own panel, with its ``val_``
    twin when there is one.
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise ValueError(f"plot_history: expected a History or a non-empty dict of lists, received {history!r}.")
    if metrics is None:
        metrics = [name for name in logs if not name.startswith("val_")] or list(logs)
    unknown = [name for name in metrics if name not in logs]
    if unknown:
        raise ValueError(f"plot_history: no metric named {unknown} in the history; it has {list(logs)}.")

    figure = _new_figure((5 * len(metrics), 3.8))
    for position, name in enumerate(metrics, start=1):
        axes = figure.add_subplot(1, len(metrics), position)
        epochs = np.arange(1, len(logs[name]) + 1)
        axes.plot(epochs, logs[name], "o-", color="tab:blue", label=f"training {name}")
        if f"val_{name}" in logs:
            axes.plot(epochs, logs[f"val_{name}"], "s--", color="tab:orange", label=f"validation {name}")
        axes.set_xlabel("Epoch")
        axes.set_ylabel(name)
        axes.set_title(name.replace("_", " ").capitalize())
        axes.xaxis.get_major_locator().set_params(integer=True)
        axes.grid(True, alpha=0.3)
        axes.legend()
    figure.tight_layout()
    return _finish(figure, path)


def plot_confusion_matrix(cm, class_names=None, normalize=False, path=None):
    """A confusion matrix as a heat map: rows are true classes, columns predicted ones.

    ``cm`` is a square matrix of counts, or a pair ``(y_true, y_pred)`` of
    labels (integers, one-hot rows or predicted probabilities) from which it
    is counted. With ``normalize=True`` each row is divided by its total, so
    the diagonal reads as the recall of each class.
    """
    if isinstance(cm, (tuple, list)) and len(cm) == 2:
        from minidl.metrics import confusion_matrix

        y_true, y_pred = (_as_labels(labels) for labels in cm)
        cm = confusion_matrix(y_true, y_pred, num_classes=len(class_names) if class_names is not None else None)
    cm = np.asarray(cm, dtype=np.float64)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"plot_confusion_matrix: expected a square matrix or (y_true, y_pred), received shape {cm.shape}.")
    n = cm.shape[0]
    names = list(class_names) if class_names is not None else [str(i) for i in range(n)]
    if len(names) != n:
        raise ValueError(f"plot_confusion_matrix: {len(names)} class names for a {n}x{n} matrix.")
    if normalize:
        totals = cm.sum(axis=1, keepdims=True)
        cm = np.divide(cm, totals, out=np.zeros_like(cm), where=totals > 0)

    size = max(4.5, 0.6 * n + 2.5)
    figure = _new_figure((size + 1, size))
    axes = figure.add_subplot(1, 1, 1)
    image = axes.imshow(cm, cmap="Blues", vmin=0)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    threshold = cm.max() / 2 if cm.size else 0
    for i in range(n):
        for j in range(n):
            text = f"{cm[i, j]:.2f}" if normalize else f"{int(cm[i, j])}"
            axes.text(j, i, text, ha="center", va="center", fontsize=8 if n > 10 else 9,
                      color="white" if cm[i, j] > threshold else "black")
    axes.set_xticks(range(n), names, rotation=45, ha="right")
    axes.set_yticks(range(n), names)
    axes.set_xlabel("Predicted label")
    axes.set_ylabel("True label")
    axes.set_title("Confusion matrix" + (" (each row sums to 1)" if normalize else ""))
    figure.tight_layout()
    return _finish(figure, path)


def show_images(images, labels=None, predictions=None, class_names=None, ncols=None, cmap="binary", path=None):
    """A grid of images titled with their labels; with ``predictions``, mistakes in red.

    ``images`` is ``(N, H, W)``, ``(N, H, W, 1)``, ``(N, H, W, 3)`` or
    flattened ``(N, H*W)`` with square images. ``labels`` and
    ``predictions`` are class indices, or rows of probabilities (the highest
    wins). A wrong prediction is titled "predicted (true)" in red with a red
    frame; a right one in green.
    """
    images = _as_image_batch(images)
    n = len(images)
    labels = None if labels is None else _as_labels(labels)
    predictions = None if predictions is None else _as_labels(predictions)
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values is not None and len(values) != n:
            raise ValueError(f"show_images: {n} images but {len(values)} {name}.")
    ncols = ncols or min(n, 10)
    nrows = math.ceil(n / ncols)
    figure = _new_figure((1.5 * ncols, 1.9 * nrows + 0.3))

    def name(index):
        return class_names[index] if class_names is not None else str(index)

    for i, image in enumerate(images):
        axes = figure.add_subplot(nrows, ncols, i + 1)
        axes.imshow(image, cmap=None if image.ndim == 3 else cmap)
        axes.set_xticks([])
        axes.set_yticks([])
        if predictions is not None:
            right = labels is None or predictions[i] == labels[i]
            color = "tab:green" if right else "red"
            title = name(predictions[i]) if right else f"{name(predictions[i])}\n(true: {name(labels[i])})"
            axes.set_title(title, color=color, fontsize=8)
            for spine in axes.spines.values():
                spine.set_color(color)
                spine.set_linewidth(1 if right else 3)
        elif labels is not None:
            axes.set_title(name(labels[i]), fontsize=8)
    if predictions is not None and labels is not None:
        wrong = int(np.sum(predictions != labels))
        figure.suptitle(f"{n - wrong} of {n} right; mistakes in red", fontsize=10)
    figure.tight_layout()
    return _finish(figure, path)


def plot_filters(kernel, ncols=8, path=None):
    """The kernels of a convolution, one small picture per filter.

    ``kernel`` is a Conv2D layer or its weights, shaped like Keras's
    ``(kernel_h, kernel_w, in_channels, filters)`` (a single ``(kh, kw)``
    kernel also works). Red is positive, blue negative, on one colour scale
    shared by all filters; with several input channels the picture shows
    their mean.
    """
    weights = _layer_kernel(kernel)
    if weights.ndim == 2:
        weights = weights[:, :, None, None]
    if weights.ndim != 4:
        raise ValueError(f"plot_filters: expected a kernel (kh, kw, in, out), received shape {weights.shape}.")
    filters = weights.mean(axis=2)  # (kh, kw, out)
    count = filters.shape[-1]
    ncols = min(ncols, count)
    nrows = math.ceil(count / ncols)
    limit = float(np.abs(filters).max()) or 1.0
    figure = _new_figure((1.1 * ncols + 1.2, 1.1 * nrows + 0.6))
    for i in range(count):
        axes = figure.add_subplot(nrows, ncols, i + 1)
        image = axes.imshow(filters[:, :, i], cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes.set_xticks([])
        axes.set_yticks([])
        axes.set_title(f"{i}", fontsize=8)
    figure.colorbar(image, ax=figure.axes, shrink=0.8)
    name = getattr(kernel, "name", None)
    figure.suptitle(f"Filters of {name}" if name else f"{count} filter{'s' * (count > 1)}", fontsize=10)
    return _finish(figure, path)


def plot_feature_maps(model, x, layer_names=None, max_maps=8, path=None):
    """What the layers of ``model`` see for one input ``x``: one row of activation maps per layer.

    ``model`` is a Sequential or functional (single-input) model. ``x`` is a single image ``(H, W)``, ``(H, W, C)`` or a batch of one.
    ``layer_names`` picks the layers (default: every layer whose output is an
    image stack ``(1, H, W, C)``, i.e. convolutions and poolings); at most
    ``max_maps`` channels are shown per layer.
    """
    outputs = _layer_outputs(model, _as_single_input(model, x))
    if layer_names is None:
        layer_names = [name for name, value in outputs if value.ndim == 4]
        if not layer_names:
            raise ValueError("plot_feature_maps: the model has no layer with (H, W, C) outputs; name layers explicitly.")
    available = dict(outputs)
    unknown = [name for name in layer_names if name not in available]
    if unknown:
        raise ValueError(f"plot_feature_maps: no layer named {unknown}; the model has {list(available)}.")

    ncols = max_maps
    figure = _new_figure((1.5 * ncols + 1.5, 1.6 * len(layer_names)))
    for row, name in enumerate(layer_names):
        maps = available[name][0]
        if maps.ndim == 1:
            maps = maps[None, :, None]  # a vector (Dense output) as a strip
        for col in range(min(ncols, maps.shape[-1])):
            axes = figure.add_subplot(len(layer_names), ncols, row * ncols + col + 1)
            axes.imshow(maps[..., col], cmap="viridis", aspect="auto" if maps.shape[0] == 1 else "equal")
            axes.set_xticks([])
            axes.set_yticks([])
            if col == 0:
                axes.set_ylabel(f"{name}\n{'x'.join(map(str, maps.shape))}", fontsize=8)
    figure.suptitle("Activation maps (one channel per picture)", fontsize=10)
    figure.tight_layout()
    return _finish(figure, path)


def plot_graph(tensor, path=None, rankdir="LR", max_nodes=200):
    """The autograd graph behind ``tensor``, drawn as micrograd's ``draw_dot`` draws its own.

        loss = loss_fn(y, model(x, training=True))
        plot.plot_graph(loss, path="graph.png")

    A box per tensor: its name (weights have one, such as ``dense/kernel``),
    its shape, its value when it holds one number, and its gradient once
    ``backward()`` has set it; green for a leaf that gets a ``.grad``, grey
    for a constant (the inputs, the labels).  An ellipse per op, named after
    the op that recorded it (dense, relu, softmax_cross_entropy, ...),
    between the tensors it read and the one it made.  Ranks go from left to
    right (``rankdir="LR"``) or from top to bottom (``"TB"``).

    ``backward()`` releases the graph as it walks it: drawn afterwards, the
    loss is a lone dashed box.  Call ``loss.backward(retain_graph=True)`` to
    draw the graph with the gradients of its leaves.  Only the ``max_nodes``
    boxes and ellipses nearest ``tensor`` are drawn (a note says so), as the
    whole graph of a real model is too big to read.  The drawing is
    ``minidl.plot_graphs``'s; ``path`` is written atomically.
    """
    from minidl.graph_drawing import save_figure
    from minidl.plot_graphs import autograd_figure

    figure = autograd_figure(tensor, rankdir, max_nodes)
    if path is not None:
        save_figure(figure, path)
    return _finish(figure, None)


def show(figure, path=None):
    """Save a matplotlib ``figure`` of your own to ``path`` (if given) and, in a notebook,
    show it below the cell, as the functions above do with theirs; returns it."""
    return _finish(figure, path)


# --- helpers ---------------------------------------------------------------------------


def _new_figure(size, dpi=100):
    """A Figure on the Agg canvas (no pyplot). Its ``dpi`` is also the one it is saved
    and shown at (``savefig``'s default, "figure", means the dpi it was made with)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(_INSTALL_HINT) from error
    figure = Figure(figsize=size, dpi=dpi)
    FigureCanvasAgg(figure)
    return figure


def _finish(figure, path):
    """Save ``figure`` to ``path`` if given, show it now in a notebook, and return it."""
    if path is not None:
        figure.savefig(path)
    if _notebook_shell() is not None:
        from IPython.display import display

        figure._ipython_display_ = _NotebookDisplay(figure)
        display(figure)
    return figure


def _notebook_shell():
    """The shell of the Jupyter kernel running this code, or None.

    IPython is not imported here: if nothing has imported it, this is no
    notebook. A terminal IPython has a shell but no ``kernel``, and nowhere to
    draw a picture inline.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell if getattr(shell, "kernel", None) is not None else None


class _NotebookDisplay:
    """How a notebook shows a figure made here (IPython calls a figure's ``_ipython_display_``).

    ``display(fig)`` and a ``fig`` ending a cell both come here. The figure is
    drawn to a PNG here, so neither pyplot nor ``%matplotlib inline`` is needed,
    and published unless the running cell already showed this very picture.
    That keeps the figure a plot function showed and returned from appearing
    twice, while a figure changed since, or asked for in a later cell, appears.
    """

    def __init__(self, figure):
        self.figure = figure
        self.last_shown = None  # (cell number, PNG bytes)

    def __call__(self):
        from IPython.display import display

        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png")
        shown = (getattr(_notebook_shell(), "execution_count", None), buffer.getvalue())
        if shown != self.last_shown:
            self.last_shown = shown
            display({"image/png": shown[1], "text/plain": repr(self.figure)}, raw=True)


def _array(value):
    return np.asarray(getattr(value, "data", value))


def _as_labels(values):
    """Class indices from indices, one-hot rows or probabilities."""
    values = _array(values)
    if values.ndim == 2:
        values = values.argmax(axis=1)
    return values.astype(np.int64).ravel()


def _as_image_batch(images):
    images = _array(images)
    if images.ndim == 2:
        side = math.isqrt(images.shape[1])
        if side * side != images.shape[1]:
            raise ValueError(f"show_images: cannot draw flat images of {images.shape[1]} pixels; reshape them to (N, H, W).")
        images = images.reshape(-1, side, side)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4):
        raise ValueError(f"show_images: expected images (N, H, W) or (N, H, W, C), received shape {images.shape}.")
    return images


def _layer_kernel(kernel):
    if hasattr(kernel, "get_weights"):
        weights = kernel.get_weights()
        if not weights:
            raise ValueError(f"plot_filters: layer {getattr(kernel, 'name', kernel)!r} has no weights yet; build or train it first.")
        return np.asarray(weights[0])
    return _array(kernel)


def _as_single_input(model, x):
    x = _array(x).astype(np.float32)
    shapes = getattr(model, "input_shapes", None)
    expected_ndim = len(shapes[0]) if shapes else x.ndim + 1
    while x.ndim < expected_ndim:
        x = x[None] if x.ndim == expected_ndim - 1 else x[..., None]
    if len(x) != 1:
        raise ValueError(f"plot_feature_maps: expected one input, received a batch of {len(x)}.")
    return x


def _layer_outputs(model, x):
    """``[(layer name, output array)]`` for the layers of ``model``, in order.

    A Sequential model (or anything with a ``layers`` list run in order) is
    run layer by layer; a functional model is asked for every layer's output
    at once, the Keras way: ``Model(inputs=model.inputs, outputs=[l.output ...])``.
    """
    from minidl.autograd import no_grad
    from minidl.layers import InputLayer
    from minidl.models import Model, Sequential

    with no_grad():
        if isinstance(model, Sequential) or not hasattr(model, "inputs"):
            outputs, value = [], x
            for layer in model.layers:
                value = layer(value)
                outputs.append((layer.name, _array(value)))
            return outputs
        layers = [layer for layer in model.layers if not isinstance(layer, InputLayer)]
        probe = Model(inputs=model.inputs, outputs=[layer.output for layer in layers])
        values = probe(x)
        return [(layer.name, _array(value)) for layer, value in zip(layers, values)]
