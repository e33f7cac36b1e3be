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
 *              w -= lr_t m / (sqrt(v) + eps)       (AMSGrad: max(vmax, v) for v)
 *   AdamW      w -= decay w  (decay = lr weight_decay), then Adam's step
 */
#ifndef MINIDL_UPDATE_RULES_H
#define MINIDL_UPDATE_RULES_H

#include <math.h>
#include <stddef.h>
#include "portable.h"
#include "clones.h"

#define MINIDL_DEFINE_SGD(name, type)                                                 \
MINIDL_CLONES                                                                         \
static void name(type *MINIDL_RESTRICT w, const type *MINIDL_RESTRICT g, type *MINIDL_RESTRICT v, \
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
static void name(type *MINIDL_RESTRICT w, const type *MINIDL_RESTRICT g, type *MINIDL_RESTRICT s, \
                 type *MINIDL_RESTRICT m, ptrdiff_t n, type lr, type rho, type momentum, \
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

/* Adam and AdamW: one rule.  AdamW (Loshchilov & Hutter) is Adam's step taken
 * after the decoupled weight decay w -= decay w; DECAY is how w enters the step:
 * MINIDL_NO_DECAY for Adam, MINIDL_DECOUPLED_DECAY for AdamW.  A non-NULL vmax is
 * AMSGrad: vmax = max(vmax, v) takes v's place in the denominator. */
#define MINIDL_ADAM_MOMENTS(type, i)  /* gi, and the new moments mi, vi (not yet stored) */ \
    type gi = g[i];                                                                   \
    type mi = m[i] + one_minus_b1 * (gi - m[i]);                                      \
    type vi = v[i] + one_minus_b2 * (gi * gi - v[i]);
#define MINIDL_NO_DECAY(w, decay) (w)
#define MINIDL_DECOUPLED_DECAY(w, decay) ((w) - (w) * (decay))

#define MINIDL_DEFINE_ADAM(name, type, root, DECAY)                                   \
MINIDL_CLONES                                                                         \
static void name(type *MINIDL_RESTRICT w, const type *MINIDL_RESTRICT g, type *MINIDL_RESTRICT m, \
                 type *MINIDL_RESTRICT v, type *MINIDL_RESTRICT vmax, ptrdiff_t n, type lr_t, \
                 type decay, type one_minus_b1, type one_minus_b2, type epsilon)      \
{                                                                                     \
    ptrdiff_t i;                                                                      \
    if (vmax == NULL) {                                                               \
        for (i = 0; i < n; i++) {                                                     \
            MINIDL_ADAM_MOMENTS(type, i)                                              \
            m[i] = mi;                                                                \
            v[i] = vi;                                                                \
            w[i] = DECAY(w[i], decay) - lr_t * mi / (root(vi) + epsilon);             \
        }                                                                             \
    } else {                                                                          \
        for (i = 0; i < n; i++) {                                                     \
            MINIDL_ADAM_MOMENTS(type, i)                                              \
            type hi = vmax[i] > vi ? vmax[i] : vi;                                    \
            m[i] = mi;                                                                \
            v[i] = vi;                                                                \
            vmax[i] = hi;                                                             \
            w[i] = DECAY(w[i], decay) - lr_t * mi / (root(hi) + epsilon);             \
        }                                                                             \
    }                                                                                 \
}

MINIDL_DEFINE_SGD(minidl_sgd_float, float)
MINIDL_DEFINE_SGD(minidl_sgd_double, double)
MINIDL_DEFINE_RMSPROP(minidl_rmsprop_float, float, sqrtf)
MINIDL_DEFINE_RMSPROP(minidl_rmsprop_double, double, sqrt)
MINIDL_DEFINE_ADAM(minidl_adam_float, float, sqrtf, MINIDL_NO_DECAY)
MINIDL_DEFINE_ADAM(minidl_adam_double, double, sqrt, MINIDL_NO_DECAY)
MINIDL_DEFINE_ADAM(minidl_adamw_float, float, sqrtf, MINIDL_DECOUPLED_DECAY)
MINIDL_DEFINE_ADAM(minidl_adamw_double, double, sqrt, MINIDL_DECOUPLED_DECAY)


/* The rules of Keras 2's other optimizers (tf_keras 2.21, src/optimizers/), in short
 * (reference.py spells each out):
 *
 *   Adagrad    a += g^2;  w -= lr g / sqrt(a + eps)
 *   Adadelta   a = rho a + (1 - rho) g^2;  d = -sqrt(D + eps) g / sqrt(a + eps)
 *              D = rho D + (1 - rho) d^2;  w += lr d
 *   Adamax     m += (1 - beta_1) (g - m);  u = max(beta_2 u, |g|);  w -= lr_t m / (u + eps)
 *   Nadam      m, v as Adam (MINIDL_ADAM_MOMENTS);
 *              w -= lr (m_scale m + g_scale g) / (sqrt(v_scale v) + eps)
 *   Ftrl       see MINIDL_DEFINE_FTRL
 */

#define MINIDL_DEFINE_ADAGRAD(name, type, root)                                       \
MINIDL_CLONES                                                                         \
static void name(type *MINIDL_RESTRICT w, const type *MINIDL_RESTRICT g, type *MINIDL_RESTRICT a, \
                 ptrdiff_t n, type lr, type epsilon)                                  \
{                                                                                     \
    ptrdiff_t i;                                                                      \
    for (i = 0; i < n; i++) {                                                         \
        type ai = a[i] + g[i] * g[i];                                                 \
        a[i] = ai;                                                                    \
        w[i] -= lr * g[i] / root(ai + epsilon);                                       \
    }                                                                                 \
}

#define MINIDL_DEFINE_ADADELTA(name, type, root)                                      \
MINIDL_CLONES                                                                         \
static void name(type *MINIDL_RESTRICT w, const type *MINIDL_RESTRICT g, type *MINIDL_RESTRICT a, \
                 type *MINIDL_RESTRICT d, ptrdiff_t n, type lr, type rho, type epsilon) \
{                                                                                     \
    ptrdiff_t i;                                                                      \
    for (i = 0; i < n; i++) {                                                         \
        type gi = g[i];                                                               \
        type ai = rho * a[i] + (1 - rho) * gi * gi;                                   \
        type delta = -root(d[i] + epsilon) * gi / root(ai + epsilon);                 \
        a[i] = ai;                                                                    \
        d[i] = rho * d[i] + (1 - rho) * delta * delta;                                \
        w[i] += lr * delta;                                                           \
    }                                                                                 \
}

#define MINIDL_DEFINE_ADAMAX(name, type, absolute)                                    \
MINIDL_CLONES                                                                         \
static void name(type *MINIDL_RESTRICT w, const type *MINIDL_RESTRICT g, type *MINIDL_RESTRICT m, \
                 type *MINIDL_RESTRICT u, ptrdiff_t n, type lr_t, type one_minus_b1,  \
                 type beta_2, type epsilon)                                           \
{                                                                                     \
    ptrdiff_t i;                                                                      \
    for (i = 0; i < n; i++) {                                                         \
        type gi = g[i];                                                               \
        type mi = m[i] + one_minus_b1 * (gi - m[i]);                                  \
        type decayed = beta_2 * u[i];                                                 \
        type size = absolute(gi);                                                     \
        type ui = decayed > size ? decayed : size;                                    \
        m[i] = mi;                                                                    \
        u[i] = ui;                                                                    \
        w[i] -= lr_t * mi / (ui + epsilon);                                           \
    }                                                                                 \
}

#define MINIDL_DEFINE_NADAM(name, type, root)                                         \
MINIDL_CLONES                                                                         \
static void name(type *MINIDL_RESTRICT w, const type *MINIDL_RESTRICT g, type *MINIDL_RESTRICT m, \
                 type *MINIDL_RESTRICT v, ptrdiff_t n, type lr, type one_minus_b1,    \
                 type one_minus_b2, type m_scale, type g_scale, type v_scale,         \
                 type epsilon)                                                        \
{                                                                                     \
    ptrdiff_t i;                                                                      \
    for (i = 0; i < n; i++) {                                                         \
        MINIDL_ADAM_MOMENTS(type, i)                                                  \
        m[i] = mi;                                                                    \
        v[i] = vi;                                                                    \
        w[i] -= lr * (m_scale * mi + g_scale * gi) / (root(v_scale * vi) + epsilon);  \
    }                                                                                 \
}

/* Ftrl ("follow the regularized leader", McMahan et al. 2013), Keras's form:
 *   g' = g + 2 l2_shrinkage w;   a' = a + g^2
 *   z += g' - (a'^-p - a^-p) / lr * w                   (z: the "linear" slot)
 *   q = a'^-p / lr + 2 (l2 + beta / (2 lr))
 *   w = (clip(z, -l1, l1) - z) / q;   a = a'
 * with p = learning_rate_power (-0.5 by default, when a^-p is sqrt(a)). */
#define MINIDL_DEFINE_FTRL(name, type, root, power)                                   \
MINIDL_CLONES                                                                         \
static void name(type *MINIDL_RESTRICT w, const type *MINIDL_RESTRICT g, type *MINIDL_RESTRICT a, \
                 type *MINIDL_RESTRICT z, ptrdiff_t n, type lr, type lr_power, type l1, \
                 type l2, type l2_shrinkage, type beta)                               \
{                                                                                     \
    ptrdiff_t i;                                                                      \
    type two_l2 = 2 * (l2 + beta / (2 * lr));                                         \
    int square_root = lr_power == (type)-0.5;                                         \
    for (i = 0; i < n; i++) {                                                         \
        type gi = g[i], wi = w[i], ai = a[i];                                         \
        type shrunk = gi + 2 * l2_shrinkage * wi;                                     \
        type new_a = ai + gi * gi;                                                    \
        type scaled_new = square_root ? root(new_a) : power(new_a, -lr_power);        \
        type scaled_old = square_root ? root(ai) : power(ai, -lr_power);              \
        type zi = z[i] + shrunk - (scaled_new - scaled_old) / lr * wi;                \
        type clipped = zi < -l1 ? -l1 : (zi > l1 ? l1 : zi);                          \
        z[i] = zi;                                                                    \
        a[i] = new_a;                                                                 \
        w[i] = (clipped - zi) / (scaled_new / lr + two_l2);                           \
    }                                                                                 \
}

MINIDL_DEFINE_ADAGRAD(minidl_adagrad_float, float, sqrtf)
MINIDL_DEFINE_ADAGRAD(minidl_adagrad_double, double, sqrt)
MINIDL_DEFINE_ADADELTA(minidl_adadelta_float, float, sqrtf)
MINIDL_DEFINE_ADADELTA(minidl_adadelta_double, double, sqrt)
MINIDL_DEFINE_ADAMAX(minidl_adamax_float, float, fabsf)
MINIDL_DEFINE_ADAMAX(minidl_adamax_double, double, fabs)
MINIDL_DEFINE_NADAM(minidl_nadam_float, float, sqrtf)
MINIDL_DEFINE_NADAM(minidl_nadam_double, double, sqrt)
MINIDL_DEFINE_FTRL(minidl_ftrl_float, float, sqrtf, powf)
MINIDL_DEFINE_FTRL(minidl_ftrl_double, double, sqrt, pow)

#endif
