"""Python binding of libsbp, self-backpropagation (SBP) learning for spiking
and dense networks.

A thin ctypes client: every call goes straight to the C library, data are
passed as contiguous float32 buffers and nothing is computed in Python.
numpy is used when it is installed and never required.

Example::

    import sbp

    train = sbp.Dataset.load_mnist("data/mnist", "train").subset(0, 1000)
    test = sbp.Dataset.load_mnist("data/mnist", "test").subset(0, 500)
    net = sbp.Network("relax", seed=1)
    for size in (784, 100, 10):
        net.add_layer(size)
    net.attach_rule(1, "sbp_spread")
    history = net.train(train, epochs=3, test=test,
                        callback=lambda epoch, tr, te, s: print(epoch, te))

Objects: :class:`Dataset`, :class:`Layer`, :class:`Rule`, :class:`Network`
(each owns one C handle: close it, use ``with``, or let the garbage
collector free it), :class:`NettalkCodes`; module functions for versions,
build information, parameters, event frames and the cost measure; the C
enums as :class:`enum.IntEnum` classes.

The shared library is found through the environment variable SBP_LIBRARY
(a path), then ``ctypes.util.find_library("sbp")``, then a few usual
install locations. Failures raise :class:`sbp.Error`, whose ``code`` is a
:class:`sbp.Status`. See docs/python.md for the whole story.
"""

import ctypes as _ctypes

from ._enums import (Activation, BaseRule, CostModel, DvsGesturePart, Encoder, Engine,
                     EventBinning, EventFormat, EventPolarity, EventValue, HiddenMode, Loss,
                     MnistPart, Optimizer, Param, ParamType, RetroWeight, RuleKind,
                     SpreadForm, Status)
from ._errors import Error
from ._lib import EXPECTED_MAJOR, lib as _clib, library_path
from ._buffers import have_numpy
from ._dataset import Batch, Dataset
from ._events import events_to_frames, frame_features, frame_options, read_events
from ._nettalk import NettalkCodes, NettalkScore, load_nettalk
from ._nettalk import INPUTS as NETTALK_INPUTS, UNITS as NETTALK_UNITS
from ._enums import NettalkSplit
from ._network import (EpochResult, Layer, Network, Rule, cost_model, engine_available,
                       engine_name, rule_kind_name)
from ._params import ParamInfo, param_by_name, param_info, params

#: Version of this binding (the libsbp release it was written with).
__version__ = "0.1.0"

__all__ = [
    "Activation", "BaseRule", "Batch", "CostModel", "Dataset", "Encoder", "Engine",
    "Error", "HiddenMode", "Layer", "Loss", "MnistPart", "Network", "Optimizer", "Param",
    "ParamInfo", "ParamType", "RetroWeight", "Rule", "RuleKind", "SpreadForm", "Status",
    "blas_name", "cost_mean_epochs", "cost_mean_std", "cost_per_epoch", "default_threads",
    "engine_available", "engine_name", "have_numpy", "library_path", "param_by_name",
    "param_info", "params", "rule_kind_name", "status_name", "status_str", "version_info", "version_number",
    "version_string", "EXPECTED_MAJOR",
    "DvsGesturePart", "EventBinning", "EventFormat", "EventPolarity", "EventValue",
    "events_to_frames", "frame_features", "frame_options", "read_events",
]
__all__ += ["NettalkCodes", "NettalkScore", "NettalkSplit", "load_nettalk"]
__all__ += ["EpochResult", "cost_model", "info", "NETTALK_INPUTS", "NETTALK_UNITS"]


def version_number():
    """``MAJOR*10000 + MINOR*100 + PATCH`` of the loaded library."""
    return _clib.sbp_version_number()


def version_string():
    """``"MAJOR.MINOR.PATCH"`` of the loaded library."""
    return _clib.sbp_version_string().decode()


def version_info():
    """``(major, minor, patch)`` of the loaded library."""
    n = version_number()
    return (n // 10000, n // 100 % 100, n % 100)


def status_str(status):
    """English text of a status (``"out of memory"``)."""
    return _clib.sbp_status_str(int(status)).decode()


def status_name(status):
    """C identifier of a status (``"SBP_E_NOMEM"``), or ``None`` if unknown."""
    name = _clib.sbp_status_name(int(status))
    return name.decode() if name is not None else None


def info():
    """What the loaded library is and can do, as ``sbp info --json`` shows
    it: a dict with ``version``, ``version_number``, ``blas``,
    ``default_threads``, ``engines`` (engine name -> available), plus
    ``library`` (the path it was loaded from) and ``binding`` (this
    package's version)."""
    return {
        "version": version_string(),
        "version_number": version_number(),
        "blas": blas_name(),
        "default_threads": default_threads(),
        "engines": {e.name.lower(): engine_available(e) for e in Engine},
        "library": library_path,
        "binding": __version__,
    }


def blas_name():
    """Name of the BLAS the library uses (``"built-in C"`` without one)."""
    return _clib.sbp_blas_name().decode()


def default_threads():
    """Worker threads the library uses when ``net.threads`` is 0."""
    return _clib.sbp_default_threads()


def cost_per_epoch(model, m, n, k):
    """Per-epoch complexity of a :class:`CostModel` for m inputs, n hidden
    and k output neurons (0.0 for an unknown model)."""
    from ._handle import index
    return _clib.sbp_cost_per_epoch(int(model), index(m, "m"), index(n, "n"), index(k, "k"))


def _doubles(values):
    values = [float(v) for v in values]
    return (_ctypes.c_double * max(len(values), 1))(*values), len(values)


def cost_mean_epochs(a, b, cap=0.0, budget=0):
    """Mean epochs for two test-error curves (fractions) to reach five
    thresholds between their common best and worst errors; returns
    ``(epochs_a, epochs_b)``. See sbp_cost_mean_epochs in sbp.h."""
    from ._handle import index
    ca, na = _doubles(a)
    cb, nb = _doubles(b)
    ea, eb = _ctypes.c_double(), _ctypes.c_double()
    _clib.sbp_cost_mean_epochs(ca, na, cb, nb, float(cap), index(budget, "budget"),
                              _ctypes.byref(ea), _ctypes.byref(eb))
    return ea.value, eb.value


def cost_mean_std(values):
    """``(mean, population standard deviation)`` of one or more values."""
    cv, n = _doubles(values)
    mean, std = _ctypes.c_double(), _ctypes.c_double()
    _clib.sbp_cost_mean_std(cv, n, _ctypes.byref(mean), _ctypes.byref(std))
    return mean.value, std.value


# Public classes present themselves as sbp.X (tracebacks, repr, pickling).
for _cls in (Activation, BaseRule, Batch, CostModel, Dataset, DvsGesturePart, Encoder, Engine,
             Error, EventBinning, EventFormat, EventPolarity, EventValue, HiddenMode, Layer,
             Loss, MnistPart, Network, Optimizer, Param, ParamInfo, ParamType, RetroWeight,
             Rule, RuleKind, SpreadForm, Status):
    _cls.__module__ = __name__
for _cls in (NettalkCodes, NettalkScore, NettalkSplit, EpochResult):
    _cls.__module__ = __name__
del _cls
