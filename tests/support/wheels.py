"""Building wheels and installing them into throwaway virtual environments
with uv, as a user installing Sentiero would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

UV = Path(sys.executable).parent / "uv"


def build_wheel(source: Path, out: Path) -> Path:
    """The wheel of the distribution in ``source``, built into ``out``."""
    before = set(out.glob("*.whl"))
    subprocess.run(
        [str(UV), "build", "--wheel", "--quiet", "--out-dir", str(out), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = set(out.glob("*.whl")) - before
    return wheel


def make_venv(path: Path, *requirements: str | Path) -> Path:
    """A virtual environment at ``path`` with ``requirements`` (wheel files
    or requirement strings) installed; its Python."""
    subprocess.run([str(UV), "venv", "--quiet", "--python", sys.executable, str(path)], check=True)
    python = path / "bin/python"
    if requirements:
        install(python, *requirements)
    return python


def install(python: Path, *requirements: str | Path, replace: bool = False) -> None:
    """Install into the venv of ``python``; ``replace``: reinstall just these
    (a wheel rebuilt from changed sources), their dependencies as they are."""
    flags = ["--reinstall", "--no-deps"] if replace else []
    subprocess.run(
        [str(UV), "pip", "install", "--quiet", *flags, "--python", str(python)]
        + [str(r) for r in requirements],
        check=True,
    )
