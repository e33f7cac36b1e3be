"""Make examples/notebooks/*.ipynb from the example scripts: one source of truth.

    python scripts/make_notebooks.py           # write the notebooks
    python scripts/make_notebooks.py --check   # exit 1 if one is missing or out of date

Each script ``examples/NN_name.py`` becomes ``examples/notebooks/NN_name.ipynb``:
its docstring a Markdown cell, then a setup cell (``_common`` importable from
the folder above), then the script cut into code cells, a new cell before each
top-level comment or ``def``/``class`` that follows a blank line. Edit the
script, never the notebook; tests/test_example_notebooks.py runs every notebook
in a Jupyter kernel and checks they are up to date.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
NOTEBOOKS = EXAMPLES / "notebooks"

SETUP = '''\
# Made from examples/{script} by scripts/make_notebooks.py: edit the script, then regenerate.
import os
import sys

sys.path.insert(0, os.path.abspath(".."))  # examples/, where the scripts' _common.py lives
__doc__ = {doc!r}'''


def _cells_of(body_lines):
    """Cut the script's lines (after its docstring) into cells of source text."""
    cells, current = [], []
    previous_blank = True
    for line in body_lines:
        starts_section = line.startswith(("# ", "def ", "class ")) and previous_blank
        if starts_section and any(part.strip() for part in current):
            cells.append(current)
            current = []
        current.append(line)
        previous_blank = not line.strip()
    if any(part.strip() for part in current):
        cells.append(current)
    return ["".join(cell).strip("\n") for cell in cells]


def _cell(kind, source, number):
    lines = source.splitlines(keepends=True)
    cell = {"cell_type": kind, "id": f"cell-{number}", "metadata": {}, "source": lines}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def notebook_for(script):
    """The notebook (a dict in nbformat 4) made from ``script``."""
    text = script.read_text(encoding="utf-8")
    module = ast.parse(text)
    doc = ast.get_docstring(module, clean=False) or ""
    first = module.body[0]
    has_doc = isinstance(first, ast.Expr) and isinstance(getattr(first, "value", None), ast.Constant)
    body = text.splitlines(keepends=True)[first.end_lineno if has_doc else 0:]
    title, _, rest = doc.strip().partition("\n")
    sources = [("markdown", f"# {script.stem}: {title}\n\n{rest.strip()}".rstrip()),
               ("code", SETUP.format(script=script.name, doc=doc))]
    sources += [("code", source) for source in _cells_of(body)]
    cells = [_cell(kind, source, number) for number, (kind, source) in enumerate(sources)]
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def render(notebook):
    return json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"


def scripts():
    return sorted(EXAMPLES.glob("[0-9][0-9]_*.py"))


def main(argv):
    check = "--check" in argv
    stale = []
    NOTEBOOKS.mkdir(exist_ok=True)
    for script in scripts():
        target = NOTEBOOKS / (script.stem + ".ipynb")
        text = render(notebook_for(script))
        if check:
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                stale.append(target.name)
        else:
            target.write_text(text, encoding="utf-8")
    if stale:
        print("out of date (run python scripts/make_notebooks.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
