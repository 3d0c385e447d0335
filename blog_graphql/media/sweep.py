"""The orphan sweep: stored objects whose image row is gone are removed.

An image's row is deleted in a transaction; its files can only go after the commit, and a
crash in between (or a row removed by a cascade, as when a user is deleted: the images
follow the user through `ON DELETE CASCADE`, whoever deletes the user) would leave them
stored for ever. The storage itself is the record of what may need removing: every key
names its image's token, and a token no committed row holds any more is an orphan.

Only an upload's original (`u/...`) is written before its row commits, so only an original
younger than `GRACE` is left alone; a variant (`i/...`, the only objects served) is written
for a committed row, so one whose row is gone goes on the next pass. Removal is idempotent:
sweeps on several workers at once do no harm.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select

from blog_graphql.config.settings import Settings
from blog_graphql.db.database import Database, utcnow
from blog_graphql.media.models import Image
from blog_graphql.media.storage import Storage, storage_for

logger = logging.getLogger("blog_graphql.media")

GRACE = timedelta(hours=1)  # far longer than any upload's request
SWEEP_INTERVAL_SECONDS = 300.0  # one listing of the storage each pass
BATCH_SIZE = 500


def token_of(key: str) -> str:
    return key.split("/")[1]  # u/<token> or i/<token>/<name>.<ext>


async def sweep_orphans(
    db: Database, storage: Storage, *, now: datetime | None = None, grace: timedelta = GRACE
) -> int:
    """One pass: removes every variant whose image row is gone, and every original older
    than `grace` whose row is gone (or never came); returns how many it removed."""
    cutoff = (now or utcnow()) - grace
    by_token: dict[str, list[str]] = defaultdict(list)
    for key, written in await storage.listing():
        if key.startswith("i/") or written <= cutoff:
            by_token[token_of(key)].append(key)
    tokens = sorted(by_token)
    orphans: list[str] = []
    for start in range(0, len(tokens), BATCH_SIZE):
        batch = tokens[start : start + BATCH_SIZE]
        async with db.session() as session:
            alive = set(await session.scalars(select(Image.token).where(Image.token.in_(batch))))
        orphans += [key for token in batch if token not in alive for key in by_token[token]]
    await storage.delete(orphans)
    return len(orphans)


async def sweep_forever(db: Database, settings: Settings) -> None:
    storage = storage_for(settings)
    while True:
        try:
            removed = await sweep_orphans(db, storage)
        except Exception:  # the database or the storage may be away; the next pass tries again
            logger.exception("media orphan sweep failed")
        else:
            if removed:
                logger.info("media sweep removed %d orphaned object(s)", removed)
        await asyncio.sleep(SWEEP_INTERVAL_SECONDS)
