# cython: language_level=3
"""The OpenMP runtime the kernels were compiled with: its thread count.

Every kernel module is built with the same compiler and flags, so they share
one OpenMP runtime (libgomp with GCC, libomp with clang, vcomp with MSVC), and
this module, built the same way, reaches that very runtime.  Asking it is the
only reliable way: a library found by name could be another runtime than the
one the kernels run on.  A build without OpenMP runs everything on one thread;
there ``ENABLED`` is False, ``max_threads()`` is 1 and ``set_threads`` does
nothing.  ``threads.py`` checks the count before it gets here.
"""

from cython.parallel cimport prange, threadid
from libc.stdlib cimport free, malloc

cdef extern from "openmp_threads.h" nogil:
    int minidl_openmp_enabled()
    int minidl_openmp_max_threads()
    void minidl_openmp_set_threads(int n)

ENABLED = bool(minidl_openmp_enabled())


def max_threads():
    """How many threads a parallel loop of the kernels starts (``omp_get_max_threads``)."""
    return minidl_openmp_max_threads()


def set_threads(int n):
    """``omp_set_num_threads(n)`` for the calling thread; ``n`` must be positive."""
    if n < 1:
        raise ValueError(f"set_threads: n must be positive, received {n}.")
    minidl_openmp_set_threads(n)


def loop_threads():
    """How many threads a parallel loop of the kernels really runs on now.

    A ``prange`` like the kernels' (default thread count), one iteration per
    thread it may start; each records the thread that ran it.  The tests use
    it to check that ``set_num_threads`` reaches the loops.
    """
    cdef int n = minidl_openmp_max_threads(), i, most = 0
    cdef int *ran_on = <int *>malloc(n * sizeof(int))
    if ran_on == NULL:
        raise MemoryError()
    for i in prange(n, nogil=True, schedule="static", chunksize=1):
        ran_on[i] = threadid()
    for i in range(n):
        most = max(most, ran_on[i])
    free(ran_on)
    return most + 1
