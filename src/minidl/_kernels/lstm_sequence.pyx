# cython: language_level=3
"""An LSTM's whole time loop, forward and backward, in one call each.

The LSTM op (``minidl.ops.recurrent.lstm``) could run its steps from Python,
calling ``packed_gemm`` and ``lstm_step_forward`` once per step, and the NumPy
twins here do exactly that (``reference.lstm_sequence_forward``).  The
products and the gate passes are the same compiled code either way; what this
module saves is the Python between them: M5's 28 steps make about 150 kernel
calls per training step, each a few microseconds of argument handling, and the
interpreter's own memory traffic pushes the step's arrays out of the cache
between the products.  One call per direction runs every step in C.

Forward, per step t (row layout of ``xh``: [x_t, h_{t-1}, 1], see the op):

    xh[t][:, h part] = h_{t-1} (times the recurrent dropout mask)
    z_t = xh[t] @ [W; U; b]                          packed_gemm (N, 4U)
    i, f, g, o, c_t, h_t from z_t and c_{t-1}        the fused gate pass

Backward, per step t from the last to the first:

    dL/dz_t, dL/dc_{t-1} from dL/dh_t, dL/dc_t       the fused gate pass
    dL/dh_{t-1} = dL/dz_t U^T (times the mask)       packed_gemm
    [dL/dW; dL/dU; dL/db] += xh[t]^T dL/dz_t         packed_gemm(trans_a)

The last line is done for a group of steps at once (M5: 4 steps of 64 rows), a sum
over all their rows: xh[s]^T dL/dz_s summed over s is one product, [xh rows of the
group]^T [their dL/dz], 256 rows deep, which adds into the gradient a quarter as often.

Threads (when a step is large enough): the batch's rows are independent of each
other through the whole loop, so each thread takes its own rows through every step,
forward with no waiting at all.  Backward, the weight gradient sums over every row:
once per group of steps the threads wait for each other (every row of the group's
dL/dz packed), then each adds up its own 64-column panels of it.  Every value is
computed by one thread in one order: the same bits on any number of threads.  One
parallel region per call, instead of three or four per step, each waking the threads.

Subnormal floats are flushed to zero while the loop runs, as TensorFlow does
(``flush_denormals.h``): a gradient sent back through a long sequence shrinks
into them, and x86 computes them ~100 times slower (an LSTM over 200 steps took
10 times as long).  The twins keep them; the two differ by less than 1.2e-38.
"""

from cython cimport floating
from cython.parallel cimport parallel, threadid
from libc.string cimport memcpy

import numpy as np
cimport numpy as cnp

cnp.import_array()

cdef extern from "openmp_threads.h" nogil:
    int minidl_openmp_team_size()  # inside a parallel region: its threads (else 1)
    void minidl_openmp_barrier()  # wait for every thread of the region

from minidl._kernels import RECURRENT_ACTIVATIONS
from minidl._kernels.activation_codes cimport activation_codes
from minidl._kernels.dense import blas_thread_limit
from minidl._kernels.fast_checks cimport apart, array_of, dim, float_type
from minidl._kernels.flush_denormals cimport minidl_flush_begin, minidl_flush_end
from minidl._kernels.packed_product cimport (
    pack_rows,
    packed_rows,
    row_bound,
)
from minidl._kernels.recurrent_step cimport _lstm_backward_row, _lstm_forward_row
from minidl._kernels.panel_checks import panels_shape
from minidl._kernels.recurrent_checks import (
    check_lstm_sequence_backward,
    check_lstm_sequence_forward,
)

_CODES = activation_codes(RECURRENT_ACTIVATIONS)

# --- the pieces of the loop -------------------------------------------------
# multiply-adds per step at and above which the loop is split over the threads
# (M6's 128 x 65 x 128 is 1.1 million; below a quarter million, a thread's share
# takes less time than waking it)
cdef enum:
    SEQUENCE_PARALLEL_MIN_MACS = 1 << 18
# the weight gradient's products sum over about this many rows (a group of steps' rows:
# M5's 64-row batch in groups of 4 steps), not one step's: the product's tiles add
# into the gradient a quarter as often, and the threads wait once per group
cdef enum:
    GRAD_GROUP_ROWS = 256


def _grad_group(Py_ssize_t steps, Py_ssize_t rows):
    """How many steps' dL/dz one product of the weight gradient takes."""
    return max(1, min(steps, GRAD_GROUP_ROWS // max(rows, 1)))


cdef int _parts(int threads, Py_ssize_t macs_per_step) noexcept nogil:
    return threads if threads > 1 and macs_per_step >= SEQUENCE_PARALLEL_MIN_MACS else 1


cdef inline void _put_h(floating *row_h, const floating *h, const floating *dropout,
                        Py_ssize_t n, Py_ssize_t units) noexcept nogil:
    """xh's h part of row n = h (times row n of the dropout mask, if any)."""
    cdef Py_ssize_t j
    if dropout == NULL:
        memcpy(row_h, h, units * sizeof(floating))
    else:
        for j in range(units):
            row_h[j] = h[j] * dropout[n * units + j]


# --- the quick argument checks (the full ones, naming the problem, in recurrent_checks.py)
cdef bint _all_apart(tuple outputs, tuple inputs):
    """No output shares memory with another output or with an input."""
    cdef Py_ssize_t i, j
    for i in range(len(outputs)):
        for j in range(len(outputs)):
            if i != j and not apart(outputs[i], outputs[j]):
                return False
        for j in range(len(inputs)):
            if not apart(outputs[i], inputs[j]):
                return False
    return True


cdef bint _sequence_ok(object xh, object cells, object masks, object dropout, object features,
                       object activation, object recurrent_activation, int t):
    """What both directions check: xh (T, N, F + U (+ 1)) against cells (T + 1, N, U),
    the masks, the dropout mask, features and the activations."""
    if not (array_of(xh, 3, t, False) and array_of(cells, 3, t, False)):
        return False
    # (features compared as a Python int first: 2**63 does not fit the C cast below)
    if type(features) is not int or not 0 <= features <= dim(xh, 2) or dim(cells, 0) < 1:
        return False
    if type(activation) is not str or type(recurrent_activation) is not str:
        return False
    if activation not in _CODES or recurrent_activation not in _CODES:
        return False
    cdef Py_ssize_t steps = dim(cells, 0) - 1, n = dim(cells, 1), units = dim(cells, 2)
    cdef Py_ssize_t extra = dim(xh, 2) - <Py_ssize_t>features - units
    if dim(xh, 0) != steps or dim(xh, 1) != n or not (extra == 0 or extra == 1):
        return False
    if masks is not None and not (array_of(masks, 2, cnp.NPY_UINT8, False)
                                  and dim(masks, 0) == steps and dim(masks, 1) == n):
        return False
    return dropout is None or (array_of(dropout, 2, t, False) and dim(dropout, 0) == n
                               and dim(dropout, 1) == units)


cdef bint _same_shape(object a, object b):
    return (dim(a, 0) == dim(b, 0) and dim(a, 1) == dim(b, 1)
            and (cnp.PyArray_NDIM(<cnp.ndarray>a) < 3 or dim(a, 2) == dim(b, 2)))


cdef bint _forward_ok(xh, packed, gates, cells, hidden, masks, dropout, features, activation,
                      recurrent_activation):
    cdef int t = float_type(xh)
    if t < 0 or not _sequence_ok(xh, cells, masks, dropout, features, activation,
                                 recurrent_activation, t):
        return False
    if not (array_of(xh, 3, t, True) and array_of(packed, 3, t, False)
            and array_of(gates, 3, t, True) and array_of(cells, 3, t, True)
            and array_of(hidden, 3, t, True)):
        return False
    cdef Py_ssize_t steps = dim(cells, 0) - 1, n = dim(cells, 1), width = 4 * dim(cells, 2)
    return (dim(packed, 0) == (width + 63) // 64 and dim(packed, 1) == dim(xh, 2)
            and dim(packed, 2) == 64 and dim(gates, 0) == steps and dim(gates, 1) == n
            and dim(gates, 2) == width and _same_shape(hidden, cells)
            and _all_apart((xh, gates, cells, hidden), (packed, masks, dropout)))


cdef bint _backward_ok(xh, packed_ut, gates, cells, grad_steps, grad_h, grad_c, masks, dropout,
                       grad_gates, grad_stacked, features, first, activation,
                       recurrent_activation):
    cdef int t = float_type(xh)
    if t < 0 or not _sequence_ok(xh, cells, masks, dropout, features, activation,
                                 recurrent_activation, t):
        return False
    if type(first) is not int or not (first == 0 or first == 1):
        return False
    cdef Py_ssize_t steps = dim(cells, 0) - 1, n = dim(cells, 1), units = dim(cells, 2)
    cdef Py_ssize_t width = 4 * units
    if not (array_of(packed_ut, 3, t, False) and array_of(gates, 3, t, False)
            and array_of(grad_h, 2, t, True) and array_of(grad_c, 2, t, True)
            and array_of(grad_stacked, 2, t, True)):
        return False
    if grad_steps is not None and not (array_of(grad_steps, 3, t, False)
                                       and dim(grad_steps, 0) == steps
                                       and dim(grad_steps, 1) == n
                                       and dim(grad_steps, 2) == units):
        return False
    if array_of(grad_gates, 3, t, True):
        if not (dim(grad_gates, 0) == steps and dim(grad_gates, 1) == n
                and dim(grad_gates, 2) == width):
            return False
    elif not (array_of(grad_gates, 2, t, True) and dim(grad_gates, 0) == n
              and dim(grad_gates, 1) == width):
        return False
    return (dim(packed_ut, 0) == (units + 63) // 64 and dim(packed_ut, 1) == width
            and dim(packed_ut, 2) == 64 and dim(gates, 0) == steps and dim(gates, 1) == n
            and dim(gates, 2) == width and dim(grad_h, 0) == n and dim(grad_h, 1) == units
            and _same_shape(grad_c, grad_h) and dim(grad_stacked, 0) == dim(xh, 2)
            and dim(grad_stacked, 1) == width
            and _all_apart((grad_h, grad_c, grad_gates, grad_stacked),
                           (xh, packed_ut, gates, cells, grad_steps, masks, dropout)))


# --- the kernels ----------------------------------------------------------------
def lstm_sequence_forward(xh, packed, gates, cells, hidden, masks, dropout, features,
                          activation="tanh", recurrent_activation="sigmoid"):
    """Every step of an LSTM forward (see the module docstring and the twin).

    xh (T, N, K), K = F + U (+ 1 with a bias): the x and 1 columns given, the h
    columns written (row t gets h_{t-1}, times ``dropout`` (N, U) if given);
    packed: [W; U; b] (K, 4U) by ``pack_panels``; gates (T, N, 4U) out (i, f, g, o);
    cells, hidden (T + 1, N, U): row 0 the initial state, rows 1..T written;
    masks (T, N) uint8 or None (0: a padded step, the state goes through).
    """
    if not _forward_ok(xh, packed, gates, cells, hidden, masks, dropout, features, activation,
                       recurrent_activation):
        check_lstm_sequence_forward(xh, packed, gates, cells, hidden, masks, dropout, features,
                                    activation, recurrent_activation)  # raises, naming it
    if xh.dtype == np.float32:
        _forward[float](xh, packed, gates, cells, hidden, masks, dropout, features,
                        _CODES[activation], _CODES[recurrent_activation])
    else:
        _forward[double](xh, packed, gates, cells, hidden, masks, dropout, features,
                         _CODES[activation], _CODES[recurrent_activation])


cdef const unsigned char *_mask_rows(object masks, Py_ssize_t t, Py_ssize_t rows):
    if masks is None:
        return NULL
    return <const unsigned char *>cnp.PyArray_DATA(<cnp.ndarray>masks) + t * rows


cdef const floating *_optional(object a, floating *kind):
    """The data of an optional array (NULL for None); ``kind`` only picks the type."""
    if a is None:
        return NULL
    return <const floating *>cnp.PyArray_DATA(<cnp.ndarray>a)


cdef void _forward(floating[:, :, ::1] xh, const floating[:, :, ::1] packed,
                   floating[:, :, ::1] gates, floating[:, :, ::1] cells,
                   floating[:, :, ::1] hidden, object masks, object dropout,
                   Py_ssize_t features, int act, int ract):
    """Each thread takes its own rows (batch samples) through every step: a row's step
    needs only its own h_{t-1} and c_{t-1}, so the threads never wait for each other."""
    cdef Py_ssize_t steps = xh.shape[0], rows = xh.shape[1], k = xh.shape[2]
    cdef Py_ssize_t units = cells.shape[2], width = 4 * units, size = rows * units
    cdef int parts = _parts(blas_thread_limit(), rows * k * width)
    cdef const floating *drop = _optional(dropout, <floating *>NULL)
    cdef const unsigned char *masks_p = _mask_rows(masks, 0, rows)
    cdef floating *xh_p
    cdef const floating *packed_p
    cdef floating *gates_p
    cdef floating *cells_p
    cdef floating *hidden_p
    cdef Py_ssize_t t = 0, n = 0, first = 0, last = 0
    cdef unsigned int saved = 0
    if steps == 0 or rows == 0 or units == 0:
        return
    xh_p, packed_p, gates_p = &xh[0, 0, 0], &packed[0, 0, 0], &gates[0, 0, 0]
    cells_p, hidden_p = &cells[0, 0, 0], &hidden[0, 0, 0]
    with nogil, parallel(num_threads=parts, use_threads_if=parts > 1):
        first = row_bound(rows, threadid(), minidl_openmp_team_size())
        last = row_bound(rows, threadid() + 1, minidl_openmp_team_size())
        saved = minidl_flush_begin()  # subnormals as 0 until the loop ends (flush_denormals.h)
        for t in range(steps):
            for n in range(first, last):
                _put_h(xh_p + (t * rows + n) * k + features, hidden_p + t * size + n * units,
                       drop, n, units)
            packed_rows(xh_p + t * rows * k, k, k, packed_p, width, gates_p + t * rows * width,
                        width, first, last, False, False)
            for n in range(first, last):
                _lstm_forward_row(gates_p + (t * rows + n) * width,
                                  cells_p + t * size + n * units,
                                  hidden_p + t * size + n * units,
                                  cells_p + (t + 1) * size + n * units,
                                  hidden_p + (t + 1) * size + n * units,
                                  masks_p != NULL and masks_p[t * rows + n] == 0, units, act,
                                  ract)
        minidl_flush_end(saved)


def lstm_sequence_backward(xh, packed_ut, gates, cells, grad_steps, grad_h, grad_c, masks,
                           dropout, grad_gates, grad_stacked, features, first,
                           activation="tanh", recurrent_activation="sigmoid"):
    """Every step of an LSTM backward, from the last (see the module docstring and the twin).

    xh, gates, cells as ``lstm_sequence_forward`` left them; packed_ut: U^T (4U, U) by
    ``pack_panels``; grad_steps (T, N, U) or None: dL/dh_t from the outputs; grad_h,
    grad_c (N, U): dL/dh_T, dL/dc_T in, dL/dh_0, dL/dc_0 out (with ``first`` = 1 step 0's
    product is skipped, h_0 being a zero that is no input: dL/dh_0 is then incomplete);
    grad_gates (T, N, 4U) out (every step's dL/dz), or (N, 4U) scratch for one step;
    grad_stacked (K, 4U) out: [dL/dW; dL/dU; dL/db] in xh's column order.
    """
    if not _backward_ok(xh, packed_ut, gates, cells, grad_steps, grad_h, grad_c, masks, dropout,
                        grad_gates, grad_stacked, features, first, activation,
                        recurrent_activation):
        check_lstm_sequence_backward(xh, packed_ut, gates, cells, grad_steps, grad_h, grad_c,
                                     masks, dropout, grad_gates, grad_stacked, features, first,
                                     activation, recurrent_activation)  # raises, naming it
    steps, rows, units = cells.shape[0] - 1, cells.shape[1], cells.shape[2]
    # scratch: dL/dh_{t-1}, dL/dc_{t-1}, dL/dh_t in all, the product with a dropout mask;
    # a group of steps' dL/dz packed, two groups in turn
    scratch = np.empty((4, rows, units), xh.dtype)
    packed_grad = np.empty((2,) + panels_shape(_grad_group(steps, rows) * rows, 4 * units),
                           xh.dtype)
    if xh.dtype == np.float32:
        _backward[float](xh, packed_ut, gates, cells, grad_steps, grad_h, grad_c, masks, dropout,
                         grad_gates, grad_stacked, features, first, _CODES[activation],
                         _CODES[recurrent_activation], scratch, packed_grad)
    else:
        _backward[double](xh, packed_ut, gates, cells, grad_steps, grad_h, grad_c, masks,
                          dropout, grad_gates, grad_stacked, features, first,
                          _CODES[activation], _CODES[recurrent_activation], scratch,
                          packed_grad)


cdef void _backward(const floating[:, :, ::1] xh, const floating[:, :, ::1] packed_ut,
                    const floating[:, :, ::1] gates, const floating[:, :, ::1] cells,
                    object grad_steps, floating[:, ::1] grad_h, floating[:, ::1] grad_c,
                    object masks, object dropout, object grad_gates,
                    floating[:, ::1] grad_stacked, Py_ssize_t features, Py_ssize_t first,
                    int act, int ract, floating[:, :, ::1] scratch,
                    floating[:, :, :, ::1] packed_grad):
    """Each thread takes its own rows back through every step (the gate pass, dL/dh_{t-1}
    and packing its rows of dL/dz_t into their place in the group of steps); at the end
    of a group of steps (``_grad_group``), once every thread has packed (the one wait per
    group), each adds xh^T dL/dz of the group's steps into its own panels (or rows) of
    the weight gradient.  Groups are packed into two buffers in turn, so a thread may
    pack the next group while another still reads this one (it cannot get further ahead:
    the next wait is for every thread)."""
    cdef Py_ssize_t steps = gates.shape[0], rows = gates.shape[1], k = xh.shape[2]
    cdef Py_ssize_t units = cells.shape[2], width = 4 * units, size = rows * units
    cdef Py_ssize_t panel_size = (packed_grad.shape[1] * packed_grad.shape[2]
                                  * packed_grad.shape[3])  # one of the two buffers
    cdef int parts = _parts(blas_thread_limit(), rows * k * width)
    cdef Py_ssize_t panels = (width + 63) // 64
    cdef bint by_panel = panels >= parts
    cdef const floating *drop = _optional(dropout, <floating *>NULL)
    cdef const floating *per_step = _optional(grad_steps, <floating *>NULL)
    cdef const unsigned char *masks_p = _mask_rows(masks, 0, rows)
    cdef floating *dz_all = <floating *>cnp.PyArray_DATA(<cnp.ndarray>grad_gates)
    cdef bint every_step = (<cnp.ndarray>grad_gates).ndim == 3
    cdef const floating *xh_p
    cdef const floating *packed_ut_p
    cdef const floating *gates_p
    cdef const floating *cells_p
    cdef floating *grad_h_p
    cdef floating *grad_c_p
    cdef floating *scratch_p
    cdef floating *packed_grad_p
    cdef floating *grad_stacked_p
    cdef floating *dh = NULL  # each thread's own copies of these (set in the loop)
    cdef floating *dc = NULL
    cdef floating *dh_prev = NULL
    cdef floating *dc_prev = NULL
    cdef floating *swap = NULL
    cdef floating *dz = NULL
    cdef floating *packed_t = NULL
    cdef const floating *dh_in = NULL
    cdef Py_ssize_t t = 0, n = 0, j = 0, row_first = 0, row_last = 0
    cdef Py_ssize_t grad_first = 0, grad_last = 0  # this thread's panels (or rows) of it
    cdef Py_ssize_t group = 0, base = 0, count = 0  # steps a group; this group's first, its steps
    cdef unsigned int saved = 0
    if steps == 0 or rows == 0 or units == 0:  # a sum over no steps (or rows): 0
        grad_stacked[...] = 0
        return
    xh_p, packed_ut_p = &xh[0, 0, 0], &packed_ut[0, 0, 0]
    gates_p, cells_p = &gates[0, 0, 0], &cells[0, 0, 0]
    grad_h_p, grad_c_p, scratch_p = &grad_h[0, 0], &grad_c[0, 0], &scratch[0, 0, 0]
    packed_grad_p, grad_stacked_p = &packed_grad[0, 0, 0, 0], &grad_stacked[0, 0]
    group = packed_grad.shape[2] // rows
    with nogil, parallel(num_threads=parts, use_threads_if=parts > 1):
        row_first = row_bound(rows, threadid(), minidl_openmp_team_size())
        row_last = row_bound(rows, threadid() + 1, minidl_openmp_team_size())
        if by_panel:  # which panels (64 columns) of grad_stacked are this thread's
            grad_first = threadid() * panels // minidl_openmp_team_size()
            grad_last = (threadid() + 1) * panels // minidl_openmp_team_size()
        else:  # which rows
            grad_first = row_bound(k, threadid(), minidl_openmp_team_size())
            grad_last = row_bound(k, threadid() + 1, minidl_openmp_team_size())
        saved = minidl_flush_begin()  # subnormals as 0 until the loop ends (flush_denormals.h)
        # scratch: dL/dh_{t-1}, dL/dc_{t-1}, dL/dh_t in all, the product with a dropout mask
        dh, dc, dh_prev, dc_prev = grad_h_p, grad_c_p, scratch_p, scratch_p + size
        for t in range(steps - 1, -1, -1):
            dz = dz_all + t * rows * width if every_step else dz_all
            base = t - t % group  # the group's steps: base .. base + count - 1
            count = steps - base if steps - base < group else group
            packed_t = packed_grad_p + ((t // group) % 2) * panel_size
            dh_in = dh
            if per_step != NULL:  # dL/dh_t: from the output at t and from step t + 1
                for j in range(row_first * units, row_last * units):
                    scratch_p[2 * size + j] = per_step[t * size + j] + dh[j]
                dh_in = scratch_p + 2 * size
            for n in range(row_first, row_last):
                _lstm_backward_row(gates_p + (t * rows + n) * width,
                                   cells_p + t * size + n * units,
                                   cells_p + (t + 1) * size + n * units,
                                   dh_in + n * units, dc + n * units, dz + n * width,
                                   dc_prev + n * units, dh_prev + n * units,
                                   masks_p != NULL and masks_p[t * rows + n] == 0, units, act,
                                   ract)
            if t >= first:  # dL/dh_{t-1} += dz U^T (times the dropout mask)
                if drop == NULL:
                    packed_rows(dz, width, width, packed_ut_p, units, dh_prev, units,
                                row_first, row_last, True, False)
                else:
                    packed_rows(dz, width, width, packed_ut_p, units, scratch_p + 3 * size,
                                units, row_first, row_last, False, False)
                    for j in range(row_first * units, row_last * units):
                        dh_prev[j] = dh_prev[j] + scratch_p[3 * size + j] * drop[j]
            pack_rows(dz, count * rows, width, row_first, row_last, (t - base) * rows, packed_t)
            if t == base:  # the group's last step back: its weight gradient
                minidl_openmp_barrier()  # every row of the group's dL/dz packed
                # [dL/dW; dL/dU; dL/db] += xh[s]^T dL/dz_s summed over the group's steps s
                # (their rows of xh follow each other: one product, count * rows deep):
                # this thread's panels of it (its 64-column blocks: half the packed
                # dL/dz read), or its rows (fewer panels than threads)
                if by_panel:
                    packed_rows(xh_p + base * rows * k, k, count * rows,
                                packed_t + grad_first * count * rows * 64,
                                (grad_last * 64 if grad_last * 64 < width else width)
                                - grad_first * 64, grad_stacked_p + grad_first * 64, width,
                                0, k, base + count < steps, True)
                else:
                    packed_rows(xh_p + base * rows * k, k, count * rows, packed_t, width,
                                grad_stacked_p, width, grad_first, grad_last,
                                base + count < steps, True)
            swap = dh  # step t - 1 reads what step t wrote
            dh = dh_prev
            dh_prev = swap
            swap = dc
            dc = dc_prev
            dc_prev = swap
        minidl_flush_end(saved)
        if dh != grad_h_p:  # dL/dh_0 and dL/dc_0 end where the last swap left them
            for j in range(row_first * units, row_last * units):
                grad_h_p[j] = dh[j]
                grad_c_p[j] = dc[j]
