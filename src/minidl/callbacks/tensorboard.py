"""``TensorBoard``: write what training does to files that TensorBoard shows.

    model.fit(x, y, epochs=5, validation_split=0.2,
              callbacks=[minidl.callbacks.TensorBoard(log_dir="logs/run1", histogram_freq=1)])

then ``tensorboard --logdir logs`` (TensorBoard, ``pip install tensorboard``; minidl
itself needs neither it nor TensorFlow).  The files are those Keras 2 writes, laid
out the same way (see ``event_file`` for their bytes, ``summaries`` for each kind)::

    logs/run1/train/events.out.tfevents.<time>.<host>.<pid>.<n>.v2
        keras                  step 0         the model's JSON config (Graphs tab)
        epoch_loss, epoch_<metric>, epoch_learning_rate (with a schedule)   step = epoch
        batch_loss, batch_<metric>   step = batches so far   (update_freq="batch" or n)
        <layer>/<weight>_0/histogram, .../image     step = epoch   (histogram_freq)
    logs/run1/validation/events.out.tfevents...
        evaluation_loss_vs_iterations, ...   step = optimizer.iterations (each validation
                                             or evaluate())
        epoch_loss, epoch_<metric>           step = epoch  (the val_ logs, without "val_")
    logs/run1/projector_config.pbtxt, train/keras_embedding.<layer>.tsv   (embeddings_freq)
"""

from __future__ import annotations

import os
import re
import time
import warnings

import numpy as np

from minidl import backend
from minidl.atomic_write import replacing
from minidl.callbacks import summaries
from minidl.callbacks.base import Callback
from minidl.callbacks.event_file import EventFileWriter

# Keras 1 arguments Keras 2 still accepts (and ignores, with these warnings)
_LEGACY_KWARGS = {
    "write_grads": "`write_grads` will be ignored in TensorFlow 2.0 for the `TensorBoard` "
                   "Callback.",
    "batch_size": "`batch_size` is no longer needed in the `TensorBoard` Callback and will be "
                  "ignored in TensorFlow 2.0.",
    "embeddings_layer_names": "`embeddings_layer_names` is not supported in TensorFlow 2.0. "
                              "Instead, all `Embedding` layers will be visualized.",
    "embeddings_data": "`embeddings_data` is not supported in TensorFlow 2.0. Instead, all "
                       "`Embedding` variables will be visualized.",
}


class TensorBoard(Callback):
    """Log the losses and metrics (and optionally weight histograms, weight images and
    embeddings) for TensorBoard, as Keras 2's ``TensorBoard`` callback does.

    ``log_dir`` (a str or a pathlib.Path) gets a ``train`` and a ``validation``
    folder, each with one new event file per ``fit`` (or ``evaluate``) call.
    Nothing is created until training (or evaluation) starts; the files are flushed
    at each epoch's end and closed when training ends.

    * ``update_freq``: ``"epoch"`` writes ``epoch_*`` scalars only; ``"batch"`` (or
      ``1``) also ``batch_*`` scalars after every batch, an int ``n`` after every
      ``n``-th batch (counted over the whole ``fit``, from 1).  Keras 2.21 writes
      these only while another callback makes ``fit`` call the batch hooks (the
      progress bar of ``verbose=1`` does); minidl always writes them.
    * ``histogram_freq=n``: every ``n`` epochs, a histogram of every weight, tagged
      ``<layer>/<weight>_0/histogram`` (Keras's weight name ``dense/kernel:0``, ":"
      made "_"), 30 buckets as ``tf.summary.histogram`` makes them.
    * ``write_images``: with the histograms, each weight as images (see
      ``summaries.weight_images``); without ``histogram_freq`` there are none.
    * ``write_steps_per_second``: ``epoch_steps_per_second`` and, with
      ``update_freq``, ``batch_steps_per_second``.
    * ``write_graph``: the model's JSON config (Sequential and functional models;
      a subclassed model has none), which TensorBoard's Graphs tab draws as a graph
      of layers.  Keras 2 also writes TensorFlow's graph of the training step's ops
      when the batch hooks run; minidl has no such graph.
    * ``embeddings_freq=n``: every ``n`` epochs, the weights of each ``Embedding``
      layer as a TSV file (one row per token) and a ``projector_config.pbtxt`` that
      points TensorBoard's Projector at it (Keras 2 writes a TensorFlow checkpoint
      instead).  ``embeddings_metadata``: a file name (every Embedding layer) or
      ``{layer name: file name}``, the labels of the rows, relative to ``log_dir``.
    * ``profile_batch``: 0 (off), the default.  TensorBoard's Profile tab reads
      TensorFlow profiler traces, which minidl cannot make: any other value is a
      ValueError (``minidl.profile()`` shows where minidl's time goes).
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None, **kwargs):
        super().__init__()
        unknown = set(kwargs) - set(_LEGACY_KWARGS)
        if unknown:
            supported = ", ".join(map(repr, sorted(_LEGACY_KWARGS)))
            raise ValueError(f"Unrecognized arguments in `TensorBoard` Callback: {unknown}. "
                             f"Supported kwargs are: {{{supported}}}")
        self.log_dir = os.fsdecode(os.fspath(log_dir))
        self.histogram_freq = _check_frequency(histogram_freq, "histogram_freq")
        self.write_graph = write_graph
        self.write_images = write_images
        self.write_steps_per_second = write_steps_per_second
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (isinstance(update_freq, bool)
                                       or not isinstance(update_freq, (int, np.integer))
                                       or update_freq < 1):
            raise ValueError(f"TensorBoard: update_freq must be 'batch', 'epoch' or a positive "
                             f"integer (a number of batches), received {update_freq!r}.")
        self.update_freq = update_freq
        _check_profile_batch(profile_batch)
        self.embeddings_freq = _check_frequency(embeddings_freq, "embeddings_freq")
        if embeddings_metadata is not None and not isinstance(embeddings_metadata, (str, dict)):
            raise TypeError(f"TensorBoard: embeddings_metadata must be a file name or a dict "
                            f"{{layer name: file name}}, received {embeddings_metadata!r}.")
        self.embeddings_metadata = embeddings_metadata
        for name, value in kwargs.items():  # all checked: now the warnings
            if value:
                warnings.warn(_LEGACY_KWARGS[name], stacklevel=2)
        if write_images and not histogram_freq:
            warnings.warn("TensorBoard: write_images=True writes the weights as images at the "
                          "epochs histogram_freq picks; with histogram_freq=0 there are none.",
                          stacklevel=2)
        self._writers = {}
        self._in_fit = False
        self._train_step = 0  # batches so far in this fit (the step of batch_* scalars)
        self._warned = set()

    # --- writers ------------------------------------------------------------------------------
    def _writer(self, name):
        """The event file of ``train`` or ``validation``, opened on its first event."""
        if name not in self._writers:
            self._writers[name] = EventFileWriter(os.path.join(self.log_dir, name))
        return self._writers[name]

    def _close_writers(self):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

    def _start(self):
        """A new fit or evaluate: new files (Keras 2 starts new ones for each call)."""
        self._close_writers()  # an interrupted run's
        if self.write_graph:
            self._write_keras_model()

    # --- hooks --------------------------------------------------------------------------------
    def _implements_train_batch_hooks(self):
        return self.update_freq != "epoch" or self.write_steps_per_second

    def on_train_begin(self, logs=None):
        self._in_fit = True
        self._train_step = 0
        self._embedding_layers = self._find_embedding_layers() if self.embeddings_freq else []
        self._start()

    def on_train_end(self, logs=None):
        self._in_fit = False
        self._close_writers()

    def on_test_begin(self, logs=None):
        if not self._in_fit:  # evaluate()
            self._start()

    def on_test_end(self, logs=None):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "iterations"):
            step = int(optimizer.iterations)
            for name, value in (logs or {}).items():
                self._scalar("validation", f"evaluation_{name}_vs_iterations", value, step, name)
        if not self._in_fit:
            self._close_writers()

    def on_epoch_begin(self, epoch, logs=None):
        if self.write_steps_per_second:
            self._epoch_start = (time.time(), int(self.model.optimizer.iterations))

    def on_train_batch_begin(self, batch, logs=None):
        if self.write_steps_per_second:
            self._batch_start = time.time()

    def on_train_batch_end(self, batch, logs=None):
        self._train_step += 1
        if self.update_freq == "epoch" or self._train_step % self.update_freq:
            return
        if self.write_steps_per_second:
            seconds = time.time() - self._batch_start
            self._scalar("train", "batch_steps_per_second", 1.0 / max(seconds, 1e-9),
                         self._train_step)
        for name, value in (logs or {}).items():
            self._scalar("train", f"batch_{name}", value, self._train_step, name)

    def on_epoch_end(self, epoch, logs=None):
        self._log_epoch_metrics(epoch, logs or {})
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            self._log_embeddings()
        for writer in self._writers.values():
            writer.flush()

    # --- what is written ----------------------------------------------------------------------
    def _scalar(self, writer, tag, value, step, log_name=None):
        """One scalar; a log value that is not one number (a per-class metric) gets a
        warning, once, instead."""
        try:
            number = float(np.asarray(value, dtype=np.float64).reshape(()))
        except (TypeError, ValueError):
            if log_name not in self._warned:
                self._warned.add(log_name)
                warnings.warn(f"TensorBoard: the log {log_name!r} is not one number "
                              f"({value!r}); the Scalars tab takes one number a step, so it "
                              f"is not written.", stacklevel=3)
            return
        self._writer(writer).add(summaries.scalar(tag, number), step)

    def _log_epoch_metrics(self, epoch, logs):
        if not logs:
            return
        train = {name: value for name, value in logs.items() if not name.startswith("val_")}
        validation = {name[4:]: value for name, value in logs.items() if name.startswith("val_")}
        schedule = getattr(self.model.optimizer, "_schedule", None)
        if schedule is not None:  # Keras 2: the rate the next step will use
            train["learning_rate"] = schedule(self.model.optimizer.iterations)
        if self.write_steps_per_second:
            started, iterations = self._epoch_start
            seconds = max(time.time() - started, 1e-9)
            steps = int(self.model.optimizer.iterations) - iterations
            train["steps_per_second"] = steps / seconds
        for name, value in train.items():
            self._scalar("train", f"epoch_{name}", value, epoch, name)
        for name, value in validation.items():
            self._scalar("validation", f"epoch_{name}", value, epoch, "val_" + name)

    def _write_keras_model(self):
        from minidl.models.functional import Functional
        from minidl.models.sequential import Sequential

        if not isinstance(self.model, (Sequential, Functional)):
            return  # a subclassed model: its architecture is Python code, not a config
        try:
            model_json = self.model.to_json()
        except Exception as error:  # as Keras: no reason to stop training
            warnings.warn(f"TensorBoard: the model could not be written as JSON for the "
                          f"Graphs tab, so it is left out: {error}", stacklevel=3)
            return
        self._writer("train").add(summaries.keras_model("keras", model_json), 0)

    def _log_weights(self, epoch):
        writer = self._writer("train")
        for layer in self.model.layers:
            for weight in layer.weights:
                name = weight.name.replace(":", "_") if ":" in weight.name else weight.name + "_0"
                values = np.asarray(weight.numpy())
                writer.add(summaries.histogram(f"{name}/histogram", values), epoch)
                if self.write_images:
                    images = summaries.weight_images(values, backend.image_data_format())
                    if images is not None:
                        writer.add(summaries.image(f"{name}/image", images), epoch)

    # --- embeddings ---------------------------------------------------------------------------
    def _find_embedding_layers(self):
        """The model's Embedding layers with their metadata file names (checked before
        training starts, with Keras 2's message for a name that is no such layer)."""
        from minidl.layers.embedding import Embedding

        layers = [layer for layer in self.model.layers if isinstance(layer, Embedding)]
        metadata = self.embeddings_metadata
        if isinstance(metadata, dict):
            unknown = {name: path for name, path in metadata.items()
                       if name not in {layer.name for layer in layers}}
            if unknown:
                raise ValueError("Unrecognized `Embedding` layer names passed to "
                                 "`keras.callbacks.TensorBoard` `embeddings_metadata` "
                                 f"argument: {unknown.keys()}")
        if not layers:
            warnings.warn(f"TensorBoard: embeddings_freq={self.embeddings_freq} shows the weights "
                          f"of Embedding layers, and model {self.model.name!r} has none among "
                          f"its layers: no embeddings will be written.", stacklevel=3)
        found = []
        for layer in layers:
            path = metadata if isinstance(metadata, str) else (metadata or {}).get(layer.name)
            found.append((layer, path))
        return found

    def _log_embeddings(self):
        """Each Embedding layer's matrix as a TSV (replaced each time, atomically) and
        the projector config pointing at them."""
        if not self._embedding_layers:
            return
        entries = []
        for layer, metadata_path in self._embedding_layers:
            tensor_path = f"train/keras_embedding.{re.sub(r'[^A-Za-z0-9_.-]', '_', layer.name)}.tsv"
            os.makedirs(os.path.join(self.log_dir, "train"), exist_ok=True)
            with replacing(os.path.join(self.log_dir, tensor_path)) as handle:
                np.savetxt(handle, np.asarray(layer.embeddings.numpy()), fmt="%.9g",
                           delimiter="\t")
            entry = f'  tensor_name: {_pbtxt_string(layer.embeddings.name)}\n'
            if metadata_path is not None:
                entry += f"  metadata_path: {_pbtxt_string(metadata_path)}\n"
            entry += f"  tensor_path: {_pbtxt_string(tensor_path)}\n"
            entries.append("embeddings {\n" + entry + "}\n")
        with replacing(os.path.join(self.log_dir, "projector_config.pbtxt")) as handle:
            handle.write("".join(entries).encode("utf-8"))


def _check_frequency(value, name):
    """A number of epochs: an int >= 0 (0: never)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"TensorBoard: {name} must be an integer >= 0 (a number of epochs; "
                         f"0 turns it off), received {value!r}.")
    return int(value)


def _check_profile_batch(profile_batch):
    """Keras 2's checks of profile_batch (an int >= 0, a pair ``(start, stop)``, or the
    same as text ``"start,stop"``), then minidl's refusal of anything but 0."""
    message = ("profile_batch must be a non-negative integer or 2-tuple of positive integers. "
               "A pair of positive integers signifies a range of batches to profile. "
               f"Found: {profile_batch}")
    batches = profile_batch
    if isinstance(batches, str):
        try:
            batches = [int(part) for part in batches.split(",")]
        except ValueError:
            raise ValueError(message) from None
        batches = batches[0] if len(batches) == 1 else batches
    if isinstance(batches, (int, np.integer)) and not isinstance(batches, bool):
        start = stop = batches
    elif isinstance(batches, (tuple, list)) and len(batches) == 2 and all(
            isinstance(b, (int, np.integer)) and not isinstance(b, bool) for b in batches):
        start, stop = batches
    else:
        raise ValueError(message)
    if start < 0 or stop < start:
        raise ValueError(message)
    if start or stop:
        raise ValueError(
            f"TensorBoard: minidl cannot give profile_batch={profile_batch!r}: TensorBoard's "
            "Profile tab reads TensorFlow profiler traces, which minidl does not make. Leave "
            "profile_batch=0 (the default) and see where training's time goes with "
            "`with minidl.profile() as prof: model.fit(...)`, then `prof.table()`.")


def _pbtxt_string(text):
    """A string in protobuf's text format: quoted, with C escapes (as text_format writes)."""
    escapes = {ord("\n"): "\\n", ord("\r"): "\\r", ord("\t"): "\\t", ord('"'): '\\"',
               ord("'"): "\\'", ord("\\"): "\\\\"}
    out = []
    for byte in str(text).encode("utf-8"):
        if byte in escapes:
            out.append(escapes[byte])
        elif 32 <= byte < 127:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03o}")
    return '"' + "".join(out) + '"'

