"""Built-in redaction (sentiero_core.builtins.redaction): what it replaces,
what it leaves alone, and that its raw-body screening never skips a batch
that holds something to redact."""

from __future__ import annotations

import random
import time
from typing import Any

import orjson
import pytest

from sentiero_core.builtins.redaction import Redactor, luhn_valid
from sentiero_core.settings import RedactionSettings, SettingsError
from tests.dashboard.recordings import DEMO_FIXTURE
from tests.ingest.helpers import SESSION, body, envelope, meta_event, running

R = "[redacted]"
EMAIL = "jane.doe+shop@mail.example.co.uk"
VISA = "4111 1111 1111 1111"
MASTERCARD = "5555555555554444"
AMEX = "3782-822463-10005"
NOT_LUHN = "4111 1111 1111 1112"


def redactor(**options: Any) -> Redactor:
    return Redactor(RedactionSettings(**options))


def text_node(text: str) -> dict[str, Any]:
    return {
        "type": 2,
        "timestamp": 1_700_000_000_001,
        "data": {
            "node": {
                "type": 0,
                "id": 1,
                "childNodes": [
                    {
                        "type": 2,
                        "tagName": "p",
                        "id": 2,
                        "attributes": {},
                        "childNodes": [{"type": 3, "id": 3, "textContent": text}],
                    }
                ],
            }
        },
    }


def attribute(name: str, value: str) -> dict[str, Any]:
    return {
        "type": 3,
        "timestamp": 1_700_000_000_002,
        "data": {
            "source": 0,
            "texts": [],
            "removes": [],
            "adds": [],
            "attributes": [{"id": 5, "attributes": {name: value}}],
        },
    }


def input_value(text: str) -> dict[str, Any]:
    return {
        "type": 3,
        "timestamp": 1_700_000_000_003,
        "data": {"source": 5, "id": 9, "text": text, "isChecked": False},
    }


def console(message: str) -> dict[str, Any]:
    return {
        "type": 6,
        "timestamp": 1_700_000_000_004,
        "data": {
            "plugin": "rrweb/console@1",
            "payload": {"level": "log", "payload": [orjson.dumps(message).decode()], "trace": []},
        },
    }


def custom(properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": 5,
        "timestamp": 1_700_000_000_005,
        "data": {
            "tag": "sentiero:custom",
            "payload": {"name": "checkout", "properties": properties},
        },
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Write to {EMAIL}.", f"Write to {R}."),
        (f"<{EMAIL}>", f"<{R}>"),
        ("a@b.io and c.d@e.fr", f"{R} and {R}"),
        (f"card {VISA} ok", f"card {R} ok"),
        (f"{MASTERCARD}", R),
        (f"amex:{AMEX}", f"amex:{R}"),
        ("4242-4242-4242-4242", R),
        (NOT_LUHN, NOT_LUHN),
        ("@media print { a { color: red } }", "@media print { a { color: red } }"),
        ("user@localhost", "user@localhost"),
        ("ts 1700000000000 id 1234567812345670", "ts 1700000000000 id 1234567812345670"),
        ("M 4111 1111 1111 1111 12/29", f"M {R} 12/29"),
        ("M 10 20 L 411 1111 1111 11113", "M 10 20 L 411 1111 1111 11113"),
        ("v0.4111111111111111", "v0.4111111111111111"),
        ("41111111111111111111", "41111111111111111111"),
        ("4111 1111-1111 1111", "4111 1111-1111 1111"),
        # found by tests/ingest/test_properties_redaction.py
        ("write to jane@mail.example.com-- Jane", f"write to {R}-- Jane"),
        ("jane@mail.example.com-thanks", f"{R}-thanks"),
        ("card 4111 1111 1111 1111 123 exp 12/29", f"card {R} 123 exp 12/29"),
        ("order 2024 4111 1111 1111 1111", f"order 2024 {R}"),
    ],
)
def test_redact_text(text: str, expected: str) -> None:
    assert redactor().redact_text(text) == expected


def test_luhn() -> None:
    assert luhn_valid("4111111111111111") and luhn_valid("378282246310005")
    assert not luhn_valid("4111111111111112")


def test_unchanged_text_is_the_same_object() -> None:
    text = "nothing to see here?really"
    assert redactor().redact_text(text) is text


@pytest.mark.parametrize(
    ("mode", "text", "expected"),
    [
        ("keep", "/reset?token=abc&lang=en", f"/reset?token={R}&lang=en"),
        ("keep", "/cb#access_token=xyz&state=1", f"/cb#access_token={R}&state=1"),
        ("keep", "/p?Password=hunter2", f"/p?Password={R}"),
        ("keep", "/search?q=shoes", "/search?q=shoes"),
        ("strip", "https://a.example/p?q=shoes&page=2#top", "https://a.example/p#top"),
        ("strip", "Really? Yes.", "Really? Yes."),
        ("redact_values", "/search?q=shoes&page=2", f"/search?q={R}&page={R}"),
    ],
)
def test_url_modes(mode: str, text: str, expected: str) -> None:
    assert redactor(url_mode=mode).redact_text(text) == expected


def test_custom_patterns_and_replacement() -> None:
    r = redactor(custom_patterns=[r"ORD-\d{6}"], replacement="***")
    assert r.redact_text("order ORD-123456 for a@b.io") == "order *** for ***"


def test_builtin_patterns_can_be_turned_off() -> None:
    r = redactor(builtin_patterns=["card"], query_denylist=[])
    assert r.redact_text(f"{EMAIL} {MASTERCARD}") == f"{EMAIL} {R}"
    assert not redactor(builtin_patterns=[], query_denylist=[]).active


def test_invalid_custom_pattern_names_the_option() -> None:
    with pytest.raises(SettingsError, match=r"custom_patterns\[1\]"):
        redactor(custom_patterns=["ok", "(unclosed"])


def test_walk_reaches_keys_and_deep_nesting_without_recursion() -> None:
    deep: Any = {"leaf": EMAIL}
    for _ in range(5000):
        deep = {"c": [deep]}
    events: list[Any] = [{"type": 5, "timestamp": 1, "data": {EMAIL: 1, "deep": deep}}]
    redactor().walk(events)
    assert list(events[0]["data"]) == [R, "deep"]
    node = events[0]["data"]["deep"]
    for _ in range(5000):
        node = node["c"][0]
    assert node == {"leaf": R}


def test_long_hostile_strings_stay_linear() -> None:
    r = redactor(url_mode="redact_values")
    nasty = ("a" * 200_000 + "@") * 3 + "?" * 100_000 + "4" * 100_000 + "#k=" * 50_000
    started = time.perf_counter()
    assert r.redact_text(nasty).count(R) == 50_000
    assert r.might_match(orjson.dumps([nasty]))
    assert time.perf_counter() - started < 2.0


# -- every kind of string, through the endpoint ------------------------------


@pytest.mark.asyncio
async def test_every_kind_of_string_is_redacted_before_storage() -> None:
    events = [
        meta_event(href="https://shop.example/reset?token=s3cr3t&step=2"),
        text_node(f"Contact {EMAIL} today"),
        attribute("title", f"Card {VISA}"),
        attribute("href", f"mailto:{EMAIL}"),
        input_value(AMEX),
        console(f"paid {MASTERCARD} by {EMAIL}"),
        custom({"email": EMAIL, "nested": [{"card": MASTERCARD}], EMAIL: "as a key"}),
    ]
    async with running() as r:
        assert (await r.post(body(envelope(events)))).status_code == 204
        stored = await r.stored_events()
        raw = orjson.dumps(stored)
        for secret in ("s3cr3t", EMAIL, VISA, MASTERCARD, AMEX, "mail.example"):
            assert secret.encode() not in raw
        assert stored[0]["data"]["href"] == f"https://shop.example/reset?token={R}&step=2"
        text = stored[1]["data"]["node"]["childNodes"][0]["childNodes"][0]["textContent"]
        assert text == f"Contact {R} today"
        assert stored[2]["data"]["attributes"][0]["attributes"]["title"] == f"Card {R}"
        assert stored[3]["data"]["attributes"][0]["attributes"]["href"] == f"mailto:{R}"
        assert stored[4]["data"]["text"] == R
        assert R in stored[5]["data"]["payload"]["payload"][0]
        props = stored[6]["data"]["payload"]["properties"]
        assert props == {"email": R, "nested": [{"card": R}], R: "as a key"}
        summary = await r.store.get_session(SESSION)
        assert summary is not None
        assert summary.pages == [f"https://shop.example/reset?token={R}&step=2"]


@pytest.mark.asyncio
async def test_luhn_invalid_numbers_and_plain_data_are_left_alone() -> None:
    events = [
        text_node(f"Ref {NOT_LUHN}, order 1700000000000, v2.4111111111111111"),
        input_value("4111111111111112"),
        custom({"count": 4111111111111111, "path": "M 10 20 L 411 1111 1111 11113"}),
    ]
    async with running() as r:
        await r.post(body(envelope(events)))
        assert await r.stored_events() == events


@pytest.mark.asyncio
async def test_escaped_characters_do_not_hide_an_address() -> None:
    raw = body(envelope([input_value("PLACEHOLDER")])).replace(
        b"PLACEHOLDER", b"jane\\u0040example.com"
    )
    async with running() as r:
        await r.post(raw)
        assert (await r.stored_events())[0]["data"]["text"] == R


@pytest.mark.asyncio
async def test_a_backslash_before_a_card_does_not_hide_it() -> None:
    """In JSON text a backslash is written "\\\\": the "\\u4111" after it
    is text, not an escape, and the card starting there is redacted."""
    texts = ["\\u4111 1111 1111 1111", "C:\\u4111111111111111", "\\\\u4111-1111-1111-1111"]
    async with running() as r:
        await r.post(body(envelope([input_value(text) for text in texts])))
        stored = [event["data"]["text"] for event in await r.stored_events()]
        assert stored == ["\\u" + R, "C:\\u" + R, "\\\\u" + R]


# -- the raw-body screening is exact ----------------------------------------


PIECES = [
    "a",
    "Z",
    "9",
    "4",
    ".",
    "-",
    " ",
    "@",
    "?",
    "&",
    "#",
    "=",
    "/",
    "\\",
    '"',
    "'",
    "<",
    "\n",
    "\t",
    "é",
    "\u00a0",
    "\u2028",
    "😀",
    "token",
    "key",
    "x.io",
    "example.com",
    "4111",
    "1111 ",
    "5555555555554444",
    "3782-822463-10005",
    "?q=1",
    "#access_token=z",
    "\x1f",
    "\x19",
    "\x01",
    "tok\x01en",
    "u0019",
    "\\u4111",
    ":",
    '"timestamp":1',
    "0 0 ",
    "6011 0009 9013 9424",
    "12345678901234567890",
]


@pytest.mark.parametrize("mode", ["keep", "strip", "redact_values"])
def test_screening_never_skips_a_batch_that_needs_redaction(mode: str) -> None:
    """Random strings in random places: whenever the walk would change
    something, the screen over the events' JSON text must say so."""
    r = redactor(url_mode=mode)
    rng = random.Random(20240611 + len(mode))
    skipped_and_clean = needed = 0
    for _ in range(3000):
        strings = ["".join(rng.choices(PIECES, k=rng.randint(1, 12))) for _ in range(3)]
        events = [custom({strings[0]: strings[1], "list": [strings[2]]})]
        raw = orjson.dumps(envelope(events))
        walked = orjson.loads(raw)["events"]
        r.walk(walked)
        changed = walked != events
        if changed:
            needed += 1
            assert r.might_match(raw), strings
        elif not r.might_match(raw):
            skipped_and_clean += 1
    assert needed > 300 and skipped_and_clean > 100  # both outcomes were exercised


def test_screening_skips_the_demo_recording() -> None:
    events = orjson.loads(DEMO_FIXTURE.read_bytes())
    raw = orjson.dumps(envelope(events[:50]))
    assert not redactor().might_match(raw)
    walked = orjson.loads(raw)["events"]
    redactor().walk(walked)
    assert walked == events[:50]
