/* The dense kernels' element-wise passes, in C so each can be cloned per
 * instruction set (clones.h) and promised non-overlapping buffers
 * (``restrict``; the kernels' checks refuse overlapping ones).
 *
 * minidl_epilogue:   out = act(out + bias)        over a (rows, cols) block
 * minidl_act_grad:   grad_z = grad * act'(z)      written in terms of y = act(z):
 *                    relu' = [y > 0], sigmoid' = y (1 - y), tanh' = 1 - y^2
 * Activation codes: activation_codes.h.
 * relu is a multiplication by 0 or 1, not a branch: vector code, and no
 * mispredictions on random signs.
 */
#ifndef MINIDL_ACTIVATION_H
#define MINIDL_ACTIVATION_H

#include <math.h>
#include <stddef.h>

#include "portable.h"
#include "activation_codes.h"
#include "clones.h"

#define MINIDL_DEFINE_ACTIVATION(type, suffix, exp_fn, tanh_fn)                         \
MINIDL_CLONES                                                                           \
static void minidl_epilogue_##suffix(type *MINIDL_RESTRICT out, ptrdiff_t rows, ptrdiff_t cols, \
                                     const type *MINIDL_RESTRICT bias, int activation)  \
{                                                                                       \
    ptrdiff_t i, j, size = rows * cols;                                                 \
    if (bias != NULL)                                                                   \
        for (i = 0; i < rows; i++)                                                      \
            for (j = 0; j < cols; j++)                                                  \
                out[i * cols + j] += bias[j];                                           \
    if (activation == MINIDL_RELU) {                                                    \
        for (i = 0; i < size; i++)                                                      \
            out[i] = out[i] < 0 ? 0 : out[i];  /* a NaN stays NaN */                     \
    } else if (activation == MINIDL_SIGMOID) {                                          \
        for (i = 0; i < size; i++) {                                                    \
            type z = out[i] < -80 ? -80 : out[i];  /* exp(80) is the largest we allow */ \
            out[i] = 1 / (1 + exp_fn(-z));                                              \
        }                                                                               \
    } else if (activation == MINIDL_TANH) {                                             \
        for (i = 0; i < size; i++)                                                      \
            out[i] = tanh_fn(out[i]);                                                   \
    }                                                                                   \
}                                                                                       \
                                                                                        \
MINIDL_CLONES MINIDL_UNUSED                                                             \
static void minidl_act_grad_##suffix(const type *MINIDL_RESTRICT y, const type *MINIDL_RESTRICT grad, \
                                     type *MINIDL_RESTRICT grad_z, ptrdiff_t size,      \
                                     int activation)                                    \
{                                                                                       \
    ptrdiff_t i;                                                                        \
    if (activation == MINIDL_RELU) {                                                    \
        for (i = 0; i < size; i++)                                                      \
            grad_z[i] = grad[i] * (type)(y[i] > 0);                                     \
    } else if (activation == MINIDL_SIGMOID) {                                          \
        for (i = 0; i < size; i++)                                                      \
            grad_z[i] = grad[i] * y[i] * (1 - y[i]);                                    \
    } else if (activation == MINIDL_TANH) {                                             \
        for (i = 0; i < size; i++)                                                      \
            grad_z[i] = grad[i] * (1 - y[i] * y[i]);                                    \
    } else {                                                                            \
        for (i = 0; i < size; i++)                                                      \
            grad_z[i] = grad[i];                                                        \
    }                                                                                   \
}

MINIDL_DEFINE_ACTIVATION(float, float, expf, tanhf)
MINIDL_DEFINE_ACTIVATION(double, double, exp, tanh)

#endif
