"""``keras.saving``: where Keras 2.13+ and Keras 3 put the names for saving and
for your own objects, so ``keras.saving.register_keras_serializable()`` and
``keras.saving.load_model(path)`` work as written.

Nothing new lives here: ``save_model``/``load_model`` are ``minidl.models``'
(the file format is described in ``minidl.models.saving``), the others
``minidl.utils``' (see ``minidl.utils.object_registration``).
"""

from minidl.models import load_model, save_model
from minidl.utils.object_registration import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)

__all__ = [
    "CustomObjectScope", "custom_object_scope", "get_custom_objects", "get_registered_name",
    "get_registered_object", "load_model", "register_keras_serializable", "save_model",
]
