"""Every hook is tested, documented in its docstring and in docs/writing-a-plugin.md."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from sentiero_core import hookspecs

ROOT = Path(__file__).resolve().parents[2]
HOOKS = sorted(
    name
    for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
    if hasattr(fn, "sentiero_spec")
)


def _test_sources() -> str:
    files = list((ROOT / "tests").rglob("test_*.py")) + list((ROOT / "plugins").rglob("test_*.py"))
    return "\n".join(f.read_text() for f in files)


def test_there_are_hooks() -> None:
    assert len(HOOKS) >= 10


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_test(hook: str) -> None:
    assert re.search(rf"def test_hook_{hook}\b", _test_sources()), f"no test_hook_{hook}"


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_has_a_docstring_saying_when_and_what(hook: str) -> None:
    doc = inspect.getdoc(getattr(hookspecs, hook)) or ""
    assert "called" in doc.lower() or "notification" in doc.lower()
    assert "return" in doc.lower()


@pytest.mark.parametrize("hook", HOOKS)
def test_every_hook_signature_is_in_the_plugin_guide(hook: str) -> None:
    params = ", ".join(inspect.signature(getattr(hookspecs, hook)).parameters)
    assert f"`{hook}({params})`" in (ROOT / "docs" / "writing-a-plugin.md").read_text()
