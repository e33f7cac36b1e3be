/* dst (cols, rows) = src (rows, cols) transposed, both row-major.
 *
 * Used by dense_backward (dense.pyx): for the small batches of the tutorials,
 * BLAS computes (dL/dx)^T = w @ (dL/dz)^T up to twice as fast as the same
 * numbers as dL/dx = dL/dz @ w^T, so two small transposes buy a faster product;
 * and by conv2d_winograd_backward (conv.pyx), which reads the transformed
 * kernel's (C, F) blocks transposed.
 *
 * The copy goes in 8 x 8 tiles: a tile's 8 source rows and 8 destination rows
 * each stay in cache while it is copied, instead of one of the two being read
 * a whole column (a cache line per value) at a time.
 */
#ifndef MINIDL_TRANSPOSE_H
#define MINIDL_TRANSPOSE_H

#include <stddef.h>

#include "portable.h"
#include "clones.h"

#define MINIDL_TILE 8

#define MINIDL_DEFINE_TRANSPOSE(type, suffix)                                             \
MINIDL_CLONES                                                                             \
static void minidl_transpose_##suffix(const type *MINIDL_RESTRICT src, ptrdiff_t rows,    \
                                      ptrdiff_t cols, type *MINIDL_RESTRICT dst)          \
{                                                                                         \
    ptrdiff_t i0, j0, i, j;                                                               \
    for (i0 = 0; i0 < rows; i0 += MINIDL_TILE) {                                          \
        ptrdiff_t i1 = i0 + MINIDL_TILE < rows ? i0 + MINIDL_TILE : rows;                 \
        for (j0 = 0; j0 < cols; j0 += MINIDL_TILE) {                                      \
            ptrdiff_t j1 = j0 + MINIDL_TILE < cols ? j0 + MINIDL_TILE : cols;             \
            for (j = j0; j < j1; j++)                                                     \
                for (i = i0; i < i1; i++)                                                 \
                    dst[j * rows + i] = src[i * cols + j];                                \
        }                                                                                 \
    }                                                                                     \
}

MINIDL_DEFINE_TRANSPOSE(float, float)
MINIDL_DEFINE_TRANSPOSE(double, double)

#endif
