"""The loop every outbox relay runs beside the actors: one pass an interval, until cancelled.

Emails, images, notification fan-outs and webhook deliveries each keep their rows as the
truth and hand over what no message came for; only their pass differs, so the loop is one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from blog_graphql.config.settings import Settings
from blog_graphql.db.database import Database
from blog_graphql.jobs.workers import Background
from blog_graphql.observability.outages import OutageLog

# One pass of a relay: hands over what is due and returns how many it handed over.
RelayPass = Callable[[Database, Settings], Awaitable[int]]


def relay_loop(what: str, one_pass: RelayPass, logger: logging.Logger) -> Background:
    """A background loop running `one_pass` every OUTBOX_RELAY_INTERVAL_SECONDS."""

    async def relay_forever(db: Database, settings: Settings) -> None:
        outage = OutageLog(logger, f"the {what} relay")
        while True:
            try:
                handed = await one_pass(db, settings)
            except Exception as error:  # the database may be down; the next pass tries again
                outage.failed(error)
            else:
                outage.succeeded()
                if handed:
                    logger.info("%s relay handed %d %s(s) to the broker", what, handed, what)
            await asyncio.sleep(settings.outbox_relay_interval_seconds)

    return relay_forever
