"""The ``Sentiero`` Flask extension."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, got_request_exception, has_request_context, request
from markupsafe import Markup

from sentiero_core import Settings, SettingsError, load_settings, script_tag

OPT_OUT_SETTING = "SENTIERO_REPORTER_MIDDLEWARE"


class Sentiero:
    """Sentiero for one or more Flask apps.

    ``settings`` default to ``app.config["SENTIERO"]`` (a dict of
    :class:`sentiero_core.Settings` options laid over ``$SENTIERO_CONFIG``
    and ``SENTIERO_*`` variables); a bad key or value raises
    :class:`sentiero_core.SettingsError` naming it, when the extension is
    initialised. ``reporter`` forces the reporter's middleware on or off."""

    def __init__(
        self,
        app: Flask | None = None,
        settings: Settings | None = None,
        *,
        reporter: bool | None = None,
    ) -> None:
        self.settings = settings
        self.reporter = reporter
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask, settings: Settings | None = None) -> None:
        settings = settings or self.settings
        if settings is None:
            options = _config_options(app)
            settings = load_settings(**options)
        else:
            options = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings)}
        app.extensions["sentiero"] = _State(settings, options)

        def sentiero_script_tag(**tag_options: Any) -> Markup:
            page = request if has_request_context() else None
            return script_tag(settings, page, **tag_options)

        app.jinja_env.globals["sentiero_script_tag"] = sentiero_script_tag

        if _reporter_wanted(app, self.reporter):
            from sentiero_reporter import WSGIReporterMiddleware

            app.wsgi_app = WSGIReporterMiddleware(app.wsgi_app)  # type: ignore[method-assign]
            got_request_exception.connect(_report, app)

        from .cli import sentiero_group

        app.cli.add_command(sentiero_group)


@dataclasses.dataclass
class _State:
    settings: Settings
    #: what the CLI lays over --config and the environment
    options: dict[str, Any]


def get_settings(app: Flask | None = None) -> Settings:
    """The Sentiero settings of ``app`` (the current app by default)."""
    state = (app or current_app).extensions.get("sentiero")
    if state is None:
        raise RuntimeError("Sentiero(app) or init_app(app) has not been called for this app")
    return state.settings  # type: ignore[no-any-return]


def _config_options(app: Flask) -> dict[str, Any]:
    options = app.config.get("SENTIERO") or {}
    if not isinstance(options, Mapping):
        raise SettingsError(
            f"app.config['SENTIERO'] must be a dict of Sentiero options, "
            f"not {type(options).__name__}"
        )
    return dict(options)


def _reporter_wanted(app: Flask, forced: bool | None) -> bool:
    if forced is not None:
        return forced
    if not app.config.get(OPT_OUT_SETTING, True):
        return False
    try:
        import sentiero_reporter
    except ImportError:
        return False
    return bool(sentiero_reporter.get_reporter().active)


def _report(sender: Flask, exception: BaseException, **_: Any) -> None:
    # Flask answers 500 itself and the error never reaches the middleware,
    # unless it propagates (PROPAGATE_EXCEPTIONS, testing, debug): then the
    # middleware reports it, and reporting here as well would double it.
    propagate = sender.config.get("PROPAGATE_EXCEPTIONS")
    if propagate is None:
        propagate = sender.testing or sender.debug
    if propagate:
        return
    import sentiero_reporter

    sentiero_reporter.notify(exception)
