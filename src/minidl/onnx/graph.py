"""The ONNX graph builder and the walk over a model's layers.

An ONNX model is a list of nodes (``Conv``, ``Relu``, ...) that read and
write named values, the weights stored beside them as ``initializer``
tensors, and typed graph inputs and outputs.  ``GraphBuilder`` collects
those pieces; ``convert_model`` visits a model's layer calls in the order
the model runs them and asks each layer's converter (``registry``) for the
nodes that compute it.

Values stay in minidl's layout, channels last (NHWC).  The few ONNX ops that
want channels first (``Conv``, ``MaxPool``, ``AveragePool``) are wrapped in
a pair of ``Transpose`` nodes by their converters, so ``Flatten`` and
``Reshape`` see values in the order minidl flattens them; ONNX Runtime's
optimizer cancels the transposes that meet between two convolutions.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from minidl.onnx import registry

BATCH, TIMESTEPS = "batch", "timesteps"  # the dynamic axes: 0, and 1 of any-length sequences


class GraphBuilder:
    """Collects nodes and weights under unique names, for one ``opset``."""

    def __init__(self, opset):
        self.opset = opset
        self.nodes = []
        self.initializers = []
        self._used = set()
        self._constants = {}

    def reserve(self, name):
        """Claim ``name`` (a graph input or output) so no node output takes it."""
        if name in self._used:
            raise ValueError(f"ONNX export: the name {name!r} is used twice in the graph; "
                             "give the model's inputs and outputs distinct names.")
        self._used.add(name)
        return name

    def fresh(self, base):
        """A name not used yet: ``base``, else ``base_1``, ``base_2``, ..."""
        name, i = base, 0
        while name in self._used:
            i += 1
            name = f"{base}_{i}"
        self._used.add(name)
        return name

    def constant(self, value, base, dtype=np.float32):
        """An initializer holding ``value`` (float32 unless ``dtype``); one per array."""
        array = np.asarray(value, dtype=dtype).copy(order="C")  # (a scalar stays 0-d)
        key = (array.dtype.str, array.shape, array.tobytes())
        if key not in self._constants:
            name = self.fresh(base)
            self.initializers.append(numpy_helper.from_array(array, name))
            self._constants[key] = name
        return self._constants[key]

    def ints(self, values, base):
        """An int64 initializer (shapes, axes, pads given as inputs)."""
        return self.constant(np.asarray(values, dtype=np.int64), base, dtype=np.int64)

    def node(self, op, inputs, base, output=None, n_outputs=1, **attributes):
        """Add one node; returns the name of its output (of its ``n_outputs`` outputs, a list)."""
        outputs = [output or self.fresh(base)] + [self.fresh(base) for _ in range(n_outputs - 1)]
        self.nodes.append(helper.make_node(op, list(inputs), outputs,  # "" skips an optional input
                                           name=self.fresh(f"{base}/{op}"), **attributes))
        return outputs[0] if n_outputs == 1 else outputs

    def transpose(self, x, perm, base):
        return self.node("Transpose", [x], base, perm=list(perm))

    def reduce(self, op, x, axes, base, keepdims=False):
        """``ReduceMean``/``ReduceMax``/``ReduceSum`` over ``axes``: the axes are
        an attribute before opset 18 (13 for ReduceSum) and an input from then on."""
        since = 13 if op == "ReduceSum" else 18
        if self.opset >= since:
            return self.node(op, [x, self.ints(axes, f"{base}/axes")], base,
                             keepdims=int(keepdims))
        return self.node(op, [x], base, axes=list(axes), keepdims=int(keepdims))


def value_info(name, shape, elem_type):
    """A typed graph input/output; a None size becomes ``"batch"`` or (axis 1) ``"timesteps"``."""
    dims = [{0: BATCH, 1: TIMESTEPS}.get(i) if d is None else d for i, d in enumerate(shape)]
    if any(d is None for d in dims):
        raise ValueError(f"ONNX export: {name!r} has shape {tuple(shape)} with an unknown size "
                         "besides the batch; build the model with a full input_shape.")
    return helper.make_tensor_value_info(name, elem_type, dims)


def model_steps(model):
    """``(layer, input tensors, list_input, output tensors)`` per layer call, in
    the order the model runs them (Sequential's stack or a functional graph)."""
    from minidl.models.sequential import Sequential

    if isinstance(model, Sequential):
        graph = model._symbolic()
        return [(layer, [graph[i]], False, [graph[i + 1]])
                for i, layer in enumerate(model.layers)]
    if not hasattr(model, "_nodes"):
        raise NotImplementedError(
            f'ONNX export: model "{model.name}" ({type(model).__name__}) is a subclassed model: '
            "its call() is Python code, which has no graph to export. Build it as a Sequential "
            "or functional model of the same layers (and copy the weights) to export it.")
    steps = []
    for node in model._nodes:
        if node.call_kwargs.get("training") or node.call_args:
            raise NotImplementedError(
                f'ONNX export: layer "{node.layer.name}" is called with '
                f"{node.call_args or node.call_kwargs} in model \"{model.name}\"; the exported "
                "file holds the inference graph only (training=False, no extra arguments).")
        steps.append((node.layer, node.inputs, node.list_input, node.outputs))
    return steps


def convert_model(builder, model, input_names):
    """Add the nodes of ``model`` reading ``input_names``; returns its output names
    and their masks (see ``convert_layer``)."""
    from minidl.models.model import Model

    names = {id(t): n for t, n in zip(model.inputs, input_names)}
    masks = {}
    for layer, inputs, list_input, outputs in model_steps(model):
        sources = [names[id(t)] for t in inputs]
        shapes = [tuple(t.shape) for t in inputs]
        in_masks = [masks.get(id(t)) for t in inputs]
        if isinstance(layer, Model):
            if any(m is not None for m in in_masks):
                raise NotImplementedError(_nested_mask_message(layer, "its input carries"))
            results, out_masks = convert_model(builder, layer, sources)
            if any(m is not None for m in out_masks):
                raise NotImplementedError(_nested_mask_message(layer, "its output carries"))
        else:
            results, out_masks = convert_layer(builder, layer, sources, shapes, in_masks,
                                               list_input)
        for tensor, name, mask in zip(outputs, results, out_masks):
            names[id(tensor)] = name
            masks[id(tensor)] = mask
    return [names[id(t)] for t in model.outputs], [masks.get(id(t)) for t in model.outputs]


def _nested_mask_message(model, where):
    return (f'ONNX export: model "{model.name}" is nested in another model and {where} a '
            "timestep mask (from Embedding(mask_zero=True) or Masking); the exporter follows "
            "masks within one model only. Build one model of all the layers to export it.")


def convert_layer(builder, layer, sources, shapes, in_masks, list_input):
    """The output names and output masks of one layer call.

    Masks follow minidl's rules (``Layer.compute_mask``): ``Embedding(mask_zero=True)``
    and ``Masking`` make one, a layer with ``supports_masking`` passes it on, a
    layer that is an identity at inference returns its input (mask included),
    any other layer drops it.  The recurrent layers and Bidirectional read it
    (their converters are registered with ``masks=True``).  A mask reaching any
    other layer whose ``call`` reads masks is refused: exporting the call
    without it would give different values.  In the graph a mask is a float
    0/1 value of shape (batch, timesteps).
    """
    from minidl.onnx.convert_merge import MERGE_LAYERS as _MERGES, merged_mask

    convert = registry.find(layer)
    for one in shapes:
        unknown = [i for i, d in enumerate(one) if d is None and i > 0]
        if unknown == [1] and registry.takes_any_length(layer):
            continue  # a sequence of any length: the graph's "timesteps" axis
        if unknown:
            which = (f"; {type(layer).__name__} needs the number of timesteps (layers that "
                     f"take sequences of any length: {', '.join(registry.any_length_classes())})"
                     if unknown == [1] else "")
            raise ValueError(
                f'ONNX export: layer "{layer.name}" ({type(layer).__name__}) gets inputs of shape '
                f"{one}, with an unknown size besides the batch{which}. Build the model with a "
                "full input shape, e.g. Embedding(..., input_length=200) or "
                "input_shape=(timesteps, features).")
    x, shape = (sources, shapes) if list_input else (sources[0], shapes[0])
    present = [m for m in in_masks if m is not None]
    if registry.reads_masks(layer):
        # a recurrent layer's [sequence, *initial states]: the sequence's mask
        result, out_mask = convert(builder, layer, x, shape, mask=in_masks[0])
    else:
        if present and layer._call_takes_mask:
            raise NotImplementedError(
                f'ONNX export: layer "{layer.name}" ({type(layer).__name__}) reads the timestep '
                "mask of its input (made by Embedding(mask_zero=True) or Masking before it), "
                "which the exporter cannot give it. Remove mask_zero=True / the Masking layer "
                "if the model does not need it, or end the masked part with a recurrent layer.")
        if present and list_input and layer.supports_masking and not isinstance(layer, _MERGES):
            raise NotImplementedError(
                f'ONNX export: layer "{layer.name}" ({type(layer).__name__}) takes a list of '
                "inputs that carry timestep masks; the exporter merges masks only in the merge "
                "layers (Add, Concatenate, ...).")
        result = convert(builder, layer, x, shape)
        if list_input and isinstance(layer, _MERGES):
            out_mask = merged_mask(builder, layer, in_masks, shape)
        else:
            passes = layer.supports_masking or getattr(convert, "keeps_mask", False)
            out_mask = in_masks[0] if passes and not list_input else None
    results = result if isinstance(result, list) else [result]
    out_masks = out_mask if isinstance(out_mask, list) else [out_mask] * len(results)
    return results, out_masks


def build_model_proto(model, opset):
    """The ``onnx.ModelProto`` of a built minidl model."""
    from minidl import __version__

    model_steps(model)  # a model it cannot walk is refused before its inputs are asked for
    builder = GraphBuilder(opset)
    input_names = [builder.reserve(t.layer.name) for t in model.inputs]
    output_names = unique_names(model.output_names)
    for name in output_names:
        builder.reserve(name)
    results, _ = convert_model(builder, model, input_names)
    renamed = {}
    for result, name in zip(results, output_names):
        if result in input_names or result in renamed:  # an input, or an output given twice
            builder.node("Identity", [renamed.get(result, result)], name, output=name)
        else:
            _rename(builder, result, name)
            renamed[result] = name
    graph = helper.make_graph(
        builder.nodes, model.name,
        [value_info(n, t.shape, TensorProto.FLOAT) for n, t in zip(input_names, model.inputs)],
        [value_info(n, t.shape, TensorProto.FLOAT) for n, t in zip(output_names, model.outputs)],
        initializer=builder.initializers,
    )
    opsets = [helper.make_opsetid("", opset)]
    proto = helper.make_model(graph, producer_name="minidl", producer_version=__version__,
                              opset_imports=opsets)
    proto.ir_version = helper.find_min_ir_version_for(opsets)  # older runtimes read it too
    onnx.checker.check_model(proto)
    return proto


def unique_names(names):
    """The graph's output names: a layer with several outputs (``return_state``)
    names them ``rnn``, ``rnn_1``, ``rnn_2`` (Keras's ``output_names`` rule)."""
    taken, counts, unique = set(), {}, []
    for name in names:
        proposal = name
        while proposal in taken:
            counts[name] = counts.get(name, 0) + 1
            proposal = f"{name}_{counts[name]}"
        taken.add(proposal)
        unique.append(proposal)
    return unique


def _rename(builder, old, new):
    """Make the node that writes ``old`` write ``new`` (the model's output name)."""
    for node in builder.nodes:
        for i, name in enumerate(node.output):
            if name == old:
                node.output[i] = new
        for i, name in enumerate(node.input):
            if name == old:
                node.input[i] = new
