"""``Hashing`` and ``HashedCrossing``: categories to bins by a hash, no vocabulary.

    layers.Hashing(num_bins=3)([["A"], ["B"], ["C"], ["D"], ["E"]])   # int64 [[1], [0], [1], [1], [2]]
    layers.HashedCrossing(num_bins=5)((["A", "B"], [101, 101]))      # int64 [1, 4]

The "hashing trick": a value's bin is a hash of it, mod the number of bins, so
no vocabulary is learned or stored, and unseen values get bins too (two values
may share one).  The hashes are TensorFlow's, bit for bit (``ops/hashing.py``),
so a model gives the bins Keras gives:

- ``Hashing``: ``bin = Fingerprint64(x) mod num_bins`` (FarmHash), or with a
  ``salt`` ``SipHash-2-4(x; salt) mod num_bins``; a string is hashed as its UTF-8
  bytes, an integer as its decimal text (``42`` as ``"42"``).  A single integer salt
  ``s`` is the key ``[s, s]``.  With a ``mask_value`` (and ``num_bins > 1``), that
  value goes to bin 0 and the others to ``1 + hash mod (num_bins - 1)``.
- ``HashedCrossing``: the features of one sample crossed into one bin,
  ``h = FingerprintCat64(...FingerprintCat64(0xDECAFCAFFE, f_1)..., f_n) mod num_bins``
  where ``f_i`` is ``Fingerprint64`` of a string feature and an integer feature's own
  value (as uint64): what ``tf.sparse.cross_hashed`` computes.

Shapes: ``Hashing`` takes values of any shape; "int" gives int64 bins of that
shape, "one_hot", "multi_hot" and "count" float32 vectors of length ``num_bins``
as ``CategoryEncoding`` shapes them ((B,) or (B, 1) in, (B, num_bins) out; (B, n)
in, (B, num_bins) out for multi_hot and count).  ``HashedCrossing`` takes two or
more features of one shape, () or (B,) or (B, 1), and gives their bins in that
shape ("int") or (B, num_bins) ("one_hot").

Neither has weights or state: ``get_config()`` is the whole layer.
"""

from __future__ import annotations

import numpy as np

from minidl.layers.base import Layer
from minidl.layers.category_encoding import check_output_mode, encode_categorical, encoded_shape
from minidl.ops.hashing import fingerprint64, fingerprint_cat64, siphash64
from minidl.tensor import Tensor

CROSSING_SEED = np.uint64(0xDECAFCAFFE)  # tf.sparse.cross_hashed's default hash_key


class _HashingLayer(Layer):
    """What both layers share: num_bins, the output mode and dtype, the values read."""

    _integer_inputs = "indices"  # integer values stay integers (they are hashed as text)
    _modes = ()

    def __init__(self, num_bins, output_mode, sparse, kwargs):
        dtype = kwargs.pop("dtype", None)
        integer_dtype = dtype is not None and np.dtype(dtype).kind in "iu"
        if output_mode != "int":
            if integer_dtype:
                raise ValueError(f"{type(self).__name__}: when output_mode={output_mode!r}, the "
                                 f"outputs are float vectors; received dtype={dtype!r}. Leave "
                                 "dtype unset (or 'float32').")
            kwargs["dtype"] = dtype
        super().__init__(**kwargs)
        label = self._label = f'{type(self).__name__} layer "{self.name}"'
        self._int_dtype = np.dtype(dtype) if integer_dtype else np.dtype(np.int64)
        if not isinstance(num_bins, (int, np.integer)) or isinstance(num_bins, bool) \
                or num_bins <= 0:
            raise ValueError(f"{label}: `num_bins` must be a positive integer. Received: "
                             f"num_bins={num_bins!r}.")
        check_output_mode(label, output_mode, self._modes)
        if sparse and output_mode != "int":
            raise ValueError(f"{label}: minidl cannot give sparse=True: it has no sparse "
                             "tensors. Leave sparse=False for a dense array (one column per "
                             "bin).")
        self.num_bins = int(num_bins)
        self.output_mode = output_mode
        self.sparse = bool(sparse)

    @property
    def dtype(self):
        """The int dtype of the bins in "int" mode (int64 unless told), else the float
        dtype of the vectors."""
        return self._int_dtype.name if self.output_mode == "int" else super().dtype

    def _to_tensors(self, inputs):
        return _values(inputs, self._label)

    def _output(self, bins):
        """The int bins, or their vectors in the hot modes."""
        if self.output_mode == "int":
            return bins.astype(self._int_dtype)
        return Tensor(encode_categorical(bins, self.output_mode, self.num_bins, self._label,
                                         self._dtype), dtype=self._dtype)

    def get_config(self):
        return {**super().get_config(), "num_bins": self.num_bins}


class Hashing(_HashingLayer):
    """Strings or integers to ``num_bins`` bins by FarmHash (or SipHash with a salt);
    see the module docstring."""

    _modes = ("int", "one_hot", "multi_hot", "count")

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False,
                 **kwargs):
        if output_mode == "int" and sparse:
            raise ValueError('Hashing: `sparse` may only be true if `output_mode` is '
                             '"one_hot", "multi_hot", or "count". Received: sparse=True and '
                             "output_mode=int")
        if "dtype" in kwargs and output_mode == "int" and kwargs["dtype"] is not None \
                and np.dtype(kwargs["dtype"]).kind not in "iu":
            del kwargs["dtype"]  # as Keras: "int" mode gives int64 bins whatever float dtype
        super().__init__(num_bins, output_mode, sparse, kwargs)
        if mask_value is not None and (isinstance(mask_value, bool)
                                       or not isinstance(mask_value, (str, bytes, int, np.integer))):
            raise TypeError(f"{self._label}: `mask_value` must be a string or an integer (the "
                            f"value that marks masked inputs), or None. Received: "
                            f"mask_value={mask_value!r}.")
        self.mask_value = mask_value.item() if isinstance(mask_value, np.integer) else mask_value
        self.salt = _salt(self._label, salt)

    def call(self, inputs):
        values = _values(inputs, self._label)
        bins = self.num_bins
        masked = None
        if self.mask_value is not None and bins > 1:
            bins -= 1  # bin 0 is the mask's
            masked = self._is_mask(values)
        if self.salt is None:
            hashes = fingerprint64(values, self._label)
        else:
            hashes = siphash64(values, self.salt, self._label)
        indices = (hashes % np.uint64(bins)).astype(np.int64)
        if masked is not None:
            indices = np.where(masked, 0, indices + 1)
        return self._output(indices)

    def _is_mask(self, values):
        """Where ``values`` equal the mask value (bool, shaped as values)."""
        mask, strings = self.mask_value, values.dtype.kind in "USO"
        if strings != isinstance(mask, (str, bytes)):
            raise TypeError(
                f"{self._label}: mask_value={mask!r} is {'a string' if not strings else 'an integer'}"
                f" but the inputs are {'strings' if strings else 'integers'} (dtype "
                f"{values.dtype}). Give a mask_value of the inputs' kind.")
        if not strings:
            return values == mask
        text, raw = (mask, mask.encode("utf-8")) if isinstance(mask, str) else (
            mask.decode("utf-8", "replace"), mask)
        objects = values.astype(object)
        return (objects == text) | (objects == raw)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        return encoded_shape(input_shape, self.output_mode, self.num_bins, self._label)

    def get_config(self):
        return {**super().get_config(), "salt": None if self.salt is None else list(self.salt),
                "mask_value": self.mask_value, "output_mode": self.output_mode,
                "sparse": self.sparse}


class HashedCrossing(_HashingLayer):
    """Two or more categorical features crossed into ``num_bins`` bins; see the module
    docstring."""

    _multi_input = True
    _modes = ("int", "one_hot")

    def __init__(self, num_bins, output_mode="int", sparse=False, **kwargs):
        dtype = kwargs.get("dtype")
        if output_mode == "int" and dtype is not None and np.dtype(dtype).kind not in "iu":
            raise ValueError(f"HashedCrossing: when `output_mode='int'`, `dtype` should be an "
                             f"integer type. Received: dtype={dtype}")
        super().__init__(num_bins, output_mode, sparse, kwargs)

    def _to_tensors(self, inputs):
        return [_values(x, self._label) for x in self._checked_list(inputs)]

    def call(self, inputs):
        features = [_values(x, self._label) for x in self._checked_list(inputs)]
        self._check_shapes([f.shape for f in features])
        crossed = np.full(features[0].shape, CROSSING_SEED, np.uint64)
        for feature in features:
            if feature.dtype.kind in "iu":
                hashed = feature.astype(np.int64).view(np.uint64)  # an integer is its own hash
            elif feature.dtype.kind in "USO":
                hashed = fingerprint64(feature, self._label)
            else:
                raise TypeError(f"{self._label}: every input must hold integers or strings; "
                                f"received one of dtype {feature.dtype} (shape {feature.shape}).")
            crossed = fingerprint_cat64(crossed, hashed)
        return self._output((crossed % np.uint64(self.num_bins)).astype(np.int64))

    def _checked_list(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"{self._label} should be called on a list or tuple of inputs (the "
                             f"features to cross). Received: one input of type "
                             f"{type(inputs).__name__}.")
        if len(inputs) < 2:
            raise ValueError(f"{self._label} should be called on at least two inputs. "
                             f"Received: {len(inputs)}.")
        return inputs

    def _check_shapes(self, shapes):
        first = tuple(shapes[0])
        if len(first) > 2 or (len(first) == 2 and first[-1] != 1):
            raise ValueError(f"{self._label}: all inputs should have shape (), (batch_size,) or "
                             f"(batch_size, 1): one value per sample. Received shapes "
                             f"{[tuple(s) for s in shapes]}.")
        if any(tuple(s) != first for s in shapes[1:]):
            raise ValueError(f"{self._label}: all inputs should have equal shape. Received "
                             f"shapes {[tuple(s) for s in shapes]}.")

    def compute_output_shape(self, input_shape):
        shapes = self._checked_list(input_shape)
        self._check_shapes(shapes)
        if self.output_mode == "int":
            return tuple(shapes[0])
        return encoded_shape(shapes[0], "one_hot", self.num_bins, self._label)

    def get_config(self):
        return {**super().get_config(), "output_mode": self.output_mode, "sparse": self.sparse}


def _values(inputs, who):
    """A layer's input as a NumPy array: strings stay strings, integers integers.
    Floats holding whole numbers are those integers (minidl's ``fit`` and ``predict``
    hand a Sequential not yet built its integer data as float32); other floats are
    a TypeError, as Keras hashes only strings and integers."""
    if isinstance(inputs, Tensor):
        array = inputs.data
    elif isinstance(inputs, (str, bytes)):
        array = np.empty((), dtype=object)
        array[()] = inputs
    else:
        try:
            array = np.asarray(inputs)
        except (UnicodeDecodeError, ValueError):  # str and bytes mixed, or ragged rows
            array = None
        if array is None or array.dtype.kind in "US":
            array = np.array(inputs, dtype=object)  # strings as they are: str, or bytes whole
    if array.dtype.kind == "f":
        if not (np.isfinite(array) & (array == np.round(array))).all():
            raise TypeError(f"{who} takes strings or integers, received floats (shape "
                            f"{array.shape}, dtype {array.dtype}). Keras hashes only strings and "
                            "integers: round them first, or bucket them with Discretization.")
        array = array.astype(np.int64)
    return array


def _salt(label, salt):
    """Keras's salt: None, two integers, or one integer ``s`` meaning ``[s, s]``."""
    if salt is None:
        return None
    pair = list(salt) if isinstance(salt, (list, tuple)) else [salt, salt]
    if len(pair) != 2 or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool)
                                 and -2 ** 63 <= s < 2 ** 63 for s in pair):
        raise ValueError(f"{label}: the `salt` argument for `Hashing` can only be a tuple of "
                         "size 2 integers, or a single integer (each in [-2**63, 2**63)). "
                         f"Received: salt={salt!r}.")
    return [int(s) for s in pair]
