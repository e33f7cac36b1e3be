# cython: language_level=3
"""String hashes, bit for bit as TensorFlow computes them (the Hashing layers).

Both take N strings laid end to end: ``data`` (B,) uint8 holds their bytes,
string i is ``data[offsets[i]:offsets[i + 1]]``, and ``out[i]`` (uint64) gets
its hash:

    fingerprint64(data, offsets, out)           FarmHash's Fingerprint64
                                                (tf.strings.to_hash_bucket_fast)
    siphash64(data, offsets, key0, key1, out)   SipHash-2-4 keyed by two 64-bit words
                                                (tf.strings.to_hash_bucket_strong)

Fingerprint64 (farmhashna::Hash64) reads the string in 8-byte little-endian
words and mixes them with multiplications by three odd constants, rotations
and ``x ^ (x >> 47)``; strings of 0-16, 17-32, 33-64 bytes each have their
own short formula, longer ones go through a loop over 64-byte blocks with 56
bytes of state.  SipHash-2-4 adds each 8-byte word into four state words, two
rounds of add-rotate-xor per word, four more at the end.  All arithmetic is on
uint64 and wraps around, as C's unsigned arithmetic does.  reference.py has
both in Python, step by step; this file is the same code on C integers.

One thread: a short string costs a few nanoseconds, so the whole of
25,000 reviews x 200 tokens hashes in a fraction of a second, less than it
takes Python to lay the strings end to end.
"""

from libc.stdint cimport int64_t, uint8_t, uint32_t, uint64_t

from minidl._kernels.checks import check_hash_key, check_string_hash

cdef uint64_t K0 = 0xC3A5C85C97CB3127ULL
cdef uint64_t K1 = 0xB492B66FBE98F273ULL
cdef uint64_t K2 = 0x9AE16A3B2F90404FULL


def fingerprint64(data, offsets, out):
    """out[i] = Fingerprint64(data[offsets[i]:offsets[i + 1]])."""
    check_string_hash("fingerprint64", data, offsets, out)
    _hash_all(data, offsets, out, False, 0, 0)


def siphash64(data, offsets, key0, key1, out):
    """out[i] = SipHash-2-4 of data[offsets[i]:offsets[i + 1]] with the key (key0, key1)."""
    check_string_hash("siphash64", data, offsets, out)
    check_hash_key("siphash64", key0, key1)
    _hash_all(data, offsets, out, True, key0, key1)


cdef void _hash_all(const uint8_t[::1] data, const int64_t[::1] offsets, uint64_t[::1] out,
                    bint keyed, uint64_t key0, uint64_t key1):
    cdef Py_ssize_t i, n = out.shape[0]
    cdef const uint8_t *base = &data[0] if data.shape[0] > 0 else NULL
    with nogil:
        for i in range(n):
            if keyed:
                out[i] = _siphash(base + offsets[i], offsets[i + 1] - offsets[i], key0, key1)
            else:
                out[i] = _fingerprint(base + offsets[i], offsets[i + 1] - offsets[i])


# --- FarmHash Fingerprint64 ----------------------------------------------------
cdef inline uint64_t _fetch64(const uint8_t *p) noexcept nogil:
    """8 bytes as a little-endian word (compilers turn this into one load)."""
    return (<uint64_t>p[0] | <uint64_t>p[1] << 8 | <uint64_t>p[2] << 16 | <uint64_t>p[3] << 24
            | <uint64_t>p[4] << 32 | <uint64_t>p[5] << 40 | <uint64_t>p[6] << 48
            | <uint64_t>p[7] << 56)


cdef inline uint64_t _fetch32(const uint8_t *p) noexcept nogil:
    return <uint64_t>p[0] | <uint64_t>p[1] << 8 | <uint64_t>p[2] << 16 | <uint64_t>p[3] << 24


cdef inline uint64_t _rotate(uint64_t v, int shift) noexcept nogil:
    return (v >> shift) | (v << (64 - shift))


cdef inline uint64_t _shift_mix(uint64_t v) noexcept nogil:
    return v ^ (v >> 47)


cdef inline uint64_t _hash_len16(uint64_t u, uint64_t v, uint64_t mul) noexcept nogil:
    cdef uint64_t a = _shift_mix((u ^ v) * mul)
    cdef uint64_t b = _shift_mix((v ^ a) * mul)
    return b * mul


cdef inline void _weak_hash32(const uint8_t *s, uint64_t a, uint64_t b,
                              uint64_t *first, uint64_t *second) noexcept nogil:
    """Two words from 32 bytes and two seeds (WeakHashLen32WithSeeds)."""
    cdef uint64_t w = _fetch64(s), x = _fetch64(s + 8), y = _fetch64(s + 16)
    cdef uint64_t z = _fetch64(s + 24), c
    a += w
    b = _rotate(b + a + z, 21)
    c = a
    a += x + y
    b += _rotate(a, 44)
    first[0] = a + z
    second[0] = b + c


cdef uint64_t _fingerprint(const uint8_t *s, int64_t n) noexcept nogil:
    cdef uint64_t mul, a, b, c, d, e, f, g, h, x, y, z, tmp
    cdef uint64_t v0 = 0, v1 = 0, w0 = 0, w1 = 0
    cdef const uint8_t *end
    cdef const uint8_t *last64
    if n <= 16:
        if n >= 8:
            mul = K2 + <uint64_t>n * 2
            a = _fetch64(s) + K2
            b = _fetch64(s + n - 8)
            c = _rotate(b, 37) * mul + a
            d = (_rotate(a, 25) + b) * mul
            return _hash_len16(c, d, mul)
        if n >= 4:
            mul = K2 + <uint64_t>n * 2
            return _hash_len16(<uint64_t>n + (_fetch32(s) << 3), _fetch32(s + n - 4), mul)
        if n > 0:
            a = <uint32_t>s[0] + (<uint32_t>s[n >> 1] << 8)
            b = <uint32_t>n + (<uint32_t>s[n - 1] << 2)
            return _shift_mix(a * K2 ^ b * K0) * K2
        return K2
    if n <= 32:
        mul = K2 + <uint64_t>n * 2
        a = _fetch64(s) * K1
        b = _fetch64(s + 8)
        c = _fetch64(s + n - 8) * mul
        d = _fetch64(s + n - 16) * K2
        return _hash_len16(_rotate(a + b, 43) + _rotate(c, 30) + d,
                           a + _rotate(b + K2, 18) + c, mul)
    if n <= 64:
        mul = K2 + <uint64_t>n * 2
        a = _fetch64(s) * K2
        b = _fetch64(s + 8)
        c = _fetch64(s + n - 8) * mul
        d = _fetch64(s + n - 16) * K2
        y = _rotate(a + b, 43) + _rotate(c, 30) + d
        z = _hash_len16(y, a + _rotate(b + K2, 18) + c, mul)
        e = _fetch64(s + 16) * mul
        f = _fetch64(s + 24)
        g = (y + _fetch64(s + n - 32)) * mul
        h = (z + _fetch64(s + n - 24)) * mul
        return _hash_len16(_rotate(e + f, 43) + _rotate(g, 30) + h,
                           e + _rotate(f + a, 18) + g, mul)
    # over 64 bytes: 64-byte blocks, then the last 64 bytes (which may overlap the last block)
    x = 81
    y = 81 * K1 + 113
    z = _shift_mix(y * K2 + 113) * K2
    x = x * K2 + _fetch64(s)
    end = s + ((n - 1) // 64) * 64
    last64 = s + n - 64
    while True:
        x = _rotate(x + y + v0 + _fetch64(s + 8), 37) * K1
        y = _rotate(y + v1 + _fetch64(s + 48), 42) * K1
        x ^= w1
        y += v0 + _fetch64(s + 40)
        z = _rotate(z + w0, 33) * K1
        _weak_hash32(s, v1 * K1, x + w0, &v0, &v1)
        _weak_hash32(s + 32, z + w1, y + _fetch64(s + 16), &w0, &w1)
        tmp = z
        z = x
        x = tmp
        s += 64
        if s == end:
            break
    mul = K1 + ((z & 0xFF) << 1)
    s = last64
    w0 += <uint64_t>((n - 1) & 63)
    v0 += w0
    w0 += v0
    x = _rotate(x + y + v0 + _fetch64(s + 8), 37) * mul
    y = _rotate(y + v1 + _fetch64(s + 48), 42) * mul
    x ^= w1 * 9
    y += v0 * 9 + _fetch64(s + 40)
    z = _rotate(z + w0, 33) * mul
    _weak_hash32(s, v1 * mul, x + w0, &v0, &v1)
    _weak_hash32(s + 32, z + w1, y + _fetch64(s + 16), &w0, &w1)
    tmp = z
    z = x
    x = tmp
    return _hash_len16(_hash_len16(v0, w0, mul) + _shift_mix(y) * K0 + z,
                       _hash_len16(v1, w1, mul) + x, mul)


# --- SipHash-2-4 -----------------------------------------------------------------
cdef inline void _sip_round(uint64_t *v) noexcept nogil:
    v[0] += v[1]
    v[1] = _rotate(v[1], 64 - 13) ^ v[0]
    v[0] = _rotate(v[0], 32)
    v[2] += v[3]
    v[3] = _rotate(v[3], 64 - 16) ^ v[2]
    v[0] += v[3]
    v[3] = _rotate(v[3], 64 - 21) ^ v[0]
    v[2] += v[1]
    v[1] = _rotate(v[1], 64 - 17) ^ v[2]
    v[2] = _rotate(v[2], 32)


cdef uint64_t _siphash(const uint8_t *s, int64_t n, uint64_t key0, uint64_t key1) noexcept nogil:
    cdef uint64_t v[4]
    cdef uint64_t m
    cdef int64_t i, full = n - n % 8
    v[0] = key0 ^ 0x736F6D6570736575ULL
    v[1] = key1 ^ 0x646F72616E646F6DULL
    v[2] = key0 ^ 0x6C7967656E657261ULL
    v[3] = key1 ^ 0x7465646279746573ULL
    for i in range(0, full, 8):
        m = _fetch64(s + i)
        v[3] ^= m
        _sip_round(v)
        _sip_round(v)
        v[0] ^= m
    m = <uint64_t>(n & 0xFF) << 56  # the last 0-7 bytes, and the length in the top byte
    for i in range(n - full):
        m |= <uint64_t>s[full + i] << (8 * i)
    v[3] ^= m
    _sip_round(v)
    _sip_round(v)
    v[0] ^= m
    v[2] ^= 0xFF
    for i in range(4):
        _sip_round(v)
    return v[0] ^ v[1] ^ v[2] ^ v[3]
