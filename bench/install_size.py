"""Installed size of core + SQLite: what ``pip install sentiero-core
sentiero-store-sqlite`` adds to an empty virtual environment.

Builds the two wheels from this checkout, installs them with their
dependencies into a temporary venv (uv, from the package index, compiling
bytecode as pip does), then prints the size of its site-packages folder and
of the files each installed distribution lists in its RECORD (bytecode
aside), largest first. The venv starts empty: no pip or setuptools.

Run: ``.venv/bin/python bench/install_size.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from _results import Figure, write_results

ROOT = Path(__file__).resolve().parent.parent
UV = Path(sys.executable).parent / "uv"
SOURCES = [ROOT, ROOT / "plugins" / "sentiero_store_sqlite"]

# Run inside the new venv: every installed distribution and the bytes of the
# files its RECORD lists (a distribution's size as pip would uninstall it).
MEASURE = """
import json, sysconfig, importlib.metadata as md
from pathlib import Path
site = Path(sysconfig.get_paths()["purelib"])
sizes = {"": sum(p.stat().st_size for p in site.rglob("*") if p.is_file())}
for dist in md.distributions():
    total = 0
    for f in dist.files or ():
        p = f.locate()
        if p.is_file():
            total += p.stat().st_size
    sizes[dist.metadata["Name"]] = total
print(json.dumps(sizes))
"""


def run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"install_size: {' '.join(args[:3])} ... failed:\n{done.stderr}")
    return done.stdout


def measure(work: Path) -> dict[str, int]:
    wheels = work / "wheels"
    for source in SOURCES:
        run(str(UV), "build", "--wheel", "--quiet", "--out-dir", str(wheels), str(source))
    venv = work / "venv"
    run(str(UV), "venv", "--quiet", "--python", sys.executable, str(venv))
    python = str(venv / "bin" / "python")
    run(
        *(str(UV), "pip", "install", "--quiet", "--compile-bytecode", "--python", python),
        *map(str, wheels.glob("*.whl")),
    )
    sizes: dict[str, int] = json.loads(run(python, "-c", MEASURE))
    return sizes


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="sentiero-size-") as tmp:
        sizes = measure(Path(tmp))
    on_disk = sizes.pop("")
    print(
        f"core + SQLite installed: {on_disk / 1e6:.1f} MB in site-packages "
        f"({sum(sizes.values()) / 1e6:.1f} MB without bytecode), {len(sizes)} distributions"
    )
    for name, size in sorted(sizes.items(), key=lambda kv: -kv[1]):
        print(f"  {name:28s} {size / 1e6:6.2f} MB")
    write_results(
        "install_size",
        [
            Figure(
                "install size, core + SQLite (MB)",
                round(on_disk / 1e6, 1),
                f"{on_disk / 1e6:.1f} MB, {len(sizes)} distributions",
            )
        ],
    )


if __name__ == "__main__":
    main()
