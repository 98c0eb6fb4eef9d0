"""The ingest routes: keys, size caps, validation, redaction, grouping."""

from __future__ import annotations

from typing import Any

import pytest
from sentiero_reporter import server as reporter_plugin
from sentiero_reporter.server.issues import ISSUES, OCCURRENCES
from sentiero_reporter.server.keys import KEYS, create_key, key_hash, list_keys, revoke_key

from sentiero_core import Settings, create_app, get_plugin_manager, hookimpl

from .conftest import T0, Server, error_payload


@pytest.mark.asyncio
async def test_an_error_report_is_filed_as_an_issue(server: Server) -> None:
    response = await server.post("errors", error_payload(environment="prod", release="1.0"))
    assert response.status_code == 202
    answer = await response.get_json()
    issue = await server.store.get_record(ISSUES, answer["issue"])
    assert issue is not None
    assert issue["count"] == 1 and issue["status"] == "open"
    assert issue["first_seen"] == issue["last_seen"] == T0
    assert issue["environments"] == ["prod"] and issue["releases"] == ["1.0"]
    assert issue["title"] == "myapp.errors.NotFound: order 1234 not found"
    assert issue["culprit"] == "myapp.orders in load_order"
    assert issue["platform"] == "server"
    occurrence = await server.store.get_record(OCCURRENCES, answer["occurrence"])
    assert occurrence is not None and occurrence["issue"] == answer["issue"]


@pytest.mark.asyncio
async def test_the_same_bug_groups_despite_numbers_and_line_numbers(server: Server) -> None:
    first = await (await server.post("errors", error_payload("order 1234 not found"))).get_json()
    second = await (
        await server.post(
            "errors",
            error_payload("order 98765 not found", line=42, environment="staging", release="1.1"),
        )
    ).get_json()
    other = await (
        await server.post("errors", error_payload(exc_type="KeyError", message="order"))
    ).get_json()
    assert first["issue"] == second["issue"] != other["issue"]
    issue = await server.store.get_record(ISSUES, first["issue"])
    assert issue is not None and issue["count"] == 2
    assert issue["environments"] == ["staging"] and issue["releases"] == ["1.1"]


@pytest.mark.asyncio
async def test_messages_without_frames_group_by_normalised_message(server: Server) -> None:
    def bare(message: str) -> dict[str, Any]:
        payload = error_payload(message)
        payload["exception"]["frames"] = []
        return payload

    one = await (await server.post("errors", bare("user 17 token 9f8e7d6c5b4a expired"))).get_json()
    two = await (await server.post("errors", bare("user 23 token 0a1b2c3d4e5f expired"))).get_json()
    three = await (
        await server.post("errors", bare("user 5 id 123e4567-e89b-12d3-a456-426614174000 expired"))
    ).get_json()
    assert one["issue"] == two["issue"] != three["issue"]


@pytest.mark.asyncio
async def test_an_explicit_fingerprint_overrides_grouping(server: Server) -> None:
    a = await (
        await server.post("errors", error_payload(fingerprint=["payments", "declined"]))
    ).get_json()
    b = await (
        await server.post(
            "errors", error_payload(exc_type="OtherError", fingerprint=["payments", "declined"])
        )
    ).get_json()
    c = await (await server.post("errors", error_payload())).get_json()
    assert a["issue"] == b["issue"] != c["issue"]


@pytest.mark.asyncio
async def test_resolved_issues_reopen_only_in_a_newer_release(server: Server) -> None:
    key = (await (await server.post("errors", error_payload(release="1.9"))).get_json())["issue"]
    page = await server.text(f"/sentiero/issues/{key}")
    assert 'id="mark-resolved"' in page
    from sentiero_reporter.server.issues import set_status

    await set_status(server.store, key, "resolved")
    issue = await server.store.get_record(ISSUES, key)
    assert issue is not None and issue["resolved_in_release"] == "1.9"
    for release in ("1.9", "1.2", None):
        payload = error_payload(**({"release": release} if release else {}))
        await server.post("errors", payload)
        issue = await server.store.get_record(ISSUES, key)
        assert issue is not None and issue["status"] == "resolved", release
    await server.post("errors", error_payload(release="1.10"))
    issue = await server.store.get_record(ISSUES, key)
    assert issue is not None
    assert issue["status"] == "open" and issue["regressed_in_release"] == "1.10"
    await set_status(server.store, key, "ignored")
    await server.post("errors", error_payload(release="2.0"))
    issue = await server.store.get_record(ISSUES, key)
    assert issue is not None and issue["status"] == "ignored"


@pytest.mark.asyncio
async def test_an_issue_resolved_without_a_release_reopens_when_seen_again(
    server: Server,
) -> None:
    import time

    from sentiero_reporter.server.issues import set_status

    key = (await (await server.post("errors", error_payload())).get_json())["issue"]
    await set_status(server.store, key, "resolved")
    await server.post("errors", error_payload(timestamp=int(time.time() * 1000) + 1000))
    issue = await server.store.get_record(ISSUES, key)
    assert issue is not None and issue["status"] == "open"


@pytest.mark.asyncio
async def test_keys_are_stored_hashed_and_revocation_is_immediate(server: Server) -> None:
    assert (await server.post("errors", error_payload())).status_code == 202
    records = await server.store.find_records(KEYS)
    assert [r["_id"] for r in records] == [key_hash(server.token)]
    assert server.token not in repr(records)
    [listed] = await list_keys(server.store, "shop")
    assert server.token.startswith(listed["prefix"])
    assert await revoke_key(server.store, "shop", listed["prefix"]) == 1
    response = await server.post("errors", error_payload())
    assert response.status_code == 401
    assert (await response.get_json())["error"] == "ingest key revoked"
    assert await revoke_key(server.store, "shop", listed["prefix"]) == 0


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("headers", "status", "reason"),
    [
        ({}, 401, "missing ingest key"),
        ({"Authorization": "Basic abc"}, 401, "missing ingest key"),
        ({"Authorization": "Bearer sk_nope"}, 401, "unknown ingest key"),
        ({"Authorization": "Bearer nope"}, 401, "malformed"),
    ],
)
async def test_requests_without_a_live_key_are_refused(
    server: Server, headers: dict[str, str], status: int, reason: str
) -> None:
    response = await server.client.post(
        "/sentiero/ingest/errors", json=error_payload(), headers=headers
    )
    assert response.status_code == status
    assert reason in (await response.get_json())["error"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda p: p.pop("exception"), "exception must be an object"),
        (lambda p: p["exception"].pop("type"), "type is required"),
        (lambda p: p["exception"].update(type=""), "type must not be empty"),
        (lambda p: p.update(project="blog"), "does not match the ingest key's project"),
        (lambda p: p.update(level="loud"), "level must be one of"),
        (lambda p: p.update(timestamp="now"), "timestamp must be a number"),
        (lambda p: p.update(session_id=5), "session_id must be a string"),
        (lambda p: p["exception"].update(frames="x"), "exception.frames must be a list"),
        (lambda p: p["exception"]["frames"][0].update(lineno="1"), "lineno must be an integer"),
        (lambda p: p.update(fingerprint=[1]), "fingerprint must be a string or a list"),
        (lambda p: p.update(context=[]), "context must be an object"),
    ],
)
async def test_bad_reports_get_422_naming_the_field(
    server: Server, change: Any, reason: str
) -> None:
    payload = error_payload()
    change(payload)
    response = await server.post("errors", payload)
    assert response.status_code == 422
    assert reason in (await response.get_json())["error"]
    assert await server.store.count_records(ISSUES) == 0


@pytest.mark.asyncio
async def test_bodies_that_are_not_json_or_too_large_are_refused(server: Server) -> None:
    not_json = await server.client.post(
        "/sentiero/ingest/errors",
        data=b"{nope",
        headers={**server.auth(), "Content-Type": "application/json"},
    )
    assert not_json.status_code == 400 and "not valid JSON" in (await not_json.get_json())["error"]
    wrong_type = await server.client.post(
        "/sentiero/ingest/errors",
        data=b"{}",
        headers={**server.auth(), "Content-Type": "text/plain"},
    )
    assert wrong_type.status_code == 415
    big = error_payload(context={"blob": "x" * 300_000})
    too_large = await server.post("errors", big)
    assert too_large.status_code == 413
    assert "larger than 262144 bytes" in (await too_large.get_json())["error"]


@pytest.mark.asyncio
async def test_reports_are_redacted_like_recordings(server: Server) -> None:
    payload = error_payload(
        "no account for ada@example.com",
        context={"card": "4111 1111 1111 1111", "note": "mail bob@example.org"},
    )
    answer = await (await server.post("errors", payload)).get_json()
    occurrence = await server.store.get_record(OCCURRENCES, answer["occurrence"])
    text = repr(occurrence)
    assert "ada@example.com" not in text and "bob@example.org" not in text
    assert "4111 1111 1111 1111" not in text
    issue = await server.store.get_record(ISSUES, answer["issue"])
    assert "ada@example.com" not in repr(issue)


@pytest.mark.asyncio
async def test_events_are_counted_by_name_and_hour(server: Server) -> None:
    for plan in ("pro", "pro", "free"):
        response = await server.post(
            "events", {"name": "signup", "properties": {"plan": plan}, "timestamp": T0}
        )
        assert response.status_code == 202
    bad = await server.post("events", {"properties": {}})
    assert bad.status_code == 422 and "name is required" in (await bad.get_json())["error"]
    page = await server.text("/sentiero/custom-events")
    assert 'data-name="signup"' in page
    detail = await server.text("/sentiero/custom-events?project=shop&name=signup")
    assert 'data-count="3"' in detail
    assert "pro (2)" in detail and "free (1)" in detail


class _BrokenRule:
    """A plugin whose redaction rule raises on everything."""

    @staticmethod
    @hookimpl
    def redaction_rules() -> list[Any]:
        def broken(events: Any, context: Any) -> Any:
            raise RuntimeError("rule bug")

        return [broken]


@pytest.mark.asyncio
async def test_a_failing_redaction_rule_refuses_the_report() -> None:
    pm = get_plugin_manager(load_entrypoints=False)
    pm.register(reporter_plugin, name="reporter")
    pm.register(_BrokenRule(), name="broken-rule")
    app = create_app(Settings(store_url="memory://"), plugin_manager=pm)
    async with app.test_app():
        store = app.extensions["sentiero"].store
        token, _ = await create_key(store, "shop")
        response = await app.test_client().post(
            "/sentiero/ingest/errors",
            json=error_payload("card 4111 1111 1111 1111"),
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 422
        assert (await response.get_json())["error"] == "redaction failed"
        assert await store.find_records(OCCURRENCES, {}) == []
