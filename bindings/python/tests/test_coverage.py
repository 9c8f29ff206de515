"""Every function libsbp exports is bound by the binding and called by the
tests.

For each name in lib/libsbp.sym (the library's version script, the list of
exported symbols) this checks that

- the binding declares it: a row of sbp._lib.PROTOTYPES, whose argument and
  result types are set on the ctypes function (test_drift.py checks those
  types against sbp.h), and
- at least one test called it: callcount.py counts every call the suite
  makes into the library; run.py (what `meson test` runs) runs this module
  last, in the same process. Run on its own, this module runs the rest of
  the suite in a child process (run.py --counts) to get the counts;
- docs/python.md lists it in its function map.
"""

import ctypes
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

import sbp
from sbp import _lib

import callcount
from support import SOURCE_DIR

SYMFILE = os.path.join(SOURCE_DIR, "lib", "libsbp.sym")
HERE = os.path.dirname(os.path.abspath(__file__))


def exported():
    """Names listed under `global:` in the version script."""
    with open(SYMFILE) as f:
        text = re.sub(r"/\*.*?\*/", " ", f.read(), flags=re.S)
    names = []
    for block in re.findall(r"global:(.*?)(?:local:|\})", text, flags=re.S):
        names += re.findall(r"\b(\w+)\s*;", block)
    return names


def missing_calls(names, counts):
    """The names that were never called, in version-script order."""
    return [n for n in names if not counts.get(n)]


class TestCoverage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.names = exported()

    def test_symfile_parsed(self):
        self.assertGreater(len(self.names), 50)
        self.assertTrue(all(n.startswith("sbp_") for n in self.names), self.names)
        self.assertEqual(len(set(self.names)), len(self.names))

    def test_every_export_is_declared(self):
        table = {row[0]: row for row in _lib.PROTOTYPES}
        undeclared = [n for n in self.names if n not in table]
        self.assertEqual(undeclared, [], "exported but not in sbp._lib.PROTOTYPES")
        for name in self.names:
            with self.subTest(function=name):
                fn = callcount.original(name)
                self.assertIsInstance(fn, ctypes._CFuncPtr)
                _, argtypes, restype, errcheck = table[name]
                self.assertEqual(list(fn.argtypes), list(argtypes))
                self.assertIs(fn.restype, restype)
                if errcheck is not None:
                    self.assertIs(fn.errcheck, errcheck)

    def test_counter_sees_calls(self):
        """The instrumentation itself works: a call through the package's
        public API is counted, and a handle's free function too."""
        callcount.install()
        self.assertTrue(callcount.installed())
        before = dict(callcount.COUNTS)
        sbp.version_number()
        sbp.Layer(3).close()
        for name in ("sbp_version_number", "sbp_layer_create", "sbp_layer_free"):
            self.assertEqual(callcount.COUNTS[name], before.get(name, 0) + 1, name)

    def test_check_fails_on_a_missed_function(self):
        counts = {n: 1 for n in self.names}
        self.assertEqual(missing_calls(self.names, counts), [])
        del counts["sbp_net_load_mem"]
        counts["sbp_free"] = 0
        self.assertEqual(sorted(missing_calls(self.names, counts)),
                         ["sbp_free", "sbp_net_load_mem"])

    def test_every_export_is_in_the_function_map(self):
        page = os.path.join(SOURCE_DIR, "docs", "python.md")
        if not os.path.exists(page):
            self.skipTest("docs/python.md not found")
        with open(page) as f:
            text = f.read()
        m = re.search(r"^## Function map\n(.*?)(?=^## )", text, flags=re.M | re.S)
        self.assertIsNotNone(m, "docs/python.md has no '## Function map' section")
        listed = set(re.findall(r"`(sbp_\w+)`", m.group(1)))
        self.assertEqual(sorted(set(self.names) - listed), [],
                         "exported functions missing from the function map of docs/python.md")
        self.assertEqual(sorted(listed - set(self.names)), [],
                         "the function map of docs/python.md lists functions libsbp lacks")

    def test_every_export_is_called(self):
        if callcount.FULL_RUN:
            counts = dict(callcount.COUNTS)
            where = "this run"
        else:
            with tempfile.TemporaryDirectory(prefix="sbp-coverage-") as tmp:
                out = os.path.join(tmp, "counts.json")
                r = subprocess.run([sys.executable, os.path.join(HERE, "run.py"), "-q",
                                    "--counts", out], capture_output=True, text=True,
                                   timeout=600)
                if not os.path.exists(out):
                    self.fail("run.py --counts failed:\n" + r.stderr[-4000:])
                with open(out) as f:
                    counts = json.load(f)
            where = "a child run of the suite"
        missing = missing_calls(self.names, counts)
        self.assertEqual(missing, [], "exported functions no test called (in %s); add a test "
                         "that reaches each through the package" % where)


if __name__ == "__main__":
    unittest.main()
