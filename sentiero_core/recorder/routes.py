"""``GET <mount>/recorder.js``: the config line, the extension bundles of
the opt-in captures that are on (web vitals, console), then the recorder
bundle: one response, so a page needs one tag and one request, and a page
without those captures never downloads their code.

Nothing in the response depends on the request: with ``public_url`` set the
config carries the absolute ``events`` URL built from it; without, it
carries none and the recorder posts to ``events`` beside its own ``src``.
A shared cache may then keep the script for everyone: a forged ``Host``
header can never reach another visitor's copy.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from quart import Response, request

from ..app import get_state
from ..hookspecs import hookimpl
from ..routing import Route
from ..settings import Settings
from .bundle import BUNDLE, CONSOLE_BUNDLE, VITALS_BUNDLE, Bundle, BundleMissing
from .config import config_line, recorder_config

log = logging.getLogger("sentiero.recorder")

#: short: settings changes reach visitors within minutes; ETag saves the bytes
CACHE_CONTROL = "public, max-age=300"


def events_url(settings: Settings) -> str | None:
    """``<public_url><mount>/events``, or ``None`` without ``public_url``:
    the recorder then resolves ``events`` against its own script URL, which
    works from any origin and never comes from a request's ``Host``."""
    if settings.public_url is None:
        return None
    return f"{settings.public_url}{settings.mount_path}/events"


def bundles(settings: Settings) -> list[Bundle]:
    """What follows the config line, in order."""
    chosen = [VITALS_BUNDLE] if settings.capture_web_vitals else []
    if settings.capture_console:
        chosen.append(CONSOLE_BUNDLE)
    # the extensions register themselves before the recorder boots
    return [cache.get() for cache in [*chosen, BUNDLE]]


async def recorder_js() -> Response:
    settings = get_state().settings
    try:
        parts = bundles(settings)
    except BundleMissing as exc:
        log.error("%s", exc)
        return Response(
            b"console.error('Sentiero: the recorder bundle is not built');\n",
            status=503,
            content_type="text/javascript; charset=utf-8",
        )
    head = config_line(recorder_config(settings, events_url(settings)))
    digests = "".join(part.digest for part in parts).encode()
    etag = hashlib.sha256(head + digests).hexdigest()[:32]
    if request.if_none_match.contains(etag):
        response = Response(b"", status=304)
    else:
        # ";" between bundles: each must end its statement whatever it ends with
        body = head + b";\n".join(part.data for part in parts)
        response = Response(body, content_type="text/javascript; charset=utf-8")
    response.set_etag(etag)
    response.headers["Cache-Control"] = CACHE_CONTROL
    # loadable from pages that isolate themselves (COEP)
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@hookimpl
def register_routes(settings: Settings) -> list[Any]:
    return [
        Route(
            "/recorder.js",
            recorder_js,
            methods=("GET",),
            public=True,
            name="sentiero.recorder_js",
            csrf=False,
        )
    ]
