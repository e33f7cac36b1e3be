# cython: language_level=3
"""The activation codes of ``activation_codes.h``, for the .pyx files.

A kernel's Python function takes Keras's name ("relu"); its C loop takes the
code.  ``activation_codes(names)`` gives the name -> code table for the names a
kernel accepts (``minidl._kernels.ACTIVATIONS`` for dense and convolution,
``RECURRENT_ACTIVATIONS`` for the recurrent steps).
"""

cdef extern from "activation_codes.h":
    cdef enum:
        MINIDL_LINEAR
        MINIDL_RELU
        MINIDL_SIGMOID
        MINIDL_TANH
        MINIDL_HARD_SIGMOID


cdef inline dict activation_codes(tuple names):
    """{name: code} for ``names`` (each one of Keras's names below)."""
    cdef dict every = {"linear": MINIDL_LINEAR, "relu": MINIDL_RELU, "sigmoid": MINIDL_SIGMOID,
                       "tanh": MINIDL_TANH, "hard_sigmoid": MINIDL_HARD_SIGMOID}
    return {name: every[name] for name in names}
