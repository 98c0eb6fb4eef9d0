"""The reporter in Django: unhandled view errors reported when it is configured.

Django turns an unhandled exception into a 500 page itself, so no
middleware ever sees it; its ``got_request_exception`` signal does. The
handler reports through ``sentiero_reporter`` when that is installed and
configured (endpoint, key and project set) and ``SENTIERO_REPORTER_MIDDLEWARE``
is not False.
"""

from __future__ import annotations

import sys
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import DisallowedHost
from django.core.signals import got_request_exception

OPT_OUT_SETTING = "SENTIERO_REPORTER_MIDDLEWARE"


def _reporter() -> Any:
    try:
        import sentiero_reporter
    except ImportError:
        return None
    return sentiero_reporter.get_reporter()


def reporter_wanted() -> bool:
    """The reporter is installed, configured, and not switched off for Django."""
    if not getattr(django_settings, OPT_OUT_SETTING, True):
        return False
    reporter = _reporter()
    return bool(reporter is not None and reporter.active)


def connect() -> None:
    got_request_exception.connect(_report, dispatch_uid="sentiero_django.report")


def _report(sender: Any, request: Any = None, **_: Any) -> None:
    # With DEBUG_PROPAGATE_EXCEPTIONS the error leaves Django and the ASGI
    # middleware (with_sentiero) reports it; reporting here too would double it.
    if django_settings.DEBUG_PROPAGATE_EXCEPTIONS or not reporter_wanted():
        return
    exc = sys.exc_info()[1]
    if exc is None:
        return
    from sentiero_reporter import scope

    reporter = _reporter()
    token = scope.set_request(lambda: describe(request, reporter.config))
    try:
        reporter.notify(exc)
    finally:
        scope.reset_request(token)


def describe(request: Any, config: Any) -> dict[str, Any]:
    """The reporter's request data from a Django request."""
    from sentiero_reporter.requests import request_data

    meta = request.META
    headers = list(request.headers.items())
    try:
        host = request.get_host()
    except DisallowedHost:
        host = str(meta.get("SERVER_NAME", ""))
    return request_data(
        request.method or "GET",
        request.scheme or "http",
        host,
        request.path,
        meta.get("QUERY_STRING", ""),
        headers,
        config.session_cookie_name,
        config.window_cookie_name,
    )
