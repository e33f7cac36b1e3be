# cython: language_level=3
"""Confusion counts at thresholds, for Precision, Recall and AUC: one pass, no temporaries.

A prediction p is positive at threshold t when p > t; a label when it is not 0.
Per threshold j the weighted counts are added to the metric's state::

    tp[j] += sum(w [label != 0] [p > t_j])      fn[j] += sum(w [label != 0]) - that
    fp[j] += sum(w [label == 0] [p > t_j])      tn[j] += sum(w [label == 0]) - that

``confusion_thresholds_add`` compares every prediction with every threshold
(Precision and Recall have one).  ``confusion_buckets_add`` serves AUC's
evenly spread thresholds -1e-7, 1/(T-1), ..., 1 + 1e-7: p clipped to [0, 1]
is positive at threshold j exactly when j <= b = max(ceil(p (T-1)) - 1, 0),
so one pass drops each weight into bucket b and a sum from the top bucket
down gives every count: O(M + T) instead of O(M T).

Sums run in double, in the order of the predictions, on one thread: the
work of a step (a few hundred predictions) is far too small to wake a
second one.  NumPy twins: ``reference.confusion_thresholds_add`` and
``reference.confusion_buckets_add``.
"""

from cython cimport floating
from libc.math cimport ceil
from libc.stdlib cimport calloc, free

cimport numpy as cnp

from minidl._kernels.checks import check_confusion
from minidl._kernels.fast_checks cimport apart, array_of, dim, float_type

cnp.import_array()


cdef bint _arguments_ok(labels, predictions, weights, thresholds, Py_ssize_t count,
                        tp, fp, fn, tn):
    """The quick form of checks.check_confusion (``thresholds`` may be None)."""
    cdef int t = float_type(predictions)
    if t < 0 or not (array_of(labels, 1, t, False) and array_of(predictions, 1, t, False)):
        return False
    cdef Py_ssize_t m = dim(labels, 0)
    if dim(predictions, 0) != m:
        return False
    if weights is not None and not (array_of(weights, 1, t, False) and dim(weights, 0) == m):
        return False
    if thresholds is not None and not (array_of(thresholds, 1, t, False)
                                       and dim(thresholds, 0) == count):
        return False
    if count < 1:
        return False
    for out in (tp, fp, fn, tn):
        if out is None:
            continue
        if not (array_of(out, 1, t, True) and dim(out, 0) == count):
            return False
        for other in (labels, predictions, weights, thresholds):
            if not apart(out, other):
                return False
    for first, second in ((tp, fp), (tp, fn), (tp, tn), (fp, fn), (fp, tn), (fn, tn)):
        if first is not None and second is not None and not apart(first, second):
            return False
    return True


def confusion_thresholds_add(labels, predictions, weights, thresholds, tp, fp, fn, tn):
    """Add the weighted confusion counts at each of ``thresholds`` to tp, fp, fn, tn
    (each may be None).  labels, predictions, weights (M,) (weights may be None);
    thresholds and counts (T,); one float dtype."""
    count = len(thresholds) if thresholds is not None and hasattr(thresholds, "__len__") else -1
    if not _arguments_ok(labels, predictions, weights, thresholds, count, tp, fp, fn, tn):
        check_confusion("confusion_thresholds_add", labels, predictions, weights, thresholds,
                        tp, fp, fn, tn)  # raises, naming what is wrong
    _count_and_add(labels, predictions, weights, thresholds, count, tp, fp, fn, tn)


def confusion_buckets_add(labels, predictions, weights, num_thresholds, tp, fp, fn, tn):
    """``confusion_thresholds_add`` at ``num_thresholds`` evenly spread thresholds
    (Keras's AUC), by buckets.  A NaN prediction lands in no bucket: it counts
    only in fn or tn, as in Keras 2."""
    count = num_thresholds if isinstance(num_thresholds, int) and not isinstance(
        num_thresholds, bool) and num_thresholds >= 2 else -1
    if count < 0 or not _arguments_ok(labels, predictions, weights, None, count, tp, fp, fn, tn):
        check_confusion("confusion_buckets_add", labels, predictions, weights, None,
                        tp, fp, fn, tn, num_thresholds)  # raises, naming what is wrong
    _count_and_add(labels, predictions, weights, None, count, tp, fp, fn, tn)


cdef _count_and_add(labels, predictions, weights, thresholds, Py_ssize_t count, tp, fp, fn, tn):
    """Count (at ``thresholds``, or by AUC's buckets when it is None) into a scratch
    ``above``, then add the counts to the outputs given."""
    cdef double *above = <double *>calloc(2 * count + 2, sizeof(double))
    if above == NULL:
        raise MemoryError()
    cdef bint single = float_type(predictions) == cnp.NPY_FLOAT
    try:
        if single:
            _count[float](labels, predictions, weights, thresholds, count, above,
                          weights is not None, thresholds is None)
        else:
            _count[double](labels, predictions, weights, thresholds, count, above,
                           weights is not None, thresholds is None)
        _add_counts(above, count, tp, fp, fn, tn, single)
    finally:
        free(above)


# ``above`` holds 2T + 2 doubles: the positives' weight above each threshold (T),
# the negatives' (T), then all positives' weight and all negatives'.
cdef void _count(const floating[::1] labels, const floating[::1] predictions,
                 const floating[::1] weights, const floating[::1] thresholds, Py_ssize_t count,
                 double *above, bint weighted, bint buckets) noexcept nogil:
    """One pass over the predictions: each weight goes to its side's total and either
    to every threshold it is above, or (``buckets``) to its AUC bucket, summed from
    the top bucket down at the end."""
    cdef Py_ssize_t m = labels.shape[0], i, j, bucket
    cdef floating p, scaled
    cdef floating top = <floating>(count - 1)
    cdef double w
    cdef double *side
    for i in range(m):
        w = weights[i] if weighted else 1.0
        if labels[i] != 0:
            side = above
            above[2 * count] += w
        else:
            side = above + count
            above[2 * count + 1] += w
        p = predictions[i]
        if not buckets:
            for j in range(count):
                if p > thresholds[j]:
                    side[j] += w
            continue
        if p != p:  # NaN: no bucket
            continue
        if p < 0:
            p = 0
        elif p > 1:
            p = 1
        scaled = p * top  # rounded to the predictions' dtype, as the twin computes it
        bucket = <Py_ssize_t>ceil(scaled) - 1
        if bucket < 0:
            bucket = 0
        side[bucket] += w
    if buckets:  # from the top bucket down: the weight of the buckets >= j
        for j in range(count - 2, -1, -1):
            above[j] += above[j + 1]
            above[count + j] += above[count + j + 1]


cdef void _add(floating[::1] out, const double *above, double total,
               bint complement) noexcept nogil:
    """out[j] += above[j], or total - above[j] (fn from tp, tn from fp)."""
    cdef Py_ssize_t j
    for j in range(out.shape[0]):
        out[j] += <floating>(total - above[j] if complement else above[j])


cdef _add_counts(double *above, Py_ssize_t count, tp, fp, fn, tn, bint single):
    """Add the counts of ``above`` (see above) into the outputs given."""
    cdef double positives = above[2 * count], negatives = above[2 * count + 1]
    for out, values, total, complement in ((tp, 0, 0.0, False), (fp, count, 0.0, False),
                                           (fn, 0, positives, True),
                                           (tn, count, negatives, True)):
        if out is None:
            continue
        if single:
            _add[float](out, above + <Py_ssize_t>values, total, complement)
        else:
            _add[double](out, above + <Py_ssize_t>values, total, complement)
