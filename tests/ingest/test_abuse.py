"""The memory-amplification attack over real HTTP against ``sentiero serve``:
several clients post 90 KB gzip bodies inflating to 26.1 MB of valid events
while a normal client keeps recording. The server's memory stays bounded,
comes back afterwards, and the normal client's batches are all stored.
(Latency under attack is a figure of ``bench/ingest_abuse.py``.)"""

from __future__ import annotations

from pathlib import Path

from tests.support.abuse import run, sentiero_serve, warm_up

MB = 1024 * 1024
#: The documented bound (docs/operations.md): peak RSS above idle.
PEAK_BOUND = 300 * MB
#: What may stay held once the attack is over.
AFTER_BOUND = 60 * MB


def test_attack_leaves_memory_bounded_and_normal_batches_stored(tmp_path: Path) -> None:
    with sentiero_serve(tmp_path / "abuse.db") as (pid, base):
        warm_up(base)
        figures = run(pid, base, attackers=4, seconds=6, settle=2)
    attacks = sum(figures.attack_statuses.values())
    assert attacks >= 8, figures.attack_statuses  # the attack really ran
    # every attack request is refused, none stored, none a server error
    assert set(figures.attack_statuses) <= {413, 503}, figures.attack_statuses
    assert figures.peak_rss - figures.idle_rss < PEAK_BOUND, figures
    assert figures.after_rss - figures.idle_rss < AFTER_BOUND, figures
    assert figures.normal_latencies, "the normal client sent nothing"
    assert set(figures.normal_statuses) == {204}, figures.normal_statuses
