#!/usr/bin/env python3
"""Runs the binding's test suite the way `meson test --suite python` does.

Every test module is discovered and run in one process with the C calls
counted (callcount.py); test_coverage.py runs last and fails if a function
exported by libsbp was never called by any test.

    python3 run.py [-v] [-q] [--counts FILE]

--counts FILE runs every test except the coverage check and writes the
call counts to FILE as JSON (test_coverage.py does this when it is run on
its own, e.g. by `python3 -m unittest discover`).
"""

import argparse
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import callcount  # noqa: E402  (before any handle exists)

callcount.install()

COVERAGE_MODULE = "test_coverage"


def flatten(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from flatten(item)
        else:
            yield item


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-v", "--verbose", action="store_const", const=2, dest="verbosity",
                    default=1)
    ap.add_argument("-q", "--quiet", action="store_const", const=0, dest="verbosity")
    ap.add_argument("--counts", metavar="FILE",
                    help="skip the coverage check; write the call counts to FILE")
    args = ap.parse_args(argv)

    tests = list(flatten(unittest.TestLoader().discover(HERE, top_level_dir=HERE)))
    is_cov = [type(t).__module__ == COVERAGE_MODULE for t in tests]
    others = [t for t, c in zip(tests, is_cov) if not c]
    coverage = [t for t, c in zip(tests, is_cov) if c]
    if args.counts:
        coverage = []
    else:
        callcount.FULL_RUN = True
    suite = unittest.TestSuite(others + coverage)
    result = unittest.TextTestRunner(verbosity=args.verbosity).run(suite)
    if args.counts:
        with open(args.counts, "w") as f:
            json.dump(dict(callcount.COUNTS), f, indent=1, sort_keys=True)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
