"""`pip install ./bindings/python` works offline and installs a usable
package, which finds an installed libsbp through SBP_LIBRARY or the system
library path.

pip runs with --no-index (and PIP_NO_INDEX=1, in case a configuration file
points pip at an index): if installing needed anything from the network it
would fail here. Three ways are tried: --no-build-isolation into a --target
directory (pip calls the in-tree backend directly), the default build
isolation (what a user who types `pip install ./bindings/python` gets; it
works offline because the backend requires nothing), and into a fresh
virtual environment.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

BINDING_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE_FILES = sorted(n for n in os.listdir(os.path.join(BINDING_DIR, "sbp"))
                       if n.endswith(".py"))

# What an installed copy runs: import from outside the tree, then a tiny
# training run, so that the whole package (not only __init__) is exercised.
SMOKE = """\
import os, sbp
print(os.path.dirname(sbp.__file__))
print(sbp.library_path)
ds = sbp.Dataset.from_arrays([[0.0, 1.0], [1.0, 0.0]] * 10, [0, 1] * 10, 2)
net = sbp.Network("ann", seed=1)
for s in (2, 4, 2):
    net.add_layer(s)
h = net.train(ds, epochs=2, test=ds)
print(len(h), 0.0 <= h[-1].test_error <= 1.0)
"""


def have_pip():
    r = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True)
    return r.returncode == 0


def offline_env(**extra):
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
               PIP_NO_CACHE_DIR="1", PYTHONDONTWRITEBYTECODE="1",
               # any proxy would be used for an index: make it unreachable
               http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9")
    env.pop("PYTHONPATH", None)
    env.update(extra)
    return env


@unittest.skipUnless(have_pip(), "pip is not available for %s" % sys.executable)
class TestPipInstall(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="sbp-pip-")
        self.addCleanup(shutil.rmtree, self.tmp)

    def pip(self, *args, python=None):
        cmd = [sys.executable, "-m", "pip"]
        if python:
            cmd += ["--python", python]
        cmd += ["install", "--no-index", "--no-deps", "--quiet"] + list(args) + [BINDING_DIR]
        r = subprocess.run(cmd, env=offline_env(), capture_output=True, text=True, timeout=300,
                           cwd=self.tmp)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # pip must not leave build debris in the source tree.
        self.assertFalse(os.path.exists(os.path.join(BINDING_DIR, "build")))
        self.assertEqual([n for n in os.listdir(BINDING_DIR) if n.endswith(".egg-info")], [])

    def smoke(self, python, site=None, **env):
        extra = {"PYTHONPATH": site} if site else {}
        extra.update(env)
        r = subprocess.run([python, "-c", SMOKE], env=offline_env(**extra), cwd=self.tmp,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.split("\n")
        self.assertEqual(lines[2], "2 True")
        return lines[0], lines[1]

    def check_installed(self, site):
        self.assertEqual(sorted(n for n in os.listdir(os.path.join(site, "sbp"))
                                if n.endswith(".py")), PACKAGE_FILES)
        infos = [n for n in os.listdir(site) if n.endswith(".dist-info")]
        self.assertEqual(infos, ["sbp-0.1.0.dist-info"])
        with open(os.path.join(site, infos[0], "METADATA")) as f:
            meta = f.read()
        self.assertIn("Name: sbp\n", meta)
        self.assertIn("Requires-Python: >=3.8", meta)

    def test_no_build_isolation_target(self):
        site = os.path.join(self.tmp, "site")
        self.pip("--no-build-isolation", "--target", site)
        self.check_installed(site)
        where, lib = self.smoke(sys.executable, site)
        self.assertEqual(where, os.path.join(site, "sbp"))
        if os.environ.get("SBP_LIBRARY"):
            self.assertEqual(lib, os.environ["SBP_LIBRARY"])

    def test_default_build_isolation(self):
        site = os.path.join(self.tmp, "site")
        self.pip("--target", site)
        self.check_installed(site)
        self.smoke(sys.executable, site)

    def test_virtual_environment(self):
        venv = os.path.join(self.tmp, "venv")
        r = subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            self.skipTest("cannot make a virtual environment: " + r.stderr.strip())
        python = os.path.join(venv, "bin", "python")
        if not os.path.exists(python):
            self.skipTest("unexpected virtual environment layout")
        probe = subprocess.run([sys.executable, "-m", "pip", "--python", python, "--version"],
                               capture_output=True)
        if probe.returncode != 0:
            self.skipTest("this pip has no --python option")
        self.pip(python=python)
        where, _ = self.smoke(python)
        self.assertTrue(where.startswith(venv), where)

    def test_library_from_the_system_path(self):
        """An installed libsbp is found without SBP_LIBRARY: a copy of the
        library in a prefix's lib directory on the loader's path."""
        path = os.environ.get("SBP_LIBRARY")
        if not path or sys.platform != "linux":
            self.skipTest("needs SBP_LIBRARY (the built library) on Linux")
        libdir = os.path.join(self.tmp, "prefix", "lib")
        os.makedirs(libdir)
        shutil.copy(path, os.path.join(libdir, "libsbp.so.0"))
        site = os.path.join(self.tmp, "site")
        self.pip("--no-build-isolation", "--target", site)
        env = offline_env(PYTHONPATH=site, LD_LIBRARY_PATH=libdir)
        env.pop("SBP_LIBRARY", None)
        r = subprocess.run([sys.executable, "-c", SMOKE], env=env, cwd=self.tmp,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        # the file the process mapped is the copy in the prefix
        maps = ("import sbp\nfor line in open('/proc/self/maps'):\n"
                "    if 'libsbp' in line:\n        print(line.split()[-1])")
        r = subprocess.run([sys.executable, "-c", maps], env=env, cwd=self.tmp,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr)
        mapped = {os.path.realpath(p) for p in r.stdout.split()}
        self.assertEqual(mapped, {os.path.realpath(os.path.join(libdir, "libsbp.so.0"))})
        # and without any library to find, a clear ImportError
        env["LD_LIBRARY_PATH"] = os.path.join(self.tmp, "empty")
        r = subprocess.run([sys.executable, "-c", "import sbp"], env=env, cwd=self.tmp,
                           capture_output=True, text=True, timeout=120)
        if r.returncode == 0:
            self.skipTest("a libsbp is installed on this system")
        self.assertIn("ImportError", r.stderr)
        self.assertIn("SBP_LIBRARY", r.stderr)


if __name__ == "__main__":
    unittest.main()
