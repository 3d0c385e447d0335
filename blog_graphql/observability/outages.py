"""Logging for loops that retry through an outage: one traceback an outage, not one a pass.

A background loop (the scheduler, an outbox relay) polling a database that is down would
otherwise print the same traceback every second, burying the first one, which says why.
"""

from __future__ import annotations

import logging


class OutageLog:
    """Remembers whether the last pass failed, so that only the first failure is a traceback."""

    def __init__(self, logger: logging.Logger, what: str) -> None:
        self.logger = logger
        self.what = what
        self.failing = False

    def failed(self, error: BaseException) -> None:
        """Call from an `except` block: the first failure logs its traceback, later ones a line."""
        if self.failing:
            self.logger.warning("%s still failing: %s", self.what, error)
        else:
            self.logger.exception("%s failed; trying again", self.what)
        self.failing = True

    def succeeded(self) -> None:
        if self.failing:
            self.logger.info("%s works again", self.what)
        self.failing = False
