/* What the kernels need from the C compiler, spelled for each one.
 *
 * The kernels are C99 with two kinds of extras: hints that change no result
 * (restrict, inline, unused, alignment) and GCC's vector extensions (a type
 * of W floats with + and * on all lanes at once; see isa.h).  GCC and clang
 * have all of them; MSVC has the hints under other names and no vector
 * extensions.  Every header includes this one and uses only these names:
 *
 *     MINIDL_RESTRICT       restrict (C99), __restrict on MSVC without /std:c11
 *     MINIDL_STATIC_INLINE  static inline (static __inline on old MSVC C)
 *     MINIDL_INLINE         static inline, forced where the compiler can be told
 *                           (clones.h needs helpers inlined into each clone)
 *     MINIDL_UNUSED         "this static function may go unused, do not warn"
 *     MINIDL_ALIGNED(n)     a variable aligned to n bytes (written before its
 *                           declaration: MINIDL_ALIGNED(64) float x[16];)
 *     MINIDL_VECTORS        defined when GCC vector extensions may be used:
 *                           GCC or clang, and no MINIDL_PLAIN_C
 *
 * MINIDL_PLAIN_C (``MINIDL_PLAIN_C=1 python setup.py build_ext``) builds as a
 * compiler without GCC's extensions would, on any compiler: every vector
 * kernel in its plain-C copy (one lane, see isa.h) and no per-CPU clones.  It
 * is how the MSVC build's code paths are tested on Linux.
 */
#ifndef MINIDL_PORTABLE_H
#define MINIDL_PORTABLE_H

#if (defined(__GNUC__) || defined(__clang__)) && !defined(MINIDL_PLAIN_C)
#define MINIDL_VECTORS 1
#endif

#if defined(__GNUC__) || defined(__clang__)
#define MINIDL_RESTRICT __restrict__
#define MINIDL_STATIC_INLINE static inline
#define MINIDL_INLINE static inline __attribute__((always_inline))
#define MINIDL_UNUSED __attribute__((unused))
#define MINIDL_ALIGNED(n) __attribute__((aligned(n)))
#elif defined(_MSC_VER)
#define MINIDL_RESTRICT __restrict
#define MINIDL_STATIC_INLINE static __inline
#define MINIDL_INLINE static __forceinline
#define MINIDL_UNUSED
#define MINIDL_ALIGNED(n) __declspec(align(n))
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 199901L
#define MINIDL_RESTRICT restrict
#define MINIDL_STATIC_INLINE static inline
#define MINIDL_INLINE static inline
#define MINIDL_UNUSED
#if __STDC_VERSION__ >= 201112L
#define MINIDL_ALIGNED(n) _Alignas(n)
#else
#define MINIDL_ALIGNED(n)
#endif
#else  /* C89: the hints are only hints */
#define MINIDL_RESTRICT
#define MINIDL_STATIC_INLINE static
#define MINIDL_INLINE static
#define MINIDL_UNUSED
#define MINIDL_ALIGNED(n)
#endif

#endif
