"""Properties of the pattern rules (sentiero_core.builtins.redaction_patterns)
with every rule on: the screen of a batch's JSON text never skips a batch
holding something a rule would change, whatever escapes stand next to it,
and the walk always writes valid JSON. Strings are built from pieces of
every shape the rules look for, so that hypothesis often comes close to,
or onto, a match."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from sentiero_core.builtins.redaction import Redactor
from sentiero_core.builtins.redaction_patterns import ALL_BUILTINS
from sentiero_core.ingest.envelope import Envelope
from sentiero_core.ingest.pipeline import redact
from sentiero_core.settings import RedactionSettings, Settings
from tests.ingest.test_properties_redaction import strings

SETTINGS = Settings(redaction=RedactionSettings(builtin_patterns=list(ALL_BUILTINS)))
ALL = Redactor(SETTINGS.redaction)

PIECES = [
    "Bearer ",
    "bearer  ",
    "abcdef123456",
    "eyJhbGciOi",
    "eyJzdWIi",
    ".",
    "-",
    "_",
    "AKIA",
    "IOSFODNN7EXAMPLE",
    "ghp_",
    "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
    "sk_live_",
    "xoxb-",
    "hooks.slack.com/services/",
    "api_key",
    "apiKey",
    "password",
    "=",
    ":",
    " ",
    '"',
    "'",
    "\\",
    "\n",
    "\x01",
    "\u2028",
    "é",
    "DE89",
    " 3704",
    "0044",
    " 0532",
    "0130",
    "00",
    "GB82WEST",
    "12345698765432",
    "+44",
    " 20",
    "7946",
    "0958",
    "(555)",
    " 123-4567",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----END RSA PRIVATE KEY-----",
    "MIIE",
    "4111",
    " 1111",
    "@",
    "x.io",
    "?",
    "&",
    "token",
]
texts = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)
trees = st.recursive(
    st.one_of(texts, st.integers(-(2**53), 2**53), st.none()),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(texts, inner, max_size=4)),
    max_leaves=12,
)
event_lists = st.lists(
    st.fixed_dictionaries({"type": st.integers(0, 7), "timestamp": st.integers(0, 2**53)}).flatmap(
        lambda head: st.dictionaries(texts, trees, max_size=3).map(lambda rest: {**rest, **head})
    ),
    min_size=1,
    max_size=4,
)


@given(event_lists)
def test_screening_never_skips_a_batch_a_rule_would_change(events: list[dict[str, Any]]) -> None:
    changing = [s for s in strings(events) if ALL.redact_text(s) != s]
    if changing:
        assert ALL.might_match(orjson.dumps(events)), changing


@given(texts)
def test_one_string_is_screened_exactly_like_its_batch(text: str) -> None:
    if ALL.redact_text(text) != text:
        assert ALL.might_match(orjson.dumps([{"type": 5, "data": {"x": text}}])), text


@given(event_lists)
def test_the_walk_writes_valid_json(events: list[dict[str, Any]]) -> None:
    out, encoded = redact([ALL], Envelope("sess_0123456789", "win_0123456789", events), SETTINGS)
    assert orjson.loads(encoded) == out
