"""The wording of "unknown name" errors, shared by every registry of names.

Losses, metrics, optimizers, schedules, activations, initializers,
regularizers and layer classes are all looked up by name; a misspelt name gets
the same kind of answer everywhere: what was asked for, the closest known name
("Did you mean 'mse'?") and, where the list is short, the known names.
"""

from __future__ import annotations

import difflib


def did_you_mean(name, known, cutoff=0.6):
    """``" Did you mean 'adam'?"`` for the known name closest to ``name`` (difflib's
    ratio at least ``cutoff``), or ``""`` when none is close."""
    close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=cutoff)
    return f" Did you mean {close[0]!r}?" if close else ""


def unknown_name_message(kind, name, known):
    """``"Unknown loss 'mse2'. Did you mean 'mse'? Known names: ..."`` (losses, metrics,
    optimizers and schedules say it this way)."""
    names = sorted(known)
    hint = did_you_mean(str(name).lower(), names, cutoff=0.5)
    return f"Unknown {kind} {name!r}.{hint} Known names: {', '.join(names)}."


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type (a string or a float where an integer goes).

    Keras raises a TypeError for these; minidl's argument checks raise ValueError for
    a bad value.  This error is both, so either ``except`` catches it.
    """


class SymbolicTensorError(TypeError):
    """A symbolic tensor (a ``KerasTensor`` of a functional model under construction)
    was read where numbers are needed.  It holds none: it stands for a layer's output.
    ``keras.ops`` functions catch it and become a layer instead (``layers.OpsLayer``)."""
