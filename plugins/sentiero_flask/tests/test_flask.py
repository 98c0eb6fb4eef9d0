"""sentiero-flask in the sample app ``flaskshop``: the script tag, the settings,
``flask sentiero purge|erase``, the reporter and the ASGI composition,
through Flask's test client and CLI runner."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
import sentiero_reporter
from flask import Flask, render_template_string
from flaskshop import create_app
from sentiero_flask import Sentiero, get_settings
from sentiero_flask.asgi import with_sentiero
from sentiero_reporter import WSGIReporterMiddleware

from sentiero_core import Settings, SettingsError, open_sentiero
from sentiero_core.testing import T0, identify, make_batch, meta

TAG = '<script src="/sentiero/recorder.js" defer></script>'


@pytest.fixture(autouse=True)
def no_reporter(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SENTIERO_REPORTER_ENDPOINT", "SENTIERO_REPORTER_INGEST_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sentiero_reporter, "_reporter", None)


# -- the script tag --------------------------------------------------------------


def test_templates_get_the_script_tag() -> None:
    page = create_app().test_client().get("/")
    assert page.status_code == 200
    assert TAG in page.text


def test_the_script_tag_takes_options_escaped() -> None:
    html = create_app().test_client().get("/", query_string={"nonce": '"><x'}).text
    assert '<script src="/sentiero/recorder.js" nonce="&#34;&gt;&lt;x" defer></script>' in html


def test_the_script_tag_follows_the_script_root() -> None:
    html = create_app().test_client().get("/", base_url="http://localhost/shop/").text
    assert '<script src="/shop/sentiero/recorder.js" defer></script>' in html


def test_the_script_tag_outside_a_request_and_with_public_url() -> None:
    app = Flask(__name__)
    Sentiero(app, Settings(store_url="memory://", public_url="https://rec.example"))
    with app.app_context():
        html = render_template_string("{{ sentiero_script_tag(mount='/rec') }}")
    assert html == '<script src="https://rec.example/rec/recorder.js" defer></script>'


# -- settings ------------------------------------------------------------------------


def test_settings_come_from_app_config() -> None:
    app = create_app(SENTIERO={"store_url": "memory://", "retention_period": 60})
    assert (get_settings(app).store_url, get_settings(app).retention_period) == ("memory://", 60)
    with app.app_context():
        assert get_settings().retention_period == 60


def test_init_app_later_for_an_app_factory() -> None:
    sentiero = Sentiero()
    app = Flask(__name__)
    app.config["SENTIERO"] = {"store_url": "memory://", "mount_path": "/rec"}
    sentiero.init_app(app)
    with app.test_request_context("/"):
        assert render_template_string("{{ sentiero_script_tag() }}") == (
            '<script src="/rec/recorder.js" defer></script>'
        )


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"store_url": "memory://", "mount_pth": "/x"}, "mount_pth"),
        ({"session_sample_rate": 2}, "session_sample_rate"),
        (["store_url"], "must be a dict"),
    ],
)
def test_bad_settings_are_refused_at_init_naming_the_key(options: Any, named: str) -> None:
    app = Flask(__name__)
    app.config["SENTIERO"] = options
    with pytest.raises(SettingsError, match=named):
        Sentiero(app)


def test_get_settings_before_init_says_so() -> None:
    with pytest.raises(RuntimeError, match="init_app"):
        get_settings(Flask(__name__))


# -- flask sentiero purge|erase ------------------------------------------------------


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


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "shop-sentiero.db"
    seed(path, {"s-ann-1": "ann", "s-ann-2": "ann", "s-bob-1": "bob"})
    return path


def cli(db: Path, *args: str, **sentiero: Any) -> Any:
    app = create_app(SENTIERO={"store_url": f"sqlite:///{db}", **sentiero})
    return app.test_cli_runner().invoke(args=["sentiero", *args])


def test_erase_dry_run_then_erase(db: Path) -> None:
    dry = cli(db, "erase", "--user-id", "ann", "--dry-run")
    assert (dry.exit_code, dry.output) == (
        0,
        "2 sessions match user_id='ann' and would be erased.\n",
    )
    assert len(stored(db)) == 3
    done = cli(db, "erase", "--user-id", "ann", "--yes")
    assert done.exit_code == 0
    assert done.stdout.splitlines() == ["2 sessions match user_id='ann'.", "2 sessions erased."]
    assert stored(db) == ["s-bob-1"]


def test_erase_refuses_without_a_filter(db: Path) -> None:
    result = cli(db, "erase", "--yes")
    assert result.exit_code == 2
    assert "erase needs at least one filter" in result.output
    assert len(stored(db)) == 3


def test_erase_without_yes_and_without_terminal_refuses(db: Path) -> None:
    result = cli(db, "erase", "--session", "s-bob-1")
    assert result.exit_code == 1
    assert "pass --yes" in result.output
    assert len(stored(db)) == 3


def test_purge_with_the_apps_retention_period(db: Path) -> None:
    result = cli(db, "purge", "--yes", retention_period=86400)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == "3 sessions purged."
    assert stored(db) == []


def test_purge_without_a_retention_period_is_a_configuration_error(db: Path) -> None:
    result = cli(db, "purge", "--yes")
    assert result.exit_code == 2
    assert "retention_period is not set" in result.output
    assert len(stored(db)) == 3


def test_purge_store_flag_and_help(db: Path, tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    seed(other, {"s-old": "zoe"})
    result = cli(db, "purge", "--store", f"sqlite:///{other}", "--older-than", "1d", "-y")
    assert result.stdout.splitlines()[-1] == "1 session purged."
    assert (stored(other), len(stored(db))) == ([], 3)
    usage = cli(db, "purge", "--help")
    assert usage.exit_code == 0
    assert "usage: flask sentiero purge" in usage.output
    assert "--older-than AGE" in usage.output


# -- the reporter ----------------------------------------------------------------------


def test_an_unhandled_error_is_reported_when_the_reporter_is_configured() -> None:
    with sentiero_reporter.capture_notifications() as sent:
        app = create_app()
        assert isinstance(app.wsgi_app, WSGIReporterMiddleware)
        client = app.test_client()
        client.set_cookie("sentiero_sid", "s-42")
        assert client.get("/boom/?page=2").status_code == 500
    assert len(sent) == 1
    kind, report = sent[0]
    assert kind == "errors"
    assert "order 999 does not exist" in str(report)
    assert report["session_id"] == "s-42"
    assert report["request"]["url"] == "http://localhost/boom/"


def test_a_propagated_error_is_reported_once() -> None:
    with sentiero_reporter.capture_notifications() as sent:
        app = create_app(PROPAGATE_EXCEPTIONS=True)
        with pytest.raises(LookupError):
            app.test_client().get("/boom/")
    assert len(sent) == 1


def test_the_reporter_can_be_switched_off() -> None:
    with sentiero_reporter.capture_notifications() as sent:
        app = create_app(SENTIERO_REPORTER_MIDDLEWARE=False)
        assert not isinstance(app.wsgi_app, WSGIReporterMiddleware)
        assert app.test_client().get("/boom/").status_code == 500
    assert sent == []


def test_nothing_is_installed_while_the_reporter_is_not_configured() -> None:
    assert not sentiero_reporter.get_reporter().active
    app = create_app()
    assert not isinstance(app.wsgi_app, WSGIReporterMiddleware)
    assert app.test_client().get("/boom/").status_code == 500


# -- one ASGI application ----------------------------------------------------------------


@pytest.mark.asyncio
async def test_with_sentiero_serves_flask_and_the_dashboard() -> None:
    application = with_sentiero(create_app())
    transport = httpx.ASGITransport(app=application)
    async with (
        application.running(),
        httpx.AsyncClient(transport=transport, base_url="http://localhost") as client,
    ):
        home = await client.get("/")
        assert home.status_code == 200 and TAG in home.text  # Flask
        assert (await client.get("/cart/")).text.count("Your cart") == 1
        dashboard = await client.get("/sentiero/")
        assert dashboard.status_code == 200
        assert 'href="/sentiero/' in dashboard.text
        assert (await client.get("/sentiero/api/sessions")).json()["sessions"] == []
        assert (await client.get("/sentiero/recorder.js")).status_code == 200
        big = await client.post("/", content=b"x" * 200_000)
        assert big.status_code == 405  # Flask's answer: the body got through the adapter
