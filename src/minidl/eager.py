"""``minidl.function``: what TensorFlow code marks with ``@tf.function``.

TensorFlow traces a ``tf.function`` into a graph once and runs the graph after,
which is faster than running its Python line by line. minidl has no graphs to
compile: every op runs when it is called ("eager"), as in PyTorch, so this
decorator takes tf.function's arguments and returns the function unchanged.
Code from the guides runs as written; it is as fast as without the decorator.
"""

from __future__ import annotations


def function(func=None, input_signature=None, autograph=True, jit_compile=None,
             reduce_retracing=False, **experimental):
    """``@minidl.function`` or ``@minidl.function(jit_compile=True)``: the function itself."""
    unknown = [name for name in experimental if not name.startswith("experimental_")]
    if unknown:
        raise TypeError(f"function() got unexpected keyword arguments {sorted(unknown)}.")
    if func is None:
        return lambda f: f
    if not callable(func):
        raise TypeError(f"function() decorates a callable, received {type(func).__name__}.")
    return func
