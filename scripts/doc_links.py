"""Check, or fix, the source links of docs/*.md.

A link such as [`def fit`](../src/minidl/models/training.py#L451) promises that
line 451 of that file holds ``def fit``.  [`Dense.call`](...#L100) means the
first ``def call`` after ``class Dense``.  Code moves; this script finds each
named line again:

    python scripts/doc_links.py          # list the links that point at the wrong line
    python scripts/doc_links.py --fix    # rewrite their line numbers

tests/test_docs.py runs the check.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\[`([^`]+)`\]\((\.\./[^)#\s]+)#L(\d+)\)")
QUALIFIED = re.compile(r"^([A-Za-z_]\w*)\.([A-Za-z_]\w*)$")


def _matches(lines, fragment):
    """The 1-based numbers of the lines that ``fragment`` names."""
    qualified = QUALIFIED.match(fragment)
    if qualified:
        cls, method = qualified.groups()
        found = []
        for i, line in enumerate(lines):
            if re.match(rf"\s*(cdef\s+)?class {cls}\b", line):
                for j in range(i + 1, len(lines)):
                    if re.match(r"(cdef\s+)?class ", lines[j]):  # the next top-level class
                        break
                    if re.match(rf"\s+def {method}\(", lines[j]):
                        found.append(j + 1)
                        break
        return found
    return [i + 1 for i, line in enumerate(lines) if fragment in line]


def links(doc):
    """(fragment, target path, line, match) for every source link of ``doc``."""
    text = doc.read_text(encoding="utf-8")
    for match in LINK.finditer(text):
        fragment, target, line = match.group(1), match.group(2), int(match.group(3))
        yield fragment, (doc.parent / target).resolve(), line, match


def problems(doc):
    """[(fragment, target, line, the right line or None)] for each wrong link of ``doc``."""
    wrong = []
    for fragment, target, line, _ in links(doc):
        if not target.is_file():
            wrong.append((fragment, target, line, None))
            continue
        lines = target.read_text(encoding="utf-8").splitlines()
        found = _matches(lines, fragment)
        if line not in found:
            best = min(found, key=lambda n: abs(n - line)) if found else None
            wrong.append((fragment, target, line, best))
    return wrong


def fix(doc):
    text = doc.read_text(encoding="utf-8")
    for fragment, target, line, best in problems(doc):
        if best is None:
            continue
        relative = re.escape(f"[`{fragment}`](")
        text = re.sub(rf"({relative}[^)#]+#L){line}\)", rf"\g<1>{best})", text)
    doc.write_text(text, encoding="utf-8")


def main(argv):
    docs = sorted((ROOT / "docs").glob("*.md"))
    bad = 0
    for doc in docs:
        if "--fix" in argv:
            fix(doc)
        for fragment, target, line, best in problems(doc):
            bad += 1
            where = "no such line" if best is None else f"now at line {best}"
            print(f"{doc.relative_to(ROOT)}: `{fragment}` -> {target.relative_to(ROOT)}#L{line}: {where}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
