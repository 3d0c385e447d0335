"""The comment feed in process: one load per event whatever the subscribers, then a
filter per subscriber (the HTTP and WebSocket paths are in test_comment_subscriptions)."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack, aclosing

import pytest

from blog_graphql.comments.cursors import EventCursors
from blog_graphql.comments.events import NO_EVENTS, post_channel
from blog_graphql.comments.live import CommentFeed
from blog_graphql.errors import NotFound
from blog_graphql.live.hub import LiveHub
from blog_graphql.live.pubsub import InProcessBroker, PubSub
from blog_graphql.live.sockets import LiveSockets
from blog_graphql.posts import service as posts
from blog_graphql.posts.queries import post_is_visible
from tests.factories import create_comment, create_post, create_user
from tests.waiting import eventually


def in_process_feed(db) -> tuple[CommentFeed, PubSub]:
    pubsub = PubSub(InProcessBroker, prefix="test:", queue_size=4)
    sockets = LiveSockets(db, per_address=1, check_seconds=3600)
    feed = CommentFeed(db, LiveHub(pubsub=pubsub, sockets=sockets), EventCursors("test-key"))
    return feed, pubsub


async def first_changes(pubsub: PubSub, streams, channel: str):
    """Start every stream; once all listen, the tasks that await their first change."""
    firsts = [asyncio.create_task(anext(stream)) for stream in streams]
    await eventually(
        lambda: pubsub.listening(channel) == len(firsts), what="every subscriber listening"
    )
    return firsts


async def test_a_thousand_subscribers_of_one_post_cost_one_load_per_event(db, sql_log):
    ada, bob = await create_user(db), await create_user(db)
    post = await create_post(db, author=ada)
    comment = await create_comment(db, post=post, author=bob, events=NO_EVENTS)
    feed, pubsub = in_process_feed(db)
    sql_log.clear()
    async with AsyncExitStack() as stack:
        streams = [
            await stack.enter_async_context(aclosing(feed.added(None, None, post.id)))
            for _ in range(1000)
        ]
        firsts = await first_changes(pubsub, streams, post_channel(post.id))
        # Each subscription checks the post once, after it listens (so it cannot miss
        # the post being hidden meanwhile): a cost of subscribing, not of events.
        await eventually(
            lambda: len(sql_log.statements()) == 1000, what="each subscriber's post check"
        )
        sql_log.clear()
        await feed.comment_committed("added", comment)
        changes = await asyncio.gather(*firsts)
    assert {(change.comment_id, change.author.username) for change in changes} == {
        (comment.id, bob.username)
    }
    assert len(changes) == 1000
    assert len(sql_log.statements()) == 1  # the comment with its author, once


async def test_a_waiting_comment_reaches_only_its_author_and_admins_in_the_thread(db):
    ada, bob = await create_user(db), await create_user(db)
    admin = await create_user(db, is_admin=True)
    post = await create_post(db, author=ada)
    feed, pubsub = in_process_feed(db)
    viewers = {"anonymous": None, "post author": ada, "comment author": bob, "admin": admin}
    async with AsyncExitStack() as stack:
        streams = [
            await stack.enter_async_context(aclosing(feed.thread(None, viewer, post.id)))
            for viewer in viewers.values()
        ]
        firsts = await first_changes(pubsub, streams, post_channel(post.id))
        waiting = await create_comment(db, post=post, author=bob, approved=False, events=feed)
        approved = await create_comment(db, post=post, author=bob, events=feed)
        changes = await asyncio.gather(*firsts)
    heard = {name: change.comment_id for name, change in zip(viewers, changes, strict=True)}
    assert heard == {
        "anonymous": approved.id,
        "post author": approved.id,
        "comment author": waiting.id,
        "admin": waiting.id,
    }


async def test_a_post_hidden_just_after_the_visibility_check_still_ends_the_subscription(
    db, monkeypatch
):
    """The check and the subscription are not one step: the subscription comes first, so
    a post unpublished right after the check is heard of and ends it with NOT_FOUND."""
    ada = await create_user(db)
    post = await create_post(db, author=ada)
    feed, _pubsub = in_process_feed(db)

    async def check_then_unpublish(db_, viewer, post_id):
        visible = await post_is_visible(db_, viewer, post_id)
        await posts.unpublish_post(db, ada, post_id)
        await feed.post_hidden(post_id)  # what unpublishPost announces once committed
        return visible

    monkeypatch.setattr(f"{CommentFeed.__module__}.post_is_visible", check_then_unpublish)
    async with aclosing(feed.added(None, None, post.id)) as stream:
        with pytest.raises(NotFound):
            await asyncio.wait_for(anext(stream), timeout=10)
