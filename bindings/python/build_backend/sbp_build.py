"""A tiny PEP 517 build backend for the pure-Python `sbp` package.

It needs nothing outside the standard library, so `pip install
./bindings/python` works without network access (a setuptools backend would
make pip download setuptools into an isolated build environment first). It
builds a py3-none-any wheel, an sdist and an editable wheel (PEP 660).
"""

import base64
import hashlib
import io
import os
import re
import tarfile
import time
import zipfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = "sbp"


def _project():
    with open(os.path.join(HERE, "pyproject.toml"), "rb") as f:
        data = f.read()
    try:
        import tomllib
        return tomllib.loads(data.decode("utf-8"))["project"]
    except ImportError:
        pass
    # Python < 3.11: the [project] table only uses `key = "string"` lines
    # and a one-line `license = {text = "..."}`.
    project, section = {}, None
    for line in data.decode("utf-8").splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line.strip("[]").strip()
            continue
        m = re.match(r'([A-Za-z_-]+)\s*=\s*"(.*)"$', line)
        if section == "project" and m:
            project[m.group(1)] = m.group(2)
        m = re.match(r'license\s*=\s*\{\s*text\s*=\s*"(.*)"\s*\}$', line)
        if section == "project" and m:
            project["license"] = {"text": m.group(1)}
    return project


def _names():
    p = _project()
    return p, p["name"], p["version"]


def _metadata(p):
    lines = [
        "Metadata-Version: 2.1",
        "Name: %s" % p["name"],
        "Version: %s" % p["version"],
        "Summary: %s" % p.get("description", ""),
    ]
    if "requires-python" in p:
        lines.append("Requires-Python: %s" % p["requires-python"])
    lic = p.get("license")
    if isinstance(lic, dict) and "text" in lic:
        lines.append("License: %s" % lic["text"])
    for extra, reqs in p.get("optional-dependencies", {"numpy": ["numpy"]}).items():
        lines.append("Provides-Extra: %s" % extra)
        lines += ['Requires-Dist: %s; extra == "%s"' % (r, extra) for r in reqs]
    return "\n".join(lines) + "\n"


def _epoch():
    return max(int(os.environ.get("SOURCE_DATE_EPOCH", "315532800")), 315532800)


def _package_files():
    root = os.path.join(HERE, PACKAGE)
    for name in sorted(os.listdir(root)):
        if name.endswith(".py") or name == "py.typed":
            yield os.path.join(root, name), "%s/%s" % (PACKAGE, name)


def _record_line(arcname, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return "%s,sha256=%s,%d" % (arcname, digest, len(data))


def _write_wheel(directory, entries):
    """entries: list of (arcname, bytes). Returns the wheel's file name."""
    p, name, version = _names()
    dist = "%s-%s" % (name.replace("-", "_"), version)
    info = dist + ".dist-info"
    entries = list(entries) + [
        (info + "/METADATA", _metadata(p).encode()),
        (info + "/WHEEL", b"Wheel-Version: 1.0\nGenerator: sbp_build\n"
                          b"Root-Is-Purelib: true\nTag: py3-none-any\n"),
        (info + "/top_level.txt", (PACKAGE + "\n").encode()),
    ]
    record = [_record_line(a, d) for a, d in entries] + [info + "/RECORD,,"]
    entries.append((info + "/RECORD", ("\n".join(record) + "\n").encode()))
    filename = dist + "-py3-none-any.whl"
    stamp = time.gmtime(_epoch())[:6]
    with zipfile.ZipFile(os.path.join(directory, filename), "w", zipfile.ZIP_DEFLATED) as z:
        for arcname, data in entries:
            zi = zipfile.ZipInfo(arcname, stamp)
            zi.external_attr = 0o644 << 16
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    return filename


# -- PEP 517 / PEP 660 hooks ----------------------------------------------

def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    entries = []
    for path, arcname in _package_files():
        with open(path, "rb") as f:
            entries.append((arcname, f.read()))
    return _write_wheel(wheel_directory, entries)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    pth = (HERE + "\n").encode()
    return _write_wheel(wheel_directory, [("__editable__.%s.pth" % PACKAGE, pth)])


def build_sdist(sdist_directory, config_settings=None):
    p, name, version = _names()
    base = "%s-%s" % (name, version)
    filename = base + ".tar.gz"
    files = [("pyproject.toml", os.path.join(HERE, "pyproject.toml")),
             ("build_backend/sbp_build.py", os.path.abspath(__file__))]
    files += [(arc, path) for path, arc in _package_files()]
    tests = os.path.join(HERE, "tests")
    if os.path.isdir(tests):
        files += [("tests/" + n, os.path.join(tests, n)) for n in sorted(os.listdir(tests))
                  if n.endswith(".py")]

    def add(tar, arcname, data):
        ti = tarfile.TarInfo("%s/%s" % (base, arcname))
        ti.size, ti.mtime, ti.mode = len(data), _epoch(), 0o644
        tar.addfile(ti, io.BytesIO(data))

    with tarfile.open(os.path.join(sdist_directory, filename), "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for arcname, path in files:
            with open(path, "rb") as f:
                add(tar, arcname, f.read())
        add(tar, "PKG-INFO", _metadata(p).encode())
    return filename
