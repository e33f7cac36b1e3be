# cython: language_level=3
"""Yes/no versions of the argument checks, for the compiled kernels' hot path.

``checks.py`` explains what is wrong with a bad argument, but even a call
with good arguments costs it 1-2 microseconds of Python: as much as a whole
64x10 softmax.  So each compiled kernel first asks these C-level questions
(tens of nanoseconds), and only when one says no does it call the ``checks.py``
function, which raises the ``ValueError`` that names the problem.

Every "yes" here must imply that ``checks.py`` would accept the arguments
(tests/test_kernel_fuzz.py feeds both backends the same bad calls); a "no"
for something ``checks.py`` accepts only costs the slow path.
"""

cimport numpy as cnp

# (a module that cimports these calls cnp.import_array() once at load)


cdef inline int float_type(object a) noexcept:
    """NPY_FLOAT or NPY_DOUBLE for a native-order float32/float64 ndarray, else -1."""
    cdef int t
    if not cnp.PyArray_Check(a) or not cnp.PyArray_ISNOTSWAPPED(<cnp.ndarray>a):
        return -1
    t = cnp.PyArray_TYPE(<cnp.ndarray>a)
    return t if t == cnp.NPY_FLOAT or t == cnp.NPY_DOUBLE else -1


cdef inline bint array_of(object a, int ndim, int typenum, bint output) noexcept:
    """A C-contiguous ndarray of this type and number of axes; writeable if an output."""
    cdef cnp.ndarray arr
    if not cnp.PyArray_Check(a):
        return False
    arr = <cnp.ndarray>a
    return (cnp.PyArray_NDIM(arr) == ndim and cnp.PyArray_TYPE(arr) == typenum
            and cnp.PyArray_ISNOTSWAPPED(arr) and cnp.PyArray_IS_C_CONTIGUOUS(arr)
            and (not output or cnp.PyArray_ISWRITEABLE(arr)))


cdef inline Py_ssize_t dim(object a, int axis) noexcept:
    """Length of ``axis`` of an ndarray already checked by ``array_of``."""
    return cnp.PyArray_DIM(<cnp.ndarray>a, axis)


cdef inline bint apart(object a, object b) noexcept:
    """Two C-contiguous arrays (or None) own no byte in common.

    An array with no elements overlaps nothing, as for np.may_share_memory.
    """
    cdef char *start_a
    cdef char *start_b
    if a is None or b is None:
        return True
    if cnp.PyArray_SIZE(<cnp.ndarray>a) == 0 or cnp.PyArray_SIZE(<cnp.ndarray>b) == 0:
        return True
    start_a = cnp.PyArray_BYTES(<cnp.ndarray>a)
    start_b = cnp.PyArray_BYTES(<cnp.ndarray>b)
    return (start_a + cnp.PyArray_NBYTES(<cnp.ndarray>a) <= start_b
            or start_b + cnp.PyArray_NBYTES(<cnp.ndarray>b) <= start_a)
