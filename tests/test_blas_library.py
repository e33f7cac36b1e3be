"""The products give the same answers whichever OpenBLAS blas_library.py picks."""

import json
import os
import subprocess
import sys

import pytest

from minidl._kernels import blas_library, compiled

# run in a fresh process: the library is chosen once, when the kernels load
PROBE = """
import json, numpy as np
from minidl._kernels import compiled, reference
rng = np.random.default_rng(0)
errors = []
for dtype in (np.float32, np.float64):
    for n, k, m in [(1, 1, 1), (3, 5, 7), (64, 784, 128), (300, 40, 10)]:
        x, w = rng.normal(size=(n, k)).astype(dtype), rng.normal(size=(k, m)).astype(dtype)
        b, g = rng.normal(size=m).astype(dtype), rng.normal(size=(n, m)).astype(dtype)
        got, want = {}, {}
        for kernels, into in ((compiled, got), (reference, want)):
            out = np.empty((n, m), dtype)
            kernels.dense_forward(x, w, b, out, "relu")
            gx, gw, gb = np.empty_like(x), np.empty_like(w), np.empty_like(b)
            kernels.dense_backward(x, w, out, g, gx, gw, gb, "relu")
            into.update(out=out, gx=gx, gw=gw, gb=gb)
        tol = 1e-4 if dtype == np.float32 else 1e-10
        errors += [float(np.max(np.abs(got[key] - want[key]) / (1 + np.abs(want[key]))))
                   for key in got]
import sys
print(json.dumps({"blas": compiled.dense.blas_name(), "worst": max(errors),
                  "scipy_loaded": "scipy.linalg" in sys.modules}))
"""


def _probe(choice):
    env = dict(os.environ, MINIDL_BLAS=choice)
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True,
                          text=True, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("choice", ["numpy", "scipy"])
def test_dense_kernels_match_the_twins_with_either_library(choice):
    result = _probe(choice)
    if choice == "numpy" and blas_library._numpy_library() is None:
        assert result["blas"] == "scipy"  # numpy without a bundled OpenBLAS: the fallback
    else:
        assert result["blas"] == choice
    assert result["worst"] < 1e-4
    # scipy (28 MB, its own OpenBLAS and thread pool) is loaded only to be used
    assert result["scipy_loaded"] == (result["blas"] == "scipy")


def test_use_blas_refuses_a_missing_function():
    with pytest.raises(ValueError, match="address"):
        compiled.dense.use_blas(1, 1, 0, 1, True)


def test_the_loaded_kernels_report_the_library_they_call():
    assert compiled.BLAS.name == compiled.dense.blas_name()


def test_an_unknown_library_name_is_refused(monkeypatch):
    monkeypatch.setenv("MINIDL_BLAS", "mkl")
    with pytest.raises(ValueError, match="MINIDL_BLAS"):
        blas_library.choose()
