"""Ownership of one C handle by one Python object."""

import operator
import weakref

from ._enums import Status
from ._errors import Error

__all__ = ["Handle", "index"]


class Handle:
    """Owns exactly one C handle.

    The handle is freed by :meth:`close`, by leaving a ``with`` block, or
    when the object is garbage collected (through :func:`weakref.finalize`,
    which also runs at interpreter exit). Calling a method after
    :meth:`close` raises ``sbp.Error(Status.E_STATE, "... is closed")``.
    """

    _free = None  # the C free function, set by subclasses

    def _adopt(self, ptr):
        self._ptr = ptr
        self._finalizer = weakref.finalize(self, type(self)._free, ptr)

    @classmethod
    def _wrap(cls, ptr):
        obj = cls.__new__(cls)
        obj._init_wrapped()
        obj._adopt(ptr)
        return obj

    def _init_wrapped(self):
        """Hook for subclasses with extra slots."""

    def _handle(self):
        ptr = getattr(self, "_ptr", None)
        if not ptr:
            raise Error(Status.E_STATE, "%s is closed" % type(self).__name__)
        return ptr

    def close(self):
        """Frees the handle now. Safe to call more than once."""
        fin = getattr(self, "_finalizer", None)
        self._ptr = None
        if fin is not None:
            fin()

    @property
    def closed(self):
        """True once :meth:`close` has run."""
        return not getattr(self, "_ptr", None)

    def __enter__(self):
        self._handle()
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def index(value, what):
    """A non-negative integer for a size_t argument (ctypes would wrap a
    negative one silently)."""
    v = operator.index(value)
    if v < 0:
        raise Error(Status.E_RANGE, "%s must not be negative (got %d)" % (what, v))
    return v
