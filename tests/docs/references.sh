#!/usr/bin/env bash
# The code and test references of the documentation exist (ctest docs.references).
#
#   tests/docs/references.sh [ROOT] [DOC...]
#
# ROOT is the source tree (default: two levels above this script); the DOCs default to
# docs/rfc-compliance.md, README.md, docs/architecture.md and docs/conformance.md. Checked:
#   (a) every cited path (`src/...`, `include/...`, `tests/...`, `tools/...`, `fuzz/...`,
#       `bench/...`, `scripts/...`, `docs/...`) exists (a glob must match something);
#   (b) every cited test, `tests/x_test.cpp`: suite.name[, suite.name...], is a
#       TEST/TEST_F/TEST_P(suite, name) of that file. A value-parameterised test is cited
#       without its instantiation: `prefix/suite.name/*case*` and `suite.name` both stand
#       for TEST_P(suite, name);
#   (c) every cited function or type, `path` (`name`[, `class::name`...]) or `path` `name`,
#       occurs in that file: `class::name` literally, or `name` after the definition of
#       `class` (a member);
#   (d) no line reference (`file.cpp:123`, `file.hpp:10-20`) is left: lines go stale.
# Each broken reference is printed as DOC:LINE: reason; the exit status is 1 if any.
set -euo pipefail
root=${1:-"$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"}
shift || true
exec python3 - "$root" "$@" <<'PY'
import glob, os, re, sys

root = sys.argv[1]
docs = sys.argv[2:] or ["docs/rfc-compliance.md", "README.md", "docs/architecture.md", "docs/conformance.md"]
PREFIXES = ("src/", "include/", "tests/", "tools/", "fuzz/", "bench/", "scripts/", "docs/")
errors = []
file_cache = {}


def text_of(path):
    if path not in file_cache:
        try:
            with open(os.path.join(root, path), encoding="utf-8", errors="replace") as f:
                file_cache[path] = f.read()
        except OSError:
            file_cache[path] = None
    return file_cache[path]


def path_exists(p):
    p = p.rstrip("/")
    if any(c in p for c in "*?["):
        return bool(glob.glob(os.path.join(root, p), recursive=True))
    return os.path.exists(os.path.join(root, p))


LINE_REF = re.compile(r"[\w./-]+\.(?:cpp|hpp|cc|h|c|py|sh|cmake):\d+(?:-\d+)?\b")
# `path` (optionally followed by a test list or a function list)
CITE = re.compile(r"`((?:%s)[^`\s:]*)`" % "|".join(re.escape(p) for p in PREFIXES))
TEST_ITEM = re.compile(r"(?:[\w]+/)?([A-Za-z_]\w*)\.([A-Za-z_*][\w*]*)(?:/[\w*/.-]*)?")
TEST_DEF = re.compile(r"\bTEST(?:_F|_P)?\(\s*(\w+)\s*,\s*(\w+)\s*\)")
FUNC_ITEM = re.compile(r"`(~?[A-Za-z_][\w:~<>]*?)(?:\(\))?`")


def check_tests(doc, n, path, rest):
    """rest starts right after the path's closing backtick."""
    m = re.match(r":\s*", rest)
    if not m:
        return
    pos = m.end()
    src = text_of(path)
    while True:
        t = TEST_ITEM.match(rest, pos)
        if not t:
            return  # prose after the colon, not a list of tests
        suite, name = t.group(1), t.group(2)
        if src is not None:
            want = re.compile(re.escape(name).replace(r"\*", r"\w*") + r"\Z")
            if not any(s == suite and want.match(t) for s, t in TEST_DEF.findall(src)):
                errors.append(f"{doc}:{n}: `{path}`: no TEST/TEST_F/TEST_P({suite}, {name})")
        pos = t.end()
        sep = re.match(r",\s*", rest[pos:])
        if not sep:
            return
        pos += sep.end()


def occurs(src, name):
    if re.search(r"(?<!\w)%s\b" % re.escape(name), src):
        return True
    if "::" in name:
        cls, member = name.rsplit("::", 1)
        cls = cls.split("::")[-1]
        d = re.search(r"\b(?:struct|class|enum\s+class|enum|union|namespace)\s+%s\b" % re.escape(cls), src)
        if d and re.search(r"\b%s\b" % re.escape(member.lstrip("~")), src[d.end():]):
            return True
    return False


IDENT = re.compile(r"`(~?[A-Za-z_][\w:~]*)(?:\(\))?`")


def check_functions(doc, n, path, rest):
    """`path` (`name`, `class::name`) or `path` `name`[, `name`]: each name occurs in path."""
    src = text_of(path)
    if src is None:
        return
    names = []
    m = re.match(r":?[ \t]*\(", rest)
    if m and rest[m.end():].lstrip().startswith("`"):
        in_tick = False
        body = rest[m.end():]
        end = len(body)
        for i, c in enumerate(body):  # a ")" inside backticks does not end the list
            if c == "`":
                in_tick = not in_tick
            elif c == ")" and not in_tick:
                end = i
                break
        names = [f.group(1) for f in FUNC_ITEM.finditer(body[:end])]
    else:
        pos = re.match(r":?[ \t]*", rest).end()
        while True:
            f = IDENT.match(rest, pos)
            if not f:
                break
            names.append(f.group(1))
            sep = re.match(r",[ \t]*", rest[f.end():])
            if not sep:
                break
            pos = f.end() + sep.end()
    for name in names:
        if not occurs(src, name):
            errors.append(f"{doc}:{n}: `{path}` (`{name}`): not found in {path}")


for doc in docs:
    full = os.path.join(root, doc)
    if not os.path.exists(full):
        errors.append(f"{doc}: document missing")
        continue
    in_fence = False
    with open(full, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.lstrip().startswith("```"):
                in_fence = not in_fence
                continue
            for lr in LINE_REF.finditer(line):
                errors.append(f"{doc}:{n}: line reference {lr.group(0)!r}: cite the file and the function instead")
            if in_fence:
                continue
            for c in CITE.finditer(line):
                path = c.group(1)
                if re.search(r"/[A-Z][A-Z_]{2,}(/|$)", path):
                    continue  # a template such as fuzz/regressions/TARGET/NAME
                if not path_exists(path):
                    errors.append(f"{doc}:{n}: `{path}` does not exist")
                    continue
                rest = line[c.end():]
                if os.path.isfile(os.path.join(root, path)):
                    if re.search(r"_test\.cpp$", path):
                        check_tests(doc, n, path, rest)
                    check_functions(doc, n, path, rest)

for e in errors:
    print(e)
print(f"docs.references: {len(errors)} broken reference(s) in {', '.join(docs)}")
sys.exit(1 if errors else 0)
PY
