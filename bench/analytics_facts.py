"""What the analytics collector's ``batch_facts`` costs per batch, on the
real rrweb recording (``tests/fixtures/rrweb-demo-81s.json``) cut as the
recorder flushes it, in two forms side by side:

- as recorded (an rrweb recorder without Sentiero's click names): the
  collector reads every full snapshot and every mutation's added nodes to
  name what clicks and form events hit;
- as Sentiero's recorder sends the same visit now: the snapshot and the
  mutations adding nodes carry ``"sentiero": 1``, and each click and focus
  comes with the recorder's ``sentiero:click`` / ``sentiero:field`` (named
  by the same rules), so nothing is read.

Run: ``.venv/bin/python bench/analytics_facts.py [--rounds 200]``. Not part
of the test suite; the figures are for information (no target).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from typing import Any

from _recording import load_recording, recorder_cuts, session_batches
from _results import Figure, write_results
from sentiero_analytics.facts import NAMED_MARK, TAG_CLICK, TAG_FIELD, _walk, batch_facts

from sentiero_core.store import Batch

Event = dict[str, Any]


def as_sentiero_records(events: list[Event]) -> list[Event]:
    """The visit as the current recorder would send it: marks on what adds
    nodes, and the recorder's names just before rrweb's click or focus."""
    names: dict[str, str] = {}
    out: list[Event] = []
    for original in events:
        e = copy.deepcopy(original)
        data = e.get("data") or {}
        if e["type"] == 2:
            _walk(data.get("node"), names)
            data[NAMED_MARK] = 1
        elif e["type"] == 3 and data.get("source") == 0 and data.get("adds"):
            for added in data["adds"]:
                _walk(added.get("node"), names)
            if not data.get("isAttachIframe"):
                data[NAMED_MARK] = 1
        elif e["type"] == 3 and data.get("source") == 2 and data.get("type") in (2, 5):
            sel = names.get(str(data.get("id")), "div")
            tag = TAG_CLICK if data["type"] == 2 else TAG_FIELD
            payload: dict[str, Any] = {"id": data.get("id"), "sel": sel}
            if tag == TAG_CLICK:
                payload |= {"x": 40, "y": 12, "w": 120, "h": 32}
            out.append(
                {"type": 5, "timestamp": e["timestamp"], "data": {"tag": tag, "payload": payload}}
            )
        out.append(e)
    return out


def per_batch_us(batches: list[Batch], rounds: int) -> float:
    """Median over rounds of the mean time of one ``batch_facts`` call."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for batch in batches:
            batch_facts(batch)
        times.append((time.perf_counter() - start) / len(batches))
    return statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    events = load_recording("bench/analytics_facts.py")
    plain = session_batches(recorder_cuts(events), 0)
    named = session_batches(recorder_cuts(as_sentiero_records(events)), 0)
    # alternated, so a busy moment of the machine weighs on both
    read, skipped = [], []
    for _ in range(5):
        read.append(per_batch_us(plain, args.rounds // 5))
        skipped.append(per_batch_us(named, args.rounds // 5))
    r, s = statistics.median(read), statistics.median(skipped)
    print(f"batch_facts per batch, {len(plain)} batches of a {len(events)}-event recording:")
    print(f"  as recorded by rrweb (snapshot and mutations read): {r:8.1f} us")
    print(f"  as Sentiero's recorder sends it (nothing read):      {s:8.1f} us  ({s / r:.0%})")
    write_results(
        "analytics_facts",
        [
            Figure("analytics: batch_facts, rrweb recording (us/batch)", round(r, 1)),
            Figure(
                "analytics: batch_facts, Sentiero recorder (us/batch)",
                round(s, 1),
                f"{s:.1f} ({s / r:.0%} of the rrweb recording's)",
            ),
        ],
    )


if __name__ == "__main__":
    main()
