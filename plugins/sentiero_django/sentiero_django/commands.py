"""What ``sentiero_purge`` and ``sentiero_erase`` share: the core CLI's
flags and code, with settings from ``settings.SENTIERO``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from django.core.management.base import CommandError

from sentiero_core import CommandError as LifecycleError
from sentiero_core import PluginError, SettingsError

from .conf import sentiero_options


class _Lines:
    """``print`` to a command's stdout (which adds its own line endings)."""

    def __init__(self, out: Any) -> None:
        self.out = out

    def write(self, text: str) -> int:
        self.out.write(text, ending="")
        return len(text)

    def flush(self) -> None:
        self.out.flush()


def run(command: Callable[..., int], options: dict[str, Any], stdout: Any) -> None:
    import contextlib

    args = argparse.Namespace(**options)
    try:
        with contextlib.redirect_stdout(_Lines(stdout)):  # type: ignore[type-var]
            command(args, sentiero_options())
    except (SettingsError, PluginError) as exc:
        raise CommandError(f"configuration error: {exc}") from exc
    except LifecycleError as exc:
        raise CommandError(str(exc)) from exc
