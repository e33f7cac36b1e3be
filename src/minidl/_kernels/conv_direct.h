/* Direct convolution of one NHWC image, for kernels with few inputs per patch.
 *
 * im2col + BLAS is the fast way to convolve when a patch holds many values
 * (3x3x32 = 288): the product dominates and BLAS runs it near the machine's
 * peak.  A first layer on grey images has patches of 3x3x1 = 9 values, and
 * then a matrix product with 9 as its inner size wastes most of BLAS's work,
 * while im2col writes 9 copies of every pixel.  Here each output pixel is
 * computed where it is written:
 *
 *     out[i, j, :] = act(b + sum over di, dj, c of x[i*sh + di - pt, j*sw + dj - pl, c] * w[di, dj, c, :])
 *
 * (taps that fall in the zero padding are skipped).  The filters go in blocks
 * of W, held in one vector value (GCC's vector extensions; one register: W = 16
 * floats with AVX-512, 8 with AVX2, 4 with SSE2, one copy of the code each, see
 * isa.h): a block's W sums stay in registers while every tap of the patch is
 * added in, and are written once, activation applied.  A last block of fewer
 * than W filters takes a plain loop.
 *
 * The backward, for one image, with gz = dL/dout * act'(out) per pixel:
 *     grad_w[di, dj, c, :] += x[...] * gz[i, j, :]     (over every pixel and tap)
 *     grad_b[:]            += gz[i, j, :]
 *     grad_x[...]          += sum over f of gz[i, j, f] * w[di, dj, c, f]
 * grad_w and grad_b here are the image's own partial sums (zeroed first); the
 * caller adds the images' partials in a fixed order, so the result does not
 * depend on how many threads ran.
 *
 * Activation codes: activation_codes.h.
 */
#ifndef MINIDL_CONV_DIRECT_H
#define MINIDL_CONV_DIRECT_H

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "portable.h"
#include "activation_codes.h"
#include "clones.h"
#include "isa.h"

typedef struct {
    ptrdiff_t h, w, c;         /* input image */
    ptrdiff_t kh, kw, f;       /* kernel (kh, kw, c, f) */
    ptrdiff_t sh, sw, pt, pl;  /* strides, padding at the top and left */
    ptrdiff_t oh, ow;          /* output image */
} minidl_conv_shape;

/* the kernel rows (or columns) lo <= d < hi that land inside the image, for an
 * output pixel whose window starts at ``at - pad`` on an axis of ``size`` */
#define MINIDL_TAP_RANGE(lo, hi, at, pad, k, size)                                      \
    ptrdiff_t lo = (pad) - (at) > 0 ? (pad) - (at) : 0;                                 \
    ptrdiff_t hi = (size) + (pad) - (at) < (k) ? (size) + (pad) - (at) : (k);

/* For one output pixel (i, j): the input row of kernel row di starts at x_row(di). */
#define MINIDL_X_ROW(s, i, j, di)                                                       \
    ((((i) * (s)->sh - (s)->pt + (di)) * (s)->w + (j) * (s)->sw - (s)->pl) * (s)->c)

/* a vector's worth of values from p (any alignment) into the vector v, and back;
 * macros, not functions, so they work for every vector type */
#define MINIDL_LOADV(v, p) memcpy(&(v), (p), sizeof(v))
#define MINIDL_STOREV(p, v) memcpy((p), &(v), sizeof(v))

/* The fast path: 4 neighbouring output pixels of one row whose windows lie
 * wholly inside the image, one block of W filters.  Each weight vector is
 * loaded once and used for all 4 pixels (4 sums in registers), and the taps
 * are one loop over a table of offsets instead of three nested loops. */
#define MINIDL_GROUP 4

/* the windows of output pixels j .. j + MINIDL_GROUP - 1 of a row lie inside the
 * image's columns (dj_lo: the first kernel column inside, for pixel j) */
#define MINIDL_GROUP_INSIDE(s, j, dj_lo)                                                \
    ((dj_lo) == 0 && (j) + MINIDL_GROUP <= (s)->ow                                      \
     && ((j) + MINIDL_GROUP - 1) * (s)->sw - (s)->pl + (s)->kw <= (s)->w)

/* gz (a vec) = dL/dz for a vector of filters of one pixel, from dL/dy at g and y at out */
#define MINIDL_GRAD_ZV(vec, gz, g, out, activation)                                     \
    do {                                                                                \
        vec y_;                                                                         \
        MINIDL_LOADV(gz, g);                                                            \
        MINIDL_LOADV(y_, out);                                                          \
        if ((activation) == 1)                                                          \
            gz = gz * MINIDL_MASKV(vec, y_ > 0);                                        \
        else if ((activation) == 2)                                                     \
            gz = gz * y_ * (1 - y_);                                                    \
        else if ((activation) == 3)                                                     \
            gz = gz * (1 - y_ * y_);                                                    \
    } while (0)
#define MINIDL_MAX_TAPS 64

/* offset[t]: where tap t = (di * kw + dj) * C + c of a window lies, counted from the
 * window's first input value (the fast path reads taps through this table) */
MINIDL_STATIC_INLINE void minidl_tap_offsets(ptrdiff_t *offset, const minidl_conv_shape *s)
{
    ptrdiff_t di, dj, cc;
    for (di = 0; di < s->kh; di++)
        for (dj = 0; dj < s->kw; dj++)
            for (cc = 0; cc < s->c; cc++)
                offset[(di * s->kw + dj) * s->c + cc] = (di * s->w + dj) * s->c + cc;
}

#define MINIDL_DEFINE_CONV_HELPERS(type, suffix, exp_fn, tanh_fn)                       \
MINIDL_STATIC_INLINE type activate_##suffix(type z, int activation)                     \
{                                                                                       \
    if (activation == 1)                                                                \
        return z < 0 ? 0 : z;  /* (a NaN stays NaN) */                                  \
    if (activation == 2)                                                                \
        return 1 / (1 + exp_fn(-(z < -80 ? -80 : z)));                                  \
    if (activation == 3)                                                                \
        return tanh_fn(z);                                                              \
    return z;                                                                           \
}                                                                                       \
                                                                                        \
/* dL/dz from dL/dy = g and the activation's output y */                                \
MINIDL_STATIC_INLINE type activation_grad_##suffix(type g, type y, int activation)      \
{                                                                                       \
    if (activation == 1)                                                                \
        return g * (type)(y > 0);                                                       \
    if (activation == 2)                                                                \
        return g * y * (1 - y);                                                         \
    if (activation == 3)                                                                \
        return g * (1 - y * y);                                                         \
    return g;                                                                           \
}

#define MINIDL_DEFINE_CONV_DIRECT(type, suffix, isa, vec, W, TARGET, WIDE)              \
TARGET                                                                                  \
static void minidl_conv_direct_forward_##isa(                                           \
    const type *MINIDL_RESTRICT x, const type *MINIDL_RESTRICT w, const type *MINIDL_RESTRICT b, \
    type *MINIDL_RESTRICT out, const minidl_conv_shape *s, int activation)              \
{                                                                                       \
    ptrdiff_t i, j, k, t, fb, di, dj, cc, f = s->f, c = s->c;                           \
    ptrdiff_t taps = s->kh * s->kw * c, offset[MINIDL_MAX_TAPS], step = s->sw * c;      \
    int grouped = taps <= MINIDL_MAX_TAPS && f % (W) == 0;                              \
    if (grouped)                                                                        \
        minidl_tap_offsets(offset, s);                                                  \
    for (i = 0; i < s->oh; i++) {                                                       \
        MINIDL_TAP_RANGE(di_lo, di_hi, i * s->sh, s->pt, s->kh, s->h)                   \
        int rows_inside = di_lo == 0 && di_hi == s->kh;                                 \
        for (j = 0; j < s->ow; j++) {                                                   \
            MINIDL_TAP_RANGE(dj_lo, dj_hi, j * s->sw, s->pl, s->kw, s->w)               \
            type *out_px = out + (i * s->ow + j) * f;                                   \
            if (grouped && rows_inside && MINIDL_GROUP_INSIDE(s, j, dj_lo)) {           \
                const type *x0 = x + MINIDL_X_ROW(s, i, j, 0);                          \
                for (fb = 0; fb < f; fb += (W)) {                                       \
                    vec a0 = {0}, a1, a2, a3, wv;                                       \
                    if (b != NULL)                                                      \
                        MINIDL_LOADV(a0, b + fb);                                       \
                    a1 = a0, a2 = a0, a3 = a0;                                          \
                    for (t = 0; t < taps; t++) {                                        \
                        const type *xt = x0 + offset[t];                                \
                        MINIDL_LOADV(wv, w + t * f + fb);                               \
                        a0 += xt[0] * wv;                                               \
                        a1 += xt[step] * wv;                                            \
                        a2 += xt[2 * step] * wv;                                        \
                        a3 += xt[3 * step] * wv;                                        \
                    }                                                                   \
                    if (activation == 1) {                                              \
                        a0 = MINIDL_RELUV(a0), a1 = MINIDL_RELUV(a1);                   \
                        a2 = MINIDL_RELUV(a2), a3 = MINIDL_RELUV(a3);                   \
                    } else if (activation != 0) {                                       \
                        for (k = 0; k < (W); k++) {                                     \
                            MINIDL_LANE(a0, k) = activate_##suffix(MINIDL_LANE(a0, k), activation); \
                            MINIDL_LANE(a1, k) = activate_##suffix(MINIDL_LANE(a1, k), activation); \
                            MINIDL_LANE(a2, k) = activate_##suffix(MINIDL_LANE(a2, k), activation); \
                            MINIDL_LANE(a3, k) = activate_##suffix(MINIDL_LANE(a3, k), activation); \
                        }                                                               \
                    }                                                                   \
                    MINIDL_STOREV(out_px + fb, a0);                                     \
                    MINIDL_STOREV(out_px + f + fb, a1);                                 \
                    MINIDL_STOREV(out_px + 2 * f + fb, a2);                             \
                    MINIDL_STOREV(out_px + 3 * f + fb, a3);                             \
                }                                                                       \
                j += MINIDL_GROUP - 1;                                                  \
                continue;                                                               \
            }                                                                           \
            for (fb = 0; fb + (W) <= f; fb += (W)) {                                    \
                vec a = {0}, wv;                                                        \
                if (b != NULL)                                                          \
                    MINIDL_LOADV(a, b + fb);                                            \
                for (di = di_lo; di < di_hi; di++) {                                    \
                    const type *x_row = x + MINIDL_X_ROW(s, i, j, di);                  \
                    for (dj = dj_lo; dj < dj_hi; dj++)                                  \
                        for (cc = 0; cc < c; cc++) {                                    \
                            MINIDL_LOADV(wv, w + ((di * s->kw + dj) * c + cc) * f + fb); \
                            a += x_row[dj * c + cc] * wv;                               \
                        }                                                               \
                }                                                                       \
                if (activation == 1)                                                    \
                    a = MINIDL_RELUV(a);                                                \
                else if (activation != 0)                                               \
                    for (k = 0; k < (W); k++)                                           \
                        MINIDL_LANE(a, k) = activate_##suffix(MINIDL_LANE(a, k), activation); \
                MINIDL_STOREV(out_px + fb, a);                                          \
            }                                                                           \
            for (; fb < f; fb++) {  /* the last filters, fewer than W */                \
                type a = b != NULL ? b[fb] : 0;                                         \
                for (di = di_lo; di < di_hi; di++) {                                    \
                    const type *x_row = x + MINIDL_X_ROW(s, i, j, di);                  \
                    for (dj = dj_lo; dj < dj_hi; dj++)                                  \
                        for (cc = 0; cc < c; cc++)                                      \
                            a += x_row[dj * c + cc] * w[((di * s->kw + dj) * c + cc) * f + fb]; \
                }                                                                       \
                out_px[fb] = activate_##suffix(a, activation);                          \
            }                                                                           \
        }                                                                               \
    }                                                                                   \
}                                                                                       \
                                                                                        \
TARGET                                                                                  \
static void minidl_conv_direct_backward_##isa(                                          \
    const type *MINIDL_RESTRICT x, const type *MINIDL_RESTRICT w, const type *MINIDL_RESTRICT out, \
    const type *MINIDL_RESTRICT grad_out, type *MINIDL_RESTRICT grad_x, type *MINIDL_RESTRICT grad_w, \
    type *MINIDL_RESTRICT grad_b, const minidl_conv_shape *s, int activation)           \
{                                                                                       \
    ptrdiff_t i, j, k, t, fb, di, dj, cc, f = s->f, c = s->c;                           \
    ptrdiff_t taps = s->kh * s->kw * c, offset[MINIDL_MAX_TAPS], step = s->sw * c;      \
    /* the fast path computes no grad_x: it serves a first layer, whose input needs none */ \
    int grouped = taps <= MINIDL_MAX_TAPS && f % (W) == 0 && grad_x == NULL;            \
    if (grad_w != NULL)                                                                 \
        memset(grad_w, 0, (size_t)(s->kh * s->kw * c * f) * sizeof(type));              \
    if (grad_b != NULL)                                                                 \
        memset(grad_b, 0, (size_t)f * sizeof(type));                                    \
    if (grad_x != NULL)                                                                 \
        memset(grad_x, 0, (size_t)(s->h * s->w * c) * sizeof(type));                    \
    if (grouped)                                                                        \
        minidl_tap_offsets(offset, s);                                                  \
    for (i = 0; i < s->oh; i++) {                                                       \
        MINIDL_TAP_RANGE(di_lo, di_hi, i * s->sh, s->pt, s->kh, s->h)                   \
        int rows_inside = di_lo == 0 && di_hi == s->kh;                                 \
        for (j = 0; j < s->ow; j++) {                                                   \
            MINIDL_TAP_RANGE(dj_lo, dj_hi, j * s->sw, s->pl, s->kw, s->w)               \
            const type *out_px = out + (i * s->ow + j) * f;                             \
            const type *grad_px = grad_out + (i * s->ow + j) * f;                       \
            if (grouped && rows_inside && MINIDL_GROUP_INSIDE(s, j, dj_lo)) {           \
                const type *x0 = x + MINIDL_X_ROW(s, i, j, 0);                          \
                for (fb = 0; fb < f; fb += (W)) {                                       \
                    vec g0, g1, g2, g3, gw_v;                                           \
                    MINIDL_GRAD_ZV(vec, g0, grad_px + fb, out_px + fb, activation);     \
                    MINIDL_GRAD_ZV(vec, g1, grad_px + f + fb, out_px + f + fb, activation); \
                    MINIDL_GRAD_ZV(vec, g2, grad_px + 2 * f + fb, out_px + 2 * f + fb, activation); \
                    MINIDL_GRAD_ZV(vec, g3, grad_px + 3 * f + fb, out_px + 3 * f + fb, activation); \
                    if (grad_b != NULL) {                                               \
                        MINIDL_LOADV(gw_v, grad_b + fb);                                \
                        gw_v += ((g0 + g1) + g2) + g3;                                  \
                        MINIDL_STOREV(grad_b + fb, gw_v);                               \
                    }                                                                   \
                    for (t = 0; t < taps; t++) {                                        \
                        const type *xt = x0 + offset[t];                                \
                        MINIDL_LOADV(gw_v, grad_w + t * f + fb);                        \
                        gw_v += xt[0] * g0 + xt[step] * g1 + xt[2 * step] * g2          \
                                + xt[3 * step] * g3;                                    \
                        MINIDL_STOREV(grad_w + t * f + fb, gw_v);                       \
                    }                                                                   \
                }                                                                       \
                j += MINIDL_GROUP - 1;                                                  \
                continue;                                                               \
            }                                                                           \
            for (fb = 0; fb < f; fb += (W)) {                                           \
                ptrdiff_t nb = f - fb < (W) ? f - fb : (W);                             \
                vec gz = {0}, gw_v;                                                     \
                if (nb == (W)) {                                                        \
                    MINIDL_GRAD_ZV(vec, gz, grad_px + fb, out_px + fb, activation);     \
                } else {                                                                \
                    for (k = 0; k < nb; k++)                                            \
                        MINIDL_LANE(gz, k) = activation_grad_##suffix(grad_px[fb + k], out_px[fb + k], \
                                                         activation);                   \
                }                                                                       \
                if (grad_b != NULL)                                                     \
                    for (k = 0; k < nb; k++)                                            \
                        grad_b[fb + k] += MINIDL_LANE(gz, k);                           \
                for (di = di_lo; di < di_hi; di++) {                                    \
                    ptrdiff_t row = MINIDL_X_ROW(s, i, j, di);                          \
                    for (dj = dj_lo; dj < dj_hi; dj++) {                                \
                        for (cc = 0; cc < c; cc++) {                                    \
                            ptrdiff_t at = row + dj * c + cc;                           \
                            type *gw = grad_w + ((di * s->kw + dj) * c + cc) * f + fb;  \
                            const type *wr = w + ((di * s->kw + dj) * c + cc) * f + fb; \
                            if (nb == (W)) {                                            \
                                MINIDL_LOADV(gw_v, gw);                                 \
                                gw_v += x[at] * gz;                                     \
                                MINIDL_STOREV(gw, gw_v);                                \
                            } else {                                                    \
                                for (k = 0; k < nb; k++)                                \
                                    gw[k] += x[at] * MINIDL_LANE(gz, k);                \
                            }                                                           \
                            if (grad_x != NULL) {                                       \
                                type total = 0;                                         \
                                for (k = 0; k < nb; k++)                                \
                                    total += MINIDL_LANE(gz, k) * wr[k];                \
                                grad_x[at] += total;                                    \
                            }                                                           \
                        }                                                               \
                    }                                                                   \
                }                                                                       \
            }                                                                           \
        }                                                                               \
    }                                                                                   \
}

MINIDL_DEFINE_CONV_HELPERS(float, float, expf, tanhf)
MINIDL_DEFINE_CONV_HELPERS(double, double, exp, tanh)

/* one copy per instruction set (isa.h), and the entry points conv.pyx calls */
MINIDL_INSTANTIATE(MINIDL_DEFINE_CONV_DIRECT)

#define MINIDL_DEFINE_CONV_DIRECT_ENTRIES(type)                                         \
static void minidl_conv_direct_forward_##type(const type *x, const type *w,             \
                                              const type *b, type *out,                 \
                                              const minidl_conv_shape *s, int activation) \
{                                                                                       \
    MINIDL_DISPATCH(minidl_conv_direct_forward, type, (x, w, b, out, s, activation))    \
}                                                                                       \
static void minidl_conv_direct_backward_##type(                                         \
    const type *x, const type *w, const type *out, const type *grad_out, type *grad_x,  \
    type *grad_w, type *grad_b, const minidl_conv_shape *s, int activation)             \
{                                                                                       \
    MINIDL_DISPATCH(minidl_conv_direct_backward, type,                                  \
                    (x, w, out, grad_out, grad_x, grad_w, grad_b, s, activation))       \
}

MINIDL_DEFINE_CONV_DIRECT_ENTRIES(float)
MINIDL_DEFINE_CONV_DIRECT_ENTRIES(double)

#endif
