/* The inner loop of max pooling, in C so the compiler can use wide vector
 * instructions when the CPU has them.
 *
 * For one pooling window: out[k] = the largest image[y, x, k] over the
 * window's pixels, and where[k] = its flat index (y * w + x) * c + k.
 * The first pixel starts the search; a later pixel wins only if strictly
 * larger, so ties go to the first in row order.  A NaN wins over any number and
 * nothing wins over it (the first NaN of the window is the max), as NumPy's
 * argmax and PyTorch's max pooling do: a NaN that goes in comes out.  (TensorFlow's
 * pooling skips NaNs, and gives -3.4e38 for a window of NaNs: never silently a
 * number here.)
 *
 * "Keep the larger value and its index" is a per-lane select.  Baseline
 * x86-64 (SSE2) has no cheap select for 64-bit indices, so the plain build
 * runs it one channel at a time; AVX2 and AVX-512 run 8 or 16 channels per
 * instruction.  target_clones compiles the function once per instruction set
 * and picks the best one for the CPU when the module loads, so the same
 * wheel runs everywhere and fast where it can.
 */
#ifndef MINIDL_MAX_WINDOW_H
#define MINIDL_MAX_WINDOW_H

#include <stdint.h>
#include <stddef.h>

#include "portable.h"
#include "clones.h"

#define MINIDL_DEFINE_MAX_WINDOW(name, type, clones)                                  \
clones                                                                                \
static void name(const type *MINIDL_RESTRICT image, type *MINIDL_RESTRICT out,        \
                 int64_t *MINIDL_RESTRICT where, ptrdiff_t y_lo, ptrdiff_t y_hi,      \
                 ptrdiff_t x_lo, ptrdiff_t x_hi, ptrdiff_t w, ptrdiff_t c)            \
{                                                                                     \
    ptrdiff_t y, x, k, start = (y_lo * w + x_lo) * c;                                 \
    for (k = 0; k < c; k++) {                                                         \
        out[k] = image[start + k];                                                    \
        where[k] = start + k;                                                         \
    }                                                                                 \
    for (y = y_lo; y < y_hi; y++) {                                                   \
        for (x = (y == y_lo ? x_lo + 1 : x_lo); x < x_hi; x++) {                      \
            const type *pixel;                                                        \
            start = (y * w + x) * c;                                                  \
            pixel = image + start;                                                    \
            for (k = 0; k < c; k++) {                                                 \
                /* larger, or a NaN over a number: out is a number and pixel is not    \
                 * at most it (a comparison with a NaN is false) */                   \
                int better = (out[k] == out[k]) & !(pixel[k] <= out[k]);              \
                out[k] = better ? pixel[k] : out[k];                                  \
                where[k] = better ? start + k : where[k];                             \
            }                                                                         \
        }                                                                             \
    }                                                                                 \
}

/* Wide windows (many channels) use the vector clones; with a few channels the
 * vector set-up costs more than it saves, so a plain copy serves those. */
MINIDL_DEFINE_MAX_WINDOW(minidl_max_window_float, float, MINIDL_CLONES)
MINIDL_DEFINE_MAX_WINDOW(minidl_max_window_double, double, MINIDL_CLONES)
MINIDL_DEFINE_MAX_WINDOW(minidl_max_window_float_narrow, float, )
MINIDL_DEFINE_MAX_WINDOW(minidl_max_window_double_narrow, double, )

/* How many of where[0:n] lie outside [0, size): the backward's check of every argmax
 * index before it writes anything.  (As unsigned numbers the negative indices are
 * huge: one comparison finds both kinds.)  A plain loop that the vector clones run
 * 4 (AVX2) or 8 (AVX-512) indices at a time: M4's 448,000 indices a step cost 0.9
 * million instructions under callgrind (AVX2), 0.6% of its training step; the plain
 * x86-64 build compares one at a time. */
MINIDL_CLONES MINIDL_UNUSED
static ptrdiff_t minidl_count_outside(const int64_t *MINIDL_RESTRICT where, ptrdiff_t n,
                                      int64_t size)
{
    ptrdiff_t i, bad = 0;
    for (i = 0; i < n; i++) bad += (uint64_t)where[i] >= (uint64_t)size;
    return bad;
}

#endif
