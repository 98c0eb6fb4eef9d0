"""sentiero-django in the sample project ``djangoshop``: the template tag, the
settings, the management commands, the ASGI dispatcher and the reporter,
through Django's own test client and ``call_command``."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import httpx
import pytest
import sentiero_reporter
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from sentiero_django import get_settings
from sentiero_django.asgi import SentieroDispatcher, with_sentiero
from sentiero_reporter import ReporterMiddleware

from sentiero_core import Settings, open_sentiero
from sentiero_core.testing import T0, identify, make_batch, meta

TAG = '<script src="/sentiero/recorder.js" defer></script>'


@pytest.fixture(autouse=True)
def no_reporter(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SENTIERO_REPORTER_ENDPOINT", "SENTIERO_REPORTER_INGEST_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sentiero_reporter, "_reporter", None)


# -- the template tag -----------------------------------------------------------


def test_template_tag_renders_the_recorder_script() -> None:
    page = Client().get("/")
    assert page.status_code == 200
    assert TAG in page.content.decode()


def test_template_tag_takes_options_escaped() -> None:
    html = Client().get("/", {"nonce": '"><x'}).content.decode()
    assert '<script src="/sentiero/recorder.js" nonce="&#34;&gt;&lt;x" defer></script>' in html


def test_template_tag_follows_the_script_prefix() -> None:
    html = Client().get("/", SCRIPT_NAME="/shop").content.decode()
    assert '<script src="/shop/sentiero/recorder.js" defer></script>' in html


def test_template_tag_uses_the_settings() -> None:
    options = {"store_url": "memory://", "mount_path": "/rec", "public_url": "https://r.example"}
    with override_settings(SENTIERO=options):
        html = Client().get("/").content.decode()
    assert '<script src="https://r.example/rec/recorder.js" defer></script>' in html
    assert TAG in Client().get("/").content.decode()  # the cache follows the setting back


# -- settings.SENTIERO ---------------------------------------------------------


def test_settings_map_onto_sentiero_settings() -> None:
    with override_settings(SENTIERO={"store_url": "memory://", "retention_period": 3600}):
        settings = get_settings()
    assert isinstance(settings, Settings)
    assert (settings.store_url, settings.retention_period) == ("memory://", 3600)


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"store_url": "memory://", "mount_pth": "/x"}, "mount_pth"),
        ({"session_sample_rate": 2}, "session_sample_rate"),
        ({"retention_period": "a month"}, "retention_period"),
        (["store_url"], "must be a dict"),
    ],
)
def test_bad_settings_raise_improperly_configured_naming_the_key(options: Any, named: str) -> None:
    with override_settings(SENTIERO=options), pytest.raises(ImproperlyConfigured) as caught:
        get_settings()
    assert named in str(caught.value)


def test_a_bad_key_stops_the_page_too() -> None:
    with override_settings(SENTIERO={"colour": "red"}), pytest.raises(ImproperlyConfigured):
        Client().get("/")


# -- management commands -------------------------------------------------------


def seed(db: Path, sessions: dict[str, str]) -> None:
    async def fill() -> None:
        async with open_sentiero(Settings(store_url=f"sqlite:///{db}")) as sentiero:
            for i, (session_id, user_id) in enumerate(sessions.items()):
                events = [meta(T0 + i, "https://shop.example/"), identify(T0 + i + 1, user_id)]
                await sentiero.store.append(make_batch(session_id, "w1", events, seq=1))

    asyncio.run(fill())


def stored(db: Path) -> list[str]:
    async def ids() -> list[str]:
        async with open_sentiero(Settings(store_url=f"sqlite:///{db}")) as sentiero:
            page = await sentiero.store.list_sessions(None, None, 100)
            return sorted(s.session_id for s in page.sessions)

    return asyncio.run(ids())


def command(*args: str, **options: Any) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "shop-sentiero.db"
    seed(path, {"s-ann-1": "ann", "s-ann-2": "ann", "s-bob-1": "bob"})
    return path


def test_sentiero_erase_dry_run_then_erase(db: Path) -> None:
    with override_settings(SENTIERO={"store_url": f"sqlite:///{db}"}):
        dry = command("sentiero_erase", "--user-id", "ann", "--dry-run")
        assert dry == "2 sessions match user_id='ann' and would be erased.\n"
        assert stored(db) == ["s-ann-1", "s-ann-2", "s-bob-1"]
        done = command("sentiero_erase", "--user-id", "ann", "--yes")
    assert done.splitlines() == ["2 sessions match user_id='ann'.", "2 sessions erased."]
    assert stored(db) == ["s-bob-1"]


def test_sentiero_erase_by_session_with_store_flag(db: Path) -> None:
    out = command("sentiero_erase", "--store", f"sqlite:///{db}", "--session", "s-bob-1", "-y")
    assert out.splitlines()[-1] == "1 session erased."
    assert stored(db) == ["s-ann-1", "s-ann-2"]


def test_sentiero_erase_refuses_without_a_filter(db: Path) -> None:
    with pytest.raises(CommandError, match="erase needs at least one filter"):
        command("sentiero_erase", "--store", f"sqlite:///{db}", "--yes")
    assert len(stored(db)) == 3


def test_sentiero_erase_without_yes_and_without_terminal_refuses(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(CommandError, match="pass --yes"):
        command("sentiero_erase", "--store", f"sqlite:///{db}", "--user-id", "bob")
    assert len(stored(db)) == 3


def test_sentiero_purge_needs_a_retention_period(db: Path) -> None:
    with (
        override_settings(SENTIERO={"store_url": f"sqlite:///{db}"}),
        pytest.raises(CommandError, match="retention_period is not set"),
    ):
        command("sentiero_purge", "--yes")
    assert len(stored(db)) == 3


def test_sentiero_purge_with_the_retention_period_of_the_settings(db: Path) -> None:
    # the seeded sessions are from 2023: well past a day's retention
    with override_settings(SENTIERO={"store_url": f"sqlite:///{db}", "retention_period": 86400}):
        dry = command("sentiero_purge", "--dry-run")
        assert dry.startswith("3 sessions last active before ")
        assert dry.rstrip().endswith("(retention_period 86400 s) would be purged.")
        done = command("sentiero_purge", "--yes")
    assert done.splitlines()[-1] == "3 sessions purged."
    assert stored(db) == []


def test_sentiero_purge_older_than_flag(db: Path) -> None:
    out = command("sentiero_purge", "--store", f"sqlite:///{db}", "--older-than", "36500d", "-y")
    assert out.splitlines() == [out.splitlines()[0], "Nothing to purge."]
    assert len(stored(db)) == 3
    with pytest.raises(CommandError, match="expected an age like"):
        command("sentiero_purge", "--store", f"sqlite:///{db}", "--older-than", "soon")


def test_commands_report_bad_settings() -> None:
    with (
        override_settings(SENTIERO={"store_url": "nosuch://x"}),
        pytest.raises((CommandError, ImproperlyConfigured)) as caught,
    ):
        command("sentiero_erase", "--user-id", "x", "--yes")
    assert "nosuch" in str(caught.value)


# -- the ASGI application ------------------------------------------------------


def asgi_application() -> SentieroDispatcher:
    from django.core.asgi import get_asgi_application

    return with_sentiero(get_asgi_application())


@pytest.mark.asyncio
async def test_the_asgi_application_routes_the_mount_to_sentiero() -> None:
    application = asgi_application()
    transport = httpx.ASGITransport(app=application)
    async with (
        application.running(),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        home = await client.get("/")
        assert home.status_code == 200 and TAG in home.text  # Django
        dashboard = await client.get("/sentiero/")
        assert dashboard.status_code == 200
        assert 'href="/sentiero/' in dashboard.text
        assert (await client.get("/sentiero/api/sessions")).json()["sessions"] == []
        script = await client.get("/sentiero/recorder.js")
        assert script.status_code == 200
        assert "javascript" in script.headers["content-type"]
        # a path that only starts like the mount is Django's
        assert (await client.get("/sentierox/")).status_code == 404


@pytest.mark.asyncio
async def test_the_asgi_application_answers_lifespan() -> None:
    application = asgi_application()
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await incoming.put({"type": "lifespan.startup"})
    await incoming.put({"type": "lifespan.shutdown"})
    await application({"type": "lifespan", "asgi": {"version": "3.0"}}, incoming.get, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


@pytest.mark.asyncio
async def test_a_store_that_cannot_open_fails_the_startup(tmp_path: Path) -> None:
    from django.core.asgi import get_asgi_application

    missing = tmp_path / "no" / "such" / "dir" / "x.db"
    application = with_sentiero(get_asgi_application(), Settings(store_url=f"sqlite:///{missing}"))
    incoming: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await incoming.put({"type": "lifespan.startup"})
    await application({"type": "lifespan", "asgi": {"version": "3.0"}}, incoming.get, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.failed"]


def test_the_mount_cannot_be_the_root() -> None:
    from django.core.asgi import get_asgi_application

    with pytest.raises(ValueError, match="mount_path must be a prefix"):
        with_sentiero(get_asgi_application(), Settings(store_url="memory://", mount_path="/"))


# -- the reporter ----------------------------------------------------------------


def test_an_unhandled_view_error_is_reported_when_the_reporter_is_configured() -> None:
    client = Client(raise_request_exception=False)
    client.cookies["sentiero_sid"] = "s-42"
    with sentiero_reporter.capture_notifications() as sent:
        response = client.get("/boom/?page=2")
    assert response.status_code == 500
    assert len(sent) == 1
    kind, report = sent[0]
    assert kind == "errors"
    assert "order 999 does not exist" in str(report)
    assert report["session_id"] == "s-42"
    assert report["request"]["url"] == "http://testserver/boom/"
    assert report["request"]["query"] == {"page": "2"}


def test_the_reporter_can_be_switched_off_for_django() -> None:
    client = Client(raise_request_exception=False)
    with (
        override_settings(SENTIERO_REPORTER_MIDDLEWARE=False),
        sentiero_reporter.capture_notifications() as sent,
    ):
        assert client.get("/boom/").status_code == 500
        assert not isinstance(asgi_application().app, ReporterMiddleware)
    assert sent == []


def test_nothing_is_reported_or_wrapped_while_the_reporter_is_not_configured() -> None:
    assert not sentiero_reporter.get_reporter().active
    assert Client(raise_request_exception=False).get("/boom/").status_code == 500
    assert not isinstance(asgi_application().app, ReporterMiddleware)


def test_the_asgi_middleware_is_installed_when_the_reporter_is_configured() -> None:
    with sentiero_reporter.capture_notifications():
        assert isinstance(asgi_application().app, ReporterMiddleware)
