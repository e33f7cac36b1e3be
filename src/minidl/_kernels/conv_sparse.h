/* The backward of a convolution whose dL/dz is mostly zeros.
 *
 * Behind a max-pooling layer only one pixel of each pooling window receives a
 * gradient, and relu zeroes it wherever the output was 0: in the tutorial CNN
 * about 15% of the second convolution's dL/dz (64 x 11 x 11 x 64 values per
 * batch) is nonzero.  The products of the im2col backward,
 *
 *     grad_cols = gz @ w^T,    grad_w = cols^T @ gz,
 *
 * then spend 85% of their multiply-adds on zeros.  (ops.conv2d now gives a 3x3
 * stride-1 convolution like that one to Winograd, conv_winograd.h, faster still;
 * this walk serves im2col's other convolutions.)  Here each nonzero
 * gz = dL/dz[n, i, j, f] adds its own terms and the zeros cost nothing:
 *
 *     grad_x[n, window of (i, j)] += gz * w[:, :, :, f]
 *     grad_w[:, :, :, f]          += gz * x[n, window of (i, j)]
 *     grad_b[f]                   += gz
 *
 * One kernel row of a window is kw*C values side by side in NHWC, and the
 * same kw*C values of w[:, :, :, f] are side by side once w is stored
 * transposed (wt[f][di][dj][c]), so every term is a few multiply-adds over
 * contiguous memory ("axpy": y += a * x), which the compiler vectorizes.
 *
 * Two passes, so that no two threads ever add into the same sum:
 *   minidl_conv_sparse_grad_x_*: grad_x of one image (threads take images);
 *   minidl_conv_sparse_grad_w_*: grad_w and grad_b of up to 16 filters, over
 *     all images in order (threads take blocks of filters).
 * (One difference from the products: a NaN or inf in x or w reaches only the
 * terms of nonzero gz; a product would also multiply it by the zeros, and
 * 0 * NaN is NaN.  With such an input the forward's output is NaN already.)
 *
 * Each pass first lists the nonzeros it will walk, without a branch per value
 * (a value is always written, and the count moves on only when it is nonzero):
 * a branch taken one time in six would be mispredicted often.
 */
#ifndef MINIDL_CONV_SPARSE_H
#define MINIDL_CONV_SPARSE_H

#include <stddef.h>
#include <string.h>

#include "portable.h"
#include "clones.h"
#include "conv_direct.h"
#include "isa.h"

/* the filters minidl_conv_sparse_grad_w_* takes in one call: 16 floats are one
 * 64-byte cache line of a pixel's gradient */
#define MINIDL_SPARSE_FILTERS 16

/* minidl_add_rows_*'s loop over runs of W * NV values of dst, NV sums in registers */
#define MINIDL_ADD_ROWS_CHUNK(NV, type, vec, W)                                         \
    for (; t + (W) * (NV) <= run; t += (W) * (NV)) {                                    \
        vec a_[NV], v_;                                                                 \
        int j_;                                                                         \
        for (j_ = 0; j_ < (NV); j_++)                                                   \
            MINIDL_LOADV(a_[j_], dst + t + (W) * j_);                                   \
        for (e = 0; e < count; e++) {                                                   \
            const type *row_ = src + offset[e] + t;                                     \
            type scale_ = value[e];                                                     \
            for (j_ = 0; j_ < (NV); j_++) {                                             \
                MINIDL_LOADV(v_, row_ + (W) * j_);                                      \
                a_[j_] += scale_ * v_;                                                  \
            }                                                                           \
        }                                                                               \
        for (j_ = 0; j_ < (NV); j_++)                                                   \
            MINIDL_STOREV(dst + t + (W) * j_, a_[j_]);                                  \
    }

#define MINIDL_DEFINE_CONV_SPARSE(type, suffix, isa, vec, W, TARGET, WIDE)              \
/* y[t] += a * x[t] for t < count */                                                    \
MINIDL_INLINE void minidl_axpy_##isa(type *MINIDL_RESTRICT y, const type *MINIDL_RESTRICT x, type a, \
                                        ptrdiff_t count)                                \
{                                                                                       \
    ptrdiff_t t;                                                                        \
    for (t = 0; t < count; t++)                                                         \
        y[t] += a * x[t];                                                               \
}                                                                                       \
                                                                                        \
/* dst[t] += sum over e < count of value[e] * src[offset[e] + t], for t < run.          \
 * The sums for 4 vectors of dst (then 2, then 1, then single values) stay in           \
 * registers while every row is added in, and dst is read and written once: adding        \
 * row after row straight into dst would make each row wait for the previous store. */    \
MINIDL_INLINE void minidl_add_rows_##isa(type *MINIDL_RESTRICT dst, const type *MINIDL_RESTRICT src, \
                                            const int *MINIDL_RESTRICT offset,          \
                                            const type *MINIDL_RESTRICT value, ptrdiff_t count, \
                                            ptrdiff_t run)                              \
{                                                                                       \
    ptrdiff_t t = 0, e;                                                                 \
    MINIDL_ADD_ROWS_CHUNK(4, type, vec, W)                                              \
    MINIDL_ADD_ROWS_CHUNK(2, type, vec, W)                                              \
    MINIDL_ADD_ROWS_CHUNK(1, type, vec, W)                                              \
    for (; t < run; t++) {                                                              \
        type a0 = dst[t];                                                               \
        for (e = 0; e < count; e++)                                                     \
            a0 += value[e] * src[offset[e] + t];                                        \
        dst[t] = a0;                                                                    \
    }                                                                                   \
}                                                                                       \
                                                                                        \
/* Appends gz to a list (value[], index[]) and moves the list's end on only when        \
 * gz is nonzero (NaN counts as nonzero, as it must): no branch on gz. */                 \
MINIDL_INLINE void minidl_list_nonzero_##isa(type gz, int at, type *MINIDL_RESTRICT value, \
                                                int *MINIDL_RESTRICT index, ptrdiff_t *found) \
{                                                                                       \
    value[*found] = gz;                                                                 \
    index[*found] = at;                                                                 \
    *found += gz != 0;                                                                  \
}                                                                                       \
                                                                                        \
/* The nonzero dL/dz of one pixel's f filters (dL/dy at g, y at out): value[e] and      \
 * index[e] (the filter) for e < the count returned.  W filters at a time in a vector,    \
 * so relu's derivative is a mask, not a branch. */                                       \
MINIDL_INLINE ptrdiff_t minidl_pixel_nonzeros_##isa(                                    \
    const type *g, const type *out, ptrdiff_t f, int activation, type *MINIDL_RESTRICT value, \
    int *MINIDL_RESTRICT index)                                                         \
{                                                                                       \
    ptrdiff_t k = 0, lane, found = 0;                                                   \
    for (; k + (W) <= f; k += (W)) {                                                    \
        vec gz;                                                                         \
        MINIDL_GRAD_ZV(vec, gz, g + k, out + k, activation);                            \
        for (lane = 0; lane < (W); lane++)                                              \
            minidl_list_nonzero_##isa(MINIDL_LANE(gz, lane), (int)(k + lane), value, index, &found); \
    }                                                                                   \
    for (; k < f; k++)                                                                  \
        minidl_list_nonzero_##isa(activation_grad_##suffix(g[k], out[k], activation),   \
                                     (int)k, value, index, &found);                     \
    return found;                                                                       \
}                                                                                       \
                                                                                        \
/* grad_x of one image.  wt: the kernel as (F, kh, kw, C); scratch for F values. */     \
TARGET                                                                                  \
static void minidl_conv_sparse_grad_x_##isa(                                            \
    const type *MINIDL_RESTRICT wt, const type *MINIDL_RESTRICT out, const type *MINIDL_RESTRICT grad_out, \
    type *MINIDL_RESTRICT grad_x, const minidl_conv_shape *s, int activation,           \
    type *MINIDL_RESTRICT value, int *MINIDL_RESTRICT index)                            \
{                                                                                       \
    ptrdiff_t i, j, e, di, f = s->f, c = s->c, patch = s->kh * s->kw * s->c;            \
    memset(grad_x, 0, (size_t)(s->h * s->w * c) * sizeof(type));                        \
    for (i = 0; i < s->oh; i++) {                                                       \
        MINIDL_TAP_RANGE(di_lo, di_hi, i * s->sh, s->pt, s->kh, s->h)                   \
        for (j = 0; j < s->ow; j++) {                                                   \
            MINIDL_TAP_RANGE(dj_lo, dj_hi, j * s->sw, s->pl, s->kw, s->w)               \
            ptrdiff_t px = (i * s->ow + j) * f, run = (dj_hi - dj_lo) * c;              \
            ptrdiff_t found = minidl_pixel_nonzeros_##isa(grad_out + px, out + px, f,   \
                                                             activation, value, index); \
            if (found == 0)                                                             \
                continue;                                                               \
            for (e = 0; e < found; e++)                                                 \
                index[e] *= (int)patch;  /* filter -> where its taps start in wt */     \
            for (di = di_lo; di < di_hi; di++)                                          \
                minidl_add_rows_##isa(grad_x + MINIDL_X_ROW(s, i, j, di) + dj_lo * c,   \
                                         wt + (di * s->kw + dj_lo) * c, index, value,   \
                                         found, run);                                   \
        }                                                                               \
    }                                                                                   \
}                                                                                       \
                                                                                        \
/* grad_w (stored as grad_wt, (F, kh, kw, C)) and grad_b (or NULL) of filters           \
 * f0 .. f0 + nf - 1 (nf <= MINIDL_SPARSE_FILTERS), summed over ``images`` images in      \
 * order.  Scratch: one list of OH * OW values per filter.  Output pixel p is at row      \
 * pixel_row[p], column pixel_column[p] (tables, not a division per nonzero). */          \
TARGET                                                                                  \
static void minidl_conv_sparse_grad_w_##isa(                                            \
    const type *MINIDL_RESTRICT x, const type *MINIDL_RESTRICT out, const type *MINIDL_RESTRICT grad_out, \
    ptrdiff_t images, ptrdiff_t f0, ptrdiff_t nf, type *MINIDL_RESTRICT grad_wt,        \
    type *MINIDL_RESTRICT grad_b, const minidl_conv_shape *s, int activation,           \
    const int *pixel_row, const int *pixel_column, type *MINIDL_RESTRICT value,         \
    int *MINIDL_RESTRICT index)                                                         \
{                                                                                       \
    ptrdiff_t n, p, k, e, di, f = s->f, c = s->c, patch = s->kh * s->kw * s->c;         \
    ptrdiff_t pixels = s->oh * s->ow, image = s->h * s->w * c, out_image = pixels * f;  \
    type bias_sum[MINIDL_SPARSE_FILTERS] = {0};                                         \
    memset(grad_wt + f0 * patch, 0, (size_t)(nf * patch) * sizeof(type));               \
    for (n = 0; n < images; n++) {                                                      \
        const type *x_n = x + n * image;                                                \
        ptrdiff_t found[MINIDL_SPARSE_FILTERS] = {0};                                   \
        /* list each filter's nonzero pixels: filter k's list starts at k * pixels */   \
        for (p = 0; p < pixels; p++) {                                                  \
            const type *g = grad_out + n * out_image + p * f + f0;                      \
            const type *y = out + n * out_image + p * f + f0;                           \
            if (nf == MINIDL_SPARSE_FILTERS) {                                          \
                ptrdiff_t k0;                                                           \
                for (k0 = 0; k0 < MINIDL_SPARSE_FILTERS; k0 += (W)) {                   \
                    vec gz;                                                             \
                    MINIDL_GRAD_ZV(vec, gz, g + k0, y + k0, activation);                \
                    for (k = 0; k < (W); k++)                                           \
                        minidl_list_nonzero_##isa(MINIDL_LANE(gz, k), (int)p, value + (k0 + k) * pixels, \
                                                  index + (k0 + k) * pixels, &found[k0 + k]); \
                }                                                                       \
            } else {                                                                    \
                for (k = 0; k < nf; k++)                                                \
                    minidl_list_nonzero_##isa(                                          \
                        activation_grad_##suffix(g[k], y[k], activation), (int)p,       \
                        value + k * pixels, index + k * pixels, &found[k]);             \
            }                                                                           \
        }                                                                               \
        for (k = 0; k < nf; k++) {                                                      \
            type *gw = grad_wt + (f0 + k) * patch, *k_value = value + k * pixels;       \
            int *k_index = index + k * pixels;                                          \
            ptrdiff_t inside = 0;                                                       \
            for (e = 0; e < found[k]; e++) {                                            \
                ptrdiff_t i = pixel_row[k_index[e]], j = pixel_column[k_index[e]];      \
                MINIDL_TAP_RANGE(di_lo, di_hi, i * s->sh, s->pt, s->kh, s->h)           \
                MINIDL_TAP_RANGE(dj_lo, dj_hi, j * s->sw, s->pl, s->kw, s->w)           \
                bias_sum[k] += k_value[e];                                              \
                if (di_hi - di_lo == s->kh && dj_hi - dj_lo == s->kw) {                 \
                    /* a window wholly inside the image: kept, as where it starts in x */ \
                    k_value[inside] = k_value[e];                                       \
                    k_index[inside++] = (int)MINIDL_X_ROW(s, i, j, 0);                  \
                    continue;                                                           \
                }                                                                       \
                for (di = di_lo; di < di_hi; di++)  /* one partly in the padding */     \
                    minidl_axpy_##isa(gw + (di * s->kw + dj_lo) * c,                    \
                                         x_n + MINIDL_X_ROW(s, i, j, di) + dj_lo * c,   \
                                         k_value[e], (dj_hi - dj_lo) * c);              \
            }                                                                           \
            for (di = 0; di < s->kh; di++)                                              \
                minidl_add_rows_##isa(gw + di * s->kw * c, x_n + di * s->w * c,         \
                                         k_index, k_value, inside, s->kw * c);          \
        }                                                                               \
    }                                                                                   \
    if (grad_b != NULL)                                                                 \
        for (k = 0; k < nf; k++)                                                        \
            grad_b[f0 + k] = bias_sum[k];                                               \
}

#define MINIDL_DEFINE_COUNT_NONZERO(type, suffix)                                       \
/* how many of count values of dL/dz (dL/dy at g, y at out) are nonzero */              \
MINIDL_CLONES                                                                           \
static ptrdiff_t minidl_count_nonzero_grad_z_##suffix(const type *MINIDL_RESTRICT g,    \
                                                      const type *MINIDL_RESTRICT out,  \
                                                      ptrdiff_t count, int activation)  \
{                                                                                       \
    ptrdiff_t k, found = 0;                                                             \
    for (k = 0; k < count; k++)                                                         \
        found += activation_grad_##suffix(g[k], out[k], activation) != 0;               \
    return found;                                                                       \
}

MINIDL_DEFINE_COUNT_NONZERO(float, float)
MINIDL_DEFINE_COUNT_NONZERO(double, double)

/* one copy per instruction set (isa.h), and the entry points conv.pyx calls */
MINIDL_INSTANTIATE(MINIDL_DEFINE_CONV_SPARSE)

#define MINIDL_DEFINE_CONV_SPARSE_ENTRIES(type)                                         \
static void minidl_conv_sparse_grad_x_##type(                                           \
    const type *wt, const type *out, const type *grad_out, type *grad_x,                \
    const minidl_conv_shape *s, int activation, type *value, int *index)                \
{                                                                                       \
    MINIDL_DISPATCH(minidl_conv_sparse_grad_x, type,                                    \
                    (wt, out, grad_out, grad_x, s, activation, value, index))           \
}                                                                                       \
static void minidl_conv_sparse_grad_w_##type(                                           \
    const type *x, const type *out, const type *grad_out, ptrdiff_t images,             \
    ptrdiff_t f0, ptrdiff_t nf, type *grad_wt, type *grad_b, const minidl_conv_shape *s, \
    int activation, const int *pixel_row, const int *pixel_column, type *value,         \
    int *index)                                                                         \
{                                                                                       \
    MINIDL_DISPATCH(minidl_conv_sparse_grad_w, type,                                    \
                    (x, out, grad_out, images, f0, nf, grad_wt, grad_b, s, activation,  \
                     pixel_row, pixel_column, value, index))                            \
}

MINIDL_DEFINE_CONV_SPARSE_ENTRIES(float)
MINIDL_DEFINE_CONV_SPARSE_ENTRIES(double)

#endif
