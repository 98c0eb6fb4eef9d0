"""What plugin authors import is public: exported from ``sentiero_core`` (or
one of the public modules) and documented, and the docs import nothing else."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import sentiero_core

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
#: ``sentiero_core`` itself, the store author's module and the contract suite
PUBLIC_MODULES = {"sentiero_core", "sentiero_core.store", "sentiero_core.testing"}
IMPORT = re.compile(
    r"^\s*(?:from\s+(sentiero_core[\w.]*)\s+import|import\s+(sentiero_core[\w.]*))", re.M
)
GUIDE = ROOT / "docs" / "writing-a-plugin.md"


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_the_docs_import_only_public_modules(path: Path) -> None:
    modules = {a or b for a, b in IMPORT.findall(path.read_text())}
    assert modules <= PUBLIC_MODULES, sorted(modules - PUBLIC_MODULES)


def test_every_public_name_exists() -> None:
    missing = [name for name in sentiero_core.__all__ if not hasattr(sentiero_core, name)]
    assert not missing


def test_the_plugin_guide_lists_every_public_name() -> None:
    section = GUIDE.read_text().split("## What is public API", 1)[1]
    listed = set(re.findall(r"`(\w+)`", section))
    assert set(sentiero_core.__all__) <= listed, sorted(set(sentiero_core.__all__) - listed)


def test_the_plugin_api_is_importable_from_the_package() -> None:
    from sentiero_core import (  # noqa: F401
        Analyzer,
        Panel,
        RedactionContext,
        RedactionRule,
        Route,
        ScreeningRule,
        Sentiero,
        StoreFactory,
        await_me_maybe,
        get_state,
        hookimpl,
        render,
    )
