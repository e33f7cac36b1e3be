"""The environment for a child Python process that must import the minidl under test.

The child imports minidl from the directory these tests imported it from: ``src/``
when the tests run on the worktree (``PYTHONPATH=src`` or an editable install),
site-packages when minidl is installed as a wheel (``src/`` has no compiled kernels
there, and must not shadow the installed package).
"""

import os
from pathlib import Path

import minidl

PACKAGE_PARENT = str(Path(minidl.__file__).resolve().parents[1])


def child_env(base=None, **variables):
    """``base`` (default ``os.environ``) and ``variables``, with ``PYTHONPATH`` starting at
    the directory holding the minidl this process imported."""
    env = dict(os.environ if base is None else base)
    env.update(variables)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_PARENT, env.get("PYTHONPATH")]))
    return env
