"""Drawing a laid-out graph with matplotlib, and saving the picture.

``minidl.graph_layout`` decides where the boxes and arrows of a ``Graph``
go; here they become matplotlib patches and text on one Axes that fills the
figure, with one data unit per point (1/72 inch), so text sizes and box sizes
are in the same units.  ``save_figure`` writes a picture atomically.
"""

from __future__ import annotations

import os

from minidl.atomic_write import replacing
from minidl.graph_layout import FONT_SIZE, LINE_HEIGHT, MARGIN, PADDING, all_boxes, place

EDGE_COLOR = "0.25"


def draw(graph, rankdir="TB", dpi=100, notes=()):
    """A matplotlib Figure of ``graph``, with ``notes`` (lines of text) above it."""
    from minidl.plot import _new_figure

    figure = _new_figure((1, 1), dpi)  # text is measured at the dpi it is drawn at
    measure = _text_measure(figure)
    placement = place(graph, rankdir, measure)
    notes_height = len(notes) * LINE_HEIGHT + (PADDING if notes else 0)
    width = max([placement.width, *map(measure, notes)]) + 2 * MARGIN
    height = placement.height + notes_height + 2 * MARGIN
    figure.set_size_inches(width / 72, height / 72)
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, width)
    axes.set_ylim(height, 0)  # y down, as the placement has it
    axes.set_axis_off()
    for i, note in enumerate(notes):
        _write(axes, MARGIN, MARGIN + (i + 0.5) * LINE_HEIGHT, note, "left")
    placement = placement.moved((width - placement.width) / 2, MARGIN + notes_height)
    for key, box in all_boxes(graph):
        _draw_box(axes, box, placement.centers[key], placement.sizes[key])
    for points, bend in placement.routes:
        _draw_arrow(axes, points, bend)
    return figure


def _text_measure(figure):
    """``measure(text)``: the width of one line of text in points, as the figure draws it."""
    from matplotlib.font_manager import FontProperties

    renderer = figure.canvas.get_renderer()
    font = FontProperties(size=FONT_SIZE)

    def measure(text):
        width, _, _ = renderer.get_text_width_height_descent(text, font, ismath=False)
        return width * 72 / figure.dpi

    return measure


def _draw_box(axes, box, center, size):
    """A box or an ellipse with its lines of text (a rule between two sections), or a frame
    with its title at the top left (what it holds is drawn as boxes of its own)."""
    from matplotlib.patches import Ellipse, FancyBboxPatch

    (x, y), (w, h) = center, size
    style = {"facecolor": box.color, "edgecolor": EDGE_COLOR, "linewidth": 1,
             "linestyle": "--" if box.dashed or box.inner is not None else "-"}
    if box.shape == "ellipse":
        axes.add_patch(Ellipse((x, y), w, h, zorder=2, **style))
    else:  # a frame goes under the arrows that enter it, a box over them
        axes.add_patch(FancyBboxPatch((x - w / 2, y - h / 2), w, h, zorder=0 if box.inner else 2,
                                      boxstyle="round,pad=0,rounding_size=4", **style))
    if box.inner is not None:
        for i, line in enumerate(box.sections[0]):
            _write(axes, x - w / 2 + PADDING, y - h / 2 + PADDING + (i + 0.5) * LINE_HEIGHT,
                   line, "left")
        return
    top = y - sum(len(section) for section in box.sections) * LINE_HEIGHT / 2
    row = 0
    for number, section in enumerate(box.sections):
        if number and box.shape == "box":
            rule = top + row * LINE_HEIGHT
            axes.plot([x - w / 2, x + w / 2], [rule, rule], color=EDGE_COLOR, linewidth=0.6,
                      zorder=3)
        for line in section:
            _write(axes, x, top + (row + 0.5) * LINE_HEIGHT, line, "center")
            row += 1


def _write(axes, x, y, text, align):
    """One line of text, in the font the layout measured (``parse_math=False``: a "$" in a
    name is a dollar sign, not the start of a formula)."""
    axes.text(x, y, text, ha=align, va="center", fontsize=FONT_SIZE, zorder=3, parse_math=False)


def _draw_arrow(axes, points, bend):
    """An arrow along ``points`` (through the waypoints), or an arc from the first point
    to the last one when ``bend`` is not 0 (matplotlib's "arc3" bends it by ``bend``
    times its length, to the right of its direction on the screen)."""
    from matplotlib.patches import FancyArrowPatch
    from matplotlib.path import Path

    style = {"arrowstyle": "-|>", "mutation_scale": 10, "color": EDGE_COLOR, "linewidth": 1,
             "zorder": 1}
    if bend:
        arrow = FancyArrowPatch(points[0], points[-1], connectionstyle=f"arc3,rad={bend}",
                                shrinkA=0, shrinkB=0, **style)
    else:
        arrow = FancyArrowPatch(path=Path(points), **style)
    axes.add_patch(arrow)


# --- files ------------------------------------------------------------------------------


def save_figure(figure, path):
    """Write ``figure`` to ``path`` in the format its extension names (none: PNG), atomically.

    The picture goes to a temporary file next to ``path``, then is renamed
    over it (``os.replace``), so ``path`` holds either the old picture or the
    new one, never half of one.
    """
    path = os.fspath(path)
    extension = os.path.splitext(path)[1][1:].lower() or "png"
    formats = figure.canvas.get_supported_filetypes()
    if extension not in formats:
        raise ValueError(
            f"Cannot write {path!r}: matplotlib writes {', '.join(sorted(formats))}, "
            f"not {extension!r}."
        )
    with replacing(path) as handle:
        figure.savefig(handle, format=extension, dpi="figure")
