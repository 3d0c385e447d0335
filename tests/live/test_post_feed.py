"""The post feed in process: one read per event whatever the subscribers, then a decision
per subscriber (the WebSocket paths are in test_post_subscriptions)."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack, aclosing

import pytest

from blog_graphql.errors import NotFound
from blog_graphql.live.hub import LiveHub
from blog_graphql.live.pubsub import InProcessBroker, PubSub
from blog_graphql.live.sockets import LiveSockets
from blog_graphql.posts import service
from blog_graphql.posts.events import PUBLISHED_CHANNEL, post_channel
from blog_graphql.posts.live import PostFeed
from blog_graphql.posts.service import PostChanges
from blog_graphql.posts.snapshot import load_post_snapshot
from tests.factories import create_comment, create_post, create_user
from tests.live.test_comment_feed import first_changes
from tests.waiting import eventually

SUBSCRIBERS = 300
SNAPSHOT_READ = f"{PostFeed.__module__}.load_post_snapshot"  # as the feed calls it


def in_process_feed(db) -> tuple[PostFeed, PubSub]:
    pubsub = PubSub(InProcessBroker, prefix="test:", queue_size=4)
    sockets = LiveSockets(db, per_address=1, check_seconds=3600)
    return PostFeed(db, LiveHub(pubsub=pubsub, sockets=sockets)), pubsub


async def test_many_subscribers_of_a_post_cost_one_read_per_event(db, sql_log):
    ada, bob = await create_user(db), await create_user(db)
    admin = await create_user(db, is_admin=True)
    post = await create_post(db, author=ada)
    await create_comment(db, post=post, author=bob, approved=False)
    feed, pubsub = in_process_feed(db)
    viewers = [None, ada, bob, admin]
    sql_log.clear()
    async with AsyncExitStack() as stack:
        streams = [
            await stack.enter_async_context(aclosing(feed.watch(None, viewer, post.id)))
            for n in range(SUBSCRIBERS)
            for viewer in [viewers[n % len(viewers)]]
        ]
        firsts = await first_changes(pubsub, streams, post_channel(post.id))
        # Each subscription reads the post once after it listens: a cost of subscribing.
        await eventually(
            lambda: len(sql_log.statements()) == 2 * SUBSCRIBERS, what="each first read"
        )
        await service.update_post(db, ada, post.id, PostChanges(title="New"))
        sql_log.clear()
        await feed.post_changed("updated", post.id)
        seen = await asyncio.gather(*firsts)
    assert {event.kind for event in seen} == {"updated"}
    counts = {
        label: event.snapshot.comment_count(viewer)
        for label, viewer, event in zip(["anonymous", "author", "commenter", "admin"],
                                        viewers, seen, strict=False)
    }  # fmt: skip
    assert counts == {"anonymous": 0, "author": 0, "commenter": 1, "admin": 1}
    assert len(sql_log.statements()) == 2  # the post with its counts; waiting comments by author


async def test_many_post_published_subscribers_cost_one_read_per_publication(db, sql_log):
    ada = await create_user(db)
    draft = await create_post(db, author=ada, published=False)
    feed, pubsub = in_process_feed(db)
    async with AsyncExitStack() as stack:
        streams = [
            await stack.enter_async_context(aclosing(feed.published(None)))
            for _ in range(SUBSCRIBERS)
        ]
        firsts = await first_changes(pubsub, streams, PUBLISHED_CHANNEL)
        await service.publish_post(db, ada, draft.id)
        sql_log.clear()
        await feed.post_changed("published", draft.id)
        published = await asyncio.gather(*firsts)
    assert {snapshot.row.id for snapshot in published} == {draft.id}
    assert len(sql_log.statements()) == 2


async def test_a_post_unpublished_just_after_the_first_read_ends_the_subscription(db, monkeypatch):
    """The subscription listens before it reads the post, so a change right after that
    read is heard of: here the post goes, and the subscriber is told, then NOT_FOUND."""
    ada = await create_user(db)
    post = await create_post(db, author=ada)
    feed, _pubsub = in_process_feed(db)

    async def read_then_unpublish(db_, post_id):
        snapshot = await load_post_snapshot(db_, post_id)
        monkeypatch.setattr(SNAPSHOT_READ, load_post_snapshot)
        await service.unpublish_post(db, ada, post_id)
        await feed.post_changed("unpublished", post_id)  # what the service announces
        return snapshot

    monkeypatch.setattr(SNAPSHOT_READ, read_then_unpublish)
    async with aclosing(feed.watch(None, None, post.id)) as stream:
        seen = await asyncio.wait_for(anext(stream), timeout=10)
        assert (seen.kind, seen.snapshot) == ("unpublished", None)
        with pytest.raises(NotFound):
            await asyncio.wait_for(anext(stream), timeout=10)
