"""The layered layout behind minidl's pictures of graphs (``minidl.graph_layout``),
checked without matplotlib: boxes never overlap, arrows go forward, crossings are sorted away."""

import random

import pytest

from minidl import graph_layout


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
