"""The ```python blocks of docs/python.md run as written: in order, in one
namespace, with the source tree as the working directory (the examples
read data/mnist and data/nettalk). Blocks fenced ```py are fragments that
need other data and are only compiled."""

import contextlib
import io
import os
import re
import unittest

from support import SOURCE_DIR

PAGE = os.path.join(SOURCE_DIR, "docs", "python.md")


def blocks(text):
    """[(language, first line number, code)] of the fenced blocks."""
    out = []
    for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, flags=re.M | re.S):
        out.append((m.group(1), text.count("\n", 0, m.start()) + 2, m.group(2)))
    return out


@unittest.skipUnless(os.path.exists(PAGE), "docs/python.md not found")
class TestPythonDoc(unittest.TestCase):
    def test_blocks_run(self):
        with open(PAGE) as f:
            found = blocks(f.read())
        runnable = [b for b in found if b[0] == "python"]
        self.assertGreaterEqual(len(runnable), 8)
        namespace = {"__name__": "python_md"}
        cwd = os.getcwd()
        os.chdir(SOURCE_DIR)
        try:
            for lang, line, code in found:
                if lang not in ("python", "py"):
                    continue
                compiled = compile(code, "docs/python.md line %d" % line, "exec")
                if lang == "py":
                    continue
                with self.subTest(line=line), contextlib.redirect_stdout(io.StringIO()):
                    exec(compiled, namespace)
        finally:
            os.chdir(cwd)
            for value in list(namespace.values()):
                close = getattr(value, "close", None)
                if callable(close) and type(value).__module__ == "sbp":
                    close()


if __name__ == "__main__":
    unittest.main()
