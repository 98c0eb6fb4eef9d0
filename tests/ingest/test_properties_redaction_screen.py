"""Properties of the first look the redaction screen takes at a batch's
JSON text (``PatternRule.could_match``, the card candidates, ``Anchors``):
it may only rule out what the exact screen behind it would find nothing
in. A batch it passes costs the exact screen; a batch it wrongly ruled out
would be stored unredacted, so each of its shortcuts is checked against
the slower search it stands for, on text built from the pieces those
shortcuts look for (digit groups, timestamps, capitals, ``_``, escapes)."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import example, given
from hypothesis import strategies as st

from sentiero_core.builtins.redaction import Redactor, _might_hold_card, _raw_has_card
from sentiero_core.builtins.redaction_patterns import ALL_BUILTINS, MAX_RUNS, Anchors, Text
from sentiero_core.settings import RedactionSettings
from tests.ingest.test_properties_redaction import strings

ALL = Redactor(RedactionSettings(builtin_patterns=list(ALL_BUILTINS)))

PIECES = [
    "4111",
    " 1111",
    "-1111",
    "1111",
    "0000",
    "12",
    "822463",
    "-10005",
    "5555555555554444",
    "1792 1792",
    "0 0 ",
    ",",
    '"timestamp":1',
    "timestamp",
    '":',
    "1544756766750",
    "2024 ",
    ".",
    " ",
    "-",
    "_",
    "A",
    "Z",
    "I",
    "DE89",
    " 3704",
    "0044",
    "GB82WEST",
    "AKIA",
    "IOSFODNN7EXAMPLE",
    "eyJ",
    "hbGciOi",
    "ghp_",
    "github_pat_",
    "sk_live_",
    "rk_test_",
    "whsec_",
    "xoxb-",
    "hooks.slack.com/services/",
    "PRIVATE KEY-----",
    "-----BEGIN RSA ",
    "Bearer ",
    "bEaReR  ",
    "abcdef123456",
    "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
    "\\",
    '"',
    "\n",
    "\x01",
    "\x19",
    "u0019",
    "é",
]
texts = st.lists(st.sampled_from(PIECES), max_size=16).map("".join)
event_lists = st.lists(
    st.fixed_dictionaries(
        {
            "type": st.integers(0, 7),
            "timestamp": st.one_of(st.integers(0, 2**53), st.integers(10**12, 2 * 10**12)),
            "data": st.dictionaries(
                texts, st.one_of(texts, st.integers(-(2**53), 2**53), st.lists(texts))
            ),
        }
    ),
    min_size=1,
    max_size=4,
)


@given(event_lists)
@example([{"type": 5, "timestamp": 1, "data": {"a": "\u0019" + "4111 1111 1111 1111"}}])
@example([{"type": 5, "timestamp": 1, "data": {'"timestamp":': "4111111111111111"}}])
@example([{"type": 5, "timestamp": 1, "data": {"x": "3782-822463-10005"}}])
@example([{"type": 5, "timestamp": 1, "data": {"x": "github_pat_" + "A1b2C3d4E5" * 3}}])
@example([{"type": 5, "timestamp": 1, "data": {"x": "GB82WEST12345698765432"}}])
@example([{"type": 5, "timestamp": 1, "data": {"x": "DE89 3704 0044 0532 0130 00"}}])
@example([{"type": 5, "timestamp": 1, "data": {"x": "NO9386011117947"}}])  # the shortest
# more long runs than are looked at one by one (an SVG's numbers), then a card
@example(
    [
        {
            "type": 5,
            "timestamp": 1,
            "data": {"d": "0 0 1792 1792," * (MAX_RUNS + 1) + "4111 1111 1111 1111"},
        }
    ]
)
def test_the_first_look_rules_out_only_what_the_exact_screen_would(
    events: list[dict[str, Any]],
) -> None:
    raw = orjson.dumps(events)
    if _raw_has_card(raw):
        assert _might_hold_card(Text(raw))
    for rule in ALL.patterns:
        if rule.found_in(Text(raw)):
            assert rule.could_match(Text(raw)), rule.name
    for string in strings(events):
        for rule in ALL.patterns:
            if rule.spans(string, string.lower()):
                assert rule.could_match(Text(raw)), (rule.name, string)


LITERALS = (b"AKIA", b"ASIA", b"ghp_", b"github_pat_", b"k_live_", b"xox", b"hooks.slack.com")
haystacks = st.lists(
    st.sampled_from([b"_", b"A", b"AK", b"I", b"gh", b"p", b"github", b"pat", b"k", b"live", b"x"]),
    max_size=400,
).map(b"".join)


@given(haystacks)
@example(b"_" * 40 + b"ghp_")
@example(b"A" * 40 + b"AKIA")
@example(b"AKI" * 40 + b"A")
def test_anchors_are_found_exactly_where_they_are(haystack: bytes) -> None:
    """Many places of a rare byte make the search give up on them and look
    for the literals themselves: the answer must not change."""
    for count in range(1, len(LITERALS) + 1):
        literals = LITERALS[:count]
        assert Anchors(literals).found_in(haystack) == any(lit in haystack for lit in literals)
