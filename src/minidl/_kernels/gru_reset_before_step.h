/* The element-wise work of one step of Keras's GRU with reset_after=False, one row.
 *
 * In this form (Keras 1's GRU, Keras 2's reset_after=False) the reset gate
 * multiplies h_{t-1} BEFORE its product with the candidate's recurrent kernel,
 * so a step is two element-wise passes with a matrix product between them:
 *
 *     gates pass:  z = sigma(x_z + h U_z),  r = sigma(x_r + h U_r),  rh = r * h
 *     (product)    rec_h = rh U_h
 *     state pass:  hh = tanh(x_h + rec_h),  h_t = z * h_{t-1} + (1 - z) * hh
 *
 * (h is h_{t-1} times the recurrent dropout mask, h_{t-1} itself without one.)
 * Backward runs them in reverse, again around a product:
 *
 *     candidate pass:  dhh = dh * (1 - z) * tanh'(hh)
 *     (product)        d(rh) = dhh U_h^T
 *     gates pass:      dz = dh * (h_{t-1} - hh) * sigma'(z),  dr = d(rh) * h * sigma'(r),
 *                      dL/dh (through rh) = d(rh) * r,  dL/dh_{t-1} (direct) = dh * z
 *
 * The activations and their slopes are recurrent_step.h's (activation codes as
 * there); the NumPy twins and the shapes are in reference.py
 * (gru_reset_before_gates_forward and the three after it).
 */
#ifndef MINIDL_GRU_RESET_BEFORE_STEP_H
#define MINIDL_GRU_RESET_BEFORE_STEP_H

#include "recurrent_step.h"

#define MINIDL_DEFINE_GRU_RESET_BEFORE(type, suffix)                                       \
/* gates (3u): x W + b in, z r out in the first 2u (the candidate's u untouched);         \
 * rec (2u) = h U_zr; reset_h (u) = r * h */                                               \
MINIDL_CLONES                                                                              \
static void minidl_gru_rb_gates_forward_row_##suffix(type *MINIDL_RESTRICT gates,          \
        const type *MINIDL_RESTRICT rec, const type *MINIDL_RESTRICT h,                    \
        type *MINIDL_RESTRICT reset_h, ptrdiff_t u, int ract)                              \
{                                                                                          \
    ptrdiff_t j;                                                                           \
    for (j = 0; j < 2 * u; j++) gates[j] += rec[j];                                        \
    minidl_rec_act_##suffix(gates, 2 * u, ract);                                           \
    for (j = 0; j < u; j++) reset_h[j] = gates[u + j] * h[j];                              \
}                                                                                          \
                                                                                           \
/* gates: z in the first u, x_h in the last u (hh out); rec_h (u) = reset_h U_h; h out */  \
MINIDL_CLONES                                                                              \
static void minidl_gru_rb_state_forward_row_##suffix(type *MINIDL_RESTRICT gates,          \
        const type *MINIDL_RESTRICT rec_h, const type *MINIDL_RESTRICT h_prev,             \
        type *MINIDL_RESTRICT h, ptrdiff_t u, int act)                                     \
{                                                                                          \
    ptrdiff_t j;                                                                           \
    type *cand = gates + 2 * u;                                                            \
    for (j = 0; j < u; j++) cand[j] += rec_h[j];                                           \
    minidl_rec_act_##suffix(cand, u, act);                                                 \
    for (j = 0; j < u; j++) h[j] = gates[j] * h_prev[j] + (1 - gates[j]) * cand[j];        \
}                                                                                          \
                                                                                           \
/* grad_cand (u) = dh * (1 - z) * act'(hh) */                                              \
MINIDL_CLONES                                                                              \
static void minidl_gru_rb_candidate_backward_row_##suffix(const type *MINIDL_RESTRICT gates, \
        const type *MINIDL_RESTRICT grad_h, type *MINIDL_RESTRICT grad_cand, ptrdiff_t u,  \
        int act)                                                                           \
{                                                                                          \
    ptrdiff_t j;                                                                           \
    minidl_rec_slope_##suffix(gates + 2 * u, grad_cand, u, act);                           \
    for (j = 0; j < u; j++) grad_cand[j] *= grad_h[j] * (1 - gates[j]);                    \
}                                                                                          \
                                                                                           \
/* grad_gates (2u) = dz, dr; grad_dropped (u) = d(rh) * r; grad_h_prev (u) = dh * z.      \
 * h_prev and h may be the same array (no recurrent dropout): both are only read. */      \
MINIDL_CLONES                                                                              \
static void minidl_gru_rb_gates_backward_row_##suffix(const type *MINIDL_RESTRICT gates,   \
        const type *h_prev, const type *h, const type *MINIDL_RESTRICT grad_h,             \
        const type *MINIDL_RESTRICT grad_reset_h, type *MINIDL_RESTRICT grad_gates,        \
        type *MINIDL_RESTRICT grad_dropped, type *MINIDL_RESTRICT grad_h_prev, ptrdiff_t u, \
        int ract)                                                                          \
{                                                                                          \
    ptrdiff_t j;                                                                           \
    minidl_rec_slope_##suffix(gates, grad_gates, 2 * u, ract);                             \
    for (j = 0; j < u; j++) {                                                              \
        type z = gates[j], r = gates[u + j], hh = gates[2 * u + j];                        \
        grad_gates[j] *= grad_h[j] * (h_prev[j] - hh);                                     \
        grad_gates[u + j] *= grad_reset_h[j] * h[j];                                       \
        grad_dropped[j] = grad_reset_h[j] * r;                                             \
        grad_h_prev[j] = grad_h[j] * z;                                                    \
    }                                                                                      \
}

MINIDL_DEFINE_GRU_RESET_BEFORE(float, float)
MINIDL_DEFINE_GRU_RESET_BEFORE(double, double)

#endif
