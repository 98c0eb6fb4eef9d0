"""The figures the benches leave as JSON, and the one table made of them."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, ModuleType]]:
    monkeypatch.syspath_prepend(str(BENCH))
    monkeypatch.setenv("BENCH_RESULTS_DIR", str(tmp_path / "results"))
    modules = {name: importlib.import_module(name) for name in ("_results", "_summary")}
    yield modules
    for name in ("_results", "_summary"):
        sys.modules.pop(name, None)


def test_a_bench_writes_its_figures_where_the_summary_reads_them(
    bench: dict[str, ModuleType], tmp_path: Path
) -> None:
    results, summary = bench["_results"], bench["_summary"]
    path = results.write_results(
        "store_mongo",
        [
            results.Figure("ratio", 0.61, "0.61", ">= 0.50", results.at_least(0.61, 0.5)),
            results.Figure("bytes", 0.117),
        ],
    )
    assert path == tmp_path / "results" / "store_mongo.json"
    data = json.loads(path.read_text())
    assert data["figures"][0] == {
        "figure": "ratio",
        "value": 0.61,
        "display": "0.61",
        "target": ">= 0.50",
        "met": True,
    }
    assert data["figures"][1]["display"] == "0.117"
    rows, failed = summary.rows(tmp_path / "results")
    assert failed == 0
    assert ["store_mongo", "ratio", "0.61", ">= 0.50", "yes"] in rows
    assert ["store_mongo", "bytes", "0.117", "", ""] in rows


def test_missed_targets_failed_and_silent_benches_are_all_listed(
    bench: dict[str, ModuleType], tmp_path: Path
) -> None:
    results, summary = bench["_results"], bench["_summary"]
    folder = tmp_path / "results"
    results.write_results("ingest", [results.Figure("ratio", 0.4, None, ">= 50%", False)])
    results.write_results("soak", [results.Figure("p99", None, "saturated", "< 1", None)])
    (folder / "replay.failed").touch()
    (folder / "analytics.json").write_text("{not json")
    rows, failed = summary.rows(folder)
    by_bench = {row[0]: row for row in rows}
    assert by_bench["ingest"][-1] == "**no**"
    assert by_bench["soak"][-1] == "not judged"
    assert by_bench["replay"][1:] == ["(the bench failed)", "", "", "**failed**"]
    assert by_bench["analytics"][-1] == "**failed**"
    # every bench script appears, with or without figures
    assert by_bench["install_size"][1] == "no figures reported"
    assert set(summary.benches()) <= set(by_bench)
    assert failed == 2


def test_the_last_run_section_is_replaced_and_the_rest_kept(
    bench: dict[str, ModuleType], tmp_path: Path
) -> None:
    summary = bench["_summary"]
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nintro\n\n## Last run\n\nold table\n\n## Replay\n\nkept\n")
    summary.update_docs("## Last run\n\nnew table\n", doc)
    assert (
        doc.read_text()
        == "# Benchmarks\n\nintro\n\n## Last run\n\nnew table\n\n## Replay\n\nkept\n"
    )
    doc.write_text("# Benchmarks\n\nintro\n")
    summary.update_docs("## Last run\n\nnew table\n", doc)
    assert doc.read_text() == "# Benchmarks\n\nintro\n\n## Last run\n\nnew table\n"


def test_the_machine_is_named(bench: dict[str, ModuleType]) -> None:
    text = bench["_summary"].machine()
    assert "cores" in text and "Python 3." in text and "UTC" in text


WRK_OUTPUT = """Running 60s test @ http://127.0.0.1:4242/sentiero/events
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    21.03ms    5.10ms 120.00ms   90.00%
    Req/Sec     1.52k   100.00     1.80k    70.00%
  Latency Distribution
     50%   19.87ms
     75%   22.10ms
     90%   27.00ms
     99%    1.20s
  91234 requests in 60.00s, 7.00MB read
  Non-2xx or 3xx responses: 3
Requests/sec:   1520.57
Transfer/sec:    119.00KB
"""


def test_soak_reads_wrk_latency_distribution(
    monkeypatch: pytest.MonkeyPatch, bench: dict[str, ModuleType]
) -> None:
    soak = importlib.import_module("soak")
    try:
        figures = soak.parse_wrk(WRK_OUTPUT)
        assert figures["rate"] == pytest.approx(1520.57)
        assert figures["requests"] == 91234
        assert figures["failed"] == 3
        assert figures["p50"] == pytest.approx(19.87)
        assert figures["p99"] == pytest.approx(1200.0)
        with pytest.raises(RuntimeError, match="p99"):
            soak.parse_wrk(WRK_OUTPUT.replace("     99%    1.20s\n", ""))
    finally:
        for name in ("soak", "ingest", "_recording", "_load"):
            sys.modules.pop(name, None)


def test_every_bench_reports_its_figures() -> None:
    # a bench that never calls write_results shows as "no figures reported"
    silent = [
        script.name
        for script in sorted(BENCH.glob("[!_]*.py"))
        if "write_results(" not in script.read_text()
    ]
    assert silent == []
