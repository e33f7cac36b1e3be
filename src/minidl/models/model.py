"""``Model``: layers grouped into one callable thing that can be trained.

Three ways to make one, as in Keras:

* ``Sequential([...])``: a stack, each layer feeding the next;
* functional: ``Model(inputs=Input(...), outputs=...)`` (see ``functional.py``);
* subclassing: ``class Net(Model)`` with layers made in ``__init__`` and a
  ``call(self, x, training=False)`` you write.  The model finds its layers
  (and so its weights) in its attributes, also in lists and dicts
  (``minidl.layers.tracking``).  A subclass called the functional way,
  ``CustomModel(inputs, outputs)``, is a functional model that keeps the
  methods you wrote (a ``train_step`` of your own, say).

``Model`` is itself a ``Layer`` (a model can be used inside another), and
gets ``compile``/``fit``/``evaluate``/``predict`` from ``Trainer``.

A subclassed model trained by a loop you write yourself::

    class Net(minidl.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(128, activation="relu")
            self.out = layers.Dense(10)

        def call(self, x, training=False):
            return self.out(self.hidden(x))

    net, optimizer = Net(), minidl.optimizers.Adam()
    loss_fn = minidl.losses.SparseCategoricalCrossentropy(from_logits=True)
    for xb, yb in batches:
        with minidl.GradientTape() as tape:
            loss = loss_fn(yb, net(xb, training=True))
        grads = tape.gradient(loss, net.trainable_weights)
        optimizer.apply_gradients(zip(grads, net.trainable_weights))
"""

from __future__ import annotations

import numpy as np

from minidl import autograd
from minidl.layers.base import Layer, assign_all, product
from minidl.layers.input import STRING_DTYPE
from minidl.layers.node import is_symbolic, shapes_of
from minidl.layers.text_tokens import as_strings
from minidl.models.training import Trainer
from minidl.tensor import Tensor
from minidl.utils.traceback_utils import filter_traceback


class Model(Layer, Trainer):
    """Base class of every model; subclass it to write your own ``call``."""

    _build_marks_built = False
    _drops_explicit_mask = True  # model(x, mask=m): the layers find their own masks

    def __new__(cls, *args, **kwargs):
        # Model(inputs=..., outputs=...) makes a functional model, as in Keras; so does
        # a subclass called that way (CustomModel(inputs, outputs), to override train_step).
        if _functional_arguments(args, kwargs):
            return object.__new__(functional_class(cls))
        return object.__new__(cls)

    def __init__(self, *args, name=None, trainable=True, **kwargs):
        if _functional_arguments(args, kwargs):
            # a subclass's __init__ calling super().__init__(inputs=..., outputs=...)
            from minidl.models.functional import Functional

            object.__setattr__(self, "__class__", functional_class(type(self)))
            Functional.__init__(self, *args, name=name, trainable=trainable, **kwargs)
            return
        if args == (self,):  # super().__init__(self), as TF's text generation tutorial
            args = ()  # writes it: Keras 2 ignores positional arguments there
        if args:
            received = ", ".join("self" if a is self else repr(a) for a in args)
            raise TypeError(
                f"{type(self).__name__}() takes keyword arguments (name=..., trainable=...), "
                f"received positional ({received}); Model(inputs, outputs) needs tensors from "
                "Input().")
        Layer.__init__(self, name=name, trainable=trainable, **kwargs)
        self._shapes = None  # (input_shapes, output_shapes) once the model has run

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """A functional model's config rebuilds the graph (also for a subclass of
        Model built the functional way); otherwise ``cls(**config)``."""
        if isinstance(config, dict) and "input_layers" in config:
            from minidl.models.functional import Functional

            return Functional.from_config.__func__(cls, config, custom_objects)
        return cls(**config)

    # --- layers and weights --------------------------------------------
    @property
    def layers(self):
        """The layers, in the order they were assigned as attributes (also in
        lists and dicts, see ``minidl.layers.tracking``)."""
        return self._sublayers()

    def get_layer(self, name=None, index=None):
        """A layer by ``name`` or by position ``index``."""
        layers = self.layers
        if index is not None:
            if not -len(layers) <= index < len(layers):
                raise ValueError(
                    f'Model "{self.name}" has {len(layers)} layers, received index={index}.'
                )
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f'No layer named {name!r} in model "{self.name}"; its layers are '
            f"{[layer.name for layer in layers]}."
        )

    def _collect(self, attribute):
        """``attribute`` of each layer, then the model's own (Keras's order for
        models: layer by layer, then what the model created itself)."""
        result, seen = [], set()
        for layer in self.layers:
            for weight in getattr(layer, attribute):
                if id(weight) not in seen:
                    seen.add(id(weight))
                    result.append(weight)
        for weight in self._own_weights(attribute):
            if id(weight) not in seen:
                seen.add(id(weight))
                result.append(weight)
        return result

    def _own_weights(self, attribute):
        """Weights made with ``self.add_weight`` (or assigned) in a subclassed model."""
        self._sublayers()  # adopts weights put in a list after it was assigned
        if attribute == "weights":
            return self._own_trainable + self._own_non_trainable
        if attribute == "trainable_weights":
            return self._own_trainable if self._trainable else []
        return self._own_non_trainable + ([] if self._trainable else self._own_trainable)

    @property
    def trainable_weights(self):
        self._assert_weights_created()
        return self._collect("trainable_weights") if self.trainable else []

    @property
    def non_trainable_weights(self):
        self._assert_weights_created()
        if not self.trainable:
            return self._collect("weights")
        return self._collect("non_trainable_weights")

    @property
    def weights(self):
        """All weights, layer by layer (Keras's ``model.get_weights()`` order)."""
        self._assert_weights_created()
        return self._collect("weights")

    def _assert_weights_created(self):
        """As Keras: a model that builds its weights in ``build`` (a Sequential without
        an input shape, say) has none to list before it is built; [] would look like a
        model with nothing to train."""
        if not self.built and type(self).build is not Model.build:
            raise ValueError(
                f"Weights for model {self.name!r} have not yet been created. Weights are "
                "created when the model is first called on inputs or `build()` is called "
                "with an `input_shape`."
            )

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        for layer in self.layers:
            layer.trainable = value
        for weight in self._own_trainable:
            weight.requires_grad = self._trainable

    def set_weights(self, weights):
        """Set every weight from a flat list (the order of ``get_weights()``).

        A wrong number of arrays or a wrong shape raises a ValueError that
        names the weight and both shapes; nothing is changed in that case.
        """
        assign_all(self.weights, weights, f'Model "{self.name}"', self.built)

    def count_params(self):
        self._require_built("count_params()")
        return sum(w.size for w in self.weights)

    # --- running -------------------------------------------------------
    @filter_traceback
    def __call__(self, inputs, *args, training=None, **kwargs):
        """Run the model on arrays/Tensors: a Tensor, or a list for several outputs."""
        if is_symbolic(inputs):
            return self._call_symbolic(inputs, args, training, kwargs)
        inputs = self._prepare_inputs(inputs)
        outputs = Layer.__call__(self, inputs, *args, training=training, **kwargs)
        if self._shapes is None:
            self._record_shapes(inputs, outputs)
        return outputs

    def _prepare_inputs(self, inputs):
        """Arrays and lists become Tensors (a list of them for several inputs),
        of the dtype the model's inputs have (float32 unless it is a float64 model)."""
        if isinstance(inputs, Tensor):
            return inputs
        if isinstance(inputs, dict):
            inputs = self._flat_inputs(inputs, "inputs")
            inputs = inputs[0] if len(inputs) == 1 else inputs
        dtype = self._input_dtype()
        if type(inputs) is np.ndarray and inputs.dtype == dtype and inputs.flags.c_contiguous:
            return Tensor._wrap(inputs)  # a batch fit() prepared: no copy, nothing to check
        integer = self.integer_inputs()
        if isinstance(inputs, (list, tuple)) and self._is_input_list(inputs):
            return [_prepare_one(x, integer, i, dtype, self.name) for i, x in enumerate(inputs)]
        return _prepare_one(inputs, integer, 0, dtype, self.name)

    def _structured_outputs(self, flat):
        """Per-output values (a list) as the model returns them: one, or the list
        (Functional: a dict for dict outputs)."""
        return flat[0] if len(flat) == 1 else list(flat)

    def _by_output_name(self, value):
        """A per-output argument keyed by output names (Functional: also by the keys
        of dict outputs)."""
        return value

    def _flat_inputs(self, values, what):
        """A dict of input data as the list the model takes (see Functional's)."""
        raise TypeError(f'Model "{self.name}": {what} is a dict, but only a functional model '
                        "built from named Input()s takes its inputs by name; pass an array "
                        "(or a list of arrays).")

    def integer_inputs(self):
        """Per model input: the integer dtype it takes (an ``Input(dtype="int32")``),
        "any" where integer data stay integers (a Sequential starting with an
        Embedding), None where data become floats.  Integer word indices go to the
        Embedding unchanged."""
        return []

    def _to_tensors(self, inputs):
        return inputs  # prepared above; each layer casts to its own dtype

    def _input_dtype(self):
        return self._dtype

    def _is_input_list(self, inputs):
        """Whether a list is several inputs rather than one batch written as a
        list; a subclassed model cannot know, so a list of arrays counts as several."""
        return bool(inputs) and all(isinstance(x, (Tensor, np.ndarray)) for x in inputs)

    def _record_shapes(self, inputs, outputs):
        """Remember input and output shapes after the first run (subclassed models)."""
        self._shapes = (
            [(None, *x.shape[1:]) for x in _as_list(inputs)],
            [(None, *y.shape[1:]) for y in _as_list(outputs)],
        )
        self.built = True
        self._build_input_shape = self._shapes[0][0]

    def maybe_build(self, input_shape):
        """Models build their layers while running; a subclass that defines its
        own ``build(input_shape)`` gets it called before its first run, as in Keras."""
        if not (self.built or self._in_build or type(self).build is Model.build):
            self.build(input_shape)

    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape`` (batch axis first,
        as in Keras: ``model.build((None, 784))``) by running once on zeros."""
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        samples = [np.zeros((1, *tuple(s)[1:]), self._input_dtype()) for s in shapes]
        with autograd.no_grad():
            self(samples if isinstance(input_shape, list) else samples[0], training=False)

    # --- symbolic inputs and outputs (Sequential and functional models) ---
    def _is_graph_model(self):
        """Sequential and functional models have placeholders of their own
        (``model.inputs``); a subclassed model only those it was called on."""
        return "inputs" in vars(self) or hasattr(type(self), "inputs")

    @property
    def input(self):
        """The symbolic input (a list for several inputs), as in Keras."""
        if not self._is_graph_model():
            return Layer.input.fget(self)
        if getattr(self, "_nested_inputs", None) is not None:
            return dict(self._nested_inputs)
        return self.inputs[0] if len(self.inputs) == 1 else list(self.inputs)

    @property
    def output(self):
        """The symbolic output (a list for several outputs), as in Keras."""
        if not self._is_graph_model():
            return Layer.output.fget(self)
        if getattr(self, "_nested_outputs", None) is not None:
            return dict(self._nested_outputs)
        return self.outputs[0] if len(self.outputs) == 1 else list(self.outputs)

    @property
    def input_shape(self):
        """The input placeholders' shapes, e.g. ``(None, 784)`` (a list for several
        inputs); a subclassed model's, once it has run."""
        if not self._is_graph_model():
            return Layer.input_shape.fget(self)
        return _nested_shapes(self.input)

    @property
    def output_shape(self):
        """The output placeholders' shapes, e.g. ``(None, 10)`` (a list for several)."""
        if not self._is_graph_model():
            return Layer.output_shape.fget(self)
        return _nested_shapes(self.output)

    @property
    def input_names(self):
        """The names of the input layers (None for a subclassed model, as in Keras 2)."""
        if not self._is_graph_model():
            return None
        return [t.layer.name for t in self.inputs]

    # --- what the trainer asks -----------------------------------------
    @property
    def inputs_count(self):
        self._require_built("inputs_count")
        return len(self._shapes[0])

    @property
    def input_shapes(self):
        """Input shapes with the batch axis as None, e.g. ``[(None, 784)]``."""
        self._require_built("input_shapes")
        return list(self._shapes[0])

    @property
    def output_shapes(self):
        """Output shapes with the batch axis as None, e.g. ``[(None, 10)]``."""
        self._require_built("output_shapes")
        return list(self._shapes[1])

    @property
    def output_names(self):
        """Keras names subclassed models' outputs ``output_1``, ``output_2``, ..."""
        self._require_built("output_names")
        return [f"output_{i + 1}" for i in range(len(self._shapes[1]))]

    def _require_built(self, what):
        if not self.built:
            raise ValueError(
                f'Model "{self.name}" has not been built yet, so {what} is unknown. Build it by '
                "calling it on a batch of data (model(x[:1])) or with model.build(input_shape), "
                "or give input_shape= to its first layer."
            )

    # --- display and config --------------------------------------------
    def summary(self, line_length=None, positions=None, print_fn=None):
        """Print the Keras table of layers, output shapes and parameter counts."""
        from minidl.models.summary import print_summary

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn)

    def get_config(self):
        """A subclassed model's config is what its own ``get_config`` returns (the
        arguments of its ``__init__``); ``super().get_config()`` there gives ``{}``, as
        in Keras 2.  Without one, the model cannot be described (nor saved, exported to
        JSON or cloned): NotImplementedError, Keras 3's rule for ``save``."""
        if type(self).get_config is not Model.get_config:
            return {}
        raise NotImplementedError(
            f'Model "{self.name}" is a subclassed model ({type(self).__name__}): its '
            "architecture is Python code, which cannot be saved as a config. Implement "
            "get_config() returning the arguments of its __init__ (and from_config() if "
            "cls(**config) does not rebuild it), then save() and load_model(..., custom_objects="
            f"{{{type(self).__name__!r}: {type(self).__name__}}}) work; or save only the weights "
            f"with save_weights() and load them into a new {type(self).__name__}(...)."
        )

    def to_json(self, **kwargs):
        """The architecture as Keras 2's JSON text (no weights); ``kwargs`` go to
        ``json.dumps``.  ``minidl.models.model_from_json`` reads it back."""
        from minidl.models.model_config import model_to_json

        return model_to_json(self, **kwargs)

    def to_yaml(self, **kwargs):
        """Removed, as in Keras 2.6 and later (YAML loading can run code)."""
        raise RuntimeError(
            "Method `model.to_yaml()` has been removed due to security risk of arbitrary code "
            "execution. Please use `model.to_json()` instead."
        )

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r} layers={len(self.layers)} built={self.built}>"


def _prepare_one(value, integer, index, dtype, name):
    """One input's data: a Tensor of ``dtype``, or integers or strings as they are."""
    if isinstance(value, Tensor) or _stays_integer(value, integer, index):
        return value
    if index < len(integer) and integer[index] is STRING_DTYPE:
        return as_strings(value, f"input {index}")
    array = np.asarray(value) if isinstance(value, (list, tuple, str)) else value
    if isinstance(array, np.ndarray) and (array.dtype.kind in "US" or (
            array.dtype.kind == "O" and array.size and isinstance(array.flat[0], (str, bytes)))):
        raise TypeError(
            f'Model "{name}" takes numbers and received strings. A model takes text through '
            "Input(shape=(1,), dtype='string') followed by a TextVectorization layer, or as a "
            "Sequential whose first layer is a TextVectorization; otherwise vectorize the text "
            "first (dataset.map(lambda x, y: (vectorize_layer(x), y)))."
        )
    return Tensor(value, dtype=dtype)


def _stays_integer(value, integer, index):
    """Whether ``value`` (one input's data) goes in as an integer array, unchanged."""
    return (index < len(integer) and integer[index] is not None and isinstance(value, np.ndarray)
            and value.dtype.kind in "iu")


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def check_input_shape(model_name, index, expected, received):
    """Raise a helpful ValueError if ``received`` does not fit ``expected``.

    Both shapes include the batch axis; None in ``expected`` matches anything.
    """
    if len(expected) == len(received) and all(
        e is None or e == r for e, r in zip(expected, received)
    ):
        return
    message = (
        f'Input {index} of model "{model_name}" is incompatible with it: expected shape '
        f"{tuple(expected)}, received shape {tuple(received)}."
    )
    features = product(expected[1:])
    if len(received) > len(expected) and features == product(received[1:]):
        message += (
            f" Did you forget Flatten? Add layers.Flatten() first, or reshape x to (-1, {features})."
        )
    elif len(received) < len(expected) and features == product(received[1:]):
        message += f" Reshape x to {(-1, *expected[1:])}."
    raise ValueError(message)


_functional_classes = {}


def _nested_shapes(tensors):
    """``shapes_of``, also for a dict of placeholders (a model's dict inputs or outputs)."""
    if isinstance(tensors, dict):
        return {key: shapes_of(t) for key, t in tensors.items()}
    return shapes_of(tensors)


def _functional_arguments(args, kwargs):
    """Whether a Model is being called the functional way: ``(inputs, outputs)``."""
    if "inputs" in kwargs or "outputs" in kwargs:
        return True
    return bool(args) and (is_symbolic(args[0]) or isinstance(args[0], dict) and bool(args[0])
                           and all(is_symbolic(v) for v in args[0].values()))


def functional_class(cls):
    """``cls`` itself if it is functional, else a subclass of ``cls`` and
    ``Functional`` (made once per class): the graph comes from Functional,
    ``train_step`` and the other methods you wrote from ``cls``."""
    from minidl.models.functional import Functional

    if issubclass(cls, Functional):
        return cls
    if cls is Model:
        return Functional
    if cls not in _functional_classes:
        _functional_classes[cls] = type(cls.__name__, (cls, Functional), {
            "__module__": cls.__module__, "__qualname__": cls.__qualname__,
            "__doc__": cls.__doc__,
        })
    return _functional_classes[cls]
