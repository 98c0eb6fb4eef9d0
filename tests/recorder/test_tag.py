"""The script-tag helpers: the plain function and the Jinja2 global."""

from __future__ import annotations

from typing import Any

import jinja2
import pytest
from quart import Quart, render_template_string

from sentiero_core import Settings
from sentiero_core.recorder import install_jinja, script_tag


def test_default_tag() -> None:
    assert script_tag(Settings()) == '<script src="/sentiero/recorder.js" defer></script>'


def test_mount_base_url_and_nonce() -> None:
    tag = script_tag(Settings(), mount="/rec/", base_url="https://rec.example/", nonce='n"1')
    assert tag == (
        '<script src="https://rec.example/rec/recorder.js" nonce="n&#34;1" defer></script>'
    )


def test_settings_mount_is_used() -> None:
    assert 'src="/r/recorder.js"' in script_tag(Settings(mount_path="/r"))


class ScopeOnly:
    """A Starlette-style request: the root path lives in the ASGI scope."""

    scope = {"root_path": "/app/"}


def test_request_root_path_prefixes_the_mount() -> None:
    assert 'src="/app/sentiero/recorder.js"' in script_tag(Settings(), ScopeOnly())


def test_src_is_escaped() -> None:
    tag = script_tag(Settings(), base_url='https://x.example/"><script>')
    assert '"><script>' not in tag and "&#34;&gt;&lt;script&gt;" in tag


def test_jinja_global_in_a_plain_environment() -> None:
    env = jinja2.Environment(autoescape=True)
    install_jinja(env, Settings(), base_url="https://rec.example")
    html = env.from_string("<head>{{ sentiero_script_tag() }}</head>").render()
    assert (
        html
        == '<head><script src="https://rec.example/sentiero/recorder.js" defer></script></head>'
    )
    nonce = env.from_string("{{ sentiero_script_tag(nonce='abc') }}").render()
    assert 'nonce="abc"' in nonce


@pytest.mark.asyncio
async def test_jinja_global_in_a_quart_app_uses_the_request_root_path() -> None:
    host = Quart(__name__)
    install_jinja(host, Settings())

    @host.route("/")
    async def index() -> Any:
        return await render_template_string("{{ sentiero_script_tag() }}")

    client = host.test_client()
    plain = await (await client.get("/")).get_data(as_text=True)
    assert plain == '<script src="/sentiero/recorder.js" defer></script>'
    mounted = await (await client.get("/shop/", root_path="/shop")).get_data(as_text=True)
    assert mounted == '<script src="/shop/sentiero/recorder.js" defer></script>'


def test_public_url_is_the_default_base() -> None:
    settings = Settings(public_url="https://rec.example.com/tools/")
    assert 'src="https://rec.example.com/tools/sentiero/recorder.js"' in script_tag(
        settings, ScopeOnly()
    )
    assert 'src="https://other.example/sentiero/recorder.js"' in script_tag(
        settings, base_url="https://other.example"
    )
