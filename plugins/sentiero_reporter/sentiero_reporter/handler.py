"""A logging.Handler, so that logger.exception(...) reports too."""

from __future__ import annotations

import logging
from typing import Any


class ReporterHandler(logging.Handler):
    """Reports every record that carries an exception (``logger.exception``,
    ``exc_info=True``); other records are left to the other handlers."""

    def __init__(self, level: int = logging.ERROR, reporter: Any = None) -> None:
        super().__init__(level)
        self._reporter = reporter

    def emit(self, record: logging.LogRecord) -> None:
        # The reporter's own warnings must not loop back into it.
        if record.name == "sentiero_reporter" or record.name.startswith("sentiero_reporter."):
            return
        if not record.exc_info or record.exc_info[1] is None:
            return
        try:
            if self._reporter is not None:
                reporter = self._reporter
            else:
                from . import get_reporter

                reporter = get_reporter()
            reporter.notify(
                record.exc_info[1],
                context={"logger": record.name, "log_message": record.getMessage()},
                level=record.levelname.lower(),
            )
        except Exception:
            self.handleError(record)
