"""Reading Keras's text data sets (``imdb.npz``, ``reuters.npz``): lists of word indices.

Keras keeps every review (or newswire) as a Python list of word indices inside a
NumPy *object* array, and ``np.save`` writes an object array as a pickle.
Unpickling runs whatever code the pickle names, so a damaged or planted file
could run anything.  Two ways in, then:

* a file whose SHA-256 is the one Keras publishes is Keras's own file, byte for
  byte: NumPy reads it (``np.load(allow_pickle=True)``, fast), from the very bytes
  that were hashed, read once into memory (a file read twice, once to check and
  once to load, could be another file the second time);
* any other file (a copy made another way, a test's small file, a tampered one)
  is read **without unpickling**: ``pickletools.genops`` lists the pickle's
  instructions without executing any, and ``_ListsFromPickle`` below follows
  only the few that ``np.save`` writes for an array of lists of integers.
  NumPy's functions named inside are labels compared as text, never imported or
  called.  Anything else (another function, another instruction, a list of
  something other than integers) is a ``FileFormatError`` naming the file.
  This way is slower (about 1.5 s per million words): a file that is not
  Keras's own is read once, then better saved in your own format.

The arrays of plain numbers (the labels) are read as the image data sets' are
(``minidl.utils.file_checks``: header checked first, bounded reads).
"""

from __future__ import annotations

import hashlib
import io
import pickletools
from dataclasses import dataclass

import numpy as np

from minidl.datasets._npz import check_keys, read_npz
from minidl.utils.file_checks import (FileFormatError, _read_npy_header, open_member,
                                      read_npy_member, read_regular)

# the largest member read (declared size, checked before reading): imdb.npz's biggest
# holds about 50 MB; the Python lists built from a pickle take ~20x its size
MAX_MEMBER_BYTES = 1 << 28
# the largest file hashed in memory as maybe Keras's own (imdb.npz is 17 MB, reuters.npz 2 MB)
MAX_PUBLISHED_BYTES = 1 << 26
_RECONSTRUCT = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct")}
# (pickle protocols 0-2 write the bytes b"b" of _reconstruct's arguments as a call of
# _codecs.encode: a label here like the others)
_KNOWN = _RECONSTRUCT | {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}
# instructions that push their argument: numbers and strings
_VALUES = {"INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "FLOAT", "BINFLOAT",
           "STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE", "BINUNICODE",
           "SHORT_BINUNICODE", "BINUNICODE8", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8"}
_CONSTANTS = {"NONE": None, "NEWTRUE": True, "NEWFALSE": False}
_MARK = object()


def load_arrays(path, lists, numbers, published_sha256):
    """``{key: array}`` from the ``.npz`` file ``path``: each key of ``lists`` an object array
    of lists of ints, each key of ``numbers`` an integer array (see the module docstring)."""
    published = _published_bytes(path, published_sha256)
    if published is not None:
        with np.load(io.BytesIO(published), allow_pickle=True) as arrays:
            return {key: arrays[key] for key in (*lists, *numbers)}

    def read(archive):
        check_keys(archive, path, (*lists, *numbers))
        arrays = {key: _read_lists(archive, path, key) for key in lists}
        for key in numbers:
            arrays[key] = read_npy_member(archive, f"{key}.npy", f"{path}: {key}.npy",
                                          MAX_MEMBER_BYTES, _integers(path, key))
        return arrays

    return read_npz(path, read)


def _published_bytes(path, published_sha256):
    """The bytes of the regular file ``path`` if their SHA-256 is ``published_sha256``
    (Keras's own file), else None."""
    data = read_regular(path, MAX_PUBLISHED_BYTES)
    if len(data) > MAX_PUBLISHED_BYTES or hashlib.sha256(data).hexdigest() != published_sha256:
        return None
    return data


def _integers(path, key):
    def check_header(shape, dtype):
        if dtype.kind not in "iu" or len(shape) != 1:
            raise FileFormatError(
                f"{path}: {key} should be a 1-D array of integers, the file holds {dtype} of "
                f"shape {shape}."
            )
    return check_header


def _read_lists(archive, path, key):
    where = f"{path}: {key}.npy"
    with open_member(archive, f"{key}.npy", MAX_MEMBER_BYTES, where) as stream:
        shape, fortran_order, dtype = _read_npy_header(stream, where)
        if dtype != np.dtype(object) or len(shape) != 1:
            raise FileFormatError(
                f"{where} should be a 1-D array of lists of word indices (dtype object), the "
                f"file holds {dtype} of shape {shape}."
            )
        lists = _ListsFromPickle(where).read(stream)
    if len(lists) != shape[0]:
        raise FileFormatError(f"{where}: its header announces {shape[0]} lists, it holds {len(lists)}.")
    array = np.empty(len(lists), dtype=object)
    array[:] = lists
    return array


@dataclass
class _Global:
    """A name a pickle refers to (module and name), kept as text."""

    module: str
    name: str


@dataclass
class _Call:
    """What calling ``function`` with ``args`` would have made (never called), and the
    state a BUILD instruction would have given it."""

    function: _Global
    args: tuple
    state: object = None


class _ListsFromPickle:
    """The lists inside the pickle of a 1-D object array, found without unpickling.

    A pickle is a little stack machine: ``EMPTY_LIST``, ``MARK``, ``BININT2``
    and ``APPENDS`` build a list of numbers; ``GLOBAL`` names a function and
    ``REDUCE`` would call it; ``BUILD`` would set an object's state.  np.save
    writes an object array as: ``_reconstruct(ndarray, (0,), b'b')`` whose state
    is ``(1, shape, dtype('O8'), False, [the lists...])``.  Here every
    instruction only moves values on a Python list used as the stack, and
    REDUCE records a ``_Call`` instead of calling anything.
    """

    def __init__(self, where):
        self.where = where

    def read(self, stream):
        try:
            result = self._run(stream)
        except FileFormatError:
            raise
        except (IndexError, KeyError, AttributeError, TypeError, ValueError) as error:
            raise self._error(f"its pickle is damaged or not an array of lists ({error!r})") from None
        return self._lists(result)

    def _error(self, what):
        return FileFormatError(
            f"{self.where}: {what}; not read. Keras's file holds lists of word indices only: "
            "delete this file and download it again."
        )

    def _run(self, stream):
        stack, memo = [], {}
        for opcode, arg, _ in pickletools.genops(stream):
            name = opcode.name
            if name in _VALUES:
                stack.append(arg)
            elif name in _CONSTANTS:
                stack.append(_CONSTANTS[name])
            elif name in ("PROTO", "FRAME"):
                continue
            elif name == "STOP":
                if len(stack) != 1:
                    raise self._error("its pickle ends with a stack of more than one value")
                return stack[0]
            elif name == "MARK":
                stack.append(_MARK)
            elif name == "EMPTY_LIST":
                stack.append([])
            elif name == "EMPTY_TUPLE":
                stack.append(())
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                size = int(name[-1])
                items = tuple(stack[-size:])
                del stack[-size:]
                stack.append(items)
            elif name == "TUPLE":
                stack.append(tuple(self._pop_to_mark(stack)))
            elif name == "LIST":
                stack.append(self._pop_to_mark(stack))
            elif name == "APPEND":
                value = stack.pop()
                self._list_on_top(stack).append(value)
            elif name == "APPENDS":
                values = self._pop_to_mark(stack)
                self._list_on_top(stack).extend(values)
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[arg] = stack[-1]
            elif name == "MEMOIZE":
                memo[len(memo)] = stack[-1]
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                stack.append(memo[arg])
            elif name == "GLOBAL":
                stack.append(self._global(*arg.split(" ", 1)))
            elif name == "STACK_GLOBAL":
                qualified, module = stack.pop(), stack.pop()
                stack.append(self._global(module, qualified))
            elif name == "REDUCE":
                args, function = stack.pop(), stack.pop()
                if not isinstance(function, _Global) or not isinstance(args, tuple):
                    raise self._error("its pickle calls something that is not a known name")
                stack.append(_Call(function, args))
            elif name == "BUILD":
                state = stack.pop()
                if not isinstance(stack[-1], _Call) or stack[-1].state is not None:
                    raise self._error("its pickle sets the state of something np.save does not write")
                stack[-1].state = state
            else:
                raise self._error(f"its pickle holds the instruction {name}, which np.save does "
                                  "not write for lists of numbers")
        raise self._error("its pickle ends without a STOP")

    def _global(self, module, name):
        if (module, name) not in _KNOWN:
            raise self._error(f"its pickle names {module}.{name}, which np.save does not write "
                              "for an array of lists")
        return _Global(module, name)

    def _pop_to_mark(self, stack):
        for i in range(len(stack) - 1, -1, -1):
            if stack[i] is _MARK:
                items = stack[i + 1:]
                del stack[i:]
                return items
        raise self._error("its pickle is damaged (a MARK is missing)")

    def _list_on_top(self, stack):
        if not stack or type(stack[-1]) is not list:
            raise self._error("its pickle appends to something that is not a list")
        return stack[-1]

    def _lists(self, result):
        """The lists of ``_reconstruct(ndarray, ...)`` with state ``(1, shape, dtype, F, lists)``."""
        if not (isinstance(result, _Call) and (result.function.module, result.function.name)
                in _RECONSTRUCT and isinstance(result.state, tuple) and len(result.state) in (4, 5)):
            raise self._error("its pickle is not a NumPy array")
        shape, dtype, _, lists = result.state[-4:]
        if not (isinstance(dtype, _Call) and dtype.function.name == "dtype" and dtype.args
                and str(dtype.args[0]).startswith("O")):
            raise self._error("its pickle is not an array of objects")
        if type(lists) is not list or not all(type(item) is list for item in lists):
            raise self._error("its array holds something other than lists of integers")
        # one list object many times (the pickle's memo lets 2 bytes repeat a whole list)
        # would be read as billions of words from a file of a few kilobytes
        if len({id(item) for item in lists}) != len(lists):
            raise self._error("its array holds the same list more than once (np.save writes "
                              "each text's own list)")
        if not all(type(word) is int for item in lists for word in item):
            raise self._error("its array holds something other than lists of integers")
        if shape != (len(lists),):
            raise self._error(f"its array has shape {shape} but holds {len(lists)} lists")
        return lists
