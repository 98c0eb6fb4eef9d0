"""Properties of the built-in redaction (sentiero_core.builtins.redaction)
as the ingest pipeline runs it (screening the JSON text first, then walking
the events): it terminates on any event tree, never raises on one that is
valid JSON, writes valid JSON, removes every e-mail address and Luhn-valid
card number planted in any string (keys too), and leaves a batch with
nothing to redact exactly as it was."""

from __future__ import annotations

import copy
import time
from typing import Any

import orjson
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from sentiero_core.builtins.redaction import Redactor, luhn_valid
from sentiero_core.ingest.envelope import Envelope
from sentiero_core.ingest.errors import IngestError
from sentiero_core.ingest.pipeline import redact
from sentiero_core.settings import RedactionSettings, Settings

SETTINGS = Settings()
REDACTOR = Redactor(SETTINGS.redaction)
REPLACEMENT = SETTINGS.redaction.replacement

# Text rich in what the detectors look at: name characters, "@", dots,
# digits and both card separators, query syntax, JSON's escaped characters
# and some non-ASCII.
ALPHABET = 'ab.Z09-_+%@ ?&#=/\\"\n\x00\x19é中\u2028'
texts = st.one_of(st.text(ALPHABET, max_size=40), st.text(max_size=20))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)
trees = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.dictionaries(texts, inner, max_size=5)),
    max_leaves=30,
)
event_lists = st.lists(
    st.fixed_dictionaries({"type": st.integers(0, 7), "timestamp": st.integers(0, 2**53)}).flatmap(
        lambda head: st.dictionaries(texts, trees, max_size=4).map(lambda rest: {**rest, **head})
    ),
    min_size=1,
    max_size=5,
)


def run(events: list[dict[str, Any]], redactor: Redactor = REDACTOR) -> tuple[list[Any], bytes]:
    envelope = Envelope("sess_0123456789", "win_0123456789", events)
    return redact([redactor], envelope, SETTINGS)


def strings(node: Any) -> list[str]:
    """Every string in ``node``, keys included."""
    found: list[str] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            found.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return found


@given(event_lists)
def test_any_event_tree_gives_valid_json_matching_the_events(events: list[dict[str, Any]]) -> None:
    out, encoded = run(events)
    assert orjson.loads(encoded) == out
    assert len(out) == len(events)


@given(event_lists)
def test_redaction_is_idempotent(events: list[dict[str, Any]]) -> None:
    """What comes out holds nothing the redactor would change again."""
    out, _ = run(events)
    for text in strings(out):
        assert REDACTOR.redact_text(text) == text, text


@given(event_lists)
def test_a_batch_with_nothing_to_redact_is_unchanged(events: list[dict[str, Any]]) -> None:
    assume(all(REDACTOR.redact_text(s) == s for s in strings(events)))
    before = copy.deepcopy(events)
    out, encoded = run(events)
    assert out == before
    assert encoded == orjson.dumps(before)


@given(event_lists)
def test_screening_never_skips_a_batch_that_needs_redaction(events: list[dict[str, Any]]) -> None:
    needs = any(REDACTOR.redact_text(s) != s for s in strings(events))
    if needs:
        assert REDACTOR.might_match(orjson.dumps(events))


# -- planted secrets ----------------------------------------------------------

local_parts = st.from_regex(r"[a-z0-9][a-z0-9._%+-]{0,15}", fullmatch=True)
domains = st.from_regex(r"([a-z0-9-]{1,10}\.){1,3}[a-z]{2,6}", fullmatch=True)
emails = st.builds(lambda local, domain: f"{local}@{domain}", local_parts, domains)


@st.composite
def cards(draw: st.DrawFn) -> str:
    """A Luhn-valid number of a major network, unbroken or grouped."""
    length = draw(st.sampled_from([13, 15, 16, 19]))
    body = str(draw(st.integers(2, 6))) + "".join(
        draw(st.lists(st.sampled_from("0123456789"), min_size=length - 2, max_size=length - 2))
    )
    check = next(d for d in "0123456789" if luhn_valid(body + d))
    number = body + check
    sep = draw(st.sampled_from(["", " ", "-"]))
    if sep and length in (16, 19):
        groups = [number[i : i + 4] for i in range(0, 16, 4)]
        if length == 19:
            groups.append(number[16:])
        return sep.join(groups)
    return number


secrets = st.one_of(emails, cards())
EMAILS_AND_CARDS = ["jane.doe@shop.example", "4111 1111 1111 1111", "5555555555554444"]
# What may stand next to a secret in ordinary text: a boundary character,
# then anything. A letter or digit glued to it makes another word, and a
# number after a dot is a version, not a card; but what follows may run on
# with "-", "." or "_" ("jane@shop.com--", "4111-1111-1111-1111-123").
EDGES = [" ", "\n", "\t", ",", ";", ":", "(", ")", "<", ">", "'", '"', "/", "|", "!", "-"]
left_edges = st.sampled_from(EDGES)
right_edges = st.sampled_from([*EDGES, ".", "_", "--", ". "])


@st.composite
def planted(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[str]]:
    """Events with secrets put into random strings (values and keys)."""
    events = draw(event_lists)
    planted_secrets: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        secret = draw(secrets)
        before, after = draw(texts), draw(texts)
        text = f"{before}{draw(left_edges)}{secret}{draw(right_edges)}{after}"
        event = draw(st.sampled_from(events))
        target: Any = event
        # descend a random path into the event, then put the text there
        for _ in range(draw(st.integers(0, 4))):
            children = [
                v
                for v in (target.values() if isinstance(target, dict) else target)
                if isinstance(v, dict | list)
            ]
            if not children:
                break
            target = draw(st.sampled_from(children))
        if isinstance(target, list):
            target.append(text)
        elif draw(st.booleans()):
            target[text] = draw(scalars)
        else:
            target[draw(texts)] = text
        planted_secrets.append(secret)
    return events, planted_secrets


@given(planted())
def test_planted_emails_and_cards_are_gone(case: tuple[list[dict[str, Any]], list[str]]) -> None:
    events, planted_secrets = case
    out, encoded = run(events)
    assert orjson.loads(encoded) == out
    found = strings(out)
    for secret in planted_secrets:
        assert not any(secret in text for text in found), secret


@given(planted(), st.sampled_from(["keep", "strip", "redact_values"]), st.text(max_size=12))
def test_planted_secrets_are_gone_under_every_url_mode_and_replacement(
    case: tuple[list[dict[str, Any]], list[str]], url_mode: str, replacement: str
) -> None:
    events, planted_secrets = case
    redactor = Redactor(RedactionSettings(url_mode=url_mode, replacement=replacement))
    # a replacement that is itself a secret's substring cannot be told apart
    assume(not any(replacement and replacement in s for s in planted_secrets))
    try:
        out, encoded = run(events, redactor)
    except IngestError as exc:  # only ever for nesting orjson cannot write
        assert exc.status == 422
        return
    assert orjson.loads(encoded) == out
    found = strings(out)
    for secret in planted_secrets:
        assert not any(secret in text for text in found), secret


# -- adversarial text -----------------------------------------------------------

N = 200_000
ADVERSARIAL = {
    "digits": "4" * N,
    "grouped digits": "2024 " * (N // 5),
    "dashed groups": "4111-" * (N // 5),
    "at signs": "a@" * (N // 2),
    "one long name": "a" * N + "@shop.example",
    "single-letter labels": "jane@" + "b." * (N // 2),
    "digit labels": "jane@" + "1." * (N // 2),
    "queries": "?token=a&" * (N // 9),
    "escapes": "\x19" * N + "4111111111111111",
}


@pytest.mark.parametrize("name", ADVERSARIAL)
def test_adversarial_text_takes_linear_time(name: str) -> None:
    """200 KB built to make a detector backtrack or rescan: seconds would
    mean quadratic work (minutes at this size), not a slow machine."""
    text = ADVERSARIAL[name]
    raw = orjson.dumps([text])
    started = time.perf_counter()
    REDACTOR.might_match(raw)
    REDACTOR.walk([text])
    assert time.perf_counter() - started < 5.0


@given(st.integers(1, 1200), st.sampled_from(EMAILS_AND_CARDS))
def test_deep_nesting_is_redacted_or_refused(depth: int, secret: str) -> None:
    """The walk is iterative: any depth a JSON body may carry (orjson reads
    1,024 levels) is redacted without recursion; past what orjson writes
    (254) the batch is refused as too deeply nested, never a crash."""
    tree: Any = f"see {secret} here"
    for _ in range(depth):
        tree = {"k": [tree]}
    try:
        _out, encoded = run([{"type": 5, "timestamp": 1, "data": tree}])
    except IngestError as exc:
        assert exc.status == 422 and "nested" in exc.reason
        assert depth * 2 > 250
    else:
        assert secret not in encoded.decode()
