"""Models: ``Sequential``, the functional ``Model(inputs, outputs)``, and
``Model`` subclasses; ``load_model``, ``model_from_config`` and
``model_from_json`` rebuild them, ``clone_model`` copies one with new weights."""

from minidl.models.cloning import clone_model
from minidl.models.functional import Functional
from minidl.models.model import Model
from minidl.models.model_config import model_from_json, model_from_yaml
from minidl.models.sequential import Sequential
from minidl.utils.traceback_utils import filter_traceback

__all__ = ["Model", "Sequential", "Functional", "clone_model", "load_model", "model_from_config",
           "model_from_json", "model_from_yaml", "save_model"]


def model_from_config(config, custom_objects=None):
    """A new, freshly initialised model from ``{"class_name": ..., "config": ...}``
    (what ``minidl.layers.serialize(model)`` gives)."""
    from minidl.layers import deserialize

    return deserialize(config, custom_objects)


@filter_traceback
def save_model(model, filepath, overwrite=True, include_optimizer=True, save_format=None):
    """``model.save(filepath, overwrite, save_format, include_optimizer)``, Keras's function form."""
    model.save(filepath, overwrite=overwrite, include_optimizer=include_optimizer,
               save_format=save_format)


@filter_traceback
def load_model(path, *args, **kwargs):
    """Load a model saved with ``model.save(path)``; see ``minidl.models.saving``."""
    from minidl.models import saving

    return saving.load_model(path, *args, **kwargs)
