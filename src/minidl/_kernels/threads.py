"""How many threads the kernels use: one OpenMP pool for all parallel work.

OpenMP runs the ``prange`` loops (im2col, pooling, the direct convolution,
large optimizer updates) and also the big matrix products: ``dense.pyx``
splits each into one part per thread and gives every part to a
single-threaded OpenBLAS call.  OpenBLAS's own thread pool stays unused.
Two pools on a small machine get in each other's way: after each product
OpenBLAS's idle threads keep spinning for about a tenth of a second, and the
OpenMP loops that followed ran up to twice as slow beside them (the CNN of
the tutorials trained 25% faster once a single pool did everything).

``set_num_threads(n)`` sets that pool, like ``torch.set_num_threads``.  One
thread can be the better choice on a machine where other programs also run:
a parallel loop waits for its slowest thread.  Small products always run on
one thread (see ``dense.pyx``).

The OpenMP runtime is asked through ``openmp.pyx``, compiled beside the
kernels and so linked to the same runtime they use (libgomp, libomp or
vcomp).  Kernels built without OpenMP run on one thread, and say so: the
count is 1 whatever is asked.

Bounds: a count is a positive integer, and at most ``max_threads()``
(``MAX_THREADS_PER_CPU`` per CPU).  Far more threads than CPUs only make
every loop wait, and an absurd count (a million) makes the OpenMP runtime
crash when it starts them; a larger count is lowered to the bound with a
warning, from ``set_num_threads`` as from ``OMP_NUM_THREADS``.
"""

from __future__ import annotations

import ctypes
import operator
import os
import warnings

MAX_THREADS_PER_CPU = 4


def max_threads():
    """The most threads minidl will use: ``MAX_THREADS_PER_CPU`` times the CPU count."""
    return MAX_THREADS_PER_CPU * (os.cpu_count() or 1)


def checked_count(n, source):
    """``n`` as a thread count: a positive integer, lowered to ``max_threads()`` with a
    warning; a ValueError (nothing changed) for anything else."""
    if isinstance(n, bool):
        n = None
    try:
        count = operator.index(n)
    except TypeError:
        count = 0
    if count < 1:
        raise ValueError(f"{source}: n must be a positive integer, received {n!r}.")
    bound = max_threads()
    if count > bound:
        warnings.warn(f"{source}: {count} threads is more than this machine can use; using "
                      f"{bound} ({MAX_THREADS_PER_CPU} per CPU, {os.cpu_count()} CPUs).",
                      RuntimeWarning, stacklevel=3)
        return bound
    return count


def _blas():
    """The BLAS library the compiled kernels call (loading them if need be)."""
    from minidl._kernels import compiled

    return compiled.BLAS


def set_num_threads(n):
    """Use ``n`` threads for the parallel loops and the big matrix products.

    ``n`` is a positive integer; more than ``max_threads()`` is lowered to it
    with a warning.  A build without OpenMP stays on one thread.
    """
    count = checked_count(n, "set_num_threads")
    from minidl._kernels import openmp

    blas = _blas()
    openmp.set_threads(count)
    _tell_dense_kernels(blas, openmp.max_threads())


def _tell_dense_kernels(blas, n):
    """OpenBLAS to one thread; big products split over ``n`` OpenMP threads."""
    from minidl._kernels import dense

    setter = blas.set_threads
    dense.configure_blas_threads(ctypes.cast(setter, ctypes.c_void_p).value if setter else 0, n)


def configure_default(blas):
    """At load: products split over as many threads as OpenMP has (one without OpenMP),
    the count lowered to ``max_threads()`` if the environment asked for more."""
    from minidl._kernels import openmp

    count = openmp.max_threads()
    if count > max_threads():
        openmp.set_threads(checked_count(count, "OMP_NUM_THREADS"))
    _tell_dense_kernels(blas, openmp.max_threads())


def get_num_threads():
    """``{"blas": b, "openmp": n}``: ``n`` threads run a parallel loop and split a big
    product (1 in a build without OpenMP); ``b`` is what the BLAS library itself
    reports for its own pool (``openblas_get_num_threads``): 1, since minidl keeps it
    on one thread, or None when the library has no such function."""
    from minidl._kernels import openmp

    blas = _blas()  # loads the kernels
    return {"blas": blas.get_threads() if blas.get_threads else None,
            "openmp": openmp.max_threads()}
