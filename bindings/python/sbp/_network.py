"""Layers, plasticity rules and networks."""

import ctypes
import os
import signal
import threading
import time
from collections import namedtuple

from . import _buffers
from ._dataset import Dataset
from ._enums import CostModel, Engine, RuleKind, Status
from ._errors import Error
from ._handle import Handle, busy, index
from ._lib import PROGRESS_FN, Diag, LayerP, NetP, RuleP, lib
from ._params import ParamsMixin

__all__ = ["Layer", "Rule", "Network", "EpochResult", "engine_name", "engine_available",
           "cost_model"]


class EpochResult(namedtuple("EpochResult", "epoch train_error test_error seconds")):
    """One epoch of :meth:`Network.train`: its number (from 1), the
    fraction of training samples misclassified during the pass, the error
    on the test set (``None`` when no test set was given) and the wall time
    in seconds of training plus testing."""

    __slots__ = ()


def _sigint_catch(flag):
    """While a long call runs in the main thread, Ctrl-C sets `flag` instead
    of raising inside a ctypes callback (where Python would print and drop
    it). Returns the handler to restore, or None if left alone (another
    thread, or a handler of the program's own)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            return None

        def on_sigint(signum, frame):
            flag.append("sigint")

        signal.signal(signal.SIGINT, on_sigint)
    except (ValueError, OSError, AttributeError):  # no signals here
        return None
    return signal.default_int_handler


def _sigint_restore(handler):
    if handler is not None:
        try:
            signal.signal(signal.SIGINT, handler)
        except (ValueError, OSError):
            pass


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


def rule_kind_name(kind):
    """The library's name of a rule kind (``"sbp_spread"``), or ``None`` if
    unknown."""
    name = lib.sbp_rule_kind_name(int(kind))
    return name.decode() if name is not None else None


def cost_model(engine):
    """The :class:`CostModel` the paper uses for an engine: ``SNN``
    (``mn + nk + n``) for relax and spike, ``DENSE`` (``mn + nk + kn + nm``)
    for ann and rbm, as the ``sbp`` command counts."""
    e = _engine(engine)
    return CostModel.DENSE if e in (Engine.ANN, Engine.RBM) else CostModel.SNN


def engine_available(engine):
    """Whether this build of libsbp implements the engine."""
    return bool(lib.sbp_engine_available(int(_engine(engine))))


class Layer(ParamsMixin, Handle):
    """A layer description: a number of neurons plus neuron parameters
    (``"layer.*"``). Adding it to a :class:`Network` copies it, so one
    Layer can describe many layers.

    >>> hidden = sbp.Layer(500, activation=sbp.Activation.SIGMOID, learning_rate=0.1)
    """

    _free_name = "sbp_layer_free"
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

    _free_name = "sbp_rule_free"
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

    Topology: :meth:`add_layer`, :meth:`attach_rule`, :meth:`detach_rule`,
    :attr:`engine`, :attr:`seed`, :attr:`layer_count`, :attr:`layer_sizes`,
    :meth:`layer`, :meth:`rule`. Parameters:
    :meth:`set`, :meth:`get`, :meth:`update`, ``net[name]``. Training:
    :meth:`train` (epochs with a per-epoch callback), :meth:`train_epoch`,
    :meth:`evaluate`, :meth:`predict`, :meth:`set_progress`. Weights:
    :meth:`get_weights`, :meth:`set_weights`. Files: :meth:`save`,
    :meth:`load`, :meth:`to_bytes`, :meth:`from_bytes`. Cost:
    :attr:`cost_model`, :meth:`cost_per_epoch`. Lifetime: :meth:`close`,
    ``with``.
    """

    _free_name = "sbp_net_free"
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
        self._interrupted = []

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
    def seed(self):
        """The seed the network was created with (kept in its model file)."""
        v = ctypes.c_uint64()
        lib.sbp_net_get_seed(self._handle(), ctypes.byref(v))
        return v.value

    def layer(self, layer_index):
        """A new :class:`Layer` equal to layer ``layer_index`` (0 is the
        input): its size and parameters, as added or loaded. Parameters left
        to the engine's default read as ``None``."""
        out = LayerP()
        lib.sbp_net_get_layer(self._handle(), index(layer_index, "layer index"),
                              ctypes.byref(out))
        return Layer._wrap(out)

    def rule(self, layer_index, kind):
        """A new :class:`Rule` equal to the rule of ``kind`` attached to layer
        ``layer_index`` (1 or more), or ``None`` when none is attached."""
        out = RuleP()
        lib.sbp_net_get_rule(self._handle(), index(layer_index, "layer index"),
                             int(_rule_kind(kind)), ctypes.byref(out))
        return Rule._wrap(out) if out else None

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
        :meth:`train_epoch` and :meth:`evaluate` (and so of :meth:`train`):
        the samples done so far and the total of the current call. A true
        return value stops the call, which then raises
        ``sbp.Error(E_CANCELLED)``; an exception raised by the callback also
        stops it and is re-raised from the call. ``None`` removes the
        callback. The callback runs on the thread that called train_epoch."""
        h = self._handle()
        if callback is None:
            lib.sbp_net_set_progress(h, ctypes.cast(None, PROGRESS_FN), None)
            self._progress_cb = None
            return self
        if not callable(callback):
            raise TypeError("set_progress: the callback must be callable or None")
        cb = self._trampoline(callback)
        lib.sbp_net_set_progress(h, cb, None)
        self._progress_cb = cb  # the library holds only a raw pointer
        return self

    def _trampoline(self, callback):
        """A C progress function calling ``callback(done, total)``; stops
        the C call on a true result, an exception or a pending Ctrl-C."""
        errors = self._progress_errors
        interrupted = self._interrupted

        def trampoline(_user, done, total):
            try:
                if interrupted:
                    return 1
                return 1 if callback is not None and callback(done, total) else 0
            except BaseException as e:  # noqa: B902 - re-raised by _run
                errors.append(e)
                return 1

        return PROGRESS_FN(trampoline)

    def _run(self, fn, *args, datasets=()):
        """Runs a long library call on this network: marks the network and
        the datasets it borrows as busy, lets Ctrl-C (SIGINT in the main
        thread) stop it between mini-batches with KeyboardInterrupt, the
        network staying valid, and lets interpreter exit stop it (see
        _handle._at_exit)."""
        del self._progress_errors[:]
        del self._interrupted[:]
        h = args[0]
        cb = self._progress_cb
        temporary = cb is None
        if temporary:
            # No callback of the caller's: a silent one, so that the call
            # can be stopped between mini-batches.
            cb = self._trampoline(None)
            lib.sbp_net_set_progress(h, cb, None)
        interrupted = self._interrupted
        old_handler = _sigint_catch(interrupted)
        try:
            with busy(self, *datasets, keep=(cb,), stop=lambda: interrupted.append("exit")):
                result = fn(*args)
        except Error as e:
            if e.code == Status.E_CANCELLED:
                if "exit" in interrupted:
                    raise SystemExit("sbp: library call stopped: the Python interpreter is "
                                     "exiting") from None
                if interrupted:
                    raise KeyboardInterrupt from None
                if self._progress_errors:
                    raise self._progress_errors.pop() from e
            raise
        finally:
            if temporary:
                lib.sbp_net_set_progress(h, ctypes.cast(None, PROGRESS_FN), None)
            _sigint_restore(old_handler)
        if "sigint" in interrupted:  # Ctrl-C after the last mini-batch: the call is complete
            raise KeyboardInterrupt
        return result

    # -- training and inference ---------------------------------------------

    def train_epoch(self, dataset):
        """One pass over ``dataset`` in its presentation order, in
        mini-batches of ``net.batch_size``. Returns the fraction of
        training samples misclassified during the pass."""
        err = ctypes.c_double()
        self._run(lib.sbp_net_train_epoch, self._handle(), _dataset(dataset),
                  ctypes.byref(err), datasets=(dataset,))
        return err.value

    def evaluate(self, dataset):
        """Classification error (a fraction) on ``dataset``; training state
        is unchanged."""
        err = ctypes.c_double()
        self._run(lib.sbp_net_evaluate, self._handle(), _dataset(dataset), ctypes.byref(err),
                  datasets=(dataset,))
        return err.value

    def train(self, data, epochs=1, test=None, callback=None, shuffle=False, seed=None,
              epochs_done=0):
        """Trains for ``epochs`` epochs and returns one :class:`EpochResult`
        per completed epoch ``(epoch, train_error, test_error, seconds)``.

        Each epoch is :meth:`train_epoch` on ``data`` followed, when
        ``test`` is given, by :meth:`evaluate` on ``test`` (``test_error``
        is ``None`` without it); ``seconds`` is the wall time of both. After
        each epoch ``callback(epoch, train_error, test_error, seconds)`` is
        called, if given (epochs count from 1); a true return value stops
        training there, which makes early stopping and live plots easy::

            def show(epoch, train_error, test_error, seconds):
                print(epoch, test_error)
                return test_error < 0.05        # good enough: stop

            history = net.train(train, epochs=20, test=test, callback=show)

        ``shuffle=True`` shuffles ``data`` before epoch ``e`` with seed
        ``seed + e`` after restoring its original order first, as
        ``sbp train --shuffle --seed S`` does; ``seed`` defaults to the seed
        the network was made with. Without ``shuffle`` the dataset's current
        order is used every epoch (the authors' protocol).

        ``epochs_done`` continues an earlier run: epochs are numbered from
        ``epochs_done + 1`` and, with ``shuffle``, the order is the one that
        run left behind, so that ``train(d, 2)`` then ``train(d, 1,
        epochs_done=2)`` is bit-identical to ``train(d, 3)``.

        Same seed, same data and same build give bit-identical results,
        equal to the same run of the ``sbp`` command or of a C program.
        Errors raise :class:`sbp.Error`; the epochs completed before stay
        applied to the network."""
        self._handle()
        epochs = index(epochs, "epochs")
        first = index(epochs_done, "epochs_done") + 1
        _dataset(data)
        if test is not None:
            _dataset(test)
        if callback is not None and not callable(callback):
            raise TypeError("train: the callback must be callable or None")
        if shuffle:
            seed = self.seed if seed is None else index(seed, "seed")
            data.reset_order()
            for e in range(1, first):
                data.shuffle((seed + e) % 2**64)
        history = []
        for e in range(first, first + epochs):
            if shuffle:
                data.shuffle((seed + e) % 2**64)
            t0 = time.perf_counter()
            train_error = self.train_epoch(data)
            test_error = self.evaluate(test) if test is not None else None
            result = EpochResult(e, train_error, test_error, time.perf_counter() - t0)
            history.append(result)
            if callback is not None and callback(*result):
                break
        return history

    def predict(self, x, outputs=False):
        """Predicted class of each sample of ``x``: rows of input-layer size
        (a list of rows, a 2-D numpy array), a flat sequence of whole rows,
        or a :class:`Dataset` (its samples in presentation order). With
        ``outputs=True`` returns ``(labels, outputs)`` where ``outputs``
        holds the output layer's state per sample."""
        h = self._handle()
        sizes = self.layer_sizes
        if len(sizes) < 2:
            # Let the library say what is missing.
            lib.sbp_net_predict(h, 0, _buffers.Out(1).ptr, _buffers.Out(1, "i").ptr, None)
        d, k = sizes[0], sizes[-1]
        if isinstance(x, Dataset):
            x = x.batch(0, x.count).x
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
        with busy(self):
            lib.sbp_net_predict(h, n, xin.ptr, labels.ptr, out.ptr if out else None)
        if outputs:
            return labels.result(), out.result((n, k))
        return labels.result()

    # -- computational cost ---------------------------------------------------

    @property
    def cost_model(self):
        """The :class:`CostModel` the paper uses for this network's engine:
        ``SNN`` for relax and spike, ``DENSE`` for ann and rbm."""
        return cost_model(self.engine)

    def cost_per_epoch(self, model=None):
        """Per-epoch computational cost of this three-layer network (m
        inputs, n hidden, k outputs) as the paper counts it, by
        :func:`sbp.cost_per_epoch` with ``model`` (default
        :attr:`cost_model`). The library defines the measure for one hidden
        layer only; other depths raise ``sbp.Error(E_UNSUPPORTED)``."""
        sizes = self.layer_sizes
        if len(sizes) != 3:
            raise Error(Status.E_UNSUPPORTED, "cost_per_epoch: the cost measure is defined for "
                        "three layers (m-n-k); this network has %d" % len(sizes))
        m = self.cost_model if model is None else CostModel(model)
        return lib.sbp_cost_per_epoch(int(m), *sizes)

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
        h = self._handle()
        with busy(self):
            lib.sbp_net_save(h, _path(path))
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
        h = self._handle()
        with busy(self):
            lib.sbp_net_save_mem(h, ctypes.byref(data), ctypes.byref(size))
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
