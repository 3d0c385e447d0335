"""GraphQL shapes of posts and tags."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from functools import partial
from operator import attrgetter
from typing import TYPE_CHECKING, Annotated, Protocol

import orjson
import strawberry

from blog_graphql.accounts.types import User
from blog_graphql.context import Context, Info
from blog_graphql.db.keyset import AnyRow
from blog_graphql.engine import batched, one, preloaded_or_loaded, same_for_every_viewer
from blog_graphql.errors import NotFound
from blog_graphql.media.types import Image, images_of
from blog_graphql.posts import models
from blog_graphql.posts.loaders import FEED_CURSOR, feed_key
from blog_graphql.posts.revisions import REVISION_CURSOR, revision_key
from blog_graphql.posts.seo import seo_fields
from blog_graphql.reactions.types import ReactionCount, post_reactions
from blog_graphql.relay.node import Node
from blog_graphql.relay.pagination import Connection, PageLoader, nested_connections

if TYPE_CHECKING:
    from blog_graphql.comments.types import Comment
# The batch resolvers of the fields below (`batching.py`): each field's value for many
# parents at once, through the request's loaders.


async def users_by_id(context: Context, ids: Sequence[int]) -> list[User]:
    """Authors through the request's user loader (the foreign keys guarantee each one)."""
    rows = await context.loaders.user.load_many(ids)
    users = [User.from_row(row) for row in rows if row is not None]
    if len(users) < len(ids):
        raise NotFound()  # deleted while this request ran
    return users


class Authored(Protocol):
    author_id: int
    prefetched_author: User | None


async def prefetched_authors(context: Context, objects: Sequence[Authored]) -> list[User]:
    """Each one's author: the one it came with (read in the statement that read it, or
    with a live event), else from the user loader."""
    return await preloaded_or_loaded(
        objects, _PREFETCHED_AUTHOR, _AUTHOR_ID, partial(users_by_id, context)
    )


_PREFETCHED_AUTHOR, _AUTHOR_ID = attrgetter("prefetched_author"), attrgetter("author_id")


async def authors_of(context: Context, posts: Sequence[Post]) -> list[User]:
    return await prefetched_authors(context, posts)


async def tags_of(context: Context, posts: Sequence[Post]) -> list[list[Tag]]:
    """Each post's tags: those its row came with, else from the loader."""
    return await preloaded_or_loaded(
        posts, _listed_tags, attrgetter("pk"), partial(loaded_tags, context)
    )


def _listed_tags(post: Post) -> list[Tag] | None:
    return Tag.listed(post.tag_list) if post.tag_list is not None else None


async def loaded_tags(context: Context, post_ids: Sequence[int]) -> list[list[Tag]]:
    tags = await context.loaders.tags_of_post.load_many(post_ids)
    return [[Tag.from_row(row) for row in rows] for rows in tags]


async def comment_counts(context: Context, posts: Sequence[Post]) -> list[int]:
    """Each post's count: the one its row came with, else from the loader."""
    load = context.loaders.comment_count.load_many
    return await preloaded_or_loaded(
        posts, attrgetter("known_comment_count"), attrgetter("pk"), load
    )


async def bodies(context: Context, posts: Sequence[Post]) -> list[AnyRow | models.Post]:
    """Each post's content and HTML, kept from its row where the row held them."""
    missing = [post for post in posts if post.body is None]
    if missing:
        rows = await context.loaders.post_body.load_many([post.pk for post in missing])
        for post, row in zip(missing, rows, strict=True):
            post.body = row
    found = [post.body for post in posts if post.body is not None]
    if len(found) < len(posts):
        raise NotFound()  # deleted while this request ran
    return found


async def contents(context: Context, posts: Sequence[Post]) -> list[str]:
    return [str(body.content) for body in await bodies(context, posts)]


async def contents_html(context: Context, posts: Sequence[Post]) -> list[str]:
    return [str(body.content_html) for body in await bodies(context, posts)]


async def covers_of(context: Context, posts: Sequence[Post]) -> list[Image | None]:
    """Every post's cover in one statement (`media.loaders`), whatever the page's size."""
    records = await context.loaders.cover_of_post.load_many([post.pk for post in posts])
    return images_of(context, records)


async def comments_of(
    context: Context,
    posts: Sequence[Post],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[Comment]]:
    # Comments depend on posts, not the reverse: this backward edge imports late.
    from blog_graphql.comments.types import comments_of_posts

    return await comments_of_posts(context, [post.pk for post in posts], first, after, last, before)


async def bookmarked_flags(context: Context, posts: Sequence[Post]) -> list[bool]:
    return await context.loaders.bookmarked.load_many([post.pk for post in posts])


async def revisions_of(
    context: Context,
    posts: Sequence[Post],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[PostRevision]]:
    """`Post.revisions`: empty but for the post's author and admins (in SQL)."""
    loaders = context.loaders
    return await nested_connections(
        loaders.revisions_of_post, loaders.revision_count_of_post,
        parents=[post.pk for post in posts], first=first, after=after, last=last, before=before,
        shape=REVISION_CURSOR, key=revision_key, node=PostRevision.from_row,
    )  # fmt: skip


async def editors_of(context: Context, revisions: Sequence[PostRevision]) -> list[User]:
    return await users_by_id(context, [revision.editor_id for revision in revisions])


async def posts_of_tags(
    context: Context,
    tags: Sequence[Tag],
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> list[Connection[Post]]:
    loaders = context.loaders
    return await _post_pages(
        loaders.posts_of_tag,
        loaders.post_count_of_tag,
        [tag.pk for tag in tags],
        first,
        after,
        last,
        before,
    )


async def posts_of_authors(
    context: Context,
    author_ids: Sequence[int],
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> list[Connection[Post]]:
    """`User.posts`: the same visibility and order as the feed."""
    loaders = context.loaders
    return await _post_pages(
        loaders.posts_of_author,
        loaders.post_count_of_author,
        author_ids,
        first,
        after,
        last,
        before,
    )


async def _post_pages(
    pages: PageLoader,
    counts: PageLoader,
    parents: Sequence[int],
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> list[Connection[Post]]:
    return await nested_connections(
        pages, counts, parents=parents,
        first=first, after=after, last=last, before=before,
        shape=FEED_CURSOR, key=feed_key, node=Post.from_card,
    )  # fmt: skip


@strawberry.type(description="A topic that posts are filed under.")
class Tag(Node):
    pk: strawberry.Private[int]
    name: str = strawberry.field(description="As first written; matched ignoring case.")
    slug: str
    color: str = strawberry.field(description="A CSS hex colour such as `#3b82f6`.")

    @classmethod
    def from_row(cls, row: models.Tag | AnyRow) -> Tag:
        return cls(
            pk=row.id,
            name=row.name,
            slug=row.slug,
            color=row.color,
        )

    @classmethod
    def listed(cls, tag_list: str) -> list[Tag]:
        """From the column `posts.loaders.tag_list` brought along with a post's row."""
        return [
            cls(pk=pk, name=name, slug=slug, color=color)
            for pk, name, slug, color in orjson.loads(tag_list)
        ]

    @strawberry.field(description="Posts filed under this tag, newest first.")
    @batched(posts_of_tags)
    async def posts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> PostConnection:
        return await one(
            posts_of_tags, info, self, first=first, after=after, last=last, before=before
        )


@strawberry.enum(description="Where a post stands in its life.")
class PostStatus(Enum):
    DRAFT = "DRAFT"
    SCHEDULED = "SCHEDULED"
    PUBLISHED = "PUBLISHED"


@strawberry.type(description="What search engines and link previews should show of a post.")
class PostSeo:
    title: str | None = strawberry.field(description="`seoTitle` as given, else the title.")
    description: str | None = strawberry.field(
        description="`seoDescription` as given, else the excerpt."
    )
    canonical_url: str | None = strawberry.field(
        description="`canonicalUrl` as given, else the post's public page "
        "`${PUBLIC_URL}/posts/{slug}` once published (null for a draft)."
    )


@strawberry.type(description="A post's title and content as they were before an edit.")
class PostRevision(Node):
    pk: strawberry.Private[int]
    editor_id: strawberry.Private[int]
    created_at: datetime = strawberry.field(description="When the edit replaced this version.")
    title: str
    content: str = strawberry.field(description="Markdown, as it was.")

    @classmethod
    def from_row(cls, row: AnyRow) -> PostRevision:
        return cls(
            pk=row.id,
            editor_id=row.editor_id,
            created_at=row.created_at,
            title=row.title,
            content=row.content,
        )

    @strawberry.field(description="Who made the edit that replaced this version.")
    @same_for_every_viewer
    @batched(editors_of)
    async def editor(self, info: Info) -> User:
        return await one(editors_of, info, self)


@strawberry.type(description="A blog post, written in Markdown.")
class Post(Node):
    pk: strawberry.Private[int]
    author_id: strawberry.Private[int]
    body: strawberry.Private[AnyRow | models.Post | None]
    title: str
    slug: str = strawberry.field(
        description="The post's URL name, from its title; it never changes once published."
    )
    excerpt: str | None = strawberry.field(
        description="As given, or about the first 300 characters of the content as plain text."
    )
    published: bool
    published_at: datetime | None = strawberry.field(
        description="When the post was first published; null while it is a draft. "
        "Republishing keeps the first date."
    )
    created_at: datetime
    updated_at: datetime
    status: PostStatus
    scheduled_at: datetime | None = strawberry.field(
        description="When a SCHEDULED post goes live (within seconds); null otherwise."
    )
    reading_time_minutes: int = strawberry.field(
        description="Words of the content / 230, rounded, at least 1."
    )
    seo_title: strawberry.Private[str | None] = None
    seo_description: strawberry.Private[str | None] = None
    canonical_url: strawberry.Private[str | None] = None
    # The author, when the post's statement read it too (`post(slug:)`).
    prefetched_author: strawberry.Private[User | None] = None
    # The comment count, when the post's statement read it too (feed and post pages).
    known_comment_count: strawberry.Private[int | None] = None
    # The tags, when the post's statement read them too (pages of posts): the JSON of
    # `posts.loaders.tag_list`, read only where the tags are asked for.
    tag_list: strawberry.Private[str | None] = None

    @classmethod
    def from_card(cls, row: AnyRow) -> Post:
        """From a post card that brought its author's columns, its comment count and its
        tags along (`posts.queries`)."""
        author = User.from_author_columns(row)
        return cls.from_row(row, author, row.comment_count, row.tag_list)

    @classmethod
    def from_row(
        cls,
        row: models.Post | AnyRow,
        author: User | None = None,
        comment_count: int | None = None,
        tag_list: str | None = None,
    ) -> Post:
        """From a post card; a row that also holds the body saves a later fetch of it."""
        return cls(
            pk=row.id,
            author_id=row.author_id,
            body=row if _has_body(row) else None,
            title=row.title,
            slug=row.slug,
            excerpt=row.excerpt,
            published=row.published,
            published_at=row.published_at if row.published else None,
            created_at=row.created_at,
            updated_at=row.updated_at,
            status=_status(row),
            scheduled_at=None if row.published else row.publish_at,
            reading_time_minutes=row.reading_time_minutes,
            seo_title=row.seo_title,
            seo_description=row.seo_description,
            canonical_url=row.canonical_url,
            prefetched_author=author,
            known_comment_count=comment_count,
            tag_list=tag_list,
        )

    @strawberry.field(description="Markdown, as written.")
    @same_for_every_viewer
    @batched(contents)
    async def content(self, info: Info) -> str:
        return await one(contents, info, self)

    @strawberry.field(
        description="The content rendered to HTML and sanitised (no scripts, styles or event "
        "handlers; only http, https and mailto links): safe to inject into a page."
    )
    @same_for_every_viewer
    @batched(contents_html)
    async def content_html(self, info: Info) -> str:
        return await one(contents_html, info, self)

    @strawberry.field
    @same_for_every_viewer
    @batched(authors_of)
    async def author(self, info: Info) -> User:
        return await one(authors_of, info, self)

    @strawberry.field(description="By name.")
    @same_for_every_viewer
    @batched(tags_of)
    async def tags(self, info: Info) -> list[Tag]:
        return await one(tags_of, info, self)

    @strawberry.field(description="Set with `coverImageId`; shown to whoever sees the post.")
    @same_for_every_viewer
    @batched(covers_of)
    async def cover_image(self, info: Info) -> Image | None:
        return await one(covers_of, info, self)

    @strawberry.field(
        description="Comments and replies the viewer may see, deleted ones (tombstones) left out."
    )
    @batched(comment_counts)
    async def comment_count(self, info: Info) -> int:
        return await one(comment_counts, info, self)

    @strawberry.field(description="Top-level comments, oldest first; replies hang under each.")
    @batched(comments_of)
    async def comments(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Annotated[Comment, strawberry.lazy("blog_graphql.comments.types")]]:
        return await one(
            comments_of, info, self, first=first, after=after, last=last, before=before
        )

    @strawberry.field(
        description="Every kind of reaction, in the order LIKE, CLAP, INSIGHTFUL, zeros included."
    )
    @batched(post_reactions)
    async def reactions(self, info: Info) -> list[ReactionCount]:
        return await one(post_reactions, info, self)

    @strawberry.field(description="Whether the viewer saved it; false when signed out.")
    @batched(bookmarked_flags)
    async def viewer_has_bookmarked(self, info: Info) -> bool:
        return await one(bookmarked_flags, info, self)

    @strawberry.field(description="Titles, description and canonical URL for search engines.")
    def seo(self, info: Info) -> PostSeo:
        title, description, canonical = seo_fields(
            seo_title=self.seo_title, seo_description=self.seo_description,
            canonical_url=self.canonical_url, title=self.title, excerpt=self.excerpt,
            slug=self.slug, published=self.published, public_url=info.context.settings.public_url,
        )  # fmt: skip
        return PostSeo(title=title, description=description, canonical_url=canonical)

    @strawberry.field(
        description="Earlier versions, newest first (the last 50): for the post's author and "
        "admins; empty for everyone else."
    )
    @batched(revisions_of)
    async def revisions(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[PostRevision]:
        return await one(
            revisions_of, info, self, first=first, after=after, last=last, before=before
        )


PostConnection = Connection[Post]


def _status(row: models.Post | AnyRow) -> PostStatus:
    if row.published:
        return PostStatus.PUBLISHED
    return PostStatus.SCHEDULED if row.publish_at is not None else PostStatus.DRAFT


def _has_body(row: models.Post | AnyRow) -> bool:
    # Not `hasattr`: a Row without the column raises and formats an error to say so.
    return isinstance(row, models.Post) or "content_html" in row._fields
