"""``manage.py sentiero_erase``: ``sentiero erase`` with the project's settings."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from sentiero_core import add_erase_arguments, run_erase

from ...commands import run


class Command(BaseCommand):
    help = (
        "Erase the sessions matching every filter given (right to erasure); "
        "the flags of `sentiero erase`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        add_erase_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        run(run_erase, options, self.stdout)
