"""Laying a graph out in ranks, as graphviz's ``dot`` does, in a small version.

``minidl.plot_graphs`` says *what* to draw: a ``Graph`` of boxes (a layer, a
tensor), ellipses (an op), frames (a nested model, holding a graph of its
own) and arrows between them.  ``place`` says *where*, by the layered method
of Sugiyama et al.; ``minidl.graph_drawing`` then draws it with matplotlib.

1. **ranks**: a box's rank is its depth, the longest path to it from a box no
   arrow points to.  Such a box then moves down to just above the first box
   it feeds, so a model's second input sits beside the layer that reads it,
   and a weight beside the op that uses it.
2. **waypoints**: an arrow spanning several ranks gets an invisible waypoint
   in each rank it crosses.  Laid out like a thin box, it goes between the
   boxes of those ranks rather than through them.
3. **order** within a rank: each box moves to the mean position of its
   neighbours in the rank above (their barycenter), then of those in the
   rank below.  Two such sweeps remove most crossings.
4. **coordinates**: each box as near the mean of its neighbours as it can be
   without overlapping the next box of its rank.

Ranks go from top to bottom (``rankdir="TB"``) or from left to right
(``"LR"``).  Lengths are in points (1/72 inch), text widths come from the
``measure`` function the drawing passes in, so every box fits its text.
Arrows that go back (a layer applied to its own output) are left out of the
layout and drawn as arcs.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

FONT_SIZE = 9  # points
LINE_HEIGHT = 1.45 * FONT_SIZE  # one line of text
PADDING = 6  # between a box's border and its text, and around a frame's graph
RANK_GAP = 32  # between two ranks
BOX_GAP = 16  # between two neighbours in a rank
WAYPOINT_SPAN = 8  # the room a waypoint takes in its rank
MARGIN = 10  # around the whole drawing
SWEEPS = 2  # barycenter sweeps, each one down then one up
LOOP_BEND = 0.9  # how far an arrow going back bulges out, for its length


@dataclass(eq=False)
class Box:
    """One thing to draw: lines of text in a box or an ellipse, or a frame around a graph.

    ``sections`` are groups of lines with a rule between two groups (a layer's
    name, then its shapes).  A frame (``inner`` set) draws ``inner`` inside a
    dashed border, under ``sections`` as its title.
    """

    sections: list
    shape: str = "box"  # or "ellipse"
    color: str = "white"
    dashed: bool = False
    inner: Graph | None = None


@dataclass
class Graph:
    """Boxes by key, in an order where arrows go forward (loops aside), and the arrows.

    An arrow's ends are keys of this graph's boxes or of boxes inside its
    frames (the first layer of a nested model).
    """

    boxes: dict = field(default_factory=dict)
    arrows: dict = field(default_factory=dict)  # (source, target) -> None: a set that keeps order

    def add(self, key, box):
        self.boxes[key] = box

    def connect(self, source, target):
        self.arrows[(source, target)] = None


@dataclass
class Placement:
    """Where things go: the center and size of every box (frames' insides too), the
    points of every arrow with its bend (0: straight lines through its waypoints;
    otherwise an arc, for a loop), and the size of the whole.  The y axis points
    down, as on a page."""

    centers: dict
    sizes: dict
    routes: list  # [(points, bend)]
    width: float
    height: float

    def moved(self, dx, dy):
        """The same placement, shifted by (dx, dy)."""
        centers = {key: (x + dx, y + dy) for key, (x, y) in self.centers.items()}
        routes = [([(x + dx, y + dy) for x, y in points], bend) for points, bend in self.routes]
        return Placement(centers, self.sizes, routes, self.width, self.height)


class _Waypoint:
    """Where a long arrow crosses a rank: laid out like a box, drawn as a bend."""


def place(graph, rankdir, measure):
    """Lay ``graph`` out (see the module docstring); ``measure(text)`` is a width in points.

    A frame's graph is laid out first, so that the frame is a box of known
    size here; its boxes then move to where the frame went.
    """
    inner = {key: place(box.inner, rankdir, measure)
             for key, box in graph.boxes.items() if box.inner is not None}
    sizes = {key: _frame_size(box, inner[key], measure) if key in inner else _box_size(box, measure)
             for key, box in graph.boxes.items()}
    owner = _owners(graph)
    order = {key: i for i, key in enumerate(graph.boxes)}
    links = list(dict.fromkeys(  # the arrows between boxes of this graph, loops left out
        (owner[a], owner[b]) for a, b in graph.arrows if order[owner[a]] < order[owner[b]]))
    rows, segments, waypoints = _rows(graph.boxes, _ranks(graph.boxes, links), links)
    _order_rows(rows, segments)
    positions, width, height = _coordinates(rows, segments, sizes, rankdir)
    placement = Placement({key: positions[key] for key in graph.boxes}, dict(sizes), [],
                          width, height)
    for key, content in inner.items():
        _put_in_frame(placement, content, graph.boxes[key], key)
    ellipses = {key for key, box in all_boxes(graph) if box.shape == "ellipse"}
    for source, target in graph.arrows:
        link = (owner[source], owner[target])
        if link in waypoints:
            stops = [positions[point] for point in waypoints[link]]
            placement.routes.append((_route(placement, source, target, stops, ellipses), 0))
        else:  # an arc bulging right of the boxes (TB) or below them (LR)
            bend = LOOP_BEND if rankdir == "TB" else -LOOP_BEND
            placement.routes.append((_loop_ends(placement, source, target, rankdir), bend))
    return placement


def _put_in_frame(placement, content, frame, key):
    """Add ``content``, the placement of a frame's graph, below the title of frame ``key``."""
    (x, y), (_, frame_height) = placement.centers[key], placement.sizes[key]
    moved = content.moved(x - content.width / 2,
                          y - frame_height / 2 + _title_height(frame) + PADDING)
    placement.centers.update(moved.centers)
    placement.sizes.update(moved.sizes)
    placement.routes += moved.routes


def _box_size(box, measure):
    """Width and height of a box that fits its text; an ellipse fits that box inside it."""
    lines = [line for section in box.sections for line in section]
    width = max(measure(line) for line in lines) + 2 * PADDING
    height = len(lines) * LINE_HEIGHT + 2 * PADDING
    if box.shape == "ellipse":  # (x/a)^2 + (y/b)^2 = 1 passes through the box's corners
        return width * math.sqrt(2), height * math.sqrt(2)
    return width, height


def _title_height(frame):
    return len(frame.sections[0]) * LINE_HEIGHT + PADDING


def _frame_size(frame, content, measure):
    """A frame holds its title above its graph's placement ``content``."""
    title = max(measure(line) for line in frame.sections[0]) + 2 * PADDING
    return (max(content.width + 2 * PADDING, title),
            _title_height(frame) + content.height + 2 * PADDING)


def all_boxes(graph):
    """(key, box) for every box of ``graph``, frames first, then what they hold."""
    for key, box in graph.boxes.items():
        yield key, box
        if box.inner is not None:
            yield from all_boxes(box.inner)


def _owners(graph):
    """Every key of ``graph``, frames' insides included -> its box in ``graph`` (itself,
    or the frame holding it)."""
    owner = {}
    for key, box in graph.boxes.items():
        owner[key] = key
        if box.inner is not None:
            owner.update(dict.fromkeys(_owners(box.inner), key))
    return owner


def _ranks(keys, links):
    """Each box's depth (the longest path to it), then boxes fed by no arrow moved down
    to just above the first box they feed."""
    rank = dict.fromkeys(keys, 0)
    targets = {key: [] for key in keys}
    for source, target in links:  # in the order of the boxes, so sources are ranked first
        targets[source].append(target)
    for key in keys:
        for target in targets[key]:
            rank[target] = max(rank[target], rank[key] + 1)
    fed = {target for _, target in links}
    for key in keys:
        if key not in fed and targets[key]:
            rank[key] = min(rank[target] for target in targets[key]) - 1
    return rank


def _rows(keys, rank, links):
    """The boxes of each rank, with a waypoint wherever a link crosses a rank.

    Returns the rows, the segments (pairs of neighbours in adjacent ranks)
    and the waypoints of each link.
    """
    rows = [[] for _ in range(max(rank.values()) + 1)]
    for key in keys:
        rows[rank[key]].append(key)
    segments, waypoints = [], {}
    for source, target in links:
        stops = [_Waypoint() for _ in range(rank[source] + 1, rank[target])]
        for step, point in enumerate(stops, start=rank[source] + 1):
            rows[step].append(point)
        chain = [source, *stops, target]
        segments += itertools.pairwise(chain)
        waypoints[(source, target)] = stops
    return rows, segments, waypoints


def _neighbours(segments):
    """(above, below): each item's neighbours in the rank above, and in the rank below."""
    above, below = {}, {}
    for upper, lower in segments:
        below.setdefault(upper, []).append(lower)
        above.setdefault(lower, []).append(upper)
    return above, below


def _order_rows(rows, segments):
    """Sort each row by the mean position of its neighbours: rows 1.. against the row
    above, then back up against the row below; ``SWEEPS`` times."""
    above, below = _neighbours(segments)
    for _ in range(SWEEPS):
        for r in range(1, len(rows)):
            _sort_by_barycenter(rows[r], rows[r - 1], above)
        for r in range(len(rows) - 2, -1, -1):
            _sort_by_barycenter(rows[r], rows[r + 1], below)


def _sort_by_barycenter(row, fixed_row, neighbours):
    """Reorder ``row`` (in place) by the mean index of each item's neighbours in
    ``fixed_row``; an item with none keeps its own index."""
    index = {item: i for i, item in enumerate(fixed_row)}

    def barycenter(pair):
        i, item = pair
        linked = neighbours.get(item, ())
        return sum(index[n] for n in linked) / len(linked) if linked else i

    row[:] = [item for _, item in sorted(enumerate(row), key=barycenter)]


def _coordinates(rows, segments, sizes, rankdir):
    """Centers of every item (boxes and waypoints), and the width and height of the drawing."""
    across_axis = 0 if rankdir == "TB" else 1  # the axis along a row: x for TB, y for LR

    def span(item):
        return WAYPOINT_SPAN if isinstance(item, _Waypoint) else sizes[item][across_axis]

    def thickness(item):
        return 0 if isinstance(item, _Waypoint) else sizes[item][1 - across_axis]

    across, extent = _places_in_rows(rows, segments, span)
    along, length = _places_of_ranks(rows, thickness)
    if rankdir == "TB":
        return {item: (across[item], along[item]) for item in across}, extent, length
    return {item: (along[item], across[item]) for item in across}, length, extent


def _places_in_rows(rows, segments, span):
    """Where each item goes along its row, from 0, and the extent of the widest row.

    Each item goes to the mean position of its neighbours in the row above (a
    sweep down), then of those in the row below (a sweep up), ``_spread``
    keeping it clear of the items beside it.
    """
    above, below = _neighbours(segments)
    across = {}
    for row in rows:
        across.update(zip(row, _spread(row, [0] * len(row), span)))
    sweeps = [(range(1, len(rows)), above), (range(len(rows) - 2, -1, -1), below)] * SWEEPS
    for ranks, neighbours in sweeps:
        for r in ranks:
            row = rows[r]
            wanted = [_mean([across[n] for n in neighbours[item]]) if item in neighbours
                      else across[item] for item in row]
            across.update(zip(row, _spread(row, wanted, span)))
    start = min(across[item] - span(item) / 2 for item in across)
    end = max(across[item] + span(item) / 2 for item in across)
    return {item: at - start for item, at in across.items()}, end - start


def _places_of_ranks(rows, thickness):
    """Where each item goes across the ranks (the middle of its rank, each rank as thick
    as its thickest box), and the length of all the ranks."""
    along, position = {}, 0.0
    for row in rows:
        depth = max((thickness(item) for item in row), default=0)
        along.update(dict.fromkeys(row, position + depth / 2))
        position += depth + RANK_GAP
    return along, position - RANK_GAP


def _spread(row, wanted, span):
    """Positions along ``row`` as near ``wanted`` as they can be without overlapping.

    Pushing each item right of its left neighbour, or left of its right
    neighbour, gives two placements where neighbours are far enough apart;
    so does their mean, which is where the items go (it favours neither side).
    """
    def gap(i):
        return (span(row[i - 1]) + span(row[i])) / 2 + BOX_GAP

    pushed_right, pushed_left = list(wanted), list(wanted)
    for i in range(1, len(row)):
        pushed_right[i] = max(pushed_right[i], pushed_right[i - 1] + gap(i))
    for i in range(len(row) - 2, -1, -1):
        pushed_left[i] = min(pushed_left[i], pushed_left[i + 1] - gap(i + 1))
    return [(a + b) / 2 for a, b in zip(pushed_right, pushed_left)]


def _mean(values):
    return sum(values) / len(values)


def _route(placement, source, target, stops, ellipses):
    """The points of an arrow: from the border of ``source``, through its waypoints
    ``stops``, to the border of ``target``."""
    first = stops[0] if stops else placement.centers[target]
    last = stops[-1] if stops else placement.centers[source]
    return [_border_point(placement, source, first, source in ellipses), *stops,
            _border_point(placement, target, last, target in ellipses)]


def _border_point(placement, key, toward, ellipse):
    """Where the line from the center of box ``key`` to the point ``toward`` crosses its
    border: arrows aim at the centers of boxes, as graphviz draws them."""
    (x, y), (w, h) = placement.centers[key], placement.sizes[key]
    dx, dy = toward[0] - x, toward[1] - y
    if ellipse:  # the point (x + s dx, y + s dy) with (s dx / a)^2 + (s dy / b)^2 = 1
        scale = 1 / math.hypot(dx / (w / 2), dy / (h / 2))
    else:  # the side it reaches first
        scale = min(w / 2 / abs(dx) if dx else math.inf, h / 2 / abs(dy) if dy else math.inf)
    return x + scale * dx, y + scale * dy


def _loop_ends(placement, source, target, rankdir):
    """Ends of an arrow going back: on the right side (TB) or the bottom (LR) of the boxes,
    a quarter of the way from their middles (apart, even when source is target)."""
    (xs, ys), (ws, hs) = placement.centers[source], placement.sizes[source]
    (xt, yt), (wt, ht) = placement.centers[target], placement.sizes[target]
    if rankdir == "TB":
        return [(xs + ws / 2, ys + hs / 4), (xt + wt / 2, yt - ht / 4)]
    return [(xs + ws / 4, ys + hs / 2), (xt - wt / 4, yt + ht / 2)]
