/* The optimizers' update rules over a run of weights, in C so each can be
 * cloned per instruction set (see clones.h): with AVX-512 a loop does 16
 * float32 weights per instruction instead of SSE2's 4.  ``restrict`` promises
 * the compiler that the buffers do not overlap (the kernels' checks refuse
 * overlapping ones), so it need not re-read memory after every write.
 * The rules (Keras's) are written out in reference.py; in short:
 *
 *   SGD        w -= lr g
 *   momentum   v = mom v - lr g;  w += v                (Nesterov: w += mom v - lr g)
 *   RMSprop    s = rho s + (1 - rho) g^2;  step = lr g / sqrt(s + eps)
 *              w -= step                               (momentum: m = mom m + step; w -= m)
 *   Adam       m += (1 - beta_1) (g - m);  v += (1 - beta_2) (g^2 - v)
 *              w -= lr_t m / (sqrt(v) + eps)
 */
#ifndef MINIDL_UPDATE_RULES_H
#define MINIDL_UPDATE_RULES_H

#include <math.h>
#include <stddef.h>
#include "clones.h"

#define MINIDL_DEFINE_SGD(name, type)                                                 \
MINIDL_CLONES                                                                         \
static void name(type *restrict w, const type *restrict g, type *restrict v,          \
                 ptrdiff_t n, type lr, type momentum, int nesterov)                   \
{                                                                                     \
    ptrdiff_t i;                                                                      \
    if (v == NULL) {                                                                  \
        for (i = 0; i < n; i++)                                                       \
            w[i] -= lr * g[i];                                                        \
    } else if (nesterov) {                                                            \
        for (i = 0; i < n; i++) {                                                     \
            type vi = momentum * v[i] - lr * g[i];                                    \
            v[i] = vi;                                                                \
            w[i] += momentum * vi - lr * g[i];                                        \
        }                                                                             \
    } else {                                                                          \
        for (i = 0; i < n; i++) {                                                     \
            type vi = momentum * v[i] - lr * g[i];                                    \
            v[i] = vi;                                                                \
            w[i] += vi;                                                               \
        }                                                                             \
    }                                                                                 \
}

#define MINIDL_DEFINE_RMSPROP(name, type, root)                                       \
MINIDL_CLONES                                                                         \
static void name(type *restrict w, const type *restrict g, type *restrict s,          \
                 type *restrict m, ptrdiff_t n, type lr, type rho, type momentum,     \
                 type epsilon)                                                        \
{                                                                                     \
    ptrdiff_t i;                                                                      \
    if (m == NULL) {                                                                  \
        for (i = 0; i < n; i++) {                                                     \
            type si = rho * s[i] + (1 - rho) * g[i] * g[i];                           \
            s[i] = si;                                                                \
            w[i] -= lr * g[i] / root(si + epsilon);                                   \
        }                                                                             \
    } else {                                                                          \
        for (i = 0; i < n; i++) {                                                     \
            type si = rho * s[i] + (1 - rho) * g[i] * g[i];                           \
            type mi = momentum * m[i] + lr * g[i] / root(si + epsilon);               \
            s[i] = si;                                                                \
            m[i] = mi;                                                                \
            w[i] -= mi;                                                               \
        }                                                                             \
    }                                                                                 \
}

#define MINIDL_DEFINE_ADAM(name, type, root)                                          \
MINIDL_CLONES                                                                         \
static void name(type *restrict w, const type *restrict g, type *restrict m,          \
                 type *restrict v, ptrdiff_t n, type lr_t, type one_minus_b1,         \
                 type one_minus_b2, type epsilon)                                     \
{                                                                                     \
    ptrdiff_t i;                                                                      \
    for (i = 0; i < n; i++) {                                                         \
        type gi = g[i];                                                               \
        type mi = m[i] + one_minus_b1 * (gi - m[i]);                                  \
        type vi = v[i] + one_minus_b2 * (gi * gi - v[i]);                             \
        m[i] = mi;                                                                    \
        v[i] = vi;                                                                    \
        w[i] -= lr_t * mi / (root(vi) + epsilon);                                     \
    }                                                                                 \
}

MINIDL_DEFINE_SGD(minidl_sgd_float, float)
MINIDL_DEFINE_SGD(minidl_sgd_double, double)
MINIDL_DEFINE_RMSPROP(minidl_rmsprop_float, float, sqrtf)
MINIDL_DEFINE_RMSPROP(minidl_rmsprop_double, double, sqrt)
MINIDL_DEFINE_ADAM(minidl_adam_float, float, sqrtf)
MINIDL_DEFINE_ADAM(minidl_adam_double, double, sqrt)

#endif
