"""A Jupyter kernel of this very interpreter, for the tests that run notebooks.

Registered under its own name in a temporary ``$JUPYTER_PATH``: jupyter_client
would resolve "python3" by importing ipykernel here, and then every later test's
progress bar would take this process for a notebook (see utils/progbar.py).
"""

import contextlib
import json
import sys

import pytest

KERNEL = "minidl-python3"


@contextlib.contextmanager
def notebook_environment(directory, **environment):
    """Inside: ``KERNEL`` runs this interpreter, with no user profile, as in Jupyter."""
    kernel = directory / "jupyter" / "kernels" / KERNEL
    kernel.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "Python 3 (minidl tests)", "language": "python"})
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(directory / "jupyter"))
        patch.setenv("IPYTHONDIR", str(directory / "ipython"))  # no user profile or startup files
        patch.delenv("MPLBACKEND", raising=False)  # as in Jupyter: ipykernel picks the inline one
        for name, value in environment.items():
            if value is None:
                patch.delenv(name, raising=False)
            else:
                patch.setenv(name, value)
        yield KERNEL
