"""What a resuming `commentEvents(after:)` subscriber missed, read from its post's stream.

The missed events come from the stream in its order and their comments from the database
in one statement per thousand, as they are now; each subscriber then filters them as it
filters live events. When the stream no longer reaches back to the cursor, a single
RESET stands for everything missed.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from blog_graphql.comments import events
from blog_graphql.comments.changes import Change, change_of, reset
from blog_graphql.comments.cursors import EventCursors
from blog_graphql.comments.loaders import load_comments_with_authors
from blog_graphql.db.database import Database
from blog_graphql.live.pubsub import PubSub
from blog_graphql.live.streams import StreamId, parse_stream_id


@dataclass(frozen=True)
class Missed:
    changes: list[Change]  # oldest first, before any per-viewer filter
    up_to: StreamId  # live events at or below this id are among `changes` (or the RESET's)


async def missed_since(
    db: Database, pubsub: PubSub, cursors: EventCursors, post_id: int, after: StreamId
) -> Missed:
    """Changes on the post after `after`, or a RESET when they are no longer all kept."""
    replay = await pubsub.read_after(events.post_stream(post_id), after)
    up_to = max(after, parse_stream_id(replay.last))
    if not replay.covered:
        return Missed([reset(post_id, cursors.encode(post_id, replay.last))], up_to)
    messages = [{**orjson.loads(data), "sid": sid} for sid, data in replay.entries]
    loaded = await load_comments_with_authors(db, [int(message["id"]) for message in messages])
    changes = [change_of(message, loaded.get(int(message["id"])), cursors) for message in messages]
    return Missed(changes, up_to)
