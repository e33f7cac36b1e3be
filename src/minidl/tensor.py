"""``Tensor``: an n-dimensional array that remembers how it was computed.

A Tensor wraps a C-contiguous NumPy array (float32 by default; float64 is kept
when you pass float64, which gradient checks need).  When any input of an
operation has ``requires_grad=True``, the result remembers its inputs and how
to send a gradient back to them (see ``minidl.autograd``); ``loss.backward()``
then fills ``.grad`` (a NumPy array) on every leaf tensor that asked for it.

The Python operators (``+ - * / ** @ -x x[i]``) and the methods below are thin
shortcuts to the functions in ``minidl.ops``.
"""

from __future__ import annotations

import numpy as np

from minidl import autograd

_FLOAT_TYPES = (np.float32, np.float64)


def as_array(value, dtype=None):
    """``value`` as a C-contiguous float array (float32 unless it is float64).

    Only real numbers become a Tensor: complex values (whose imaginary part a
    cast would drop), strings (which NumPy would parse), dates, bytes and
    objects are refused with a TypeError naming their dtype.
    """
    if isinstance(value, Tensor):
        value = value.data
    if not isinstance(value, np.ndarray):
        value = np.asarray(value)
    if value.dtype.kind not in "biuf":
        raise TypeError(
            f"Tensor holds real numbers (float32 or float64); received an array of dtype "
            f"{value.dtype}{_what_kind(value.dtype)}. Convert it yourself first if that is meant."
        )
    if dtype is None:
        dtype = np.float64 if value.dtype == np.float64 else np.float32
    array = np.asarray(value, dtype=dtype)
    if array.dtype.type not in _FLOAT_TYPES:
        raise TypeError(f"Tensor dtype must be float32 or float64, received {array.dtype}.")
    return np.asarray(array, order="C")  # (ascontiguousarray would make 0-d arrays 1-d)


def _what_kind(dtype):
    return {"c": " (complex: the imaginary part would be lost)", "U": " (text)", "S": " (bytes)",
            "M": " (dates)", "m": " (time spans)", "O": " (Python objects)",
            "V": " (structured)"}.get(dtype.kind, "")


class Tensor:
    """An array with an optional gradient.

    Parameters
    ----------
    data : array_like
        Numbers; converted once to a C-contiguous float32 array (float64 input
        stays float64 unless ``dtype`` says otherwise).
    requires_grad : bool
        Whether ``backward()`` should compute ``.grad`` for this tensor.
    dtype : numpy dtype, optional
        ``np.float32`` or ``np.float64``.
    name : str, optional
        A label, shown in ``repr`` (layers name their weights ``dense/kernel``).
    """

    __slots__ = ("data", "grad", "requires_grad", "name", "_parents", "_backward", "_logits",
                 "_version", "_born", "_keras_mask", "__weakref__")
    __array_priority__ = 100  # so ndarray + Tensor calls Tensor.__radd__

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        self.data = as_array(data, dtype)
        self.grad = None
        self.requires_grad = bool(requires_grad)
        self.name = name
        self._parents = ()
        self._backward = None
        self._logits = None  # a softmax output's input (see ops.softmax)
        self._version = 0    # when its values were last changed in place (autograd.mark_changed)
        self._born = 0       # when an op computed it (autograd.record)
        self._keras_mask = None  # which timesteps are real (see Layer.compute_mask)

    @classmethod
    def _wrap(cls, data):
        """A Tensor around an array an op just made (no copy, no checks)."""
        out = cls.__new__(cls)
        out.data = data
        out.grad = None
        out.requires_grad = False
        out.name = None
        out._parents = ()
        out._backward = None
        out._logits = None
        out._version = 0
        out._born = 0
        out._keras_mask = None
        return out

    # --- what it is -------------------------------------------------------
    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    def __len__(self):
        return len(self.data)

    def numpy(self):
        """The values as a new NumPy array (a copy, as Keras gives: weights
        change in place during training, and a value you kept must not); a
        0-d tensor gives a NumPy scalar (``np.float32(0.25)``), as TensorFlow's do."""
        return self.data.copy() if self.data.ndim else self.data[()]

    def item(self):
        return self.data.item()

    def __float__(self):
        return float(self._scalar("float"))

    def __int__(self):
        return int(self._scalar("int"))

    def __index__(self):
        if self.data.size != 1 or self.data.item() != round(self.data.item()):
            raise TypeError(f"only a Tensor holding one whole number can be an index, this one "
                            f"has shape {self.shape}.")
        return int(self.data.item())

    def __bool__(self):
        return bool(self._scalar("bool"))

    def _scalar(self, what):
        if self.data.size != 1:
            raise TypeError(
                f"{what}() needs a Tensor with one value, this one has shape {self.shape}; "
                "reduce it first (for example .mean()) or use .numpy()."
            )
        return self.data.item()

    def __array__(self, dtype=None, copy=None):
        # np.asarray: an op on 0-d arrays can leave a NumPy scalar in .data (t.mean() + 1.0)
        return np.asarray(self.data) if dtype is None else np.asarray(self.data).astype(dtype)

    # comparisons give a Tensor of booleans, outside the graph (as TensorFlow's): so
    # ``if metric.result() > best`` and ``sorted(values)`` work on one-value Tensors
    def _compare(self, other, test):
        return Tensor._wrap(test(self.data, other.data if isinstance(other, Tensor) else other))

    def __lt__(self, other):
        return self._compare(other, np.less)

    def __le__(self, other):
        return self._compare(other, np.less_equal)

    def __gt__(self, other):
        return self._compare(other, np.greater)

    def __ge__(self, other):
        return self._compare(other, np.greater_equal)

    def __format__(self, spec):
        """``f"{loss:.4f}"`` formats the number a one-value Tensor holds, as TensorFlow's do."""
        if spec and self.data.size == 1:
            return format(self.data.item(), spec)
        return super().__format__(spec)

    def __repr__(self):
        extra = ", requires_grad=True" if self.requires_grad else ""
        label = f", name={self.name!r}" if self.name else ""
        kind = type(self).__name__
        body = np.array2string(self.data, precision=4, separator=", ", prefix=kind + "(")
        return f"{kind}({body}, dtype={self.dtype}{extra}{label})"

    # --- the graph --------------------------------------------------------
    def backward(self, grad=None, retain_graph=False):
        """Compute gradients of this tensor with respect to every leaf."""
        autograd.backward(self, grad, retain_graph)

    def detach(self):
        """The same values, cut off from the graph."""
        return Tensor._wrap(self.data)

    def zero_grad(self):
        self.grad = None

    def assign(self, value):
        """Overwrite the values in place (Keras's ``Variable.assign``); returns self."""
        self.data[...] = self._checked_value(value, "assign")
        autograd.mark_changed(self)
        return self

    def assign_add(self, value):
        """``self += value`` in place (Keras's ``Variable.assign_add``); returns self."""
        self.data += self._checked_value(value, "assign_add")
        autograd.mark_changed(self)
        return self

    def assign_sub(self, value):
        """``self -= value`` in place (Keras's ``Variable.assign_sub``); returns self."""
        self.data -= self._checked_value(value, "assign_sub")
        autograd.mark_changed(self)
        return self

    def _checked_value(self, value, method):
        """``value`` as an array of this tensor's dtype and shape, checked before
        anything is written (a refused call changes nothing)."""
        if self._backward is not None or self._parents:
            raise RuntimeError(
                f"{method}(): this tensor was computed from others (it is part of the graph); "
                "only weights and other leaf tensors can be changed in place."
            )
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"{method}(): expected numbers, received dtype {array.dtype}.")
        if array.shape != self.shape:
            raise ValueError(
                f"{method}(): {self.name or 'tensor'} has shape {self.shape}, "
                f"received a value of shape {array.shape}."
            )
        with np.errstate(over="ignore"):
            array = array.astype(self.dtype)
        return array

    # --- operators (see minidl.ops for the math) --------------------------
    def __add__(self, other):
        return ops.add(self, other)

    def __radd__(self, other):
        return ops.add(other, self)

    def __sub__(self, other):
        return ops.sub(self, other)

    def __rsub__(self, other):
        return ops.sub(other, self)

    def __mul__(self, other):
        return ops.mul(self, other)

    def __rmul__(self, other):
        return ops.mul(other, self)

    def __truediv__(self, other):
        return ops.div(self, other)

    def __rtruediv__(self, other):
        return ops.div(other, self)

    def __neg__(self):
        return ops.neg(self)

    def __pow__(self, exponent):
        return ops.pow(self, exponent)

    def __matmul__(self, other):
        return ops.matmul(self, other)

    def __rmatmul__(self, other):
        return ops.matmul(other, self)

    def __getitem__(self, index):
        return ops.getitem(self, index)

    # --- methods ----------------------------------------------------------
    # dtype= and out= are for NumPy: np.mean(t), np.sum(t), np.max(t) call these methods
    # with them (and then give a Tensor, as they do for a PyTorch tensor).
    def sum(self, axis=None, keepdims=False, dtype=None, out=None):
        return _numpy_reduction(ops.sum(self, axis, keepdims), "sum", dtype, out)

    def mean(self, axis=None, keepdims=False, dtype=None, out=None):
        return _numpy_reduction(ops.mean(self, axis, keepdims), "mean", dtype, out)

    def max(self, axis=None, keepdims=False, out=None):
        return _numpy_reduction(ops.max(self, axis, keepdims), "max", None, out)

    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return ops.reshape(self, shape)

    def transpose(self, axes=None):
        return ops.transpose(self, axes)

    @property
    def T(self):
        return ops.transpose(self)

    def exp(self):
        return ops.exp(self)

    def log(self):
        return ops.log(self)

    def sqrt(self):
        return ops.sqrt(self)

    def abs(self):
        return ops.abs(self)

    def clip(self, min_value, max_value):
        return ops.clip(self, min_value, max_value)

    def relu(self):
        return ops.relu(self)

    def sigmoid(self):
        return ops.sigmoid(self)

    def tanh(self):
        return ops.tanh(self)

    def softmax(self, axis=-1):
        return ops.softmax(self, axis)


class Variable(Tensor):
    """A weight: a tensor that training changes in place (Keras's ``tf.Variable``).

        w = Variable(np.zeros((784, 10)), trainable=True, name="w")

    ``trainable=True`` means gradients are computed for it
    (``requires_grad``); a layer holding a Variable in an attribute counts it
    among its ``trainable_weights`` or ``non_trainable_weights`` as it says.
    ``Layer.add_weight`` returns Variables.  ``constraint`` (a function of the
    weight, see ``minidl.constraints``) is applied by the optimizers after each
    update: ``w.assign(w.constraint(w))``.
    """

    __slots__ = ("trainable", "constraint")

    def __init__(self, initial_value, trainable=True, name=None, dtype=None, constraint=None):
        if constraint is not None and not callable(constraint):
            raise ValueError(f"The `constraint` argument must be a callable, received "
                             f"{constraint!r} of type {type(constraint).__name__}.")
        super().__init__(initial_value, requires_grad=trainable, dtype=dtype, name=name)
        self.trainable = bool(trainable)
        self.constraint = constraint


def _numpy_reduction(result, name, dtype, out):
    """A reduction's result, cast to ``dtype`` if NumPy asked; ``out=`` is refused."""
    if out is not None:
        raise TypeError(f"Tensor.{name}(): out= is not supported (a Tensor's values are not "
                        f"written in place); use np.{name}(tensor.numpy(), out=...).")
    return result if dtype is None else ops.cast(result, dtype)


from minidl import ops  # noqa: E402  (ops needs Tensor defined first)
