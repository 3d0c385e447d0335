"""Scheduling: `schedulePost`, `unschedulePost`, `status`, and going live exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from blog_graphql.db.database import Database, utcnow
from blog_graphql.posts import scheduling
from blog_graphql.posts.models import Post
from tests.content.helpers import error_code, error_fields, post_id
from tests.factories import create_post, create_user

FIELDS = "id status scheduledAt published publishedAt slug"
SCHEDULE = (
    f"mutation($id: ID!, $at: DateTime!) {{ schedulePost(id: $id, publishAt: $at) {{ {FIELDS} }} }}"
)
UNSCHEDULE = f"mutation($id: ID!) {{ unschedulePost(id: $id) {{ {FIELDS} }} }}"
PUBLISH = f"mutation($id: ID!) {{ publishPost(id: $id) {{ {FIELDS} }} }}"
POSTS = "{ posts { totalCount edges { node { id } } } }"


def iso(moment: datetime) -> str:
    return moment.isoformat()


class Recorded:
    """PostEvents that remember what they were told."""

    def __init__(self) -> None:
        self.told: list[tuple[str, int]] = []

    async def post_changed(self, kind: str, post_id: int) -> None:
        self.told.append((kind, post_id))


async def make_due(db: Database, post: Post) -> None:
    """The scheduled time passes (rather than waiting for it)."""
    async with db.transaction() as session:
        past = utcnow() - timedelta(seconds=1)
        await session.execute(update(Post).where(Post.id == post.id).values(publish_at=past))


async def test_a_scheduled_draft_shows_its_status_and_time_and_stays_hidden(call, db):
    ada = await create_user(db)
    draft = await create_post(db, author=ada, published=False)
    at = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)

    body = await call(SCHEDULE, {"id": post_id(draft), "at": iso(at)}, user=ada)

    post = body["data"]["schedulePost"]
    assert post["status"] == "SCHEDULED" and post["published"] is False
    assert datetime.fromisoformat(post["scheduledAt"]) == at
    anonymous = await call(POSTS)
    assert anonymous["data"]["posts"]["totalCount"] == 0


async def test_status_is_draft_then_published(call, db):
    ada = await create_user(db)
    draft = await create_post(db, author=ada, published=False)
    query = f"query($id: ID!) {{ node(id: $id) {{ ... on Post {{ {FIELDS} }} }} }}"
    before = await call(query, {"id": post_id(draft)}, user=ada)
    assert before["data"]["node"]["status"] == "DRAFT"
    assert before["data"]["node"]["scheduledAt"] is None
    after = await call(PUBLISH, {"id": post_id(draft)}, user=ada)
    assert after["data"]["publishPost"]["status"] == "PUBLISHED"


async def test_publish_at_in_the_past_is_bad_user_input(call, db):
    ada = await create_user(db)
    draft = await create_post(db, author=ada, published=False)
    at = datetime.now(UTC) - timedelta(minutes=1)
    body = await call(SCHEDULE, {"id": post_id(draft), "at": iso(at)}, user=ada)
    assert set(error_fields(body)) == {"publishAt"}


async def test_publish_at_more_than_a_year_ahead_is_bad_user_input(call, db):
    ada = await create_user(db)
    draft = await create_post(db, author=ada, published=False)
    at = datetime.now(UTC) + timedelta(days=366)
    body = await call(SCHEDULE, {"id": post_id(draft), "at": iso(at)}, user=ada)
    assert set(error_fields(body)) == {"publishAt"}


async def test_publish_at_that_is_not_a_date_is_bad_user_input(call, db):
    ada = await create_user(db)
    draft = await create_post(db, author=ada, published=False)
    body = await call(SCHEDULE, {"id": post_id(draft), "at": "next tuesday"}, user=ada)
    assert error_code(body) in {"BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED"}
    assert body.get("data") is None


async def test_scheduling_a_published_post_is_bad_user_input(call, db):
    ada = await create_user(db)
    post = await create_post(db, author=ada, published=True)
    at = datetime.now(UTC) + timedelta(hours=1)
    body = await call(SCHEDULE, {"id": post_id(post), "at": iso(at)}, user=ada)
    assert set(error_fields(body)) == {"id"}


async def test_only_the_author_or_an_admin_schedules(call, db):
    ada, bob = await create_user(db), await create_user(db)
    admin = await create_user(db, is_admin=True)
    draft = await create_post(db, author=ada, published=False)
    at = iso(datetime.now(UTC) + timedelta(hours=1))
    assert error_code(await call(SCHEDULE, {"id": post_id(draft), "at": at}, user=bob)) == (
        "NOT_FOUND"  # someone else's draft does not exist for them
    )
    assert error_code(await call(SCHEDULE, {"id": post_id(draft), "at": at})) == "UNAUTHENTICATED"
    body = await call(SCHEDULE, {"id": post_id(draft), "at": at}, user=admin)
    assert body["data"]["schedulePost"]["status"] == "SCHEDULED"


async def test_unschedule_and_publish_now_clear_the_time(call, db):
    ada = await create_user(db)
    one = await create_post(db, author=ada, published=False)
    two = await create_post(db, author=ada, published=False)
    at = iso(datetime.now(UTC) + timedelta(hours=1))
    for draft in (one, two):
        await call(SCHEDULE, {"id": post_id(draft), "at": at}, user=ada)

    unscheduled = (await call(UNSCHEDULE, {"id": post_id(one)}, user=ada))["data"]
    published = (await call(PUBLISH, {"id": post_id(two)}, user=ada))["data"]

    assert unscheduled["unschedulePost"]["status"] == "DRAFT"
    assert unscheduled["unschedulePost"]["scheduledAt"] is None
    assert published["publishPost"]["status"] == "PUBLISHED"
    assert published["publishPost"]["scheduledAt"] is None
    assert await scheduling.publish_due_posts(db) == []


async def test_a_due_post_goes_live_through_the_publish_path(call, db):
    ada = await create_user(db)
    draft = await create_post(db, author=ada, title="Launch day", published=False)
    at = iso(datetime.now(UTC) + timedelta(hours=1))
    await call(SCHEDULE, {"id": post_id(draft), "at": at}, user=ada)
    await make_due(db, draft)
    events = Recorded()

    assert await scheduling.publish_due_posts(db, events) == [draft.id]

    assert events.told == [("published", draft.id)]  # what notifications and webhooks hang on
    body = await call(POSTS)
    assert body["data"]["posts"]["edges"] == [{"node": {"id": post_id(draft)}}]
    async with db.session() as session:
        post = await session.scalar(select(Post).where(Post.id == draft.id))
    assert post is not None and post.slug == "launch-day" and post.publish_at is None
    assert post.published_at is not None
    assert await scheduling.publish_due_posts(db, events) == []  # once
    assert len(events.told) == 1


async def test_a_post_not_yet_due_stays_scheduled(call, db):
    ada = await create_user(db)
    draft = await create_post(db, author=ada, published=False)
    at = iso(datetime.now(UTC) + timedelta(hours=1))
    await call(SCHEDULE, {"id": post_id(draft), "at": at}, user=ada)
    assert await scheduling.publish_due_posts(db) == []


async def test_racing_claimers_publish_a_post_once(call, db, settings):
    ada = await create_user(db)
    drafts = [await create_post(db, author=ada, published=False) for _ in range(5)]
    at = iso(datetime.now(UTC) + timedelta(hours=1))
    for draft in drafts:
        await call(SCHEDULE, {"id": post_id(draft), "at": at}, user=ada)
        await make_due(db, draft)
    # Separate engines: separate connections, as separate processes would have.
    others = [Database.from_url(settings.database_url) for _ in range(3)]
    recorders = [Recorded() for _ in range(4)]
    try:
        results = await asyncio.gather(
            *(
                scheduling.publish_if_due(database, draft.id, events)
                for draft in drafts
                for database, events in zip([db, *others], recorders, strict=True)
            )
        )
    finally:
        for other in others:
            await other.dispose()

    assert sum(results) == len(drafts)
    told = sorted(told for events in recorders for told in events.told)
    assert told == sorted(("published", draft.id) for draft in drafts)
