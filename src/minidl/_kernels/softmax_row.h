/* Softmax of one row of logits, in C so the exponentials run as vector code.
 *
 *     top  = max_j z[j]                                (written to *top_out)
 *     p[j] = exp(z[j] - top) / sum_k exp(z[k] - top)
 *     returns log(sum_k exp(z[k] - top))       (the row's log-sum-exp is this + top)
 *
 * The log-sum-exp is returned without top added: a loss is then
 * log(sum) - (z[label] - top), a small number made from small numbers.  Adding top
 * first (about 1e4 for large logits) would round the loss to top's precision, about
 * 0.001 in float32.
 *
 * libm's expf is one call per value, which the compiler cannot turn into
 * vector instructions.  minidl_expf below is the classic way to compute exp
 * (the Cephes library's): write x = n ln2 + r with n an integer and
 * |r| <= ln2 / 2, so exp(x) = 2^n exp(r); exp(r) is a degree-6 polynomial
 * (error about one unit in the last place), and 2^n is built directly in the
 * float's exponent bits.  Every step is plain arithmetic, so a loop of them
 * vectorizes: 8 or 16 exponentials per instruction with AVX2 or AVX-512.
 *
 * Here x = z[j] - top <= 0.  Below -87 exp(x) is under 1.7e-38, far below
 * anything that changes the sum, and below -103.97 it is 0 in float32: there
 * the result is 0 (what TensorFlow gives too, as it flushes the denormals in
 * between), so a masked score (-1e9) or a -inf logit gets probability exactly 0.
 * x is clamped at -87 for the arithmetic, so 2^n stays a normal float; a NaN
 * stays NaN.  float64 rows keep libm's exp.
 */
#ifndef MINIDL_SOFTMAX_ROW_H
#define MINIDL_SOFTMAX_ROW_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "portable.h"
#include "clones.h"

MINIDL_STATIC_INLINE float minidl_expf(float x)
{
    const float log2e = 1.44269504088896341f;
    const float ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;  /* ln2 = hi + lo */
    const float round_magic = 12582912.0f;  /* 1.5 * 2^23: adding it rounds to an integer */
    float n, r, r2, poly, scale;
    int32_t bits;

    float clamped = x < -87.0f ? -87.0f : x;
    n = (clamped * log2e + round_magic) - round_magic;  /* n = round(x / ln2) */
    r = (clamped - n * ln2_hi) - n * ln2_lo;      /* r = x - n ln2, in two steps for accuracy */
    r2 = r * r;
    poly = ((((1.9875691500e-4f * r + 1.3981999507e-3f) * r + 8.3334519073e-3f) * r
             + 4.1665795894e-2f) * r + 1.6666665459e-1f) * r + 5.0000001201e-1f;
    poly = poly * r2 + r + 1.0f;                  /* exp(r) */
    bits = ((int32_t)n + 127) << 23;              /* the float 2^n: exponent field n + 127 */
    memcpy(&scale, &bits, sizeof scale);
    return x < -87.0f ? 0.0f : poly * scale;
}

#define MINIDL_DEFINE_SOFTMAX_ROW(name, type, exp_fn, log_fn)                       \
    MINIDL_CLONES                                                                   \
    static type name(const type *z, type *p, ptrdiff_t c, type *top_out)            \
    {                                                                               \
        type top = z[0], total = 0;                                                 \
        ptrdiff_t j;                                                                \
        for (j = 1; j < c; j++)                                                     \
            top = z[j] > top ? z[j] : top;                                          \
        for (j = 0; j < c; j++)                                                     \
            p[j] = exp_fn(z[j] - top);                                              \
        for (j = 0; j < c; j++)                                                     \
            total += p[j];                                                          \
        for (j = 0; j < c; j++)                                                     \
            p[j] = p[j] / total;                                                    \
        *top_out = top;                                                             \
        return log_fn(total);                                                       \
    }

MINIDL_DEFINE_SOFTMAX_ROW(minidl_softmax_row_float, float, minidl_expf, logf)
MINIDL_DEFINE_SOFTMAX_ROW(minidl_softmax_row_double, double, exp, log)

#endif
