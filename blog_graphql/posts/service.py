"""Writing posts and listing tags; each use case owns its transaction."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import TypeVar

from sqlalchemy import String, bindparam, delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from blog_graphql.accounts.models import User
from blog_graphql.db.database import Database, after_commit, utcnow
from blog_graphql.db.keyset import AnyRow, AnySelect
from blog_graphql.db.statements import Audience, audience_of, viewer_params
from blog_graphql.errors import Conflict, InvalidInput, NotFound
from blog_graphql.media import service as media
from blog_graphql.notifications import creating as notifications
from blog_graphql.posts import revisions
from blog_graphql.posts.access import ensure_may_change, posts_visible_to, visible_posts
from blog_graphql.posts.events import NO_POST_EVENTS, PostChange, PostEvents
from blog_graphql.posts.markdown import make_excerpt, reading_minutes, render_markdown_off_loop
from blog_graphql.posts.models import Post, PostTag, Tag
from blog_graphql.posts.seo import NO_SEO_CHANGES, SeoChanges
from blog_graphql.posts.slugs import base_slug, unique_slug
from blog_graphql.posts.tagging import clean_tag_names, tags_named
from blog_graphql.webhooks import outbox as webhooks

MAX_TITLE_LENGTH = 200
MAX_CONTENT_LENGTH = 100_000
MAX_EXCERPT_LENGTH = 500
SLUG_LENGTH = 200
DRAFT_SLUG_PREFIX = "draft-"
ATTEMPTS = 10  # racing writers of one title each take a slug, one per attempt
NUL = "\x00"  # PostgreSQL text cannot hold it; it is never meaningful in a post
NUL_PROBLEM = "Remove the NUL character."
T = TypeVar("T")


class Keep(Enum):
    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True)
class NewPost:
    title: str
    content: str
    excerpt: str | None = None
    tags: Sequence[str] = ()
    published: bool = False
    seo: SeoChanges = NO_SEO_CHANGES
    cover_image_id: int | None = None  # one of the author's images


@dataclass(frozen=True)
class PostChanges:
    """What `updatePost` changes; None (or KEEP) leaves a field as it is."""

    title: str | None = None
    content: str | None = None
    excerpt: str | Keep | None = KEEP  # None: back to the automatic excerpt
    tags: Sequence[str] | None = None
    seo: SeoChanges = NO_SEO_CHANGES
    cover_image_id: int | Keep | None = KEEP  # None: no cover


@cache
def _tags_listed_to(audience: Audience) -> AnySelect:
    """Tags by name, with the columns `Tag.from_row` reads, but for those used only by
    posts the audience may not read (a draft's tags stay private). Built once per
    audience, so its compiled form is cached; read as Core rows, since ORM entities
    (identity map, instance state, events) and an ORM session cost more CPU than the read
    itself."""
    columns = select(Tag.id, Tag.name, Tag.slug, Tag.color).order_by(func.lower(Tag.name))
    if audience is Audience.ADMIN:
        return columns
    links = select(PostTag.tag_id).where(PostTag.tag_id == Tag.id)
    readable = links.join(Post, Post.id == PostTag.post_id).where(posts_visible_to(audience))
    return columns.where(or_(~links.exists(), readable.exists()))


async def list_tags(db: Database, viewer: User | None) -> Sequence[AnyRow]:
    return await db.read(_tags_listed_to(audience_of(viewer)), viewer_params(viewer))


TAG_SLUG = bindparam("tag_slug", type_=String, required=True)


@cache
def _tag_by_slug(audience: Audience) -> AnySelect:
    return _tags_listed_to(audience).where(Tag.slug == TAG_SLUG)


async def find_tag_by_slug(db: Database, viewer: User | None, slug: str) -> AnyRow | None:
    """The tag at `slug` (ignoring case), as `list_tags` would list it to the viewer; None
    when there is none, or it files only posts the viewer may not read."""
    slug = slug.replace("\x00", "").strip().lower()  # PostgreSQL text cannot hold NUL
    if not slug:
        return None
    rows = await db.read(
        _tag_by_slug(audience_of(viewer)), {**viewer_params(viewer), TAG_SLUG.key: slug}
    )
    return rows[0] if rows else None  # slugs are unique


async def create_post(
    db: Database, author: User, new: NewPost, *, events: PostEvents = NO_POST_EVENTS
) -> Post:
    title, excerpt, tags = _checked(new.title, new.content, new.excerpt, new.tags, new.seo)
    assert title is not None and tags is not None  # given, so checked into values
    html = await render_markdown_off_loop(new.content)  # before the transaction: CPU work

    async def insert_post() -> Post:
        async with db.transaction() as session:
            now = utcnow()
            post = Post(
                author_id=author.id, title=title, content=new.content, content_html=html,
                slug=await _public_slug(session, title) if new.published else _draft_slug(),
                excerpt=excerpt if isinstance(excerpt, str) else make_excerpt(html),
                published=new.published,
                published_at=now if new.published else None, feed_at=now,
                created_at=now, updated_at=now, reading_time_minutes=reading_minutes(html),
            )  # fmt: skip
            new.seo.apply(post)
            session.add(post)
            await session.flush()
            await _replace_tags(session, post.id, tags)
            if new.cover_image_id is not None:
                await media.use_as_cover(
                    session, owners={author.id}, post_id=post.id, image_id=new.cover_image_id
                )
            if new.published:
                _announce(session, events, "published", post.id)
        return post

    return await _retry_on_conflict(insert_post)


async def update_post(
    db: Database,
    user: User,
    post_id: int,
    changes: PostChanges,
    *,
    events: PostEvents = NO_POST_EVENTS,
) -> Post:
    title, excerpt, tags = _checked(
        changes.title, changes.content, changes.excerpt, changes.tags, changes.seo
    )
    html = None if changes.content is None else await render_markdown_off_loop(changes.content)

    async def apply() -> Post:
        async with db.transaction() as session:
            post = await _post_to_change(session, user, post_id)
            await revisions.keep_previous(session, post, user, title, changes.content)
            if title is not None:
                post.title = title  # the slug stays: a draft's is chosen on publication
            if changes.content is not None and html is not None:
                _rewrite(post, changes.content, html)
            if excerpt is not KEEP:
                post.excerpt = excerpt or make_excerpt(post.content_html)
            if tags is not None:
                await _replace_tags(session, post.id, tags)
            changes.seo.apply(post)
            if not isinstance(changes.cover_image_id, Keep):
                await media.use_as_cover(
                    session,
                    owners={user.id, post.author_id},
                    post_id=post.id,
                    image_id=changes.cover_image_id,
                )
            post.updated_at = utcnow()
            _announce(session, events, "updated", post.id)
        return post

    return await _retry_on_conflict(apply)


async def restore_revision(
    db: Database, user: User, revision_id: int, *, events: PostEvents = NO_POST_EVENTS
) -> Post:
    """The post back to a revision's title and content: an edit like any other, so the
    version it replaces becomes a revision too. A revision the user may not read (of
    someone else's post, unless an admin) is NOT_FOUND."""
    [revision] = await revisions.load_revisions(db, user, [revision_id])
    if revision is None:
        raise NotFound()
    changes = PostChanges(title=revision.title, content=revision.content)
    return await update_post(db, user, revision.post_id, changes, events=events)


async def publish_post(
    db: Database, user: User, post_id: int, *, events: PostEvents = NO_POST_EVENTS
) -> Post:
    """Publish a draft; the first publication date is kept if it was published before."""
    return await _set_published(db, user, post_id, published=True, events=events)


async def unpublish_post(
    db: Database, user: User, post_id: int, *, events: PostEvents = NO_POST_EVENTS
) -> Post:
    """Back to a draft: hidden from everyone but its author and admins; the slug stays."""
    return await _set_published(db, user, post_id, published=False, events=events)


async def _set_published(
    db: Database,
    user: User,
    post_id: int,
    *,
    published: bool,
    events: PostEvents = NO_POST_EVENTS,
) -> Post:
    async def apply() -> Post:
        async with db.transaction() as session:
            post = await _post_to_change(session, user, post_id)
            post.publish_at = None  # publishing now, or back to a draft: no longer scheduled
            if post.published != published:
                if published:
                    await go_live(session, post, events)
                else:
                    _announce(session, events, "unpublished", post_id)
                    post.published, post.updated_at = False, utcnow()
                    post.feed_at = post.created_at
        return post

    return await _retry_on_conflict(apply)


async def go_live(session: AsyncSession, post: Post, events: PostEvents) -> None:
    """Publish `post` (a draft, locked in this transaction): `publishPost` and the
    scheduler both go through here, so whatever hangs on "published" follows both."""
    _announce(session, events, "published", post.id)
    post.published, post.updated_at, post.publish_at = True, utcnow(), None
    # `published_at` stays on a draft: it locks the slug and dates a republication.
    # The first publication chooses the public slug.
    if post.published_at is None:
        post.slug = await _public_slug(session, post.title)
    post.published_at = post.published_at or post.updated_at
    post.feed_at = post.published_at


async def delete_post(
    db: Database, user: User, post_id: int, *, events: PostEvents = NO_POST_EVENTS
) -> bool:
    """Delete a post with its comments and tag links (the foreign keys cascade)."""
    async with db.transaction() as session:
        post = await _post_to_change(session, user, post_id)
        # Announced while the session holds the row: webhooks take their data from it.
        _announce(session, events, "deleted", post.id)
        await session.execute(delete(Post).where(Post.id == post_id))
    return True


def _announce(session: AsyncSession, events: PostEvents, kind: PostChange, post_id: int) -> None:
    """Once committed (never on rollback), the post's watchers hear of the change."""
    notifications.on_post_change(session, kind, post_id)

    async def announce() -> None:
        await events.post_changed(kind, post_id)

    after_commit(session, announce)
    webhooks.on_post_change(session, kind, post_id)  # outbox rows, in this transaction


async def _post_to_change(session: AsyncSession, user: User, post_id: int) -> Post:
    """The post, locked for this transaction: NOT_FOUND if invisible, FORBIDDEN if not theirs."""
    query = select(Post).where(Post.id == post_id, visible_posts(user)).with_for_update()
    post = await session.scalar(query)
    if post is None:
        raise NotFound()
    ensure_may_change(user, post.author_id)
    return post


def _checked(
    title: str | None,
    content: str | None,
    excerpt: str | Keep | None,
    tags: Sequence[str] | None,
    seo_changes: SeoChanges = NO_SEO_CHANGES,
) -> tuple[str | None, str | Keep | None, list[str] | None]:
    """Trimmed title, excerpt and tag names; every problem at once, by input field."""
    problems: dict[str, str] = {
        field: NUL_PROBLEM
        for field, value in (("title", title), ("content", content), ("excerpt", excerpt))
        if isinstance(value, str) and NUL in value
    }
    problems.update(seo_changes.problems())
    if title is not None:
        title = " ".join(title.split())
        if not title or len(title) > MAX_TITLE_LENGTH:
            problems.setdefault("title", f"Use 1 to {MAX_TITLE_LENGTH} characters.")
    if content is not None and len(content) > MAX_CONTENT_LENGTH:
        problems.setdefault("content", f"Use at most {MAX_CONTENT_LENGTH:,} characters.")
    if isinstance(excerpt, str):
        excerpt = excerpt.strip() or None
        if excerpt is not None and len(excerpt) > MAX_EXCERPT_LENGTH:
            problems.setdefault("excerpt", f"Use at most {MAX_EXCERPT_LENGTH} characters.")
    names: list[str] | None = None
    try:
        names = clean_tag_names(tags) if tags is not None else None
    except InvalidInput as error:
        problems.update(error.fields)
    if problems:
        raise InvalidInput(problems)
    return title, excerpt, names


def _slug_base(title: str) -> str:
    return base_slug(title, max_length=SLUG_LENGTH) or "post"


async def _public_slug(session: AsyncSession, title: str) -> str:
    return await unique_slug(session, Post.slug, _slug_base(title))


def _draft_slug() -> str:
    """A never-published post's slug: its author's link to it, unrelated to its title, so
    that a draft reserves no public slug and nobody can confirm a draft's title by
    watching which slugs are taken. The public slug is chosen on first publication."""
    return f"{DRAFT_SLUG_PREFIX}{secrets.token_hex(12)}"


def _rewrite(post: Post, content: str, html: str) -> None:
    # An excerpt equal to the automatic one of the old content was never set by hand,
    # so it follows the new content.
    automatic = post.excerpt == make_excerpt(post.content_html)
    post.content, post.content_html = content, html
    post.reading_time_minutes = reading_minutes(html)
    if automatic:
        post.excerpt = make_excerpt(html)


async def _replace_tags(session: AsyncSession, post_id: int, names: Sequence[str]) -> None:
    tags = await tags_named(session, names)
    await session.execute(delete(PostTag).where(PostTag.post_id == post_id))
    if tags:
        await session.execute(
            insert(PostTag), [{"post_id": post_id, "tag_id": tag.id} for tag in tags]
        )


async def _retry_on_conflict(operation: Callable[[], Awaitable[T]]) -> T:
    """Run a transaction again when a concurrent writer took the same slug or tag first.

    A retry sees what its competitors committed, so each attempt settles at least one of
    the writers racing for a slug.
    """
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await operation()
        except IntegrityError:
            if attempt == ATTEMPTS:
                raise Conflict({"title": "Another post took this slug; try again."}) from None
    raise AssertionError("unreachable")  # pragma: no cover
