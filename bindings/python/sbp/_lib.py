"""Loading libsbp and declaring its C functions.

Everything the binding knows about the C ABI is in this file: the opaque
handle types, the two structs, the callback type and :data:`PROTOTYPES`,
one row per exported function with its argument types, result type and
error check. The rest of the package only calls ``lib.sbp_*``.
"""

import ctypes
import ctypes.util
import os
import sys
import sysconfig
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_double,
                    c_float, c_int, c_int32, c_int64, c_size_t, c_uint, c_uint64,
                    c_void_p)

from ._enums import Status
from ._errors import Error

#: Major version of libsbp this binding is written for. A library with
#: another major version has another ABI and is refused at import.
EXPECTED_MAJOR = 0

# --------------------------------------------------------------------------
# C types
# --------------------------------------------------------------------------


class _OpaqueNet(Structure):
    """struct sbp_net (opaque)."""


class _OpaqueLayer(Structure):
    """struct sbp_layer (opaque)."""


class _OpaqueRule(Structure):
    """struct sbp_rule (opaque)."""


class _OpaqueDataset(Structure):
    """struct sbp_dataset (opaque)."""


# Distinct pointer types, so that passing a network where a dataset is
# expected fails in ctypes instead of in the library.
NetP = POINTER(_OpaqueNet)
LayerP = POINTER(_OpaqueLayer)
RuleP = POINTER(_OpaqueRule)
DatasetP = POINTER(_OpaqueDataset)


class Diag(Structure):
    """struct sbp_diag: where a loader found a problem."""

    _fields_ = [
        ("status", c_int),
        ("file", c_char * 256),
        ("offset", c_uint64),
        ("line", c_uint64),
        ("expected", c_uint64),
        ("found", c_uint64),
        ("message", c_char * 512),
    ]


class ParamDesc(Structure):
    """struct sbp_param_desc: static description of a parameter."""

    _fields_ = [
        ("name", c_char_p),
        ("unit", c_char_p),
        ("type", c_int),
        ("min", c_double),
        ("max", c_double),
        ("default_value", c_double),
    ]


class Event(Structure):
    """struct sbp_event: one event of an event camera (16 bytes)."""

    _fields_ = [
        ("t", c_uint64),
        ("x", ctypes.c_uint16),
        ("y", ctypes.c_uint16),
        ("polarity", ctypes.c_uint8),
    ]


class EventFrames(Structure):
    """struct sbp_event_frames: how events become features. Fields left 0
    take the library's defaults; struct_size is set on creation."""

    _fields_ = [
        ("struct_size", c_size_t),
        ("frames", c_size_t),
        ("downsample", c_uint),
        ("binning", c_int),
        ("polarity", c_int),
        ("value", c_int),
    ]

    def __init__(self, **kw):
        super().__init__(**kw)
        self.struct_size = ctypes.sizeof(EventFrames)


class NettalkCodes(Structure):
    """struct sbp_nettalk_codes: the NETtalk unit code table."""

    _fields_ = [
        ("n_phonemes", c_size_t),
        ("n_stress", c_size_t),
        ("phonemes", c_char * 65),
        ("stress", c_char * 17),
        ("phoneme_code", (c_float * 21) * 64),
        ("stress_code", (c_float * 5) * 16),
    ]


#: int (*sbp_progress_fn)(void *user, size_t done, size_t total)
PROGRESS_FN = CFUNCTYPE(c_int, c_void_p, c_size_t, c_size_t)

# C enums are passed as int.
ENUM = c_int
STATUS = c_int

# --------------------------------------------------------------------------
# Finding and loading the library
# --------------------------------------------------------------------------


def _common_locations():
    """Places where an installed libsbp usually lives, most specific first."""
    if sys.platform == "darwin":
        names = ["libsbp.0.dylib", "libsbp.dylib"]
    elif sys.platform == "win32":
        names = ["sbp.dll", "libsbp.dll", "libsbp-0.dll"]
    else:
        names = ["libsbp.so.0"]
    here = os.path.dirname(os.path.abspath(__file__))
    dirs = [here, os.path.dirname(here)]
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    for prefix in dict.fromkeys([sys.prefix, "/usr/local", "/usr"]):
        dirs.append(os.path.join(prefix, "lib"))
        if multiarch:
            dirs.append(os.path.join(prefix, "lib", multiarch))
        dirs.append(os.path.join(prefix, "lib64"))
    if sys.platform == "darwin":
        dirs += ["/opt/homebrew/lib"]
    paths = [os.path.join(d, n) for d in dirs for n in names]
    # Last: the bare name, which lets the dynamic loader search its own
    # paths (LD_LIBRARY_PATH, the ld.so cache).
    return paths + names


def _open(path):
    """Loads one candidate and checks that it is a libsbp of our major
    version. Returns (CDLL, None) or (None, reason)."""
    try:
        cdll = ctypes.CDLL(path)
    except OSError as e:
        return None, str(e)
    try:
        cdll.sbp_version_number.argtypes = []
        cdll.sbp_version_number.restype = c_uint
        cdll.sbp_version_string.argtypes = []
        cdll.sbp_version_string.restype = c_char_p
    except AttributeError:
        return None, "%s is not libsbp (no sbp_version_number)" % path
    found = cdll.sbp_version_number()
    if found // 10000 != EXPECTED_MAJOR:
        return None, (
            "the library at %s is version %s (major version %d), but this binding works "
            "with major version %d only; install a matching libsbp or point SBP_LIBRARY "
            "at one" % (path, cdll.sbp_version_string().decode("utf-8", "replace"),
                        found // 10000, EXPECTED_MAJOR))
    return cdll, None


def _load():
    """Returns (CDLL, where it came from), or raises ImportError."""
    path = os.environ.get("SBP_LIBRARY")
    if path:
        # An explicit choice: no fallback that could hide a mistake.
        cdll, why = _open(path)
        if cdll is None:
            raise ImportError("sbp: cannot use SBP_LIBRARY=%r: %s" % (path, why))
        return cdll, path
    tried = []
    name = ctypes.util.find_library("sbp")
    candidates = ([name] if name else []) + _common_locations()
    for cand in candidates:
        if os.path.isabs(cand) and not os.path.exists(cand):
            continue
        cdll, why = _open(cand)
        if cdll is not None:
            return cdll, cand
        tried.append(why)
    raise ImportError(
        "sbp: no usable libsbp was found. Install libsbp, or set SBP_LIBRARY to the "
        "full path of libsbp.so.0 (or add its directory to LD_LIBRARY_PATH)."
        + (" Tried: " + "; ".join(tried) if tried else ""))


lib, library_path = _load()

# --------------------------------------------------------------------------
# Error checks (ctypes errcheck functions)
# --------------------------------------------------------------------------


def _status_text(code):
    return lib.sbp_status_str(code).decode("utf-8", "replace")


def _check_plain(result, func, args):
    """No handle to ask: the message is the status text."""
    if result != Status.OK:
        raise Error(result, "%s: %s" % (func.__name__, _status_text(result)))
    return result


def _check_handle(errmsg_name):
    """The first argument is a handle; its errmsg explains the failure."""
    def check(result, func, args):
        if result == Status.OK:
            return result
        msg = b""
        if args and args[0]:
            msg = getattr(lib, errmsg_name)(args[0]) or b""
        msg = msg.decode("utf-8", "replace")
        if not msg:
            msg = "%s: %s" % (func.__name__, _status_text(result))
        raise Error(result, msg)
    check.__name__ = "check_" + errmsg_name
    return check


def _check_diag(index):
    """Argument `index` is an sbp_diag the loader filled in."""
    def check(result, func, args):
        if result == Status.OK:
            return result
        diag = args[index] if len(args) > index else None
        msg = ""
        if isinstance(diag, Diag):
            msg = diag.message.decode("utf-8", "replace")
            where = os.fsdecode(diag.file)
            if where and where not in msg:
                msg = "%s: %s" % (where, msg) if msg else where
        if not msg:
            msg = "%s: %s" % (func.__name__, _status_text(result))
        raise Error(result, msg, diag if isinstance(diag, Diag) else None)
    check.__name__ = "check_diag"
    return check


_net = _check_handle("sbp_net_errmsg")
_layer = _check_handle("sbp_layer_errmsg")
_rule = _check_handle("sbp_rule_errmsg")
_ds = _check_handle("sbp_dataset_errmsg")
_plain = _check_plain
_diag = _check_diag(2)
_diag1 = _check_diag(1)

P = POINTER
FLOATS = P(c_float)

# --------------------------------------------------------------------------
# The prototype table: (name, argtypes, restype, errcheck or None).
# One row per symbol of lib/libsbp.sym, in the order of sbp.h. A test checks
# it against both files.
# --------------------------------------------------------------------------

PROTOTYPES = [
    # version
    ("sbp_version_number", [], c_uint, None),
    ("sbp_version_string", [], c_char_p, None),
    # status
    ("sbp_status_str", [STATUS], c_char_p, None),
    ("sbp_status_name", [STATUS], c_char_p, None),
    # parameters
    ("sbp_param_info", [ENUM, P(ParamDesc)], STATUS, _plain),
    ("sbp_param_by_name", [c_char_p, P(ENUM)], STATUS, _plain),
    # datasets
    ("sbp_dataset_create", [c_size_t, c_size_t, FLOATS, P(c_int32), c_size_t, P(DatasetP)],
     STATUS, _plain),
    ("sbp_dataset_create_targets", [c_size_t, c_size_t, FLOATS, c_size_t, FLOATS, P(DatasetP)],
     STATUS, _plain),
    ("sbp_dataset_load_idx", [c_char_p, c_char_p, P(Diag), P(DatasetP)], STATUS, _diag),
    ("sbp_dataset_load_mnist", [c_char_p, ENUM, P(Diag), P(DatasetP)], STATUS, _diag),
    ("sbp_dataset_free", [DatasetP], None, None),
    ("sbp_dataset_count", [DatasetP], c_size_t, None),
    ("sbp_dataset_features", [DatasetP], c_size_t, None),
    ("sbp_dataset_targets", [DatasetP], c_size_t, None),
    ("sbp_dataset_classes", [DatasetP], c_size_t, None),
    ("sbp_dataset_sample", [DatasetP, c_size_t, FLOATS, FLOATS, P(c_int32)], STATUS, _ds),
    ("sbp_dataset_shuffle", [DatasetP, c_uint64], STATUS, _ds),
    ("sbp_dataset_reset_order", [DatasetP], STATUS, _ds),
    ("sbp_dataset_batch", [DatasetP, c_size_t, c_size_t, FLOATS, FLOATS, P(c_int32)],
     STATUS, _ds),
    ("sbp_dataset_subset", [DatasetP, c_size_t, c_size_t, P(DatasetP)], STATUS, _ds),
    ("sbp_dataset_split", [DatasetP, c_size_t, c_uint64, P(DatasetP), P(DatasetP)],
     STATUS, _ds),
    ("sbp_dataset_normalize", [DatasetP], STATUS, _ds),
    ("sbp_dataset_errmsg", [DatasetP], c_char_p, None),
    # NETtalk
    ("sbp_nettalk_load", [c_char_p, ENUM, c_uint64, P(Diag), P(DatasetP), P(DatasetP)],
     STATUS, _check_diag(3)),
    ("sbp_nettalk_load_codes", [c_char_p, P(Diag), P(NettalkCodes)], STATUS, _check_diag(1)),
    ("sbp_nettalk_decode", [P(NettalkCodes), FLOATS, c_size_t, P(c_int32), P(c_int32)],
     STATUS, _plain),
    ("sbp_nettalk_score", [P(NettalkCodes), FLOATS, FLOATS, c_size_t, P(c_double),
                           P(c_double), P(c_double)], STATUS, _plain),
    # event streams
    ("sbp_events_read", [c_char_p, ENUM, c_uint, c_uint, P(Diag), P(P(Event)), P(c_size_t)],
     STATUS, _check_diag(4)),
    ("sbp_events_free", [P(Event)], None, None),
    ("sbp_event_frames_features", [P(EventFrames), c_uint, c_uint, P(Diag), P(c_size_t)],
     STATUS, _check_diag(3)),
    ("sbp_events_to_frames", [P(Event), c_size_t, c_uint, c_uint, c_uint64, c_uint64,
                              P(EventFrames), P(Diag), FLOATS, c_size_t], STATUS,
     _check_diag(7)),
    ("sbp_dataset_load_nmnist", [c_char_p, c_char_p, P(EventFrames), P(Diag), P(DatasetP)],
     STATUS, _check_diag(3)),
    ("sbp_dataset_load_dvsgesture", [c_char_p, ENUM, P(EventFrames), P(Diag), P(DatasetP)],
     STATUS, _check_diag(3)),
    # layers
    ("sbp_layer_create", [c_size_t, P(LayerP)], STATUS, _plain),
    ("sbp_layer_free", [LayerP], None, None),
    ("sbp_layer_size", [LayerP], c_size_t, None),
    ("sbp_layer_set_int", [LayerP, ENUM, c_int64], STATUS, _layer),
    ("sbp_layer_set_real", [LayerP, ENUM, c_double], STATUS, _layer),
    ("sbp_layer_get_int", [LayerP, ENUM, P(c_int64)], STATUS, _layer),
    ("sbp_layer_get_real", [LayerP, ENUM, P(c_double)], STATUS, _layer),
    ("sbp_layer_errmsg", [LayerP], c_char_p, None),
    # rules
    ("sbp_rule_create", [ENUM, P(RuleP)], STATUS, _plain),
    ("sbp_rule_free", [RuleP], None, None),
    ("sbp_rule_get_kind", [RuleP], ENUM, None),
    ("sbp_rule_kind_name", [ENUM], c_char_p, None),
    ("sbp_rule_set_int", [RuleP, ENUM, c_int64], STATUS, _rule),
    ("sbp_rule_set_real", [RuleP, ENUM, c_double], STATUS, _rule),
    ("sbp_rule_get_int", [RuleP, ENUM, P(c_int64)], STATUS, _rule),
    ("sbp_rule_get_real", [RuleP, ENUM, P(c_double)], STATUS, _rule),
    ("sbp_rule_errmsg", [RuleP], c_char_p, None),
    # networks
    ("sbp_net_create", [ENUM, c_uint64, P(NetP)], STATUS, _plain),
    ("sbp_net_free", [NetP], None, None),
    ("sbp_net_get_engine", [NetP], ENUM, None),
    ("sbp_engine_name", [ENUM], c_char_p, None),
    ("sbp_engine_available", [ENUM], c_int, None),
    ("sbp_net_add_layer", [NetP, LayerP], STATUS, _net),
    ("sbp_net_layer_count", [NetP], c_size_t, None),
    ("sbp_net_layer_size", [NetP, c_size_t], c_size_t, None),
    ("sbp_net_attach_rule", [NetP, c_size_t, RuleP], STATUS, _net),
    ("sbp_net_detach_rule", [NetP, c_size_t, ENUM], STATUS, _net),
    ("sbp_net_set_int", [NetP, ENUM, c_int64], STATUS, _net),
    ("sbp_net_set_real", [NetP, ENUM, c_double], STATUS, _net),
    ("sbp_net_get_int", [NetP, ENUM, P(c_int64)], STATUS, _net),
    ("sbp_net_get_real", [NetP, ENUM, P(c_double)], STATUS, _net),
    ("sbp_net_get_seed", [NetP, P(c_uint64)], STATUS, _net),
    ("sbp_net_get_layer", [NetP, c_size_t, P(LayerP)], STATUS, _net),
    ("sbp_net_get_rule", [NetP, c_size_t, ENUM, P(RuleP)], STATUS, _net),
    ("sbp_net_set_progress", [NetP, PROGRESS_FN, c_void_p], STATUS, _net),
    ("sbp_net_train_epoch", [NetP, DatasetP, P(c_double)], STATUS, _net),
    ("sbp_net_evaluate", [NetP, DatasetP, P(c_double)], STATUS, _net),
    ("sbp_net_predict", [NetP, c_size_t, FLOATS, P(c_int32), FLOATS], STATUS, _net),
    ("sbp_net_get_weights", [NetP, c_size_t, FLOATS, c_size_t], STATUS, _net),
    ("sbp_net_set_weights", [NetP, c_size_t, FLOATS, c_size_t], STATUS, _net),
    ("sbp_net_errmsg", [NetP], c_char_p, None),
    # computational cost
    ("sbp_cost_per_epoch", [ENUM, c_size_t, c_size_t, c_size_t], c_double, None),
    ("sbp_cost_mean_epochs", [P(c_double), c_size_t, P(c_double), c_size_t, c_double,
                              c_size_t, P(c_double), P(c_double)], STATUS, _plain),
    ("sbp_cost_mean_std", [P(c_double), c_size_t, P(c_double), P(c_double)], STATUS, _plain),
    # build information
    ("sbp_blas_name", [], c_char_p, None),
    ("sbp_default_threads", [], c_uint, None),
    # model files
    ("sbp_net_save", [NetP, c_char_p], STATUS, _net),
    ("sbp_net_load", [c_char_p, P(Diag), P(NetP)], STATUS, _diag1),
    ("sbp_net_save_mem", [NetP, P(c_void_p), P(c_size_t)], STATUS, _net),
    ("sbp_net_load_mem", [c_void_p, c_size_t, P(Diag), P(NetP)], STATUS, _diag),
    ("sbp_free", [c_void_p], None, None),
]


def _declare():
    missing = []
    for name, argtypes, restype, errcheck in PROTOTYPES:
        try:
            fn = getattr(lib, name)
        except AttributeError:
            missing.append(name)
            continue
        fn.argtypes = argtypes
        fn.restype = restype
        if errcheck is not None:
            fn.errcheck = errcheck
    if missing:
        raise ImportError("sbp: the library at %s (version %s) lacks %s; it is older than "
                          "this binding" % (library_path, lib.sbp_version_string().decode(),
                                            ", ".join(missing)))


_declare()
