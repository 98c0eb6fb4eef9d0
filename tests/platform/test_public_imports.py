"""Plugins import only what the docs call public.

``sentiero_core`` (the package), ``sentiero_core.store`` (for store
authors) and ``sentiero_core.testing`` (the contract suite and test
helpers) are public API; every other module may change between releases.
Our own plugins, their tests included, are held to that like anyone's.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = ROOT / "plugins"
PUBLIC_MODULES = frozenset({"sentiero_core", "sentiero_core.store", "sentiero_core.testing"})


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def private_imports(source: str) -> list[str]:
    """The ``sentiero_core`` modules ``source`` imports outside PUBLIC_MODULES."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            # ``from sentiero_core import app`` imports the module ``app``.
            modules = [node.module] + [
                f"{node.module}.{alias.name}"
                for alias in node.names
                if _is_module(f"{node.module}.{alias.name}")
            ]
        else:
            continue
        found += [
            f"line {node.lineno}: {name}"
            for name in modules
            if name.split(".")[0] == "sentiero_core" and name not in PUBLIC_MODULES
        ]
    return found


def plugin_sources() -> list[Path]:
    return sorted(p for p in PLUGINS.rglob("*.py") if ".venv" not in p.parts)


def test_the_walk_finds_the_plugins() -> None:
    names = {p.relative_to(PLUGINS).parts[0] for p in plugin_sources()}
    assert {
        "sentiero_store_sqlite",
        "sentiero_store_mongo",
        "sentiero_store_file",
        "sentiero_store_redis",
    } <= names


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from sentiero_core.store.memory import MemoryStore", ["sentiero_core.store.memory"]),
        ("import sentiero_core.app", ["sentiero_core.app"]),
        ("from sentiero_core import app, Settings", ["sentiero_core.app"]),
        (
            "from sentiero_core.store_selection import build_store",
            ["sentiero_core.store_selection"],
        ),
        ("from sentiero_core import Settings, store, testing", []),
        ("from sentiero_core.store import Store\nimport sentiero_core.testing", []),
        ("from .store import Store\nimport sentiero_corex", []),
    ],
)
def test_private_imports_are_recognised(source: str, expected: list[str]) -> None:
    assert [found.split(": ")[1] for found in private_imports(source)] == expected


def test_plugins_import_only_public_modules() -> None:
    offences = [
        f"{path.relative_to(ROOT)} {found}"
        for path in plugin_sources()
        for found in private_imports(path.read_text())
    ]
    assert not offences, (
        "plugins may import only " + ", ".join(sorted(PUBLIC_MODULES)) + ":\n" + "\n".join(offences)
    )
