/* OpenMP's thread count, read and set by the runtime the kernels were built with.
 *
 * Compiled with OpenMP (_OPENMP defined: GCC's libgomp, LLVM's libomp, MSVC's
 * vcomp), these call that runtime, the same one every kernel module loads.
 * Compiled without it (Apple clang without libomp, say), the kernels run on
 * one thread: the count is 1 and setting it does nothing.
 */
#ifndef MINIDL_OPENMP_THREADS_H
#define MINIDL_OPENMP_THREADS_H

#include "portable.h"

#ifdef _OPENMP
#include <omp.h>

MINIDL_UNUSED static int minidl_openmp_enabled(void) { return 1; }
MINIDL_UNUSED static int minidl_openmp_max_threads(void) { return omp_get_max_threads(); }
MINIDL_UNUSED static void minidl_openmp_set_threads(int n) { omp_set_num_threads(n); }
/* inside a parallel region: how many threads run it, and wait for all of them */
MINIDL_UNUSED static int minidl_openmp_team_size(void) { return omp_get_num_threads(); }
MINIDL_UNUSED static void minidl_openmp_barrier(void)
{
#pragma omp barrier
}

#else

MINIDL_UNUSED static int minidl_openmp_enabled(void) { return 0; }
MINIDL_UNUSED static int minidl_openmp_max_threads(void) { return 1; }
MINIDL_UNUSED static void minidl_openmp_set_threads(int n) { (void)n; }
MINIDL_UNUSED static int minidl_openmp_team_size(void) { return 1; }
MINIDL_UNUSED static void minidl_openmp_barrier(void) {}

#endif
#endif
