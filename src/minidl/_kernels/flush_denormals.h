/* Subnormal floats flushed to zero while the recurrent kernels (an LSTM's time loop,
 * the step kernels, packed_gemm) and every BLAS product run, as TensorFlow does for
 * every op on the CPU.
 *
 * Backpropagation through a long sequence multiplies the gradient by a forget gate
 * (< 1) at every step, so after ~100 steps it falls below float32's smallest normal
 * value (1.2e-38) into the subnormals, which x86 processors compute ~100 times slower:
 * an LSTM over 200 steps took 10 times as long.  With the SSE control register's FTZ
 * (results) and DAZ (inputs) bits set, such values are 0 instead, the difference at most
 * 1.2e-38.  minidl_flush_begin sets them on the calling thread and returns the old
 * setting for minidl_flush_end to put back: each thread that computes (the OpenMP
 * workers too) sets and restores its own, so the result is the same on any number of
 * threads and nothing outside the kernel changes.  Elsewhere (ARM) both do nothing.
 */
#ifndef MINIDL_FLUSH_DENORMALS_H
#define MINIDL_FLUSH_DENORMALS_H

#include "portable.h"

#if defined(__SSE2__) || defined(_M_X64) || defined(_M_AMD64)
#include <xmmintrin.h>
#define MINIDL_FTZ_DAZ 0x8040u  /* flush to zero (bit 15), denormals are zero (bit 6) */

MINIDL_UNUSED static unsigned int minidl_flush_begin(void)
{
    unsigned int old = _mm_getcsr();
    _mm_setcsr(old | MINIDL_FTZ_DAZ);
    return old;
}

MINIDL_UNUSED static void minidl_flush_end(unsigned int old) { _mm_setcsr(old); }
#else
MINIDL_UNUSED static unsigned int minidl_flush_begin(void) { return 0; }
MINIDL_UNUSED static void minidl_flush_end(unsigned int old) { (void)old; }
#endif

#endif
