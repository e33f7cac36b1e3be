"""Pictures of graphs: ``minidl.utils.plot_model`` (a model's layers, as Keras 2 draws them)
and ``minidl.plot.plot_graph`` (the autograd graph behind a tensor, as micrograd's draw_dot).

The figures are checked through what they hold: the lines of text of their boxes, their
arrows (FancyArrowPatch, each from a box to the box it feeds) and their notes.  The layout
itself (``minidl.graph_layout``) is checked on its own, without matplotlib, at the end."""

import os
import random
import re
import subprocess
import sys
import types

import numpy as np
import pytest

pytest.importorskip("matplotlib")

import minidl  # noqa: E402
from minidl import graph_layout, layers, plot  # noqa: E402
from minidl.utils import plot_model  # noqa: E402


def texts(figure):
    return [text.get_text() for text in figure.axes[0].texts]


def arrows(figure):
    from matplotlib.patches import FancyArrowPatch

    return [patch for patch in figure.axes[0].patches if isinstance(patch, FancyArrowPatch)]


def boxes(figure):
    from matplotlib.patches import FancyArrowPatch

    return [patch for patch in figure.axes[0].patches if not isinstance(patch, FancyArrowPatch)]


def arrow_ends(figure):
    """(start, end) of every arrow, in the figure's data coordinates (y down)."""
    ends = []
    for arrow in arrows(figure):
        path = arrow.get_path()  # its line, then (from the next MOVETO) its head
        head = list(path.codes).index(path.MOVETO, 1)
        ends.append((path.vertices[0], path.vertices[head - 1]))
    return ends


def position(figure, line):
    """The (x, y) of the text ``line`` in data coordinates (y down)."""
    (text,) = [t for t in figure.axes[0].texts if t.get_text() == line]
    return np.array(text.get_position())


def two_branch_model():
    """Two inputs, a branch that merges again, a skip connection and two outputs."""
    image = minidl.Input(shape=(32,), name="image")
    meta = minidl.Input(shape=(8,), name="meta")
    trunk = layers.Dense(64, activation="relu", name="trunk")(image)
    left = layers.Dense(32, name="left")(trunk)
    right = layers.Dense(32, name="right")(trunk)
    merged = layers.Concatenate(name="merge")([left, right, meta])
    skip = layers.Add(name="skip")([layers.Dense(72, name="mix")(merged), merged])
    classes = layers.Dense(10, activation="softmax", name="classes")(skip)
    score = layers.Dense(1, name="score")(trunk)
    return minidl.Model([image, meta], [classes, score])


def encoder():
    return minidl.Sequential([layers.Dense(16, activation="relu", input_shape=(32,), name="enc_1"),
                              layers.Dense(8, name="enc_2")], name="encoder")


def nested_model():
    inputs = minidl.Input(shape=(32,), name="features")
    outputs = layers.Dense(2, name="head")(encoder()(inputs))
    return minidl.Model(inputs, outputs)


# --- plot_model --------------------------------------------------------------------------


def test_sequential_a_box_per_layer_with_its_shapes_and_an_arrow_between_each(tmp_path):
    model = minidl.Sequential([
        layers.Flatten(input_shape=(28, 28), name="flatten"),
        layers.Dense(128, activation="relu", name="dense"),
        layers.Dense(10, activation="softmax", name="dense_1"),
    ])
    figure = plot_model(model, to_file=tmp_path / "model.png", show_shapes=True)
    assert texts(figure) == [
        "flatten_input (InputLayer)", "input: (None, 28, 28)", "output: (None, 28, 28)",
        "flatten (Flatten)", "input: (None, 28, 28)", "output: (None, 784)",
        "dense (Dense)", "input: (None, 784)", "output: (None, 128)",
        "dense_1 (Dense)", "input: (None, 128)", "output: (None, 10)",
    ]
    assert len(boxes(figure)) == 4 and len(arrows(figure)) == 3
    assert all(end[1] > start[1] for start, end in arrow_ends(figure))  # every arrow goes down
    assert (tmp_path / "model.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_functional_with_branches_two_inputs_and_two_outputs():
    figure = plot_model(two_branch_model(), to_file=None, show_shapes=True)
    lines = texts(figure)
    for line in ["image (InputLayer)", "meta (InputLayer)", "merge (Concatenate)", "skip (Add)",
                 "input: [(None, 32), (None, 32), (None, 8)]", "output: (None, 72)",
                 "classes (Dense)", "score (Dense)", "output: (None, 1)"]:
        assert line in lines
    # image->trunk, trunk->left/right/score, left/right/meta->merge, merge->mix, merge/mix->skip,
    # skip->classes
    assert len(arrows(figure)) == 11
    assert all(end[1] > start[1] for start, end in arrow_ends(figure))
    # ranked by depth; a second input sits just above the layer that reads it
    depth = {name: position(figure, f"{name} ({kind})")[1] for name, kind in [
        ("image", "InputLayer"), ("trunk", "Dense"), ("left", "Dense"), ("right", "Dense"),
        ("meta", "InputLayer"), ("merge", "Concatenate"), ("mix", "Dense"), ("skip", "Add")]}
    assert depth["image"] < depth["trunk"] < depth["left"] == depth["right"] < depth["merge"]
    assert depth["meta"] == depth["left"]
    assert depth["merge"] < depth["mix"] < depth["skip"]


def test_left_to_right():
    figure = plot_model(two_branch_model(), to_file=None, rankdir="LR")
    assert all(end[0] > start[0] for start, end in arrow_ends(figure))
    assert position(figure, "image (InputLayer)")[0] < position(figure, "trunk (Dense)")[0]
    with pytest.raises(ValueError, match="rankdir must be 'TB'.*received 'BT'"):
        plot_model(two_branch_model(), to_file=None, rankdir="BT")


def test_a_nested_model_is_one_box_unless_expand_nested_draws_its_layers_in_a_frame():
    model = nested_model()
    folded = plot_model(model, to_file=None, show_shapes=True)
    assert texts(folded) == [
        "features (InputLayer)", "input: (None, 32)", "output: (None, 32)",
        "encoder (Sequential)", "input: (None, 32)", "output: (None, 8)",
        "head (Dense)", "input: (None, 8)", "output: (None, 2)",
    ]
    assert len(arrows(folded)) == 2

    expanded = plot_model(model, to_file=None, expand_nested=True)
    assert texts(expanded) == ["features (InputLayer)", "encoder (Sequential)",
                               "enc_1_input (InputLayer)", "enc_1 (Dense)", "enc_2 (Dense)",
                               "head (Dense)"]
    # features -> the encoder's own input, inside it two arrows, its last layer -> head
    assert len(arrows(expanded)) == 4
    frame, *_ = [patch for patch in boxes(expanded) if patch.get_linestyle() == "--"]
    inner = frame.get_extents()
    for line in ["enc_1_input (InputLayer)", "enc_1 (Dense)", "enc_2 (Dense)"]:
        (text,) = [t for t in expanded.axes[0].texts if t.get_text() == line]
        assert inner.contains(*text.get_window_extent().get_points().mean(axis=0))


def test_a_nested_model_used_twice_and_a_layer_applied_to_its_own_output():
    tower_in = minidl.Input(shape=(4,), name="tower_in")
    tower = minidl.Model(tower_in, layers.Dense(3, name="embed")(tower_in), name="tower")
    a, b = minidl.Input(shape=(4,), name="a"), minidl.Input(shape=(4,), name="b")
    shared = layers.Dense(3, name="shared")
    out = shared(shared(layers.Subtract(name="difference")([tower(a), tower(b)])))
    figure = plot_model(minidl.Model([a, b], out), to_file=None, expand_nested=True)
    assert texts(figure).count("embed (Dense)") == 1
    # a, b -> tower_in; tower_in -> embed; embed -> difference; difference -> shared; the loop
    assert len(arrows(figure)) == 6


def test_what_the_boxes_say_follows_the_show_arguments():
    model = minidl.Sequential([layers.Dense(4, activation="relu", input_shape=(3,), name="hidden")])
    model.layers[0].trainable = False
    figure = plot_model(model, to_file=None, show_layer_names=False, show_dtype=True,
                        show_layer_activations=True, show_trainable=True)
    assert texts(figure) == ["InputLayer", "dtype: float32", "trainable: True",
                             "Dense", "activation: relu", "dtype: float32", "trainable: False"]


def test_layer_range_draws_the_layers_between_two_names():
    figure = plot_model(two_branch_model(), to_file=None, layer_range=["merge", "sk.p"])
    assert texts(figure) == ["merge (Concatenate)", "mix (Dense)", "skip (Add)"]
    assert len(arrows(figure)) == 3
    with pytest.raises(ValueError, match="names no range of layers"):
        plot_model(two_branch_model(), to_file=None, layer_range=["skip", "merge"])
    with pytest.raises(ValueError, match="layer_range takes the names"):
        plot_model(two_branch_model(), to_file=None, layer_range=["merge"])


def test_a_subclassed_model_is_one_box_listing_its_layers():
    class Net(minidl.Model):
        def __init__(self):
            super().__init__(name="net")
            self.hidden = layers.Dense(8, name="hidden")
            self.out = layers.Dense(2, name="out")

        def call(self, x, training=False):
            return self.out(self.hidden(x))

    net = Net()
    net(np.zeros((1, 5), "float32"))
    figure = plot_model(net, to_file=None, show_shapes=True)
    assert texts(figure)[1:] == ["net (Net)", "input: (None, 5)", "output: (None, 2)", "layers:",
                                 "hidden (Dense)", "out (Dense)"]
    assert "subclassed model" in texts(figure)[0]


def test_an_unbuilt_model_raises_and_writes_nothing(tmp_path):
    model = minidl.Sequential([layers.Dense(4)])
    with pytest.raises(ValueError, match="has not yet been built.*input_shape="):
        plot_model(model, to_file=tmp_path / "model.png")
    with pytest.raises(TypeError, match="plot_model takes a model"):
        plot_model(layers.Dense(4), to_file=tmp_path / "model.png")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name, magic", [("model.png", b"\x89PNG"), ("model.svg", b"<?xml"),
                                         ("model.pdf", b"%PDF"), ("model", b"\x89PNG")])
def test_the_file_format_follows_the_extension_and_no_temporary_file_stays(tmp_path, name, magic):
    (tmp_path / name).write_bytes(b"an older picture")
    plot_model(nested_model(), to_file=tmp_path / name, dpi=50)
    assert (tmp_path / name).read_bytes().startswith(magic)
    assert [path.name for path in tmp_path.iterdir()] == [name]


def test_an_unknown_format_raises_before_writing(tmp_path):
    with pytest.raises(ValueError, match="matplotlib writes .*png.*not 'dot'"):
        plot_model(nested_model(), to_file=tmp_path / "model.dot")
    assert list(tmp_path.iterdir()) == []


def test_every_line_of_text_fits_inside_its_box():
    figure = plot_model(two_branch_model(), to_file=None, show_shapes=True,
                        show_layer_activations=True)
    figure.canvas.draw()
    outlines = [patch.get_window_extent() for patch in boxes(figure)]
    for text in figure.axes[0].texts:
        extent = text.get_window_extent()
        assert any(outline.x0 <= extent.x0 and extent.x1 <= outline.x1 and
                   outline.y0 <= extent.y0 and extent.y1 <= outline.y1 for outline in outlines)


def test_in_a_notebook_the_figure_is_shown_once(monkeypatch):
    shown = []

    def display(obj, raw=False):
        if raw:
            shown.append(obj)
        else:
            obj._ipython_display_()

    shell = types.SimpleNamespace(kernel=object(), execution_count=1)
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    monkeypatch.setitem(sys.modules, "IPython.display", types.SimpleNamespace(display=display))
    figure = plot_model(nested_model(), to_file=None)
    figure._ipython_display_()  # the figure ending the cell is not shown again
    assert [bundle["text/plain"] for bundle in shown] == [repr(figure)]


def test_a_script_draws_both_headless_without_pyplot(tmp_path):
    script = f"""
import sys
import minidl
from minidl import layers, plot
model = minidl.Sequential([layers.Dense(2, input_shape=(3,))])
minidl.utils.plot_model(model, to_file={str(tmp_path / "model.png")!r})
plot.plot_graph(model(minidl.Tensor([[1.0, 2.0, 3.0]])).sum(), path={str(tmp_path / "graph.png")!r})
assert "matplotlib.pyplot" not in sys.modules and "IPython" not in sys.modules
"""
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("DISPLAY", "MPLBACKEND")}
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60, check=False, env=environment)
    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
    assert (tmp_path / "model.png").is_file() and (tmp_path / "graph.png").is_file()


# --- plot_graph ---------------------------------------------------------------------------


def mlp_loss():
    """The loss of a tiny MLP, as a training step computes it."""
    model = minidl.Sequential([layers.Dense(4, activation="relu", input_shape=(3,), name="hidden"),
                               layers.Dense(2, name="logits")])
    x = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
    loss_fn = minidl.losses.SparseCategoricalCrossentropy(from_logits=True)
    return loss_fn(np.array([0, 1, 1, 0, 1]), model(x, training=True))


def ellipse_texts(figure):
    from matplotlib.patches import Ellipse

    centers = {tuple(np.round(patch.center, 3)) for patch in boxes(figure)
               if isinstance(patch, Ellipse)}
    return sorted(text.get_text() for text in figure.axes[0].texts
                  if tuple(np.round(text.get_position(), 3)) in centers)


def test_plot_graph_of_a_tiny_mlp_loss_names_its_ops_and_marks_its_leaves(tmp_path):
    loss = mlp_loss()
    figure = plot.plot_graph(loss, path=tmp_path / "graph.png")
    assert ellipse_texts(figure) == ["dense", "dense", "softmax_cross_entropy"]
    lines = texts(figure)
    for line in ["hidden/kernel", "hidden/bias", "logits/kernel", "logits/bias", "leaf",
                 "constant", "shape (3, 4)", "shape (5, 2)", "shape ()",
                 f"data {loss.item():.4g}"]:
        assert line in lines
    assert lines.count("leaf") == 4 and not any(line.startswith("grad") for line in lines)
    # the 4 weights and the input into the dense ops, then a chain of 5 arrows:
    # dense -> h -> dense -> logits -> softmax_cross_entropy -> loss
    assert len(arrows(figure)) == 5 + 5
    assert all(end[0] > start[0] for start, end in arrow_ends(figure))  # left to right
    assert (tmp_path / "graph.png").read_bytes()[:4] == b"\x89PNG"


def test_plot_graph_after_backward_shows_gradients_or_the_released_graph():
    loss = mlp_loss()
    loss.backward(retain_graph=True)
    kept = texts(plot.plot_graph(loss, rankdir="TB"))
    assert sum(line.startswith("grad: norm ") for line in kept) == 4  # the leaves
    assert "grad 1" not in kept  # the loss is no leaf: backward() leaves it no .grad
    loss.backward()
    released = texts(plot.plot_graph(loss))
    assert "released by backward()" in released
    assert any("backward(retain_graph=True)" in line for line in released)


def test_plot_graph_names_every_kind_of_op():
    x = minidl.Tensor(np.ones((2, 3)), requires_grad=True, name="x")
    y = (-(x * 2.0) + minidl.ops.relu(x)).sum()
    assert ellipse_texts(plot.plot_graph(y)) == ["add", "mul", "neg", "relu", "sum"]


def test_plot_graph_stops_at_max_nodes_with_a_note():
    x = minidl.Tensor(np.ones(3), requires_grad=True)
    for _ in range(150):
        x = minidl.ops.relu(x)  # 150 ops and 151 tensors
    figure = plot.plot_graph(x)
    assert len(boxes(figure)) == 200
    assert any(re.fullmatch(r"Only the 200 boxes and ellipses nearest the output are drawn, "
                            r"of 301; pass max_nodes= to draw more\.", line)
               for line in texts(figure))
    assert "(inputs not drawn)" in texts(figure)
    assert len(boxes(plot.plot_graph(x, max_nodes=7))) <= 7
    with pytest.raises(ValueError, match="max_nodes must be a positive integer"):
        plot.plot_graph(x, max_nodes=0)


def test_plot_graph_of_a_tensor_without_graph_says_so():
    figure = plot.plot_graph(minidl.Tensor([1.0, 2.0]) * 3.0)
    assert "constant" in texts(figure)
    assert any("has no graph" in line for line in texts(figure))
    with pytest.raises(TypeError, match="plot_graph takes a minidl Tensor"):
        plot.plot_graph(np.ones(3))


# --- the layout alone ----------------------------------------------------------------------


def random_graph(seed, size=25):
    """Boxes of random widths, arrows only forward (so the order given is topological)."""
    rng = random.Random(seed)
    graph = graph_layout.Graph()
    for key in range(size):
        graph.add(key, graph_layout.Box([["x" * rng.randint(1, 30)]]))
    for target in range(1, size):
        for source in rng.sample(range(target), k=min(target, rng.randint(1, 2))):
            graph.connect(source, target)
    return graph


@pytest.mark.parametrize("rankdir", ["TB", "LR"])
@pytest.mark.parametrize("seed", range(5))
def test_layout_boxes_never_overlap_and_arrows_go_forward(seed, rankdir):
    graph = random_graph(seed)
    placement = graph_layout.place(graph, rankdir, measure=lambda text: 5.0 * len(text))
    rects = [(x - w / 2, y - h / 2, x + w / 2, y + h / 2)
             for (x, y), (w, h) in zip(placement.centers.values(), placement.sizes.values())]
    close = 1e-9  # for rounding
    for i, a in enumerate(rects):
        assert -close <= a[0] and a[2] <= placement.width + close
        assert -close <= a[1] and a[3] <= placement.height + close
        for b in rects[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)
    axis = 1 if rankdir == "TB" else 0
    for points, bend in placement.routes:
        assert bend == 0
        along = [point[axis] for point in points]
        assert along == sorted(along)  # through one waypoint per rank, never back


def test_layout_sorts_a_crossing_away():
    graph = graph_layout.Graph()
    for key in ["a", "b", "c", "d"]:
        graph.add(key, graph_layout.Box([[key]]))
    graph.connect("a", "d")  # given as a crossing: a above c, b above d, a->d and b->c
    graph.connect("b", "c")
    placement = graph_layout.place(graph, "TB", measure=lambda text: 10.0)
    x = {key: placement.centers[key][0] for key in "abcd"}
    assert (x["a"] < x["b"]) == (x["d"] < x["c"])
