"""``EagerArray``: a NumPy array that also has TensorFlow's ``.numpy()``.

In TensorFlow, what a ``tf.data`` pipeline yields, and what a string lookup or
``TextVectorization`` layer returns, are eager tensors; tutorials read their
values with ``.numpy()``::

    for example, label in train_dataset.take(1):
        print(example.numpy()[:3], label.numpy()[:3])
    encoder(example)[:3].numpy()

minidl gives NumPy arrays there (a minidl ``Tensor`` holds only floats, for
autograd; these are strings and integer indices).  An ``EagerArray`` IS such
an array, a view of the same memory, with one method more: ``.numpy()``
returns it as a plain ``np.ndarray``.  Everything NumPy does with an array it
does with an EagerArray, and ``np.asarray(a)`` gives the plain array too.
"""

from __future__ import annotations

import numpy as np


class EagerArray(np.ndarray):
    """A NumPy array (a view, no copy) with ``.numpy()``, as TensorFlow's eager tensors."""

    def numpy(self):
        """The values as a plain NumPy array (the same memory, no copy)."""
        return self.view(np.ndarray)


def eager(array):
    """``array`` viewed as an EagerArray (anything that is not an ndarray as it is)."""
    if isinstance(array, np.ndarray) and type(array) is not EagerArray:
        return array.view(EagerArray)
    return array
