"""The docs/ chapters stay true to the code they describe."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(ROOT / "scripts"))
import doc_links  # noqa: E402


def _code_blocks(text, language=None):
    """The fenced code blocks of a Markdown text (only those in ``language`` if given)."""
    blocks, current, fence_language = [], None, None
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            if current is None:
                current, fence_language = [], line[3:].strip()
            else:
                if language is None or fence_language == language:
                    blocks.append("".join(current))
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def test_every_source_link_points_at_the_line_it_names():
    wrong = [problem for doc in DOCS.glob("*.md") for problem in doc_links.problems(doc)]
    assert not wrong, f"run `python scripts/doc_links.py --fix`: {wrong}"
    assert sum(1 for doc in DOCS.glob("*.md") for _ in doc_links.links(doc)) >= 15


def test_the_link_checker_finds_a_moved_line(tmp_path):
    source = tmp_path / "src.py"
    source.write_text("x = 1\n\nclass A:\n    def call(self):\n        pass\n\ndef f():\n    pass\n")
    doc = tmp_path / "docs" / "a.md"
    doc.parent.mkdir()
    doc.write_text("[`def f`](../src.py#L2) and [`A.call`](../src.py#L4) and [`def g`](../src.py#L1)\n")
    wrong = {(fragment, line, best) for fragment, _, line, best in doc_links.problems(doc)}
    assert wrong == {("def f", 2, 7), ("def g", 1, None)}
    doc_links.fix(doc)
    assert "#L7)" in doc.read_text()
    assert {fragment for fragment, *_ in doc_links.problems(doc)} == {"def g"}


def test_the_extending_chapter_shows_the_examples_own_code():
    example = (ROOT / "examples" / "08_custom_op_and_layer.py").read_text()
    blocks = _code_blocks((DOCS / "extending.md").read_text(), "python")
    assert len(blocks) >= 4
    for block in blocks:
        assert block.strip() in example, block


def test_the_index_lists_every_chapter_and_each_exists():
    index = (DOCS / "index.md").read_text()
    linked = set(re.findall(r"\]\(([\w.-]+\.md)\)", index))
    chapters = {p.name for p in DOCS.glob("*.md")} - {"index.md"}
    assert linked == chapters


def test_the_chinese_readme_is_linked_and_keeps_the_readmes_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    chinese = (ROOT / "README.zh-CN.md").read_text(encoding="utf-8")
    assert "README.zh-CN.md" in "\n".join(readme.splitlines()[:5])
    for block in _code_blocks(readme):
        assert block in chinese, f"README.zh-CN.md lacks the README's block:\n{block}"
    assert re.search(r"[\u4e00-\u9fff]", chinese)


def test_the_link_script_runs_clean():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "doc_links.py")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
