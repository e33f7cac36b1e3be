"""examples/notebooks/: every example as a notebook, made from its script, run in a real kernel.

Each notebook runs in quick mode (one short epoch, offline) in a fresh python3
kernel of this interpreter; it must run without an error, and the examples that
draw pictures must show them below their cells (PNG outputs), as a learner sees
them in Jupyter.
"""

import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")
if importlib.util.find_spec("ipykernel") is None:
    pytest.skip("ipykernel is not installed", allow_module_level=True)
nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

from jupyter_kernel import notebook_environment  # noqa: E402
from test_examples import CASES  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "examples" / "notebooks"
sys.path.insert(0, str(ROOT / "scripts"))
import make_notebooks  # noqa: E402


def test_every_example_has_its_notebook_up_to_date():
    assert make_notebooks.main(["--check"]) == 0
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb")) == sorted(
        p.stem for p in make_notebooks.scripts())


def test_cells_start_at_each_section():
    cells = make_notebooks._cells_of(
        ["import x\n", "\n", "# Load.\n", "a = 1\n", "# still loading\n", "\n", "def f():\n",
         "    # inside\n", "\n", "    return 1\n"])
    assert cells == ["import x", "# Load.\na = 1\n# still loading", "def f():\n    # inside\n\n    return 1"]


@pytest.mark.parametrize("script, pictures", [(case[0], case[2]) for case in CASES],
                         ids=[case[0] for case in CASES])
def test_the_notebook_runs_and_shows_its_pictures(script, pictures, tmp_path):
    notebook = nbformat.read(NOTEBOOKS / (Path(script).stem + ".ipynb"), as_version=4)
    nbformat.validate(notebook)
    with notebook_environment(tmp_path, MINIDL_EXAMPLES_QUICK="1", MINIDL_DATA=None,
                              MINIDL_EXAMPLES_OUT=str(tmp_path / "out"), HOME=str(tmp_path)) as kernel:
        client = nbclient.NotebookClient(notebook, kernel_name=kernel, timeout=240,
                                         resources={"metadata": {"path": str(NOTEBOOKS)}})
        client.execute()  # raises CellExecutionError, with the cell, if one fails
    shown = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs
             if "image/png" in o.get("data", {})]
    assert len(shown) >= len(pictures)
    saved = list((tmp_path / "out").glob("*.png"))  # the script's files, also from a notebook
    assert len(saved) >= len(pictures)
