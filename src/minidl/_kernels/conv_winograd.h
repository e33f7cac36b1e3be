/* Winograd convolution F(4x4, 3x3): a 3x3 convolution, stride 1, with 4x fewer
 * multiplications than the direct sum or im2col's product.
 *
 * The idea, in one dimension first.  Four outputs of a 3-tap filter g over six
 * inputs d, y[i] = d[i] g[0] + d[i+1] g[1] + d[i+2] g[2], take 12 multiplications
 * one by one.  Winograd's minimal filtering algorithm takes 6:
 *
 *     y = A^T [ (G g) * (B^T d) ]          (* element by element)
 *
 * with fixed matrices B^T (6x6), G (6x3), A^T (4x6) (Lavin & Gray, "Fast
 * Algorithms for Convolutional Neural Networks", 2016; the ones below use the
 * points 0, +-1, +-2 and infinity).  Nested, the same holds for a 4x4 tile of
 * outputs from a 6x6 patch of inputs:
 *
 *     Y = A^T [ (G g G^T) * (B^T d B) ] A          36 multiplications, not 144.
 *
 * With channels: U = G g G^T is the kernel transformed once per call
 * (36 points x C x F), V = B^T d B a tile transformed (36 x C), and at each of the
 * 36 points the sum over input channels is a matrix product:
 *
 *     M[xi] (tiles x F) = V[xi] (tiles x C) @ U[xi] (C x F)        xi < 36
 *
 * then Y = A^T M A per tile, with bias and activation.  The transforms are
 * additions and small multiples, over C (or F) values side by side in NHWC: the
 * products do the work, 36*C*F multiply-adds per 16 outputs instead of 9*16*C*F.
 *
 * The backward is the same algebra transposed.  With dZ = dL/dY * act'(Y) on a
 * tile (zero where the tile overhangs the output) and W = A dZ A^T:
 *
 *     dL/dU[xi] = sum over tiles of V[xi]^T @ W[xi]    ->  grad_w = G^T dL/dU G
 *     dL/dV[xi] = W[xi] @ U[xi]^T                       ->  grad_x += B dL/dV B^T
 *
 * (adjacent input patches overlap by 2 pixels: their contributions add).
 *
 * Work is split into chunks of whole images (the caller's threads take chunks;
 * a chunk's tiles only touch its own images, and each chunk keeps its own partial
 * dL/dU and bias gradient, added in chunk order afterwards: no sum is shared
 * between threads and the result does not depend on the thread count).  Within a
 * chunk, MINIDL_WINO_BLOCK tiles at a time are transformed, multiplied and
 * transformed back while they are in cache.
 *
 * Each instruction set gets its own copy, with vectors as wide as its registers
 * (isa.h): 16 floats or 8 doubles with AVX-512, 8 or 4 with AVX2, 4 or 2 with SSE2.
 *
 * Rounding: the transforms mix values of different sizes (factors up to 8 and
 * down to 1/24), so each result's error is a small fraction of the largest values
 * its tile mixes rather than of the result itself: about 1e-6 of them in float32,
 * where im2col's products give about 1e-7 (tests/test_kernels_winograd.py).
 * NaN and infinity: the transforms mix a whole 6x6 patch, so a NaN in x reaches
 * every output of the tiles whose patch holds it (not only the windows that hold
 * it), and an infinity can become NaN (inf - inf).  Once a NaN is in a forward,
 * training has diverged either way.
 */
#ifndef MINIDL_CONV_WINOGRAD_H
#define MINIDL_CONV_WINOGRAD_H

#include <stddef.h>
#include <string.h>

#include "portable.h"
#include "activation.h"
#include "clones.h"
#include "conv_direct.h"
#include "isa.h"

#define MINIDL_WINO_POINTS 36  /* 6 x 6 points per tile */
#define MINIDL_WINO_BLOCK 16   /* tiles transformed and multiplied together */
/* A block keeps one (tiles x n) matrix per point, MINIDL_WINO_STRIDE(n) values apart.
 * The 16 extra values keep the 36 matrices from starting at multiples of 4 KB, where
 * they would compete for the same few cache sets (measured: 10% slower without). */
#define MINIDL_WINO_STRIDE(n) (MINIDL_WINO_BLOCK * (n) + 16)

/* the scratch one chunk needs, in values: V and M (or W) of a block of tiles,
 * a 6x6 transform's middle step, a zero pixel, a 4x4 tile of dL/dz, a patch row,
 * and a place for outputs that fall outside the image */
#define MINIDL_WINO_SCRATCH(c, f)                                                       \
    (MINIDL_WINO_POINTS * (MINIDL_WINO_STRIDE(c) + MINIDL_WINO_STRIDE(f))               \
     + MINIDL_WINO_POINTS * ((c) > (f) ? (c) : (f)) + (c) + 16 * (f) + 6 * (c) + 4 * (f))

#define MINIDL_WINO_MIN(a, b) ((a) < (b) ? (a) : (b))


/* acc (R rows x W*NV columns, in registers) = c, or 0; += a @ b over k; back to c */
#define MINIDL_WINO_GEMM_CHUNK(R, NV, type, vec, W)                                     \
    for (; j + (W) * (NV) <= n; j += (W) * (NV)) {                                      \
        vec acc_[R][NV], b_[NV];                                                        \
        int r_, v_;                                                                     \
        ptrdiff_t p_;                                                                   \
        for (r_ = 0; r_ < (R); r_++)                                                    \
            for (v_ = 0; v_ < (NV); v_++) {                                             \
                if (accumulate)                                                         \
                    MINIDL_LOADV(acc_[r_][v_], c + (i + r_) * ldc + j + (W) * v_);      \
                else                                                                    \
                    memset(&acc_[r_][v_], 0, sizeof(vec));                              \
            }                                                                           \
        for (p_ = 0; p_ < k; p_++) {                                                    \
            for (v_ = 0; v_ < (NV); v_++)                                               \
                MINIDL_LOADV(b_[v_], b + p_ * ldb + j + (W) * v_);                      \
            for (r_ = 0; r_ < (R); r_++) {                                              \
                type s_ = a[(i + r_) * a_row + p_ * a_col];                             \
                for (v_ = 0; v_ < (NV); v_++)                                           \
                    acc_[r_][v_] += s_ * b_[v_];                                        \
            }                                                                           \
        }                                                                               \
        for (r_ = 0; r_ < (R); r_++)                                                    \
            for (v_ = 0; v_ < (NV); v_++)                                               \
                MINIDL_STOREV(c + (i + r_) * ldc + j + (W) * v_, acc_[r_][v_]);         \
    }

/* the columns j .. n-1 that no vector chunk took, rows i .. i+R-1 */
#define MINIDL_WINO_GEMM_TAIL(R, type)                                                  \
    for (; j < n; j++) {                                                                \
        int r_;                                                                         \
        ptrdiff_t p_;                                                                   \
        for (r_ = 0; r_ < (R); r_++) {                                                  \
            type s_ = accumulate ? c[(i + r_) * ldc + j] : 0;                           \
            for (p_ = 0; p_ < k; p_++)                                                  \
                s_ += a[(i + r_) * a_row + p_ * a_col] * b[p_ * ldb + j];               \
            c[(i + r_) * ldc + j] = s_;                                                 \
        }                                                                               \
    }

/* The transforms' matrices, written out (d: inputs, o: outputs, T: their type):
 * B^T (6x6) takes an input row to the 6 points, A^T (4x6) the points to 4
 * outputs, G (6x3) the 3 kernel taps to the points; B, A and G^T go back. */
#define MINIDL_WINO_BT(T)                                                               \
    o[0] = 4 * d[0] - 5 * d[2] + d[4];                                                  \
    o[1] = -4 * (d[1] + d[2]) + d[3] + d[4];                                            \
    o[2] = 4 * (d[1] - d[2]) - d[3] + d[4];                                             \
    o[3] = 2 * (d[3] - d[1]) - d[2] + d[4];                                             \
    o[4] = 2 * (d[1] - d[3]) - d[2] + d[4];                                             \
    o[5] = 4 * d[1] - 5 * d[3] + d[5];
#define MINIDL_WINO_B(T)                                                                \
    o[0] = 4 * d[0];                                                                    \
    o[1] = 4 * (d[2] - d[1] + d[5]) + 2 * (d[4] - d[3]);                                \
    o[2] = -5 * d[0] - 4 * (d[1] + d[2]) - d[3] - d[4];                                 \
    o[3] = d[1] - d[2] + 2 * (d[3] - d[4]) - 5 * d[5];                                  \
    o[4] = d[0] + d[1] + d[2] + d[3] + d[4];                                            \
    o[5] = d[5];
#define MINIDL_WINO_AT(T)                                                               \
    {                                                                                   \
        T p12 = d[1] + d[2], d12 = d[1] - d[2], p34 = d[3] + d[4], d34 = d[3] - d[4];   \
        o[0] = d[0] + p12 + p34;                                                        \
        o[1] = d12 + 2 * d34;                                                           \
        o[2] = p12 + 4 * p34;                                                           \
        o[3] = d12 + 8 * d34 + d[5];                                                    \
    }
#define MINIDL_WINO_A(T)                                                                \
    {                                                                                   \
        T even = d[0] + d[2], odd = d[1] + d[3];                                        \
        T even4 = d[0] + 4 * d[2], odd4 = 2 * (d[1] + 4 * d[3]);                        \
        o[0] = d[0];                                                                    \
        o[1] = even + odd;                                                              \
        o[2] = even - odd;                                                              \
        o[3] = even4 + odd4;                                                            \
        o[4] = even4 - odd4;                                                            \
        o[5] = d[3];                                                                    \
    }
#define MINIDL_WINO_G(T)                                                                \
    o[0] = d[0] / 4;                                                                    \
    o[1] = -(d[0] + d[1] + d[2]) / 6;                                                   \
    o[2] = -(d[0] - d[1] + d[2]) / 6;                                                   \
    o[3] = d[0] / 24 + d[1] / 12 + d[2] / 6;                                            \
    o[4] = d[0] / 24 - d[1] / 12 + d[2] / 6;                                            \
    o[5] = d[2];
#define MINIDL_WINO_GT(T)                                                               \
    o[0] = d[0] / 4 - (d[1] + d[2]) / 6 + (d[3] + d[4]) / 24;                           \
    o[1] = (d[2] - d[1]) / 6 + (d[3] - d[4]) / 12;                                      \
    o[2] = (d[3] + d[4] - d[1] - d[2]) / 6 + d[5];

/* minidl_wino_<name>_<isa>(in, out, n): the transform MATRIX on rows of n values, W at
 * a time in vectors, then one by one */
#define MINIDL_WINO_TRANSFORM(name, NI, NO, MATRIX, type, isa, vec, W)                  \
MINIDL_INLINE void minidl_wino_##name##_##isa(const type *const in[NI],                 \
                                                 type *const out[NO], ptrdiff_t n)      \
{                                                                                       \
    ptrdiff_t t = 0;                                                                    \
    int q;                                                                              \
    for (; t + (W) <= n; t += (W)) {                                                    \
        vec d[NI], o[NO];                                                               \
        for (q = 0; q < (NI); q++)                                                      \
            MINIDL_LOADV(d[q], in[q] + t);                                              \
        MATRIX(vec)                                                                     \
        for (q = 0; q < (NO); q++)                                                      \
            MINIDL_STOREV(out[q] + t, o[q]);                                            \
    }                                                                                   \
    for (; t < n; t++) {                                                                \
        type d[NI], o[NO];                                                              \
        for (q = 0; q < (NI); q++)                                                      \
            d[q] = in[q][t];                                                            \
        MATRIX(type)                                                                    \
        for (q = 0; q < (NO); q++)                                                      \
            out[q][t] = o[q];                                                           \
    }                                                                                   \
}

#define MINIDL_DEFINE_CONV_WINOGRAD(type, suffix, isa, vec, W, TARGET, WIDE)            \
/* c (m x n_all, rows ldc apart) = [c +] a @ b, where a's (i, p) is a[i*a_row + p*a_col] \
 * (so a may be read transposed) and b is (k x n_all), rows ldb apart.  With 32         \
 * registers (AVX-512), blocks of c of 4 rows x 4 vectors or 8 rows x 2 vectors keep    \
 * their 16 sums in registers while all k terms are added:                             \
 * each vector of b loaded serves 4 or 8 rows.  With fewer or narrower registers the    \
 * blocks are smaller. */                                                               \
MINIDL_INLINE void minidl_wino_gemm_##isa(                                              \
    ptrdiff_t m, ptrdiff_t n_all, ptrdiff_t k, const type *MINIDL_RESTRICT a, ptrdiff_t a_row, \
    ptrdiff_t a_col, const type *MINIDL_RESTRICT b, ptrdiff_t ldb, type *MINIDL_RESTRICT c, \
    ptrdiff_t ldc, int accumulate)                                                      \
{                                                                                       \
    ptrdiff_t i, j;                                                                     \
    if (!(WIDE)) {                                                                      \
        /* 16 registers (AVX2, SSE2): blocks of 4 rows x 2 or 1 vectors, at most 8      \
         * registers of sums (the wide blocks below would spill them to memory) */      \
        ptrdiff_t n = n_all / (W) * (W);                                                \
        for (i = 0; i + 4 <= m; i += 4) {                                               \
            j = 0;                                                                      \
            MINIDL_WINO_GEMM_CHUNK(4, 2, type, vec, W)                                  \
            MINIDL_WINO_GEMM_CHUNK(4, 1, type, vec, W)                                  \
        }                                                                               \
        for (; i < m; i++) {                                                            \
            j = 0;                                                                      \
            MINIDL_WINO_GEMM_CHUNK(1, 2, type, vec, W)                                  \
            MINIDL_WINO_GEMM_CHUNK(1, 1, type, vec, W)                                  \
        }                                                                               \
    } else {                                                                            \
        {   /* columns in panels of 64: 4 rows at a time */                             \
            ptrdiff_t n = n_all / (4 * (W)) * (4 * (W));                                \
            for (i = 0; i + 4 <= m; i += 4) {                                           \
                j = 0;                                                                  \
                MINIDL_WINO_GEMM_CHUNK(4, 4, type, vec, W)                              \
            }                                                                           \
            for (; i < m; i++) {                                                        \
                j = 0;                                                                  \
                MINIDL_WINO_GEMM_CHUNK(1, 4, type, vec, W)                              \
            }                                                                           \
        }                                                                               \
        {   /* then panels of 2 and 1 vectors: 8 rows at a time */                       \
            ptrdiff_t j0 = n_all / (4 * (W)) * (4 * (W)), n = n_all / (W) * (W);        \
            for (i = 0; i + 8 <= m; i += 8) {                                           \
                j = j0;                                                                 \
                MINIDL_WINO_GEMM_CHUNK(8, 2, type, vec, W)                              \
                MINIDL_WINO_GEMM_CHUNK(8, 1, type, vec, W)                              \
            }                                                                           \
            for (; i < m; i++) {                                                        \
                j = j0;                                                                 \
                MINIDL_WINO_GEMM_CHUNK(1, 2, type, vec, W)                              \
                MINIDL_WINO_GEMM_CHUNK(1, 1, type, vec, W)                              \
            }                                                                           \
        }                                                                               \
    }                                                                                   \
    {   /* the last columns, one at a time */                                           \
        ptrdiff_t j0 = n_all / (W) * (W), n = n_all;                                    \
        for (i = 0; i + 4 <= m; i += 4) {                                               \
            j = j0;                                                                     \
            MINIDL_WINO_GEMM_TAIL(4, type)                                              \
        }                                                                               \
        for (; i < m; i++) {                                                            \
            j = j0;                                                                     \
            MINIDL_WINO_GEMM_TAIL(1, type)                                              \
        }                                                                               \
    }                                                                                   \
}                                                                                       \
                                                                                        \
/* The one-dimensional transforms, each on rows of n values side by side (every         \
 * channel at once): in[0..] -> out[0..], W values at a time in vectors, then one by    \
 * one.  Nested (rows, then columns) they give the two-dimensional ones. */             \
MINIDL_WINO_TRANSFORM(bt, 6, 6, MINIDL_WINO_BT, type, isa, vec, W)  /* B^T d */         \
MINIDL_WINO_TRANSFORM(b, 6, 6, MINIDL_WINO_B, type, isa, vec, W)    /* B v, for dL/dx */ \
MINIDL_WINO_TRANSFORM(at, 6, 4, MINIDL_WINO_AT, type, isa, vec, W)  /* A^T m */         \
MINIDL_WINO_TRANSFORM(a, 4, 6, MINIDL_WINO_A, type, isa, vec, W)    /* A z, for dL/dz */ \
MINIDL_WINO_TRANSFORM(g, 3, 6, MINIDL_WINO_G, type, isa, vec, W)    /* G g */           \
MINIDL_WINO_TRANSFORM(gt, 6, 3, MINIDL_WINO_GT, type, isa, vec, W)  /* G^T u, for dL/dg */ \
                                                                                        \
/* U = G g G^T for every input channel and filter: w (3, 3, C, F) -> u (36, C, F),      \
 * the values e0 <= e < e1 of each (C, F) plane; mid: 18 planes of scratch */           \
TARGET                                                                                  \
static void minidl_wino_kernel_##isa(const type *MINIDL_RESTRICT w, type *MINIDL_RESTRICT u, \
                                        ptrdiff_t plane, ptrdiff_t e0, ptrdiff_t e1,    \
                                        type *MINIDL_RESTRICT mid)                      \
{                                                                                       \
    ptrdiff_t i, a, n = e1 - e0;                                                        \
    const type *in[6];                                                                  \
    type *out[6];                                                                       \
    for (i = 0; i < 3; i++) {  /* columns: mid (6, 3) = G @ w (3, 3) */                 \
        for (a = 0; a < 3; a++)                                                         \
            in[a] = w + (a * 3 + i) * plane + e0;                                       \
        for (a = 0; a < 6; a++)                                                         \
            out[a] = mid + (a * 3 + i) * n;                                             \
        minidl_wino_g_##isa(in, out, n);                                                \
    }                                                                                   \
    for (a = 0; a < 6; a++) {  /* rows: u (6, 6) = mid (6, 3) @ G^T */                  \
        for (i = 0; i < 3; i++)                                                         \
            in[i] = mid + (a * 3 + i) * n;                                              \
        for (i = 0; i < 6; i++)                                                         \
            out[i] = u + (a * 6 + i) * plane + e0;                                      \
        minidl_wino_g_##isa(in, out, n);                                                \
    }                                                                                   \
}                                                                                       \
                                                                                        \
/* grad_w (3, 3, C, F) = G^T dU G, where dU (36, C, F) is the sum of ``chunks``         \
 * partials (36, C, F) one after another in du, added in order; the values              \
 * e0 <= e < e1 of each plane.  mid: 36 + 18 planes of scratch. */                      \
TARGET                                                                                  \
static void minidl_wino_kernel_grad_##isa(const type *MINIDL_RESTRICT du, ptrdiff_t chunks, \
                                             type *MINIDL_RESTRICT grad_w, ptrdiff_t plane, \
                                             ptrdiff_t e0, ptrdiff_t e1,                \
                                             type *MINIDL_RESTRICT mid)                 \
{                                                                                       \
    ptrdiff_t i, a, q, t, chunk, n = e1 - e0;                                           \
    type *sum = mid, *half = mid + MINIDL_WINO_POINTS * n;                              \
    const type *in[6];                                                                  \
    type *out[6];                                                                       \
    for (q = 0; q < MINIDL_WINO_POINTS; q++) {                                          \
        type *MINIDL_RESTRICT s = sum + q * n;                                          \
        memcpy(s, du + q * plane + e0, (size_t)n * sizeof(type));                       \
        for (chunk = 1; chunk < chunks; chunk++) {                                      \
            const type *MINIDL_RESTRICT part = du + (chunk * MINIDL_WINO_POINTS + q) * plane + e0; \
            for (t = 0; t < n; t++)                                                     \
                s[t] += part[t];                                                        \
        }                                                                               \
    }                                                                                   \
    for (a = 0; a < 6; a++) {  /* columns: half (3, 6) = G^T @ dU (6, 6) */             \
        for (i = 0; i < 6; i++)                                                         \
            in[i] = sum + (i * 6 + a) * n;                                              \
        for (i = 0; i < 3; i++)                                                         \
            out[i] = half + (i * 6 + a) * n;                                            \
        minidl_wino_gt_##isa(in, out, n);                                               \
    }                                                                                   \
    for (i = 0; i < 3; i++) {  /* rows: grad_w (3, 3) = half (3, 6) @ G */              \
        for (a = 0; a < 6; a++)                                                         \
            in[a] = half + (i * 6 + a) * n;                                             \
        for (a = 0; a < 3; a++)                                                         \
            out[a] = grad_w + (i * 3 + a) * plane + e0;                                 \
        minidl_wino_gt_##isa(in, out, n);                                               \
    }                                                                                   \
}                                                                                       \
                                                                                        \
/* The last step of the forward: out[0..3] = act(A^T m + bias) on rows of n values, the \
 * bias (or NULL) added and relu applied while the values are in registers (sigmoid and \
 * tanh are left to minidl_epilogue). */                                                \
MINIDL_INLINE void minidl_wino_output_##isa(const type *const in[6],                    \
                                               type *const out[4], ptrdiff_t n,         \
                                               const type *MINIDL_RESTRICT bias,        \
                                               int activation)                          \
{                                                                                       \
    ptrdiff_t t = 0;                                                                    \
    int q;                                                                              \
    for (; t + (W) <= n; t += (W)) {                                                    \
        vec d[6], o[4], b_;                                                             \
        for (q = 0; q < 6; q++)                                                         \
            MINIDL_LOADV(d[q], in[q] + t);                                              \
        MINIDL_WINO_AT(vec)                                                             \
        if (bias != NULL) {                                                             \
            MINIDL_LOADV(b_, bias + t);                                                 \
            for (q = 0; q < 4; q++)                                                     \
                o[q] += b_;                                                             \
        }                                                                               \
        if (activation == 1)                                                            \
            for (q = 0; q < 4; q++)                                                     \
                o[q] = MINIDL_RELUV(o[q]);                                              \
        for (q = 0; q < 4; q++)                                                         \
            MINIDL_STOREV(out[q] + t, o[q]);                                            \
    }                                                                                   \
    for (; t < n; t++) {                                                                \
        type d[6], o[4];                                                                \
        for (q = 0; q < 6; q++)                                                         \
            d[q] = in[q][t];                                                            \
        MINIDL_WINO_AT(type)                                                            \
        for (q = 0; q < 4; q++) {                                                       \
            o[q] += bias != NULL ? bias[t] : 0;                                         \
            out[q][t] = activation == 1 ? (o[q] < 0 ? 0 : o[q]) : o[q];                 \
        }                                                                               \
    }                                                                                   \
}                                                                                       \
                                                                                        \
/* dz[t] = dL/dz = g[t] * act'(z), from y = act(z), for t < n; W at a time */           \
MINIDL_INLINE void minidl_wino_grad_z_##isa(const type *MINIDL_RESTRICT y,              \
                                               const type *MINIDL_RESTRICT g,           \
                                               type *MINIDL_RESTRICT dz, ptrdiff_t n,   \
                                               int activation)                          \
{                                                                                       \
    ptrdiff_t t = 0;                                                                    \
    for (; t + (W) <= n; t += (W)) {                                                    \
        vec gz;                                                                         \
        MINIDL_GRAD_ZV(vec, gz, g + t, y + t, activation);                              \
        MINIDL_STOREV(dz + t, gz);                                                      \
    }                                                                                   \
    for (; t < n; t++)                                                                  \
        dz[t] = activation_grad_##suffix(g[t], y[t], activation);                       \
}                                                                                       \
                                                                                        \
/* The tile of output rows 4*ti.., columns 4*tj.. of image ``image`` of the chunk:      \
 * its input patch starts at (y0, x0) in that image (it may overhang the edges). */     \
MINIDL_INLINE void minidl_wino_tile_##isa(const minidl_conv_shape *s, ptrdiff_t t,      \
                                             ptrdiff_t *image, ptrdiff_t *oy,           \
                                             ptrdiff_t *ox)                             \
{                                                                                       \
    ptrdiff_t th = (s->oh + 3) / 4, tw = (s->ow + 3) / 4;                               \
    *image = t / (th * tw);                                                             \
    *oy = 4 * ((t % (th * tw)) / tw);                                                   \
    *ox = 4 * (t % tw);                                                                 \
}                                                                                       \
                                                                                        \
/* V = B^T d B of the 6x6 patch at (y0, x0) of one image (zeros outside it), into       \
 * v[xi * MINIDL_WINO_BLOCK * C] (the tile's row of each point's matrix) */             \
MINIDL_INLINE void minidl_wino_input_##isa(const type *x_image,                         \
                                              const minidl_conv_shape *s, ptrdiff_t y0, \
                                              ptrdiff_t x0, const type *zeros,          \
                                              type *mid, type *v)                       \
{                                                                                       \
    ptrdiff_t i, j, c = s->c;                                                           \
    const type *in[6];                                                                  \
    type *out[6];                                                                       \
    for (j = 0; j < 6; j++) {  /* columns of the patch */                               \
        int column_inside = x0 + j >= 0 && x0 + j < s->w;                               \
        for (i = 0; i < 6; i++) {                                                       \
            int inside = column_inside && y0 + i >= 0 && y0 + i < s->h;                 \
            in[i] = inside ? x_image + ((y0 + i) * s->w + x0 + j) * c : zeros;          \
            out[i] = mid + (i * 6 + j) * c;                                             \
        }                                                                               \
        minidl_wino_bt_##isa(in, out, c);                                               \
    }                                                                                   \
    for (i = 0; i < 6; i++) {  /* rows of B^T d */                                      \
        for (j = 0; j < 6; j++) {                                                       \
            in[j] = mid + (i * 6 + j) * c;                                              \
            out[j] = v + (i * 6 + j) * MINIDL_WINO_STRIDE(c);                           \
        }                                                                               \
        minidl_wino_bt_##isa(in, out, c);                                               \
    }                                                                                   \
}                                                                                       \
                                                                                        \
/* Forward, for ``images`` images from x and out on: out = act(conv(x, w) + bias).      \
 * u: the transformed kernel (36, C, F); bias may be NULL. */                           \
TARGET                                                                                  \
static void minidl_wino_forward_##isa(const type *MINIDL_RESTRICT x, const type *MINIDL_RESTRICT u, \
                                         const type *MINIDL_RESTRICT bias, type *MINIDL_RESTRICT out, \
                                         const minidl_conv_shape *s, ptrdiff_t images,  \
                                         int activation, type *MINIDL_RESTRICT scratch) \
{                                                                                       \
    ptrdiff_t c = s->c, f = s->f, th = (s->oh + 3) / 4, tw = (s->ow + 3) / 4;           \
    ptrdiff_t tiles = images * th * tw, t0, b, q, i, j;                                 \
    type *v = scratch, *m = v + MINIDL_WINO_POINTS * MINIDL_WINO_STRIDE(c);             \
    type *mid = m + MINIDL_WINO_POINTS * MINIDL_WINO_STRIDE(f);                         \
    type *zeros = mid + MINIDL_WINO_POINTS * (c > f ? c : f);                           \
    type *dump = zeros + c + 16 * f + 6 * c;                                            \
    memset(zeros, 0, (size_t)c * sizeof(type));                                         \
    for (t0 = 0; t0 < tiles; t0 += MINIDL_WINO_BLOCK) {                                 \
        ptrdiff_t nb = MINIDL_WINO_MIN(MINIDL_WINO_BLOCK, tiles - t0);                  \
        for (b = 0; b < nb; b++) {                                                      \
            ptrdiff_t image, oy, ox;                                                    \
            minidl_wino_tile_##isa(s, t0 + b, &image, &oy, &ox);                        \
            minidl_wino_input_##isa(x + image * s->h * s->w * c, s, oy - s->pt,         \
                                       ox - s->pl, zeros, mid, v + b * c);              \
        }                                                                               \
        for (q = 0; q < MINIDL_WINO_POINTS; q++)                                        \
            minidl_wino_gemm_##isa(nb, f, c, v + q * MINIDL_WINO_STRIDE(c), c, 1,       \
                                      u + q * c * f, f, m + q * MINIDL_WINO_STRIDE(f),  \
                                      f, 0);                                            \
        for (b = 0; b < nb; b++) {  /* Y = A^T M A, then bias and activation */         \
            ptrdiff_t image, oy, ox;                                                    \
            const type *in[6];                                                          \
            type *to[6];                                                                \
            minidl_wino_tile_##isa(s, t0 + b, &image, &oy, &ox);                        \
            for (j = 0; j < 6; j++) {                                                   \
                for (i = 0; i < 6; i++)                                                 \
                    in[i] = m + (i * 6 + j) * MINIDL_WINO_STRIDE(f) + b * f;            \
                for (i = 0; i < 4; i++)                                                 \
                    to[i] = mid + (i * 6 + j) * f;                                      \
                minidl_wino_at_##isa(in, to, f);                                        \
            }                                                                           \
            for (i = 0; i < 4 && oy + i < s->oh; i++) {                                 \
                ptrdiff_t inside = MINIDL_WINO_MIN(4, s->ow - ox);                      \
                type *row = out + ((image * s->oh + oy + i) * s->ow + ox) * f;          \
                for (j = 0; j < 6; j++)                                                 \
                    in[j] = mid + (i * 6 + j) * f;                                      \
                for (j = 0; j < 4; j++)                                                 \
                    to[j] = j < inside ? row + j * f : dump + j * f;                    \
                minidl_wino_output_##isa(in, to, f, bias, activation);                  \
                if (activation >= 2)  /* sigmoid, tanh: the bias is in already */       \
                    minidl_epilogue_##suffix(row, inside, f, NULL, activation);         \
            }                                                                           \
        }                                                                               \
    }                                                                                   \
}                                                                                       \
                                                                                        \
/* Backward, for ``images`` images from x, out, grad_out (and grad_x, or NULL) on:      \
 * grad_x of those images; du (36, C, F) and grad_b (F, or NULL): their sums over these \
 * images' tiles, in tile order.  ut: the transformed kernel as (36, F, C). */          \
TARGET                                                                                  \
static void minidl_wino_backward_##isa(                                                 \
    const type *MINIDL_RESTRICT x, const type *MINIDL_RESTRICT ut, const type *MINIDL_RESTRICT out, \
    const type *MINIDL_RESTRICT grad_out, type *MINIDL_RESTRICT grad_x, type *MINIDL_RESTRICT du, \
    type *MINIDL_RESTRICT grad_b, const minidl_conv_shape *s, ptrdiff_t images,         \
    int activation, type *MINIDL_RESTRICT scratch)                                      \
{                                                                                       \
    ptrdiff_t c = s->c, f = s->f, th = (s->oh + 3) / 4, tw = (s->ow + 3) / 4;           \
    ptrdiff_t tiles = images * th * tw, t0, b, q, i, j, k;                              \
    type *v = scratch, *wz = v + MINIDL_WINO_POINTS * MINIDL_WINO_STRIDE(c);            \
    type *mid = wz + MINIDL_WINO_POINTS * MINIDL_WINO_STRIDE(f);                        \
    type *zeros = mid + MINIDL_WINO_POINTS * (c > f ? c : f);                           \
    type *dz = zeros + c, *patch = dz + 16 * f;                                         \
    memset(zeros, 0, (size_t)c * sizeof(type));                                         \
    memset(du, 0, (size_t)(MINIDL_WINO_POINTS * c * f) * sizeof(type));                 \
    if (grad_b != NULL)                                                                 \
        memset(grad_b, 0, (size_t)f * sizeof(type));                                    \
    if (grad_x != NULL)                                                                 \
        memset(grad_x, 0, (size_t)(images * s->h * s->w * c) * sizeof(type));           \
    for (t0 = 0; t0 < tiles; t0 += MINIDL_WINO_BLOCK) {                                 \
        ptrdiff_t nb = MINIDL_WINO_MIN(MINIDL_WINO_BLOCK, tiles - t0);                  \
        for (b = 0; b < nb; b++) {                                                      \
            ptrdiff_t image, oy, ox;                                                    \
            const type *in[6];                                                          \
            type *to[6];                                                                \
            minidl_wino_tile_##isa(s, t0 + b, &image, &oy, &ox);                        \
            minidl_wino_input_##isa(x + image * s->h * s->w * c, s, oy - s->pt,         \
                                       ox - s->pl, zeros, mid, v + b * c);              \
            /* dz: the tile's dL/dz, zero where it overhangs the output */              \
            if (oy + 4 > s->oh || ox + 4 > s->ow)                                       \
                memset(dz, 0, (size_t)(16 * f) * sizeof(type));                         \
            for (i = 0; i < 4 && oy + i < s->oh; i++) {                                 \
                ptrdiff_t at = ((image * s->oh + oy + i) * s->ow + ox) * f;             \
                minidl_wino_grad_z_##isa(out + at, grad_out + at, dz + i * 4 * f,       \
                                            MINIDL_WINO_MIN(4, s->ow - ox) * f,         \
                                            activation);                                \
            }                                                                           \
            for (j = 0; j < 4; j++) {  /* W = A dz A^T: columns, then rows */           \
                for (i = 0; i < 4; i++)                                                 \
                    in[i] = dz + (i * 4 + j) * f;                                       \
                for (i = 0; i < 6; i++)                                                 \
                    to[i] = mid + (i * 6 + j) * f;                                      \
                minidl_wino_a_##isa(in, to, f);                                         \
            }                                                                           \
            for (i = 0; i < 6; i++) {                                                   \
                for (j = 0; j < 4; j++)                                                 \
                    in[j] = mid + (i * 6 + j) * f;                                      \
                for (j = 0; j < 6; j++)                                                 \
                    to[j] = wz + (i * 6 + j) * MINIDL_WINO_STRIDE(f) + b * f;           \
                minidl_wino_a_##isa(in, to, f);                                         \
            }                                                                           \
        }                                                                               \
        if (grad_b != NULL)  /* W at point (1, 1) is the sum of the tile's 16 dz */     \
            for (b = 0; b < nb; b++)                                                    \
                for (k = 0; k < f; k++)                                                 \
                    grad_b[k] += wz[7 * MINIDL_WINO_STRIDE(f) + b * f + k];             \
        for (q = 0; q < MINIDL_WINO_POINTS; q++)  /* dU[q] += V[q]^T @ W[q] */          \
            minidl_wino_gemm_##isa(c, f, nb, v + q * MINIDL_WINO_STRIDE(c), 1, c,       \
                                      wz + q * MINIDL_WINO_STRIDE(f), f, du + q * c * f, \
                                      f, 1);                                            \
        if (grad_x == NULL)                                                             \
            continue;                                                                   \
        for (q = 0; q < MINIDL_WINO_POINTS; q++)  /* dV[q] = W[q] @ U[q]^T, over V */   \
            minidl_wino_gemm_##isa(nb, c, f, wz + q * MINIDL_WINO_STRIDE(f), f, 1,      \
                                      ut + q * f * c, c, v + q * MINIDL_WINO_STRIDE(c), \
                                      c, 0);                                            \
        for (b = 0; b < nb; b++) {  /* grad_x += B dV B^T on the tile's patch */        \
            ptrdiff_t image, oy, ox;                                                    \
            const type *in[6];                                                          \
            type *to[6];                                                                \
            minidl_wino_tile_##isa(s, t0 + b, &image, &oy, &ox);                        \
            for (j = 0; j < 6; j++) {                                                   \
                for (i = 0; i < 6; i++) {                                               \
                    in[i] = v + (i * 6 + j) * MINIDL_WINO_STRIDE(c) + b * c;            \
                    to[i] = mid + (i * 6 + j) * c;                                      \
                }                                                                       \
                minidl_wino_b_##isa(in, to, c);                                         \
            }                                                                           \
            for (i = 0; i < 6; i++) {                                                   \
                ptrdiff_t y = oy - s->pt + i, x0 = ox - s->pl;                          \
                if (y < 0 || y >= s->h)                                                 \
                    continue;                                                           \
                for (j = 0; j < 6; j++) {                                               \
                    in[j] = mid + (i * 6 + j) * c;                                      \
                    to[j] = patch + j * c;                                              \
                }                                                                       \
                minidl_wino_b_##isa(in, to, c);                                         \
                for (j = 0; j < 6; j++) {                                               \
                    type *MINIDL_RESTRICT gx;                                           \
                    if (x0 + j < 0 || x0 + j >= s->w)                                   \
                        continue;                                                       \
                    gx = grad_x + ((image * s->h + y) * s->w + x0 + j) * c;             \
                    for (k = 0; k < c; k++)                                             \
                        gx[k] += patch[j * c + k];                                      \
                }                                                                       \
            }                                                                           \
        }                                                                               \
    }                                                                                   \
}

/* one copy per instruction set (isa.h) */
MINIDL_INSTANTIATE(MINIDL_DEFINE_CONV_WINOGRAD)

/* The entry points conv.pyx calls: each runs this CPU's copy. */
#define MINIDL_DEFINE_WINO_ENTRIES(type)                                                \
static void minidl_wino_kernel_##type(const type *w, type *u, ptrdiff_t plane,          \
                                      ptrdiff_t e0, ptrdiff_t e1, type *mid)            \
{                                                                                       \
    MINIDL_DISPATCH(minidl_wino_kernel, type, (w, u, plane, e0, e1, mid))               \
}                                                                                       \
static void minidl_wino_kernel_grad_##type(const type *du, ptrdiff_t chunks,            \
                                           type *grad_w, ptrdiff_t plane, ptrdiff_t e0, \
                                           ptrdiff_t e1, type *mid)                     \
{                                                                                       \
    MINIDL_DISPATCH(minidl_wino_kernel_grad, type, (du, chunks, grad_w, plane, e0, e1, mid)) \
}                                                                                       \
static void minidl_wino_forward_##type(const type *x, const type *u, const type *bias,  \
                                       type *out, const minidl_conv_shape *s,           \
                                       ptrdiff_t images, int activation, type *scratch) \
{                                                                                       \
    MINIDL_DISPATCH(minidl_wino_forward, type, (x, u, bias, out, s, images, activation, scratch)) \
}                                                                                       \
static void minidl_wino_backward_##type(const type *x, const type *ut, const type *out, \
                                        const type *grad_out, type *grad_x, type *du,   \
                                        type *grad_b, const minidl_conv_shape *s,       \
                                        ptrdiff_t images, int activation, type *scratch) \
{                                                                                       \
    MINIDL_DISPATCH(minidl_wino_backward, type, (x, ut, out, grad_out, grad_x, du, grad_b, s, \
                                          images, activation, scratch))                 \
}

MINIDL_DEFINE_WINO_ENTRIES(float)
MINIDL_DEFINE_WINO_ENTRIES(double)

#endif
