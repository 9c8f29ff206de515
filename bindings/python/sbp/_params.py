"""Parameter descriptions and the typed get/set machinery shared by
layers, rules and networks."""

import ctypes
import functools
import math
import numbers
import operator
from collections import namedtuple

from ._enums import (Activation, BaseRule, Encoder, HiddenMode, Loss, Optimizer, Param,
                     ParamType, RetroWeight, SpreadForm, Status)
from ._errors import Error
from ._lib import ParamDesc, lib

__all__ = ["ParamInfo", "param_info", "param_by_name", "params"]


class ParamInfo(namedtuple("ParamInfo", "param name unit type min max default")):
    """What the library says about one parameter.

    ``param`` is the :class:`Param` member, ``name`` its dotted name
    (``"relax.beta"``), ``unit`` a unit such as ``"ms"`` (``""`` if none),
    ``type`` a :class:`ParamType`, ``min`` and ``max`` the inclusive bounds
    and ``default`` the default value, or ``None`` when the engine picks it.
    Integer parameters have ``int`` bounds and default.
    """

    __slots__ = ()


# Integer parameters whose values are members of an enum.
_VALUE_ENUMS = {
    Param.NET_OUTPUT_ACTIVATION: Activation,
    Param.LAYER_ACTIVATION: Activation,
    Param.RELAX_BASE_RULE: BaseRule,
    Param.SPIKE_ENCODER: Encoder,
    Param.ANN_LOSS: Loss,
    Param.ANN_OPTIMIZER: Optimizer,
    Param.ANN_HIDDEN_MODE: HiddenMode,
    Param.SPREAD_FORM: SpreadForm,
    Param.SPREAD_RETRO_WEIGHT: RetroWeight,
}


def _as_param(param):
    """Param member, raw int or dotted name -> Param (or int if unknown)."""
    if isinstance(param, str):
        return param_by_name(param)
    try:
        value = operator.index(param)
    except TypeError:
        raise TypeError("a parameter is a sbp.Param, an int or a dotted name, not %s"
                        % type(param).__name__) from None
    try:
        return Param(value)
    except ValueError:
        return value


@functools.lru_cache(maxsize=None)
def _info(value):
    desc = ParamDesc()
    try:
        lib.sbp_param_info(value, ctypes.byref(desc))
    except Error as e:
        raise Error(e.code, "unknown parameter 0x%X" % value) from None
    typ = ParamType(desc.type)
    lo, hi, default = desc.min, desc.max, desc.default_value
    default = None if math.isnan(default) else default
    if typ == ParamType.INT:
        lo, hi = int(lo), int(hi)
        default = None if default is None else int(default)
        enum = _VALUE_ENUMS.get(value)
        if enum is not None and default is not None:
            default = enum(default)
    try:
        value = Param(value)
    except ValueError:
        pass
    return ParamInfo(value, desc.name.decode(), desc.unit.decode(), typ, lo, hi, default)


def param_info(param):
    """Describes a parameter, given as a :class:`Param`, its integer value or
    its dotted name. Unknown parameters raise ``sbp.Error(E_INVALID)``.

    >>> sbp.param_info("relax.beta").default
    0.5
    """
    p = _as_param(param)
    return _info(int(p))


def param_by_name(name):
    """The :class:`Param` with the dotted name ``name`` (e.g. ``"stdp.a_plus"``).
    An unknown name raises ``sbp.Error(E_INVALID)``."""
    if not isinstance(name, str):
        raise TypeError("parameter name must be a str, not %s" % type(name).__name__)
    out = ctypes.c_int()
    try:
        lib.sbp_param_by_name(name.encode("utf-8"), ctypes.byref(out))
    except Error as e:
        raise Error(e.code, "no parameter is named %r" % name) from None
    try:
        return Param(out.value)
    except ValueError:
        return out.value


def params():
    """Descriptions of every parameter this binding knows, in enum order."""
    return [param_info(p) for p in Param]


def coerce(info, value):
    """Checks a Python value against a parameter's type and returns the value
    to pass to the _int or _real setter."""
    if isinstance(value, (str, bytes)) or not isinstance(value, numbers.Number):
        raise TypeError("parameter '%s' takes a number, not %s"
                        % (info.name, type(value).__name__))
    if info.type == ParamType.INT:
        try:
            v = operator.index(value)
        except TypeError:
            f = float(value)
            if not math.isfinite(f):
                raise Error(Status.E_NUMERIC, "parameter '%s' must be finite" % info.name) \
                    from None
            if not f.is_integer():
                raise Error(Status.E_INVALID, "parameter '%s' is an integer; %r is not"
                            % (info.name, value)) from None
            v = int(f)
        if not -2**63 <= v < 2**63:
            raise Error(Status.E_RANGE, "parameter '%s' = %d is outside [%s, %s]"
                        % (info.name, v, info.min, info.max))
        return v
    if isinstance(value, complex):
        raise TypeError("parameter '%s' takes a real number" % info.name)
    return float(value)


class ParamsMixin:
    """get/set by :class:`Param`, int or dotted name, and ``obj[name]``
    item access, for classes that define ``_handle()`` and ``_c`` (the C
    name stem: "net", "layer" or "rule") and ``_groups()`` (dotted-name
    prefixes tried for keyword arguments)."""

    def set(self, param, value):
        """Sets a parameter. The integer or real setter is chosen from
        :func:`param_info`; a value outside the bounds raises
        ``sbp.Error(E_RANGE)`` (it is never clamped)."""
        info = param_info(param)
        v = coerce(info, value)
        h = self._handle()
        if info.type == ParamType.INT:
            getattr(lib, "sbp_%s_set_int" % self._c)(h, int(info.param), v)
        else:
            getattr(lib, "sbp_%s_set_real" % self._c)(h, int(info.param), v)
        return self

    def get(self, param):
        """Current value of a parameter: an ``int`` (an enum member for
        enumerated ones) or a ``float``; ``None`` while the engine is left to
        choose it."""
        info = param_info(param)
        h = self._handle()
        if info.type == ParamType.INT:
            out = ctypes.c_int64()
            getattr(lib, "sbp_%s_get_int" % self._c)(h, int(info.param), ctypes.byref(out))
            v = out.value
            if v == 0 and info.default is None:
                return None
            enum = _VALUE_ENUMS.get(info.param)
            if enum is not None:
                try:
                    return enum(v)
                except ValueError:
                    pass
            return v
        out = ctypes.c_double()
        getattr(lib, "sbp_%s_get_real" % self._c)(h, int(info.param), ctypes.byref(out))
        if math.isnan(out.value) and info.default is None:
            return None
        return out.value

    def __getitem__(self, param):
        return self.get(param)

    def __setitem__(self, param, value):
        self.set(param, value)

    def update(self, **params):
        """Sets several parameters by short name: ``layer.update(tau_m=10)``
        sets ``"layer.tau_m"``. Each name is looked up under the object's own
        prefixes (see ``_groups``)."""
        for key, value in params.items():
            self.set(self._resolve_short(key), value)
        return self

    def _resolve_short(self, key):
        for group in self._groups():
            try:
                return param_by_name("%s.%s" % (group, key))
            except Error:
                continue
        raise Error(Status.E_INVALID, "%s has no parameter %r (looked for %s)"
                    % (type(self).__name__, key,
                       ", ".join("'%s.%s'" % (g, key) for g in self._groups())))
