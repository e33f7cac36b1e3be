"""Your own classes and functions, found again by name when a model is rebuilt.

A saved model or a config names its layers, activations, losses, ... by
strings: ``"Dense"``, ``"relu"``.  minidl looks a name up in its own fixed
lists; for your own ``CustomLayer`` or ``custom_activation`` it needs to be
told which object the name means.  Three ways, as in Keras 2:

    # 1. an argument, for one call
    load_model(path, custom_objects={"CustomLayer": CustomLayer})

    # 2. a scope, for every call inside it (this thread only)
    with custom_object_scope({"CustomLayer": CustomLayer}):
        model = Model.from_config(config)

    # 3. registration, once, where the class is defined
    @register_keras_serializable(package="my_package")
    class CustomLayer(layers.Layer): ...

A registered object is stored under ``"package>name"`` (``"my_package>CustomLayer"``)
and serialized under that name, so two packages may each have a ``Block``.

When a name is looked up (``get_registered_object``), the scopes come first,
then the registered objects, then the ``custom_objects`` argument, then
minidl's own names.  Nothing in a file is ever imported or run: a name either
is in one of these dictionaries, which your code filled, or it is refused.
"""

from __future__ import annotations

import inspect
import threading

_GLOBAL_CUSTOM_OBJECTS = {}  # "package>name" (or any key you set) -> object
_GLOBAL_CUSTOM_NAMES = {}  # object -> "package>name"
_THREAD_LOCAL = threading.local()  # .objects: the merged dictionaries of the open scopes


def _scope_objects():
    return getattr(_THREAD_LOCAL, "objects", {})


class CustomObjectScope:
    """``with CustomObjectScope({"name": obj}, ...):`` makes the objects known to
    every deserialization inside the block (``custom_object_scope`` is the same class).

    Scopes nest: an inner scope adds to the outer ones, and leaving it restores
    what was known before.  They are per thread, as in Keras.
    """

    def __init__(self, *args):
        for i, objects in enumerate(args):
            if not isinstance(objects, dict):
                raise TypeError(
                    f"custom_object_scope() takes dictionaries {{name: object}}, received "
                    f"argument {i} {objects!r} of type {type(objects).__name__}."
                )
        self.custom_objects = args
        self.backup = None

    def __enter__(self):
        self.backup = _scope_objects()
        merged = dict(self.backup)
        for objects in self.custom_objects:
            merged.update(objects)
        _THREAD_LOCAL.objects = merged
        return self

    def __exit__(self, *exc):
        _THREAD_LOCAL.objects = self.backup


custom_object_scope = CustomObjectScope


def get_custom_objects():
    """The global dictionary of custom objects itself (not a copy): registered
    objects are in it, and ``get_custom_objects()["name"] = obj`` adds one.
    Objects of an open ``custom_object_scope`` are not in it."""
    return _GLOBAL_CUSTOM_OBJECTS


def register_keras_serializable(package="Custom", name=None):
    """A decorator registering a class or function as ``"package>name"``
    (``name`` defaults to its ``__name__``), so configs and saved models that
    use it load with no ``custom_objects``.  A class must have ``get_config``.

        @register_keras_serializable(package="my_package")
        class MyDense(layers.Dense): ...

        get_registered_name(MyDense)   # 'my_package>MyDense'
    """
    if not isinstance(package, str) or (name is not None and not isinstance(name, str)):
        raise TypeError(
            "register_keras_serializable(package=..., name=...) takes strings, received "
            f"package={package!r}, name={name!r}. Write @register_keras_serializable() with "
            "parentheses."
        )
    if ">" in package or (name is not None and ">" in name):
        raise ValueError(
            f"register_keras_serializable(): '>' separates the package from the name, so neither "
            f"may contain it. Received: package={package!r}, name={name!r}."
        )

    def decorator(arg):
        class_name = name if name is not None else getattr(arg, "__name__", None)
        if class_name is None:
            raise TypeError(
                f"register_keras_serializable() registers classes and functions, received {arg!r}; "
                "give it a name=."
            )
        if inspect.isclass(arg) and not hasattr(arg, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        registered_name = f"{package}>{class_name}"
        _GLOBAL_CUSTOM_OBJECTS[registered_name] = arg
        _GLOBAL_CUSTOM_NAMES[arg] = registered_name
        return arg

    return decorator


def get_registered_name(obj):
    """The name ``obj`` was registered under, else its ``__name__``."""
    try:
        return _GLOBAL_CUSTOM_NAMES.get(obj, None) or obj.__name__
    except TypeError:  # an unhashable object cannot have been registered
        return obj.__name__


def keras_config(cls, config, module):
    """An object's config nested in another's, in Keras 2's form ``{"module",
    "class_name", "config", "registered_name"}``: minidl's own classes under Keras's
    module name (``"keras.initializers"``) with no registered name; yours with module
    None and the name they are found again by (``"package>Name"``, else the class name)."""
    own = cls.__module__.startswith("minidl.")
    return {"module": module if own else None, "class_name": cls.__name__, "config": config,
            "registered_name": None if own else get_registered_name(cls)}


def names_to_look_up(config):
    """The names a nested config's class may be found by, in order: Keras's
    ``registered_name``, then ``class_name`` (which was the registered name in
    minidl's older configs)."""
    return [name for name in (config.get("registered_name"), config.get("class_name"))
            if isinstance(name, str)]


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object ``name`` means, or None: looked up in the open scopes, then the
    global dictionary, then ``custom_objects``, then ``module_objects``."""
    for objects in (_scope_objects(), _GLOBAL_CUSTOM_OBJECTS, custom_objects, module_objects):
        if objects and name in objects:
            return objects[name]
    return None


def custom_objects_in_effect(custom_objects=None):
    """Every custom object a lookup may use now, as one dictionary: the
    ``custom_objects`` argument, overridden by the global dictionary, overridden
    by the open scopes (``get_registered_object``'s order).  Deserializers add it
    over their own fixed list of names."""
    merged = dict(custom_objects or {})
    merged.update(_GLOBAL_CUSTOM_OBJECTS)
    merged.update(_scope_objects())
    return merged
