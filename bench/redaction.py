"""Redaction throughput in MB/s of real events, beside a plain orjson
``loads`` + ``dumps`` of the same bytes in the same run.

The events are the rrweb recording in tests/fixtures, cut where the
recorder flushes (batches of up to 50 events). Each figure is the JSON
bytes of all batches divided by the time to take every batch from its JSON
text to the JSON text the store gets: ``orjson.loads``, then the ingest
pipeline's redaction (``sentiero_core.ingest.pipeline.redact``: the screen
of the text, the walk of the events when the screen finds something, and
``orjson.dumps``). Five cases:

- e-mail and card only (the default before the other rules), real batches;
- the default rules on the real batches (none holds a secret: the screen
  alone decides);
- the default rules with an e-mail address planted in each batch's first
  event (every batch is walked: the worst case);
- every rule on (``phone`` too), real batches, then planted.

Each case keeps its best of ``--rounds`` rounds; the rounds alternate the
cases so that a busy machine's noise is shared. Figures go to
``bench/results/redaction.json`` (or ``$BENCH_RESULTS_DIR``) in the
format bench/_results.py describes.

Usage: python bench/redaction.py [--rounds 5] [--repeat 20]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from _recording import load_recording, recorder_cuts
from _results import Figure, write_results

from sentiero_core.builtins.redaction import Redactor
from sentiero_core.builtins.redaction_patterns import ALL_BUILTINS
from sentiero_core.ingest.envelope import Envelope
from sentiero_core.ingest.pipeline import redact
from sentiero_core.settings import RedactionSettings, Settings

ROOT = Path(__file__).resolve().parent.parent
PLANTED = "write to jane.doe@mail.example.com"


def planted(batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    first = {**batch[0], "sentiero_bench": PLANTED}
    return [first, *batch[1:]]


def case(bodies: list[bytes], settings: Settings | None) -> Callable[[], None]:
    """One pass over ``bodies``: loads + dumps (``settings`` None), or loads
    + the pipeline's redaction with ``settings``' rules."""
    if settings is None:

        def bare() -> None:
            for body in bodies:
                orjson.dumps(orjson.loads(body))

        return bare
    rules = [Redactor(settings.redaction)]

    def redacting() -> None:
        for body in bodies:
            redact(rules, Envelope("bench-session", "w1", orjson.loads(body)), settings)

    return redacting


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=20, help="passes over the batches a round")
    args = parser.parse_args()

    batches = recorder_cuts(load_recording("bench/redaction.py"))
    real = [orjson.dumps(b) for b in batches]
    seeded = [orjson.dumps(planted(b)) for b in batches]
    default = Settings()
    every = Settings(redaction=RedactionSettings(builtin_patterns=list(ALL_BUILTINS)))
    earlier = Settings(redaction=RedactionSettings(builtin_patterns=["email", "card"]))
    cases: dict[str, tuple[list[bytes], Callable[[], None]]] = {
        "orjson loads + dumps": (real, case(real, None)),
        "e-mail and card only (earlier default)": (real, case(real, earlier)),
        "default rules": (real, case(real, default)),
        "default rules, every batch walked": (seeded, case(seeded, default)),
        "every rule": (real, case(real, every)),
        "every rule, every batch walked": (seeded, case(seeded, every)),
    }
    best: dict[str, float] = {name: 0.0 for name in cases}
    for _ in range(args.rounds):
        for name, (bodies, run) in cases.items():
            size = sum(len(b) for b in bodies) * args.repeat
            start = time.perf_counter()
            for _ in range(args.repeat):
                run()
            best[name] = max(best[name], size / (time.perf_counter() - start) / 1e6)

    total = sum(len(b) for b in real)
    print(f"{len(real)} batches, {total / 1e3:.0f} kB of JSON; best of {args.rounds} rounds")
    bare = best["orjson loads + dumps"]
    for name, mbps in best.items():
        print(f"  {name:<40} {mbps:8.1f} MB/s  {mbps / bare:6.0%} of orjson")
    write_results(
        "redaction",
        [
            Figure(
                f"redaction: {name} (MB/s)",
                round(mbps, 1),
                f"{mbps:.1f} MB/s ({mbps / bare:.0%} of orjson)",
            )
            for name, mbps in best.items()
        ],
    )


if __name__ == "__main__":
    main()
