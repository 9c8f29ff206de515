"""Finding and loading libsbp, version checks, build information."""

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import sbp

from support import HAVE_NUMPY

BINDING_DIR = os.path.dirname(os.path.dirname(os.path.abspath(sbp.__file__)))


def run_import(env_changes, code="import sbp; print(sbp.version_string())"):
    env = dict(os.environ)
    env.update(env_changes)
    env["PYTHONPATH"] = BINDING_DIR
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120)


class TestLibrary(unittest.TestCase):
    def test_library_path(self):
        self.assertTrue(sbp.library_path)
        want = os.environ.get("SBP_LIBRARY")
        if want:
            self.assertEqual(sbp.library_path, want)

    def test_version_matches_project(self):
        want = os.environ.get("SBP_EXPECTED_VERSION")
        if not want:
            self.skipTest("SBP_EXPECTED_VERSION not set (run through meson test)")
        self.assertEqual(sbp.version_string(), want)
        major, minor, patch = (int(p) for p in want.split("."))
        self.assertEqual(sbp.version_number(), major * 10000 + minor * 100 + patch)
        self.assertEqual(sbp.version_info(), (major, minor, patch))

    def test_binding_version_matches_project(self):
        want = os.environ.get("SBP_EXPECTED_VERSION")
        if not want:
            self.skipTest("SBP_EXPECTED_VERSION not set (run through meson test)")
        self.assertEqual(sbp.__version__, want,
                         "bump __version__ in sbp/__init__.py and pyproject.toml")
        with open(os.path.join(BINDING_DIR, "pyproject.toml")) as f:
            self.assertIn('version = "%s"' % want, f.read())

    def test_major_version(self):
        self.assertEqual(sbp.version_info()[0], sbp.EXPECTED_MAJOR)

    def test_status_text(self):
        for s in sbp.Status:
            self.assertEqual(sbp.status_name(s), "SBP_" + s.name)
            self.assertTrue(sbp.status_str(s))
        self.assertEqual(sbp.status_str(sbp.Status.E_NOMEM), "out of memory")
        self.assertEqual(sbp.status_str(999), "unknown status")
        self.assertIsNone(sbp.status_name(999))

    def test_engines(self):
        for e in sbp.Engine:
            self.assertEqual(sbp.engine_name(e), e.name.lower())
            self.assertIn(sbp.engine_available(e), (True, False))
        self.assertIsNone(sbp.engine_name(0))
        self.assertEqual(sbp.engine_available("relax"), sbp.engine_available(sbp.Engine.RELAX))

    def test_rule_kinds(self):
        for k in sbp.RuleKind:
            self.assertEqual(sbp.rule_kind_name(k), k.name.lower())
        self.assertIsNone(sbp.rule_kind_name(0))
        self.assertIsNone(sbp.rule_kind_name(42))

    def test_build_info(self):
        self.assertIsInstance(sbp.blas_name(), str)
        self.assertTrue(sbp.blas_name())
        self.assertGreaterEqual(sbp.default_threads(), 1)

    def test_numpy_switch(self):
        hidden = os.environ.get("SBP_NO_NUMPY", "") not in ("", "0")
        if hidden:
            self.assertFalse(HAVE_NUMPY)
            self.assertNotIn("numpy", sys.modules, "SBP_NO_NUMPY=1 but numpy was imported")
        else:
            self.assertEqual(HAVE_NUMPY, importlib.util.find_spec("numpy") is not None)


class TestImportFailures(unittest.TestCase):
    """Import must fail with a clear ImportError, not a crash or AttributeError."""

    def test_bad_sbp_library(self):
        r = run_import({"SBP_LIBRARY": "/nonexistent/libsbp.so.0"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("ImportError", r.stderr)
        self.assertIn("SBP_LIBRARY", r.stderr)
        self.assertIn("/nonexistent/libsbp.so.0", r.stderr)

    def _compile(self, source):
        cc = shutil.which("cc") or shutil.which("gcc")
        if not cc:
            self.skipTest("no C compiler to build a fake library")
        tmp = tempfile.mkdtemp(prefix="sbp-fake-")
        self.addCleanup(shutil.rmtree, tmp)
        src = os.path.join(tmp, "fake.c")
        out = os.path.join(tmp, "libfake.so")
        with open(src, "w") as f:
            f.write(source)
        subprocess.run([cc, "-shared", "-fPIC", "-o", out, src], check=True)
        return out

    def test_wrong_major_version(self):
        fake = self._compile(
            "unsigned sbp_version_number(void) { return 10203; }\n"
            "const char *sbp_version_string(void) { return \"1.2.3\"; }\n")
        r = run_import({"SBP_LIBRARY": fake})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("ImportError", r.stderr)
        self.assertIn("1.2.3", r.stderr)
        self.assertIn("major version 0", r.stderr)

    def test_not_libsbp(self):
        fake = self._compile("int something_else(void) { return 1; }\n")
        r = run_import({"SBP_LIBRARY": fake})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("ImportError", r.stderr)
        self.assertIn("not libsbp", r.stderr)

    def test_missing_symbol(self):
        fake = self._compile(
            "unsigned sbp_version_number(void) { return 100; }\n"
            "const char *sbp_version_string(void) { return \"0.1.0\"; }\n")
        r = run_import({"SBP_LIBRARY": fake})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("ImportError", r.stderr)
        self.assertIn("lacks", r.stderr)

    def test_found_without_sbp_library(self):
        """With SBP_LIBRARY unset the dynamic loader's path is searched."""
        path = os.environ.get("SBP_LIBRARY")
        if not path:
            self.skipTest("SBP_LIBRARY not set")
        env = {k: v for k, v in os.environ.items() if k != "SBP_LIBRARY"}
        env["LD_LIBRARY_PATH"] = os.path.dirname(os.path.abspath(path))
        env["PYTHONPATH"] = BINDING_DIR
        r = subprocess.run([sys.executable, "-c", "import sbp; print(sbp.library_path)"],
                           env=env, capture_output=True, text=True, timeout=120)
        if r.returncode != 0 and "not found" in r.stderr:
            self.skipTest("libsbp.so.0 is not beside SBP_LIBRARY")
        self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    unittest.main()
