"""Library-wide switches (Keras 3's ``keras.config``; tf.keras has them in ``tf.debugging``).

``disable_traceback_filtering()`` / ``enable_traceback_filtering()``: whether
errors show minidl's own frames (see ``minidl.utils.traceback_utils``).
"""

from minidl.utils.traceback_utils import (
    disable_traceback_filtering,
    enable_traceback_filtering,
    is_traceback_filtering_enabled,
)

__all__ = ["disable_traceback_filtering", "enable_traceback_filtering",
           "is_traceback_filtering_enabled"]
