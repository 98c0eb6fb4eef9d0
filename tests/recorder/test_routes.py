"""GET <mount>/recorder.js: config line, bundle, caching headers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from sentiero_core import Settings, create_app, get_plugin_manager
from sentiero_core.recorder import routes
from sentiero_core.recorder.bundle import BUNDLE_PATH, STATIC, BundleCache
from tests.support.live_server import LiveServer

PREFIX = b"window.__SENTIERO_CONFIG__ = "
CACHE = "public, max-age=300"


def app_for(**options: Any) -> Any:
    settings = Settings(store_url="memory://", **options)
    return create_app(settings, plugin_manager=get_plugin_manager(load_entrypoints=False))


def split(script: bytes) -> tuple[dict[str, Any], bytes]:
    line, _, rest = script.partition(b"\n")
    assert line.startswith(PREFIX) and line.endswith(b";")
    return orjson.loads(line[len(PREFIX) : -1]), rest


@pytest.fixture
def bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A stand-in bundle file, so these tests do not depend on the build."""
    path = tmp_path / "recorder.js"
    path.write_bytes(b"(function(){/* recorder */})();\n")
    monkeypatch.setattr(routes, "BUNDLE", BundleCache(path))
    for name, attribute in (("vitals", "VITALS_BUNDLE"), ("console", "CONSOLE_BUNDLE")):
        extension = tmp_path / f"recorder-{name}.js"
        extension.write_bytes(b"(function(){/* %s */})();\n" % name.encode())
        monkeypatch.setattr(routes, attribute, BundleCache(extension))
    yield path


async def get(app: Any, path: str = "/sentiero/recorder.js", **kwargs: Any) -> Any:
    async with app.test_app() as test_app:
        return await test_app.test_client().get(path, **kwargs)


@pytest.mark.asyncio
async def test_script_is_the_config_line_then_the_bundle(bundle: Path) -> None:
    response = await get(app_for(capture_errors=True))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    config, rest = split(await response.get_data())
    assert rest == bundle.read_bytes()
    assert config["captureErrors"] is True
    assert config["rrweb"]["maskInputOptions"]["password"] is True


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("options", "extensions"),
    [
        ({}, []),
        ({"capture_web_vitals": True}, ["vitals"]),
        ({"capture_console": True}, ["console"]),
        ({"capture_web_vitals": True, "capture_console": True}, ["vitals", "console"]),
    ],
)
async def test_opt_in_captures_bring_their_extension_before_the_recorder(
    bundle: Path, options: dict[str, Any], extensions: list[str]
) -> None:
    """Ensure that a page without web vitals or console capture is never sent
    their code, and one with them gets it in the same script, first."""
    _, rest = split(await (await get(app_for(**options))).get_data())
    expected = [(bundle.parent / f"recorder-{name}.js").read_bytes() for name in extensions]
    assert rest == b";\n".join([*expected, bundle.read_bytes()])


@pytest.mark.asyncio
async def test_the_etag_changes_with_the_extensions_served(bundle: Path) -> None:
    tags = set()
    for options in ({}, {"capture_web_vitals": True}, {"capture_console": True}):
        tags.add((await get(app_for(**options))).headers["ETag"])
    assert len(tags) == 3


@pytest.mark.asyncio
async def test_a_missing_extension_bundle_is_a_503_script(
    bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes, "CONSOLE_BUNDLE", BundleCache(bundle.parent / "absent.js"))
    assert (await get(app_for())).status_code == 200
    response = await get(app_for(capture_console=True))
    assert response.status_code == 503
    assert b"console.error" in await response.get_data()


@pytest.mark.asyncio
async def test_endpoint_is_the_public_url_and_follows_the_mount(bundle: Path) -> None:
    app = app_for(mount_path="/rec", public_url="https://rec.example.com/")
    config, _ = split(await (await get(app, "/rec/recorder.js")).get_data())
    assert config["endpoint"] == "https://rec.example.com/rec/events"


@pytest.mark.asyncio
async def test_a_public_url_with_a_path_prefix(bundle: Path) -> None:
    app = app_for(public_url="https://example.com/tools")
    response = await get(app, "/tools/sentiero/recorder.js", root_path="/tools")
    config, _ = split(await response.get_data())
    assert config["endpoint"] == "https://example.com/tools/sentiero/events"


@pytest.mark.asyncio
@pytest.mark.parametrize("hops", [0, 1])
async def test_without_a_public_url_no_request_header_reaches_the_script(
    bundle: Path, hops: int
) -> None:
    """Ensure that the script (and its ETag) is the same whatever Host or
    forwarded headers a client sends, trusted or not: the recorder resolves
    ``events`` against its own ``src``."""
    app = app_for(trusted_proxy_hops=hops)
    plain = await get(app)
    for headers in (
        {"Host": "evil.example"},
        {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"},
        {"X-Forwarded-Host": 'evil"</script>'},
    ):
        forged = await get(app, headers=headers)
        assert await forged.get_data() == await plain.get_data()
        assert forged.headers["ETag"] == plain.headers["ETag"]
    config, _ = split(await plain.get_data())
    assert "endpoint" not in config


@pytest.mark.asyncio
async def test_config_cannot_close_a_script_element(bundle: Path) -> None:
    hostile = "</script><script>alert(1)</script>"
    response = await get(app_for(block_selector=hostile, recorder_options={"x": "<!--"}))
    data = await response.get_data()
    line = data.partition(b"\n")[0]
    assert b"<" not in line and b">" not in line
    config, _ = split(data)
    assert config["rrweb"]["blockSelector"] == hostile and config["rrweb"]["x"] == "<!--"


@pytest.mark.asyncio
async def test_unmasking_passwords_is_refused_from_every_source(bundle: Path) -> None:
    app = app_for(
        mask_input_options={"password": False},
        recorder_options={"maskInputOptions": {"password": False}},
    )
    config, _ = split(await (await get(app)).get_data())
    assert config["rrweb"]["maskInputOptions"]["password"] is True


@pytest.mark.asyncio
async def test_etag_and_short_cache(bundle: Path) -> None:
    app = app_for()
    async with app.test_app() as test_app:
        client = test_app.test_client()
        first = await client.get("/sentiero/recorder.js")
        etag = first.headers["ETag"]
        assert first.headers["Cache-Control"] == "public, max-age=300"
        again = await client.get("/sentiero/recorder.js", headers={"If-None-Match": etag})
        assert again.status_code == 304 and await again.get_data() == b""
        bundle.write_bytes(b"/* rebuilt, longer than before */\n")
        rebuilt = await client.get("/sentiero/recorder.js", headers={"If-None-Match": etag})
        assert rebuilt.status_code == 200 and rebuilt.headers["ETag"] != etag
        assert (await rebuilt.get_data()).endswith(b"/* rebuilt, longer than before */\n")


@pytest.mark.asyncio
async def test_no_cors_headers_needed_for_a_script(bundle: Path) -> None:
    response = await get(
        app_for(cors_origins=["https://shop.example"]), headers={"Origin": "https://shop.example"}
    )
    assert "Access-Control-Allow-Origin" not in response.headers
    assert response.headers["Cross-Origin-Resource-Policy"] == "cross-origin"


@pytest.mark.asyncio
async def test_missing_bundle_is_a_503_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(routes, "BUNDLE", BundleCache(tmp_path / "absent.js"))
    response = await get(app_for())
    assert response.status_code == 503
    assert b"console.error" in await response.get_data()


def test_served_over_http_with_the_committed_bundle() -> None:
    if not BUNDLE_PATH.exists():
        pytest.skip("the recorder bundle is not built")
    with LiveServer(app_for()) as server:
        response = httpx.get(server.url + "/sentiero/recorder.js", timeout=10)
    assert response.status_code == 200
    config, rest = split(response.content)
    assert "endpoint" not in config
    assert rest == BUNDLE_PATH.read_bytes()


@pytest.mark.parametrize("public_url", [None, "https://rec.example.com"])
def test_a_forged_host_never_reaches_a_cacheable_response(
    bundle: Path, public_url: str | None
) -> None:
    """Ensure that over real HTTP a forged ``Host`` header changes nothing a
    shared cache could keep: the script, its ETag and the redirect to the
    dashboard's trailing slash."""
    with LiveServer(app_for(public_url=public_url)) as server:
        script = server.url + "/sentiero/recorder.js"
        honest = httpx.get(script, timeout=10)
        forged = httpx.get(script, headers={"Host": "evil.example:666"}, timeout=10)
        redirect = httpx.get(server.url + "/sentiero", headers={"Host": "evil.example"})
    assert honest.headers["Cache-Control"] == forged.headers["Cache-Control"] == CACHE
    assert forged.content == honest.content and b"evil" not in forged.content
    assert forged.headers["ETag"] == honest.headers["ETag"]
    config, _ = split(forged.content)
    if public_url is None:
        assert "endpoint" not in config
    else:
        assert config["endpoint"] == "https://rec.example.com/sentiero/events"
    assert redirect.status_code == 308
    assert redirect.headers["Location"] == "/sentiero/"


def test_the_committed_extensions_register_before_the_recorder_boots() -> None:
    """Ensure that the built extension bundles exist and register under the
    names the recorder looks up."""
    for name in ("vitals", "console"):
        data = (STATIC / f"recorder-{name}.js").read_bytes()
        assert b"__SENTIERO_EXT__" in data and f'"{name}"'.encode() in data
