"""Error responses for dashboard pages (HTML) and the JSON API.

Installed at start-up as the app's handler for HTTP errors, it only shapes
errors of paths under the mount that are not public routes; everything else
(ingest, the recorder script, the host app) keeps its own error bodies.
"""

from __future__ import annotations

from typing import Any

import orjson
from quart import Quart, Response, request
from werkzeug.exceptions import HTTPException, InternalServerError

from ..app import get_state, render
from ..store import StoreUnavailable

TITLES = {
    400: "Bad request",
    401: "Sign-in required",
    403: "Access denied",
    404: "Not found",
    405: "Method not allowed",
    413: "Too large",
    500: "Something went wrong",
    503: "Store unavailable",
}


def json_error(status: int, message: str) -> Response:
    return Response(orjson.dumps({"error": message}), status=status, mimetype="application/json")


async def error_page(status: int, message: str) -> Any:
    body = await render(
        "error.html", status=status, title=TITLES.get(status, "Error"), message=message
    )
    return body, status


def _is_api(path: str, mount: str) -> bool:
    return path.startswith(mount + "/api/")


def _ours(path: str, mount: str) -> bool:
    if not (path == mount or path.startswith(mount + "/")):
        return False
    route = get_state().routes.get(request.endpoint or "")
    return route is None or not route.public


async def handle_http_error(error: HTTPException) -> Any:
    mount = get_state().settings.mount_path
    path = request.path
    if not _ours(path, mount) or error.code is None:
        return error
    status, message = error.code, error.description or TITLES.get(error.code, "Error")
    if isinstance(error, InternalServerError):
        original = getattr(error, "original_exception", None)
        if isinstance(original, StoreUnavailable):
            status, message = 503, f"The session store is unavailable: {original}"
        else:
            message = "The server failed to answer this request; the error is in its log."
    if _is_api(path, mount):
        response = json_error(status, message)
    else:
        body, status = await error_page(status, message)
        response = Response(body, status=status, mimetype="text/html")
    for name, value in error.get_headers():
        # keep challenges such as WWW-Authenticate and Allow
        if name.lower() not in ("content-type", "content-length"):
            response.headers[name] = value
    return response


def install(app: Quart) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
