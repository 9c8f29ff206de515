"""The binding against the C sources: enum values, and the prototype table
against sbp.h and the version script. A failure here means sbp.h changed
and the binding was not updated (or the reverse)."""

import ctypes
import os
import re
import unittest

from sbp import _enums, _lib

from support import SOURCE_DIR

HEADER = os.path.join(SOURCE_DIR, "include", "sbp", "sbp.h")
SYMFILE = os.path.join(SOURCE_DIR, "lib", "libsbp.sym")


def read_header():
    with open(HEADER) as f:
        text = f.read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = text.replace("\\\n", " ")
    return re.sub(r"^[ \t]*#[^\n]*", " ", text, flags=re.M)  # preprocessor lines


def header_enums():
    """{c enum name: {constant: value}} for every typedef enum in sbp.h."""
    enums = {}
    for m in re.finditer(r"typedef\s+enum\s+(\w+)\s*\{(.*?)\}\s*(\w+)\s*;", read_header(), re.S):
        name, body, alias = m.groups()
        assert name == alias, "typedef enum %s {...} %s" % (name, alias)
        values = {}
        for item in body.split(","):
            item = item.strip()
            if not item:
                continue
            cm = re.fullmatch(r"(SBP_\w+)\s*=\s*(0[xX][0-9a-fA-F]+|\d+)", item)
            assert cm, "enum %s: constant without an explicit pinned value: %r" % (name, item)
            values[cm.group(1)] = int(cm.group(2), 0)
        enums[name] = values
    return enums


def header_functions():
    """{name: (return type, [parameter types])} for every SBP_API function."""
    text = re.sub(r"\s+", " ", read_header())
    funcs = {}
    for m in re.finditer(r"SBP_API ([^;(]+?) ?\b(sbp_\w+) ?\(([^)]*)\) ?;", text):
        ret, name, params = m.groups()
        types = []
        params = params.strip()
        if params != "void":
            for p in params.split(","):
                pm = re.fullmatch(r"(.*?)\b\w+", p.strip())
                assert pm, "%s: cannot parse parameter %r" % (name, p)
                types.append(pm.group(1).strip())
        funcs[name] = (ret.strip(), types)
    return funcs


def symfile_names():
    with open(SYMFILE) as f:
        text = re.sub(r"/\*.*?\*/", " ", f.read(), flags=re.S)
    return re.findall(r"^\s*(sbp_\w+)\s*;", text, flags=re.M)


HANDLES = {"sbp_net": _lib.NetP, "sbp_layer": _lib.LayerP, "sbp_rule": _lib.RuleP,
           "sbp_dataset": _lib.DatasetP}
STRUCTS = {"sbp_diag": _lib.Diag, "sbp_param_desc": _lib.ParamDesc, "sbp_event": _lib.Event,
           "sbp_event_frames": _lib.EventFrames, "sbp_nettalk_codes": _lib.NettalkCodes}
SCALARS = {"size_t": ctypes.c_size_t, "uint64_t": ctypes.c_uint64, "int64_t": ctypes.c_int64,
           "int32_t": ctypes.c_int32, "double": ctypes.c_double, "float": ctypes.c_float,
           "int": ctypes.c_int, "unsigned": ctypes.c_uint, "sbp_progress_fn": _lib.PROGRESS_FN}


def expected_ctype(ctype):
    """The ctypes type that must stand for a C type of sbp.h."""
    t = re.sub(r"\bconst\b", "", ctype).replace(" ", "")
    if t == "void":
        return None
    if t == "char*":
        return ctypes.c_char_p
    if t == "void*":
        return ctypes.c_void_p
    base = t.rstrip("*")
    stars = len(t) - len(base)
    if base == "void":  # void **: a pointer to a c_void_p
        result, stars = ctypes.c_void_p, stars - 1
    elif base in HANDLES:
        assert stars >= 1, "handle %s passed by value" % base
        result, stars = HANDLES[base], stars - 1
    elif base in STRUCTS:
        result = STRUCTS[base]
    elif base in _enums.C_ENUMS:
        result = ctypes.c_int
    elif base in SCALARS:
        result = SCALARS[base]
    else:
        raise AssertionError("test does not know the C type %r; extend expected_ctype" % ctype)
    for _ in range(stars):
        result = ctypes.POINTER(result)
    return result


class TestEnums(unittest.TestCase):
    def test_every_c_enum_is_mapped(self):
        self.assertEqual(sorted(header_enums()), sorted(_enums.C_ENUMS),
                         "a C enum has no Python IntEnum (add it to _enums.C_ENUMS)")

    def test_values_match(self):
        for cname, values in header_enums().items():
            cls, prefix = _enums.C_ENUMS[cname]
            with self.subTest(enum=cname):
                py = {prefix + m.name: m.value for m in cls}
                self.assertEqual(py, values)

    def test_no_enum_escapes_the_parser(self):
        """Every `enum` in sbp.h is a `typedef enum name {...} name;` the
        parser read, so none can be missed by the tests above."""
        text = read_header()
        self.assertEqual(len(re.findall(r"\benum\b", text)), len(header_enums()),
                         "sbp.h has an enum not written as typedef enum X {...} X;")

    def test_python_enums_are_all_mapped(self):
        classes = {cls for cls, _ in _enums.C_ENUMS.values()}
        for name in _enums.__all__:
            self.assertIn(getattr(_enums, name), classes, name)

    def test_enum_sanity(self):
        for cls, _ in _enums.C_ENUMS.values():
            self.assertEqual(len(set(m.value for m in cls)), len(cls), cls)


def header_defines():
    """{name: int} for the integer #defines of sbp.h."""
    with open(HEADER) as f:
        text = f.read()
    return {m.group(1): int(m.group(2)) for m in
            re.finditer(r"^\s*#\s*define\s+(SBP_\w+)\s+(\d+)\b", text, flags=re.M)}


class TestConstants(unittest.TestCase):
    def test_nettalk(self):
        from sbp import _nettalk
        defines = {k[len("SBP_NETTALK_"):]: v for k, v in header_defines().items()
                   if k.startswith("SBP_NETTALK_")}
        self.assertGreaterEqual(len(defines), 8)
        for name, value in defines.items():
            with self.subTest(constant=name):
                self.assertEqual(getattr(_nettalk, name), value)
        import sbp
        self.assertEqual(sbp.NETTALK_INPUTS, defines["INPUTS"])
        self.assertEqual(sbp.NETTALK_UNITS, defines["UNITS"])

    def test_nettalk_struct_dimensions(self):
        d = {k: v for k, v in header_defines().items()}
        f = dict((name, t) for name, t in _lib.NettalkCodes._fields_)
        self.assertEqual(ctypes.sizeof(f["phonemes"]), d["SBP_NETTALK_MAX_PHONEMES"] + 1)
        self.assertEqual(ctypes.sizeof(f["stress"]), d["SBP_NETTALK_MAX_STRESS"] + 1)
        self.assertEqual(f["phoneme_code"]._length_, d["SBP_NETTALK_MAX_PHONEMES"])
        self.assertEqual(f["phoneme_code"]._type_._length_, d["SBP_NETTALK_ARTICULATORY"])
        self.assertEqual(f["stress_code"]._length_, d["SBP_NETTALK_MAX_STRESS"])
        self.assertEqual(f["stress_code"]._type_._length_, d["SBP_NETTALK_STRESS_UNITS"])


class TestPrototypes(unittest.TestCase):
    def setUp(self):
        self.table = {row[0]: row for row in _lib.PROTOTYPES}

    def test_no_duplicates(self):
        names = [row[0] for row in _lib.PROTOTYPES]
        self.assertEqual(len(names), len(set(names)))

    def test_symfile_equals_header(self):
        self.assertEqual(sorted(symfile_names()), sorted(header_functions()))

    def test_table_covers_exports(self):
        self.assertEqual(sorted(self.table), sorted(symfile_names()),
                         "the prototype table must list exactly the exported functions")

    def test_signatures(self):
        for name, (ret, params) in header_functions().items():
            with self.subTest(function=name):
                _, argtypes, restype, _ = self.table[name]
                self.assertEqual(len(argtypes), len(params), "argument count")
                for i, (c, py) in enumerate(zip(params, argtypes)):
                    self.assertIs(py, expected_ctype(c), "argument %d (%s)" % (i, c))
                self.assertIs(restype, expected_ctype(ret), "result (%s)" % ret)

    def test_error_checks(self):
        """Every sbp_status result is checked, with the right message source."""
        for name, (ret, params) in header_functions().items():
            with self.subTest(function=name):
                errcheck = self.table[name][3]
                if ret != "sbp_status":
                    self.assertIsNone(errcheck)
                    continue
                self.assertIsNotNone(errcheck)
                first = re.sub(r"\bconst\b|\s", "", params[0]) if params else ""
                if any("sbp_diag" in p for p in params):
                    want = "check_diag"
                elif first.rstrip("*") in HANDLES and first.count("*") == 1:
                    want = "check_%s_errmsg" % first.rstrip("*")
                else:
                    want = "_check_plain"
                self.assertEqual(errcheck.__name__, want)

    def test_library_has_every_symbol(self):
        for name in self.table:
            self.assertTrue(hasattr(_lib.lib, name), name)

    def test_struct_layout(self):
        # sbp_diag: int, char[256], 4 x uint64_t, char[512]
        self.assertEqual(_lib.Diag.offset.offset, 264)
        self.assertEqual(ctypes.sizeof(_lib.Diag), 264 + 32 + 512)
        self.assertEqual(ctypes.sizeof(_lib.ParamDesc),
                         2 * ctypes.sizeof(ctypes.c_void_p) + 8 + 24)
        # sbp_event: uint64_t t, uint16_t x, y, uint8_t polarity (pinned, 16 bytes)
        self.assertEqual(ctypes.sizeof(_lib.Event), 16)
        self.assertEqual(_lib.Event.polarity.offset, 12)
        # sbp_event_frames: 2 x size_t, unsigned, 3 x int
        self.assertEqual(ctypes.sizeof(_lib.EventFrames), 2 * ctypes.sizeof(ctypes.c_size_t) + 16)
        # sbp_nettalk_codes: 2 x size_t, char[65], char[17], float[64][21], float[16][5]
        self.assertEqual(_lib.NettalkCodes.phoneme_code.offset,
                         2 * ctypes.sizeof(ctypes.c_size_t) + 84)
        self.assertEqual(_lib.NettalkCodes.stress_code.offset,
                         2 * ctypes.sizeof(ctypes.c_size_t) + 84 + 4 * 64 * 21)
        self.assertEqual(ctypes.sizeof(_lib.NettalkCodes) % ctypes.sizeof(ctypes.c_size_t), 0)


if __name__ == "__main__":
    unittest.main()
