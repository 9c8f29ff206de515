"""The one exception type of the binding."""

from ._enums import Status

__all__ = ["Error"]


class Error(Exception):
    """A libsbp call failed.

    ``code`` is the :class:`Status` the library returned (a plain ``int``
    only if the library returned a value this binding does not know) and
    ``message`` is the one-line explanation: the handle's own message when
    there is a handle, the loader's diagnostic for file loaders, and the
    generic status text otherwise.

    Errors raised by the file loaders (datasets, events, NETtalk, model
    files) say where the problem is, from the C ``sbp_diag``: ``file`` (the
    offending path, ``None`` if none), ``offset`` (byte offset in the
    decompressed content), ``line`` (1-based line of a text file, else 0),
    ``expected`` and ``found`` (values or sizes; 0 when not meaningful).
    For errors that do not come from a loader all five are ``None``.

    >>> try:
    ...     sbp.Dataset.load_idx("missing-images", "missing-labels")
    ... except sbp.Error as e:
    ...     e.code is sbp.Status.E_IO
    True
    """

    #: Attributes filled in from a loader's diagnostic.
    DIAG_FIELDS = ("file", "offset", "line", "expected", "found")

    def __init__(self, code, message, diag=None):
        try:
            code = Status(code)
        except ValueError:
            code = int(code)
        self.code = code
        self.message = str(message)
        self.file = self.offset = self.line = self.expected = self.found = None
        if diag is not None:
            self._take_diag(diag)
        super().__init__(code, self.message)

    def _take_diag(self, diag):
        """Copies the location of a C ``sbp_diag``."""
        import os
        f = diag.file
        f = os.fsdecode(f) if isinstance(f, bytes) else f
        self.file = f or None
        self.offset, self.line = int(diag.offset), int(diag.line)
        self.expected, self.found = int(diag.expected), int(diag.found)

    @property
    def name(self):
        """The C identifier of the status (``"SBP_E_IO"``)."""
        return "SBP_" + self.code.name if isinstance(self.code, Status) else None

    def __str__(self):
        name = self.code.name if isinstance(self.code, Status) else "status %d" % self.code
        return "%s: %s" % (name, self.message)

    def __repr__(self):
        return "sbp.Error(%s, %r)" % (
            "Status.%s" % self.code.name if isinstance(self.code, Status) else self.code,
            self.message,
        )

    def __reduce__(self):
        # Picklable (multiprocessing): code and message; the location too.
        return (_rebuild, (int(self.code), self.message,
                           {k: getattr(self, k) for k in self.DIAG_FIELDS}))


def _rebuild(code, message, fields):
    e = Error(code, message)
    for k, v in fields.items():
        setattr(e, k, v)
    return e
