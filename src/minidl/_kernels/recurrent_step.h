/* The element-wise work of one recurrent step, for one row of the batch.
 *
 * Written as short passes over contiguous arrays, each with its activation
 * chosen OUTSIDE the loop, so GCC turns every pass into vector instructions
 * (per instruction set: clones.h).  The gates' sigmoid and tanh are what
 * costs: glibc's scalar tanhf took ~60% of an LSTM step.  So in float32 they
 * use minidl_expf below (plain arithmetic, which vectorizes; relative error
 * under 2e-7, about one float32 rounding) with
 *     sigmoid(z) = 1 / (1 + e^-z),   tanh(z) = 1 - 2 / (1 + e^2z);
 * float64 (used by gradient checks) keeps libm's exp and tanh.
 *
 * Activation codes: activation_codes.h (hard_sigmoid is clip(0.2 z + 0.5, 0, 1),
 * Keras 2's).  Slopes are written in terms of
 * the output y = act(z) (see reference.py).  The equations of each step are
 * in reference.py (lstm_step_forward, gru_step_forward, rnn_step_forward).
 */
#ifndef MINIDL_RECURRENT_STEP_H
#define MINIDL_RECURRENT_STEP_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "portable.h"
#include "activation_codes.h"
#include "clones.h"

/* e^x in float32: x = k ln2 + r with |r| <= ln2 / 2, e^r by its Taylor
 * polynomial to r^7 (Horner), 2^k put straight into the exponent bits. */
MINIDL_INLINE float minidl_expf(float x)
{
    const float log2e = 1.44269504088896341f;
    const float ln2_hi = 0.693359375f, ln2_lo = -2.12194440e-4f;  /* ln2 in two parts */
    const float round = 12582912.0f;  /* 1.5 * 2^23: adding it rounds to an integer */
    float k, r, p, scale;
    int32_t bits;
    /* (one comparison each: a vector min and max; written so that a NaN stays NaN) */
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    k = (x * log2e + round) - round;
    r = x - k * ln2_hi - k * ln2_lo;
    p = 1.0f / 5040 * r + 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    bits = (int32_t)((uint32_t)((int32_t)k + 127) << 23);  /* (any bits for a NaN: p is NaN) */
    memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

MINIDL_INLINE float minidl_sigmoidf(float z) { return 1.0f / (1.0f + minidl_expf(-z)); }
MINIDL_INLINE float minidl_tanhf(float z)
{
    z = z < -9.0f ? -9.0f : z;  /* tanh(9) is 1 in float32; a NaN stays NaN */
    z = z > 9.0f ? 9.0f : z;
    return 1.0f - 2.0f / (1.0f + minidl_expf(2.0f * z));
}
MINIDL_INLINE double minidl_sigmoid(double z)
{
    z = z < -700 ? -700 : z;
    return 1.0 / (1.0 + exp(-z));
}

#define MINIDL_DEFINE_RECURRENT(type, suffix, sigmoid_fn, tanh_fn)                         \
/* y = act(z), in place, over n values */                                                  \
MINIDL_INLINE void minidl_rec_act_##suffix(type *MINIDL_RESTRICT x, ptrdiff_t n, int code) \
{                                                                                          \
    ptrdiff_t j;                                                                           \
    if (code == MINIDL_RELU) {                                                             \
        for (j = 0; j < n; j++) x[j] = x[j] < 0 ? 0 : x[j];  /* a NaN stays NaN */          \
    } else if (code == MINIDL_SIGMOID) {                                                   \
        for (j = 0; j < n; j++) x[j] = sigmoid_fn(x[j]);                                   \
    } else if (code == MINIDL_TANH) {                                                      \
        for (j = 0; j < n; j++) x[j] = tanh_fn(x[j]);                                      \
    } else if (code == MINIDL_HARD_SIGMOID) {                                              \
        for (j = 0; j < n; j++) {                                                          \
            type y = (type)0.2 * x[j] + (type)0.5;                                         \
            x[j] = y < 0 ? 0 : (y > 1 ? 1 : y);                                            \
        }                                                                                  \
    }                                                                                      \
}                                                                                          \
                                                                                           \
/* out = act'(z) from y = act(z), over n values */                                         \
MINIDL_INLINE void minidl_rec_slope_##suffix(const type *MINIDL_RESTRICT y, type *MINIDL_RESTRICT out, \
                                             ptrdiff_t n, int code)                        \
{                                                                                          \
    ptrdiff_t j;                                                                           \
    if (code == MINIDL_RELU) {                                                             \
        for (j = 0; j < n; j++) out[j] = (type)(y[j] > 0);                                 \
    } else if (code == MINIDL_SIGMOID) {                                                   \
        for (j = 0; j < n; j++) out[j] = y[j] * (1 - y[j]);                                \
    } else if (code == MINIDL_TANH) {                                                      \
        for (j = 0; j < n; j++) out[j] = 1 - y[j] * y[j];                                  \
    } else if (code == MINIDL_HARD_SIGMOID) {                                              \
        for (j = 0; j < n; j++) out[j] = (type)0.2 * (type)(y[j] > 0 && y[j] < 1);         \
    } else {                                                                               \
        for (j = 0; j < n; j++) out[j] = 1;                                                \
    }                                                                                      \
}                                                                                          \
                                                                                           \
/* gates (4u): z in, i f g o out; c, h (u) out */                                          \
MINIDL_CLONES MINIDL_UNUSED                                                               \
static void minidl_lstm_forward_row_##suffix(type *MINIDL_RESTRICT gates,                  \
        const type *MINIDL_RESTRICT c_prev, type *MINIDL_RESTRICT c, type *MINIDL_RESTRICT h, ptrdiff_t u, \
        int act, int ract)                                                                 \
{                                                                                          \
    ptrdiff_t j;                                                                           \
    minidl_rec_act_##suffix(gates, 2 * u, ract);                                           \
    minidl_rec_act_##suffix(gates + 2 * u, u, act);                                        \
    minidl_rec_act_##suffix(gates + 3 * u, u, ract);                                       \
    for (j = 0; j < u; j++) {                                                              \
        c[j] = gates[u + j] * c_prev[j] + gates[j] * gates[2 * u + j];                     \
        h[j] = c[j];                                                                       \
    }                                                                                      \
    minidl_rec_act_##suffix(h, u, act);                                                    \
    for (j = 0; j < u; j++) h[j] *= gates[3 * u + j];                                      \
}                                                                                          \
                                                                                           \
/* dL/dz of the gates, dL/dc_prev; grad_h_prev = 0 (its first u values serve as           \
 * scratch for act(c) before that) */                                                      \
MINIDL_CLONES MINIDL_UNUSED                                                               \
static void minidl_lstm_backward_row_##suffix(const type *MINIDL_RESTRICT gates,           \
        const type *MINIDL_RESTRICT c_prev, const type *MINIDL_RESTRICT c, const type *MINIDL_RESTRICT grad_h, \
        const type *MINIDL_RESTRICT grad_c, type *MINIDL_RESTRICT grad_gates,              \
        type *MINIDL_RESTRICT grad_c_prev, type *MINIDL_RESTRICT grad_h_prev, ptrdiff_t u, int act, \
        int ract)                                                                          \
{                                                                                          \
    ptrdiff_t j;                                                                           \
    type *a = grad_h_prev, *a_slope = grad_c_prev;                                         \
    minidl_rec_slope_##suffix(gates, grad_gates, 2 * u, ract);                             \
    minidl_rec_slope_##suffix(gates + 2 * u, grad_gates + 2 * u, u, act);                  \
    minidl_rec_slope_##suffix(gates + 3 * u, grad_gates + 3 * u, u, ract);                 \
    memcpy(a, c, (size_t)u * sizeof(type));                                                \
    minidl_rec_act_##suffix(a, u, act);                                                    \
    minidl_rec_slope_##suffix(a, a_slope, u, act);                                         \
    for (j = 0; j < u; j++) {                                                              \
        type i = gates[j], f = gates[u + j], g = gates[2 * u + j], o = gates[3 * u + j];   \
        type dc = grad_c[j] + grad_h[j] * o * a_slope[j];                                  \
        grad_gates[3 * u + j] *= grad_h[j] * a[j];                                         \
        grad_gates[j] *= dc * g;                                                           \
        grad_gates[u + j] *= dc * c_prev[j];                                               \
        grad_gates[2 * u + j] *= dc * i;                                                   \
        grad_c_prev[j] = dc * f;                                                           \
        grad_h_prev[j] = 0;                                                                \
    }                                                                                      \
}                                                                                          \
                                                                                           \
/* gates (3u): x W + b_in in, z r hh out; rec (3u) = h_prev U + b_rec; h out */            \
MINIDL_CLONES MINIDL_UNUSED                                                               \
static void minidl_gru_forward_row_##suffix(type *MINIDL_RESTRICT gates,                   \
        const type *MINIDL_RESTRICT rec, const type *MINIDL_RESTRICT h_prev, type *MINIDL_RESTRICT h, \
        ptrdiff_t u, int act, int ract)                                                    \
{                                                                                          \
    ptrdiff_t j;                                                                           \
    for (j = 0; j < 2 * u; j++) gates[j] += rec[j];                                        \
    minidl_rec_act_##suffix(gates, 2 * u, ract);                                           \
    for (j = 0; j < u; j++) gates[2 * u + j] += gates[u + j] * rec[2 * u + j];             \
    minidl_rec_act_##suffix(gates + 2 * u, u, act);                                        \
    for (j = 0; j < u; j++)                                                                \
        h[j] = gates[j] * h_prev[j] + (1 - gates[j]) * gates[2 * u + j];                   \
}                                                                                          \
                                                                                           \
MINIDL_CLONES MINIDL_UNUSED                                                               \
static void minidl_gru_backward_row_##suffix(const type *MINIDL_RESTRICT gates,            \
        const type *MINIDL_RESTRICT rec, const type *MINIDL_RESTRICT h_prev, const type *MINIDL_RESTRICT grad_h, \
        type *MINIDL_RESTRICT grad_gates, type *MINIDL_RESTRICT grad_rec, type *MINIDL_RESTRICT grad_h_prev, \
        ptrdiff_t u, int act, int ract)                                                    \
{                                                                                          \
    ptrdiff_t j;                                                                           \
    minidl_rec_slope_##suffix(gates, grad_gates, 2 * u, ract);                             \
    minidl_rec_slope_##suffix(gates + 2 * u, grad_gates + 2 * u, u, act);                  \
    for (j = 0; j < u; j++) {                                                              \
        type z = gates[j], r = gates[u + j], hh = gates[2 * u + j], gh = grad_h[j];        \
        type dz = gh * (h_prev[j] - hh) * grad_gates[j];                                   \
        type dhh = gh * (1 - z) * grad_gates[2 * u + j];                                   \
        type dr = dhh * rec[2 * u + j] * grad_gates[u + j];                                \
        grad_gates[j] = dz;                                                                \
        grad_gates[u + j] = dr;                                                            \
        grad_gates[2 * u + j] = dhh;                                                       \
        grad_rec[j] = dz;                                                                  \
        grad_rec[u + j] = dr;                                                              \
        grad_rec[2 * u + j] = dhh * r;                                                     \
        grad_h_prev[j] = gh * z;                                                           \
    }                                                                                      \
}                                                                                          \
                                                                                           \
MINIDL_CLONES MINIDL_UNUSED                                                               \
static void minidl_rnn_forward_row_##suffix(type *MINIDL_RESTRICT pre, ptrdiff_t u, int act) \
{                                                                                          \
    minidl_rec_act_##suffix(pre, u, act);                                                  \
}                                                                                          \
                                                                                           \
MINIDL_CLONES MINIDL_UNUSED                                                               \
static void minidl_rnn_backward_row_##suffix(const type *MINIDL_RESTRICT h,                \
        const type *MINIDL_RESTRICT grad_h, type *MINIDL_RESTRICT grad_pre, type *MINIDL_RESTRICT grad_h_prev, \
        ptrdiff_t u, int act)                                                              \
{                                                                                          \
    ptrdiff_t j;                                                                           \
    minidl_rec_slope_##suffix(h, grad_pre, u, act);                                        \
    for (j = 0; j < u; j++) {                                                              \
        grad_pre[j] *= grad_h[j];                                                          \
        grad_h_prev[j] = 0;                                                                \
    }                                                                                      \
}

MINIDL_DEFINE_RECURRENT(float, float, minidl_sigmoidf, minidl_tanhf)
MINIDL_DEFINE_RECURRENT(double, double, minidl_sigmoid, tanh)

#endif
