"""Which OpenBLAS the matrix products call, chosen once when the kernels load.

numpy's and scipy's wheels each bundle an OpenBLAS, and the two can be
different releases.  On the 2-core AVX-512 machine minidl is measured on,
numpy 2.4's (0.3.31) ran the tutorials' products 10-17% faster than scipy
1.17's (0.3.30), on one thread and on two.  So ``dense.pyx`` calls numpy's
library when it exports the four functions the kernels need (numpy's PyPI
wheels do, with 64-bit integers and names like ``scipy_sgemm_64_``), and
scipy's ``cython_blas`` otherwise (numpy built against a system BLAS or MKL).

Taking the library numpy's ``@`` uses has a second benefit: a program that
mixes ``@`` with minidl keeps one BLAS thread pool instead of two, whose
waiting threads would spin against each other on a small machine.

``MINIDL_BLAS=scipy`` forces scipy's library (the tests run both ways).
Only function addresses cross into Cython: ``ctypes`` finds numpy's in the
already loaded library, and scipy's in the table ``scipy.linalg.cython_blas``
publishes (``__pyx_capi__``); nothing is compiled against either, and scipy is
imported only when its library is the one used (it costs 28 MB of memory, and
its OpenBLAS starts a thread pool of its own).
"""

from __future__ import annotations

import ctypes
import glob
import os

# numpy's bundled OpenBLAS (scipy-openblas64): Fortran interface, 64-bit ints
NUMPY_FUNCTIONS = ("scipy_sgemm_64_", "scipy_dgemm_64_", "scipy_sgemv_64_", "scipy_dgemv_64_")
NUMPY_THREAD_FUNCTIONS = ("scipy_openblas_set_num_threads64_",
                          "scipy_openblas_get_num_threads64_")
SCIPY_THREAD_FUNCTIONS = (("scipy_openblas_set_num_threads", "openblas_set_num_threads"),
                          ("scipy_openblas_get_num_threads", "openblas_get_num_threads"))


class BlasLibrary:
    """The library the kernels call: its ``ctypes`` handle and thread functions."""

    def __init__(self, name, cdll, set_threads, get_threads):
        self.name = name                # "numpy" or "scipy"
        self.cdll = cdll                # None when the library file was not found
        self.set_threads = set_threads  # ctypes functions, or None
        self.get_threads = get_threads

    def __repr__(self):
        return f"BlasLibrary({self.name!r})"


def _load_first(patterns):
    for pattern in patterns:
        for path in sorted(glob.glob(pattern)):
            try:
                return ctypes.CDLL(path)
            except OSError:
                continue
    return None


def _bundled(package):
    """The OpenBLAS inside ``package``'s wheel (Linux ``<pkg>.libs``, macOS ``.dylibs``)."""
    module = __import__(package)
    here = os.path.dirname(module.__file__)
    return _load_first([os.path.join(os.path.dirname(here), f"{package}.libs", "*openblas*"),
                        os.path.join(here, ".dylibs", "*openblas*")])


def _numpy_library():
    cdll = _bundled("numpy")
    if cdll is None or not all(hasattr(cdll, f) for f in NUMPY_FUNCTIONS + NUMPY_THREAD_FUNCTIONS):
        return None
    set_threads, get_threads = (getattr(cdll, f) for f in NUMPY_THREAD_FUNCTIONS)
    return BlasLibrary("numpy", cdll, set_threads, get_threads)


def _scipy_library():
    cdll = _bundled("scipy")

    def first(names):
        return next((getattr(cdll, n) for n in names if cdll is not None and hasattr(cdll, n)), None)

    return BlasLibrary("scipy", cdll, *(first(names) for names in SCIPY_THREAD_FUNCTIONS))


def choose():
    """numpy's OpenBLAS if usable (and not refused by MINIDL_BLAS=scipy), else scipy's."""
    wanted = os.environ.get("MINIDL_BLAS", "numpy")
    if wanted not in ("numpy", "scipy"):
        raise ValueError(f"MINIDL_BLAS must be 'numpy' or 'scipy', received {wanted!r}.")
    library = _numpy_library() if wanted == "numpy" else None
    return library or _scipy_library()


SCIPY_FUNCTIONS = ("sgemm", "dgemm", "sgemv", "dgemv")


def _capsule_address(capsule):
    """The C function a PyCapsule holds (how Cython modules share their functions)."""
    api = ctypes.pythonapi
    api.PyCapsule_GetName.restype = ctypes.c_char_p
    api.PyCapsule_GetName.argtypes = [ctypes.py_object]
    api.PyCapsule_GetPointer.restype = ctypes.c_void_p
    api.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    return api.PyCapsule_GetPointer(capsule, api.PyCapsule_GetName(capsule))


def install(dense_module):
    """Give the dense kernels the chosen library's function addresses; return it."""
    library = choose()
    if library.name == "numpy":
        addresses = [ctypes.cast(getattr(library.cdll, f), ctypes.c_void_p).value
                     for f in NUMPY_FUNCTIONS]
        dense_module.use_blas(*addresses, ilp64=True)
    else:
        from scipy.linalg import cython_blas

        table = cython_blas.__pyx_capi__
        dense_module.use_blas(*(_capsule_address(table[f]) for f in SCIPY_FUNCTIONS), ilp64=False)
    return library
