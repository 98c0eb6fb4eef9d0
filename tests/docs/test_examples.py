"""Every ```python block of the README and docs/*.md runs, so examples cannot rot.

Each block runs in a fresh interpreter inside an empty temporary directory;
a block with a top-level ``await`` runs in an event loop. A block that
cannot run on its own carries ``<!-- example: fragment -->`` on the line
before its fence (the convention is documented in docs/index.md); those are
listed here per file, so a new one is a deliberate change of this file.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FRAGMENT_MARK = "<!-- example: fragment -->"
FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")

# Fragments allowed per file: change these numbers deliberately, never to
# silence a failing example.
EXPECTED_FRAGMENTS: dict[str, int] = {
    "docs/integrations.md": 2,  # a settings.py and an asgi.py of a Django project
    "docs/writing-a-store.md": 2,
}

# Runs the example: compiled with top-level await allowed, and awaited in a
# fresh event loop when the compiler made a coroutine of it.
RUNNER = textwrap.dedent(
    """
    import ast, asyncio, inspect, sys
    path = sys.argv[1]
    source = open(path, encoding="utf-8").read()
    code = compile(source, path, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    namespace = {"__name__": "__main__", "__file__": path}
    if code.co_flags & inspect.CO_COROUTINE:
        asyncio.run(eval(code, namespace))
    else:
        exec(code, namespace)
    """
)


@dataclass(frozen=True)
class Example:
    path: str  # relative to the repository root
    line: int  # of the opening fence, 1-based
    code: str
    fragment: bool

    @property
    def id(self) -> str:
        return f"{self.path}:{self.line}"


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def extract(path: Path, root: Path = ROOT) -> list[Example]:
    """The fenced python blocks of one Markdown file (indented ones too,
    as inside list items)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    rel = path.relative_to(root).as_posix()
    found: list[Example] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence = opening["indent"], opening["fence"]
        end = i + 1
        while end < len(lines):
            closing = FENCE.match(lines[end])
            if closing and closing["fence"].startswith(fence) and not closing["info"].strip():
                break
            end += 1
        if end == len(lines):
            raise AssertionError(f"{rel}:{i + 1}: code fence never closed")
        if opening["info"].strip().split(" ")[0] == "python":
            block = lines[i + 1 : end]
            body = [line[len(indent) :] if line.startswith(indent) else line for line in block]
            fragment = i > 0 and lines[i - 1].strip() == FRAGMENT_MARK
            found.append(Example(rel, i + 1, "\n".join(body) + "\n", fragment))
        i = end + 1
    return found


EXAMPLES = [example for path in doc_files() for example in extract(path)]
RUNNABLE = [example for example in EXAMPLES if not example.fragment]


def test_the_docs_have_examples() -> None:
    assert len(RUNNABLE) >= 8, [e.id for e in RUNNABLE]


def test_fragments_are_only_the_listed_ones() -> None:
    """Ensure that no example skips the run without this file saying so."""
    counts: dict[str, int] = {}
    for example in EXAMPLES:
        if example.fragment:
            counts[example.path] = counts.get(example.path, 0) + 1
    listed = "\n".join(f"  {e.id}" for e in EXAMPLES if e.fragment)
    assert counts == EXPECTED_FRAGMENTS, f"fragments (not run):\n{listed}"


def test_a_fragment_mark_sits_right_before_a_python_fence() -> None:
    """Ensure that a misplaced mark is not silently ignored."""
    misplaced = []
    for path in doc_files():
        lines = path.read_text(encoding="utf-8").splitlines()
        for n, line in enumerate(lines):
            if line.strip() == FRAGMENT_MARK:
                following = lines[n + 1].strip() if n + 1 < len(lines) else ""
                if not following.startswith("```python"):
                    misplaced.append(f"{path.relative_to(ROOT)}:{n + 1}")
    assert not misplaced


def test_the_extractor_reads_indented_blocks_and_marks(tmp_path: Path) -> None:
    doc = tmp_path / "probe.md"
    doc.write_text(
        "1. Step\n\n   ```python\n   x = 1\n   ```\n\n"
        f"{FRAGMENT_MARK}\n```python\ny = 2\n```\n\n```pycon\n>>> 1\n```\n"
    )
    found = [(e.line, e.code, e.fragment) for e in extract(doc, root=tmp_path)]
    assert found == [(3, "x = 1\n", False), (8, "y = 2\n", True)]


def run(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    (cwd / "example.py").write_text(code, encoding="utf-8")
    # The example sees only its own settings, never the test run's.
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTIERO_")}
    return subprocess.run(
        [sys.executable, "-c", RUNNER, str(cwd / "example.py")],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_raising_example_fails(tmp_path: Path) -> None:
    result = run("async def f():\n    raise ValueError('boom')\n\nawait f()\n", tmp_path)
    assert result.returncode != 0
    assert "ValueError: boom" in result.stderr


def test_top_level_await_runs_in_an_event_loop(tmp_path: Path) -> None:
    result = run("import asyncio\nawait asyncio.sleep(0)\nprint('done')\n", tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "done\n"


@pytest.mark.parametrize("example", RUNNABLE, ids=lambda e: e.id)
def test_example_runs(example: Example, tmp_path: Path) -> None:
    result = run(example.code, tmp_path)
    assert result.returncode == 0, (
        f"{example.id} failed:\n{example.code}\n--- stderr ---\n{result.stderr}"
    )
