"""Building the store named by ``store_url`` from the factories that
plugins offer (the ``store_factories`` hook)."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

import pluggy

from .plugins import call_each
from .settings import Settings, SettingsError
from .store import Store
from .types import StoreFactory

log = logging.getLogger("sentiero")

DEFAULT_STORE_URL = "sqlite:///sentiero.db"
KNOWN_DISTRIBUTIONS = {
    "sqlite": "sentiero-store-sqlite",
    "mongodb": "sentiero-store-mongo",
    "mongodb+srv": "sentiero-store-mongo",
}


def store_factories(pm: pluggy.PluginManager) -> dict[str, StoreFactory]:
    """Every offered factory by lower-cased scheme; two plugins offering one
    scheme is a :class:`SettingsError` naming both."""
    factories: dict[str, StoreFactory] = {}
    offered_by: dict[str, str] = {}
    for result in call_each(pm.hook.store_factories):
        for scheme, factory in (result.get() or {}).items():
            key = scheme.lower()
            if key in factories:
                raise SettingsError(
                    f"store_url: the plugins {offered_by[key]!r} and {result.plugin_name!r} "
                    f"both offer the scheme {key!r}"
                )
            factories[key] = factory
            offered_by[key] = result.plugin_name
    return factories


def build_store(pm: pluggy.PluginManager, settings: Settings) -> Store:
    """An unopened store for ``settings.store_url``. Without a URL the
    embedded SQLite store is used when installed, else memory (with a warning).

    :class:`SettingsError` when no installed store handles the URL, or when
    its factory refuses it (with :class:`SettingsError` or :class:`ValueError`)."""
    factories = store_factories(pm)
    url = settings.store_url
    if url is None:
        if "sqlite" in factories:
            url = DEFAULT_STORE_URL
        else:
            log.warning(
                "no store_url and no SQLite store installed: recordings live in memory only"
            )
            url = "memory://"
    scheme = urlsplit(url).scheme.lower()
    if not scheme or scheme not in factories:
        known = ", ".join(sorted(f"{s}://" for s in factories)) or "none"
        hint = KNOWN_DISTRIBUTIONS.get(scheme)
        advice = f"; pip install {hint}" if hint else ""
        raise SettingsError(
            f"store_url: no installed store handles {url.split('://')[0]!r} URLs "
            f"(installed: {known}{advice})"
        )
    try:
        store = factories[scheme](url, settings)
    except SettingsError:
        raise
    except ValueError as exc:
        # A factory refuses a URL it cannot use with ValueError (or
        # SettingsError): a configuration mistake, reported like one.
        message = str(exc)
        if not message.startswith("store_url"):
            message = f"store_url: {url.split('://')[0]!r} store refused the URL: {message}"
        raise SettingsError(message) from exc
    if not isinstance(store, Store):
        raise SettingsError(
            f"store_url: the {scheme!r} factory returned {type(store).__name__}, not a Store"
        )
    return store
