"""Every route of the app: the dashboard's are guarded by ``auth_callback``,
only ingest and the recorder script are public."""

from __future__ import annotations

import re
from typing import Any

import pytest

from sentiero_core import Settings, create_app
from tests.dashboard.recordings import DEMO_ID, load_all

#: the opt-out notice is public like ingest: the recorder calls it from any page
PUBLIC = {"/sentiero/events", "/sentiero/recorder.js", "/sentiero/opt-out"}
# sentiero-reporter's ingest, guarded by its bearer ingest keys instead.
REPORTER_INGEST = {"/sentiero/ingest/errors", "/sentiero/ingest/events"}


def expected_public(app: Any) -> set[str]:
    reporter = app.extensions["sentiero"].pm.has_plugin("reporter")
    return PUBLIC | REPORTER_INGEST if reporter else PUBLIC


PARAM = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


def concrete(rule: str) -> str:
    """A URL for a rule: every variable gets a plausible value."""
    return PARAM.sub(lambda m: "x.css" if m.group(1) == "filename" else DEMO_ID, rule)


def deny(request: Any) -> bool:
    return False


def public_rules(app: Any) -> set[str]:
    routes = app.extensions["sentiero"].routes
    return {
        r.rule
        for r in app.url_map.iter_rules()
        if r.endpoint in routes and routes[r.endpoint].public
    }


@pytest.mark.asyncio
async def test_only_ingest_the_opt_out_notice_and_the_recorder_script_are_public() -> None:
    app = create_app(Settings(store_url="memory://", auth_callback=deny))
    assert public_rules(app) == expected_public(app)
    async with app.test_app() as test_app:
        script = await test_app.test_client().get("/sentiero/recorder.js")
    assert script.status_code == 200


@pytest.mark.asyncio
async def test_every_other_route_denies_an_unauthenticated_request() -> None:
    app = create_app(Settings(store_url="memory://", auth_callback=deny))
    public = public_rules(app)
    checked: list[tuple[str, str]] = []
    async with app.test_app() as test_app:
        await load_all(app.extensions["sentiero"].store)
        client = test_app.test_client()
        for rule in app.url_map.iter_rules():
            if rule.rule in public:
                continue
            for method in sorted((rule.methods or set()) - {"HEAD"}):
                response = await client.open(concrete(rule.rule), method=method)  # type: ignore[call-arg]
                assert response.status_code == 403, (
                    f"{method} {rule.rule} answered {response.status_code}"
                )
                checked.append((method, rule.rule))
        assert await app.extensions["sentiero"].store.get_session(DEMO_ID) is not None
    rules = {rule for _method, rule in checked}
    for expected in (
        "/sentiero/",
        "/sentiero/sessions/<session_id>",
        "/sentiero/sessions/<session_id>/delete",
        "/sentiero/api/sessions",
        "/sentiero/api/sessions/<session_id>/events",
        "/sentiero/-/static/<path:filename>",
        "/sentiero/api/plugins",
    ):
        assert expected in rules
    assert ("DELETE", "/sentiero/api/sessions/<session_id>") in checked


@pytest.mark.asyncio
async def test_denials_are_html_for_pages_and_json_for_the_api() -> None:
    app = create_app(Settings(store_url="memory://", auth_callback=deny))
    async with app.test_app() as test_app:
        client = test_app.test_client()
        page = await client.get("/sentiero/")
        api = await client.get("/sentiero/api/sessions")
        asset = await client.get("/sentiero/-/static/dashboard.css")
    assert page.status_code == 403 and page.mimetype == "text/html"
    assert "Access denied" in await page.get_data(as_text=True)
    assert api.status_code == 403
    assert (await api.get_json())["error"] == "the dashboard's auth_callback denied this request"
    assert asset.status_code == 403


@pytest.mark.asyncio
async def test_an_allowing_callback_opens_the_dashboard_and_a_raising_one_closes_it() -> None:
    seen: list[str] = []

    async def allow(request: Any) -> bool:
        seen.append(request.path)
        return True

    def broken(request: Any) -> bool:
        raise RuntimeError("auth backend down")

    for callback, status in ((allow, 200), (broken, 403)):
        app = create_app(Settings(store_url="memory://", auth_callback=callback))
        async with app.test_app() as test_app:
            response = await test_app.test_client().get("/sentiero/")
        assert response.status_code == status
    assert seen == ["/sentiero/"]
