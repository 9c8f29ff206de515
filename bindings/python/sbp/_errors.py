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

    >>> try:
    ...     sbp.Dataset.load_idx("missing-images", "missing-labels")
    ... except sbp.Error as e:
    ...     e.code is sbp.Status.E_IO
    True
    """

    def __init__(self, code, message):
        try:
            code = Status(code)
        except ValueError:
            code = int(code)
        self.code = code
        self.message = str(message)
        super().__init__(code, self.message)

    def __str__(self):
        name = self.code.name if isinstance(self.code, Status) else "status %d" % self.code
        return "%s: %s" % (name, self.message)

    def __repr__(self):
        return "sbp.Error(%s, %r)" % (
            "Status.%s" % self.code.name if isinstance(self.code, Status) else self.code,
            self.message,
        )
