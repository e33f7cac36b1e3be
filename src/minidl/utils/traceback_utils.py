"""Short tracebacks: your code and the message, not minidl's insides.

A mistake such as a wrong input shape raises an error deep inside minidl
(layer, op, kernel checks).  Python would print every frame on the way, 30
or 40 lines of minidl's internals above the one line that matters, which in
a notebook hides the message.  As Keras does, minidl removes its own frames
from the traceback of an error that leaves ``fit``, ``evaluate``,
``predict``, a layer or model call, and the other entry points: what is left
is the line of your code that made the call, your own functions that minidl
called (a custom layer's ``call``, a ``train_step``, a callback), and the
message.

    minidl.config.disable_traceback_filtering()   # every frame again, to debug minidl
    MINIDL_TRACEBACK_FILTERING=0 python train.py  # the same, from the environment
"""

from __future__ import annotations

import functools
import os
import types

_MINIDL_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_enabled = os.environ.get("MINIDL_TRACEBACK_FILTERING", "1") not in ("0", "false", "False")


def enable_traceback_filtering():
    """Hide minidl's own frames from the tracebacks of its errors (the default)."""
    global _enabled
    _enabled = True


def disable_traceback_filtering():
    """Show every frame, minidl's included (to debug minidl itself)."""
    global _enabled
    _enabled = False


def is_traceback_filtering_enabled():
    return _enabled


def _is_minidl_frame(frame):
    return os.path.abspath(frame.f_code.co_filename).startswith(_MINIDL_DIR + os.sep)


def filtered(traceback):
    """``traceback`` without the frames of minidl's own files."""
    kept = []
    while traceback is not None:
        if not _is_minidl_frame(traceback.tb_frame):
            kept.append(traceback)
        traceback = traceback.tb_next
    result = None
    for entry in reversed(kept):
        result = types.TracebackType(result, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return result


def filter_traceback(function):
    """Decorate a public entry point: its errors leave with minidl's frames removed."""

    @functools.wraps(function)
    def error_handler(*args, **kwargs):
        if not _enabled:
            return function(*args, **kwargs)
        try:
            return function(*args, **kwargs)
        except Exception as error:
            # minidl removed its own frames from this traceback (your code and the message
            # are what matter); minidl.config.disable_traceback_filtering() shows them all
            raise error.with_traceback(filtered(error.__traceback__)) from None

    return error_handler
