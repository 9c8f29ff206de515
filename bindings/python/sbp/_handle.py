"""Ownership of one C handle by one Python object."""

import atexit
import ctypes
import operator
import time
import weakref

from ._enums import Status
from ._errors import Error
from ._lib import lib

__all__ = ["Handle", "index", "busy"]


def _release(free, ptr, state):
    """The finalizer of a handle: frees it, unless a library call still runs
    on it. That happens only at interpreter exit while another (daemon)
    thread is inside train_epoch or the like: the handle is then left to the
    operating system instead of being freed under the running call."""
    if state[0]:
        for keep in state[1:]:
            # Objects the running C call may still call into (a progress
            # callback's thunk): never freed, even by module teardown.
            try:
                ctypes.pythonapi.Py_IncRef(ctypes.py_object(keep))
            except AttributeError:  # not CPython
                pass
        return
    free(ptr)


class Handle:
    """Owns exactly one C handle.

    The handle is freed by :meth:`close`, by leaving a ``with`` block, or
    when the object is garbage collected (through :func:`weakref.finalize`,
    which also runs at interpreter exit). Calling a method after
    :meth:`close` raises ``sbp.Error(Status.E_STATE, "... is closed")``.
    """

    _free_name = None  # name of the C free function, set by subclasses

    def _adopt(self, ptr):
        self._ptr = ptr
        # [calls running on the handle, objects to keep alive while they run]
        self._state = [0]
        # The free function is looked up now, by name, so that whatever
        # lib.sbp_*_free is at this moment (a test's call counter) frees it.
        self._finalizer = weakref.finalize(self, _release, getattr(lib, self._free_name),
                                           ptr, self._state)

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
        if not ptr or not self._finalizer.alive:
            # closed, or freed by the finalizers that run at interpreter exit
            # (an atexit handler of the program's may still hold the object)
            self._ptr = None
            raise Error(Status.E_STATE, "%s is closed" % type(self).__name__)
        return ptr

    def close(self):
        """Frees the handle now. Safe to call more than once. Closing an
        object while one of its own calls is still running (from a progress
        or epoch callback, or from another thread) raises
        ``sbp.Error(E_STATE)`` and leaves it open."""
        state = getattr(self, "_state", None)
        if state is not None and state[0] and getattr(self, "_ptr", None):
            raise Error(Status.E_STATE, "%s is in use by a running call and cannot be closed "
                        "now" % type(self).__name__)
        fin = getattr(self, "_finalizer", None)
        self._ptr = None
        if fin is not None:
            fin()

    @property
    def closed(self):
        """True once :meth:`close` has run (or the handle was freed at
        interpreter exit)."""
        fin = getattr(self, "_finalizer", None)
        return not getattr(self, "_ptr", None) or fin is None or not fin.alive

    def __enter__(self):
        self._handle()
        return self

    def __exit__(self, *exc):
        self.close()
        return False


class busy:
    """``with busy(a, b, ...):`` marks handles as used by a running library
    call, so that :meth:`Handle.close` refuses them and the finalizers at
    interpreter exit leave them alone. ``keep`` lists objects (callback
    thunks) that must outlive the call; ``stop``, if given, is a function
    that makes the call return early (at its next mini-batch). No new call
    starts once the interpreter is exiting."""

    __slots__ = ("states", "keep", "stop", "__weakref__")

    def __init__(self, *handles, keep=(), stop=None):
        self.states = [h._state for h in handles]
        self.keep = keep
        self.stop = stop

    def __enter__(self):
        if _exit_state["exiting"]:
            raise SystemExit("sbp: the Python interpreter is exiting; no new library calls")
        for s in self.states:
            s[0] += 1
            s.extend(self.keep)
        _running.add(self)
        return self

    def __exit__(self, *exc):
        _running.discard(self)
        for s in self.states:
            s[0] -= 1
            for _ in self.keep:
                s.pop()
        return False


# Calls running now (on any thread), and whether the interpreter is exiting.
_running = set()
_exit_state = {"exiting": False}

#: Seconds the interpreter waits at exit for calls on other threads that
#: cannot be stopped early (predict, save, ...), before leaving their
#: handles unfreed.
EXIT_WAIT = 30.0


def _at_exit():
    """Runs before the handles' finalizers: stops the library calls still
    running on other (daemon) threads and waits for them, so that no handle
    is freed under a running call and the C libraries (OpenBLAS) shut down
    with no call in flight. A stopped call raises SystemExit in its thread,
    which ends the thread quietly."""
    _exit_state["exiting"] = True
    deadline = time.monotonic() + EXIT_WAIT
    while _running and time.monotonic() < deadline:
        for call in list(_running):
            if call.stop is not None:
                call.stop()
        time.sleep(0.002)  # lets the other threads take the GIL and return


# atexit runs handlers last-registered first: register after the
# weakref.finalize machinery has registered its own, so that ours runs
# before the finalizers free anything.
weakref.finalize(_at_exit, lambda: None)
atexit.register(_at_exit)


def index(value, what):
    """A non-negative integer for a size_t argument (ctypes would wrap a
    negative one silently)."""
    v = operator.index(value)
    if v < 0:
        raise Error(Status.E_RANGE, "%s must not be negative (got %d)" % (what, v))
    return v
