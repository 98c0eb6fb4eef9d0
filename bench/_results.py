"""Where a bench leaves its figures for ``bench/_summary.py``. (Not a bench:
``make bench`` runs only the scripts whose names do not start with "_".)

The contract, for any bench (the file can be written without this module):
``bench/results/<name>.json``, or the path in ``BENCH_RESULTS_DIR``
(a directory; not a ``SENTIERO_`` variable, which ``sentiero serve`` would
refuse as an unknown setting) joined with ``<name>.json``, holding::

    {"bench": "store_mongo",
     "figures": [
        {"figure": "store / insert_one baseline", "value": 0.61,
         "display": "0.61", "target": ">= 0.50", "met": true},
        {"figure": "stored / raw JSON bytes", "value": 0.117,
         "display": "0.117", "target": null, "met": null}
     ]}

``figure`` names it, ``value`` is a number (or null), ``display`` the text
shown (defaults to ``value``), ``target`` the text of its target (null: a
figure with no target, shown for information) and ``met`` true, false or
null (no target, or a run that could not judge, such as a saturated load
client). A bench that writes nothing is listed as "no figures reported".
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT / "bench" / "results"


@dataclass
class Figure:
    figure: str
    value: float | None
    display: str | None = None
    target: str | None = None
    met: bool | None = None


def results_dir() -> Path:
    return Path(os.environ.get("BENCH_RESULTS_DIR") or DEFAULT_DIR)


def write_results(bench: str, figures: list[Figure]) -> Path:
    """Write ``bench``'s figures where ``_summary.py`` reads them; returns the path."""
    folder = results_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{bench}.json"
    rows: list[dict[str, Any]] = []
    for f in figures:
        row = asdict(f)
        if row["display"] is None:
            row["display"] = "n/a" if f.value is None else f"{f.value:g}"
        rows.append(row)
    path.write_text(json.dumps({"bench": bench, "figures": rows}, indent=1) + "\n")
    return path


def at_least(value: float | None, target: float) -> bool | None:
    return None if value is None else value >= target


def below(value: float | None, target: float) -> bool | None:
    return None if value is None else value < target
