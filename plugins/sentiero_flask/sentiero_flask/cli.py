"""``flask sentiero purge`` and ``flask sentiero erase``.

They take exactly the flags of ``sentiero purge|erase`` (parsed by the same
code), with the app's Sentiero settings under ``--config`` and ``--store``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import click
from flask import current_app
from flask.cli import AppGroup

from sentiero_core import (
    CommandError,
    PluginError,
    SettingsError,
    add_erase_arguments,
    add_purge_arguments,
    run_erase,
    run_purge,
)

sentiero_group = AppGroup("sentiero", help="Sentiero's data lifecycle: purge and erase.")

RAW = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}


class ConfigurationError(click.ClickException):
    exit_code = 2


def _run(
    name: str,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    command: Callable[..., int],
    argv: list[str],
) -> None:
    parser = argparse.ArgumentParser(prog=f"flask sentiero {name}")
    add_arguments(parser)
    args = parser.parse_args(argv)
    options = current_app.extensions["sentiero"].options
    try:
        command(args, options)
    except (SettingsError, PluginError) as exc:
        raise ConfigurationError(f"configuration error: {exc}") from exc
    except CommandError as exc:
        raise click.ClickException(str(exc)) from exc


@sentiero_group.command("purge", context_settings=RAW, add_help_option=False)
@click.argument("argv", nargs=-1, type=click.UNPROCESSED)
def purge(argv: tuple[str, ...]) -> None:
    """Remove sessions older than retention_period (flags: --help)."""
    _run("purge", add_purge_arguments, run_purge, list(argv))


@sentiero_group.command("erase", context_settings=RAW, add_help_option=False)
@click.argument("argv", nargs=-1, type=click.UNPROCESSED)
def erase(argv: tuple[str, ...]) -> None:
    """Erase the sessions matching every filter given (flags: --help)."""
    _run("erase", add_erase_arguments, run_erase, list(argv))
