/* MINIDL_CLONES: compile a function once per instruction set and let the
 * loader pick the best one for this CPU (GCC's target_clones, on Linux x86-64).
 * The default build must run on any x86-64 (SSE2); AVX2 and AVX-512 machines
 * then still get their wide vector instructions, from the same wheel.
 * Elsewhere it expands to nothing and the plain version is used.
 * This suits plain loops, which GCC vectorizes at each clone's width.  Loops
 * written with explicit vector types need one width per instruction set:
 * see isa.h.
 */
#ifndef MINIDL_CLONES_H
#define MINIDL_CLONES_H

#include "portable.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__) \
    && !defined(MINIDL_PLAIN_C)
#define MINIDL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define MINIDL_CLONES
#endif

/* MINIDL_INLINE (portable.h): a helper that must be inlined into each clone, so
 * that it is compiled for that clone's instruction set (a helper left as a call
 * would be compiled once, for the plain x86-64 of the default build). */

#endif
