"""Moving float32 and int32 buffers between Python and the library.

Inputs may be numpy arrays, array.array, anything with the buffer protocol,
flat sequences of numbers or sequences of rows. Outputs are numpy arrays
when numpy is importable and array.array otherwise. numpy is never
required; setting the environment variable SBP_NO_NUMPY=1 before importing
sbp makes the binding behave as if it were not installed.
"""

import ctypes
import itertools
import os
from array import array
from ctypes import POINTER, c_float, c_int32

from ._enums import Status
from ._errors import Error

np = None
if os.environ.get("SBP_NO_NUMPY", "") in ("", "0"):
    try:
        import numpy as np  # noqa: F811
    except ImportError:
        np = None

# array.array type code for int32.
_I32 = "i" if array("i").itemsize == 4 else "l"
assert array(_I32).itemsize == 4 and array("f").itemsize == 4

_FLOAT_P = POINTER(c_float)
_INT_P = POINTER(c_int32)


class In:
    """A C view of caller data: `ptr`, the number of items `size`, the
    `shape` the data had (rows, columns) or (items,), and `keep`, the
    object owning the memory (kept alive as long as this view)."""

    __slots__ = ("ptr", "size", "shape", "keep")

    def __init__(self, ptr, size, shape, keep):
        self.ptr, self.size, self.shape, self.keep = ptr, size, shape, keep

    @property
    def rows(self):
        return self.shape[0] if len(self.shape) > 1 else None

    @property
    def columns(self):
        return self.shape[1] if len(self.shape) > 1 else None


def _is_row(x):
    return not isinstance(x, (str, bytes)) and hasattr(x, "__len__") and hasattr(x, "__iter__")


def _flatten(obj, what):
    """Sequence (of rows) -> (flat list or iterable, shape)."""
    seq = obj if hasattr(obj, "__len__") else list(obj)
    if len(seq) and _is_row(seq[0]):
        width = len(seq[0])
        for i, row in enumerate(seq):
            if not _is_row(row) or len(row) != width:
                raise Error(Status.E_MISMATCH,
                            "%s: row %d has %s values, row 0 has %d"
                            % (what, i, len(row) if _is_row(row) else "no", width))
        return itertools.chain.from_iterable(seq), (len(seq), width)
    return seq, (len(seq),)


def _shape2(shape):
    """Collapses trailing dimensions: (n, 28, 28) -> (n, 784)."""
    if len(shape) <= 2:
        return tuple(shape)
    cols = 1
    for s in shape[1:]:
        cols *= s
    return (shape[0], cols)


def floats_in(obj, what):
    """Any float-like input -> In over contiguous float32."""
    if np is not None and isinstance(obj, np.ndarray):
        a = np.ascontiguousarray(obj, dtype=np.float32)
        shape = _shape2(a.shape) if a.ndim else (1,)
        return In(a.ctypes.data_as(_FLOAT_P), a.size, shape, a)
    if isinstance(obj, array):
        a = obj if obj.typecode == "f" else array("f", obj)
        shape = (len(a),)
    elif not isinstance(obj, (list, tuple)) and _has_buffer(obj):
        mv = memoryview(obj)
        shape = _shape2(mv.shape) if mv.ndim else (1,)
        if mv.format == "f" and mv.c_contiguous:
            a = array("f")
            a.frombytes(mv.cast("B"))
        else:
            flat, _ = _flatten(mv.tolist() if mv.ndim else [mv.tolist()], what)
            a = _to_array("f", flat, what)
    else:
        flat, shape = _flatten(obj, what)
        a = _to_array("f", flat, what)
    return In(_ptr(a, c_float), len(a), shape, a)


def ints_in(obj, what):
    """Any integer input -> In over contiguous int32."""
    if np is not None and isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "iub":
            if obj.dtype.kind != "f" or not np.all(np.mod(obj, 1) == 0):
                raise Error(Status.E_INVALID, "%s must be integers" % what)
        if obj.size and (obj.min() < -2**31 or obj.max() >= 2**31):
            raise Error(Status.E_RANGE, "%s do not fit in 32 bits" % what)
        a = np.ascontiguousarray(obj, dtype=np.int32).reshape(-1)
        return In(a.ctypes.data_as(_INT_P), a.size, (a.size,), a)
    if isinstance(obj, array) and obj.typecode == _I32:
        a = obj
    else:
        if not isinstance(obj, (list, tuple, array)) and _has_buffer(obj):
            obj = memoryview(obj).tolist()
        a = _to_array(_I32, obj, what)
    return In(_ptr(a, c_int32), len(a), (len(a),), a)


def _has_buffer(obj):
    try:
        memoryview(obj)
        return True
    except TypeError:
        return False


def _to_array(code, values, what):
    try:
        return array(code, values)
    except TypeError as e:
        raise TypeError("%s: %s" % (what, e)) from None
    except OverflowError as e:
        raise Error(Status.E_RANGE, "%s: %s" % (what, e)) from None


def _ptr(a, ctype):
    """Pointer to the first item of an array.array (never NULL)."""
    if len(a) == 0:
        return ctypes.cast((ctype * 1)(), POINTER(ctype))
    return ctypes.cast((ctype * len(a)).from_buffer(a), POINTER(ctype))


class Out:
    """A writable buffer of `size` float32 or int32 items for the library to
    fill; `result(shape)` hands it to the caller."""

    __slots__ = ("ptr", "data", "size")

    def __init__(self, size, kind="f"):
        self.size = size
        if np is not None:
            self.data = np.zeros(max(size, 1), dtype=np.float32 if kind == "f" else np.int32)
            ctype = c_float if kind == "f" else c_int32
            self.ptr = self.data.ctypes.data_as(POINTER(ctype))
        else:
            code = "f" if kind == "f" else _I32
            self.data = array(code, bytes(4 * max(size, 1)))
            self.ptr = _ptr(self.data, c_float if kind == "f" else c_int32)

    def result(self, shape=None):
        """numpy array of `shape` (default: flat), or a flat array.array."""
        d = self.data[:self.size]
        if np is not None and shape is not None:
            d = d.reshape(shape)
        return d


def have_numpy():
    """Whether the binding returns numpy arrays."""
    return np is not None
