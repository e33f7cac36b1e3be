/* One copy of a kernel per instruction set, with vectors as wide as its registers.
 *
 * GCC's vector extensions let C say "16 floats at once" (a type with
 * vector_size(64)).  When the instruction set has registers that wide (AVX-512)
 * such a value lives in one register; when it does not (AVX2 has 8 floats per
 * register, SSE2 4) GCC keeps it in memory and every operation goes through the
 * stack -- measured 5-10x slower than the same loop written for 8 floats.  So a
 * kernel with explicit vectors is written once, as a macro over its vector type
 * and width, and compiled three times:
 *
 *     isa      registers            vector (float, double)   target
 *     base     16 x 128 bits (SSE2)  4, 2                     any x86-64 (and others)
 *     avx2     16 x 256 bits         8, 4                     AVX2 + FMA
 *     avx512   32 x 512 bits         16, 8                    AVX-512F
 *
 * MINIDL_INSTANTIATE(DEFINE) expands DEFINE(type, suffix, isa, vec, W, TARGET,
 * WIDE) once per copy: ``isa`` names the copy (float_avx2, ...), ``W`` is the
 * vector's lane count, TARGET the function attribute that lets GCC use the
 * instruction set, WIDE whether there are 32 registers (register blocking can be
 * twice as big).  MINIDL_DISPATCH runs the copy this CPU has (minidl_isa()), which
 * a test can override (minidl_chosen_isa) to check every copy on one machine.
 * (Loops without explicit vectors use clones.h instead: one source, and GCC picks
 * the width per clone.)
 *
 * Where GCC's vector extensions are missing (MSVC, or MINIDL_PLAIN_C: see
 * portable.h) the one copy is the plain-C one: ``vec`` is the scalar type itself
 * and W = 1, so the same kernel source runs lane by lane with ordinary
 * arithmetic.  The few operations C has no operator for go through macros with a
 * vector and a scalar definition:
 *
 *     MINIDL_LANE(v, k)        lane k of v (a scalar: v itself, k is 0)
 *     MINIDL_RELUV(a)          max(a, +0) on every lane (NaN stays NaN)
 *     MINIDL_MASKV(vec, c)     1 where the comparison c holds, else 0, as a vec
 */
#ifndef MINIDL_ISA_H
#define MINIDL_ISA_H

#include "portable.h"

#ifdef MINIDL_VECTORS
typedef float minidl_v4f __attribute__((vector_size(16)));
typedef double minidl_v2d __attribute__((vector_size(16)));

#define MINIDL_LANE(v, k) ((v)[k])
/* a's bits except where a < 0 (the comparison gives all-ones lanes), there +0: a NaN
 * stays NaN, as in Keras and PyTorch */
#define MINIDL_RELUV(a) ((__typeof__(a))((__typeof__((a) < 0))(a) & ~((a) < 0)))
/* a comparison's lanes are -1 (true) or 0: negated and converted, 1.0 or 0.0 */
#define MINIDL_MASKV(vec, c) (-__builtin_convertvector(c, vec))
#else
#define MINIDL_LANE(v, k) (v)
#define MINIDL_RELUV(a) ((a) < 0 ? 0 : (a))
#define MINIDL_MASKV(vec, c) ((vec)(c))
#endif

#if defined(MINIDL_VECTORS) && defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define MINIDL_ISAS 1
typedef float minidl_v8f __attribute__((vector_size(32)));
typedef double minidl_v4d __attribute__((vector_size(32)));
typedef float minidl_v16f __attribute__((vector_size(64)));
typedef double minidl_v8d __attribute__((vector_size(64)));
#define MINIDL_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define MINIDL_TARGET_AVX512 __attribute__((target("avx512f")))
#define MINIDL_INSTANTIATE_X86(DEFINE)                                                  \
    DEFINE(float, float, float_avx2, minidl_v8f, 8, MINIDL_TARGET_AVX2, 0)              \
    DEFINE(double, double, double_avx2, minidl_v4d, 4, MINIDL_TARGET_AVX2, 0)           \
    DEFINE(float, float, float_avx512, minidl_v16f, 16, MINIDL_TARGET_AVX512, 1)        \
    DEFINE(double, double, double_avx512, minidl_v8d, 8, MINIDL_TARGET_AVX512, 1)
#else
#define MINIDL_INSTANTIATE_X86(DEFINE)
#endif

#ifdef MINIDL_VECTORS
#define MINIDL_INSTANTIATE(DEFINE)                                                      \
    DEFINE(float, float, float_base, minidl_v4f, 4, , 0)                                \
    DEFINE(double, double, double_base, minidl_v2d, 2, , 0)                             \
    MINIDL_INSTANTIATE_X86(DEFINE)
#else  /* the plain-C copy: one lane, the scalar type as the "vector" */
#define MINIDL_INSTANTIATE(DEFINE)                                                      \
    DEFINE(float, float, float_base, float, 1, , 0)                                     \
    DEFINE(double, double, double_base, double, 1, , 0)
#endif

/* the best copy this CPU can run: 2 AVX-512, 1 AVX2 with FMA, 0 the baseline.
 * Asked once (conv.pyx asks at import, before any thread runs a kernel); the answer
 * is stored whole, never an intermediate value another thread could read. */
static int minidl_cpu_isa(void)
{
    static int isa = -1;
    if (isa < 0) {
        int found = 0;
#ifdef MINIDL_ISAS
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f"))
            found = 2;
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
            found = 1;
#endif
        isa = found;
    }
    return isa;
}

/* the copy to run: this CPU's best, unless a test asked for another (>= 0) */
static int minidl_chosen_isa = -1;

MINIDL_STATIC_INLINE int minidl_isa(void)
{
    return minidl_chosen_isa >= 0 ? minidl_chosen_isa : minidl_cpu_isa();
}

/* call function_<type>_<isa> args, for the copy minidl_isa() names */
#ifdef MINIDL_ISAS
#define MINIDL_DISPATCH(function, type, args)                                           \
    switch (minidl_isa()) {                                                             \
    case 2: function##_##type##_avx512 args; break;                                     \
    case 1: function##_##type##_avx2 args; break;                                       \
    default: function##_##type##_base args;                                             \
    }
#else
#define MINIDL_DISPATCH(function, type, args) function##_##type##_base args;
#endif

#endif
