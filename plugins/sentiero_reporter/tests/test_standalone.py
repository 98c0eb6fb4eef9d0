"""The client needs nothing beyond the standard library; the server half says what it needs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

PLUGIN_ROOT = Path(__file__).resolve().parents[1]


def run(code: str) -> subprocess.CompletedProcess[str]:
    # -I -S: no site-packages, no user site, no PYTHONPATH: the standard library alone.
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", textwrap.dedent(code), str(PLUGIN_ROOT)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_client_imports_and_works_with_the_standard_library_alone() -> None:
    result = run(
        """
        import sys
        sys.path.insert(0, sys.argv[1])
        import sentiero_reporter
        with sentiero_reporter.capture_notifications() as sent:
            sentiero_reporter.notify(ValueError("x"))
            sentiero_reporter.track("t")
        assert [k for k, _ in sent] == ["errors", "events"], sent
        outside = sorted(
            name for name in sys.modules
            if name.split(".")[0] not in sys.stdlib_module_names
            and name.split(".")[0] != "sentiero_reporter"
            and name != "__main__"
            and not name.startswith("_sysconfigdata")
        )
        print(outside)
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_server_half_without_sentiero_core_names_the_extra() -> None:
    result = run(
        """
        import sys
        sys.path.insert(0, sys.argv[1])
        import sentiero_reporter.server
        """
    )
    assert result.returncode != 0
    assert "sentiero-reporter[server]" in result.stderr
    assert "needs sentiero-core" in result.stderr


def test_the_distribution_has_no_base_dependencies() -> None:
    import tomllib

    meta = tomllib.loads((PLUGIN_ROOT / "pyproject.toml").read_text())["project"]
    assert meta["dependencies"] == []
    assert any(dep.startswith("sentiero-core") for dep in meta["optional-dependencies"]["server"])
