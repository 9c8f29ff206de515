"""Datasets: samples of float32 features with targets and labels."""

import ctypes
import os
from collections import namedtuple

from . import _buffers
from ._enums import DvsGesturePart, MnistPart, Status
from ._errors import Error
from ._handle import Handle, index
from ._lib import DatasetP, Diag, lib

__all__ = ["Dataset", "Batch"]


class Batch(namedtuple("Batch", "x targets labels")):
    """Samples copied out of a dataset.

    With numpy: ``x`` is a float32 array of shape (count, features),
    ``targets`` float32 of shape (count, targets) and ``labels`` int32 of
    shape (count,). Without numpy the same data come as flat
    ``array.array`` objects (row-major).
    """

    __slots__ = ()


def _path(p, what):
    try:
        return os.fsencode(p)
    except TypeError:
        raise TypeError("%s must be a path, not %s" % (what, type(p).__name__)) from None


class Dataset(Handle):
    """A dataset held by the library: ``count`` samples of ``features``
    float32 values, each with a target vector of ``targets`` floats
    (one-hot for classification) and an integer label (-1 when the target is
    not a single class).

    It also keeps a presentation order, used by :meth:`batch`,
    :meth:`subset` and :meth:`split`; :meth:`shuffle` permutes that order,
    never the data. :meth:`sample` reads in storage order.

    Make one from memory with :meth:`from_arrays` or :meth:`from_targets`,
    from files with :meth:`load_idx`, :meth:`load_mnist`,
    :meth:`load_nmnist`, :meth:`load_dvsgesture` or :func:`sbp.load_nettalk`,
    or from another dataset with :meth:`subset` and :meth:`split`. The
    object owns its handle: :meth:`close` it, use ``with``, or let the
    garbage collector free it.
    """

    _free_name = "sbp_dataset_free"

    def __init__(self):
        raise TypeError("use Dataset.from_arrays, from_targets, load_idx, load_mnist, "
                        "load_nmnist or load_dvsgesture")

    # -- construction -----------------------------------------------------

    @classmethod
    def from_arrays(cls, x, labels, n_classes):
        """A classification dataset from features and integer labels.

        ``x`` holds n rows of d features: a list of lists, a numpy array of
        shape (n, d) (any trailing shape is flattened, so (n, 28, 28) works),
        or a flat sequence of n*d values (a list, ``array.array('f')`` or a
        1-D numpy array) whose n is taken from ``labels``. ``labels`` holds n
        integers in ``0..n_classes-1``. The data are copied.
        """
        lab = _buffers.ints_in(labels, "labels")
        n = lab.size
        xin = _buffers.floats_in(x, "x")
        d = _features(xin, n)
        out = DatasetP()
        lib.sbp_dataset_create(n, d, xin.ptr, lab.ptr, index(n_classes, "n_classes"),
                               ctypes.byref(out))
        return cls._wrap(out)

    @classmethod
    def from_targets(cls, x, targets):
        """A dataset with arbitrary (for example multi-hot) target vectors.

        ``x`` is as for :meth:`from_arrays`; ``targets`` holds n rows of k
        floats, as rows or flat (then k is its length divided by n). Labels
        become the index of the single non-zero target, or -1.
        """
        xin = _buffers.floats_in(x, "x")
        tin = _buffers.floats_in(targets, "targets")
        if tin.rows is not None:
            n = tin.rows
        elif xin.rows is not None:
            n = xin.rows
        else:
            raise Error(Status.E_INVALID,
                        "from_targets: give x or targets as rows so that the number of "
                        "samples is known")
        d = _features(xin, n)
        k = _features(tin, n, "targets")
        out = DatasetP()
        lib.sbp_dataset_create_targets(n, d, xin.ptr, k, tin.ptr, ctypes.byref(out))
        return cls._wrap(out)

    @classmethod
    def load_idx(cls, images, labels):
        """Loads an IDX image file and an IDX label file (raw or gzip). Pixels
        are scaled to [0, 1]. A missing or malformed file raises
        :class:`sbp.Error` whose message names the file and what was wrong
        (``E_IO``, ``E_FORMAT``, ``E_TRUNCATED``, ...)."""
        diag = Diag()
        out = DatasetP()
        lib.sbp_dataset_load_idx(_path(images, "images"), _path(labels, "labels"), diag,
                                 ctypes.byref(out))
        return cls._wrap(out)

    @classmethod
    def load_mnist(cls, directory, part=MnistPart.TRAIN):
        """Loads the training or test part of MNIST from a directory holding
        the standard file names (raw or ``.gz``). ``part`` is a
        :class:`MnistPart` or the string ``"train"`` or ``"test"``. For the
        training part a directory with only the bundled ``train10k`` sample
        is accepted."""
        if isinstance(part, str):
            try:
                part = MnistPart[part.upper()]
            except KeyError:
                raise Error(Status.E_INVALID,
                            "MNIST part must be 'train' or 'test', not %r" % part) from None
        diag = Diag()
        out = DatasetP()
        lib.sbp_dataset_load_mnist(_path(directory, "directory"), int(part), diag,
                                   ctypes.byref(out))
        return cls._wrap(out)

    @classmethod
    def load_nmnist(cls, directory, labels=None, **frames):
        """N-MNIST: a directory of ``<id>.bs2`` recordings and a label file
        (``labels``, default ``directory/labels.txt``: ``#`` header lines,
        then ``id<TAB>class``). One sample per label line, its events binned
        into frames of 34 x 34 (see :func:`sbp.frame_options` for the
        keyword arguments ``frames``, ``downsample``, ``binning``,
        ``polarity`` and ``value``)."""
        from ._events import frame_options
        diag = Diag()
        out = DatasetP()
        lib.sbp_dataset_load_nmnist(_path(directory, "directory"),
                                    None if labels is None else _path(labels, "labels"),
                                    frame_options(**frames), diag, ctypes.byref(out))
        return cls._wrap(out)

    @classmethod
    def load_dvsgesture(cls, directory, part=DvsGesturePart.TRAIN, **frames):
        """DVS128 Gesture from the official ``DvsGesture`` folder (or its
        parent): one sample per labelled gesture of the recordings listed
        in ``trials_to_train.txt`` (``part="train"``) or
        ``trials_to_test.txt`` (``"test"``), labels 0..10. Frames as for
        :meth:`load_nmnist` (128 x 128 sensor; ``downsample=4`` gives
        32 x 32)."""
        if isinstance(part, str):
            try:
                part = DvsGesturePart[part.upper()]
            except KeyError:
                raise Error(Status.E_INVALID,
                            "DvsGesture part must be 'train' or 'test', not %r" % part) from None
        from ._events import frame_options
        diag = Diag()
        out = DatasetP()
        lib.sbp_dataset_load_dvsgesture(_path(directory, "directory"), int(part),
                                        frame_options(**frames), diag, ctypes.byref(out))
        return cls._wrap(out)

    # -- shape ------------------------------------------------------------

    @property
    def count(self):
        """Number of samples."""
        return lib.sbp_dataset_count(self._handle())

    @property
    def features(self):
        """Features per sample."""
        return lib.sbp_dataset_features(self._handle())

    @property
    def targets(self):
        """Length of each target vector."""
        return lib.sbp_dataset_targets(self._handle())

    @property
    def classes(self):
        """Number of classes, or 0 if the targets are not all single-class."""
        return lib.sbp_dataset_classes(self._handle())

    def __len__(self):
        return self.count

    def __repr__(self):
        if self.closed:
            return "<sbp.Dataset (closed)>"
        return "<sbp.Dataset %d samples x %d features, %d targets, %d classes>" % (
            self.count, self.features, self.targets, self.classes)

    # -- reading ------------------------------------------------------------

    def sample(self, i):
        """``(features, label)`` of sample ``i`` in storage order. The
        features are a float32 numpy array, or an ``array.array('f')``
        without numpy."""
        h = self._handle()
        x = _buffers.Out(lib.sbp_dataset_features(h))
        label = ctypes.c_int32()
        lib.sbp_dataset_sample(h, index(i, "sample index"), x.ptr, None, ctypes.byref(label))
        return x.result(), label.value

    def target(self, i):
        """The target vector of sample ``i`` in storage order."""
        h = self._handle()
        t = _buffers.Out(lib.sbp_dataset_targets(h))
        lib.sbp_dataset_sample(h, index(i, "sample index"), None, t.ptr, None)
        return t.result()

    def batch(self, start, count):
        """Copies ``count`` samples from presentation position ``start`` as a
        :class:`Batch` ``(x, targets, labels)``. Reading past the end raises
        ``sbp.Error(E_RANGE)``."""
        h = self._handle()
        start, count = index(start, "start"), index(count, "count")
        d, k = lib.sbp_dataset_features(h), lib.sbp_dataset_targets(h)
        x = _buffers.Out(count * d)
        t = _buffers.Out(count * k)
        lab = _buffers.Out(count, "i")
        lib.sbp_dataset_batch(h, start, count, x.ptr, t.ptr, lab.ptr)
        return Batch(x.result((count, d)), t.result((count, k)), lab.result())

    # -- order and derived datasets ---------------------------------------

    def shuffle(self, seed):
        """Permutes the presentation order (seeded, reproducible)."""
        lib.sbp_dataset_shuffle(self._handle(), index(seed, "seed"))
        return self

    def reset_order(self):
        """Restores the presentation order 0..count-1."""
        lib.sbp_dataset_reset_order(self._handle())
        return self

    def subset(self, start, count):
        """A new dataset with ``count`` samples from presentation position
        ``start`` (copied)."""
        out = DatasetP()
        lib.sbp_dataset_subset(self._handle(), index(start, "start"), index(count, "count"),
                               ctypes.byref(out))
        return Dataset._wrap(out)

    def split(self, n_validation, seed):
        """Seeded split into two new datasets ``(train, validation)``, with
        ``n_validation`` samples in the second."""
        train, val = DatasetP(), DatasetP()
        lib.sbp_dataset_split(self._handle(), index(n_validation, "n_validation"),
                              index(seed, "seed"), ctypes.byref(train), ctypes.byref(val))
        # Wrap both before anything else can fail, so neither leaks.
        return Dataset._wrap(train), Dataset._wrap(val)

    def normalize(self):
        """Rescales all features linearly to [0, 1] (global min and max)."""
        lib.sbp_dataset_normalize(self._handle())
        return self


def _features(buf, n, what="x"):
    """Values per sample of `buf` given n samples."""
    if buf.rows is not None:
        if buf.rows != n:
            raise Error(Status.E_MISMATCH,
                        "%s has %d rows but there are %d samples" % (what, buf.rows, n))
        return buf.columns
    if n == 0:
        if buf.size:
            raise Error(Status.E_MISMATCH, "%s has values but there are no samples" % what)
        return 0
    if buf.size % n:
        raise Error(Status.E_MISMATCH, "%s has %d values, not a multiple of %d samples"
                    % (what, buf.size, n))
    return buf.size // n
