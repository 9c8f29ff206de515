"""Layers, plasticity rules and networks."""

import ctypes
import os

from . import _buffers
from ._dataset import Dataset
from ._enums import Engine, RuleKind, Status
from ._errors import Error
from ._handle import Handle, index
from ._lib import PROGRESS_FN, Diag, LayerP, NetP, RuleP, lib
from ._params import ParamsMixin

__all__ = ["Layer", "Rule", "Network", "engine_name", "engine_available"]


def _engine(engine):
    if isinstance(engine, str):
        try:
            return Engine[engine.upper()]
        except KeyError:
            raise Error(Status.E_INVALID, "unknown engine %r (known: %s)" % (
                engine, ", ".join(e.name.lower() for e in Engine))) from None
    return engine


def _rule_kind(kind):
    if isinstance(kind, str):
        try:
            return RuleKind[kind.upper()]
        except KeyError:
            raise Error(Status.E_INVALID, "unknown rule kind %r (known: %s)" % (
                kind, ", ".join(k.name.lower() for k in RuleKind))) from None
    return kind


def _path(p):
    try:
        return os.fsencode(p)
    except TypeError:
        raise TypeError("path must be a str, bytes or os.PathLike, not %s"
                        % type(p).__name__) from None


def _dataset(ds):
    if not isinstance(ds, Dataset):
        raise TypeError("expected an sbp.Dataset, not %s" % type(ds).__name__)
    return ds._handle()


def engine_name(engine):
    """The library's name of an engine (``"relax"``), or ``None`` if unknown."""
    name = lib.sbp_engine_name(int(engine))
    return name.decode() if name is not None else None


def engine_available(engine):
    """Whether this build of libsbp implements the engine."""
    return bool(lib.sbp_engine_available(int(_engine(engine))))


class Layer(ParamsMixin, Handle):
    """A layer description: a number of neurons plus neuron parameters
    (``"layer.*"``). Adding it to a :class:`Network` copies it, so one
    Layer can describe many layers.

    >>> hidden = sbp.Layer(500, activation=sbp.Activation.SIGMOID, learning_rate=0.1)
    """

    _free = lib.sbp_layer_free
    _c = "layer"

    def __init__(self, size, **params):
        out = LayerP()
        lib.sbp_layer_create(index(size, "layer size"), ctypes.byref(out))
        self._adopt(out)
        if params:
            self.update(**params)

    def _groups(self):
        return ("layer",)

    @property
    def size(self):
        """Number of neurons."""
        return lib.sbp_layer_size(self._handle())

    def __repr__(self):
        return "<sbp.Layer (closed)>" if self.closed else "<sbp.Layer of %d>" % self.size


_RULE_GROUPS = {
    RuleKind.STDP: ("stdp",),
    RuleKind.SUPERVISED_STDP: ("stdp",),
    RuleKind.STP: ("stp",),
    RuleKind.HOMEOSTASIS: ("homeo",),
    RuleKind.SBP_SPREAD: ("spread",),
    RuleKind.RBM_CD: ("cd", "spread"),
}


class Rule(ParamsMixin, Handle):
    """A plasticity rule description: a :class:`RuleKind` (or its name, such
    as ``"stdp"``) and its parameters. Attaching it to a network copies it.

    >>> stdp = sbp.Rule(sbp.RuleKind.STDP, a_plus=0.02, tau_plus=15.0)
    """

    _free = lib.sbp_rule_free
    _c = "rule"

    def __init__(self, kind, **params):
        kind = _rule_kind(kind)
        out = RuleP()
        lib.sbp_rule_create(int(kind), ctypes.byref(out))
        self._adopt(out)
        if params:
            self.update(**params)

    def _groups(self):
        return _RULE_GROUPS.get(self.kind, ())

    @property
    def kind(self):
        """The rule's :class:`RuleKind`."""
        k = lib.sbp_rule_get_kind(self._handle())
        try:
            return RuleKind(k)
        except ValueError:
            return k

    def __repr__(self):
        if self.closed:
            return "<sbp.Rule (closed)>"
        k = self.kind
        return "<sbp.Rule %s>" % (k.name.lower() if isinstance(k, RuleKind) else k)


_NET_GROUPS = {
    Engine.RELAX: ("net", "relax"),
    Engine.SPIKE: ("net", "spike"),
    Engine.ANN: ("net", "ann"),
    Engine.RBM: ("net",),
}


class Network(ParamsMixin, Handle):
    """A network: an engine, a stack of layers (input first), the rules
    attached to them, its weights and its own seeded random stream.

    Weights are created on first use (training, evaluation, prediction or
    weight access); from then on the topology is fixed. An engine that this
    build of the library lacks still makes a network, but using it raises
    ``sbp.Error(Status.E_UNSUPPORTED)``; see :func:`engine_available`.

    >>> net = sbp.Network("relax", seed=1)
    >>> net.add_layer(784); net.add_layer(500); net.add_layer(10)
    >>> net["relax.beta"] = 0.5
    """

    _free = lib.sbp_net_free
    _c = "net"

    def __init__(self, engine, seed=0, **params):
        engine = _engine(engine)
        out = NetP()
        lib.sbp_net_create(int(engine), index(seed, "seed"), ctypes.byref(out))
        self._adopt(out)
        self._init_wrapped()
        if params:
            self.update(**params)

    def _init_wrapped(self):
        self._progress_cb = None
        self._progress_errors = []

    def _groups(self):
        return _NET_GROUPS.get(self.engine, ("net",))

    # -- topology ---------------------------------------------------------

    @property
    def engine(self):
        """The network's :class:`Engine`."""
        e = lib.sbp_net_get_engine(self._handle())
        try:
            return Engine(e)
        except ValueError:
            return e

    @property
    def layer_count(self):
        """Number of layers, the input layer included."""
        return lib.sbp_net_layer_count(self._handle())

    @property
    def layer_sizes(self):
        """Sizes of the layers, input first."""
        h = self._handle()
        return [lib.sbp_net_layer_size(h, i) for i in range(lib.sbp_net_layer_count(h))]

    def add_layer(self, layer, **params):
        """Appends a layer and returns its index (0 is the input layer).
        ``layer`` is a :class:`Layer` (copied; it can be reused or closed) or
        a size, in which case ``params`` are layer parameters by short name
        (``activation=...``, ``learning_rate=...``)."""
        h = self._handle()
        if isinstance(layer, Layer):
            if params:
                raise TypeError("add_layer: give parameters to the Layer, not here")
            lib.sbp_net_add_layer(h, layer._handle())
        else:
            with Layer(layer, **params) as tmp:
                lib.sbp_net_add_layer(h, tmp._handle())
        return lib.sbp_net_layer_count(h) - 1

    def attach_rule(self, layer_index, rule, **params):
        """Attaches a rule to layer ``layer_index`` (1 or more): synaptic
        rules act on the projection into that layer, neuron rules on its
        neurons. ``rule`` is a :class:`Rule` (copied) or a :class:`RuleKind`
        with ``params`` by short name. A rule of a kind already attached to
        the layer is replaced. An engine that cannot use the rule raises
        ``sbp.Error(E_UNSUPPORTED)``."""
        h = self._handle()
        li = index(layer_index, "layer index")
        if isinstance(rule, Rule):
            if params:
                raise TypeError("attach_rule: give parameters to the Rule, not here")
            lib.sbp_net_attach_rule(h, li, rule._handle())
        else:
            with Rule(rule, **params) as tmp:
                lib.sbp_net_attach_rule(h, li, tmp._handle())
        return self

    def detach_rule(self, layer_index, kind):
        """Removes the rule of ``kind`` from a layer (no error if none)."""
        lib.sbp_net_detach_rule(self._handle(), index(layer_index, "layer index"),
                                int(_rule_kind(kind)))
        return self

    # -- progress -----------------------------------------------------------

    def set_progress(self, callback):
        """Calls ``callback(done, total)`` after every mini-batch of
        :meth:`train_epoch` and :meth:`evaluate`. A true return value stops
        the call, which then raises ``sbp.Error(E_CANCELLED)``; an exception
        raised by the callback also stops it and is re-raised from the
        call. ``None`` removes the callback."""
        h = self._handle()
        if callback is None:
            lib.sbp_net_set_progress(h, ctypes.cast(None, PROGRESS_FN), None)
            self._progress_cb = None
            return self
        errors = self._progress_errors

        def trampoline(_user, done, total):
            try:
                return 1 if callback(done, total) else 0
            except BaseException as e:  # noqa: B902 - re-raised by _run
                errors.append(e)
                return 1

        cb = PROGRESS_FN(trampoline)
        lib.sbp_net_set_progress(h, cb, None)
        self._progress_cb = cb  # the library holds only a raw pointer
        return self

    def _run(self, fn, *args):
        del self._progress_errors[:]
        try:
            return fn(*args)
        except Error as e:
            if e.code == Status.E_CANCELLED and self._progress_errors:
                raise self._progress_errors.pop() from e
            raise

    # -- training and inference ---------------------------------------------

    def train_epoch(self, dataset):
        """One pass over ``dataset`` in its presentation order, in
        mini-batches of ``net.batch_size``. Returns the fraction of
        training samples misclassified during the pass."""
        err = ctypes.c_double()
        self._run(lib.sbp_net_train_epoch, self._handle(), _dataset(dataset),
                  ctypes.byref(err))
        return err.value

    def evaluate(self, dataset):
        """Classification error (a fraction) on ``dataset``; training state
        is unchanged."""
        err = ctypes.c_double()
        self._run(lib.sbp_net_evaluate, self._handle(), _dataset(dataset), ctypes.byref(err))
        return err.value

    def predict(self, x, outputs=False):
        """Predicted class of each sample of ``x`` (rows of input-layer
        size, or a flat sequence of whole rows). With ``outputs=True``
        returns ``(labels, outputs)`` where ``outputs`` holds the output
        layer's state per sample."""
        h = self._handle()
        sizes = self.layer_sizes
        if len(sizes) < 2:
            # Let the library say what is missing.
            lib.sbp_net_predict(h, 0, _buffers.Out(1).ptr, _buffers.Out(1, "i").ptr, None)
        d, k = sizes[0], sizes[-1]
        xin = _buffers.floats_in(x, "x")
        if xin.rows is not None:
            n = xin.rows
            if xin.columns != d:
                raise Error(Status.E_MISMATCH, "predict: rows have %d values, the input "
                            "layer has %d neurons" % (xin.columns, d))
        else:
            if xin.size % d:
                raise Error(Status.E_MISMATCH, "predict: %d values are not whole rows of %d"
                            % (xin.size, d))
            n = xin.size // d
        labels = _buffers.Out(n, "i")
        out = _buffers.Out(n * k) if outputs else None
        lib.sbp_net_predict(h, n, xin.ptr, labels.ptr, out.ptr if out else None)
        if outputs:
            return labels.result(), out.result((n, k))
        return labels.result()

    # -- weights --------------------------------------------------------------

    def _weight_shape(self, layer_index):
        h = self._handle()
        li = index(layer_index, "layer index")
        rows = lib.sbp_net_layer_size(h, li - 1) if li >= 1 else 0
        return h, li, rows, lib.sbp_net_layer_size(h, li)

    def get_weights(self, layer_index):
        """Weights of the projection into layer ``layer_index`` (1 or more),
        shape (size of the layer below, size of this layer); flat row-major
        ``array.array('f')`` without numpy."""
        h, li, rows, cols = self._weight_shape(layer_index)
        w = _buffers.Out(rows * cols)
        lib.sbp_net_get_weights(h, li, w.ptr, rows * cols)
        return w.result((rows, cols))

    def set_weights(self, layer_index, weights):
        """Replaces the weights into layer ``layer_index``; ``weights`` has
        rows*columns values in any of the accepted array forms."""
        h, li, rows, cols = self._weight_shape(layer_index)
        win = _buffers.floats_in(weights, "weights")
        if win.rows is not None and (win.rows, win.columns) != (rows, cols) and rows * cols:
            raise Error(Status.E_MISMATCH, "set_weights: layer %d takes %d x %d weights, got "
                        "%d x %d" % (li, rows, cols, win.rows, win.columns))
        lib.sbp_net_set_weights(h, li, win.ptr, win.size)
        return self

    # -- model files ---------------------------------------------------------

    def save(self, path):
        """Saves the whole network (engine, parameters, layers, rules, seed
        and random state, and once built its weights and training state) to
        ``path``, atomically: a failed save leaves an existing file as it
        was. The file format is docs/file-format.md; loading it gives a
        network that predicts and goes on training bit-identically."""
        lib.sbp_net_save(self._handle(), _path(path))
        return self

    @classmethod
    def load(cls, path):
        """A new network from a model file written by :meth:`save` (or
        ``sbp_net_save``). A corrupt, truncated or otherwise unusable file
        raises :class:`sbp.Error` (``E_CHECKSUM``, ``E_TRUNCATED``,
        ``E_FORMAT``, ``E_VERSION``, ``E_IO``, ...) whose message says which
        file, at which byte and what was wrong."""
        diag = Diag()
        out = NetP()
        lib.sbp_net_load(_path(path), diag, ctypes.byref(out))
        return cls._wrap(out)

    def to_bytes(self):
        """The model file's content as ``bytes`` (see :meth:`save`)."""
        data = ctypes.c_void_p()
        size = ctypes.c_size_t()
        lib.sbp_net_save_mem(self._handle(), ctypes.byref(data), ctypes.byref(size))
        try:
            return ctypes.string_at(data, size.value)
        finally:
            lib.sbp_free(data)

    @classmethod
    def from_bytes(cls, data):
        """A new network from the content of a model file (any bytes-like
        object), checked as :meth:`load` checks a file."""
        raw = bytes(data)
        buf = ctypes.create_string_buffer(raw, len(raw))
        diag = Diag()
        out = NetP()
        lib.sbp_net_load_mem(buf, len(raw), diag, ctypes.byref(out))
        return cls._wrap(out)

    def __repr__(self):
        if self.closed:
            return "<sbp.Network (closed)>"
        e = self.engine
        return "<sbp.Network %s %s>" % (
            e.name.lower() if isinstance(e, Engine) else e,
            "x".join(str(s) for s in self.layer_sizes) or "(no layers)")
