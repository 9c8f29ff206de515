"""NETtalk: the corpus as two datasets, its unit code table, decoding of
network outputs and the paper's cosine metric (docs/nettalk.md)."""

import ctypes
from collections import namedtuple

from . import _buffers
from ._dataset import Dataset, _path
from ._enums import NettalkSplit, Status
from ._errors import Error
from ._handle import index
from ._lib import DatasetP, Diag, NettalkCodes as _CCodes, lib

__all__ = ["NettalkCodes", "NettalkScore", "load_nettalk"]

# The SBP_NETTALK_* constants of sbp.h (the drift test compares them).
#: Letters in an input window.
WINDOW = 7
#: Symbols per window position: a..z and the blank.
SYMBOLS = 27
#: Input units of a sample: WINDOW x SYMBOLS.
INPUTS = 189
#: Phoneme (articulatory feature) units of a target.
ARTICULATORY = 21
#: Stress units of a target.
STRESS_UNITS = 5
#: Units per target: 21 articulatory + 5 stress.
UNITS = 26
#: Largest phoneme and stress tables a code table holds.
MAX_PHONEMES = 64
MAX_STRESS = 16


class NettalkScore(namedtuple("NettalkScore", "phoneme_accuracy stress_accuracy cosine_score")):
    """What :meth:`NettalkCodes.score` returns: fractions in [0, 1];
    ``cosine_score`` is the paper's metric, 1 - mean cosine distance."""

    __slots__ = ()


def _split(split):
    if isinstance(split, str):
        try:
            return NettalkSplit[split.upper().replace("-", "_")]
        except KeyError:
            raise Error(Status.E_INVALID,
                        "NETtalk split must be 'paper', 'paper-val' or 'words', not %r"
                        % split) from None
    return NettalkSplit(split)


def load_nettalk(directory, split="paper", seed=0):
    """Loads a NETtalk directory (``nettalk.data``, ``features.tsv``,
    ``stress.tsv`` and, for the paper split, ``nettalk.list``) and returns
    ``(train, test)`` datasets of 7-letter windows: 189 one-hot inputs and
    26 multi-hot targets each (labels -1). ``split`` is ``"paper"`` (train on
    the 1 000 listed words, test on the others), ``"paper-val"`` (for tuning:
    200 of the 1 000 listed words, chosen by ``seed``, as the second dataset;
    the paper's test words unused) or ``"words"`` (a 90/10 split of the
    distinct words seeded by ``seed``), or a :class:`NettalkSplit`."""
    diag = Diag()
    train, test = DatasetP(), DatasetP()
    lib.sbp_nettalk_load(_path(directory, "directory"), int(_split(split)),
                         index(seed, "seed"), diag, ctypes.byref(train), ctypes.byref(test))
    return Dataset._wrap(train), Dataset._wrap(test)


class NettalkCodes:
    """The unit code table of a NETtalk directory: each phoneme symbol's 21
    articulatory units and each stress symbol's 5 stress units."""

    def __init__(self):
        raise TypeError("use NettalkCodes.load(directory)")

    @classmethod
    def load(cls, directory):
        """Reads ``features.tsv`` and ``stress.tsv`` from ``directory``."""
        self = cls.__new__(cls)
        self._c = _CCodes()
        diag = Diag()
        lib.sbp_nettalk_load_codes(_path(directory, "directory"), diag, ctypes.byref(self._c))
        return self

    @property
    def phonemes(self):
        """The phoneme symbols in table order (a str)."""
        return self._c.phonemes.decode("ascii")

    @property
    def stress(self):
        """The stress symbols in table order (a str)."""
        return self._c.stress.decode("ascii")

    def code(self, phoneme, stress):
        """The 26-unit target of a phoneme symbol and a stress symbol, as a
        list of floats."""
        try:
            p, s = self.phonemes.index(phoneme), self.stress.index(stress)
        except ValueError:
            raise Error(Status.E_INVALID, "unknown NETtalk symbol %r or %r"
                        % (phoneme, stress)) from None
        return list(self._c.phoneme_code[p]) + list(self._c.stress_code[s])

    def _rows(self, values, what):
        buf = _buffers.floats_in(values, what)
        if buf.size % UNITS:
            raise Error(Status.E_MISMATCH, "%s has %d values, not a multiple of %d units"
                        % (what, buf.size, UNITS))
        return buf, buf.size // UNITS

    def decode(self, outputs):
        """Decodes rows of 26 output units by the smallest angle. Returns
        ``(phonemes, stress)``: two strings with one symbol per row (``?``
        where a part is all zero or not finite). /J/ decodes as /G/ with the
        paper's table (identical codes)."""
        buf, n = self._rows(outputs, "outputs")
        ph = _buffers.Out(n, "i")
        st = _buffers.Out(n, "i")
        lib.sbp_nettalk_decode(ctypes.byref(self._c), buf.ptr, n, ph.ptr, st.ptr)
        p, s = self.phonemes, self.stress
        return ("".join(p[i] if i >= 0 else "?" for i in ph.result()),
                "".join(s[i] if i >= 0 else "?" for i in st.result()))

    def score(self, outputs, targets):
        """Phoneme accuracy, stress accuracy and the paper's cosine score of
        output rows against target rows (26 units each); a
        :class:`NettalkScore`."""
        o, n = self._rows(outputs, "outputs")
        t, nt = self._rows(targets, "targets")
        if n != nt:
            raise Error(Status.E_MISMATCH, "%d output rows but %d target rows" % (n, nt))
        pa, sa, cs = ctypes.c_double(), ctypes.c_double(), ctypes.c_double()
        lib.sbp_nettalk_score(ctypes.byref(self._c), o.ptr, t.ptr, n, ctypes.byref(pa),
                              ctypes.byref(sa), ctypes.byref(cs))
        return NettalkScore(pa.value, sa.value, cs.value)

    def __repr__(self):
        return "<sbp.NettalkCodes %d phonemes, %d stress symbols>" % (
            self._c.n_phonemes, self._c.n_stress)
