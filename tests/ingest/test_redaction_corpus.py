"""The redaction corpus (tests/fixtures/redaction-corpus.json): strings each
rule must redact, and strings no rule may touch (order numbers, dates,
versions, SVG paths, UUIDs, colours, phone-like IDs, prices, ISBNs...).

Prints the false negatives and false positives with the default rules and
with every rule on. Targets: no false negative for an enabled rule, and no
more false positives than docs/privacy.md states (the numbers below)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from sentiero_core.builtins.redaction import Redactor
from sentiero_core.builtins.redaction_patterns import ALL_BUILTINS, DEFAULT_BUILTINS
from sentiero_core.settings import RedactionSettings

CORPUS_FILE = Path(__file__).parents[1] / "fixtures" / "redaction-corpus.json"
CORPUS: dict[str, Any] = json.loads(CORPUS_FILE.read_text())

# The false positives docs/privacy.md documents ("Redaction corpus").
MAX_FALSE_POSITIVES = {"default": 1, "all": 2}
RULE_SETS = {"default": list(DEFAULT_BUILTINS), "all": list(ALL_BUILTINS)}


def score(rules: list[str]) -> tuple[list[str], list[str]]:
    """The false negatives (``rule: text``) and false positives
    (``category: text``) of a redactor with ``rules`` on and URL queries
    kept as they are."""
    redactor = Redactor(RedactionSettings(builtin_patterns=rules, query_denylist=[]))
    negatives = []
    for rule, items in CORPUS["redact"].items():
        if rule not in rules:
            continue
        for item in items:
            out = redactor.redact_text(item["text"])
            screened = redactor.might_match(orjson.dumps([item["text"]]))
            if item["secret"] in out or not screened:
                negatives.append(f"{rule}: {item['text']!r} -> {out!r}")
    positives = []
    for category, texts in CORPUS["keep"].items():
        for text in texts:
            out = redactor.redact_text(text)
            if out != text:
                positives.append(f"{category}: {text!r} -> {out!r}")
    return negatives, positives


def test_the_corpus_is_a_few_hundred_strings_of_every_kind() -> None:
    must = sum(len(items) for items in CORPUS["redact"].values())
    must_not = sum(len(texts) for texts in CORPUS["keep"].values())
    assert must >= 100 and must_not >= 150
    assert set(CORPUS["redact"]) == set(ALL_BUILTINS)
    for category in ("order_numbers", "dates_times", "versions", "svg_paths", "uuids_hashes"):
        assert CORPUS["keep"][category]
    for items in CORPUS["redact"].values():
        for item in items:
            assert item["secret"] in item["text"]


@pytest.mark.parametrize("name", list(RULE_SETS))
def test_corpus_false_negatives_and_positives(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    negatives, positives = score(RULE_SETS[name])
    must = sum(len(CORPUS["redact"][r]) for r in RULE_SETS[name])
    must_not = sum(len(texts) for texts in CORPUS["keep"].values())
    with capsys.disabled():
        print(
            f"\nredaction corpus, {name} rules: {len(negatives)} false negatives of {must}, "
            f"{len(positives)} false positives of {must_not}"
        )
        for line in negatives + positives:
            print("  ", line)
    assert negatives == []
    assert len(positives) <= MAX_FALSE_POSITIVES[name], positives
