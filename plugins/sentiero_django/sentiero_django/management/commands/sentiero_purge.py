"""``manage.py sentiero_purge``: ``sentiero purge`` with the project's settings."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sentiero_core import add_purge_arguments, run_purge

from ...commands import run


class Command(BaseCommand):
    help = (
        "Remove sessions whose last activity is older than retention_period "
        "(or --older-than); the flags of `sentiero purge`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_purge_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        run(run_purge, options, self.stdout)
