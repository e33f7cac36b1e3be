/* C += A B (or C = A B) with B packed once in panels: the recurrent products of an LSTM
 * (and, with A given as its transpose, its weight gradient step by step).
 *
 * An LSTM step multiplies the same recurrent kernel U (units, 4 units) by a new
 * h_{t-1} (batch, units) at every step, forward, and dL/dz_t by U^T, backward.
 * BLAS rearranges ("packs") B into the order its inner loop reads at every
 * call: 28 times per batch for the same U.  Here B is packed once, into panels of
 * MINIDL_PANEL (64) columns, each panel k rows of 64 contiguous values:
 *
 *     packed[p][kk][j] = B[kk][64 p + j]        (0 past B's last column)
 *
 * so the inner loop reads one panel row after another with no stride, and the
 * panel (k x 64 values: 32 KB for k = 128 floats) stays in the L1/L2 cache
 * while every row of A passes over it.
 *
 * The inner loop ("micro-kernel") keeps an R x (V vectors of W lanes) tile of C
 * in registers: for each kk it loads V vectors of the panel row, broadcasts R
 * values of A's column kk, and does R * V multiply-adds.  Each C value is the
 * sum over kk in increasing order, whatever the rows or threads: the same bits on
 * any number of threads.  Compiled once per instruction set (isa.h): AVX-512
 * takes 6 rows x 4 vectors of 16 floats (24 of its 32 registers), AVX2 and SSE2
 * 4 rows x 2 vectors; the plain-C copy the same loops one value at a time.
 */
#ifndef MINIDL_PACKED_GEMM_H
#define MINIDL_PACKED_GEMM_H

#include <stddef.h>
#include <string.h>

#include "portable.h"
#include "isa.h"

#define MINIDL_PANEL 64
#ifndef MINIDL_PACKED_ROWS
#define MINIDL_PACKED_ROWS(wide) ((wide) ? 6 : 4)
#define MINIDL_PACKED_VECTORS(wide) ((wide) ? 4 : 2)
#endif
#ifndef MINIDL_PACKED_DEPTH
#define MINIDL_PACKED_DEPTH 128
#endif

#ifndef MINIDL_LOADV
#define MINIDL_LOADV(v, p) memcpy(&(v), (p), sizeof(v))
#define MINIDL_STOREV(p, v) memcpy((p), &(v), sizeof(v))
#endif

/* Rows [first, last) of b (., n) row-major into their places in the panels of a B
 * (k, n) whose rows from ``at`` on b holds (the rest of the panels untouched): each
 * row gives each panel a row of up to 64 values (0 past B's last column).  All of B's
 * rows: pack_panels; some: each thread its own, of one block of rows or of several
 * (an LSTM packs each step's dL/dz_t into its place in a group of steps) */
#define MINIDL_DEFINE_PACK(type)                                                         \
MINIDL_UNUSED static void minidl_pack_panel_rows_##type(const type *b, ptrdiff_t k,      \
        ptrdiff_t n, ptrdiff_t first, ptrdiff_t last, ptrdiff_t at,                      \
        type *MINIDL_RESTRICT packed)                                                    \
{                                                                                        \
    ptrdiff_t p, kk, cols, panels = (n + MINIDL_PANEL - 1) / MINIDL_PANEL;               \
    for (p = 0; p < panels; p++) {                                                       \
        type *panel = packed + (p * k + at) * MINIDL_PANEL;                              \
        cols = n - p * MINIDL_PANEL < MINIDL_PANEL ? n - p * MINIDL_PANEL : MINIDL_PANEL; \
        for (kk = first; kk < last; kk++) {                                              \
            memcpy(panel + kk * MINIDL_PANEL, b + kk * n + p * MINIDL_PANEL,             \
                   (size_t)cols * sizeof(type));                                         \
            if (cols < MINIDL_PANEL)                                                     \
                memset(panel + kk * MINIDL_PANEL + cols, 0,                              \
                       (size_t)(MINIDL_PANEL - cols) * sizeof(type));                    \
        }                                                                                \
    }                                                                                    \
}                                                                                        \
                                                                                         \
/* B (k, n) row-major, or (trans) B given as its transpose (n, k) row-major,           \
 * into ceil(n / 64) panels of (k, 64) */                                                \
MINIDL_UNUSED static void minidl_pack_panels_##type(const type *b, ptrdiff_t k,          \
        ptrdiff_t n, int trans, type *MINIDL_RESTRICT packed)                            \
{                                                                                        \
    ptrdiff_t p, kk, j, cols, panels = (n + MINIDL_PANEL - 1) / MINIDL_PANEL;            \
    if (!trans) {                                                                        \
        minidl_pack_panel_rows_##type(b, k, n, 0, k, 0, packed);                            \
        return;                                                                          \
    }                                                                                    \
    for (p = 0; p < panels; p++) {  /* B^T's row (64 p + j) is column j of the panel: */ \
        /* a transpose, in blocks of 16 kk (one cache line of each row read, 16 panel  \
         * rows written, both in the L1 cache) */                                        \
        type *panel = packed + p * k * MINIDL_PANEL;                                     \
        const type *rows = b + p * MINIDL_PANEL * k;                                     \
        ptrdiff_t start, stop;                                                           \
        cols = n - p * MINIDL_PANEL < MINIDL_PANEL ? n - p * MINIDL_PANEL : MINIDL_PANEL; \
        if (cols < MINIDL_PANEL)                                                         \
            memset(panel, 0, (size_t)(k * MINIDL_PANEL) * sizeof(type));                 \
        for (start = 0; start < k; start += 16) {                                        \
            stop = k - start < 16 ? k : start + 16;                                      \
            for (j = 0; j < cols; j++)                                                   \
                for (kk = start; kk < stop; kk++)                                        \
                    panel[kk * MINIDL_PANEL + j] = rows[j * k + kk];                     \
        }                                                                                \
    }                                                                                    \
}

MINIDL_DEFINE_PACK(float)
MINIDL_DEFINE_PACK(double)

/* One tile: C[0:R, 0:cols] += A[0:R, 0:k] times the panel's columns [0, V W), of
 * which the first ``cols`` are C's (the rest are padding, or the next tile's);
 * with add = 0, C[0:R, 0:cols] = that product (C's old values are not read). */
#define MINIDL_PACKED_TILE(type, isa, vec, W, TARGET, R, V, name, A_AT)                  \
TARGET MINIDL_INLINE void name(const type *MINIDL_RESTRICT a, ptrdiff_t lda,             \
        const type *MINIDL_RESTRICT panel, ptrdiff_t k, type *MINIDL_RESTRICT c,          \
        ptrdiff_t ldc, ptrdiff_t cols, int add)                                          \
{                                                                                        \
    vec acc[R][V], b[V], s;                                                              \
    ptrdiff_t r, v, kk, j;                                                               \
    for (r = 0; r < (R); r++)                                                            \
        for (v = 0; v < (V); v++) acc[r][v] = (vec){0};                                  \
    for (kk = 0; kk < k; kk++) {                                                         \
        for (v = 0; v < (V); v++) MINIDL_LOADV(b[v], panel + kk * MINIDL_PANEL + v * (W)); \
        for (r = 0; r < (R); r++) {                                                      \
            s = a[A_AT(r, kk, lda)] - (vec){0};  /* a broadcast (x - 0 is x) */           \
            for (v = 0; v < (V); v++) acc[r][v] += s * b[v];                             \
        }                                                                                \
    }                                                                                    \
    if (cols == (V) * (W)) {                                                             \
        for (r = 0; r < (R); r++)                                                        \
            for (v = 0; v < (V); v++) {                                                  \
                vec old = acc[r][v];                                                     \
                if (add) {                                                               \
                    MINIDL_LOADV(old, c + r * ldc + v * (W));                            \
                    old += acc[r][v];                                                    \
                }                                                                        \
                MINIDL_STOREV(c + r * ldc + v * (W), old);                               \
            }                                                                            \
    } else {                                                                             \
        for (r = 0; r < (R); r++) {                                                      \
            MINIDL_ALIGNED(64) type out[(V) * (W)];                                      \
            for (v = 0; v < (V); v++) MINIDL_STOREV(out + v * (W), acc[r][v]);           \
            for (j = 0; j < cols; j++) c[r * ldc + j] = (add ? c[r * ldc + j] : 0) + out[j]; \
        }                                                                                \
    }                                                                                    \
}

/* Where A's element (r, kk) is: A row-major with rows lda apart, or A given as its
 * transpose (A^T row-major, (k, m), rows lda apart: an LSTM's weight gradient
 * xh_t^T dL/dz_t reads the rows xh_t as they are). */
#define MINIDL_A_ROWS(r, kk, lda) ((r) * (lda) + (kk))
#define MINIDL_A_COLS(r, kk, lda) ((kk) * (lda) + (r))

/* C[rows first..last) (ldc apart) += A's same rows (k columns) times the packed B's n
 * columns; without ``accumulate``, C = that product (C is only written).  The sum over
 * k goes in blocks of at most MINIDL_PACKED_DEPTH terms (each block's part of the
 * panel, up to 32 KB, stays in the L1 cache while all the row tiles pass over it),
 * each block's sum added into C in turn.  The blocks are as even as they come: M5's
 * k = 157 is 79 + 78, not 128 + 29 (a short block pays the loads and stores of C's
 * tile for few multiply-adds; 3-4% faster at that shape). */
#define MINIDL_DEFINE_PACKED_LOOPS(type, isa, vec, W, TARGET, WIDE, layout, A_AT)         \
MINIDL_PACKED_TILE(type, isa, vec, W, TARGET, MINIDL_PACKED_ROWS(WIDE),                   \
                   MINIDL_PACKED_VECTORS(WIDE), minidl_packed_tile_##layout##_##isa, A_AT) \
MINIDL_PACKED_TILE(type, isa, vec, W, TARGET, 2, MINIDL_PACKED_VECTORS(WIDE),            \
                   minidl_packed_pair_##layout##_##isa, A_AT)                            \
MINIDL_PACKED_TILE(type, isa, vec, W, TARGET, 1, MINIDL_PACKED_VECTORS(WIDE),            \
                   minidl_packed_row_##layout##_##isa, A_AT)                             \
TARGET static void minidl_packed_gemm_##layout##_##isa(const type *a, ptrdiff_t lda,      \
        ptrdiff_t k, const type *packed, ptrdiff_t n, type *c, ptrdiff_t ldc,             \
        ptrdiff_t first, ptrdiff_t last, int accumulate)                                 \
{                                                                                        \
    const ptrdiff_t rows = MINIDL_PACKED_ROWS(WIDE);                                     \
    const ptrdiff_t width = MINIDL_PACKED_VECTORS(WIDE) * (W);                           \
    const ptrdiff_t blocks = (k + MINIDL_PACKED_DEPTH - 1) / MINIDL_PACKED_DEPTH;        \
    const ptrdiff_t block = blocks > 0 ? (k + blocks - 1) / blocks : 0;                  \
    ptrdiff_t p, j, i, cols, start, depth;                                               \
    int add;                                                                             \
    if (k == 0 && !accumulate) {  /* an empty sum: C = 0 */                              \
        for (i = first; i < last; i++) memset(c + i * ldc, 0, (size_t)n * sizeof(type)); \
        return;                                                                          \
    }                                                                                    \
    for (p = 0; p * MINIDL_PANEL < n; p++) {                                             \
        for (start = 0; start < k; start += block) {                                     \
            const type *panel = packed + (p * k + start) * MINIDL_PANEL;                 \
            depth = k - start < block ? k - start : block;                               \
            add = accumulate || start > 0;  /* the first block writes C, or adds to it */ \
            for (j = 0; j < MINIDL_PANEL && p * MINIDL_PANEL + j < n; j += width) {      \
                type *out = c + p * MINIDL_PANEL + j;                                    \
                cols = n - p * MINIDL_PANEL - j;                                         \
                cols = cols < width ? cols : width;                                      \
                for (i = first; i + rows <= last; i += rows)                             \
                    minidl_packed_tile_##layout##_##isa(a + A_AT(i, start, lda), lda,    \
                        panel + j, depth, out + i * ldc, ldc, cols, add);                \
                /* the rows left over: two at a time (a single row's sums wait on     \
                 * each other's latency), then the last one */                          \
                for (; i + 2 <= last; i += 2)                                            \
                    minidl_packed_pair_##layout##_##isa(a + A_AT(i, start, lda), lda,    \
                        panel + j, depth, out + i * ldc, ldc, cols, add);                \
                for (; i < last; i++)                                                    \
                    minidl_packed_row_##layout##_##isa(a + A_AT(i, start, lda), lda,     \
                        panel + j, depth, out + i * ldc, ldc, cols, add);                \
            }                                                                            \
        }                                                                                \
    }                                                                                    \
}

#define MINIDL_DEFINE_PACKED_GEMM(type, suffix, isa, vec, W, TARGET, WIDE)               \
MINIDL_DEFINE_PACKED_LOOPS(type, isa, vec, W, TARGET, WIDE, rows, MINIDL_A_ROWS)          \
MINIDL_DEFINE_PACKED_LOOPS(type, isa, vec, W, TARGET, WIDE, cols, MINIDL_A_COLS)          \
TARGET static void minidl_packed_gemm_##isa(const type *a, ptrdiff_t lda, ptrdiff_t k,    \
        const type *packed, ptrdiff_t n, type *c, ptrdiff_t ldc, ptrdiff_t first,         \
        ptrdiff_t last, int accumulate, int trans_a)                                     \
{                                                                                        \
    if (trans_a)                                                                         \
        minidl_packed_gemm_cols_##isa(a, lda, k, packed, n, c, ldc, first, last, accumulate); \
    else                                                                                 \
        minidl_packed_gemm_rows_##isa(a, lda, k, packed, n, c, ldc, first, last, accumulate); \
}

MINIDL_INSTANTIATE(MINIDL_DEFINE_PACKED_GEMM)

/* the copy this CPU runs (isa.h), for float and double */
#define MINIDL_DEFINE_PACKED_DISPATCH(type)                                              \
MINIDL_UNUSED static void minidl_packed_gemm_##type(const type *a, ptrdiff_t lda,        \
        ptrdiff_t k, const type *packed, ptrdiff_t n, type *c, ptrdiff_t ldc,             \
        ptrdiff_t first, ptrdiff_t last, int accumulate, int trans_a)                    \
{                                                                                        \
    MINIDL_DISPATCH(minidl_packed_gemm, type,                                            \
                    (a, lda, k, packed, n, c, ldc, first, last, accumulate, trans_a))    \
}

MINIDL_DEFINE_PACKED_DISPATCH(float)
MINIDL_DEFINE_PACKED_DISPATCH(double)

#endif
