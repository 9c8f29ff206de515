"""Helpers shared by the binding's tests (not a test module)."""

import os
import unittest

import sbp

import callcount

# Count the suite's calls into libsbp (test_coverage.py); run.py does this
# first thing, before any handle exists.
callcount.install()

SOURCE_DIR = os.environ.get("SBP_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", ".."))

HAVE_NUMPY = sbp.have_numpy()
if HAVE_NUMPY:
    import numpy as np
else:
    np = None

needs_numpy = unittest.skipUnless(HAVE_NUMPY, "numpy not installed or hidden by SBP_NO_NUMPY=1")


def flat(values):
    """numpy array or array.array -> flat list of Python numbers."""
    if HAVE_NUMPY and isinstance(values, np.ndarray):
        return values.reshape(-1).tolist()
    return list(values)


def xor_like(n=40, seed=3):
    """A small deterministic 2-class problem: (rows of 4 features, labels)."""
    rows, labels = [], []
    state = seed
    for i in range(n):
        feats = []
        for _ in range(4):
            state = (state * 1103515245 + 12345) % 2**31
            feats.append((state % 1000) / 1000.0)
        rows.append(feats)
        labels.append(int(feats[0] + feats[1] > 1.0))
    return rows, labels
