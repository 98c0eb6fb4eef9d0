"""The plugin manager: built-in features and installed plugins alike.

Built-ins are registered first, then distributions declaring an entry point
in the ``sentiero`` group. ``SENTIERO_LOAD_PLUGINS`` picks which installed
plugins load: unset loads all, an empty value loads none, and a
comma-separated list of entry-point names loads just those.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pluggy
from pluggy import HookCaller

from . import hookspecs
from .utils import await_me_maybe

ENTRY_POINT_GROUP = "sentiero"
LOAD_PLUGINS_ENV = "SENTIERO_LOAD_PLUGINS"

DEFAULT_PLUGINS = (
    "sentiero_core.builtins.memory_store",
    "sentiero_core.builtins.redaction",
    "sentiero_core.builtins.retention",
    "sentiero_core.ingest.routes",
    "sentiero_core.recorder.routes",
    "sentiero_core.dashboard.routes",
    "sentiero_core.api.routes",
    "sentiero_core.api.plugins",
    "sentiero_core.api.analyzers",
)


class PluginError(RuntimeError):
    """A plugin could not be loaded or implements an unknown hook."""


def get_plugin_manager(
    *, load_entrypoints: bool = True, environ: Mapping[str, str] | None = None
) -> pluggy.PluginManager:
    """A fresh plugin manager with the built-ins and the installed plugins."""
    pm = pluggy.PluginManager("sentiero")
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        module = importlib.import_module(name)
        pm.register(module, name=name)
    if load_entrypoints:
        _load_entrypoints(pm, os.environ if environ is None else environ)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        raise PluginError(str(exc)) from exc
    _refuse_wrappers(pm)
    return pm


def _refuse_wrappers(pm: pluggy.PluginManager) -> None:
    # call_each calls implementations one by one; a wrapper would need
    # pluggy's own calling loop, and an async hook cannot be wrapped anyway
    for name in pm.hook.__dict__:
        for impl in getattr(pm.hook, name).get_hookimpls():
            if impl.hookwrapper or impl.wrapper:
                raise PluginError(
                    f"plugin {impl.plugin_name!r} wraps the hook {name!r}: "
                    "Sentiero hooks take plain implementations only"
                )


def _load_entrypoints(pm: pluggy.PluginManager, environ: Mapping[str, str]) -> None:
    wanted = environ.get(LOAD_PLUGINS_ENV)
    try:
        if wanted is None:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
            return
        for name in {n.strip() for n in wanted.split(",") if n.strip()}:
            if pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP, name=name) == 0:
                raise PluginError(f"{LOAD_PLUGINS_ENV} names {name!r}, which is not installed")
    except PluginError:
        raise
    except Exception as exc:
        raise PluginError(f"a plugin failed to load: {exc!r}") from exc


def describe_plugins(pm: pluggy.PluginManager) -> list[dict[str, Any]]:
    """One entry per distribution providing plugins: name, version, the
    entry points (or built-in modules) and the hooks they implement."""
    dist_of = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    grouped: dict[str, dict[str, Any]] = {}
    for name, plugin in pm.list_name_plugin():
        if plugin is hookspecs or plugin is None:
            continue
        dist = dist_of.get(id(plugin))
        if dist is not None:
            dist_name, version = dist.project_name, dist.version
        else:
            dist_name, version = "sentiero-core", _core_version()
        entry = grouped.setdefault(
            dist_name, {"name": dist_name, "version": version, "plugins": [], "hooks": []}
        )
        entry["plugins"].append(name)
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or [])
        entry["hooks"] = sorted(set(entry["hooks"]) | set(hooks))
    return sorted(grouped.values(), key=lambda e: (e["name"] != "sentiero-core", e["name"]))


def _core_version() -> str:
    try:
        return importlib.metadata.version("sentiero-core")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True)
class HookResult:
    """What one plugin's implementation of a hook returned, or raised."""

    plugin_name: str
    value: Any = None
    error: Exception | None = None

    def get(self) -> Any:
        """The value as returned (for synchronous hooks); re-raises the error."""
        if self.error is not None:
            raise self.error
        return self.value

    async def resolve(self) -> Any:
        """The value with awaitables and callables resolved by
        :func:`~sentiero_core.utils.await_me_maybe`; re-raises the error."""
        return await await_me_maybe(self.get())


def call_each(hook: HookCaller, /, **kwargs: Any) -> Iterator[HookResult]:
    """Call a hook's implementations one at a time, in pluggy's order, each
    with the arguments it names. A generator: each is called only once the
    previous result was taken (and awaited, for async call sites), and an
    exception is handed back as the result, so one plugin's failure neither
    skips the others nor loses the name of the plugin that failed."""
    for impl in reversed(hook.get_hookimpls()):
        try:
            value = impl.function(*[kwargs[name] for name in impl.argnames])
        except Exception as exc:
            yield HookResult(impl.plugin_name, error=exc)
        else:
            yield HookResult(impl.plugin_name, value)
