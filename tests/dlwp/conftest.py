"""Shared set-up for Deep Learning with Python's companion notebooks (first edition,
fchollet/deep-learning-with-python-notebooks, Keras 2.0.8), ported as tests.

Each test starts like a fresh notebook (``K.clear_session()``): automatic layer
names start over, every random generator is seeded, and the working directory is
a temporary folder.  ``import keras`` / ``from keras import ...`` become
``import minidl`` / ``from minidl import ...``; nothing else in the book's code
changes.  The data sets are stand-ins made here with the structure of the real
ones (IMDB's word-index sequences, Reuters' 46 topics, Boston's 13 features...),
small enough for the files to run in seconds; each module says what it replaced.
"""

import pytest

import minidl


@pytest.fixture(autouse=True)
def fresh_session(tmp_path, monkeypatch):
    minidl.backend.clear_session()
    minidl.utils.set_random_seed(1337)
    monkeypatch.chdir(tmp_path)
    yield tmp_path
