"""``Layer``: the building block every layer and model derives from.

A layer holds weights (Tensors with ``requires_grad=True``) and maps input
Tensors to output Tensors in ``call``.  It does not know its input size when
it is created (``Dense(128)`` only knows it makes 128 outputs), so weights are
created in ``build(input_shape)`` the first time the layer sees an input,
real or symbolic.  As in Keras, shapes passed to ``build`` and
``compute_output_shape`` include the batch axis: ``Dense(128)`` after
``Flatten`` of 28x28 images is built with ``(None, 784)`` (or ``(32, 784)``
when first called on a batch of 32) and gives ``(None, 128)``.

A layer made of other layers only has to assign them to attributes (see
``tracking.py``): their weights are its weights.

``training``: dropout and batch normalisation behave differently while
training.  ``layer(x, training=True)`` says so explicitly; a layer called
without it inside another layer's ``call`` inherits the outer call's value
(so a block of layers called by ``fit`` trains its Dropout even when its own
``call`` does not pass ``training`` on).  Where nothing says, each layer takes
the default of its own ``call`` signature, as Keras 2 does: off for Dropout
and BatchNormalization (``training=None`` counts as off), on for the
augmentation layers (``RandomFlip`` augments when a model is called directly,
and not in ``predict``, which says ``training=False``).

Masks: a layer such as ``Masking`` or ``Embedding(mask_zero=True)`` marks
which timesteps of a padded sequence are real.  Its ``compute_mask(inputs,
mask)`` gives a boolean (batch, timesteps) array, which ``__call__`` attaches
to the output (``output._keras_mask``, as Keras does).  The next layer whose
``call`` takes a ``mask`` argument receives it (recurrent layers skip the
padded steps); a layer with ``supports_masking = True`` passes it on (Dense,
Dropout, Activation), others drop it; losses and metrics ignore the masked
timesteps of a prediction that carries one.

Names follow Keras: the first Dense is ``dense``, the next ``dense_1``...;
``reset_names()`` (called by ``minidl.utils.clear_session``) starts over.
"""

from __future__ import annotations

import functools
import inspect
import math
import re
import threading
import weakref

import numpy as np

from minidl.errors import ArgumentTypeError
from minidl import autograd, constraints, initializers, ops, regularizers
from minidl.eager_array import eager
from minidl.layers import auto_config
from minidl.layers.node import (
    KerasTensor,
    Node,
    SymbolicMask,
    _Probe,
    is_symbolic,
    node_tensors,
    pack_outputs,
    shapes_of,
)
from minidl.layers.input_spec import assert_input_compatibility
from minidl.layers.nest import flatten, is_shape, like, map_nest, pack_as
from minidl.layers.node import scope as node_scope
from minidl.layers.tracking import find_tracked, is_weight, may_hold_tracked
from minidl.tensor import Tensor, Variable
from minidl.utils import traceback_utils

_name_counts: dict[str, int] = {}


def to_snake_case(name):
    """``"MaxPooling2D"`` -> ``"max_pooling2d"``, ``"ConvLSTM2D"`` -> ``"conv_lstm2d"``
    (how Keras names layers)."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix, zero_based=True):
    """``prefix``, then ``prefix_1``, ``prefix_2``...  (or ``prefix_1`` first
    when not ``zero_based``, as Keras names its inputs ``input_1``)."""
    count = _name_counts.get(prefix, 0)
    _name_counts[prefix] = count + 1
    if zero_based:
        return prefix if count == 0 else f"{prefix}_{count}"
    return f"{prefix}_{count + 1}"


def reset_names():
    """Forget the automatic names given so far (``dense`` is free again)."""
    _name_counts.clear()


def as_shape(shape, what="input_shape"):
    """A shape given as int, list or tuple, as a tuple of ints/None."""
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    try:
        dims = tuple(None if d is None else int(d) for d in shape)
    except (TypeError, ValueError):
        raise TypeError(f"{what} must be a tuple of integers, received {shape!r}.") from None
    if any(d is not None and d <= 0 for d in dims):
        raise ValueError(f"{what} must hold positive sizes, received {shape!r}.")
    return dims


_FLOAT_DTYPES = {"float32": np.dtype(np.float32), "float64": np.dtype(np.float64)}


def as_dtype(dtype, who):
    """A layer's ``dtype`` argument ("float32", np.float64, ...) as a NumPy dtype."""
    if dtype is None:
        return _FLOAT_DTYPES["float32"]
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in _FLOAT_DTYPES:
        raise ValueError(
            f"{who}: dtype must be 'float32' or 'float64', received {dtype!r} (mixed precision "
            "and float16 are not supported: the kernels compute in float32 or float64)."
        )
    return _FLOAT_DTYPES[name]


# The ``training`` value of the layer call in progress, per thread: True, False or
# None (not said: each layer takes its own default); absent at the top level.  A dict
# keyed by thread is 3x quicker here than a threading.local.
_training_now = {}
_OUTSIDE = object()  # (what _training_now.get gives outside any layer call)
_get_ident = threading.get_ident


# id -> weak reference of each layer whose add_loss() losses wait to be read: while it is
# empty (no layer adds losses), calls need not look through the layers to drop them
_loss_holders = {}
# the same for the layers holding losses computed afresh each time they are read (the
# penalties of weight regularizers, add_loss(function)): while it is empty too, reading
# ``losses`` costs nothing
_callable_loss_holders = {}


class Layer:
    """Base class of all layers.

    Subclasses implement ``build(input_shape)`` (create weights with
    ``add_weight``), ``call(inputs, training=None)`` and, when the output
    shape is not found by running ``call`` once on zeros,
    ``compute_output_shape(input_shape)``; and add their arguments to
    ``get_config()``.  Shapes include the batch axis.

    Keyword arguments every layer accepts: ``name``, ``trainable``,
    ``dtype`` ("float32", the default, or "float64"), ``activity_regularizer``
    (a penalty on the outputs, see ``minidl.regularizers``), and on the first
    layer of a model ``input_shape`` (without the batch axis),
    ``batch_input_shape`` or ``input_dim``, and ``batch_size``.
    """

    _multi_input = False  # merge layers take a list of tensors
    # True: a tuple (or named tuple) of inputs reaches build and call with its nesting, as
    # in Keras (an RNN's nested sequences; RNN sets it on a cell that reads them, one
    # tensor each per step); False: minidl's rule, several inputs are a flat list
    _nested_inputs = False
    _build_marks_built = True  # models manage ``built`` themselves
    _call_takes_training = False
    _training_position = None  # where call takes training among its positional arguments
    _call_takes_mask = False
    _explicit_mask = "refuse"  # see __init_subclass__
    _drops_explicit_mask = False  # True for models
    _makes_masks = False  # compute_mask is overridden: it may make a mask from none
    supports_masking = False  # Keras's flag: pass an input's mask on to the output
    input_spec = None  # an InputSpec (or a list): what every call's inputs must be
    _training_default = None
    _in_build = False  # a model's build() is running
    # what an integer input (Input(dtype="int32")) becomes here: "cast" to this layer's
    # float dtype (Dense, BatchNormalization... as Keras casts), "refuse"d with an error
    # naming the layer (the convolutions, average pooling, Softmax: Keras refuses them
    # too), or kept as "indices" (Embedding); "strings": this layer takes arrays of
    # Python strings, not numbers (TextVectorization)
    _integer_inputs = "cast"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        params = inspect.signature(cls.call).parameters
        cls._call_takes_training = "training" in params or any(
            p.kind is p.VAR_KEYWORD for p in params.values()
        )
        cls._call_takes_mask = "mask" in params
        # what an explicit mask= does: call gets it when it names it or takes **kwargs, a
        # model drops it (its layers find their masks), any other layer refuses it (Keras 2)
        if cls._call_takes_mask or any(p.kind is p.VAR_KEYWORD for p in params.values()):
            cls._explicit_mask = "pass"
        else:
            cls._explicit_mask = "drop" if cls._drops_explicit_mask else "refuse"
        positional = [name for name, p in params.items()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        # model(x, True): call(self, inputs, training=None) takes training second, as
        # Keras 2 reads it from a positional argument
        cls._training_position = (positional.index("training") - 2
                                  if "training" in positional[2:] else None)
        cls._makes_masks = cls.compute_mask is not Layer.compute_mask
        default = params["training"].default if "training" in params else None
        cls._training_default = default if isinstance(default, bool) else None
        if "build" in vars(cls):
            wrap = _marks_built if cls._build_marks_built else _runs_once
            cls.build = wrap(vars(cls)["build"])

    def __new__(cls, *args, **kwargs):
        # your own layer without get_config: remember its arguments (see auto_config.py)
        layer = super().__new__(cls)
        if cls.get_config is Layer.get_config and not cls.__module__.startswith("minidl."):
            object.__setattr__(layer, "_auto_config", auto_config.record(layer, args, kwargs))
        return layer

    def __init__(self, trainable=True, name=None, dtype=None, input_shape=None,
                 batch_input_shape=None, input_dim=None, batch_size=None,
                 activity_regularizer=None, **kwargs):
        if kwargs:
            raise TypeError(
                f"{type(self).__name__}() got unexpected keyword argument(s) "
                f"{sorted(kwargs)}; check the spelling against Keras's argument names."
            )
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Layer name must be a string, received {name!r}.")
        set_attribute = object.__setattr__  # the bookkeeping itself is not tracked
        set_attribute(self, "_own_trainable", [])      # weights created with trainable=True
        set_attribute(self, "_own_non_trainable", [])  # statistics such as BatchNormalization's
        set_attribute(self, "_own_losses", [])         # what add_loss() gathered in the last call
        set_attribute(self, "_callable_losses", [])    # functions giving a loss when it is read
        set_attribute(self, "_tracked_names", {})      # attributes that may hold layers or weights
        self._dtype = as_dtype(dtype, f"{type(self).__name__}()")
        self.name = name or unique_name(self._default_name())
        self._activity_regularizer = self._regularizer("activity_regularizer", activity_regularizer)
        self._trainable = bool(trainable)
        self.built = False
        self._build_input_shape = None
        self._inbound_nodes = []
        if input_dim is not None:
            input_shape = (input_dim,)
        label = f'{type(self).__name__} layer "{self.name}": '
        if input_shape is not None:
            batch_input_shape = (batch_size, *as_shape(input_shape, label + "input_shape"))
        self._batch_input_shape = (
            None if batch_input_shape is None else as_shape(batch_input_shape, label + "batch_input_shape")
        )

    def __setattr__(self, name, value):
        """Remember which attributes may hold layers or weights (see ``tracking.py``);
        assigning a Variable or a tensor with ``requires_grad=True`` (also in a list
        or dict) makes it one of this layer's weights, in assignment order."""
        object.__setattr__(self, name, value)
        names = vars(self).get("_tracked_names")
        if name in _BOOKKEEPING:
            return
        if may_hold_tracked(value, Layer):
            if names is None:
                if not find_tracked(value, set(), Layer):
                    return  # plain data before super().__init__() (a cell's state_size list)
                raise RuntimeError(
                    f"{type(self).__name__}: call super().__init__() at the start of "
                    f"__init__, before assigning self.{name}."
                )
            names[name] = None
            self._adopt(find_tracked(value, set(), Layer))
        elif names is not None:
            names.pop(name, None)

    def __delattr__(self, name):
        object.__delattr__(self, name)
        vars(self)["_tracked_names"].pop(name, None)

    def _adopt(self, items):
        """Count the weights among ``items`` as this layer's own (once each)."""
        for item in items:
            if isinstance(item, Tensor) and not any(
                    item is w for w in self._own_trainable) and not any(
                    item is w for w in self._own_non_trainable):
                trainable = item.trainable if isinstance(item, Variable) else True
                (self._own_trainable if trainable else self._own_non_trainable).append(item)

    @classmethod
    def _default_name(cls):
        return to_snake_case(cls.__name__)

    @property
    def dtype(self):
        """The dtype of the weights and of the computation: "float32" or "float64"."""
        return np.dtype(self._dtype).name

    compute_dtype = variable_dtype = dtype

    # --- to implement in subclasses --------------------------------------
    def build(self, input_shape):
        """Create the weights, knowing the input shape (batch axis first)."""
        self.built = True

    def call(self, inputs):
        """The forward computation on Tensors."""
        return inputs

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape`` (batch axis first, None if unknown).

        This default runs ``call`` once on zeros of that shape and reads the
        result; layers whose shape is simple to state say it.  The zeros hold one
        sample, or the static batch of ``Input(batch_shape=...)`` when the inputs
        state one (a layer may need it, as Keras's guide's RNN building its state
        with ``inputs.shape[0]``) and it is small enough to make cheaply.

        Sizes left unknown (``Input(shape=(None, 16))``) are tried twice, with two
        stand-in sizes: an output size that changes with them is unknown (None),
        one that stays is known -- what Keras 2 finds by running ``call`` on
        symbolic tensors.
        """
        if not _has_unknown_sizes(input_shape):
            return self._output_shape_on_zeros(input_shape)
        try:
            first, second = (self._output_shape_on_zeros(input_shape, size)
                             for size in _STAND_IN_SIZES)
            return _merge_stand_in_shapes(first, second)
        except Exception as error:
            raise ValueError(
                f'Layer "{self.name}" ({type(self).__name__}) cannot find its output shape '
                f"for input shape {input_shape} with unknown sizes (running call on stand-in "
                f"sizes {_STAND_IN_SIZES} failed: {error}): implement "
                "compute_output_shape(input_shape) in the layer."
            ) from error

    def _output_shape_on_zeros(self, input_shape, stand_in=None):
        """The output shape(s) of ``call`` on zeros of ``input_shape``, its unknown sizes
        past the batch axis as ``stand_in``.  A ``call(inputs, mask=None)`` that fails
        without a mask is given one that keeps every step (Keras passes the symbolic
        mask of its inputs there)."""
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        batch = _static_batch(shapes)
        sizes = [tuple(stand_in if d is None else d for d in tuple(s)[1:]) for s in shapes]
        if batch is None or batch * sum(int(np.prod(s)) for s in sizes) > 2**20:
            batch = None
        samples = [Tensor(np.zeros((batch or 1, *s), self._input_dtype())) for s in sizes]
        inputs = samples if isinstance(input_shape, list) else samples[0]
        # the zeros only stand in for shapes: what a call computes from them (0 / 0) is not
        # worth a warning
        with autograd.no_grad(), np.errstate(divide="ignore", invalid="ignore"):
            try:
                outputs = self(inputs, training=False)
            except Exception:
                if not self._call_takes_mask:
                    raise
                masks = [np.ones(t.shape[:2], bool) for t in samples]
                outputs = self(inputs, training=False,
                               mask=masks if isinstance(input_shape, list) else masks[0])
        if isinstance(outputs, (list, tuple)):
            return [_with_batch(o.shape, batch) for o in outputs]
        return _with_batch(outputs.shape, batch)

    def _input_dtype(self):
        """The dtype arrays given to this layer are converted to."""
        return self._dtype

    def compute_mask(self, inputs, mask=None):
        """The mask of the outputs, from the inputs and their mask (None: no mask).

        This default passes the mask on when ``supports_masking`` is True and
        drops it otherwise (as Keras 2 does for Flatten).  Layers that make a
        mask (``Masking``, ``Embedding(mask_zero=True)``) or change it (a
        recurrent layer without ``return_sequences``) override it.
        """
        return mask if self.supports_masking else None

    # --- calling ---------------------------------------------------------
    def __call__(self, inputs, *args, training=None, **kwargs):
        """Apply the layer to a Tensor, an array, a list, or symbolic inputs.

        Real inputs give a Tensor; ``KerasTensor`` inputs (from ``Input``)
        record the call for the functional API and give KerasTensors.
        ``training``: see the module docstring.
        """
        if "mask" in kwargs and self._explicit_mask == "refuse":
            raise TypeError(
                f"{type(self).__name__}.call() got an unexpected keyword argument 'mask' "
                f'(layer "{self.name}" takes no mask; as in Keras, a mask reaches the layers '
                "after a Masking or Embedding(mask_zero=True) by itself).")
        thread = _get_ident()
        outer = _training_now.get(thread, _OUTSIDE)
        position = self._training_position
        if position is not None and len(args) > position and training is None:
            training, args = args[position], args[:position] + args[position + 1:]
        try:
            if self.input_spec is not None:  # your layer's InputSpec (input_spec.py)
                assert_input_compatibility(self.input_spec, inputs, self.name)
            if type(inputs) is not Tensor or inputs.data.dtype is not self._dtype:
                if is_symbolic(inputs):
                    return self._call_symbolic(inputs, args, training, kwargs)
                inputs = self._to_tensors(inputs)
            if not self.built:
                self._build_for(inputs)
            if training is None:  # the outer call's mode, else this layer's own default
                if outer is None or outer is _OUTSIDE:
                    training = self._training_default
                else:
                    training = outer
            elif training is not True and training is not False:
                training = _as_training_flag(self, training)
            if training is not outer:  # (a nested call in the same mode changes nothing)
                _training_now[thread] = training
            if outer is _OUTSIDE and _loss_holders:  # an outermost call: drop the last call's losses
                self._clear_losses()
            mask = None
            if type(inputs) is Tensor:
                mask = inputs._keras_mask
            elif isinstance(inputs, (list, tuple)):
                masks = [getattr(x, "_keras_mask", None) for x in inputs]
                mask = masks if any(m is not None for m in masks) else None
            if "mask" in kwargs:  # given: it wins
                mask = kwargs["mask"] if self._explicit_mask == "pass" else kwargs.pop("mask")
            elif mask is not None and self._call_takes_mask:
                kwargs["mask"] = mask
            if args or kwargs:
                if self._call_takes_training:
                    outputs = self.call(inputs, *args, training=training, **kwargs)
                else:
                    outputs = self.call(inputs, *args, **kwargs)
            elif self._call_takes_training:
                outputs = self.call(inputs, training=training)
            else:
                outputs = self.call(inputs)
            if self._activity_regularizer is not None:
                self._regularize_activity(outputs)
            if mask is not None or self._makes_masks:
                _attach_mask(outputs, self.compute_mask(inputs, mask), self)
            if type(outputs) is np.ndarray:  # strings or integers (a lookup layer's output)
                outputs = eager(outputs)
            return outputs
        except Exception as error:
            if outer is _OUTSIDE and traceback_utils.is_traceback_filtering_enabled():
                # minidl removed its own frames from this traceback (your code and the
                # message are what matter); minidl.config.disable_traceback_filtering()
                # shows them all
                raise error.with_traceback(traceback_utils.filtered(error.__traceback__)) from None
            raise
        finally:
            if outer is _OUTSIDE:
                _training_now.pop(thread, None)
            elif training is not outer:
                _training_now[thread] = outer

    def _to_tensors(self, inputs):
        """Arrays become Tensors of this layer's dtype; float Tensors of another
        float dtype are cast (as Keras does); a list of arrays stays a list."""
        if isinstance(inputs, Tensor):
            if inputs.data.dtype != self._dtype and inputs.data.dtype.kind == "f":
                return ops.cast(inputs, self._dtype)
            return inputs
        if self._nested_inputs and isinstance(inputs, tuple):
            return like(inputs, [self._to_tensors(x) for x in inputs])
        if isinstance(inputs, (list, tuple)) and inputs and (
                self._multi_input or all(isinstance(x, (Tensor, np.ndarray)) for x in inputs)):
            return [self._to_tensors(x) for x in inputs]
        return Tensor(inputs, dtype=self._input_dtype())

    def _build_for(self, inputs):
        if self._nested_inputs and isinstance(inputs, (list, tuple)):
            self.maybe_build(map_nest(lambda x: tuple(x.shape), inputs))
        elif isinstance(inputs, (list, tuple)):
            self.maybe_build([tuple(x.shape) for x in inputs])
        else:
            self.maybe_build(tuple(inputs.shape))

    def maybe_build(self, input_shape):
        """``build(input_shape)`` unless already built; remembers the shape."""
        if not self.built:
            self.build(input_shape)
            self.built = True
            self._build_input_shape = _batch_unknown(input_shape)

    def _call_symbolic(self, inputs, args=(), training=None, kwargs=None):
        """Functional API: shapes only, and a Node remembering the call
        (and an explicit ``training=``, which the model will honour)."""
        list_input = isinstance(inputs, (list, tuple))
        nested = list_input and self._nested_inputs and (type(inputs) is not list or any(
            isinstance(t, (list, tuple)) for t in inputs))  # (a flat list: as any layer)
        tensors = flatten(inputs) if nested else list(inputs) if list_input else [inputs]
        if self._integer_inputs == "refuse":
            self._refuse_integer_inputs(tensors)
        shapes = [tuple(t.shape) for t in tensors]
        shape = pack_as(inputs, shapes) if nested else shapes if list_input else shapes[0]
        with node_scope(_Probe()) as probe:  # tensors of the graph that call() reads: zeros
            self.maybe_build(shape)
            output_shape = self._symbolic_output_shape(shape)
        multi_output = not is_shape(output_shape)
        output_shapes = _flat_shapes(output_shape) if multi_output else [output_shape]
        call_kwargs = dict(kwargs or {})
        if training is not None:
            call_kwargs["training"] = bool(training)
        node = Node(self, tensors, list_input, tuple(args), call_kwargs,
                    structure=inputs if nested else None)
        node.captured = [t for t in probe.captured if not any(t is i for i in tensors)]
        node_index = len(self._inbound_nodes)
        self._inbound_nodes.append(node)
        batch = _static_batch(shapes)
        node.outputs = [
            KerasTensor(_with_batch(s, batch), self, node_index, i)
            for i, s in enumerate(output_shapes)
        ]
        node.returned = pack_outputs(output_shape, node.outputs) if multi_output \
            else node.outputs[0]
        self._attach_symbolic_masks(tensors, list_input, call_kwargs,
                                    node.returned if multi_output else node.outputs)
        return node.returned

    def _attach_symbolic_masks(self, tensors, list_input, kwargs, outputs):
        """Give ``outputs`` the ``_keras_mask`` Keras 2 shows on them: the masks the same
        call will give when the model runs (see ``__call__``), found by running
        ``compute_mask`` on stand-ins (zeros, masks that keep every step).  When
        compute_mask cannot run on stand-ins they stay None; the real masks still flow
        when the model runs."""
        if "mask" in kwargs:
            masks = kwargs["mask"]
        else:
            masks = [t._keras_mask for t in tensors]
            masks = (masks if any(m is not None for m in masks) else None) if list_input \
                else masks[0]
        if masks is None and not self._makes_masks:
            return
        sizes = [(1, *(_STAND_IN_SIZES[0] if d is None else d for d in t.shape[1:]))
                 for t in tensors]

        def stand_in(mask, size):
            return None if mask is None else np.ones(size[:mask.ndim], bool)

        if isinstance(masks, (list, tuple)):
            masks = [stand_in(m, s) for m, s in zip(masks, sizes)]
        else:
            masks = stand_in(masks, sizes[0])
        try:  # (strings, for TextVectorization, have no stand-ins: no mask shown)
            zeros = [Tensor(np.zeros(s, np.int64 if np.dtype(t.dtype).kind in "iu"
                                     else np.float32)) for s, t in zip(sizes, tensors)]
            with node_scope(_Probe()), autograd.no_grad():
                found = self.compute_mask(zeros if list_input else zeros[0], masks)
        except Exception:
            return
        _attach_symbolic_mask(outputs, found)

    def _refuse_integer_inputs(self, tensors):
        for tensor in tensors:
            if np.dtype(tensor.dtype).kind in "iu":
                raise ValueError(
                    f'{type(self).__name__} layer "{self.name}" computes in floats and received '
                    f"an integer input ({tensor.dtype}, shape {tensor.shape}, from layer "
                    f'"{tensor.layer.name}"), as Keras refuses too. Integer inputs carry word '
                    "indices into an Embedding; for numbers use Input(..., dtype='float32')."
                )

    def _symbolic_output_shape(self, shape):
        """The output shape(s) of a call on symbolic inputs of ``shape``.

        Keras 2 runs a layer's ``call`` on symbolic tensors, so a layer gives exactly
        what its ``call`` returns (one tensor, or a list).  minidl's own layers state
        their shapes in ``compute_output_shape``; a layer you write is run once on
        zeros instead (when its input sizes are known), so that a ``compute_output_shape``
        that disagrees with ``call`` cannot change what the layer returns.
        """
        cls = type(self)
        if (cls.compute_output_shape is Layer.compute_output_shape
                or cls.__module__.startswith("minidl.") or _has_unknown_sizes(shape)):
            return self.compute_output_shape(shape)
        return Layer.compute_output_shape(self, shape)

    # --- losses: add_loss() and regularizers ------------------------------
    def add_loss(self, loss, inputs=None):
        """Add a scalar Tensor to the loss ``fit`` minimises, from inside ``call``.

        ``inputs`` is accepted and ignored, as in tf.keras 2 (Keras 2.0's
        ``self.add_loss(loss, inputs=inputs)``).

        ``layer.losses`` holds the losses of the layer's latest call (and of its
        sublayers'); they are dropped at the start of the next outermost call.
        A function of no arguments (``lambda: 1e-3 * ops.sum(self.w * self.w)``)
        is kept instead, and called each time ``losses`` is read: that is how
        the penalties of weight regularizers follow the current weights.
        """
        key = id(self)
        if callable(loss) and not isinstance(loss, Tensor):
            self._callable_losses.append(loss)
            _callable_loss_holders[key] = weakref.ref(
                self, lambda _, key=key: _callable_loss_holders.pop(key, None))
            return
        self._own_losses.append(self._as_scalar_loss(loss))
        _loss_holders[key] = weakref.ref(self, lambda _, key=key: _loss_holders.pop(key, None))

    def add_metric(self, value, name=None, aggregation=None):
        """Report the running mean of ``value`` (a Tensor or array computed in
        ``call``) in fit's and evaluate's logs, as ``name`` (Keras 2).

        Each call adds the elements of ``value`` to a ``metrics.Mean`` of that
        name: the logged value is the mean of every element added since the
        metrics were last reset (fit resets them at each epoch, evaluate at
        its start).  ``aggregation``: "mean" (the only one Keras 2 supports for
        a tensor) or None, which means the same.  The metrics appear in the
        model's ``metrics`` after the compiled ones, layer by layer.
        """
        from minidl import metrics as metrics_module

        if aggregation not in (None, "mean"):
            raise ValueError(
                f'Layer "{self.name}": add_metric() supports aggregation="mean" only (the mean '
                f"over the batch and the epoch), received aggregation={aggregation!r}."
            )
        if not isinstance(name, str) or not name:
            raise ValueError(
                f'Layer "{self.name}": add_metric() needs a name for the logs, for example '
                f'self.add_metric(ops.mean(inputs), name="mean_activation").'
            )
        added = vars(self).get("_added_metrics")
        if added is None:
            added = {}
            object.__setattr__(self, "_added_metrics", added)  # bookkeeping: not tracked
            key = id(self)
            _metric_holders[key] = weakref.ref(self, lambda _, key=key: _metric_holders.pop(key, None))
        metric = added.get(name)
        if metric is None:
            metric = added[name] = metrics_module.Mean(name=name)
        metric.update_state(value.data if isinstance(value, Tensor) else value)

    def _added_metrics(self):
        """The metrics ``add_metric`` made in this layer and its sublayers, layer by layer."""
        if not _metric_holders:  # the common case: no layer called add_metric
            return []
        return [metric for layer in self._self_and_sublayers()
                for metric in vars(layer).get("_added_metrics", {}).values()]

    def _as_scalar_loss(self, loss):
        if not isinstance(loss, Tensor):
            loss = Tensor(loss, dtype=self._dtype)
        if loss.size != 1:
            raise ValueError(
                f'Layer "{self.name}": add_loss() takes a scalar, received a tensor of shape '
                f"{loss.shape}; reduce it first (for example with .mean())."
            )
        return loss.reshape(()) if loss.ndim else loss

    @property
    def losses(self):
        """The losses of this layer and its sublayers (Keras's order: layer by layer,
        this one first): those ``add_loss`` added during the latest call, then the
        penalties of weight regularizers, computed from the current weights."""
        if not _loss_holders and not _callable_loss_holders:  # the common case: nothing
            return []
        found = []
        for layer in self._self_and_sublayers():
            found += layer._own_losses
            for function in layer._callable_losses:
                loss = function()
                if loss is not None:
                    found.append(layer._as_scalar_loss(loss))
        return found

    def _self_and_sublayers(self):
        """This layer, then every layer inside it, depth first, each once."""
        found, seen, stack = [], set(), [self]
        while stack:
            layer = stack.pop()
            if id(layer) not in seen:
                seen.add(id(layer))
                found.append(layer)
                stack.extend(reversed(layer._sublayers()))
        return found

    def _clear_losses(self):
        self._own_losses.clear()
        _loss_holders.pop(id(self), None)
        for layer in self._sublayers():
            layer._clear_losses()

    @property
    def activity_regularizer(self):
        """A penalty on this layer's outputs (None: none), as ``activity_regularizer=``."""
        return self._activity_regularizer

    @activity_regularizer.setter
    def activity_regularizer(self, regularizer):
        self._activity_regularizer = self._regularizer("activity_regularizer", regularizer)

    def _regularizer(self, argument, identifier):
        """``regularizers.get(identifier)``, its errors naming this layer and ``argument``."""
        try:
            return regularizers.get(identifier)
        except (TypeError, ValueError) as error:
            raise type(error)(
                f'{type(self).__name__} layer "{self.name}": {argument}: {error}') from None

    def _constraint(self, argument, identifier):
        """``constraints.get(identifier)``, its errors naming this layer and ``argument``."""
        try:
            return constraints.get(identifier)
        except (TypeError, ValueError) as error:
            raise type(error)(
                f'{type(self).__name__} layer "{self.name}": {argument}: {error}') from None

    def _regularize_activity(self, outputs):
        """add_loss(activity_regularizer(output) / batch size) for each output: divided,
        as in Keras, so that its weight against the other losses does not depend on
        the batch size."""
        for output in outputs if isinstance(outputs, (list, tuple)) else [outputs]:
            penalty = self._activity_regularizer(output)
            batch = output.shape[0] if output.ndim else 1
            self.add_loss(ops.div(penalty, batch) if batch else penalty)

    # --- weights ---------------------------------------------------------
    def add_weight(self, name=None, shape=None, dtype=None, initializer=None, regularizer=None,
                   trainable=None, constraint=None):
        """Create a weight (a ``Variable`` named ``"<layer>/<name>"``) and track it.

        Keras 2's signature, so custom layers port unchanged:
        ``self.w = self.add_weight(shape=(input_shape[-1], 32), initializer="random_normal")``.
        The initializer defaults to glorot_uniform, as in Keras.  ``regularizer``
        (see ``minidl.regularizers``) puts ``regularizer(weight)`` in ``losses``;
        ``constraint`` (see ``minidl.constraints``) becomes ``weight.constraint``,
        which the optimizers apply after each update.
        """
        if isinstance(name, (tuple, list)) and shape is None:  # add_weight((3, 4)), Keras 3's order
            name, shape = None, name
        if shape is None:
            raise ValueError(f'Layer "{self.name}": add_weight() needs a shape, e.g. shape=(784, 32).')
        shape = tuple(shape)
        if not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0 for d in shape):
            raise ValueError(
                f'Layer "{self.name}": add_weight() needs a shape of non-negative integers, '
                f"received {shape!r}."
            )
        regularizer = self._regularizer("regularizer", regularizer)
        constraint = self._constraint("constraint", constraint)
        if name is None:
            name = f"weight_{len(self._own_trainable) + len(self._own_non_trainable)}"
        dtype = self._dtype if dtype is None else as_dtype(dtype, f'Layer "{self.name}"')
        trainable = True if trainable is None else bool(trainable)
        init = initializers.get("glorot_uniform" if initializer is None else initializer)
        weight = Variable(init(shape, dtype), trainable=trainable, dtype=dtype,
                          name=f"{self.name}/{name}", constraint=constraint)
        weight.requires_grad = trainable and self._trainable
        (self._own_trainable if trainable else self._own_non_trainable).append(weight)
        if regularizer is not None:
            self.add_loss(functools.partial(regularizer, weight))
        return weight

    def _sublayers(self):
        """The layers held in this layer's attributes (directly or in containers);
        weights found there for the first time (put in a list after it was
        assigned) become this layer's own."""
        seen = {id(self)}
        layers, weights = [], []
        attributes = vars(self)
        for name in self._tracked_names:
            value = attributes[name]
            if isinstance(value, Layer):  # the common cases first, without a search
                if id(value) not in seen:
                    seen.add(id(value))
                    layers.append(value)
            elif isinstance(value, Tensor):
                if is_weight(value):
                    weights.append(value)
            else:
                for item in find_tracked(value, seen, Layer):
                    (layers if isinstance(item, Layer) else weights).append(item)
        if weights:
            self._adopt(weights)
        return layers

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        """Freezing a layer (``trainable = False``) freezes the layers inside it
        too, and moves their weights to ``non_trainable_weights``: no
        gradients, no updates."""
        self._trainable = bool(value)
        for weight in self._own_trainable:
            weight.requires_grad = self._trainable
        for layer in self._sublayers():
            layer.trainable = value

    @property
    def trainable_weights(self):
        """This layer's own trainable weights, then its sublayers' (Keras's order)."""
        if not self._trainable:
            return []
        sublayers = self._sublayers()
        if not sublayers:
            return list(self._own_trainable)
        return _unique(self._own_trainable + _gather(sublayers, "trainable_weights"))

    @property
    def non_trainable_weights(self):
        sublayers = self._sublayers()
        if self._trainable:
            return _unique(self._own_non_trainable + _gather(sublayers, "non_trainable_weights"))
        return _unique(self._own_trainable + self._own_non_trainable + _gather(sublayers, "weights"))

    @property
    def weights(self):
        """All weights: trainable first, as Keras orders them."""
        return _unique(self.trainable_weights + self.non_trainable_weights)

    @property
    def variables(self):
        return self.weights

    @property
    def trainable_variables(self):
        return self.trainable_weights

    @property
    def non_trainable_variables(self):
        return self.non_trainable_weights

    def get_weights(self):
        """The weights as a list of NumPy arrays (copies)."""
        return [w.data.copy() for w in self.weights]

    def set_weights(self, weights):
        """Overwrite the weights in place from a list of arrays (the order of
        ``get_weights()``).  Everything is checked first: a wrong count, shape
        or dtype raises a ValueError naming the weight, and changes nothing."""
        assign_all(self.weights, weights, f'Layer "{self.name}"', self.built)

    def count_params(self):
        """How many numbers the weights hold."""
        if not self.built:
            raise ValueError(
                f'Layer "{self.name}" is not built yet, so its weights do not exist: '
                "call it on data first, or give input_shape= to the model's first layer."
            )
        return sum(w.size for w in self.weights)

    # --- shapes ----------------------------------------------------------
    @property
    def input_shape(self):
        """The input shape with the batch axis, e.g. ``(None, 784)``."""
        if self._build_input_shape is None:
            raise AttributeError(f'Layer "{self.name}" has not been built, so its input shape is unknown.')
        return self._build_input_shape

    @property
    def output_shape(self):
        """The output shape with the batch axis, e.g. ``(None, 128)``."""
        if self._build_input_shape is None:
            raise AttributeError(f'Layer "{self.name}" has not been built, so its output shape is unknown.')
        return self.compute_output_shape(self._build_input_shape)

    @property
    def output(self):
        """The symbolic output of this layer's first call on symbolic inputs
        (``Model(inputs=model.input, outputs=model.layers[2].output)``); a list
        for several outputs.  Later calls: ``get_output_at(node_index)``."""
        return self.get_output_at(0)

    @property
    def input(self):
        """The symbolic input of this layer's first call on symbolic inputs."""
        return self.get_input_at(0)

    def get_input_at(self, node_index):
        """The symbolic input of call ``node_index`` on symbolic inputs (Keras 2)."""
        return node_tensors(self, node_index, "input")

    def get_output_at(self, node_index):
        """The symbolic output of call ``node_index`` on symbolic inputs (Keras 2)."""
        return node_tensors(self, node_index, "output")

    def get_input_shape_at(self, node_index):
        """The input shape of call ``node_index``, e.g. ``(None, 784)``."""
        return shapes_of(self.get_input_at(node_index))

    def get_output_shape_at(self, node_index):
        """The output shape of call ``node_index``, e.g. ``(None, 128)``."""
        return shapes_of(self.get_output_at(node_index))

    # --- config ----------------------------------------------------------
    def get_config(self):
        """The constructor arguments, as plain data (JSON-friendly)."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = tuple(self._batch_input_shape)  # a tuple, as Keras 2
        if self._activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self._activity_regularizer)
        if type(self).get_config is Layer.get_config:  # your own layer's __init__ arguments
            return auto_config.config_of(self, config) or config
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} built={self.built}>"


# Attributes of the machinery that hold layers or weights without owning them.
_BOOKKEEPING = frozenset({"_inbound_nodes", "_step_weights", "_compile_args", "_graph", "inputs",
                          "outputs", "_nodes"})


def _attach_mask(outputs, mask, layer):
    """Put ``mask`` (a mask, or one per output) on the output tensor(s).  None leaves
    an output's mask as it is: a model's output keeps what its last layer gave it."""
    if isinstance(outputs, Tensor):
        if mask is None:
            return
        mask = np.asarray(mask.data if isinstance(mask, Tensor) else mask)
        if mask.ndim == 0:
            raise TypeError(
                f'Layer "{layer.name}": compute_mask returned {mask!r}, not a boolean array '
                "shaped (batch, timesteps); compare the arrays, e.g. inputs.data != 0 "
                "(a Tensor compared with == or != is one bool, as any Python object).")
        outputs._keras_mask = mask.astype(bool, copy=False)
    elif isinstance(outputs, (list, tuple)):
        masks = mask if isinstance(mask, (list, tuple)) else [mask] * len(outputs)
        for output, one in zip(outputs, masks):
            _attach_mask(output, one, layer)


def _attach_symbolic_mask(outputs, mask):
    """Give the placeholder(s) ``outputs`` (a list or tuple, maybe nested) the symbolic
    form of ``mask`` (one mask, or one per output, nested alike)."""
    if isinstance(outputs, (list, tuple)):
        masks = mask if isinstance(mask, (list, tuple)) else [mask] * len(outputs)
        for output, one in zip(outputs, masks):
            _attach_symbolic_mask(output, one)
    elif mask is not None and np.ndim(mask) > 0:
        outputs._keras_mask = SymbolicMask(outputs, outputs.shape[:np.ndim(mask)])


def _gather(layers, attribute):
    return [w for layer in layers for w in getattr(layer, attribute)]


def _unique(weights):
    """``weights`` without repeats (a layer shared by two parents), in order."""
    seen = set()
    return [w for w in weights if not (id(w) in seen or seen.add(id(w)))]


def assign_all(weights, values, owner, built=True):
    """Check every value against its weight (count, shape, real numbers) and cast it
    to the weight's dtype, then assign them all: a refused call changes nothing, and
    no assignment can fail after the first one."""
    values = list(values)
    expected = [tuple(w.shape) for w in weights]
    if len(values) != len(weights):
        raise ValueError(
            f"{owner} has {len(weights)} weight arrays, set_weights() received {len(values)}. "
            f"Expected shapes: {expected}."
            + ("" if built else " It is not built yet: call it on data first.")
        )
    arrays = []
    for weight, value in zip(weights, values):
        array = np.asarray(value.data if isinstance(value, Tensor) else value)
        if array.dtype.kind not in "biuf":
            raise ValueError(
                f"{owner}: weight {weight.name!r} needs real numbers, received an array of "
                f"dtype {array.dtype}."
            )
        if tuple(array.shape) != tuple(weight.shape):
            layer = weight.name.split("/", 1)[0] if weight.name and "/" in weight.name else None
            where = owner if layer is None else f'Layer "{layer}"'
            raise ValueError(
                f"{where}: weight {weight.name!r} has shape {tuple(weight.shape)}, "
                f"set_weights() received an array of shape {tuple(array.shape)}."
            )
        with np.errstate(over="ignore"):  # as Tensor.assign: too large for float32 is inf
            arrays.append(array.astype(weight.dtype, copy=False))
    for weight, array in zip(weights, arrays):
        weight.data[...] = array
        autograd.mark_changed(weight)


def _runs_once(build):
    """Wrap a model's ``build`` so that the run it may start (``super().build()``
    runs the model on zeros) does not call it a second time."""

    @functools.wraps(build)
    def wrapper(self, input_shape=None):
        outer = self._in_build
        self._in_build = True
        try:
            return build(self, input_shape)
        finally:
            self._in_build = outer

    return wrapper


def _as_training_flag(layer, training):
    """``training`` (0, 1, np.bool_, a one-element array...) as a bool, or a TypeError."""
    try:
        return bool(training)
    except (TypeError, ValueError):
        raise TypeError(
            f'Layer "{layer.name}" ({type(layer).__name__}): training must be True, False or '
            f"None, received {type(training).__name__} of shape {np.shape(training)}. (The "
            f"second positional argument of a model's or layer's call is training, as in "
            f"Keras: pass other inputs in a list as the first.)"
        ) from None


_STAND_IN_SIZES = (4, 6)  # unknown sizes while a layer's output shape is found


def _merge_stand_in_shapes(first, second):
    """The output shape(s) of two runs on different stand-in sizes: a size both give
    is known, one that differs is None."""
    if isinstance(first, list) != isinstance(second, list) or (
            isinstance(first, list) and len(first) != len(second)):
        raise ValueError("the number of outputs changed with the input sizes")
    if isinstance(first, list):
        return [_merge_stand_in_shapes(a, b) for a, b in zip(first, second)]
    if len(first) != len(second):
        raise ValueError(f"the output rank changed with the input sizes: {first}, {second}")
    return tuple(a if a == b else None for a, b in zip(first, second))


def _has_unknown_sizes(shape):
    """Whether a shape (or list of shapes) has an unknown size past the batch axis."""
    shapes = shape if isinstance(shape, list) else [shape]
    return any(d is None for s in shapes for d in tuple(s)[1:])


def _batch_unknown(shape):
    """A shape (or a nest of shapes) with the batch axis as None, as stored and shown."""
    if not is_shape(shape):
        return like(shape, [_batch_unknown(s) for s in shape])
    shape = tuple(shape)
    return (None, *shape[1:]) if shape else shape


def _static_batch(shapes):
    """The batch size every input shape states (``Input(batch_shape=(32, ...))``), or None
    when one of them leaves it unknown or they disagree."""
    sizes = {tuple(s)[0] if len(tuple(s)) else None for s in shapes}
    return sizes.pop() if len(sizes) == 1 else None


def _flat_shapes(shapes):
    """Output shapes (tuples) in lists or tuples, maybe nested, as one flat list."""
    return flatten(shapes, is_leaf=is_shape)


def _with_batch(shape, batch):
    """An output shape with the inputs' static batch size, as Keras keeps it: ``batch``
    where the layer kept that batch axis, None otherwise."""
    shape = tuple(shape)
    if not shape or batch is None or shape[0] != batch:
        return _batch_unknown(shape)
    return shape


def _marks_built(build):
    """Wrap a subclass's ``build`` so that calling it directly, as Keras
    users do (``layer.build((None, 784))``), also marks the layer built."""

    @functools.wraps(build)
    def wrapper(self, input_shape):
        build(self, input_shape)
        self.built = True
        if self._build_input_shape is None:
            self._build_input_shape = _batch_unknown(input_shape)

    return wrapper


def name_weights_under(owner_name, layer):
    """Keras 2 names the weights of a layer built inside a wrapper under the wrapper's
    name ("bidirectional/forward_lstm/lstm_cell/kernel", "rnn/lstm_cell/kernel"):
    prefix each of ``layer``'s weights with ``owner_name/``, once."""
    for weight in layer.weights:
        if weight.name and not weight.name.startswith(f"{owner_name}/"):
            weight.name = f"{owner_name}/{weight.name}"


def check_positive_int(label, argument, value, meaning=""):
    """``value`` as an int; a TypeError when it is not an integer (a string, a float,
    None: as Keras; an ``ArgumentTypeError``, so also a ValueError), a ValueError when
    it is not positive."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        error = ArgumentTypeError
    elif value <= 0:
        error = ValueError
    else:
        return int(value)
    raise error(f"{label}: {argument} must be a positive integer, received {value!r}{meaning}.")


def check_positive_ints(layer_name, argument, value, length):
    """``value`` (an int or a tuple of ``length`` ints) as a tuple of positive ints."""
    received = value
    if isinstance(value, (int, np.integer)):
        value = (int(value),) * length
    try:
        value = tuple(int(v) for v in value)
    except (TypeError, ValueError):
        value = ()
    if len(value) != length or any(v <= 0 for v in value):
        raise ValueError(
            f"{layer_name}: {argument} must be a positive integer or a tuple of "
            f"{length} positive integers, received {received!r}."
        )
    return value


def product(shape):
    """The number of entries in ``shape`` (None if any axis is unknown)."""
    return None if any(d is None for d in shape) else math.prod(shape)


# id -> weak reference of each layer that called add_metric(): while it is empty, a
# model's ``metrics`` need not look through its layers for them
_metric_holders = {}
