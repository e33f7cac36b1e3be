"""A config for your own layer written without ``get_config`` (Keras 2 and 3 do this too).

    class Linear(layers.Layer):
        def __init__(self, units=32, **kwargs):
            super().__init__(**kwargs)
            self.units = units
        ...

    Linear(8).get_config()   # {"name": "linear", "trainable": True, "dtype": "float32", "units": 8}

When a layer is created, ``Layer.__new__`` records the arguments its class's
``__init__`` was called with (``record``).  If they are all plain data
(numbers, strings, booleans, None, and lists, tuples and dicts of those), the
inherited ``get_config`` returns them (``config_of``), so ``from_config`` --
``cls(**config)`` -- makes the same layer again.  Arguments that are not plain
data (a layer, a function, an array) cannot be written down: the layer must
then implement ``get_config`` itself, and saving, ``to_json`` and ``clone_model``
say so (``minidl.layers.check_config_complete``).
"""

from __future__ import annotations

import inspect

_PLAIN = (str, int, float, bool, type(None))


def record(layer, args, kwargs):
    """Remember the arguments of ``type(layer).__init__``, or None when they are
    not all plain data (or do not fit the signature)."""
    try:
        bound = inspect.signature(type(layer).__init__).bind(None, *args, **kwargs)
    except TypeError:  # __init__ itself will say what is wrong with the call
        return None
    arguments = {}
    for name, value in list(bound.arguments.items())[1:]:
        kind = bound.signature.parameters[name].kind
        if kind is inspect.Parameter.VAR_KEYWORD:
            arguments.update(value)
        elif kind is inspect.Parameter.VAR_POSITIONAL:
            if value:
                return None  # no name to store them under
        else:
            arguments[name] = value
    return arguments if all(_is_plain(v) for v in arguments.values()) else None


def _is_plain(value):
    if isinstance(value, _PLAIN):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return False


def config_of(layer, base_config):
    """``base_config`` (name, trainable, dtype, ...) updated with the recorded
    arguments; the base keys that ``__init__`` cannot take (no ``**kwargs``) are
    dropped, as Keras does.  None when nothing was recorded."""
    arguments = vars(layer).get("_auto_config")
    if arguments is None:
        return None
    parameters = inspect.signature(type(layer).__init__).parameters
    takes_kwargs = any(p.kind is p.VAR_KEYWORD for p in parameters.values())
    config = {k: v for k, v in base_config.items() if takes_kwargs or k in parameters}
    config.update(arguments)
    return config
