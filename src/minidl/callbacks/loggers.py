"""Callbacks that send each epoch's logs somewhere: a CSV file, a web server."""

from __future__ import annotations

import collections.abc
import csv
import json
import os
import urllib.parse
import urllib.request
import warnings

import numpy as np

from minidl.callbacks.base import Callback


class CSVLogger(Callback):
    """Write one row per epoch to a CSV file, as Keras 2 writes it::

        epoch,accuracy,loss,val_accuracy,val_loss
        0,0.8123,0.5402,0.8410,0.4431
        1,...

    The columns are ``epoch`` (counted from 0), then the keys of the first
    epoch's logs, sorted; when those have no ``val_`` keys (validation every few
    epochs, or none), ``val_`` columns for every key are added, and values an
    epoch lacks are written ``NA``.  Lines end with ``\\r\\n`` (the csv module's
    "excel" dialect, as in Keras); ``separator`` is its one-character delimiter.
    ``append=True`` adds to an existing file (to continue a run), writing the
    header only when the file is empty.  Rows are flushed as they are written.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.keys = None
        self.writer = None
        self.csv_file = None

    def on_train_begin(self, logs=None):
        if self.csv_file is not None:  # a run before this one was interrupted
            self.csv_file.close()
        self.append_header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename) as existing:
                self.append_header = not existing.readline()
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="")
        self.writer = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if not any(key.startswith("val_") for key in self.keys):
                self.keys += ["val_" + key for key in self.keys]
        if self.writer is None:
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys,
                                         delimiter=self.sep)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((key, _csv_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        self.csv_file.close()
        self.csv_file = None
        self.writer = None


def _csv_value(value):
    """Numbers and text as they are; a list or array as ``"[1, 2, 3]"`` (Keras's form)."""
    if isinstance(value, str) or (isinstance(value, np.ndarray) and value.ndim == 0):
        return value
    if isinstance(value, collections.abc.Iterable):
        return f"\"[{', '.join(map(str, value))}]\""
    return value


class RemoteMonitor(Callback):
    """POST each epoch's logs to a web server (``root + path``), as JSON.

    The payload is ``{"epoch": 0, "loss": 0.54, ...}``; it is sent as a form
    field named ``field`` (``data=<json>``), or with ``send_as_json=True`` as
    the request's JSON body.  ``headers`` adds HTTP headers.  A server that
    cannot be reached gives a warning, not an error: training goes on.
    """

    def __init__(self, root="http://localhost:9000", path="/publish/epoch/end/", field="data",
                 headers=None, send_as_json=False):
        super().__init__()
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = send_as_json

    def on_epoch_end(self, epoch, logs=None):
        send = {"epoch": epoch}
        for key, value in (logs or {}).items():
            send[key] = value.item() if isinstance(value, (np.ndarray, np.generic)) else value
        if self.send_as_json:
            body = json.dumps(send).encode()
            content_type = "application/json"
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode()
            content_type = "application/x-www-form-urlencoded"
        request = urllib.request.Request(
            self.root + self.path, data=body, method="POST",
            headers={"Content-Type": content_type, **(self.headers or {})},
        )
        try:
            with urllib.request.urlopen(request):
                pass
        except OSError as error:  # no server there, or it answered with an HTTP error
            warnings.warn(f"Warning: could not reach RemoteMonitor root server at {self.root} "
                          f"({error})", stacklevel=2)
