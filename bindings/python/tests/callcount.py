"""Counts the test suite's calls into libsbp, per C function.

install() replaces every function the binding declares (``sbp._lib.lib.
sbp_*``, one per row of ``sbp._lib.PROTOTYPES``) by a wrapper that counts
its calls and then calls the real ctypes function, argument conversion and
error check included. The package looks its C functions up on ``lib`` at
each call (and a handle's free function when the handle is made), so every
call the tests cause is seen. test_coverage.py fails if an exported
function was never called. Not a test module.
"""

import collections

from sbp import _lib

#: C function name -> number of calls since install().
COUNTS = collections.Counter()

#: Set by run.py when the whole suite runs in this process, coverage last.
FULL_RUN = False


class Counted:
    """A counting stand-in for one ctypes function."""

    __slots__ = ("__wrapped__", "name")

    def __init__(self, fn, name):
        self.__wrapped__ = fn
        self.name = name

    def __call__(self, *args):
        COUNTS[self.name] += 1
        return self.__wrapped__(*args)

    def __repr__(self):
        return "<counted %s>" % self.name


def installed():
    return all(isinstance(getattr(_lib.lib, row[0], None), Counted) for row in _lib.PROTOTYPES)


def install():
    """Wraps every declared function (idempotent)."""
    for row in _lib.PROTOTYPES:
        name = row[0]
        fn = getattr(_lib.lib, name)
        if not isinstance(fn, Counted):
            setattr(_lib.lib, name, Counted(fn, name))


def original(name):
    """The ctypes function object behind lib.<name>."""
    fn = getattr(_lib.lib, name)
    return fn.__wrapped__ if isinstance(fn, Counted) else fn
