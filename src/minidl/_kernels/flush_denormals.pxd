"""Subnormal floats as 0 while a kernel computes (flush_denormals.h says why and how)."""

cdef extern from "flush_denormals.h" nogil:
    # subnormals as 0 on the calling thread until minidl_flush_end(the value returned)
    unsigned int minidl_flush_begin()
    void minidl_flush_end(unsigned int old)
