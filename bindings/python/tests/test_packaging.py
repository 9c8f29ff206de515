"""`pip install ./bindings/python` works offline and installs a usable package."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

BINDING_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def have_pip():
    r = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True)
    return r.returncode == 0


@unittest.skipUnless(have_pip(), "pip is not available for %s" % sys.executable)
class TestPipInstall(unittest.TestCase):
    def test_offline_install(self):
        tmp = tempfile.mkdtemp(prefix="sbp-pip-")
        self.addCleanup(shutil.rmtree, tmp)
        target = os.path.join(tmp, "site")
        env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
                   PIP_NO_CACHE_DIR="1", PYTHONDONTWRITEBYTECODE="1")
        env.pop("PYTHONPATH", None)
        r = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                            "--target", target, BINDING_DIR],
                           env=env, capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(os.path.exists(os.path.join(target, "sbp", "_lib.py")))
        self.assertTrue(os.path.exists(os.path.join(target, "sbp-0.1.0.dist-info", "METADATA"))
                        or any(n.endswith(".dist-info") for n in os.listdir(target)))
        # The installed copy imports (against SBP_LIBRARY) from outside the tree.
        env["PYTHONPATH"] = target
        r = subprocess.run([sys.executable, "-c",
                            "import sbp, os; print(os.path.dirname(sbp.__file__))"],
                           env=env, cwd=tmp, capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.strip(), os.path.join(target, "sbp"))
        # pip must not leave build debris in the source tree.
        self.assertFalse(os.path.exists(os.path.join(BINDING_DIR, "build")))


if __name__ == "__main__":
    unittest.main()
