"""Event-camera recordings: reading N-MNIST and AEDAT 3.1 files and binning
events into frames (docs/events.md)."""

import ctypes
import os

from . import _buffers
from ._enums import EventBinning, EventFormat, EventPolarity, EventValue, Status
from ._errors import Error
from ._handle import index
from ._lib import Diag, Event, EventFrames, lib

__all__ = ["read_events", "events_to_frames", "frame_features", "frame_options"]

_np = _buffers.np

if _np is not None:
    #: numpy dtype of one event, the layout of struct sbp_event.
    EVENT_DTYPE = _np.dtype({"names": ["t", "x", "y", "polarity"],
                             "formats": ["<u8", "<u2", "<u2", "u1"],
                             "offsets": [0, 8, 10, 12], "itemsize": 16})
else:
    EVENT_DTYPE = None


def _enum(value, cls, what):
    if value is None:
        return 0
    if isinstance(value, str):
        try:
            return int(cls[value.upper()])
        except KeyError:
            raise Error(Status.E_INVALID, "%s must be one of %s, not %r" % (
                what, ", ".join(m.name.lower() for m in cls), value)) from None
    return int(cls(value))


def frame_options(frames=None, downsample=None, binning=None, polarity=None, value=None):
    """An :class:`EventFrames` struct. Each argument left ``None`` takes the
    library default: 10 frames, no downsampling, equal-time binning
    (``"time"`` or ``"count"``), ON and OFF in two channels (``"split"`` or
    ``"merge"``), event counts (``"count"`` or ``"binary"``)."""
    o = EventFrames()
    o.frames = index(frames, "frames") if frames is not None else 0
    o.downsample = index(downsample, "downsample") if downsample is not None else 0
    o.binning = _enum(binning, EventBinning, "binning")
    o.polarity = _enum(polarity, EventPolarity, "polarity")
    o.value = _enum(value, EventValue, "value")
    return o


def _fmt(fmt, path):
    if fmt is None:
        name = os.fsdecode(path).lower()
        if name.endswith(".gz"):
            name = name[:-3]
        return EventFormat.AEDAT3 if name.endswith(".aedat") else EventFormat.BS2
    return _enum(fmt, EventFormat, "format")


def read_events(path, width, height, format=None):
    """Every event of a recording, in file order. ``format`` is
    ``"bs2"`` (N-MNIST binary) or ``"aedat3"`` (AEDAT 3.1); by default it
    follows the file name (``.aedat`` or ``.aedat.gz``: AEDAT, else bs2).
    Coordinates must lie on a ``width`` x ``height`` sensor.

    Returns a numpy structured array with fields ``t`` (µs), ``x``, ``y``,
    ``polarity`` (1 = ON), or a list of ``(t, x, y, polarity)`` tuples
    without numpy. A malformed file raises :class:`sbp.Error` naming the
    file, byte offset and problem."""
    p = os.fsencode(path)
    diag = Diag()
    ptr = ctypes.POINTER(Event)()
    n = ctypes.c_size_t()
    lib.sbp_events_read(p, _fmt(format, p), index(width, "width"), index(height, "height"),
                        diag, ctypes.byref(ptr), ctypes.byref(n))
    try:
        count = n.value
        if _np is not None:
            if count == 0:
                return _np.zeros(0, dtype=EVENT_DTYPE)
            raw = ctypes.string_at(ptr, count * ctypes.sizeof(Event))
            return _np.frombuffer(raw, dtype=EVENT_DTYPE).copy()
        return [(ptr[i].t, ptr[i].x, ptr[i].y, ptr[i].polarity) for i in range(count)]
    finally:
        lib.sbp_events_free(ptr)


def _events_in(events):
    """(ctypes pointer, count, keep-alive) of events given as a structured
    array, a sequence of (t, x, y, polarity) or of Event structs."""
    if _np is not None and isinstance(events, _np.ndarray) and events.dtype.names:
        a = _np.zeros(len(events), dtype=EVENT_DTYPE)
        for f in ("t", "x", "y", "polarity"):
            a[f] = events[f]
        ptr = a.ctypes.data_as(ctypes.POINTER(Event)) if len(a) else None
        return ptr, len(a), a
    seq = list(events)
    arr = (Event * max(len(seq), 1))()
    for i, e in enumerate(seq):
        if isinstance(e, Event):
            arr[i] = e
        else:
            t, x, y, pol = e
            arr[i] = Event(int(t), int(x), int(y), int(pol))
    return (arr if seq else None), len(seq), arr


def frame_features(width, height, options=None):
    """Features of one sample: frames x channels x ceil(height/s) x
    ceil(width/s)."""
    o = options if options is not None else frame_options()
    diag = Diag()
    d = ctypes.c_size_t()
    lib.sbp_event_frames_features(o, index(width, "width"), index(height, "height"), diag,
                                  ctypes.byref(d))
    return d.value


def events_to_frames(events, width, height, t_begin, t_end, options=None):
    """Bins the events with ``t_begin <= t < t_end`` into frames (see
    sbp_events_to_frames). Returns float32 of shape (frames, channels,
    rows, columns) with numpy, else a flat ``array.array('f')``."""
    o = options if options is not None else frame_options()
    d = frame_features(width, height, o)
    ptr, n, keep = _events_in(events)
    out = _buffers.Out(d)
    diag = Diag()
    lib.sbp_events_to_frames(ptr, n, index(width, "width"), index(height, "height"),
                             index(t_begin, "t_begin"), index(t_end, "t_end"), o, diag,
                             out.ptr, d)
    del keep
    s = o.downsample or 1
    rows, cols = (height + s - 1) // s, (width + s - 1) // s
    channels = 1 if o.polarity == EventPolarity.MERGE else 2
    return out.result((d // (channels * rows * cols), channels, rows, cols))
