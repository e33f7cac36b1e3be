"""Shared set-up for the ported TensorFlow tutorials (tensorflow/docs site/en/tutorials).

Each test starts like a fresh notebook: automatic layer names start over
(``dense``, ``dense_1``, ...), every random generator is seeded, and the
working directory is a temporary folder, so the tutorials' relative paths
write nowhere else.  The data are tiny stand-ins made here (the tutorials
download theirs); each module says what it replaced.
"""

import pytest

import minidl


@pytest.fixture(autouse=True)
def fresh_session(tmp_path, monkeypatch):
    minidl.utils.clear_session()
    minidl.utils.set_random_seed(1337)
    monkeypatch.chdir(tmp_path)
    yield tmp_path
