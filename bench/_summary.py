"""One table of every figure of the last ``make bench`` beside its target.

Run by ``make bench`` after the benches (not a bench itself: its name starts
with "_"). Each bench ``bench/<name>.py`` leaves its figures in
``<results>/<name>.json`` (``bench/results/``, or the folder in
``BENCH_RESULTS_DIR``); the contract is in ``bench/_results.py`` and
bench/README.md. A bench that left no JSON is listed as "no figures
reported"; one whose run failed (``make bench`` leaves ``<name>.failed``)
as "failed". This prints the table and replaces the "Last run" section of
docs/benchmarks.md with it and the machine it ran on (``--no-docs``: print
only). Exits 1 when a bench failed (a missed target is a figure, not an
error: the table says so).

Usage: python bench/_summary.py [--no-docs]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _results import ROOT, results_dir

BENCH = ROOT / "bench"
DOCS = ROOT / "docs" / "benchmarks.md"
HEADING = "## Last run"
INTRO = (
    "Written by `make bench` (`bench/_summary.py`): every figure of the last run beside its target."
)


def benches() -> list[str]:
    return sorted(p.stem for p in BENCH.glob("[!_]*.py"))


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def rows(folder: Path) -> tuple[list[list[str]], int]:
    """The table's rows, and how many benches failed."""
    out: list[list[str]] = []
    failed = 0
    names = benches()
    # results of benches run by hand with other options (ingest_memory.json...)
    extra = sorted(p.stem for p in folder.glob("*.json") if p.stem not in names)
    for name in names + extra:
        result = folder / f"{name}.json"
        if (folder / f"{name}.failed").exists():
            out.append([name, "(the bench failed)", "", "", "**failed**"])
            failed += 1
            continue
        if not result.exists():
            out.append([name, "no figures reported", "", "", ""])
            continue
        try:
            figures = json.loads(result.read_text())["figures"]
        except (ValueError, KeyError, TypeError) as exc:
            out.append([name, f"unreadable {result.name}: {exc}", "", "", "**failed**"])
            failed += 1
            continue
        if not figures:
            out.append([name, "no figures reported", "", "", ""])
        for f in figures:
            met = f.get("met")
            shown = f.get("display")
            if shown is None:
                shown = "n/a" if f.get("value") is None else f.get("value")
            verdict = (
                ""
                if f.get("target") is None
                else {True: "yes", False: "**no**"}.get(met, "not judged")
            )
            out.append(
                [
                    name,
                    _cell(f.get("figure", "?")),
                    _cell(shown),
                    _cell(f.get("target") or ""),
                    verdict,
                ]
            )
    return out, failed


def table(body: list[list[str]]) -> str:
    head = ["Bench", "Figure", "Value", "Target", "Met"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in body]
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        info = Path("/proc/cpuinfo").read_text()
        found = re.search(r"^model name\s*:\s*(.+)$", info, re.M)
        if found:
            cpu = found.group(1).strip()
    except OSError:
        pass
    memory = "unknown memory"
    try:
        found = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
        if found:
            memory = f"{int(found.group(1)) / 1024 / 1024:.1f} GiB of memory"
    except OSError:
        pass
    load = ""
    if hasattr(os, "getloadavg"):
        load = f", load average {os.getloadavg()[0]:.1f} at the end"
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory}, Python {platform.python_version()} "
        f"({platform.system()} {platform.release()}), "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC{load}"
    )


def update_docs(section: str, path: Path = DOCS) -> None:
    """Replace the "Last run" section of ``path`` (up to the next "## "
    heading), or add it at the end."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    start = text.find(f"\n{HEADING}\n")
    if start == -1:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        rest = "" if end == -1 else text[end:]
        text = text[: start + 1] + section + rest
    path.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-docs", action="store_true", help="print the table only")
    args = parser.parse_args()
    body, failed = rows(results_dir())
    rendered = table(body)
    where = machine()
    print(rendered)
    print(f"\nmachine: {where}")
    missed = sum(row[-1] == "**no**" for row in body)
    print(f"{missed} figure(s) below target, {failed} bench(es) failed")
    if not args.no_docs:
        update_docs(f"{HEADING}\n\n{INTRO}\n\n{rendered}\n\nMachine: {where}.\n")
        print(f"written to {DOCS.relative_to(ROOT)}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
