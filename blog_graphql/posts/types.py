"""GraphQL shapes of posts and tags."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from blog_graphql.accounts.types import User
from blog_graphql.context import Info
from blog_graphql.errors import NotFound
from blog_graphql.ids import encode_id
from blog_graphql.keyset import AnyRow
from blog_graphql.node import Node
from blog_graphql.pagination import Connection, nested_connection
from blog_graphql.posts import models
from blog_graphql.posts.loaders import FEED_CURSOR, feed_key

if TYPE_CHECKING:
    from blog_graphql.comments.types import Comment


@strawberry.type(description="A topic that posts are filed under.")
class Tag(Node):
    pk: strawberry.Private[int]
    name: str = strawberry.field(description="As first written; matched ignoring case.")
    slug: str
    color: str = strawberry.field(description="A CSS hex colour such as `#3b82f6`.")

    @classmethod
    def from_row(cls, row: models.Tag | AnyRow) -> Tag:
        return cls(
            id=strawberry.ID(encode_id("Tag", row.id)),
            pk=row.id,
            name=row.name,
            slug=row.slug,
            color=row.color,
        )

    @strawberry.field(description="Posts filed under this tag, newest first.")
    async def posts(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> PostConnection:
        loaders = info.context.loaders
        return await nested_connection(
            loaders.posts_of_tag, loaders.post_count_of_tag, parent=self.pk,
            first=first, after=after, shape=FEED_CURSOR, key=feed_key, node=Post.from_row,
        )  # fmt: skip


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

    @classmethod
    def from_row(cls, row: models.Post | AnyRow) -> Post:
        """From a post card; a row that also holds the body saves a later fetch of it."""
        return cls(
            id=strawberry.ID(encode_id("Post", row.id)),
            pk=row.id,
            author_id=row.author_id,
            body=row if hasattr(row, "content_html") else None,
            title=row.title,
            slug=row.slug,
            excerpt=row.excerpt,
            published=row.published,
            published_at=row.published_at if row.published else None,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    async def _body(self, info: Info) -> AnyRow | models.Post:
        if self.body is None:
            self.body = await info.context.loaders.post_body.load(self.pk)
        if self.body is None:
            raise NotFound()  # deleted while this request ran
        return self.body

    @strawberry.field(description="Markdown, as written.")
    async def content(self, info: Info) -> str:
        return str((await self._body(info)).content)

    @strawberry.field(
        description="The content rendered to HTML and sanitised (no scripts, styles or event "
        "handlers; only http, https and mailto links): safe to inject into a page."
    )
    async def content_html(self, info: Info) -> str:
        return str((await self._body(info)).content_html)

    @strawberry.field
    async def author(self, info: Info) -> User:
        return await load_user(info, self.author_id)

    @strawberry.field(description="By name.")
    async def tags(self, info: Info) -> list[Tag]:
        return [Tag.from_row(row) for row in await info.context.loaders.tags_of_post.load(self.pk)]

    @strawberry.field(
        description="Comments and replies the viewer may see, deleted ones (tombstones) left out."
    )
    async def comment_count(self, info: Info) -> int:
        return await info.context.loaders.comment_count.load(self.pk)

    @strawberry.field(description="Top-level comments, oldest first; replies hang under each.")
    async def comments(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Annotated[Comment, strawberry.lazy("blog_graphql.comments.types")]]:
        # Comments depend on posts, not the reverse: this backward edge imports late.
        from blog_graphql.comments.types import comments_of_post

        return await comments_of_post(info, self.pk, first, after)


PostConnection = Connection[Post]


async def load_user(info: Info, user_id: int) -> User:
    """An author, through the request's user loader (the foreign key guarantees one)."""
    row = await info.context.loaders.user.load(user_id)
    if row is None:
        raise NotFound()  # deleted while this request ran
    return User.from_row(row)


async def posts_of_author(
    info: Info, author_id: int, first: int | None, after: str | None
) -> Connection[Post]:
    """`User.posts`: the same visibility and order as the feed."""
    loaders = info.context.loaders
    return await nested_connection(
        loaders.posts_of_author, loaders.post_count_of_author, parent=author_id,
        first=first, after=after, shape=FEED_CURSOR, key=feed_key, node=Post.from_row,
    )  # fmt: skip
