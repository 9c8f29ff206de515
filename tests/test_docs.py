"""Checks that the documentation says what the code does.

- TutorialTest: the ```python blocks of docs/tutorial.md run as written, in
  order, in one namespace, from the top of the source tree; the `sbp train`
  command the tutorial prints gives the same test errors.
- ParamTablesTest: every parameter table row in docs/parameters.md and
  docs/rules/*.md (name, type, unit, default, bounds) equals what
  sbp_param_info() says, every parameter has a row, each rule page covers its
  whole group, and the defaults and types written in the comments of
  include/sbp/sbp.h agree too.
- LinksTest: docs/index.md links every page of docs/, and every relative link
  of the docs and the README leads to a file that exists.
- CliDocsTest: for every `sbp` command, the options `sbp COMMAND --help` lists
  and the options docs/cli.md documents are the same set, both ways; every
  `sbp` command line in a code block of the docs or the README uses options
  its command has; `sbp help params` lists exactly the library's parameters,
  and each is documented.

Environment (set by tests/meson.build): SBP_LIBRARY and PYTHONPATH for the
binding, SBP_SOURCE_DIR (the source tree), SBP_TOOL (the sbp tool just built).
Run by hand:

    SBP_LIBRARY=build/lib/libsbp.so.0 PYTHONPATH=bindings/python \\
        SBP_TOOL=build/tools/sbp python3 tests/test_docs.py -v
"""

import contextlib
import glob
import io
import json
import math
import os
import re
import subprocess
import sys
import unittest

import sbp

SOURCE_DIR = os.path.abspath(os.environ.get("SBP_SOURCE_DIR")
                             or os.path.join(os.path.dirname(__file__), ".."))
DOCS = os.path.join(SOURCE_DIR, "docs")
TOOL = os.environ.get("SBP_TOOL") or os.path.join(
    os.environ.get("SBP_BUILD_DIR", os.path.join(SOURCE_DIR, "build")), "tools", "sbp")


def read(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def code_blocks(text, lang=None):
    """The fenced code blocks of a markdown text, as (language, body)."""
    blocks = re.findall(r"^```([\w+-]*)[ \t]*\n(.*?)^```[ \t]*$", text, re.M | re.S)
    return [(lg, body) for lg, body in blocks if lang is None or lg == lang]


def doc_pages():
    """Every markdown page of docs/ (docs/runs/ holds run records, not pages)."""
    pages = glob.glob(os.path.join(DOCS, "*.md")) + glob.glob(os.path.join(DOCS, "rules", "*.md"))
    return sorted(pages)


def run_tool(*args):
    env = dict(os.environ)
    env.pop("SBP_DATA", None)  # the docs' commands use the bundled data
    return subprocess.run([TOOL] + list(args), cwd=SOURCE_DIR, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=600)


# --------------------------------------------------------------------------
# The tutorial runs as written
# --------------------------------------------------------------------------

class TutorialTest(unittest.TestCase):

    def test_python_blocks_run_and_match_the_tool(self):
        text = read(os.path.join(DOCS, "tutorial.md"))
        blocks = [body for _, body in code_blocks(text, "python")]
        self.assertGreaterEqual(len(blocks), 8, "the tutorial lost its python blocks")
        namespace = {"__name__": "__tutorial__"}
        out = io.StringIO()
        cwd = os.getcwd()
        os.chdir(SOURCE_DIR)
        try:
            for i, body in enumerate(blocks, 1):
                code = compile(body, "docs/tutorial.md python block %d" % i, "exec")
                with contextlib.redirect_stdout(out):
                    exec(code, namespace)  # noqa: S102 - the point of the test
        finally:
            os.chdir(cwd)
        printed = out.getvalue()
        sys.stderr.write(printed)
        epochs = re.findall(r"^epoch (\d+)  train error ([\d.]+) %  test error ([\d.]+) %$",
                            printed, re.M)
        self.assertEqual(len(epochs), 2, "the training loop printed:\n" + printed)

        # The command the tutorial says gives the same numbers.
        cmd = [line for _, body in code_blocks(text, "sh") for line in body.splitlines()
               if line.startswith("build/tools/sbp train")]
        self.assertEqual(len(cmd), 1, "expected one 'build/tools/sbp train' line")
        args = cmd[0].split()[1:] + ["--json", "--quiet"]
        r = run_tool(*args)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
        tool_epochs = [x for x in lines if "epoch" in x]
        self.assertEqual(len(tool_epochs), len(epochs))
        for (n, train_err, test_err), x in zip(epochs, tool_epochs):
            self.assertEqual(int(n), x["epoch"])
            self.assertEqual(train_err, "%.2f" % (100 * x["train_error"]),
                             "epoch %s train error: tutorial vs %s" % (n, " ".join(cmd)))
            self.assertEqual(test_err, "%.2f" % (100 * x["test_error"]),
                             "epoch %s test error: tutorial vs %s" % (n, " ".join(cmd)))


# --------------------------------------------------------------------------
# Parameter tables against sbp_param_info
# --------------------------------------------------------------------------

RULE_PAGES = {
    "stdp.md": ("stdp",),
    "stp.md": ("stp",),
    "homeostasis.md": ("homeo",),
    "sbp-spread.md": ("spread",),
    "rbm-cd.md": ("cd",),
}


def param_rows(path):
    """Rows of the parameter tables of a page: tables whose header has the
    columns name, type, unit, default and bounds. Returns a list of
    (line number, {column: cell})."""
    rows = []
    header = None
    for no, line in enumerate(read(path).splitlines(), 1):
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            names = [c.lower() for c in cells]
            if {"name", "type", "unit", "default", "bounds"} <= set(names):
                header = names
            continue
        if set(line.replace("|", "").strip()) <= set("-: "):
            continue
        if len(cells) != len(header):
            rows.append((no, None))
            continue
        rows.append((no, dict(zip(header, cells))))
    return rows


def parse_number(text):
    return float(text.replace("−", "-"))


class ParamTablesTest(unittest.TestCase):

    def setUp(self):
        self.infos = {p.name: p for p in sbp.params()}

    def check_page(self, path, problems):
        """Checks the parameter rows of a page; returns the names it documents
        and appends a line per disagreement to `problems`."""
        rel = os.path.relpath(path, SOURCE_DIR)
        seen = []
        for no, row in param_rows(path):
            where = "%s:%d: " % (rel, no)
            if row is None:
                problems.append(where + "wrong number of cells")
                continue
            m = re.fullmatch(r"`([\w.]+)`", row["name"])
            if not m or m.group(1) not in self.infos:
                problems.append(where + "%s is not a parameter's `dotted.name`" % row["name"])
                continue
            name = m.group(1)
            info = self.infos[name]
            seen.append(name)
            if row["type"] != info.type.name.lower():
                problems.append(where + "%s is %s, the table says %s"
                                % (name, info.type.name.lower(), row["type"]))
            unit = "" if row["unit"] in ("–", "-", "") else row["unit"]
            if unit != info.unit:
                problems.append(where + "unit of %s is %r, the table says %r"
                                % (name, info.unit, unit))
            first = row["default"].split()[0] if row["default"].split() else ""
            if info.default is None:
                if first != "engine":
                    problems.append(where + "%s has an engine-chosen default (NaN), the "
                                    "table says %s" % (name, first))
            else:
                try:
                    value = parse_number(first)
                except ValueError:
                    value = None
                if value is None or not math.isclose(value, float(info.default),
                                                     rel_tol=1e-12):
                    problems.append(where + "default of %s is %r, the table says %s"
                                    % (name, float(info.default), first))
                if hasattr(info.default, "name") and \
                        "`%s`" % info.default.name.lower() not in row["default"]:
                    problems.append(where + "default of %s should name `%s`"
                                    % (name, info.default.name.lower()))
            b = re.fullmatch(r"\[\s*([^,\s]+)\s*,\s*([^\]\s]+)\s*\]", row["bounds"])
            if not b:
                problems.append(where + "bounds of %s are not [min, max]" % name)
                continue
            for text, want, side in ((b.group(1), info.min, "min"),
                                     (b.group(2), info.max, "max")):
                try:
                    ok = math.isclose(parse_number(text), float(want), rel_tol=1e-12)
                except ValueError:
                    ok = False
                if not ok:
                    problems.append(where + "%s of %s is %r, the table says %s"
                                    % (side, name, float(want), text))
        return seen

    def test_tables_match_the_library(self):
        documented = set()
        problems = []
        pages = [os.path.join(DOCS, "parameters.md")] + [
            os.path.join(DOCS, "rules", p) for p in sorted(RULE_PAGES)]
        for page in pages:
            seen = self.check_page(page, problems)
            if not seen:
                problems.append("%s: no parameter table found" % os.path.relpath(page, SOURCE_DIR))
            documented.update(seen)
        missing = sorted(set(self.infos) - documented)
        if missing:
            problems.append("parameters without a row in docs/parameters.md or "
                            "docs/rules/*.md: " + ", ".join(missing))
        if problems:
            self.fail("the parameter tables disagree with sbp_param_info:\n"
                      + "\n".join(problems))

    def test_rule_pages_cover_their_groups(self):
        for page, groups in RULE_PAGES.items():
            path = os.path.join(DOCS, "rules", page)
            names = {row["name"].strip("`") for _, row in param_rows(path) if row}
            want = {n for n in self.infos if n.split(".")[0] in groups}
            with self.subTest(page=page):
                self.assertEqual(sorted(want - names), [], "missing from the page")
                self.assertEqual(sorted(names - want), [], "not of this rule's group")

    def test_header_comments_match_the_library(self):
        header = read(os.path.join(SOURCE_DIR, "include", "sbp", "sbp.h"))
        values = {m.group(1): int(m.group(2), 0) for m in re.finditer(
            r"^\s*(SBP_[A-Z0-9_]+) = (0x[0-9A-Fa-f]+|\d+)", header, re.M)}
        body = header[header.index("typedef enum sbp_param {"):header.index("} sbp_param;")]
        checked = 0
        for m in re.finditer(r"^\s*(SBP_[A-Z0-9_]+) = 0x[0-9A-Fa-f]+,?\s*/\*\*<(.*?)\*/",
                             body, re.M | re.S):
            cname, comment = m.group(1), " ".join(m.group(2).split())
            info = sbp.param_info(values[cname])
            with self.subTest(param=cname):
                kind = comment.split()[0].rstrip(",")
                self.assertEqual(kind, info.type.name.lower(),
                                 "%s: the comment says %r" % (cname, comment))
                words = comment.split()
                if len(words) > 1 and words[1].rstrip(",") in ("ms", "Hz", "nS", "steps"):
                    self.assertEqual(words[1].rstrip(","), info.unit, cname)
                d = re.search(r"\((?:default )?(-?[0-9][0-9.e+-]*|SBP_[A-Z0-9_]+)\)\s*$",
                              comment)
                if d:
                    text = d.group(1)
                    value = values[text] if text in values else float(text)
                    self.assertIsNotNone(info.default, "%s: the comment gives a default, "
                                         "the library picks it per engine" % cname)
                    self.assertTrue(math.isclose(value, float(info.default), rel_tol=1e-12),
                                    "%s: comment default %s, library %r"
                                    % (cname, text, info.default))
                    checked += 1
        self.assertGreater(checked, 50, "the header's parameter comments were not parsed")


class RuleExamplesTest(unittest.TestCase):
    """The ```c examples of the rule pages compile against sbp.h (as the body
    of a function that has an `sbp_net *net`)."""

    def test_c_examples_compile(self):
        import shutil
        import tempfile
        cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
        if not cc:
            self.skipTest("no C compiler")
        build = os.environ.get("SBP_BUILD_DIR", os.path.join(SOURCE_DIR, "build"))
        for page in sorted(RULE_PAGES):
            blocks = [b for _, b in code_blocks(read(os.path.join(DOCS, "rules", page)), "c")]
            self.assertTrue(blocks, page + " has no C example")
            src = "#include <sbp/sbp.h>\n" + "".join(
                "void example_%d(sbp_net *net);\nvoid example_%d(sbp_net *net)\n{\n%s}\n"
                % (i, i, body) for i, body in enumerate(blocks))
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "example.c")
                with open(path, "w") as f:
                    f.write(src)
                r = subprocess.run([cc, "-std=c99", "-Wall", "-Werror", "-fsyntax-only",
                                    "-I", os.path.join(SOURCE_DIR, "include"),
                                    "-I", os.path.join(build, "include"),
                                    "-I", os.path.join(build, "include", "sbp"), path],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   universal_newlines=True)
            self.assertEqual(r.returncode, 0, "docs/rules/%s: C example:\n%s" % (page, r.stdout))


# --------------------------------------------------------------------------
# Links
# --------------------------------------------------------------------------

def relative_links(path):
    text = re.sub(r"^```.*?^```", "", read(path), flags=re.M | re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    for m in re.finditer(r"!?\[[^\]]*\]\(([^)\s]+)\)", text):
        target = m.group(1)
        if re.match(r"[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue
        yield target.split("#")[0]


class LinksTest(unittest.TestCase):

    def test_index_links_every_page(self):
        index = os.path.join(DOCS, "index.md")
        linked = {os.path.normpath(os.path.join(DOCS, t)) for t in relative_links(index)}
        for page in doc_pages():
            if os.path.basename(page) == "index.md":
                continue
            self.assertIn(os.path.normpath(page), linked,
                          "docs/index.md does not link %s" % os.path.relpath(page, SOURCE_DIR))

    def test_relative_links_resolve(self):
        broken = []
        for page in doc_pages() + [os.path.join(SOURCE_DIR, "README.md")]:
            for target in relative_links(page):
                path = os.path.normpath(os.path.join(os.path.dirname(page), target))
                if not os.path.exists(path):
                    broken.append("%s -> %s" % (os.path.relpath(page, SOURCE_DIR), target))
        if broken:
            self.fail("links to files that do not exist:\n" + "\n".join(broken))


# --------------------------------------------------------------------------
# `sbp --help` against docs/cli.md
# --------------------------------------------------------------------------

COMMANDS = ["info", "data verify", "data info", "train", "eval", "experiment", "bench"]
OPTION = re.compile(r"--[a-z][a-z0-9-]*")


def help_options(text):
    """Options of a help text: the lines '  --name ...' / '  -h, --help'."""
    opts = set()
    for line in text.splitlines():
        m = re.match(r"^  (?:-h, )?(--[a-z][a-z0-9-]*)", line)
        if m:
            opts.add(m.group(1))
    return opts


def cli_sections(text):
    """docs/cli.md split at its '## sbp COMMAND' headings: {command: text}."""
    sections = {}
    parts = re.split(r"^## ", text, flags=re.M)
    for part in parts[1:]:
        title = part.split("\n", 1)[0].strip()
        m = re.match(r"sbp ((?:data )?[a-z]+)", title)
        if m:
            sections[m.group(1)] = part
    return sections


def sbp_lines(body):
    """`sbp` command lines of a code block, with their continuation lines
    (a trailing backslash, or the indented lines of a synopsis) joined."""
    lines, current = [], None
    for raw in body.splitlines():
        line = raw.rstrip()
        stripped = line.lstrip()
        if stripped.startswith("$ "):
            stripped = stripped[2:]
        cont = current is not None and (current.endswith("\\") or
                                       (line[:1].isspace() and stripped[:1] in "[-"))
        if cont:
            current = current.rstrip("\\") + " " + stripped
            continue
        if current is not None:
            lines.append(current)
            current = None
        m = re.match(r"(?:build/tools/|\./)?sbp( .*|$)", stripped)
        if m and not raw.startswith(" "):
            current = "sbp" + m.group(1)
    if current is not None:
        lines.append(current)
    return lines


def command_of(line):
    words = line.split()[1:]
    if words[:1] == ["data"] and len(words) > 1:
        return "data " + words[1]
    return words[0] if words else ""


def documented_options(section, command):
    """Options a '## sbp COMMAND' section documents: its synopsis lines (code
    block lines starting with 'sbp COMMAND', not '$ ' examples) and the first
    column of its option tables."""
    opts = set()
    for _, body in code_blocks(section):
        for line in sbp_lines("\n".join(l for l in body.splitlines()
                                        if not l.startswith("$"))):
            if command_of(line) == command:
                opts |= set(OPTION.findall(line))
    in_table = False
    for line in section.splitlines():
        if not line.startswith("|"):
            in_table = False
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not in_table:
            in_table = cells[0].lower() == "option"
            continue
        opts |= set(OPTION.findall(cells[0]))
    return opts


class CliDocsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.cli = read(os.path.join(DOCS, "cli.md"))
        cls.sections = cli_sections(cls.cli)
        cls.help = {}
        for cmd in COMMANDS:
            r = run_tool(*(cmd.split() + ["--help"]))
            assert r.returncode == 0, "sbp %s --help: %s" % (cmd, r.stderr)
            cls.help[cmd] = r.stdout

    def diff(self, what, in_help, in_docs):
        lines = []
        for o in sorted(in_help - in_docs):
            lines.append("  %s: in 'sbp %s --help', not in docs/cli.md" % (o, what))
        for o in sorted(in_docs - in_help):
            lines.append("  %s: in docs/cli.md, not in 'sbp %s --help'" % (o, what))
        return "\n".join(lines)

    def test_command_options_match_both_ways(self):
        problems = []
        for cmd in COMMANDS:
            section = self.sections.get(cmd)
            if section is None:
                problems.append("  docs/cli.md has no '## sbp %s' section" % cmd)
                continue
            in_help = help_options(self.help[cmd]) - {"--help"}
            in_docs = documented_options(section, cmd) - {"--help"}
            d = self.diff(cmd, in_help, in_docs)
            if d:
                problems.append(d)
        if problems:
            self.fail("'sbp COMMAND --help' and docs/cli.md disagree:\n" + "\n".join(problems))

    def test_command_list_matches(self):
        r = run_tool("--help")
        self.assertEqual(r.returncode, 0)
        def commands(text):
            """{command: one-line summary} of a command list."""
            block = text.split("Commands:", 1)[1] if "Commands:" in text else text
            names = {}
            for line in block.splitlines():
                m = re.match(r"^  ([a-z]+(?: [a-z]+)?)(?: (?:DIR|\[[A-Z]+\]))?\s{2,}(\S.*)$",
                             line)
                if m:
                    names[m.group(1)] = m.group(2).strip()
            return names
        in_help = commands(r.stdout.split("Options:", 1)[0])
        first = code_blocks(self.cli)[0][1]
        in_docs = commands(first.split("-h, --help", 1)[0])
        self.assertEqual(in_help, in_docs, "commands of 'sbp --help' vs docs/cli.md's list")
        main_opts = help_options(r.stdout.split("Options:", 1)[1])
        after_commands = first.split("help params", 1)[1].split("\n", 1)[1]
        self.assertEqual(main_opts, help_options(after_commands),
                         "top-level options of 'sbp --help' vs docs/cli.md")

    def test_help_command_equals_dash_help(self):
        for cmd in ["info", "train", "eval", "experiment", "bench"]:
            r = run_tool("help", cmd)
            self.assertEqual(r.stdout, self.help[cmd], "'sbp help %s' vs 'sbp %s --help'"
                             % (cmd, cmd))
        r = run_tool("data", "--help")
        self.assertIn(self.help["data verify"], r.stdout)
        self.assertIn(self.help["data info"], r.stdout)

    def test_command_lines_in_the_docs_use_real_options(self):
        bad = []
        pages = doc_pages() + [os.path.join(SOURCE_DIR, "README.md")]
        for page in pages:
            rel = os.path.relpath(page, SOURCE_DIR)
            for _, body in code_blocks(read(page)):
                for line in sbp_lines(body):
                    cmd = command_of(line)
                    if cmd in ("help", "") or cmd.startswith("-") or cmd.isupper():
                        continue
                    if cmd not in self.help:
                        bad.append("%s: unknown command in: %s" % (rel, line))
                        continue
                    known = help_options(self.help[cmd])
                    for o in OPTION.findall(line):
                        if o not in known:
                            bad.append("%s: 'sbp %s' has no %s: %s" % (rel, cmd, o, line))
        if bad:
            self.fail("command lines in the docs that the tool would refuse:\n"
                      + "\n".join(bad))

    def test_help_params_lists_the_library_parameters(self):
        r = run_tool("help", "params")
        self.assertEqual(r.returncode, 0)
        listed = re.findall(r"^  ([a-z]+\.[A-Za-z0-9_]+)\s+(?:int|real)\s", r.stdout, re.M)
        self.assertEqual(sorted(listed), sorted(p.name for p in sbp.params()))
        docs = "\n".join(read(p) for p in doc_pages())
        undocumented = [n for n in listed if "`%s`" % n not in docs]
        self.assertEqual(undocumented, [], "parameters no docs page names")
        # Enumerated values by name: each 'name=value' of the help appears in
        # the docs as "value `name`".
        tables = "\n".join(read(p) for p in
                           [os.path.join(DOCS, "parameters.md")] +
                           glob.glob(os.path.join(DOCS, "rules", "*.md")))
        enum_part = r.stdout.split("Integer enums also take names:", 1)[1]
        for name, value in re.findall(r"([a-z0-9_]+)=(\d+)", enum_part):
            self.assertIn("%s `%s`" % (value, name), tables,
                          "enum value %s=%s is not in the parameter tables" % (name, value))


if __name__ == "__main__":
    unittest.main(verbosity=2)
