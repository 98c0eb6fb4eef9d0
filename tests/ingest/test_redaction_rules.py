"""The built-in rules beyond e-mail and cards (tokens, keys, IBANs, phone
numbers), the URL query modes, the functions from settings, every place a
string travels in an event, and ``redact_payload`` for other payloads."""

from __future__ import annotations

import logging
from typing import Any

import orjson
import pytest

from sentiero_core import RedactionFailed, Settings, SettingsError, load_settings, redact_payload
from sentiero_core.builtins.redaction import Redactor, js_safe, recorder_patterns
from sentiero_core.builtins.redaction_patterns import (
    ALL_BUILTINS,
    DEFAULT_BUILTINS,
    iban_valid,
)
from sentiero_core.settings import RedactionSettings
from tests.ingest.helpers import SESSION, body, envelope, meta_event, running
from tests.ingest.test_redaction import attribute, console, custom, input_value, text_node

R = "[redacted]"
EMAIL = "jane.doe@mail.example.com"
VISA = "4111 1111 1111 1111"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0"
    ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
)
AWS = "AKIAIOSFODNN7EXAMPLE"
GITHUB = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
STRIPE = "sk_live_51H8abcdEFGHijklMNOP"
SLACK = "xoxb-123456789012-abcdefABCDEF"
IBAN = "DE89 3704 0044 0532 0130 00"
IBAN_COMPACT = "GB82WEST12345698765432"
PHONE = "+44 20 7946 0958"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA0Z3\n-----END RSA PRIVATE KEY-----"


def redactor(**options: Any) -> Redactor:
    return Redactor(RedactionSettings(**options))


ALL = redactor(builtin_patterns=list(ALL_BUILTINS))


@pytest.mark.parametrize(
    ("rule", "text", "expected"),
    [
        ("bearer", "Authorization: Bearer abc123def456.xyz", f"Authorization: Bearer {R}"),
        ("bearer", "bearer  c2VjcmV0LXRva2Vu", f"bearer  {R}"),
        ("jwt", f"token {JWT} end", f"token {R} end"),
        ("aws_key", f"key={AWS}", f"key={R}"),
        ("github_token", f"gh auth {GITHUB} ok", f"gh auth {R} ok"),
        ("stripe_key", f"Stripe({STRIPE})", f"Stripe({R})"),
        ("slack_token", f"slack {SLACK}", f"slack {R}"),
        (
            "slack_token",
            "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX",
            f"https://{R}",
        ),
        ("api_key", "api_key=Zx9Qw8Er7Ty6&x=1", f"api_key={R}&x=1"),
        ("api_key", 'config {"apiKey": "Zx9Qw8Er7Ty6"}', f'config {{"apiKey": "{R}"}}'),
        ("api_key", "password: hunter22", f"password: {R}"),
        ("api_key", "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG", f"AWS_SECRET_ACCESS_KEY={R}"),
        ("private_key", f"key:\n{PEM}\nend", f"key:\n{R}\nend"),
        ("iban", f"IBAN {IBAN}.", f"IBAN {R}."),
        ("iban", IBAN_COMPACT, R),
        ("phone", f"call {PHONE} now", f"call {R} now"),
        ("phone", "(555) 123-4567", R),
    ],
)
def test_each_builtin_rule_redacts_its_shape_and_can_be_switched_off(
    rule: str, text: str, expected: str
) -> None:
    assert ALL.redact_text(text) == expected
    assert redactor(builtin_patterns=[rule], query_denylist=[]).redact_text(text) == expected
    others = [name for name in ALL_BUILTINS if name != rule]
    assert redactor(builtin_patterns=others, query_denylist=[]).redact_text(text) == text
    # the screen of the JSON text agrees, escapes or not
    assert ALL.might_match(orjson.dumps([text]))
    assert ALL.might_match(orjson.dumps([f"\n\u0001{text}\t"]))


@pytest.mark.parametrize(
    "text",
    [
        "bearer of bad news",  # too short to be a token
        "GB82WEST12345698765431",  # IBAN checksum fails
        "DE00 1234 5678 9012 3456 78",
        "the password field",
        "password=short",
        "AKIAIOSFODNN7EXAMPL",  # one short
        "sk_live_abc",
        "+1 22",  # too few digits for a phone number
        "2024-01-15 10:30",
        "build 1.24.3+sha.eyJ",
    ],
)
def test_near_misses_are_left_alone(text: str) -> None:
    assert ALL.redact_text(text) == text
    assert not ALL.might_match(orjson.dumps([text]))


def test_phone_numbers_are_off_by_default() -> None:
    assert "phone" not in DEFAULT_BUILTINS
    assert Settings().redaction.builtin_patterns == list(DEFAULT_BUILTINS)
    assert redactor().redact_text(f"call {PHONE}") == f"call {PHONE}"


def test_iban_checksum() -> None:
    assert iban_valid(IBAN) and iban_valid(IBAN_COMPACT)
    assert not iban_valid("GB82WEST12345698765431")
    assert not iban_valid("GB82")


def test_unknown_builtin_names_the_known_ones() -> None:
    with pytest.raises(SettingsError, match=r"unknown pattern\(s\) \['ssn'\]; known .*'iban'"):
        Settings(redaction=RedactionSettings(builtin_patterns=["email", "ssn"]))


# -- URL queries ---------------------------------------------------------------

URL = "https://shop.example/p?utm_source=mail&token=abc&page=2#frag"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"url_mode": "keep", "query_denylist": []}, URL),
        ({"url_mode": "keep"}, f"https://shop.example/p?utm_source=mail&token={R}&page=2#frag"),
        (
            {"url_mode": "denylist", "query_denylist": ["utm"]},
            f"https://shop.example/p?utm_source={R}&token=abc&page=2#frag",
        ),
        (
            {"url_mode": "allowlist", "query_allowlist": ["page", "UTM_SOURCE"]},
            f"https://shop.example/p?utm_source=mail&token={R}&page=2#frag",
        ),
        (
            {"url_mode": "redact_values"},
            f"https://shop.example/p?utm_source={R}&token={R}&page={R}#frag",
        ),
        ({"url_mode": "strip"}, "https://shop.example/p#frag"),
    ],
)
def test_url_query_modes(options: dict[str, Any], expected: str) -> None:
    r = redactor(builtin_patterns=[], **options)
    assert r.redact_text(URL) == expected
    assert r.might_match(orjson.dumps([URL])) == (expected != URL)


def test_an_unknown_url_mode_lists_the_valid_ones() -> None:
    with pytest.raises(SettingsError, match=r"'keep', 'denylist', 'allowlist'.*got 'drop'"):
        load_settings(redaction={"url_mode": "drop"})


# -- functions from settings ----------------------------------------------------


def shout_names(text: str) -> str:
    return text.replace("Jane", "J.")


def drop_user_id(event: dict[str, Any]) -> None:
    if event.get("type") == 5:
        event["data"]["payload"].pop("user_id", None)


def not_a_string(text: str) -> Any:
    return 42


def explodes(text: str) -> str:
    raise RuntimeError("boom")


def test_functions_load_from_dotted_paths() -> None:
    s = load_settings(
        redaction={
            "string_function": f"{__name__}:shout_names",
            "event_function": f"{__name__}:drop_user_id",
        }
    )
    assert s.redaction.string_function is shout_names
    assert s.redaction.event_function is drop_user_id
    with pytest.raises(SettingsError, match=r"redaction\.string_function: cannot import"):
        load_settings(redaction={"string_function": "no_such_module:f"})
    with pytest.raises(SettingsError, match=r"redaction\.event_function: expected a callable"):
        Settings(redaction=RedactionSettings(event_function=3))  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_functions_see_every_string_and_event_after_the_builtins() -> None:
    redaction = RedactionSettings(string_function=shout_names, event_function=drop_user_id)
    events = [
        text_node(f"Jane writes from {EMAIL}"),
        custom({"Jane": "key", "note": "Jane"}),
        {
            "type": 5,
            "timestamp": 1_700_000_000_009,
            "data": {"tag": "sentiero:identify", "payload": {"user_id": "u1", "traits": {}}},
        },
    ]
    async with running(redaction=redaction) as r:
        assert (await r.post(body(envelope(events)))).status_code == 204
        stored = await r.stored_events()
    text = stored[0]["data"]["node"]["childNodes"][0]["childNodes"][0]["textContent"]
    assert text == f"J. writes from {R}"
    assert stored[1]["data"]["payload"]["properties"] == {"J.": "key", "note": "J."}
    assert stored[2]["data"]["payload"] == {"traits": {}}


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "redaction",
    [
        RedactionSettings(string_function=explodes),
        RedactionSettings(string_function=not_a_string),
        RedactionSettings(event_function=lambda event: "not an event"),
        RedactionSettings(event_function=lambda event: 1 / 0),
    ],
)
async def test_a_failing_function_drops_the_batch(
    redaction: RedactionSettings, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(redaction=redaction) as r:
        with caplog.at_level(logging.ERROR, "sentiero.ingest"):
            response = await r.post(body(envelope([text_node("hello there")])))
        assert response.status_code == 422
        assert await r.error(response) == "redaction failed"
        assert await r.store.get_session(SESSION) is None
    assert "redaction_" in caplog.text and "dropped" in caplog.text


# -- every place a string travels -------------------------------------------------


def identify(traits: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": 5,
        "timestamp": 1_700_000_000_006,
        "data": {"tag": "sentiero:identify", "payload": {"user_id": "u1", "traits": traits}},
    }


def tagged(tag: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {"type": 5, "timestamp": 1_700_000_000_007, "data": {"tag": tag, "payload": payload}}


def style_text(css: str) -> dict[str, Any]:
    return {
        "type": 3,
        "timestamp": 1_700_000_000_008,
        "data": {"source": 0, "texts": [{"id": 4, "value": css}], "removes": [], "adds": []},
    }


SECRETS = [
    EMAIL,
    VISA,
    JWT,
    AWS,
    GITHUB,
    STRIPE,
    SLACK,
    IBAN,
    IBAN_COMPACT,
    "Zx9Qw8Er7Ty6",
    "tok3n",
]
LOCATIONS = {
    "meta href": meta_event(href=f"https://shop.example/?token=tok3n&u={EMAIL}"),
    "text node": text_node(f"Write to {EMAIL} or pay {IBAN}"),
    "style text": style_text(f'.a::after {{ content: "{EMAIL}" }} /* {AWS} */'),
    "input value": input_value(VISA),
    "console": console(f"fetch failed: Authorization: Bearer {JWT}"),
    "error": tagged(
        "sentiero:error",
        {
            "kind": "error",
            "message": f"bad key {STRIPE}",
            "source": f"https://cdn.example/app.js?key={GITHUB}",
            "stack": f"Error: {SLACK}\n    at pay (app.js:1:2)",
        },
    ),
    "metadata": tagged(
        "sentiero:meta",
        {"url": f"https://shop.example/r?api_key=Zx9Qw8Er7Ty6&x={EMAIL}", "title": EMAIL},
    ),
    "custom properties": custom({"iban": IBAN, "nested": [{"card": VISA}], EMAIL: "key"}),
    "identify traits": identify({"email": EMAIL, "payment": {"iban": IBAN}}),
    **{
        f"attribute {name}": attribute(name, value)
        for name, value in [
            ("value", VISA),
            ("href", f"mailto:{EMAIL}"),
            ("src", f"https://img.example/a.png?token=tok3n&sig={AWS}"),
            ("srcset", f"/a.png?u={EMAIL} 1x, /b.png?k={AWS} 2x"),
            ("title", f"Card {VISA}"),
            ("alt", f"Avatar of {EMAIL}"),
            ("placeholder", f"e.g. {IBAN}"),
            ("aria-label", f"Account {IBAN_COMPACT}"),
            ("data-user", EMAIL),
            ("data-token", JWT),
        ]
    },
}


@pytest.mark.asyncio
@pytest.mark.parametrize("where", list(LOCATIONS))
async def test_every_location_is_redacted_before_storage(where: str) -> None:
    event = LOCATIONS[where]
    planted = [s for s in SECRETS if s in orjson.dumps(event).decode().replace("\\n", "\n")]
    assert planted, "the location holds no secret"
    async with running() as r:
        assert (await r.post(body(envelope([event])))).status_code == 204
        raw = orjson.dumps(await r.stored_events())
    for secret in planted:
        assert secret.encode() not in raw, (where, secret)
    assert R.encode() in raw


# -- the recorder's share, and payloads of other kinds ------------------------------


def test_recorder_patterns_follow_the_settings() -> None:
    default = recorder_patterns(RedactionSettings())
    assert len(default) == len(DEFAULT_BUILTINS)
    assert [check for _, check in default if check] == ["luhn", "iban"]
    none = recorder_patterns(RedactionSettings(builtin_patterns=[], custom_patterns=[r"ORD-\d+"]))
    assert none == [[r"ORD-\d+", ""]]
    # a pattern JavaScript would read differently stays on the server
    assert (
        recorder_patterns(
            RedactionSettings(builtin_patterns=[], custom_patterns=[r"(?i)secret", r"\Aabc"])
        )
        == []
    )
    assert js_safe(r"(?:ab)+[0-9]{3}") and not js_safe(r"(?P<x>a)") and not js_safe(r"a++")


def test_redact_payload_redacts_any_json_value() -> None:
    settings = Settings()
    rules = [Redactor(settings.redaction)]
    payload = {"message": f"card {VISA}", "frames": [{"vars": {EMAIL: JWT}}], "n": 1}
    out = redact_payload(payload, settings, rules)
    assert out == {"message": f"card {R}", "frames": [{"vars": {R: R}}], "n": 1}
    assert payload["message"] == f"card {VISA}"  # a copy: the input is untouched
    assert redact_payload([EMAIL, 3], settings) == [R, 3]
    assert redact_payload("plain", settings, rules) == "plain"


def test_redact_payload_fails_closed() -> None:
    settings = Settings()

    def broken(events: Any, context: Any) -> None:
        raise ValueError("boom")

    with pytest.raises(RedactionFailed):
        redact_payload({"a": 1}, settings, [broken])
    with pytest.raises(RedactionFailed):
        redact_payload({"a": 1}, settings, [lambda events, context: []])
    with pytest.raises(RedactionFailed, match="not JSON"):
        redact_payload({"a": object()}, settings, [])


@pytest.mark.asyncio
async def test_the_app_redacts_payloads_with_every_rule() -> None:
    redaction = RedactionSettings(string_function=shout_names)
    async with running(redaction=redaction) as r:
        state = r.app.extensions["sentiero"]
        out = state.redact_payload({"note": f"Jane, {EMAIL}"}, session_id=SESSION)
    assert out == {"note": f"J., {R}"}
